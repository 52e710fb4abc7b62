//! The bitmaps a listing is in: taxonomy facts, access flags, languages, days and coarse grid
//! cells ([`Key`]), and which of them are also kept as plain bit columns.

use super::*;

// The access facts, each a bit of `Key::Flag`.
pub(super) const FREE: u16 = 1;
pub(super) const CHILDCARE: u16 = 1 << 1;
pub(super) const INTERP_ANY: u16 = 1 << 2;
pub(super) const INTERP_PRO: u16 = 1 << 3;
pub(super) const SELF_REFERRAL: u16 = 1 << 4;
pub(super) const NO_GP: u16 = 1 << 5;
pub(super) const NO_STATUS: u16 = 1 << 6;
pub(super) const EVENING: u16 = 1 << 7;
pub(super) const LEAD: u16 = 1 << 8;

/// A bitmap of the index.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Key {
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
impl Key {
    /// Whether its bitmap is also kept as a plain bit column, given its size and the slots
    /// held. Intersecting columns is a pass over machine words, where roaring's mixed
    /// containers made half of a near query's time (converting results to arrays, merging
    /// arrays). The facts of the taxonomy and the access flags, a few dozen, always have one;
    /// languages (open-ended tags) once a few listings in a thousand speak them; words and
    /// grid cells (thousands, mostly sparse) never.
    pub(super) fn wants_column(&self, len: u64, slots: u64) -> bool {
        match self {
            Key::Word(..) | Key::Cell(..) => false,
            Key::Language(_) => len.saturating_mul(LANGUAGE_COLUMN_SHARE) >= slots,
            _ => true,
        }
    }

    pub(super) fn keeps_column(&self, len: u64, slots: u64) -> bool {
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
pub(super) fn radius_cells(
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

/// The bitmaps a listing is in, but for its words ([`text_terms`]).
pub(super) fn keys_of(listing: &Listing) -> Vec<Key> {
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
