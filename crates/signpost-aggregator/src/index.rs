//! The in-memory index: one segment per node, rebuilt from verified [`NodeData`] only.
//! Queries scan compact per-listing facts (bit masks, coordinates, schedules) and a
//! per-segment word index; the response embeds the original signed bytes as they were
//! received, never re-serialised.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use signpost_protocol::model::{Interpreting, Listing};
use signpost_protocol::policy::{
    check_attestation, AttestationStatus, Check, RevocationView, TrustedIssuer,
};
use signpost_protocol::query::{GroupQuery, InterpretingWanted, Point};
use signpost_protocol::{taxonomy, text, DidKey, Envelope};
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

fn mask(vocab: &[taxonomy::Term], ids: &[String]) -> u32 {
    ids.iter()
        .filter_map(|id| vocab.iter().position(|t| t.id == id))
        .fold(0, |m, i| m | (1u32 << (i % 32)))
}

/// The facts a query tests, per listing.
struct Entry {
    id: Uuid,
    payload: Box<RawValue>,
    envelope: Box<RawValue>,
    categories: u32,
    capabilities: u32,
    flags: u16,
    languages: Vec<Box<str>>,
    point: Option<Point>,
    accepting: bool,
    places: Option<u32>,
    capacity_updated_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    sessions: Vec<(u8, u16, u16)>,
    age: (Option<u8>, Option<u8>),
}

impl Entry {
    fn new(listing: &Listing, env: &Envelope) -> Option<Self> {
        let g = &listing.group;
        let payload_bytes = env.payload_bytes().ok()?;
        let payload = RawValue::from_string(String::from_utf8(payload_bytes).ok()?).ok()?;
        let envelope = serde_json::value::to_raw_value(env).ok()?;
        let a = &g.access;
        let mut flags = 0;
        let mut set = |cond: bool, bit: u16| {
            if cond {
                flags |= bit;
            }
        };
        set(a.cost.free, FREE);
        set(a.childcare, CHILDCARE);
        set(a.interpreting != Interpreting::None, INTERP_ANY);
        set(a.interpreting == Interpreting::Professional, INTERP_PRO);
        set(a.self_referral, SELF_REFERRAL);
        set(!a.gp_registration_required, NO_GP);
        set(!a.immigration_status_asked, NO_STATUS);
        set(g.schedule.iter().any(|s| s.is_evening()), EVENING);
        set(g.safeguarding.designated_lead, LEAD);
        Some(Self {
            id: listing.id,
            payload,
            envelope,
            categories: mask(taxonomy::CATEGORIES, &g.categories),
            capabilities: mask(
                taxonomy::SAFEGUARDING_CAPABILITIES,
                &g.safeguarding.capabilities,
            ),
            flags,
            languages: g
                .languages
                .iter()
                .map(|l| l.to_ascii_lowercase().into_boxed_str())
                .collect(),
            point: g.location.as_ref().map(|l| Point {
                lat: l.lat,
                lon: l.lon,
            }),
            accepting: g.capacity.accepting_referrals,
            places: g.capacity.places_available,
            capacity_updated_at: g.capacity.updated_at,
            expires_at: listing.expires_at,
            sessions: g
                .schedule
                .iter()
                .map(|s| (s.day as u8, s.opens.minutes(), s.closes.minutes()))
                .collect(),
            age: g.age_range.map(|r| (r.min, r.max)).unwrap_or((None, None)),
        })
    }
}

/// One node's verified data and its query structures.
pub struct Segment {
    pub data: Arc<NodeData>,
    pub name: String,
    entries: Vec<Entry>,
    /// Folded word -> entries containing it (ascending).
    words: BTreeMap<String, Vec<u32>>,
    by_id: HashMap<Uuid, u32>,
}

impl Segment {
    pub fn new(data: Arc<NodeData>) -> Self {
        let name = data.document().map(|d| d.name.clone()).unwrap_or_default();
        let mut listings: Vec<_> = data.listings.values().collect();
        listings.sort_by_cached_key(|l| (text::fold(&l.group.name), l.id));
        let mut entries = Vec::with_capacity(listings.len());
        let mut words: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for l in listings {
            let Some(entry) = Entry::new(l.payload(), l.envelope()) else {
                continue;
            };
            let idx = entries.len() as u32;
            let mut seen = HashSet::new();
            for w in text::words(&l.group.name)
                .into_iter()
                .chain(text::words(&l.group.description))
            {
                if seen.insert(w.clone()) {
                    words.entry(w).or_default().push(idx);
                }
            }
            entries.push(entry);
        }
        let by_id = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id, i as u32))
            .collect();
        Self {
            data,
            name,
            entries,
            words,
            by_id,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries whose text contains every query word (as a word prefix).
    fn text_candidates(&self, words: &[String]) -> Option<Vec<u32>> {
        if words.is_empty() {
            return None;
        }
        let mut acc: Option<Vec<u32>> = None;
        for w in words {
            let mut hits: Vec<u32> = self
                .words
                .range(w.clone()..)
                .take_while(|(k, _)| k.starts_with(w.as_str()))
                .flat_map(|(_, v)| v.iter().copied())
                .collect();
            hits.sort_unstable();
            hits.dedup();
            acc = Some(match acc {
                None => hits,
                Some(prev) => prev
                    .into_iter()
                    .filter(|i| hits.binary_search(i).is_ok())
                    .collect(),
            });
            if acc.as_ref().is_some_and(Vec::is_empty) {
                break;
            }
        }
        acc
    }
}

