//! Signpost's vocabularies as HSDS taxonomies, and the stable UUIDv5 ids of every HSDS
//! object derived from a listing (so ids agree across crawls, restarts and aggregators).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use signpost_protocol::model::Weekday;
use signpost_protocol::query::{Fact, Vocabulary};
use signpost_protocol::taxonomy::{self, Term};
use uuid::Uuid;

use signpost_protocol::DidKey;

use crate::index::{DerivedIds, Index, Segment};

/// The namespace of every Signpost UUIDv5.
pub const NAMESPACE: Uuid = Uuid::from_u128(0x5a1e_7c1d_4b0e_4c6f_9f53_2d1c_8e0a_77b1);

/// The Signpost UUIDv5 of `name` (RFC 9562: the SHA-1 of the namespace and the name), hashed
/// with the CPU's SHA instructions where it has them: a full service derives about 25, and
/// the uuid crate's portable SHA-1 was the largest part of rendering one.
pub fn uuid5(name: &str) -> Uuid {
    use sha1::{Digest as _, Sha1};
    let hash = Sha1::new()
        .chain_update(NAMESPACE.as_bytes())
        .chain_update(name.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

/// [`uuid5`] of the name `args` write, written in a buffer the thread keeps (instead of a
/// string allocated and freed for each id).
pub fn uuid5_fmt(args: std::fmt::Arguments<'_>) -> Uuid {
    use std::fmt::Write as _;
    thread_local! {
        static NAME: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    NAME.with(|cell| match cell.try_borrow_mut() {
        Ok(mut name) => {
            name.clear();
            // Writing to a String fails only when a value's Display does, which none here do.
            let _ = name.write_fmt(args);
            uuid5(&name)
        }
        Err(_) => uuid5(&args.to_string()),
    })
}

/// The vocabularies published as HSDS taxonomies.
pub const VOCABULARIES: &[(&str, &str, &str)] = &[
    (
        "signpost-categories",
        "Signpost categories",
        "Kinds of community group for social prescribing",
    ),
    (
        "signpost-safeguarding",
        "Signpost safeguarding capabilities",
        "Complex needs a group is equipped to hold safely",
    ),
    (
        "signpost-staff-checks",
        "Signpost staff checks",
        "Checks carried out on staff and volunteers",
    ),
    (
        "signpost-training",
        "Signpost verified training",
        "Achievements attested by a trusted training provider or regulator, verified",
    ),
    (
        "signpost-access",
        "Signpost access and capacity",
        "Capacity and the access facts that decide whether a person can attend",
    ),
];

/// Access and capacity facts HSDS has no field for, as terms of `signpost-access`.
pub const ACCESS_TERMS: &[Term] = &[
    Term { id: "accepting-referrals", label: "Accepting referrals", description: "Capacity confirmed recently and accepting referrals; `value` holds places available" },
    Term { id: "capacity-unknown", label: "Capacity unknown", description: "Capacity not confirmed within the freshness policy" },
    Term { id: "not-accepting-referrals", label: "Not accepting referrals", description: "Capacity confirmed recently and not accepting referrals" },
    Term { id: "free", label: "Free", description: "Free to attend" },
    Term { id: "childcare", label: "Childcare", description: "Childcare offered" },
    Term { id: "travel-paid", label: "Travel paid", description: "Travel costs paid or reimbursed" },
    Term { id: "interpreting-professional", label: "Professional interpreting", description: "Professional interpreters available" },
    Term { id: "interpreting-volunteer", label: "Volunteer interpreting", description: "Volunteer interpreters available" },
    Term { id: "interpreter-outside-community", label: "Interpreter from outside the community", description: "An interpreter from outside the person's community on request" },
    Term { id: "self-referral", label: "Self-referral", description: "People can refer themselves" },
    Term { id: "no-gp-registration", label: "No GP registration needed", description: "GP registration is not required" },
    Term { id: "no-status-check", label: "No immigration-status check", description: "Immigration status is not asked" },
    Term { id: "no-data-shared", label: "No data shared with authorities", description: "The organisation's signed statement that no data is shared with the immigration authorities" },
    Term { id: "designated-safeguarding-lead", label: "Designated safeguarding lead", description: "Has a designated safeguarding lead" },
    Term { id: "written-safeguarding-policy", label: "Written safeguarding policy", description: "Has a written safeguarding policy" },
    Term { id: "assessment-required", label: "Assessment first", description: "An assessment is needed before joining" },
    Term { id: "volunteering", label: "Volunteering offered", description: "Volunteering opportunities offered" },
];

pub fn vocabulary(name: &str) -> &'static [Term] {
    match name {
        "signpost-categories" => taxonomy::CATEGORIES,
        "signpost-safeguarding" => taxonomy::SAFEGUARDING_CAPABILITIES,
        "signpost-staff-checks" => taxonomy::STAFF_CHECKS,
        "signpost-training" => taxonomy::ACHIEVEMENTS,
        _ => ACCESS_TERMS,
    }
}

/// One vocabulary's taxonomy id and its terms' ids.
struct VocabularyIds {
    taxonomy: Uuid,
    terms: HashMap<&'static str, Uuid, foldhash::fast::FixedState>,
}

/// The ids of every published taxonomy and term, derived once: a full service names a
/// dozen terms or more, each a SHA-1 to derive, on every request.
static VOCABULARY_IDS: LazyLock<HashMap<&'static str, VocabularyIds, foldhash::fast::FixedState>> =
    LazyLock::new(|| {
        VOCABULARIES
            .iter()
            .map(|&(name, ..)| {
                let terms = vocabulary(name)
                    .iter()
                    .map(|t| (t.id, derive_term_id(name, t.id)))
                    .collect();
                (
                    name,
                    VocabularyIds {
                        taxonomy: derive_taxonomy_id(name),
                        terms,
                    },
                )
            })
            .collect()
    });

fn derive_taxonomy_id(vocab: &str) -> Uuid {
    uuid5_fmt(format_args!("taxonomy/{vocab}"))
}

fn derive_term_id(vocab: &str, term: &str) -> Uuid {
    uuid5_fmt(format_args!("term/{vocab}/{term}"))
}

pub fn taxonomy_id(vocab: &str) -> Uuid {
    VOCABULARY_IDS
        .get(vocab)
        .map_or_else(|| derive_taxonomy_id(vocab), |v| v.taxonomy)
}

pub fn term_id(vocab: &str, term: &str) -> Uuid {
    VOCABULARY_IDS
        .get(vocab)
        .and_then(|v| v.terms.get(term))
        .copied()
        .unwrap_or_else(|| derive_term_id(vocab, term))
}

pub fn all_terms() -> Vec<(&'static str, &'static Term)> {
    VOCABULARIES
        .iter()
        .flat_map(|v| vocabulary(v.0).iter().map(move |t| (v.0, t)))
        .collect()
}

/// The ids of one listing's HSDS objects.
pub struct Ids {
    pub service: Uuid,
    pub organization: Uuid,
    pub location: Uuid,
    pub service_at_location: Uuid,
}

/// What a UUID derived from a listing names: its service (also its FHIR HealthcareService)
/// or its service at a location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Service,
    ServiceAtLocation,
}

/// A node's listings by their derived UUIDs: derived once a segment, on the first lookup
/// that needs them, and kept as long as it.
fn derived(seg: &Segment) -> &DerivedIds {
    seg.derived_ids.get_or_init(|| {
        let mut by = HashMap::with_capacity_and_hasher(
            2 * seg.data.listings.len(),
            foldhash::fast::RandomState::default(),
        );
        for listing in seg.data.listings.keys() {
            by.insert(service_id(&seg.id, listing), (*listing, Named::Service));
            by.insert(
                service_at_location_id(&seg.id, listing),
                (*listing, Named::ServiceAtLocation),
            );
        }
        by
    })
}

/// Every node's derived UUIDs in one map, as of an index generation: a lookup is one probe,
/// where one a node cost 5.6 us a request at 1,000 nodes.
pub struct DerivedDirectory {
    generation: u64,
    nodes: Vec<DidKey>,
    /// What each UUID names: its node (a place in `nodes`), the listing, and as what.
    ids: HashMap<Uuid, (u32, Uuid, Named), foldhash::fast::RandomState>,
}

impl DerivedDirectory {
    fn make(index: &Index) -> Self {
        let mut nodes = Vec::new();
        let mut ids = HashMap::with_capacity_and_hasher(
            2 * index.listing_count(),
            foldhash::fast::RandomState::default(),
        );
        for seg in index.segments() {
            let Ok(n) = u32::try_from(nodes.len()) else {
                break;
            };
            nodes.push(seg.data.id);
            ids.extend(
                derived(seg)
                    .iter()
                    .map(|(id, &(listing, named))| (*id, (n, listing, named))),
            );
        }
        Self {
            generation: index.generation(),
            nodes,
            ids,
        }
    }

    /// `Some` answer when this map holds `id`, `None` when it does not but is not of the
    /// index's generation (so the answer may be missing from it).
    fn answer(&self, index: &Index, id: &Uuid, named: Named) -> Option<Option<(DidKey, Uuid)>> {
        match self.ids.get(id) {
            Some(&(n, listing, kind)) => Some(
                (kind == named)
                    .then(|| Some((*self.nodes.get(n as usize)?, listing)))
                    .flatten(),
            ),
            None if self.generation == index.generation() => Some(None),
            None => None,
        }
    }
}

/// The node and listing `id` names as `named`, if any in `index` (the caller checks that
/// the node still publishes it). A UUID names one node's listing for good (it is derived
/// from both), so the map last made answers whatever has changed since; an id it lacks
/// makes it again, when the index has changed.
pub fn named_listing(index: &Index, id: &Uuid, named: Named) -> Option<(DidKey, Uuid)> {
    if let Some(answer) = index
        .derived_directory()
        .and_then(|d| d.answer(index, id, named))
    {
        return answer;
    }
    let made = Arc::new(DerivedDirectory::make(index));
    let answer = made.answer(index, id, named).flatten();
    index.keep_derived_directory(made);
    answer
}

/// A listing's service id, from its node and its id: two organisations' listings never
/// share one, whatever ids they give them. (FHIR's HealthcareService ids are these too.)
pub fn service_id(node: &str, listing: &Uuid) -> Uuid {
    uuid5_fmt(format_args!("{node}/{listing}/service"))
}

/// A listing's service_at_location id, from its node and its id.
pub fn service_at_location_id(node: &str, listing: &Uuid) -> Uuid {
    uuid5_fmt(format_args!("{node}/{listing}/service_at_location"))
}

/// The ids of one listing's HSDS objects, from its node and its id.
pub fn ids(node: &str, listing: &Uuid) -> Ids {
    Ids {
        service: service_id(node, listing),
        organization: uuid5_fmt(format_args!("{node}/organization")),
        location: uuid5_fmt(format_args!("{node}/{listing}/location")),
        service_at_location: service_at_location_id(node, listing),
    }
}

pub fn byday(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

/// A vocabulary's name as published.
pub fn vocabulary_of(name: &str) -> Option<Vocabulary> {
    Some(match name {
        "signpost-categories" => Vocabulary::Categories,
        "signpost-safeguarding" => Vocabulary::Safeguarding,
        "signpost-staff-checks" => Vocabulary::StaffChecks,
        "signpost-training" => Vocabulary::Training,
        "signpost-access" => Vocabulary::Access,
        _ => return None,
    })
}

/// The `signpost-access` term for each fact, in the order services list them.
pub const FACTS: &[(&str, Fact)] = &[
    ("accepting-referrals", Fact::AcceptingReferrals),
    ("capacity-unknown", Fact::CapacityUnknown),
    ("not-accepting-referrals", Fact::NotAcceptingReferrals),
    ("free", Fact::Free),
    ("childcare", Fact::Childcare),
    ("travel-paid", Fact::TravelPaid),
    ("interpreting-professional", Fact::InterpretingProfessional),
    ("interpreting-volunteer", Fact::InterpretingVolunteer),
    (
        "interpreter-outside-community",
        Fact::InterpreterOutsideCommunity,
    ),
    ("self-referral", Fact::SelfReferral),
    ("no-gp-registration", Fact::NoGpRegistration),
    ("no-status-check", Fact::NoStatusCheck),
    ("no-data-shared", Fact::NoDataShared),
    (
        "designated-safeguarding-lead",
        Fact::DesignatedSafeguardingLead,
    ),
    (
        "written-safeguarding-policy",
        Fact::WrittenSafeguardingPolicy,
    ),
    ("assessment-required", Fact::AssessmentRequired),
    ("volunteering", Fact::Volunteering),
];

/// A term of a vocabulary, by id.
pub fn find(vocab: &'static [Term], id: &str) -> Option<&'static Term> {
    vocab.iter().find(|t| t.id == id)
}

/// A weekday from ORUK's `MO`..`SU` or a name (`monday`, `mon`).
pub fn parse_day(s: &str) -> Option<Weekday> {
    let upper = s.to_ascii_uppercase();
    Weekday::ALL
        .into_iter()
        .find(|d| byday(*d) == upper)
        .or_else(|| s.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid5_is_rfc_9562s() {
        for name in [
            "",
            "term/signpost-categories/esol",
            &"x".repeat(200),
            "ünïcödé/名前",
        ] {
            assert_eq!(
                uuid5(name),
                Uuid::new_v5(&NAMESPACE, name.as_bytes()),
                "{name}"
            );
        }
        let listing = Uuid::from_u128(7);
        assert_eq!(
            uuid5_fmt(format_args!("did:key:z6Mk/{listing}/service")),
            Uuid::new_v5(
                &NAMESPACE,
                format!("did:key:z6Mk/{listing}/service").as_bytes()
            )
        );
    }

    #[test]
    fn ids_read_from_the_table_are_the_derived_ones() {
        for (vocab, t) in all_terms() {
            assert_eq!(
                term_id(vocab, t.id),
                derive_term_id(vocab, t.id),
                "{vocab} {}",
                t.id
            );
        }
        for (vocab, ..) in VOCABULARIES {
            assert_eq!(taxonomy_id(vocab), derive_taxonomy_id(vocab));
        }
        // As published: the same ids whatever the release.
        assert_eq!(
            term_id("signpost-categories", "esol"),
            uuid5("term/signpost-categories/esol")
        );
        assert_eq!(term_id("elsewhere", "x"), uuid5("term/elsewhere/x"));
    }

    #[test]
    fn every_access_term_has_a_fact_and_back() {
        for t in ACCESS_TERMS {
            assert!(FACTS.iter().any(|(id, _)| *id == t.id), "{}", t.id);
        }
        for (id, _) in FACTS {
            assert!(find(ACCESS_TERMS, id).is_some(), "{id}");
        }
    }

    #[test]
    fn days_in_either_form() {
        assert_eq!(parse_day("TU"), Some(Weekday::Tue));
        assert_eq!(parse_day("tuesday"), Some(Weekday::Tue));
        assert_eq!(parse_day("x"), None);
    }
}
