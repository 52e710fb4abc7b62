//! Candidates from the bitmaps and columns: a query's filters, intersected smallest first.

use super::*;

/// Candidates from the columns and a bitmap are combined by walking the smaller when it has
/// at most this many members, and otherwise as bitmaps. A walk costs a few nanoseconds a
/// member and intersecting dense bitmaps a fraction of one: at 4,096 the verified-training
/// filter at 10k walked 4,000 members in 28 us, against 5 us as bitmaps.
const WALK: u64 = 1024;

/// One set of listings a query asks for, or a union of several (categories, languages, the
/// grid cells of a radius), never built: the candidates found so far are intersected with
/// each part, and those small results united (building a union of a dozen dense cells first
/// cost a fifth of a near query).
enum Set<'a> {
    Ref(&'a RoaringBitmap),
    Own(RoaringBitmap),
    Any(Vec<&'a RoaringBitmap>),
}

impl Set<'_> {
    /// Its size, or for a union the sum of its parts' (an upper bound).
    pub(super) fn len(&self) -> u64 {
        match self {
            Set::Ref(b) => b.len(),
            Set::Own(b) => b.len(),
            Set::Any(parts) => parts.iter().map(|b| b.len()).sum(),
        }
    }

    pub(super) fn contains(&self, slot: u32) -> bool {
        match self {
            Set::Ref(b) => b.contains(slot),
            Set::Own(b) => b.contains(slot),
            Set::Any(parts) => parts.iter().any(|b| b.contains(slot)),
        }
    }

    fn materialise(&self) -> RoaringBitmap {
        match self {
            Set::Ref(b) => (*b).clone(),
            Set::Own(b) => b.clone(),
            Set::Any(parts) => parts.iter().copied().union(),
        }
    }

    fn restrict(&self, cand: &mut RoaringBitmap) {
        match self {
            Set::Ref(b) => *cand &= *b,
            Set::Own(b) => *cand &= b,
            Set::Any(parts) => {
                *cand = parts.iter().map(|b| &*cand & *b).union();
            }
        }
    }
}

/// A query's filter: its set, the set's parts as bit columns when every part has one, and
/// whether it is a radius's grid cells (which the distance decides anyway).
pub(super) struct Filter<'a> {
    set: Set<'a>,
    pub(super) columns: Option<Vec<&'a FixedBitSet>>,
    /// The keys of its non-empty parts (none for a set computed per query).
    pub(super) keys: Vec<Key>,
    spatial: bool,
}

impl<'a> Filter<'a> {
    fn bitmap(set: Set<'a>) -> Self {
        Filter {
            set,
            columns: None,
            keys: Vec::new(),
            spatial: false,
        }
    }
}

/// A query's candidates: a bit column when the columns answered every filter, else a bitmap.
/// With `walk_cells`, the column holds the listings passing every filter but a radius, and
/// the near query reads its grid cells' points in order, asking the column about each.
pub(super) enum Cand {
    Column {
        bits: FixedBitSet,
        len: u64,
        walk_cells: bool,
    },
    Bitmap(RoaringBitmap),
}

impl Cand {
    pub(super) fn len(&self) -> u64 {
        match self {
            Cand::Column { len, .. } => *len,
            Cand::Bitmap(b) => b.len(),
        }
    }

    pub(super) fn contains(&self, slot: u32) -> bool {
        match self {
            Cand::Column { bits, .. } => bits.contains(slot as usize),
            Cand::Bitmap(b) => b.contains(slot),
        }
    }

    pub(super) fn iter(&self) -> CandIter<'_> {
        match self {
            Cand::Column { bits, .. } => CandIter::Column(bits.ones()),
            Cand::Bitmap(b) => CandIter::Bitmap(b.iter()),
        }
    }

    fn remove(&mut self, slot: u32) {
        match self {
            Cand::Column { bits, len, .. } => {
                if bits.contains(slot as usize) {
                    bits.remove(slot as usize);
                    *len = len.saturating_sub(1);
                }
            }
            Cand::Bitmap(b) => {
                b.remove(slot);
            }
        }
    }

    fn subtract(&mut self, slots: &RoaringBitmap) {
        match self {
            Cand::Column { .. } => {
                for slot in slots {
                    self.remove(slot);
                }
            }
            Cand::Bitmap(b) => *b -= slots,
        }
    }

    pub(super) fn into_bitmap(self) -> RoaringBitmap {
        match self {
            Cand::Column { bits, .. } => bits.ones().map(|i| i as u32).collect(),
            Cand::Bitmap(b) => b,
        }
    }
}

