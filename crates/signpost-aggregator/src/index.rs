//! The in-memory index: one segment per node, rebuilt from verified [`NodeData`] only.
//! Queries scan compact per-listing facts (bit masks, coordinates, schedules) and a
//! per-segment word index; the response embeds the original signed bytes as they were
//! received, never re-serialised.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use fixedbitset::FixedBitSet;
use roaring::{MultiOps as _, RoaringBitmap};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use signpost_protocol::model::{Group, Interpreting, Listing};
use signpost_protocol::policy::{
    attestation_status_until, check_attestation, AttestationStatus, Check, RevocationView,
    TrustedIssuer,
};
use signpost_protocol::query::{GroupQuery, InterpretingWanted, Point};
pub use signpost_protocol::wire::{CapacityStatus, Pagination, SearchCentre};
use signpost_protocol::{taxonomy, text, DidKey, EnvelopeRef};
use uuid::Uuid;

use crate::verify::NodeData;

const FREE: u16 = 1;
const CHILDCARE: u16 = 1 << 1;
const INTERP_ANY: u16 = 1 << 2;
const INTERP_PRO: u16 = 1 << 3;
const SELF_REFERRAL: u16 = 1 << 4;
const NO_GP: u16 = 1 << 5;
const NO_STATUS: u16 = 1 << 6;
const EVENING: u16 = 1 << 7;
const LEAD: u16 = 1 << 8;

/// Ranked text (BM25F). A listing's words are indexed per field, a field's weight counting
/// once per word: the group's name 3, its categories' labels 2, its description 1, and 1
/// more when the word comes twice or more in the description.
const NAME: u8 = 0;
const CATEGORY: u8 = 1;
const DESCRIPTION: u8 = 2;
const DESCRIPTION_AGAIN: u8 = 3;
const FIELD_WEIGHTS: [u8; 4] = [3, 2, 1, 1];
const BM25_K1: f32 = 1.2;
const BM25_B: f32 = 0.75;
/// Weighted text lengths counted one by one up to this, the longer ones together (ranked
/// text's selection of a class's shortest texts; any bound is correct, this one is fast).
const LENGTH_BUCKETS: usize = 1024;
/// Listings per run of the shortest-text order that ranked text intersects with a class.
const LENGTH_CHUNK: usize = 1024;
/// A class this small is ranked by collecting every member (a few microseconds).
const SMALL_CLASS: u64 = 512;
/// Ranked text maps candidates that are not simply its words' into the shortest-text order
/// up to this many (a microsecond or so per hundred). Tests lower it to reach the other plan
/// with a few listings: every plan gives the same answer.
#[doc(hidden)]
pub static RANK_MAPPED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(8192);

/// Each category's label, folded (once per process, not once per listing).
static CATEGORY_LABELS: std::sync::LazyLock<Vec<(&'static str, String)>> =
    std::sync::LazyLock::new(|| {
        taxonomy::CATEGORIES
            .iter()
            .map(|t| (t.id, text::fold(t.label)))
            .collect()
    });

/// A listing's words, each with the field it occurs in, in one string: a listing has some
/// fifty, and with a string each (made, hashed and freed as the index took it) preparing a
/// node's entries was 6.2% of a catch-up's samples, 3.6% without.
#[derive(Default)]
struct Terms {
    text: String,
    /// Where each word ends in `text`, and its field.
    ends: Vec<(u32, u8)>,
}

impl Terms {
    fn iter(&self) -> impl Iterator<Item = (&str, u8)> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&(end, field)| {
            let word = self.text.get(start..end as usize).unwrap_or("");
            start = end as usize;
            (word, field)
        })
    }
}

/// A listing's words with the fields they occur in, and its weighted length, given its name
/// folded (the default order keeps that too). Each field is folded once and its words
/// borrowed until they are deduplicated, then copied into one string.
fn text_terms(g: &Group, name: &str) -> (Terms, u16) {
    let description = text::fold(&g.description);
    let mut out: Vec<(&str, u8)> = Vec::with_capacity(64);
    let mut len = 0u32;
    fn add<'a>(folded: &'a str, field: u8, out: &mut Vec<(&'a str, u8)>, len: &mut u32) {
        for w in folded.split(' ').filter(|w| !w.is_empty()) {
            *len += u32::from(FIELD_WEIGHTS[field as usize]);
            out.push((w, field));
        }
    }
    add(name, NAME, &mut out, &mut len);
    for c in &g.categories {
        if let Some((_, label)) = CATEGORY_LABELS.iter().find(|(id, _)| id == c) {
            add(label, CATEGORY, &mut out, &mut len);
        }
    }
    add(&description, DESCRIPTION, &mut out, &mut len);
    out.sort_unstable();
    // A second occurrence in the description becomes its own field; other repeats go.
    let mut terms: Vec<(&str, u8)> = Vec::with_capacity(out.len());
    for (w, f) in out {
        match terms.last() {
            Some((lw, lf)) if *lw == w && *lf == f && f == DESCRIPTION => {
                terms.push((w, DESCRIPTION_AGAIN))
            }
            Some((lw, lf))
                if *lw == w && (*lf == f || (*lf == DESCRIPTION_AGAIN && f == DESCRIPTION)) => {}
            _ => terms.push((w, f)),
        }
    }
    terms.sort_unstable();
    terms.dedup();
    let mut out = Terms {
        text: String::with_capacity(terms.iter().map(|(w, _)| w.len()).sum()),
        ends: Vec::with_capacity(terms.len()),
    };
    for (w, f) in terms {
        out.text.push_str(w);
        out.ends
            .push((u32::try_from(out.text.len()).unwrap_or(u32::MAX), f));
    }
    (out, u16::try_from(len).unwrap_or(u16::MAX))
}

/// Where a listing comes in the default order: organisation, then group name (case and
/// accents folded), then id, so the order never depends on when a node was crawled.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct OrderKey {
    organisation: Arc<str>,
    group: Box<str>,
    id: Uuid,
    slot: u32,
}

/// The facts a query tests after the bitmaps, per listing, and what a result shows.
struct Entry {
    seg: Arc<Segment>,
    id: Uuid,
    /// The signed payload bytes, exactly as signed (JSON: they were parsed when verified).
    payload: Arc<[u8]>,
    /// Its envelope, shared with the verified listing: a result is written from the two
    /// without looking the listing up in its node's map (that lookup, cache misses at each
    /// level, was most of a result's making: about 4% of a near or postcode answer in perf).
    envelope: Arc<signpost_protocol::dsse::HeldEnvelope>,
    point: Option<Point>,
    accepting: bool,
    places: Option<u32>,
    capacity_updated_at: DateTime<Utc>,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    sessions: Vec<(u8, u16, u16)>,
    age: (Option<u8>, Option<u8>),
    /// Its weighted length in words.
    text_len: u16,
}

/// A bitmap of the index.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    Category(u8),
    Capability(u8),
    Flag(u16),
    Accepting,
    Language(Box<str>),
    Day(u8),
    /// A word (by its number in [`Index::word_ids`]) in one field (see [`FIELD_WEIGHTS`]).
    Word(u32, u8),
    Cell(i32, i32),
}

/// A language spoken in at least this share of the slots (one in 256) has a bit column
/// besides its bitmap (see [`Key::wants_column`]); its column is let go below a quarter of it.
const LANGUAGE_COLUMN_SHARE: u64 = 256;
const LANGUAGE_DROP_SHARE: u64 = 1024;
/// Candidates from the columns and a bitmap are combined by walking the smaller when it has
/// at most this many members, and otherwise as bitmaps. A walk costs a few nanoseconds a
/// member and intersecting dense bitmaps a fraction of one: at 4,096 the verified-training
/// filter at 10k walked 4,000 members in 28 us, against 5 us as bitmaps.
const WALK: u64 = 1024;

