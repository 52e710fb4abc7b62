//! Near queries: the equirectangular distance with its error band, and the spatial order of
//! fine grid cells whose permuted columns count a cell's matches a machine word at a time.

use super::*;

/// The equirectangular distance from a point within a radius (no trigonometry per point
/// measured), and how far from the great-circle distance it can be there.
pub(super) struct Flat {
    lat: f64,
    lon: f64,
    kx: f64,
    r: f64,
    /// km: within this of the radius, whether a point is inside is decided by its
    /// great-circle distance (see [`band`]).
    pub(super) band: f64,
    /// The squares of `r - band` (or -1 when that is not positive) and `r + band`: a point's
    /// side of the radius from its squared distance ([`Flat::within_squared`]).
    inner2: f64,
    outer2: f64,
}

/// The approximation's error bound within about `r` km of latitude `lat`, as a share of the
/// distance: the east-west scale is taken at the centre, and across the latitudes a radius
/// spans it changes by up to tan(lat) times their difference (radians). That first-order
/// error is doubled, with a margin for the second-order terms, and never under 0.1%:
/// 0.25% at 5 km in Leeds, 6% at 100 km in Shetland (a unit test measures it against the
/// great-circle distance).
fn band(lat: f64, r: f64) -> f64 {
    let spread = r * 1.1 / 6371.0;
    (2.0 * (lat.to_radians().tan().abs() + 0.1) * spread + spread * spread).max(0.001)
}

impl Flat {
    const KY: f64 = 111.195;

    pub(super) fn new(p: &Point, r: f64) -> Self {
        let band = r * band(p.lat, r);
        let inner = r - band;
        Flat {
            lat: p.lat,
            lon: p.lon,
            kx: Self::KY * p.lat.to_radians().cos(),
            r,
            band,
            inner2: if inner > 0.0 { inner * inner } else { -1.0 },
            outer2: (r + band) * (r + band),
        }
    }

    #[cfg(test)]
    pub(super) fn distance(&self, lat: f64, lon: f64) -> f64 {
        self.distance_squared(lat, lon).sqrt()
    }

    pub(super) fn distance_squared(&self, lat: f64, lon: f64) -> f64 {
        let dx = (lon - self.lon) * self.kx;
        let dy = (lat - self.lat) * Self::KY;
        dx * dx + dy * dy
    }

    /// Whether a point at squared approximate distance `d2` is within the radius: inside
    /// `r - band` or outside `r + band` the approximation decides; between them, the
    /// great-circle distance. Squared, because counting the matches on a radius's edge needs
    /// only which side of it each one is on, and the square root taken for each was about a
    /// fifth of a postcode query's search (perf, line by line).
    fn within_squared(&self, d2: f64, lat: f64, lon: f64) -> bool {
        if d2 <= self.inner2 {
            true
        } else if d2 >= self.outer2 {
            false
        } else {
            self.great_circle_within(lat, lon)
        }
    }

    fn great_circle_within(&self, lat: f64, lon: f64) -> bool {
        let centre = Point {
            lat: self.lat,
            lon: self.lon,
        };
        centre.distance_km(&Point { lat, lon }) <= self.r
    }

    /// Whether a point is within the radius ([`Flat::measure`] without its distance).
    pub(super) fn contains(&self, lat: f64, lon: f64) -> bool {
        self.within_squared(self.distance_squared(lat, lon), lat, lon)
    }

    /// The square of the approximate distance of a point within the radius; `None` outside
    /// it. Squared, as the nearest are found by comparing them (a square root per match was
    /// a tenth of a near query's search), and the page's results are measured exactly.
    pub(super) fn measure_squared(&self, lat: f64, lon: f64) -> Option<f64> {
        let d2 = self.distance_squared(lat, lon);
        self.within_squared(d2, lat, lon).then_some(d2)
    }