/// The slots of a [`Cand`], ascending.
pub(super) enum CandIter<'a> {
    Column(fixedbitset::Ones<'a>),
    Bitmap(roaring::bitmap::Iter<'a>),
}

impl Iterator for CandIter<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        match self {
            CandIter::Column(ones) => ones.next().map(|i| i as u32),
            CandIter::Bitmap(it) => it.next(),
        }
    }
}

/// Calls `each` with the first `n` members of `bitmap`, in order.
///
/// Not `collect` or `extend` over its iterator: they ask for its `size_hint`, and roaring's
/// counts the members left in the current container (a popcount of up to 1,024 words)
/// each time, which was a seventh of a ranked text query's handler samples under load.
pub(super) fn first_members(bitmap: &RoaringBitmap, n: usize, mut each: impl FnMut(u32)) {
    for slot in bitmap.iter().take(n) {
        each(slot);
    }
}

/// Bitmap lookups to combine `n` column candidates with `set` by walking the smaller.
fn walk_cost(n: u64, set: &Set<'_>) -> u64 {
    let parts = match set {
        Set::Any(parts) => parts.len() as u64,
        _ => 1,
    };
    if n < set.len() {
        n.saturating_mul(parts)
    } else {
        set.len()
    }
}

/// Adds `slot` to `b`. Installing a node takes new slots past every one held, so in a
/// bitmap small enough to be all arrays (at most 4,096 members) it is appended: one read of
/// the array's end instead of a binary search whose every step was a cache miss (inserting
/// into bitmaps was 3.5% of a cold crawl's CPU, nearly all of it in that search). A larger
/// bitmap may hold a dense container, whose largest member is found by a scan, so it is
/// inserted into as before, as is a slot given again.
pub(super) fn add(b: &mut RoaringBitmap, slot: u32) {
    if b.len() > 4096 || b.append([slot]).is_err() {
        b.insert(slot);
    }
}

/// A bitmap of slots found in ascending order, appended one after another (inserting each,
/// a search per slot, was 70% of a walk's time in `perf`).
fn ascending(slots: Vec<u32>) -> RoaringBitmap {
    RoaringBitmap::from_sorted_iter(slots.iter().copied())
        .unwrap_or_else(|_| slots.into_iter().collect())
}

/// Clears a slot's bit in a column (a column is as long as its highest slot).
pub(super) fn clear_bit(column: &mut FixedBitSet, slot: u32) {
    if (slot as usize) < column.len() {
        column.remove(slot as usize);
    }
}

/// A bitmap as a bit column.
pub(super) fn column_of(bitmap: &RoaringBitmap) -> FixedBitSet {
    let mut column = FixedBitSet::with_capacity(bitmap.max().map_or(0, |m| m as usize + 1));
    for slot in bitmap {
        column.insert(slot as usize);
    }
    column
}