/// Everything a query needs besides the index.
pub struct QueryContext<'a> {
    pub now: DateTime<Utc>,
    pub capacity_max_age: Duration,
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

    fn capacity_fresh(&self, updated: DateTime<Utc>) -> bool {
        self.now - updated <= self.capacity_max_age
    }
}

/// Capacity as a referrer should read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CapacityStatus {
    Accepting,
    NotAccepting,
    /// Not confirmed within the freshness policy: never shown as accepting.
    Unknown,
}

/// One result of `GET /v1/groups`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupResult<'a> {
    /// The publishing organisation's id (verify the envelope with its node document).
    #[schema(value_type = String)]
    pub node: &'a DidKey,
    pub node_name: &'a str,
    pub id: Uuid,
    /// Distance from `near`, km (only with `near`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    pub capacity_status: CapacityStatus,
    /// Achievements with an attestation that passes every check.
    pub verified_training: Vec<String>,
    /// Where the full provenance is: every envelope and every check's result.
    pub provenance: String,
    /// The signed listing payload, exactly as signed.
    #[schema(value_type = Listing)]
    pub listing: &'a RawValue,
    /// The original signed envelope, as received from the node.
    #[schema(value_type = Envelope)]
    pub envelope: &'a RawValue,
}

/// A page of results, paginated as HSDS does.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupsPage<'a> {
    pub total_items: usize,
    pub total_pages: usize,
    pub page_number: usize,
    pub size: usize,
    pub first_page: bool,
    pub last_page: bool,
    pub empty: bool,
    pub contents: Vec<GroupResult<'a>>,
}

/// The whole index: segments in node-id order.
#[derive(Default)]
pub struct Index {
    segments: BTreeMap<String, Arc<Segment>>,
}

struct Hit<'a> {
    seg: &'a Segment,
    entry: &'a Entry,
    distance: Option<f64>,
}

impl Index {
    /// A new index with `segment` replacing that node's previous one (copy-on-write).
    pub fn with(&self, segment: Segment) -> Self {
        let mut segments = self.segments.clone();
        segments.insert(segment.data.id.to_string(), Arc::new(segment));
        Self { segments }
    }

    pub fn segment(&self, node: &DidKey) -> Option<&Arc<Segment>> {
        self.segments.get(&node.to_string())
    }

    pub fn segments(&self) -> impl Iterator<Item = &Arc<Segment>> {
        self.segments.values()
    }

    pub fn listing_count(&self) -> usize {
        self.segments.values().map(|s| s.len()).sum()
    }