impl Key {
    /// Whether its bitmap is also kept as a plain bit column, given its size and the slots
    /// held. Intersecting columns is a pass over machine words, where roaring's mixed
    /// containers made half of a near query's time (converting results to arrays, merging
    /// arrays). The facts of the taxonomy and the access flags, a few dozen, always have one;
    /// languages (open-ended tags) once a few listings in a thousand speak them; words and
    /// grid cells (thousands, mostly sparse) never.
    fn wants_column(&self, len: u64, slots: u64) -> bool {
        match self {
            Key::Word(..) | Key::Cell(..) => false,
            Key::Language(_) => len.saturating_mul(LANGUAGE_COLUMN_SHARE) >= slots,
            _ => true,
        }
    }

    fn keeps_column(&self, len: u64, slots: u64) -> bool {
        match self {
            Key::Language(_) => len.saturating_mul(LANGUAGE_DROP_SHARE) >= slots,
            _ => len > 0,
        }
    }
}

/// Grid cells of 0.05 degrees (about 5.5 km north-south, 3.3 km east-west in England).
const CELL: f64 = 0.05;

fn cell(p: &Point) -> (i32, i32) {
    ((p.lat / CELL).floor() as i32, (p.lon / CELL).floor() as i32)
}

/// The grid cells covering a radius (rows, then columns), when there are at most 4,096.
fn radius_cells(
    p: &Point,
    r: f64,
) -> Option<(std::ops::RangeInclusive<i32>, std::ops::RangeInclusive<i32>)> {
    let dlat = r / 111.0;
    let dlon = r / (111.0 * p.lat.to_radians().cos().max(0.01));
    let (a0, b0) = cell(&Point {
        lat: p.lat - dlat,
        lon: p.lon - dlon,
    });
    let (a1, b1) = cell(&Point {
        lat: p.lat + dlat,
        lon: p.lon + dlon,
    });
    let cells = (i64::from(a1) - i64::from(a0) + 1) * (i64::from(b1) - i64::from(b0) + 1);
    (cells <= 4096).then_some((a0..=a1, b0..=b1))
}

/// The equirectangular distance from a point within a radius (no trigonometry per point
/// measured), and how far from the great-circle distance it can be there.
struct Flat {
    lat: f64,
    lon: f64,
    kx: f64,
    r: f64,
    /// km: within this of the radius, whether a point is inside is decided by its
    /// great-circle distance (see [`band`]).
    band: f64,
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

    fn new(p: &Point, r: f64) -> Self {
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

    fn distance(&self, lat: f64, lon: f64) -> f64 {
        self.distance_squared(lat, lon).sqrt()
    }

    fn distance_squared(&self, lat: f64, lon: f64) -> f64 {
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
    fn contains(&self, lat: f64, lon: f64) -> bool {
        self.within_squared(self.distance_squared(lat, lon), lat, lon)
    }

    /// The approximate distance of a point within the radius; `None` outside it.
    fn measure(&self, lat: f64, lon: f64) -> Option<f64> {
        let d2 = self.distance_squared(lat, lon);
        self.within_squared(d2, lat, lon).then(|| d2.sqrt())
    }

    /// The least and greatest distance of any point of a rectangle (degrees, inclusive).
    fn span(&self, lat: (f64, f64), lon: (f64, f64)) -> (f64, f64) {
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
        ((x0 * x0 + y0 * y0).sqrt(), (x1 * x1 + y1 * y1).sqrt())
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
struct SpatialCache {
    generation: u64,
    slots: Vec<u32>,
    points: Vec<(f64, f64)>,
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
    fn around<'s>(
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
        let end = first
            + self.cells[first..]
                .iter()
                .take_while(|(c, _)| *c <= (row, to))
                .count();
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

/// The bitmaps a listing is in, but for its words ([`text_terms`]).
fn keys_of(listing: &Listing) -> Vec<Key> {
    let g = &listing.group;
    let a = &g.access;
    let mut keys = Vec::new();
    for (i, t) in taxonomy::CATEGORIES.iter().enumerate() {
        if g.categories.iter().any(|c| c == t.id) {
            keys.push(Key::Category(i as u8));
        }
    }
    for (i, t) in taxonomy::SAFEGUARDING_CAPABILITIES.iter().enumerate() {
        if g.safeguarding.capabilities.iter().any(|c| c == t.id) {
            keys.push(Key::Capability(i as u8));
        }
    }
    for (cond, bit) in [
        (a.cost.free, FREE),
        (a.childcare, CHILDCARE),
        (a.interpreting != Interpreting::None, INTERP_ANY),
        (a.interpreting == Interpreting::Professional, INTERP_PRO),
        (a.self_referral, SELF_REFERRAL),
        (!a.gp_registration_required, NO_GP),
        (!a.immigration_status_asked, NO_STATUS),
        (g.schedule.iter().any(|s| s.is_evening()), EVENING),
        (g.safeguarding.designated_lead, LEAD),
    ] {
        if cond {
            keys.push(Key::Flag(bit));
        }
    }
    if g.capacity.accepting_referrals {
        keys.push(Key::Accepting);
    }
    for l in &g.languages {
        let l = l.to_ascii_lowercase();
        if let Some((primary, _)) = l.split_once('-') {
            keys.push(Key::Language(primary.into()));
        }
        keys.push(Key::Language(l.into()));
    }
    for s in &g.schedule {
        keys.push(Key::Day(s.day as u8));
    }
    if let Some(loc) = &g.location {
        let (a, b) = cell(&Point {
            lat: loc.lat,
            lon: loc.lon,
        });
        keys.push(Key::Cell(a, b));
    }
    keys.sort();
    keys.dedup();
    keys
}

/// One node's verified data, as the index holds it.
pub struct Segment {
    pub data: Arc<NodeData>,
    pub name: String,
    /// The name folded for ordering.
    name_fold: Arc<str>,
    /// The node id as text (formatting a did:key costs a base58 encoding).
    pub id: String,
    /// The earliest expiry of any of its listings.
    min_expiry: DateTime<Utc>,
}

impl Segment {
    /// When the first of its data stops being current: the snapshot or a listing.
    fn earliest_expiry(&self) -> DateTime<Utc> {
        self.data.snapshot.expires_at.min(self.min_expiry)
    }

    pub fn len(&self) -> usize {
        self.data.listings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.listings.is_empty()
    }
}

/// Where a node's listings are in the index.
struct NodeSlots {
    seg: Arc<Segment>,
    slots: RoaringBitmap,
    by_id: HashMap<Uuid, u32>,
}

/// Everything a query needs besides the index.
pub struct QueryContext<'a> {
    pub now: DateTime<Utc>,
    pub capacity_max_age: Duration,
    /// Clock skew allowed between nodes and this aggregator.
    pub skew: Duration,
    pub issuers: &'a [TrustedIssuer],
    pub revocations: &'a HashMap<DidKey, RevocationView>,
    pub grace: Duration,
}

impl QueryContext<'_> {
    /// Each attestation the node presents, with its status and checks.
    pub fn attestations(&self, data: &NodeData) -> Vec<(AttestationStatus, Vec<Check>)> {
        data.attestations
            .iter()
            .map(|a| {
                check_attestation(
                    a,
                    &data.id,
                    self.issuers,
                    self.revocations.get(&a.issuer),
                    self.grace,
                    self.now,
                )
            })
            .collect()
    }

    /// Achievements the node presents a fully verified attestation for.
    pub fn verified_training(&self, data: &NodeData) -> Vec<String> {
        let mut out: Vec<String> = data
            .attestations
            .iter()
            .filter(|a| {
                check_attestation(
                    a,
                    &data.id,
                    self.issuers,
                    self.revocations.get(&a.issuer),
                    self.grace,
                    self.now,
                )
                .0 == AttestationStatus::Verified
            })
            .map(|a| a.achievement.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Capacity as a referrer should read it: the one rule, [`CapacityStatus::of`].
    pub fn capacity_status(&self, listing: &Listing) -> CapacityStatus {
        CapacityStatus::of(
            &listing.group.capacity,
            listing.issued_at,
            self.now,
            self.capacity_max_age,
            self.skew,
        )
    }

    fn entry_capacity(&self, e: &Entry) -> CapacityStatus {
        CapacityStatus::from_parts(
            e.accepting,
            e.capacity_updated_at,
            e.issued_at,
            self.now,
            self.capacity_max_age,
            self.skew,
        )
    }
}

/// One result of `GET /v1/groups`, serialised straight from the index without copying the
/// signed bytes: the same shape as [`signpost_protocol::wire::GroupResult`] (a test checks
/// that one reads the other).
#[derive(Serialize)]
pub struct GroupView<'a> {
    /// The publishing organisation's id (verify the envelope with its node document).
    pub node: &'a str,
    pub node_name: &'a str,
    pub id: Uuid,
    /// Distance from `near`, km (only with `near`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    pub capacity_status: CapacityStatus,
    /// Achievements with an attestation that passes every check (shared by every result
    /// of one organisation: a page does not copy them).
    pub verified_training: Arc<[String]>,
    /// Where the full provenance is: every envelope and every check's result.
    pub provenance: ProvenancePath<'a>,
    /// The signed listing payload, exactly as signed.
    pub listing: PayloadJson<'a>,
    /// The original signed envelope, as received from the node (left out with
    /// `include_envelope=false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<EnvelopeRef<'a>>,
}

/// `/v1/groups/{node}/{id}`, the path of a result's provenance, written where it is served
/// (a page of twenty built twenty strings for it).
#[derive(Clone, Copy)]
pub struct ProvenancePath<'a> {
    pub node: &'a str,
    pub id: Uuid,
}

impl std::fmt::Display for ProvenancePath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "/v1/groups/{}/{}", self.node, self.id.hyphenated())
    }
}