    /// The squares of the least and greatest distance of any point of a rectangle (degrees,
    /// inclusive).
    fn span_squared(&self, lat: (f64, f64), lon: (f64, f64)) -> (f64, f64) {
        let axis = |at: f64, (lo, hi): (f64, f64), k: f64| {
            let near = if at < lo {
                lo - at
            } else if at > hi {
                at - hi
            } else {
                0.0
            };
            (near * k, (at - lo).abs().max((hi - at).abs()) * k)
        };
        let (x0, x1) = axis(self.lon, lon, self.kx.abs());
        let (y0, y1) = axis(self.lat, lat, Self::KY);
        (x0 * x0 + y0 * y0, x1 * x1 + y1 * y1)
    }
}

/// Cells of the spatial order: 0.01 degrees (about 1.1 km north-south and 0.65 km east-west
/// in England), so a 5 km radius has a few hundred, most of them wholly inside it.
const FINE: f64 = 0.01;

fn fine_cell(lat: f64, lon: f64) -> (i32, i32) {
    ((lat / FINE).floor() as i32, (lon / FINE).floor() as i32)
}

/// Every live listing with a point, ordered by fine grid cell (row, then column) and slot,
/// rebuilt once per index generation when a near query needs it. A cell is a run of
/// positions, and a row's cells are one run: the filters' columns, permuted into this order,
/// are counted over a cell with a few machine words instead of a test per listing.
pub(super) struct SpatialCache {
    generation: u64,
    pub(super) slots: Vec<u32>,
    pub(super) points: Vec<(f64, f64)>,
    /// Each one's capacity as (accepting, updated at, issued at), for "accepting" (which
    /// needs it fresh).
    capacity: Vec<(bool, DateTime<Utc>, DateTime<Utc>)>,
    /// Those accepting with fresh capacity, as a column, while no capacity goes stale.
    fresh: std::sync::Mutex<Option<FreshColumn>>,
    /// Each non-empty cell with its first position, in order.
    cells: Vec<((i32, i32), u32)>,
    /// The columns asked for so far in this generation, permuted into this order.
    columns: std::sync::Mutex<HashMap<Key, Arc<Vec<u64>>, foldhash::fast::RandomState>>,
}

/// A column of the listings accepting referrals with fresh capacity, true from `from` to
/// `until` (when the first of them goes stale) under the freshness rules it was made with.
struct FreshColumn {
    max_age: Duration,
    skew: Duration,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    words: Arc<Vec<u64>>,
}

impl SpatialCache {
    fn build(index: &Index) -> Self {
        let mut placed: Vec<((i32, i32), u32)> = index
            .live
            .iter()
            .filter_map(|slot| {
                let &(lat, lon) = index.points.get(slot as usize)?;
                (!lat.is_nan()).then(|| (fine_cell(lat, lon), slot))
            })
            .collect();
        placed.sort_unstable();
        let mut cells: Vec<((i32, i32), u32)> = Vec::new();
        for (pos, (c, _)) in placed.iter().enumerate() {
            if cells.last().is_none_or(|(last, _)| last != c) {
                cells.push((*c, pos as u32));
            }
        }
        let slots: Vec<u32> = placed.into_iter().map(|(_, slot)| slot).collect();
        let points = slots.iter().map(|&s| index.points[s as usize]).collect();
        let capacity = slots
            .iter()
            .map(|&s| {
                index
                    .entries
                    .get(s as usize)
                    .and_then(Option::as_ref)
                    .map_or((false, DateTime::UNIX_EPOCH, DateTime::UNIX_EPOCH), |e| {
                        (e.accepting, e.capacity_updated_at, e.issued_at)
                    })
            })
            .collect();
        SpatialCache {
            generation: index.generation,
            slots,
            points,
            capacity,
            cells,
            columns: Default::default(),
            fresh: Default::default(),
        }
    }