impl Index {
    /// A filter on `keys` (a listing in any of them passes), with their columns when every
    /// one present has a column.
    fn filter_of(&self, mut keys: Vec<Key>, spatial: bool) -> Filter<'_> {
        // `ar` asked beside `ar-SY` names the `ar` bitmap twice.
        keys.sort_unstable();
        keys.dedup();
        let present: Vec<(&Key, &RoaringBitmap)> = keys
            .iter()
            .filter_map(|k| self.bitmaps.get_key_value(k))
            .filter(|(_, b)| !b.is_empty())
            .collect();
        let columns = present
            .iter()
            .map(|(k, _)| self.columns.get(*k))
            .collect::<Option<Vec<_>>>()
            .filter(|c| !c.is_empty());
        let present_keys = present.iter().map(|(k, _)| (*k).clone()).collect();
        let mut parts: Vec<&RoaringBitmap> = present.into_iter().map(|(_, b)| b).collect();
        let set = match parts.len() {
            0 => Set::Ref(&self.empty),
            1 => Set::Ref(parts.remove(0)),
            _ => Set::Any(parts),
        };
        Filter {
            set,
            columns,
            keys: present_keys,
            spatial,
        }
    }

    /// Candidates from the bitmaps: every filter that has one, ANDed.
    ///
    /// Filters whose bitmaps are all dense are intersected as bit columns; the others (text
    /// words, the grid cells of a radius, training) as bitmaps, smallest first, starting
    /// from the columns' result or filtering it. A radius's cells are left to the distance,
    /// which is measured for every candidate anyway, when the other filters leave eight
    /// times fewer candidates; otherwise, when they are the only bitmap left, their points
    /// are read in order (`walk_cells`: the column's `len` is then an upper bound).
    pub(super) fn candidates(
        &self,
        q: &GroupQuery,
        text: &[Arc<TextWord>],
        ctx: &QueryContext<'_>,
    ) -> Cand {
        let filters = self.filters(q, text, ctx, true);
        self.combine(&filters, ctx)
    }

    /// A query's filters, each a set of listings a result must be in; a near query's grid
    /// cells among them when `radius` is asked.
    pub(super) fn filters<'a>(
        &'a self,
        q: &GroupQuery,
        text: &'a [Arc<TextWord>],
        ctx: &QueryContext<'_>,
        radius: bool,
    ) -> Vec<Filter<'a>> {
        let mut filters: Vec<Filter<'_>> = Vec::new();
        if !q.categories.is_empty() {
            let keys = q
                .categories
                .iter()
                .filter_map(|c| taxonomy::CATEGORIES.iter().position(|t| t.id == c))
                .map(|i| Key::Category(i as u8))
                .collect();
            filters.push(self.filter_of(keys, false));
        }
        for c in &q.safeguarding {
            if let Some(i) = taxonomy::SAFEGUARDING_CAPABILITIES
                .iter()
                .position(|t| t.id == c)
            {
                filters.push(self.filter_of(vec![Key::Capability(i as u8)], false));
            }
        }
        for (on, bit) in [
            (q.free, FREE),
            (q.childcare, CHILDCARE),
            (q.interpreting == Some(InterpretingWanted::Any), INTERP_ANY),
            (
                q.interpreting == Some(InterpretingWanted::Professional),
                INTERP_PRO,
            ),
            (q.self_referral, SELF_REFERRAL),
            (q.no_gp_registration, NO_GP),
            (q.no_status_check, NO_STATUS),
            (q.evening, EVENING),
            (q.safeguarding_lead, LEAD),
        ] {
            if on {
                filters.push(self.filter_of(vec![Key::Flag(bit)], false));
            }
        }
        if q.accepting || q.min_places.is_some() {
            filters.push(self.filter_of(vec![Key::Accepting], false));
        }
        if !q.languages.is_empty() {
            // A listing is indexed under each tag and its primary subtag, so `ar` reaches
            // `ar-SY` speakers; a query for `ar-SY` falls back to `ar` as RFC 4647 lookup does.
            let keys = q
                .languages
                .iter()
                .flat_map(|l| {
                    let primary = l.split('-').next().unwrap_or(l);
                    [
                        Key::Language(l.as_str().into()),
                        Key::Language(primary.into()),
                    ]
                })
                .collect();
            filters.push(self.filter_of(keys, false));
        }
        if let Some(d) = q.day {
            filters.push(self.filter_of(vec![Key::Day(d as u8)], false));
        }
        for w in text {
            filters.push(Filter::bitmap(Set::Ref(&w.set)));
        }
        let cells = q
            .near
            .filter(|_| radius)
            .and_then(|(p, r)| radius_cells(&p, r));
        if let Some((rows, cols)) = cells {
            let keys = rows
                .flat_map(|a| cols.clone().map(move |b| Key::Cell(a, b)))
                .collect();
            filters.push(self.filter_of(keys, true));
        }
        if let Some(a) = &q.verified_training {
            filters.push(Filter::bitmap(Set::Own(self.trained(a, ctx))));
        }
        filters
    }

    /// Whether some data held has expired (a node's snapshot or a listing): checked first,
    /// so a query looks for expired data only once the earliest expiry has passed.
    pub(super) fn any_expired(&self, now: DateTime<Utc>) -> bool {
        self.expiries
            .first()
            .is_some_and(|(earliest, _)| *earliest <= now)
    }

    /// The candidates passing every one of `filters`, without expired data.
    fn combine(&self, filters: &[Filter<'_>], ctx: &QueryContext<'_>) -> Cand {
        let (dense, sparse): (Vec<&Filter<'_>>, Vec<&Filter<'_>>) =
            filters.iter().partition(|f| f.columns.is_some());
        let mut bits: Option<FixedBitSet> = None;
        for columns in dense.iter().filter_map(|f| f.columns.as_ref()) {
            let Some((first, rest)) = columns.split_first() else {
                continue;
            };
            let union = |mut u: FixedBitSet| {
                for c in rest {
                    u.union_with(c);
                }
                u
            };
            match bits.as_mut() {
                None => bits = Some(union((*first).clone())),
                Some(b) if rest.is_empty() => b.intersect_with(first),
                Some(b) => b.intersect_with(&union((*first).clone())),
            }
        }
        let dense_len = bits.as_ref().map(|b| b.count_ones(..) as u64);
        // A radius's cells are left to the distance when the other filters leave far fewer.
        let others = sparse
            .iter()
            .filter(|f| !f.spatial)
            .map(|f| f.set.len())
            .chain(dense_len)
            .min();
        let far_fewer = |f: &Filter<'_>| others.is_some_and(|n| n.saturating_mul(8) < f.set.len());
        let sparse: Vec<&Filter<'_>> = sparse
            .into_iter()
            .filter(|f| !(f.spatial && far_fewer(f)))
            .collect();
        let smallest = sparse.iter().min_by_key(|f| f.set.len());
        let mut cand = match (bits, smallest) {
            (Some(bits), None) => Cand::Column {
                len: dense_len.unwrap_or(0),
                bits,
                walk_cells: false,
            },
            // Only a radius narrows the columns' result (or there is nothing else): its cells'
            // points are read in order, each asked about in the column.
            (bits, Some(f)) if f.spatial && sparse.len() == 1 => {
                let bits = bits.unwrap_or_else(|| self.live_column.clone());
                Cand::Column {
                    len: dense_len.unwrap_or(f.set.len()).min(f.set.len()),
                    bits,
                    walk_cells: true,
                }
            }
            // Walking the smaller of the two and asking the other about each member is cheap
            // while it is small.
            (Some(bits), Some(f)) if walk_cost(dense_len.unwrap_or(0), &f.set) <= WALK => {
                let mut b = ascending(if dense_len.unwrap_or(0) < f.set.len() {
                    bits.ones()
                        .map(|i| i as u32)
                        .filter(|&slot| f.set.contains(slot))
                        .collect()
                } else {
                    f.set
                        .materialise()
                        .iter()
                        .filter(|&slot| bits.contains(slot as usize))
                        .collect()
                });
                for other in sparse.iter().filter(|o| !std::ptr::eq(**o, *f)) {
                    if b.is_empty() {
                        break;
                    }
                    other.set.restrict(&mut b);
                }
                Cand::Bitmap(b)
            }
            // Otherwise every filter as a bitmap, smallest first, by reference, so a selective
            // filter makes the others cheap.
            _ => {
                let mut sets: Vec<&Set<'_>> = filters
                    .iter()
                    .filter(|f| !(f.spatial && far_fewer(f)))
                    .map(|f| &f.set)
                    .collect();
                sets.sort_by_key(|s| s.len());
                let mut b = sets
                    .first()
                    .map_or_else(|| self.live.clone(), |s| s.materialise());
                for s in sets.iter().skip(1) {
                    if b.is_empty() {
                        break;
                    }
                    s.restrict(&mut b);
                }
                Cand::Bitmap(b)
            }
        };
        // Expired data is not current (fail closed): whole nodes whose snapshot expired, and
        // single listings past their own expiry.
        let any_expired = self.any_expired(ctx.now);
        for n in self.nodes.values().filter(|_| any_expired) {
            if n.seg.data.snapshot.expires_at <= ctx.now {
                cand.subtract(&n.slots);
            } else if n.seg.min_expiry <= ctx.now {
                for slot in &n.slots {
                    if self
                        .entries
                        .get(slot as usize)
                        .and_then(Option::as_ref)
                        .is_some_and(|e| e.expires_at <= ctx.now)
                    {
                        cand.remove(slot);
                    }
                }
            }
        }
        cand
    }
}