impl Serialize for ProvenancePath<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A listing's signed payload bytes, written into a response as the JSON they are (they
/// were parsed as a listing when the envelope was verified). `/v1/groups` pages copy them
/// ([`crate::page_json`]); serde, for a single result, checks them once more.
#[derive(Clone, Copy)]
pub struct PayloadJson<'a>(pub &'a [u8]);

impl Serialize for PayloadJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let text = std::str::from_utf8(self.0).map_err(S::Error::custom)?;
        RawValue::from_string(text.to_owned())
            .map_err(S::Error::custom)?
            .serialize(serializer)
    }
}

/// A page of results: the same shape as [`signpost_protocol::wire::GroupsPage`].
#[derive(Serialize)]
pub struct GroupsPageView<'a> {
    #[serde(flatten)]
    pub pagination: Pagination,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub centre: Option<SearchCentre>,
    pub contents: Vec<GroupView<'a>>,
}

/// One match: the node's segment, the verified listing, and its distance when asked.
pub type Hit<'a> = (
    &'a Arc<Segment>,
    &'a signpost_protocol::Verified<Listing>,
    Option<f64>,
);

/// A node's entries, built outside the index lock and installed under it.
pub struct Prepared {
    seg: Arc<Segment>,
    entries: Vec<PreparedEntry>,
}

struct PreparedEntry {
    entry: Entry,
    keys: Vec<Key>,
    terms: Terms,
    name_fold: Box<str>,
}

impl Prepared {
    pub fn new(data: Arc<NodeData>) -> Self {
        let min_expiry = data
            .listings
            .values()
            .map(|l| l.expires_at)
            .min()
            .unwrap_or(data.snapshot.expires_at);
        let name = data.document().map(|d| d.name.clone()).unwrap_or_default();
        let seg = Arc::new(Segment {
            name_fold: text::fold(&name).into(),
            name,
            id: data.id.to_string(),
            min_expiry,
            data: Arc::clone(&data),
        });
        let entries = data
            .listings
            .values()
            .map(|l| {
                let payload = Arc::clone(l.payload_bytes());
                let envelope = Arc::clone(l.held_envelope());
                let g = &l.group;
                let name_fold = text::fold(&g.name);
                let (terms, text_len) = text_terms(g, &name_fold);
                let entry = Entry {
                    seg: Arc::clone(&seg),
                    id: l.id,
                    payload,
                    envelope,
                    point: g.location.as_ref().map(|loc| Point {
                        lat: loc.lat,
                        lon: loc.lon,
                    }),
                    accepting: g.capacity.accepting_referrals,
                    places: g.capacity.places_available,
                    capacity_updated_at: g.capacity.updated_at,
                    issued_at: l.issued_at,
                    expires_at: l.expires_at,
                    sessions: g
                        .schedule
                        .iter()
                        .map(|s| (s.day as u8, s.opens.minutes(), s.closes.minutes()))
                        .collect(),
                    age: g.age_range.map(|r| (r.min, r.max)).unwrap_or((None, None)),
                    text_len,
                };
                PreparedEntry {
                    entry,
                    keys: keys_of(l.payload()),
                    terms,
                    name_fold: name_fold.into(),
                }
            })
            .collect();
        Self { seg, entries }
    }
}

/// Per-achievement bitmaps of the listings whose organisation has a verified attestation,
/// and each organisation's verified achievements (the filter and the results read the same
/// answer), recomputed when the index or the revocation lists change, or when the time
/// reaches the first moment any attestation's status could change
/// ([`attestation_status_until`]). Recomputed every second instead, it cost a few
/// milliseconds of CPU each second at a thousand nodes, under a lock every search takes:
/// the requests in flight waited for it.
struct TrainingCache {
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    generation: u64,
    revocations: usize,
    by_achievement: HashMap<String, RoaringBitmap>,
    /// Each node's verified achievements, by its segment's address (results show them).
    by_node: HashMap<usize, Arc<[String]>, foldhash::fast::RandomState>,
}

/// A window of results: the number of matches, and the results in it with their distances.
type Window<'a> = (usize, Vec<(&'a Entry, Option<f64>)>);

/// The whole index: listings in slots, and a bitmap per filterable fact.
#[derive(Default)]
pub struct Index {
    nodes: HashMap<DidKey, NodeSlots>,
    generation: u64,
    training: std::sync::Mutex<Option<Arc<TrainingCache>>>,
    entries: Vec<Option<Entry>>,
    free: Vec<u32>,
    live: RoaringBitmap,
    /// An empty bitmap, for keys nothing has.
    empty: RoaringBitmap,
    /// foldhash (seeded per process): SipHash was 3% of a restart's samples in perf.
    bitmaps: HashMap<Key, RoaringBitmap, foldhash::fast::RandomState>,
    /// Bitmaps again as bit columns (see [`Key::wants_column`]), kept in step with them.
    columns: HashMap<Key, FixedBitSet, foldhash::fast::RandomState>,
    /// Every live slot, as a column.
    live_column: FixedBitSet,
    /// Sorted words (for prefix search), each with its number and the fields it has a
    /// bitmap for.
    words: BTreeMap<Box<str>, (u32, u8)>,
    /// Each word's number, while it has a bitmap: its bitmaps' keys hold the number, not
    /// the word.
    word_ids: HashMap<Box<str>, u32, foldhash::fast::RandomState>,
    /// Numbers of words no longer held, to be given again.
    free_word_ids: Vec<u32>,
    /// Each slot's weighted text length (BM25's length normalisation).
    text_lens: Vec<u16>,
    /// Each slot's point, `(NaN, NaN)` when it has none: a near query measures its
    /// candidates here, in 16 bytes each, and reads an entry only for those it keeps (the
    /// per-candidate loop, which read an entry for each, was a quarter of a postcode query's
    /// server samples; 15% once it read this column).
    points: Vec<(f64, f64)>,
    /// The weighted lengths of every listing's text, summed (for BM25's average).
    text_len_total: u64,
    /// Every listing in the default order.
    order: BTreeSet<OrderKey>,
    /// Each node's earliest expiry: a query looks for expired data only once the first of
    /// these has passed (otherwise it would visit every node).
    expiries: BTreeSet<(DateTime<Utc>, String)>,
    order_cache: std::sync::Mutex<Option<Arc<OrderCache>>>,
    spatial_cache: std::sync::Mutex<Option<Arc<SpatialCache>>>,
}