    /// The positions whose capacity reads "accepting" at `ctx.now` ([`CapacityStatus::of`]),
    /// as a column. It holds until the first of them goes stale, and is remade then.
    fn fresh_column(&self, ctx: &QueryContext<'_>) -> Arc<Vec<u64>> {
        let mut held = self.fresh.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = held.as_ref().filter(|f| {
            f.max_age == ctx.capacity_max_age
                && f.skew == ctx.skew
                && f.from <= ctx.now
                && ctx.now <= f.until
        }) {
            return Arc::clone(&f.words);
        }
        let mut words = vec![0u64; self.slots.len().div_ceil(64)];
        let mut until = DateTime::<Utc>::MAX_UTC;
        for (pos, &(accepting, updated, issued)) in self.capacity.iter().enumerate() {
            let status = CapacityStatus::from_parts(
                accepting,
                updated,
                issued,
                ctx.now,
                ctx.capacity_max_age,
                ctx.skew,
            );
            if status == CapacityStatus::Accepting {
                words[pos / 64] |= 1 << (pos % 64);
                // Fresh while `now - updated <= max_age`.
                if let Some(stale) = updated.checked_add_signed(ctx.capacity_max_age) {
                    until = until.min(stale);
                }
            }
        }
        let words = Arc::new(words);
        *held = Some(FreshColumn {
            max_age: ctx.capacity_max_age,
            skew: ctx.skew,
            from: ctx.now,
            until,
            words: Arc::clone(&words),
        });
        words
    }

    /// `key`'s column in this order (`None` when the index keeps no column for it).
    fn column(&self, index: &Index, key: &Key) -> Option<Arc<Vec<u64>>> {
        let mut held = self.columns.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = held.get(key) {
            return Some(Arc::clone(c));
        }
        let column = index.columns.get(key)?;
        let mut words = vec![0u64; self.slots.len().div_ceil(64)];
        for (pos, &slot) in self.slots.iter().enumerate() {
            if column.contains(slot as usize) {
                words[pos / 64] |= 1 << (pos % 64);
            }
        }
        let words = Arc::new(words);
        held.insert(key.clone(), Arc::clone(&words));
        Some(words)
    }

    /// The rows of cells (0.01 degrees) the approximate distance could put within `flat`'s
    /// radius, and their columns (with a margin).
    fn window(p: &Point, flat: &Flat) -> ((i32, i32), (i32, i32)) {
        let outer = flat.r + flat.band;
        let dlat = outer * 1.05 / Flat::KY;
        let dlon = outer * 1.05 / flat.kx.abs().max(1e-6);
        (
            fine_cell(p.lat - dlat, p.lon - dlon),
            fine_cell(p.lat + dlat, p.lon + dlon),
        )
    }

    /// The positions of every listing in [`SpatialCache::window`], a row of cells at a time.
    pub(super) fn around<'s>(
        &'s self,
        p: &Point,
        flat: &Flat,
    ) -> impl Iterator<Item = std::ops::Range<usize>> + 's {
        let ((a0, b0), (a1, b1)) = Self::window(p, flat);
        (a0..=a1).filter_map(move |a| {
            let cells = self.row(a, b0, b1);
            (!cells.is_empty())
                .then(|| self.positions(cells.start).start..self.positions(cells.end - 1).end)
        })
    }

    /// The non-empty cells of row `row` from column `from` to `to`, as indices of `cells`.
    fn row(&self, row: i32, from: i32, to: i32) -> std::ops::Range<usize> {
        let first = self.cells.partition_point(|(c, _)| *c < (row, from));
        let end = first + self.cells[first..].partition_point(|(c, _)| *c <= (row, to));
        first..end
    }

    /// The positions of the cell at index `i` of `cells`.
    fn positions(&self, i: usize) -> std::ops::Range<usize> {
        let begin = self
            .cells
            .get(i)
            .map_or(self.slots.len(), |(_, b)| *b as usize);
        let end = self
            .cells
            .get(i + 1)
            .map_or(self.slots.len(), |(_, b)| *b as usize);
        begin..end
    }
}