    /// Runs a query; returns the page.
    pub fn search<'a>(&'a self, q: &GroupQuery, ctx: &QueryContext<'_>) -> GroupsPage<'a> {
        let cats = mask(taxonomy::CATEGORIES, &q.categories);
        let caps = mask(taxonomy::SAFEGUARDING_CAPABILITIES, &q.safeguarding);
        let mut flags = 0u16;
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
                flags |= bit;
            }
        }
        let languages: Vec<String> = q.languages.iter().map(|l| l.to_ascii_lowercase()).collect();
        // A bounding box first, then the exact distance.
        let bbox = q.near.map(|(p, r)| {
            let dlat = r / 111.0;
            let dlon = r / (111.0 * p.lat.to_radians().cos().max(0.01));
            (p, r, dlat, dlon)
        });

        let matches = |seg: &Segment, e: &Entry| -> Option<Option<f64>> {
            if e.expires_at <= ctx.now
                || e.flags & flags != flags
                || (cats != 0 && e.categories & cats == 0)
                || e.capabilities & caps != caps
            {
                return None;
            }
            let _ = seg;
            if (q.accepting || q.min_places.is_some()) && !ctx.capacity_fresh(e.capacity_updated_at)
            {
                return None;
            }
            if q.accepting && !e.accepting {
                return None;
            }
            if let Some(n) = q.min_places {
                if !e.accepting || e.places.unwrap_or(0) < n {
                    return None;
                }
            }
            if !languages.is_empty()
                && !e
                    .languages
                    .iter()
                    .any(|l| languages.iter().any(|w| language_matches(l, w)))
            {
                return None;
            }
            if q.day.is_some() || q.time.is_some() {
                let day = q.day.map(|d| d as u8);
                let t = q.time.map(|t| t.minutes());
                if !e.sessions.iter().any(|&(d, o, c)| {
                    day.is_none_or(|x| x == d) && t.is_none_or(|t| o <= t && t < c)
                }) {
                    return None;
                }
            }
            if let Some(age) = q.age {
                if e.age.0.is_some_and(|m| age < m) || e.age.1.is_some_and(|m| age > m) {
                    return None;
                }
            }
            match bbox {
                None => Some(None),
                Some((p, r, dlat, dlon)) => {
                    let pt = e.point?;
                    if (pt.lat - p.lat).abs() > dlat || (pt.lon - p.lon).abs() > dlon {
                        return None;
                    }
                    let d = p.distance_km(&pt);
                    (d <= r).then_some(Some(d))
                }
            }
        };

        let mut hits: Vec<Hit<'a>> = Vec::new();
        for seg in self.segments.values() {
            if seg.data.snapshot.expires_at <= ctx.now {
                continue; // fail closed: an expired snapshot is not current
            }
            if let Some(a) = &q.verified_training {
                if !ctx.verified_training(&seg.data).contains(a) {
                    continue;
                }
            }
            let mut push = |i: usize| {
                let e = &seg.entries[i];
                if let Some(distance) = matches(seg, e) {
                    hits.push(Hit {
                        seg,
                        entry: e,
                        distance,
                    });
                }
            };
            match seg.text_candidates(&q.words) {
                Some(candidates) => candidates.into_iter().for_each(|i| push(i as usize)),
                None => (0..seg.entries.len()).for_each(&mut push),
            }
        }
        if q.near.is_some() {
            hits.sort_by(|a, b| {
                a.distance
                    .unwrap_or(0.0)
                    .total_cmp(&b.distance.unwrap_or(0.0))
            });
        }

        let total_items = hits.len();
        let total_pages = total_items.div_ceil(q.per_page);
        let start = (q.page - 1).saturating_mul(q.per_page).min(total_items);
        let end = (start + q.per_page).min(total_items);
        let mut training_cache: HashMap<*const Segment, Vec<String>> = HashMap::new();
        let contents: Vec<GroupResult<'a>> = hits
            .drain(start..end)
            .map(|h| {
                let training = training_cache
                    .entry(h.seg as *const Segment)
                    .or_insert_with(|| ctx.verified_training(&h.seg.data))
                    .clone();
                result(h.seg, h.entry, h.distance, training, ctx)
            })
            .collect();
        GroupsPage {
            total_items,
            total_pages,
            page_number: q.page,
            size: contents.len(),
            first_page: q.page == 1,
            last_page: q.page >= total_pages,
            empty: contents.is_empty(),
            contents,
        }
    }

    /// One listing as a result, by node and id.
    pub fn get<'a>(
        &'a self,
        node: &DidKey,
        id: &Uuid,
        ctx: &QueryContext<'_>,
    ) -> Option<GroupResult<'a>> {
        let seg = self.segment(node)?;
        let entry = seg.entries.get(*seg.by_id.get(id)? as usize)?;
        if entry.expires_at <= ctx.now || seg.data.snapshot.expires_at <= ctx.now {
            return None;
        }
        Some(result(
            seg,
            entry,
            None,
            ctx.verified_training(&seg.data),
            ctx,
        ))
    }
}

fn language_matches(have: &str, want: &str) -> bool {
    have == want || (have.starts_with(want) && have.as_bytes().get(want.len()) == Some(&b'-'))
}

fn result<'a>(
    seg: &'a Segment,
    e: &'a Entry,
    distance: Option<f64>,
    training: Vec<String>,
    ctx: &QueryContext<'_>,
) -> GroupResult<'a> {
    let capacity_status = if !ctx.capacity_fresh(e.capacity_updated_at) {
        CapacityStatus::Unknown
    } else if e.accepting {
        CapacityStatus::Accepting
    } else {
        CapacityStatus::NotAccepting
    };
    GroupResult {
        node: &seg.data.id,
        node_name: &seg.name,
        id: e.id,
        distance_km: distance.map(|d| (d * 100.0).round() / 100.0),
        capacity_status,
        verified_training: training,
        provenance: format!("/v1/groups/{}/{}", seg.data.id, e.id),
        listing: &e.payload,
        envelope: &e.envelope,
    }
}