/// The default order as positions, rebuilt once per index generation when a query needs it.
struct OrderCache {
    generation: u64,
    /// Slots in order.
    slots: Vec<u32>,
    /// Each slot's position in the order (`u32::MAX` for an empty slot).
    position: Vec<u32>,
    /// Slots by weighted text length, then position; built when a ranked query first
    /// needs it in this generation.
    by_length: std::sync::OnceLock<Vec<u32>>,
    /// `by_length` cut into runs of [`LENGTH_CHUNK`] slots, each as a bitmap: every member
    /// of a run comes before every member of the next in (length, position) order.
    length_chunks: std::sync::OnceLock<Vec<RoaringBitmap>>,
    /// Each slot's place in `by_length` (`u32::MAX` for an empty slot).
    length_rank: std::sync::OnceLock<Vec<u32>>,
    /// The words of text searches asked for in this generation, by what was typed
    /// (at most [`CACHED_WORDS`]).
    words: std::sync::Mutex<HashMap<Box<str>, Arc<TextWord>>>,
}

/// Text search words kept per index generation (a common word's bitmaps are some hundreds of
/// kilobytes at 100,000 listings; the cache is emptied when full).
const CACHED_WORDS: usize = 64;

impl OrderCache {
    fn by_length(&self, text_lens: &[u16]) -> &[u32] {
        self.by_length.get_or_init(|| {
            let mut slots = self.slots.clone();
            // Stable: equal lengths keep the default order.
            slots.sort_by_key(|&slot| text_lens.get(slot as usize).copied().unwrap_or(0));
            slots
        })
    }

    fn length_chunks(&self, text_lens: &[u16]) -> &[RoaringBitmap] {
        self.length_chunks.get_or_init(|| {
            self.by_length(text_lens)
                .chunks(LENGTH_CHUNK)
                .map(|run| {
                    let mut run = run.to_vec();
                    run.sort_unstable();
                    run.into_iter().collect()
                })
                .collect()
        })
    }

    fn position(&self, slot: u32) -> u32 {
        self.position
            .get(slot as usize)
            .copied()
            .unwrap_or(u32::MAX)
    }

    fn length_rank(&self, text_lens: &[u16]) -> &[u32] {
        self.length_rank.get_or_init(|| {
            let mut rank = vec![u32::MAX; self.position.len()];
            for (i, &slot) in self.by_length(text_lens).iter().enumerate() {
                if let Some(r) = rank.get_mut(slot as usize) {
                    *r = i as u32;
                }
            }
            rank
        })
    }

    /// `slots` as places in the shortest-text order: a set's first members there are its
    /// shortest texts, ties in the default order.
    fn by_rank(&self, slots: &RoaringBitmap, text_lens: &[u16]) -> RoaringBitmap {
        let rank = self.length_rank(text_lens);
        let mut ranks: Vec<u32> = slots
            .iter()
            .filter_map(|slot| rank.get(slot as usize).copied())
            .filter(|&r| r != u32::MAX)
            .collect();
        ranks.sort_unstable();
        RoaringBitmap::from_sorted_iter(ranks).unwrap_or_default()
    }
}

/// One word of a text search: per field, the listings having a word it begins; all of
/// them; and the word's BM25 weight.
struct TextWord {
    fields: [RoaringBitmap; 4],
    set: RoaringBitmap,
    idf: f32,
    /// `fields` and `set` as places in the shortest-text order (see [`OrderCache::by_rank`]),
    /// made when a ranked query first needs them.
    ranked: std::sync::OnceLock<([RoaringBitmap; 4], RoaringBitmap)>,
}

impl TextWord {
    fn ranked(
        &self,
        order: &OrderCache,
        text_lens: &[u16],
    ) -> &([RoaringBitmap; 4], RoaringBitmap) {
        self.ranked.get_or_init(|| {
            let fields = self.fields.each_ref().map(|f| order.by_rank(f, text_lens));
            let set = fields.iter().union();
            (fields, set)
        })
    }
}

impl Index {
    /// Installs prepared entries, replacing the node's previous ones.
    pub fn install(&mut self, prepared: Prepared) {
        self.generation += 1;
        let node = prepared.seg.data.id;
        self.remove(&node);
        self.expiries
            .insert((prepared.seg.earliest_expiry(), prepared.seg.id.clone()));
        let mut slots = RoaringBitmap::new();
        let mut by_id = HashMap::new();
        for prepared_entry in prepared.entries {
            let PreparedEntry {
                entry,
                keys,
                terms,
                name_fold,
            } = prepared_entry;
            let slot = self.free.pop().unwrap_or(self.entries.len() as u32);
            self.text_len_total += u64::from(entry.text_len);
            if self.text_lens.len() <= slot as usize {
                self.text_lens.resize(slot as usize + 1, 0);
            }
            self.text_lens[slot as usize] = entry.text_len;
            if self.points.len() <= slot as usize {
                self.points.resize(slot as usize + 1, (f64::NAN, f64::NAN));
            }
            self.points[slot as usize] =
                entry.point.map_or((f64::NAN, f64::NAN), |p| (p.lat, p.lon));
            self.live_column.grow(slot as usize + 1);
            self.live_column.insert(slot as usize);
            self.order.insert(OrderKey {
                organisation: Arc::clone(&prepared.seg.name_fold),
                group: name_fold,
                id: entry.id,
                slot,
            });
            let slots_held = (self.entries.len() as u64).max(u64::from(slot) + 1);
            for k in keys {
                use std::collections::hash_map::Entry as Slot;
                // Words and cells never have a column (most keys are words: no lookup).
                let may_have_column = !matches!(k, Key::Word(..) | Key::Cell(..));
                let column = if may_have_column {
                    self.columns.get_mut(&k)
                } else {
                    None
                };
                let has_column = match column {
                    Some(column) => {
                        column.grow(slot as usize + 1);
                        column.insert(slot as usize);
                        true
                    }
                    None => false,
                };
                let (key, bitmap) = match self.bitmaps.entry(k) {
                    Slot::Occupied(b) => {
                        let gains =
                            !has_column && b.key().wants_column(b.get().len() + 1, slots_held);
                        let key = gains.then(|| b.key().clone());
                        let b = b.into_mut();
                        add(b, slot);
                        (key, b)
                    }
                    Slot::Vacant(v) => {
                        let key = v.key().wants_column(1, slots_held).then(|| v.key().clone());
                        let b = v.insert(RoaringBitmap::new());
                        b.insert(slot);
                        (key, b)
                    }
                };
                if let Some(key) = key {
                    self.columns.insert(key, column_of(bitmap));
                }
            }
            for (w, field) in terms.iter() {
                let id = self.word_id(w);
                match self.bitmaps.entry(Key::Word(id, field)) {
                    std::collections::hash_map::Entry::Occupied(b) => {
                        add(b.into_mut(), slot);
                    }
                    std::collections::hash_map::Entry::Vacant(v) => {
                        // A word's field is new to the word list only when its bitmap is.
                        if let Some((_, fields)) = self.words.get_mut(w) {
                            *fields |= 1 << field;
                        }
                        v.insert(RoaringBitmap::new()).insert(slot);
                    }
                }
            }
            by_id.insert(entry.id, slot);
            if slot as usize == self.entries.len() {
                self.entries.push(Some(entry));
            } else {
                self.entries[slot as usize] = Some(entry);
            }
            self.live.insert(slot);
            slots.insert(slot);
        }
        self.nodes.insert(
            node,
            NodeSlots {
                seg: prepared.seg,
                slots,
                by_id,
            },
        );
    }

    /// Removes a node's entries (replaced by an install, or its approval withdrawn).
    pub fn remove(&mut self, node: &DidKey) {
        if let Some(old) = self.nodes.remove(node) {
            self.generation += 1;
            self.expiries
                .remove(&(old.seg.earliest_expiry(), old.seg.id.clone()));
            for slot in &old.slots {
                self.remove_slot(slot);
            }
        }
    }

