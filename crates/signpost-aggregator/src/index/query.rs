//! A query's window of results in result order, and the pages and lookups built on it.

use super::*;

impl Index {
    /// The matches of `q` in result order: their number, and `len` of them from `start`.
    fn window<'a>(
        &'a self,
        q: &GroupQuery,
        ctx: &QueryContext<'_>,
        start: usize,
        len: usize,
    ) -> Window<'a> {
        if let Some(found) = self.near_by_cells(q, ctx, start, len) {
            return found;
        }
        let order = self.order();
        let text = self.text_words(q, &order);
        let cand = self.candidates(q, &text, ctx);
        let fresh_needed = q.accepting || q.min_places.is_some();
        let post_filters =
            fresh_needed || q.time.is_some() || q.age.is_some() || !q.conditions.is_empty();
        let mut training: HashMap<*const Segment, Vec<String>> = HashMap::new();
        // What the bitmaps cannot answer, checked per candidate.
        let mut passes = |e: &Entry| -> bool {
            if fresh_needed && ctx.entry_capacity(e) != CapacityStatus::Accepting {
                return false;
            }
            if !q.conditions.is_empty() {
                let Some(listing) = e.seg.data.listings.get(&e.id) else {
                    return false;
                };
                let capacity = ctx.entry_capacity(e);
                let training = training
                    .entry(Arc::as_ptr(&e.seg))
                    .or_insert_with(|| ctx.verified_training(&e.seg.data));
                if !q
                    .conditions
                    .iter()
                    .all(|c| c.holds(listing.payload(), capacity, training))
                {
                    return false;
                }
            }
            if let Some(n) = q.min_places {
                if e.places.unwrap_or(0) < n {
                    return false;
                }
            }
            if let Some(t) = q.time.map(|t| t.minutes()) {
                let day = q.day.map(|d| d as u8);
                if !e
                    .sessions
                    .iter()
                    .any(|&(d, o, c)| day.is_none_or(|x| x == d) && o <= t && t < c)
                {
                    return false;
                }
            }
            if let Some(age) = q.age {
                if e.age.0.is_some_and(|m| age < m) || e.age.1.is_some_and(|m| age > m) {
                    return false;
                }
            }
            true
        };
        let entry = |slot: u32| self.entries.get(slot as usize).and_then(Option::as_ref);
        let mut window: Vec<(&'a Entry, Option<f64>)> = Vec::with_capacity(len.min(1024));
        let total_items;
        if let Some((p, r)) = q.near {
            let flat = Flat::new(&p, r);
            // Sized for every candidate (growing it was a copy per doubling); the default
            // order's position is looked up only to break a tie in distance.
            let mut hits: Vec<(f64, u32)> = Vec::with_capacity(cand.len() as usize);
            let mut measure = |slot: u32, lat: f64, lon: f64| -> Option<(f64, u32)> {
                if lat.is_nan() {
                    return None;
                }
                let d = flat.measure_squared(lat, lon)?;
                (!post_filters || entry(slot).is_some_and(&mut passes)).then_some((d, slot))
            };
            match &cand {
                Cand::Column {
                    bits,
                    walk_cells: true,
                    ..
                } => {
                    // The spatial order's rows of cells around the radius, read in order.
                    let spatial = self.spatial();
                    for positions in spatial.around(&p, &flat) {
                        for pos in positions {
                            let (Some(&slot), Some(&(lat, lon))) =
                                (spatial.slots.get(pos), spatial.points.get(pos))
                            else {
                                continue;
                            };
                            if bits.contains(slot as usize) {
                                hits.extend(measure(slot, lat, lon));
                            }
                        }
                    }
                }
                _ => {
                    for slot in cand.iter() {
                        if let Some(&(lat, lon)) = self.points.get(slot as usize) {
                            hits.extend(measure(slot, lat, lon));
                        }
                    }
                }
            }
            total_items = hits.len();
            window = self.nearest_page(hits, &p, flat.band, start, len, &order);
        } else if !text.is_empty() {
            // Ranked: the highest BM25F score first, ties in the default order.
            let cand = cand.into_bitmap();
            let top = if post_filters {
                None
            } else {
                self.top_scores(&cand, &text, &order, start.saturating_add(len))
            };
            if let Some(top) = top {
                total_items = cand.len() as usize;
                window.extend(
                    top.into_iter()
                        .skip(start)
                        .filter_map(|(_, _, slot)| entry(slot))
                        .map(|e| (e, None)),
                );
                return (total_items, window);
            }
            let mut hits: Vec<(f32, u32, u32)> = self
                .scores(&cand, &text)
                .into_iter()
                .filter(|&(_, slot)| !post_filters || entry(slot).is_some_and(&mut passes))
                .map(|(score, slot)| (score, order.position(slot), slot))
                .collect();
            total_items = hits.len();
            let by =
                |a: &(f32, u32, u32), b: &(f32, u32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
            first_pages(&mut hits, start.saturating_add(len), by);
            window.extend(
                hits.into_iter()
                    .skip(start)
                    .take(len)
                    .filter_map(|(_, _, slot)| entry(slot))
                    .map(|e| (e, None)),
            );
        } else if !post_filters && cand.len() * 8 >= self.live.len() {
            // Most listings match: walk the default order, skipping those that do not (when
            // every listing matches, the page is a slice of the order).
            total_items = cand.len() as usize;
            if cand.len() == self.live.len() {
                window.extend(
                    order
                        .slots
                        .iter()
                        .skip(start)
                        .take(len)
                        .filter_map(|&slot| entry(slot))
                        .map(|e| (e, None)),
                );
                return (total_items, window);
            }
            let mut seen = 0usize;
            for &slot in &order.slots {
                if window.len() >= len {
                    break;
                }
                if !cand.contains(slot) {
                    continue;
                }
                if seen >= start {
                    if let Some(e) = entry(slot) {
                        window.push((e, None));
                    }
                }
                seen += 1;
            }
        } else {
            let mut hits: Vec<(u32, u32)> = cand
                .iter()
                .filter(|&slot| !post_filters || entry(slot).is_some_and(&mut passes))
                .map(|slot| (order.position(slot), slot))
                .collect();
            total_items = hits.len();
            first_pages(&mut hits, start.saturating_add(len), |a, b| a.0.cmp(&b.0));
            window.extend(
                hits.into_iter()
                    .skip(start)
                    .take(len)
                    .filter_map(|(_, slot)| entry(slot))
                    .map(|e| (e, None)),
            );
        }
        (total_items, window)
    }

    /// The page `q` asks for, as (segment, listing, distance) with the number of matches:
    /// the engine for surfaces that render listings their own way (Open Referral UK).
    pub fn page<'a>(&'a self, q: &GroupQuery, ctx: &QueryContext<'_>) -> (usize, Vec<Hit<'a>>) {
        let start = (q.page.max(1) - 1).saturating_mul(q.per_page);
        let (total, window) = self.window(q, ctx, start, q.per_page);
        let hits = window
            .into_iter()
            .filter_map(|(e, d)| Some((&e.seg, e.seg.data.listings.get(&e.id)?, d)))
            .collect();
        (total, hits)
    }

    /// One listing by node and id, when it is served now (not expired).
    pub fn hit<'a>(&'a self, node: &DidKey, id: &Uuid, ctx: &QueryContext<'_>) -> Option<Hit<'a>> {
        let slots = self.nodes.get(node)?;
        let entry = self.entries.get(*slots.by_id.get(id)? as usize)?.as_ref()?;
        if entry.expires_at <= ctx.now || slots.seg.data.snapshot.expires_at <= ctx.now {
            return None;
        }
        Some((&slots.seg, slots.seg.data.listings.get(id)?, None))
    }

    /// Runs a query; returns the page.
    pub fn search<'a>(&'a self, q: &GroupQuery, ctx: &QueryContext<'_>) -> GroupsPageView<'a> {
        let start = (q.page - 1).saturating_mul(q.per_page);
        let (total_items, window) = self.window(q, ctx, start, q.per_page);
        let training = self.training(ctx);
        let contents: Vec<GroupView<'a>> = window
            .into_iter()
            .map(|(e, distance)| {
                let training = match training.by_node.get(&(Arc::as_ptr(&e.seg) as usize)) {
                    Some(held) => Arc::clone(held),
                    None => ctx.verified_training(&e.seg.data).into(),
                };
                let mut r = result(e, distance, training, ctx);
                if q.omit_envelopes {
                    r.envelope = None;
                }
                r
            })
            .collect();
        GroupsPageView {
            pagination: Pagination::new(total_items, q.page, q.per_page, contents.len()),
            centre: None,
            contents,
        }
    }

    /// One listing as a result, by node and id.
    pub fn get<'a>(
        &'a self,
        node: &DidKey,
        id: &Uuid,
        ctx: &QueryContext<'_>,
    ) -> Option<GroupView<'a>> {
        let slots = self.nodes.get(node)?;
        let entry = self.entries.get(*slots.by_id.get(id)? as usize)?.as_ref()?;
        if entry.expires_at <= ctx.now || slots.seg.data.snapshot.expires_at <= ctx.now {
            return None;
        }
        Some(result(
            entry,
            None,
            ctx.verified_training(&slots.seg.data).into(),
            ctx,
        ))
    }
}

/// Sorts the first `n` of `hits` by `by` and drops the rest (a partial sort: a page
/// from a large match set costs a selection, not a full sort).
pub(super) fn first_pages<T>(
    hits: &mut Vec<T>,
    n: usize,
    by: impl Fn(&T, &T) -> std::cmp::Ordering,
) {
    if n == 0 {
        hits.clear();
        return;
    }
    if n < hits.len() {
        hits.select_nth_unstable_by(n - 1, &by);
        hits.truncate(n);
    }
    hits.sort_unstable_by(by);
}