/// Appends to `out` the words `range` of the positions passing every filter (each filter a
/// list of columns, a position passing when it is in any of them), a slice at a time so the
/// compiler vectorises it; `any` is scratch space.
fn filter_words(
    filters: &[Vec<Arc<Vec<u64>>>],
    range: std::ops::Range<usize>,
    out: &mut Vec<u64>,
    any: &mut Vec<u64>,
) {
    let begin = out.len();
    out.resize(begin + range.len(), !0);
    let out = &mut out[begin..];
    for columns in filters {
        match columns.as_slice() {
            [one] => match one.get(range.clone()) {
                Some(words) => out.iter_mut().zip(words).for_each(|(o, w)| *o &= w),
                None => out.fill(0),
            },
            many => {
                any.clear();
                any.resize(range.len(), 0);
                for c in many {
                    if let Some(words) = c.get(range.clone()) {
                        any.iter_mut().zip(words).for_each(|(o, w)| *o |= w);
                    }
                }
                out.iter_mut().zip(any.iter()).for_each(|(o, w)| *o &= w);
            }
        }
    }
}

/// Calls `each` with every position in `range` whose bit is set (see [`each_word`]).
fn each_bit(
    range: std::ops::Range<usize>,
    word: impl Fn(usize) -> u64,
    mut each: impl FnMut(usize),
) {
    each_word(range, word, |base, mut w| {
        while w != 0 {
            each(base + w.trailing_zeros() as usize);
            w &= w - 1;
        }
    });
}

/// Calls `each` with every machine word of positions `range` (those outside it cleared) and
/// the position of its first bit; `word` gives the word at an index.
fn each_word(
    range: std::ops::Range<usize>,
    word: impl Fn(usize) -> u64,
    mut each: impl FnMut(usize, u64),
) {
    if range.is_empty() {
        return;
    }
    let (first, last) = (range.start / 64, (range.end - 1) / 64);
    for i in first..=last {
        let mut w = word(i);
        if i == first {
            w &= !0u64 << (range.start % 64);
        }
        if i == last && range.end % 64 != 0 {
            w &= !0u64 >> (64 - range.end % 64);
        }
        if w != 0 {
            each(i * 64, w);
        }
    }
}

impl Index {
    pub(super) fn spatial(&self) -> Arc<SpatialCache> {
        let mut cache = self.spatial_cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.as_ref().filter(|c| c.generation == self.generation) {
            return Arc::clone(c);
        }
        let fresh = Arc::new(SpatialCache::build(self));
        *cache = Some(Arc::clone(&fresh));
        fresh
    }