    fn remove_slot(&mut self, slot: u32) {
        let Some(entry) = self.entries.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        self.text_len_total = self
            .text_len_total
            .saturating_sub(u64::from(entry.text_len));
        clear_bit(&mut self.live_column, slot);
        let listing = entry.seg.data.listings.get(&entry.id);
        if let Some(l) = listing {
            let name_fold = text::fold(&l.group.name);
            for (w, field) in text_terms(&l.group, &name_fold).0.iter() {
                self.remove_word(w, field, slot);
            }
            self.order.remove(&OrderKey {
                organisation: Arc::clone(&entry.seg.name_fold),
                group: name_fold.into(),
                id: entry.id,
                slot,
            });
        }
        let keys = listing.map(|l| keys_of(l.payload())).unwrap_or_default();
        let slots_held = self.entries.len() as u64;
        for k in &keys {
            let (empty, sparse) = match self.bitmaps.get_mut(k) {
                Some(b) => {
                    b.remove(slot);
                    (b.is_empty(), !k.keeps_column(b.len(), slots_held))
                }
                None => (false, true),
            };
            let column = if matches!(k, Key::Word(..) | Key::Cell(..)) {
                None
            } else {
                self.columns.get_mut(k)
            };
            if let Some(column) = column {
                if sparse {
                    self.columns.remove(k);
                } else {
                    clear_bit(column, slot);
                }
            }
            if empty {
                self.bitmaps.remove(k);
            }
        }
        self.live.remove(slot);
        self.free.push(slot);
    }

    /// `w`'s number, given it when it is new.
    fn word_id(&mut self, w: &str) -> u32 {
        if let Some(&id) = self.word_ids.get(w) {
            return id;
        }
        // With none free, the numbers held are 0 to one less than how many there are.
        let id = self
            .free_word_ids
            .pop()
            .unwrap_or(u32::try_from(self.word_ids.len()).unwrap_or(u32::MAX));
        self.word_ids.insert(w.into(), id);
        self.words.insert(w.into(), (id, 0));
        id
    }

    /// Takes `slot` out of word `w`'s bitmap for `field`; a word left without a bitmap
    /// is forgotten and its number freed.
    fn remove_word(&mut self, w: &str, field: u8, slot: u32) {
        let Some(&id) = self.word_ids.get(w) else {
            return;
        };
        let key = Key::Word(id, field);
        let empty = self.bitmaps.get_mut(&key).is_some_and(|b| {
            b.remove(slot);
            b.is_empty()
        });
        if !empty {
            return;
        }
        self.bitmaps.remove(&key);
        let none_left = self.words.get_mut(w).is_some_and(|(_, fields)| {
            *fields &= !(1 << field);
            *fields == 0
        });
        if none_left {
            self.words.remove(w);
            self.word_ids.remove(w);
            self.free_word_ids.push(id);
        }
    }

    /// Listings of organisations presenting a verified attestation for `achievement`.
    /// Who holds which verified training now (see [`TrainingCache`]).
    fn training(&self, ctx: &QueryContext<'_>) -> Arc<TrainingCache> {
        let revocations = ctx.revocations as *const _ as usize;
        let mut cache = self.training.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.as_ref().filter(|c| {
            c.generation == self.generation
                && c.revocations == revocations
                && c.from <= ctx.now
                && c.until.is_none_or(|until| ctx.now < until)
        }) {
            return Arc::clone(c);
        }
        let mut by_achievement: HashMap<String, RoaringBitmap> = HashMap::new();
        let mut by_node = HashMap::default();
        let mut until: Option<DateTime<Utc>> = None;
        for n in self.nodes.values() {
            for a in &n.seg.data.attestations {
                let revocation = ctx.revocations.get(&a.issuer);
                if let Some(t) = attestation_status_until(a, revocation, ctx.grace, ctx.now) {
                    until = Some(until.map_or(t, |u| u.min(t)));
                }
            }
            let held = ctx.verified_training(&n.seg.data);
            for a in &held {
                *by_achievement.entry(a.clone()).or_default() |= &n.slots;
            }
            by_node.insert(Arc::as_ptr(&n.seg) as usize, held.into());
        }
        let fresh = Arc::new(TrainingCache {
            from: ctx.now,
            until,
            generation: self.generation,
            revocations,
            by_achievement,
            by_node,
        });
        *cache = Some(Arc::clone(&fresh));
        fresh
    }

    fn trained(&self, achievement: &str, ctx: &QueryContext<'_>) -> RoaringBitmap {
        self.training(ctx)
            .by_achievement
            .get(achievement)
            .cloned()
            .unwrap_or_default()
    }

    pub fn segment(&self, node: &DidKey) -> Option<&Arc<Segment>> {
        self.nodes.get(node).map(|n| &n.seg)
    }

    pub fn segments(&self) -> impl Iterator<Item = &Arc<Segment>> {
        self.nodes.values().map(|n| &n.seg)
    }

