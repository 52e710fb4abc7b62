//! The in-memory index: one segment per node, rebuilt from verified [`NodeData`] only.
//! Queries scan compact per-listing facts (bit masks, coordinates, schedules) and a
//! per-segment word index; the response embeds the original signed bytes as they were
//! received, never re-serialised.
//!
//! This module holds the index's state ([`Index`], its entries and segments); each part of
//! its work is a module of its own:
//! - `install`: a node's entries prepared outside the lock, installed and removed under it;
//! - `keys`: the bitmaps a listing is in, and which are also bit columns;
//! - `candidates`: a query's filters, intersected into candidates;
//! - `rank`: ranked text (BM25F) and its selection of the best matches;
//! - `spatial`: near queries, in the spatial order of fine grid cells;
//! - `order`: the default order and the shortest-text order;
//! - `training`: who holds a verified attestation now;
//! - `query`: a query's window of results, and the pages and lookups built on it;
//! - `view`: results as served.

mod candidates;
mod install;
mod keys;
mod order;
mod query;
mod rank;
mod spatial;
#[cfg(test)]
mod tests;
mod training;
mod view;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use fixedbitset::FixedBitSet;
use roaring::{MultiOps as _, RoaringBitmap};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use signpost_protocol::model::{Attestation, Group, Interpreting, Listing};
use signpost_protocol::policy::{
    attestation_status_until, check_attestation, AttestationStatus, Check, RevocationView,
    TrustedIssuer,
};
use signpost_protocol::query::{GroupQuery, InterpretingWanted, Point};
pub use signpost_protocol::wire::{CapacityStatus, Pagination, SearchCentre};
use signpost_protocol::{taxonomy, text, DidKey, EnvelopeRef};
use uuid::Uuid;

use crate::verify::NodeData;

use candidates::*;
pub use install::Prepared;
use keys::*;
use order::*;
use query::*;
pub use rank::RANK_MAPPED;
use rank::*;
use spatial::*;
use training::*;
pub use view::*;

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

/// A node's listings by their derived UUIDs (see [`Segment::derived_ids`]).
pub type DerivedIds = HashMap<Uuid, (Uuid, crate::oruk::vocab::Named), foldhash::fast::RandomState>;

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
    /// Its listings by the UUIDs Open Referral UK and FHIR name them with, and what each
    /// names (derived from the node and the listing, by `oruk::vocab`): made on
    /// the first lookup by such a UUID, kept as long as the segment.
    pub derived_ids: std::sync::OnceLock<DerivedIds>,
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
            .map(|a| self.check(a, &data.id))
            .collect()
    }

    /// One attestation's status and checks, presented by `presenter`.
    fn check(&self, a: &Attestation, presenter: &DidKey) -> (AttestationStatus, Vec<Check>) {
        check_attestation(
            a,
            presenter,
            self.issuers,
            self.revocations.get(&a.issuer),
            self.grace,
            self.now,
        )
    }

    /// Achievements the node presents a fully verified attestation for.
    pub fn verified_training(&self, data: &NodeData) -> Vec<String> {
        let mut out: Vec<String> = data
            .attestations
            .iter()
            .filter(|a| self.check(a, &data.id).0 == AttestationStatus::Verified)
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

/// One match: the node's segment, the verified listing, and its distance when asked.
pub type Hit<'a> = (
    &'a Arc<Segment>,
    &'a signpost_protocol::Verified<Listing>,
    Option<f64>,
);

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
    /// Every node's derived UUIDs in one map (see [`crate::oruk::vocab::named_listing`]).
    derived_cache: std::sync::Mutex<Option<Arc<crate::oruk::vocab::DerivedDirectory>>>,
}

impl Index {
    /// The directory-wide map of derived UUIDs last made, whatever generation it was made
    /// at.
    pub fn derived_directory(&self) -> Option<Arc<crate::oruk::vocab::DerivedDirectory>> {
        self.derived_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn keep_derived_directory(&self, made: Arc<crate::oruk::vocab::DerivedDirectory>) {
        *self.derived_cache.lock().unwrap_or_else(|e| e.into_inner()) = Some(made);
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
}