    /// A near query answered in the spatial order (see [`SpatialCache`]) when every filter
    /// but the radius has columns and nothing but fresh capacity is checked listing by
    /// listing; `None` otherwise, and while expired data is held (the bitmaps answer those).
    ///
    /// Each cell of the radius is wholly inside it, wholly outside, or on its edge. Pass one
    /// counts the matches: in a cell wholly inside, the filters' columns (with fresh
    /// capacity as one when "accepting" is asked) ANDed and counted a word at a time; on the
    /// edge, each one measured. Pass two measures only the cells that could hold the
    /// page: those no farther than the nearest cells holding enough matches, plus the band
    /// the page's exact order looks into ([`Index::nearest_page`]). The answer is the same
    /// as the bitmaps' (an end-to-end test compares them with a plain filter).
    pub(super) fn near_by_cells<'a>(
        &'a self,
        q: &GroupQuery,
        ctx: &QueryContext<'_>,
        start: usize,
        len: usize,
    ) -> Option<Window<'a>> {
        let (p, r) = q.near?;
        let per_listing = !q.words.is_empty()
            || q.verified_training.is_some()
            || q.min_places.is_some()
            || q.time.is_some()
            || q.age.is_some()
            || !q.conditions.is_empty();
        if per_listing || self.any_expired(ctx.now) || r.is_nan() || r <= 0.0 {
            return None;
        }
        // The spatial order answers the radius: its grid cells' filter is not made.
        let filters = self.filters(q, &[], ctx, false);
        if filters.iter().any(|f| f.columns.is_none()) {
            return None;
        }
        let spatial = self.spatial();
        // Fresh capacity implies the plain "accepting" fact: its column replaces that filter.
        let mut columns: Vec<Vec<Arc<Vec<u64>>>> = filters
            .iter()
            .filter(|f| !(q.accepting && f.keys == [Key::Accepting]))
            .map(|f| {
                f.keys
                    .iter()
                    .map(|k| spatial.column(self, k))
                    .collect::<Option<Vec<_>>>()
            })
            .collect::<Option<_>>()?;
        if q.accepting {
            columns.push(vec![spatial.fresh_column(ctx)]);
        }
        let flat = Flat::new(&p, r);
        // The square of a match's approximate distance (`None` for a listing that does not
        // match).
        let measure = |pos: usize, inside: bool| -> Option<f64> {
            let &(lat, lon) = spatial.points.get(pos)?;
            if inside {
                Some(flat.distance_squared(lat, lon))
            } else {
                flat.measure_squared(lat, lon)
            }
        };
        struct Run {
            range: std::ops::Range<usize>,
            /// Where its row's words begin in `words`, and the first word's index.
            offset: (usize, usize),
            /// The squares of its least and greatest distance (the greatest no more than the
            /// radius's outer edge).
            near2: f64,
            far2: f64,
            inside: bool,
            count: u32,
        }
        // Every cell the approximate distance could put within the radius (with a margin).
        const EPS: f64 = 1e-9;
        let outer = r + flat.band;
        let outer2 = outer * outer;
        // Squared, with a margin for rounding: a cell whose nearest point is past `beyond2`
        // is skipped, and one whose farthest point is within `inner2` is wholly inside.
        let beyond2 = (outer * (1.0 + EPS)).powi(2);
        let inner = (r - flat.band) * (1.0 - EPS);
        let inner2 = if inner > 0.0 { inner * inner } else { -1.0 };
        let ((a0, b0), (a1, b1)) = SpatialCache::window(&p, &flat);
        // Each row's cells and the words of positions they span, found first so that what
        // the rows fill is sized once (growing it was a twentieth of a near query's handler
        // samples under load).
        let rows: Vec<(i32, std::ops::Range<usize>, usize, usize)> = (a0..=a1)
            .filter_map(|a| {
                let cells = spatial.row(a, b0, b1);
                if cells.is_empty() {
                    return None;
                }
                let first = spatial.positions(cells.start).start / 64;
                let last = (spatial.positions(cells.end - 1).end.max(1) - 1) / 64;
                Some((a, cells, first, last))
            })
            .collect();
        let mut runs: Vec<Run> = Vec::with_capacity(rows.iter().map(|r| r.1.len()).sum());
        let mut total = 0usize;
        // Each row's words of positions passing the filters, made once for both passes.
        let mut words: Vec<u64> = Vec::with_capacity(
            rows.iter()
                .map(|&(_, _, first, last)| last + 1 - first)
                .sum(),
        );
        let mut any: Vec<u64> = Vec::new();
        for (a, cells, first, last) in rows {
            let lat = (f64::from(a) * FINE - EPS, f64::from(a + 1) * FINE + EPS);
            let offset = (words.len(), first);
            filter_words(&columns, first..last + 1, &mut words, &mut any);
            let row_word = |i: usize| words[offset.0 + i - offset.1];
            for c in cells {
                let b = spatial.cells[c].0 .1;
                let range = spatial.positions(c);
                let lon = (f64::from(b) * FINE - EPS, f64::from(b + 1) * FINE + EPS);
                let (near2, far2) = flat.span_squared(lat, lon);
                if near2 > beyond2 {
                    continue;
                }
                let inside = far2 < inner2;
                let mut count = 0u32;
                if inside {
                    each_word(range.clone(), row_word, |_, w| count += w.count_ones());
                } else {
                    each_bit(range.clone(), row_word, |pos| {
                        if let Some(&(lat, lon)) = spatial.points.get(pos) {
                            count += u32::from(flat.contains(lat, lon));
                        }
                    });
                }
                if count > 0 {
                    total += count as usize;
                    runs.push(Run {
                        range,
                        offset,
                        near2,
                        far2: far2.min(outer2),
                        inside,
                        count,
                    });
                }
            }
        }
        // How far the page can reach: the nearest cells holding `need` matches hold the
        // page's last one within their farthest point (found to 1/256 of the radius's area).
        // Squared, as every distance here.
        let need = start.saturating_add(len);
        let reach2 = if need == 0 {
            -1.0
        } else if total <= need {
            f64::INFINITY
        } else {
            const BUCKETS: usize = 256;
            let mut held = [0usize; BUCKETS];
            for run in &runs {
                let b = (run.far2 / outer2 * BUCKETS as f64) as usize;
                held[b.min(BUCKETS - 1)] += run.count as usize;
            }
            let mut sum = 0;
            let mut bound2 = outer2;
            for (i, n) in held.iter().enumerate() {
                sum += n;
                if sum >= need {
                    bound2 = (i + 1) as f64 * outer2 / BUCKETS as f64;
                    break;
                }
            }
            (bound2.sqrt() * (1.0 + EPS) + flat.band).powi(2)
        };
        let reached = || runs.iter().filter(|run| run.near2 <= reach2);
        let mut hits: Vec<(f64, u32)> =
            Vec::with_capacity(reached().map(|run| run.count as usize).sum());
        for run in reached() {
            let row_word = |i: usize| words[run.offset.0 + i - run.offset.1];
            each_bit(run.range.clone(), row_word, |pos| {
                if let Some(d) = measure(pos, run.inside).filter(|d| *d <= reach2) {
                    if let Some(&slot) = spatial.slots.get(pos) {
                        hits.push((d, slot));
                    }
                }
            });
        }
        let order = self.order();
        Some((
            total,
            self.nearest_page(hits, &p, flat.band, start, len, &order),
        ))
    }

    /// The page `start..start + len` of a near query's matches, given as (the square of the
    /// approximate distance, slot): every match the page could hold must be among them (any
    /// number farther may be too), with the exact distance of each result. `band` is the
    /// approximation's error bound, km ([`Flat`]).
    pub(super) fn nearest_page<'a>(
        &'a self,
        mut hits: Vec<(f64, u32)>,
        p: &Point,
        band: f64,
        start: usize,
        len: usize,
        order: &OrderCache,
    ) -> Vec<(&'a Entry, Option<f64>)> {
        let entry = |slot: u32| self.entries.get(slot as usize).and_then(Option::as_ref);
        // The approximate distance finds the nearest; the order shown is by the exact
        // one (which each result carries), so those within the approximation's error
        // (the band of [`Flat`]) of the last one needed are measured exactly too.
        let need = start.saturating_add(len);
        if need == 0 {
            hits.clear();
        } else if need < hits.len() {
            hits.select_nth_unstable_by(need - 1, |a, b| a.0.total_cmp(&b.0));
            let reach2 = (hits[need - 1].0.sqrt() + band).powi(2);
            let mut kept = need;
            for i in need..hits.len() {
                if hits[i].0 <= reach2 {
                    hits.swap(kept, i);
                    kept += 1;
                }
            }
            hits.truncate(kept);
        }
        for hit in &mut hits {
            if let Some(&(lat, lon)) = self.points.get(hit.1 as usize) {
                hit.0 = p.distance_km(&Point { lat, lon });
            }
        }
        let by = |a: &(f64, u32), b: &(f64, u32)| {
            a.0.total_cmp(&b.0)
                .then_with(|| order.position(a.1).cmp(&order.position(b.1)))
        };
        first_pages(&mut hits, need, by);
        hits.into_iter()
            .skip(start)
            .take(len)
            .filter_map(|(d, slot)| entry(slot).map(|e| (e, Some(d))))
            .collect()
    }
}