    /// Changes whenever the index does (for ETags).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn listing_count(&self) -> usize {
        self.live.len() as usize
    }

    /// The words of a text search, each with the listings having a word it begins.
    fn text_words(&self, q: &GroupQuery, order: &OrderCache) -> Vec<Arc<TextWord>> {
        let mut cache = order.words.lock().unwrap_or_else(|p| p.into_inner());
        q.words
            .iter()
            .map(|prefix| {
                if let Some(w) = cache.get(prefix.as_str()) {
                    return Arc::clone(w);
                }
                let w = Arc::new(self.text_word(prefix));
                if cache.len() >= CACHED_WORDS {
                    cache.clear();
                }
                cache.insert(prefix.as_str().into(), Arc::clone(&w));
                w
            })
            .collect()
    }

    /// One word of a text search: the listings having a word it begins, per field.
    fn text_word(&self, prefix: &str) -> TextWord {
        let n = self.live.len() as f32;
        let mut fields: [Vec<&RoaringBitmap>; 4] = Default::default();
        for (_, present) in self
            .words
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(w, _)| w.starts_with(prefix))
        {
            let &(id, present) = present;
            for (f, sets) in fields.iter_mut().enumerate() {
                if present & (1 << f) != 0 {
                    if let Some(b) = self.bitmaps.get(&Key::Word(id, f as u8)) {
                        sets.push(b);
                    }
                }
            }
        }
        let fields = fields.map(|sets| sets.into_iter().union());
        let set = fields.iter().union();
        let df = set.len() as f32;
        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        TextWord {
            fields,
            set,
            idf,
            ranked: std::sync::OnceLock::new(),
        }
    }

    /// BM25F's per-word term for a weighted frequency and a text length.
    fn bm25(idf: f32, tf: f32, len: f32, average: f32) -> f32 {
        if tf == 0.0 {
            return 0.0;
        }
        let norm = BM25_K1 * (1.0 - BM25_B + BM25_B * len / average);
        idf * tf * (BM25_K1 + 1.0) / (tf + norm)
    }

    fn average_text_len(&self) -> f32 {
        (self.text_len_total as f32 / self.live.len().max(1) as f32).max(1.0)
    }

    /// Splits `cand` into classes whose members have the same weighted frequency for every
    /// word (each word's field bitmaps given in the same space as `cand`), one class for
    /// each set of frequencies; `None` past 256.
    fn classes(
        cand: RoaringBitmap,
        words: &[&[RoaringBitmap; 4]],
    ) -> Option<Vec<(RoaringBitmap, Vec<u8>)>> {
        let mut classes: Vec<(RoaringBitmap, Vec<u8>)> = vec![(cand, Vec::new())];
        for fields in words {
            let mut next = Vec::new();
            for (set, tfs) in classes {
                let mut parts: Vec<(RoaringBitmap, u8)> = vec![(set, 0)];
                for (field, weight) in fields.iter().zip(FIELD_WEIGHTS) {
                    let mut split = Vec::with_capacity(parts.len() * 2);
                    for (part, tf) in parts {
                        // A field that has all of a class or none of it (a category's label,
                        // a word never repeated) splits nothing: counted, not built.
                        let shared = part.intersection_len(field);
                        if shared == 0 || shared == part.len() {
                            let tf = if shared == 0 {
                                tf
                            } else {
                                tf.saturating_add(weight)
                            };
                            split.push((part, tf));
                            continue;
                        }
                        let inside = &part & field;
                        let outside = part - &inside;
                        if !inside.is_empty() {
                            split.push((inside, tf.saturating_add(weight)));
                        }
                        if !outside.is_empty() {
                            split.push((outside, tf));
                        }
                    }
                    parts = split;
                }
                // Parts whose fields weigh the same (the name alone, or a category and the
                // description) score alike: one class, split no further by the next word.
                let mut merged: Vec<(RoaringBitmap, u8)> = Vec::with_capacity(parts.len());
                for (part, tf) in parts {
                    match merged.iter_mut().find(|(_, t)| *t == tf) {
                        Some((same, _)) => *same |= part,
                        None => merged.push((part, tf)),
                    }
                }
                for (part, tf) in merged {
                    let mut tfs = tfs.clone();
                    tfs.push(tf);
                    next.push((part, tfs));
                }
            }
            classes = next;
            if classes.len() > 256 {
                return None;
            }
        }
        Some(classes)
    }

    /// The first `need` of `cand` by BM25F score, ties in the default order; `None` when
    /// the matches fall into too many classes (see [`Index::classes`]) and every one must be
    /// scored.
    ///
    /// Within a class of equal word frequencies the score only falls as the text gets
    /// longer, so a class's best are its shortest texts. The classes are made among places
    /// in the shortest-text order (each word's bitmaps are mapped there once per index
    /// generation), where a class's first members are its shortest texts, ties in the
    /// default order; a candidate set that is not simply the words' (other filters, expired
    /// data held) is mapped there when small, else the classes are made among slots and
    /// their shortest texts looked for ([`Index::shortest`]).
    fn top_scores(
        &self,
        cand: &RoaringBitmap,
        words: &[Arc<TextWord>],
        order: &OrderCache,
        need: usize,
    ) -> Option<Vec<(f32, u32, u32)>> {
        if need == 0 {
            return Some(Vec::new());
        }
        let average = self.average_text_len();
        let len_of = |slot: u32| self.text_lens.get(slot as usize).copied().unwrap_or(0);
        let score = |tfs: &[u8], len: u16| -> f32 {
            words
                .iter()
                .zip(tfs)
                .map(|(w, tf)| Self::bm25(w.idf, f32::from(*tf), f32::from(len), average))
                .sum()
        };
        let ranked: Vec<&([RoaringBitmap; 4], RoaringBitmap)> = words
            .iter()
            .map(|w| w.ranked(order, &self.text_lens))
            .collect();
        let in_rank = if ranked.is_empty() {
            None
        } else {
            let all = ranked.iter().map(|r| &r.1).intersection();
            if all.len() == cand.len() {
                // `cand` is within every word's set: the same size, the same listings.
                Some(all)
            } else if cand.len() <= RANK_MAPPED.load(std::sync::atomic::Ordering::Relaxed) {
                Some(order.by_rank(cand, &self.text_lens))
            } else {
                None
            }
        };
        let by_length = order.by_length(&self.text_lens);
        // Each class with its first `need` slots by (length, position).
        let firsts: Vec<(Vec<u8>, Vec<u32>)> = match in_rank {
            Some(cand) => {
                let fields: Vec<&[RoaringBitmap; 4]> = ranked.iter().map(|r| &r.0).collect();
                Self::classes(cand, &fields)?
                    .into_iter()
                    .map(|(class, tfs)| {
                        let mut slots = Vec::with_capacity(need.min(class.len() as usize));
                        first_members(&class, need, |r| {
                            slots.extend(by_length.get(r as usize).copied());
                        });
                        (tfs, slots)
                    })
                    .collect()
            }
            None => {
                let fields: Vec<&[RoaringBitmap; 4]> = words.iter().map(|w| &w.fields).collect();
                Self::classes(cand.clone(), &fields)?
                    .into_iter()
                    .map(|(class, tfs)| (tfs, Self::shortest(&class, need, order, &self.text_lens)))
                    .collect()
            }
        };
        let mut hits: Vec<(f32, u32, u32)> = Vec::new();
        for (tfs, slots) in &firsts {
            for &slot in slots {
                hits.push((score(tfs, len_of(slot)), order.position(slot), slot));
            }
        }
        first_pages(&mut hits, need, |a, b| {
            b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
        });
        Some(hits)
    }

    /// A class's first `need` by (weighted text length, position), in that order.
    ///
    /// A small class collects and selects every member. A larger one is intersected with
    /// the runs of the shortest-text order, shortest first, until the runs seen hold `need`
    /// of its members: every member of a later run comes after them, so only those are
    /// sorted (for a common word, one or two intersections instead of tens of thousands of
    /// members). A class of long texts gives up after one run per hundred members (a bound
    /// chosen, not measured, so that the runs never cost much more than collecting), and
    /// then takes a histogram of the class's lengths, collecting only the members up to the
    /// longest length needed.
    fn shortest(
        class: &RoaringBitmap,
        need: usize,
        order: &OrderCache,
        text_lens: &[u16],
    ) -> Vec<u32> {
        let len_of = |slot: u32| text_lens.get(slot as usize).copied().unwrap_or(0);
        let key = |slot: u32| (len_of(slot), order.position(slot), slot);
        let by = |a: &(u16, u32, u32), b: &(u16, u32, u32)| a.cmp(b);
        if need == 0 {
            return Vec::new();
        }
        if class.len() <= SMALL_CLASS {
            let mut keys = Vec::with_capacity(class.len() as usize);
            first_members(class, usize::MAX, |slot| keys.push(key(slot)));
            first_pages(&mut keys, need, by);
            return keys.into_iter().map(|k| k.2).collect();
        }
        let budget = (class.len() / 100).max(4) as usize;
        let mut keys = Vec::with_capacity(need * 2);
        for run in order.length_chunks(text_lens).iter().take(budget) {
            let members = class & run;
            keys.reserve(members.len() as usize);
            first_members(&members, usize::MAX, |slot| keys.push(key(slot)));
            if keys.len() >= need {
                first_pages(&mut keys, need, by);
                return keys.into_iter().map(|k| k.2).collect();
            }
        }
        let mut counts = [0u32; LENGTH_BUCKETS];
        let bucket = |len: u16| usize::from(len).min(LENGTH_BUCKETS - 1);
        for slot in class {
            counts[bucket(len_of(slot))] += 1;
        }
        let mut seen = 0usize;
        let limit = counts
            .iter()
            .position(|&c| {
                seen += c as usize;
                seen >= need
            })
            .unwrap_or(LENGTH_BUCKETS - 1);
        let mut keys: Vec<(u16, u32, u32)> = Vec::with_capacity(seen);
        first_members(class, usize::MAX, |slot| {
            if bucket(len_of(slot)) <= limit {
                keys.push(key(slot));
            }
        });
        first_pages(&mut keys, need, by);
        keys.into_iter().map(|k| k.2).collect()
    }

    /// BM25F scores of `cand` (which has every word), as (score, slot), in slot order.
    fn scores(&self, cand: &RoaringBitmap, words: &[Arc<TextWord>]) -> Vec<(f32, u32)> {
        let average = self.average_text_len();
        // Each word's weighted frequency per slot, from its field bitmaps (read in order).
        let frequencies: Vec<Vec<u8>> = words
            .iter()
            .map(|w| {
                let mut tf = vec![0u8; self.entries.len()];
                for (set, weight) in w.fields.iter().zip(FIELD_WEIGHTS) {
                    for slot in set {
                        if let Some(t) = tf.get_mut(slot as usize) {
                            *t = t.saturating_add(weight);
                        }
                    }
                }
                tf
            })
            .collect();
        cand.iter()
            .map(|slot| {
                let len = f32::from(self.text_lens.get(slot as usize).copied().unwrap_or(0));
                let score = words
                    .iter()
                    .zip(&frequencies)
                    .map(|(w, tf)| {
                        let tf = f32::from(tf.get(slot as usize).copied().unwrap_or(0));
                        Self::bm25(w.idf, tf, len, average)
                    })
                    .sum();
                (score, slot)
            })
            .collect()
    }

    /// The default order, rebuilt when the index has changed since it was last needed.
    fn order(&self) -> Arc<OrderCache> {
        let mut cache = self.order_cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.as_ref().filter(|c| c.generation == self.generation) {
            return Arc::clone(c);
        }
        let slots: Vec<u32> = self.order.iter().map(|k| k.slot).collect();
        let mut position = vec![u32::MAX; self.entries.len()];
        for (i, slot) in slots.iter().enumerate() {
            if let Some(p) = position.get_mut(*slot as usize) {
                *p = i as u32;
            }
        }
        let fresh = Arc::new(OrderCache {
            generation: self.generation,
            slots,
            position,
            by_length: std::sync::OnceLock::new(),
            length_chunks: std::sync::OnceLock::new(),
            length_rank: std::sync::OnceLock::new(),
            words: Default::default(),
        });
        *cache = Some(Arc::clone(&fresh));
        fresh
    }

    fn spatial(&self) -> Arc<SpatialCache> {
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
    fn near_by_cells<'a>(
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
        // The approximate distance of a match (`None` for a listing that does not match).
        let measure = |pos: usize, inside: bool| -> Option<f64> {
            let &(lat, lon) = spatial.points.get(pos)?;
            if inside {
                Some(flat.distance(lat, lon))
            } else {
                flat.measure(lat, lon)
            }
        };
        struct Run {
            range: std::ops::Range<usize>,
            /// Where its row's words begin in `words`, and the first word's index.
            offset: (usize, usize),
            near: f64,
            far: f64,
            inside: bool,
            count: u32,
        }
        // Every cell the approximate distance could put within the radius (with a margin).
        const EPS: f64 = 1e-9;
        let outer = r + flat.band;
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
                let (near, far) = flat.span(lat, lon);
                if near > outer * (1.0 + EPS) {
                    continue;
                }
                let inside = far < (r - flat.band) * (1.0 - EPS);
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
                        near,
                        far: far.min(outer),
                        inside,
                        count,
                    });
                }
            }
        }
        // How far the page can reach: the nearest cells holding `need` matches hold the
        // page's last one within their farthest point (found to 1/256 of the radius).
        let need = start.saturating_add(len);
        let reach = if need == 0 {
            -1.0
        } else if total <= need {
            f64::INFINITY
        } else {
            const BUCKETS: usize = 256;
            let mut held = [0usize; BUCKETS];
            for run in &runs {
                let b = (run.far / outer * BUCKETS as f64) as usize;
                held[b.min(BUCKETS - 1)] += run.count as usize;
            }
            let mut sum = 0;
            let mut bound = outer;
            for (i, n) in held.iter().enumerate() {
                sum += n;
                if sum >= need {
                    bound = (i + 1) as f64 * outer / BUCKETS as f64;
                    break;
                }
            }
            bound * (1.0 + EPS) + flat.band
        };
        let reached = || runs.iter().filter(|run| run.near <= reach);
        let mut hits: Vec<(f64, u32)> =
            Vec::with_capacity(reached().map(|run| run.count as usize).sum());
        for run in reached() {
            let row_word = |i: usize| words[run.offset.0 + i - run.offset.1];
            each_bit(run.range.clone(), row_word, |pos| {
                if let Some(d) = measure(pos, run.inside).filter(|d| *d <= reach) {
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
    fn candidates(&self, q: &GroupQuery, text: &[Arc<TextWord>], ctx: &QueryContext<'_>) -> Cand {
        let filters = self.filters(q, text, ctx, true);
        self.combine(&filters, ctx)
    }

    /// A query's filters, each a set of listings a result must be in; a near query's grid
    /// cells among them when `radius` is asked.
    fn filters<'a>(
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
    fn any_expired(&self, now: DateTime<Utc>) -> bool {
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
                let d = flat.measure(lat, lon)?;
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

    /// The page `start..start + len` of a near query's matches, given as (approximate
    /// distance, slot): every match the page could hold must be among them (any number
    /// farther may be too), with the exact distance of each result. `band` is the
    /// approximation's error bound, km ([`Flat`]).
    fn nearest_page<'a>(
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
            let reach = hits[need - 1].0 + band;
            let mut kept = need;
            for i in need..hits.len() {
                if hits[i].0 <= reach {
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
    fn len(&self) -> u64 {
        match self {
            Set::Ref(b) => b.len(),
            Set::Own(b) => b.len(),
            Set::Any(parts) => parts.iter().map(|b| b.len()).sum(),
        }
    }

    fn contains(&self, slot: u32) -> bool {
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
struct Filter<'a> {
    set: Set<'a>,
    columns: Option<Vec<&'a FixedBitSet>>,
    /// The keys of its non-empty parts (none for a set computed per query).
    keys: Vec<Key>,
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
enum Cand {
    Column {
        bits: FixedBitSet,
        len: u64,
        walk_cells: bool,
    },
    Bitmap(RoaringBitmap),
}

impl Cand {
    fn len(&self) -> u64 {
        match self {
            Cand::Column { len, .. } => *len,
            Cand::Bitmap(b) => b.len(),
        }
    }

    fn contains(&self, slot: u32) -> bool {
        match self {
            Cand::Column { bits, .. } => bits.contains(slot as usize),
            Cand::Bitmap(b) => b.contains(slot),
        }
    }

    fn iter(&self) -> CandIter<'_> {
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

    fn into_bitmap(self) -> RoaringBitmap {
        match self {
            Cand::Column { bits, .. } => bits.ones().map(|i| i as u32).collect(),
            Cand::Bitmap(b) => b,
        }
    }
}

/// The slots of a [`Cand`], ascending.
enum CandIter<'a> {
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
fn first_members(bitmap: &RoaringBitmap, n: usize, mut each: impl FnMut(u32)) {
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
fn add(b: &mut RoaringBitmap, slot: u32) {
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
fn clear_bit(column: &mut FixedBitSet, slot: u32) {
    if (slot as usize) < column.len() {
        column.remove(slot as usize);
    }
}

/// A bitmap as a bit column.
fn column_of(bitmap: &RoaringBitmap) -> FixedBitSet {
    let mut column = FixedBitSet::with_capacity(bitmap.max().map_or(0, |m| m as usize + 1));
    for slot in bitmap {
        column.insert(slot as usize);
    }
    column
}

/// Sorts the first `n` of `hits` by `by` and drops the rest (a partial sort: a page
/// from a large match set costs a selection, not a full sort).
fn first_pages<T>(hits: &mut Vec<T>, n: usize, by: impl Fn(&T, &T) -> std::cmp::Ordering) {
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

fn result<'a>(
    e: &'a Entry,
    distance: Option<f64>,
    training: Arc<[String]>,
    ctx: &QueryContext<'_>,
) -> GroupView<'a> {
    let capacity_status = ctx.entry_capacity(e);
    GroupView {
        node: &e.seg.id,
        node_name: &e.seg.name,
        id: e.id,
        distance_km: distance.map(|d| (d * 100.0).round() / 100.0),
        capacity_status,
        verified_training: training,
        provenance: ProvenancePath {
            node: &e.seg.id,
            id: e.id,
        },
        listing: PayloadJson(&e.payload),
        envelope: Some(e.envelope.view(&e.payload)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wherever a query can look (the UK's latitudes, every radius allowed, every bearing,
    /// out past the radius), the equirectangular distance is within the band of the
    /// great-circle one, so the band's great-circle check decides every point it could get
    /// wrong.
    #[test]
    fn the_band_bounds_the_approximations_error() {
        const R: f64 = 6371.0088;
        let mut worst: f64 = 0.0;
        for lat in [49.9, 51.5, 53.8, 57.1, 60.9] {
            for r in [0.1, 1.0, 5.0, 20.0, 50.0, 100.0] {
                let p = Point { lat, lon: -1.5 };
                let flat = Flat::new(&p, r);
                for i in 0..720 {
                    let bearing = (f64::from(i) * 0.5).to_radians();
                    for f in [0.3, 0.9, 0.97, 1.0, 1.03, 1.1] {
                        let delta = r * f / R;
                        let (la1, lo1) = (lat.to_radians(), p.lon.to_radians());
                        let la2 = (la1.sin() * delta.cos()
                            + la1.cos() * delta.sin() * bearing.cos())
                        .asin();
                        let lo2 = lo1
                            + (bearing.sin() * delta.sin() * la1.cos())
                                .atan2(delta.cos() - la1.sin() * la2.sin());
                        let q = Point {
                            lat: la2.to_degrees(),
                            lon: lo2.to_degrees(),
                        };
                        let exact = p.distance_km(&q);
                        let approx = flat.distance(q.lat, q.lon);
                        worst = worst.max((approx - exact).abs() / flat.band);
                        assert!(
                            (approx - exact).abs() < flat.band,
                            "at {lat}, {r} km, bearing {i}: {approx} km against {exact} km"
                        );
                    }
                }
            }
        }
        // Not so wide that many points are measured twice (it is about ten times the worst
        // error seen here).
        assert!(
            worst > 0.05,
            "the worst error is only {worst:.3} of the band"
        );
    }

    /// A node's verified state with one listing per (name, description).
    fn node(seed: u8, groups: &[(&str, &str)]) -> NodeData {
        use signpost_protocol::model::NodeDocument;
        use signpost_protocol::{sample, SigningKey, Verified};
        let now = Utc::now();
        let root = SigningKey::from_bytes(&[seed; 32]);
        let id = DidKey::new(root.verifying_key());
        let doc = NodeDocument::first(
            id,
            id,
            format!("Organisation {seed}"),
            "https://signpost.example.org",
            now,
            now + Duration::days(365),
        );
        let listings: Vec<Verified<Listing>> = groups
            .iter()
            .zip(1u128..)
            .map(|(&(name, description), n)| {
                let mut group = sample::group(n as u64, 0, now);
                group.name = name.into();
                group.description = description.into();
                let listing = Uuid::from_u128(u128::from(seed) << 64 | n);
                Verified::sign(sample::listing(id, listing, group, now), &root).expect("signs")
            })
            .collect();
        let snapshot = sample::first_snapshot(id, &listings, vec![], now);
        NodeData {
            id,
            chain: vec![Verified::sign(doc, &root).expect("signs")],
            snapshot: Verified::sign(snapshot, &root).expect("signs"),
            listings: listings.into_iter().map(|l| (l.id, l)).collect(),
            attestations: vec![],
            verified_at: now,
        }
    }

    /// Verified training is known from the moment an attestation's status changes, not
    /// up to a second later: the cache of who holds what is kept only until the first
    /// moment any status could change.
    #[test]
    fn verified_training_ends_when_the_attestation_does() {
        use signpost_protocol::model::{Attestation, RevocationList};
        use signpost_protocol::{SigningKey, Verified};
        let issuer_key = SigningKey::from_bytes(&[9; 32]);
        let issuer = DidKey::new(issuer_key.verifying_key());
        let now = Utc::now();
        let ends = now + Duration::hours(1);
        let mut data = node(1, &[("Tea club", "Tea and talk")]);
        let attestation = Attestation {
            issuer,
            subject: data.id,
            achievement: "trauma-informed-practice".into(),
            level: None,
            valid_from: now - Duration::days(30),
            valid_until: ends,
            serial: "S-1".into(),
        };
        data.attestations = vec![Verified::sign(attestation, &issuer_key).expect("signs")];
        let mut index = Index::default();
        index.install(Prepared::new(Arc::new(data)));
        let list = RevocationList {
            issuer,
            version: 1,
            issued_at: now - Duration::hours(1),
            expires_at: now + Duration::days(7),
            revoked: vec![],
        };
        let revocations = HashMap::from([(
            issuer,
            RevocationView::new(
                Some(Verified::sign(list, &issuer_key).expect("signs")),
                Some(now),
            ),
        )]);
        let issuers = [TrustedIssuer {
            id: issuer,
            name: "Trainer".into(),
            achievements: vec!["trauma-informed-practice".into()],
        }];
        let q = GroupQuery::parse(&signpost_protocol::query::RawGroupQuery {
            verified_training: Some("trauma-informed-practice".into()),
            ..Default::default()
        })
        .expect("a valid query");
        let found = |at: DateTime<Utc>| {
            let ctx = QueryContext {
                now: at,
                capacity_max_age: Duration::days(30),
                skew: Duration::minutes(5),
                issuers: &issuers,
                revocations: &revocations,
                grace: Duration::days(1),
            };
            let page = index.search(&q, &ctx);
            let training = page.contents.first().map(|g| g.verified_training.to_vec());
            (page.contents.len(), training)
        };
        let held = (1, Some(vec!["trauma-informed-practice".to_string()]));
        assert_eq!(found(ends - Duration::minutes(30)), held);
        assert_eq!(found(ends - Duration::milliseconds(1)), held);
        assert_eq!(found(ends), (0, None), "expired at its end");
        // Back before it (a clock set back): the cache made at the end is not used.
        assert_eq!(found(ends - Duration::milliseconds(1)), held);
    }

    /// The names of the groups a text search finds, in order.
    fn found(index: &Index, text: &str) -> Vec<String> {
        let q = GroupQuery::parse(&signpost_protocol::query::RawGroupQuery {
            text: Some(text.into()),
            ..Default::default()
        })
        .expect("a valid query");
        let revocations = HashMap::new();
        let ctx = QueryContext {
            now: Utc::now(),
            capacity_max_age: Duration::days(30),
            skew: Duration::minutes(5),
            issuers: &[],
            revocations: &revocations,
            grace: Duration::zero(),
        };
        index
            .search(&q, &ctx)
            .contents
            .iter()
            .map(|g| {
                serde_json::from_slice::<Listing>(g.listing.0)
                    .expect("a listing")
                    .group
                    .name
            })
            .collect()
    }

    #[test]
    fn a_slot_is_added_past_the_end_given_again_or_into_a_dense_bitmap() {
        let mut sparse = RoaringBitmap::new();
        for slot in [5, 9, 70_000] {
            add(&mut sparse, slot);
        }
        // A slot given again (below the largest held), and one already held.
        add(&mut sparse, 7);
        add(&mut sparse, 9);
        assert_eq!(sparse.iter().collect::<Vec<_>>(), [5, 7, 9, 70_000]);
        let mut dense: RoaringBitmap = (0..10_000).step_by(2).collect();
        for slot in [20_001, 10_001, 3, 4] {
            add(&mut dense, slot);
        }
        assert_eq!(dense.len(), 5_000 + 3);
        assert!([20_001, 10_001, 3, 4].iter().all(|&s| dense.contains(s)));
    }

    /// Words are held by number: a word a node stops using is forgotten, its number given to
    /// the next new word, and no search finds the old word's listings under the new one.
    #[test]
    fn a_word_no_longer_used_is_forgotten_and_its_number_reused_cleanly() {
        let mut index = Index::default();
        index.install(Prepared::new(Arc::new(node(
            1,
            &[
                ("Zebra walk", "A striped zebra stroll"),
                ("Tea club", "Tea and talk"),
            ],
        ))));
        assert_eq!(found(&index, "zebra"), ["Zebra walk"]);
        assert_eq!(found(&index, "zeb"), ["Zebra walk"]);
        let words = index.word_ids.len();
        // The node now publishes other words.
        index.install(Prepared::new(Arc::new(node(
            1,
            &[("Yak club", "Yak herding"), ("Tea club", "Tea and talk")],
        ))));
        assert!(found(&index, "zebra").is_empty());
        assert!(found(&index, "striped").is_empty());
        assert_eq!(found(&index, "yak"), ["Yak club"]);
        assert!(!index.word_ids.contains_key("zebra") && !index.words.contains_key("zebra"));
        assert!(
            !index.free_word_ids.is_empty(),
            "the old words' numbers are free"
        );
        // New words take the freed numbers; the old words' listings do not come back.
        index.install(Prepared::new(Arc::new(node(
            2,
            &[("Quagga walk", "Quagga and okapi rambles")],
        ))));
        assert_eq!(found(&index, "quagga"), ["Quagga walk"]);
        assert_eq!(found(&index, "okapi"), ["Quagga walk"]);
        assert_eq!(found(&index, "walk"), ["Quagga walk"]);
        assert_eq!(found(&index, "yak"), ["Yak club"]);
        assert_eq!(found(&index, "tea"), ["Tea club"]);
        assert!(found(&index, "zebra").is_empty());
        assert!(index.word_ids.len() <= words + 2);
        // Every number held is one word's, and every word listed has one.
        let mut ids: Vec<u32> = index.word_ids.values().copied().collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), index.word_ids.len());
        for (w, (id, fields)) in &index.words {
            assert_eq!(index.word_ids.get(w), Some(id), "{w}");
            assert_ne!(*fields, 0, "{w} has a bitmap");
        }
    }
}
