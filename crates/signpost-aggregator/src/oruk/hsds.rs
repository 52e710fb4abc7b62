//! HSDS 3.0 (UK profile) objects as typed structs, and how a verified listing becomes them.
//! Absent values are left out (`skip_serializing_if`): HSDS fields are typed without null.

use chrono::{DateTime, Utc};
use serde::Serialize;
use signpost_protocol::model::{Frequency, Listing};
use signpost_protocol::query::Fact;
use signpost_protocol::taxonomy::{self, Term};
use signpost_protocol::wire::{CapacityStatus, Pagination};
use signpost_protocol::{EnvelopeRef, Verified};
use uuid::Uuid;

use super::vocab::{byday, find, ids, taxonomy_id, term_id, uuid5_fmt, Ids, ACCESS_TERMS, FACTS};
use crate::index::{QueryContext, Segment};

/// A page, as HSDS paginates.
#[derive(Serialize)]
pub struct Page<T> {
    #[serde(flatten)]
    pub pagination: Pagination,
    pub contents: Vec<T>,
}

impl<T> Page<T> {
    pub fn new(contents: Vec<T>, total: usize, page: usize, per_page: usize) -> Self {
        Self {
            pagination: Pagination::new(total, page, per_page, contents.len()),
            contents,
        }
    }
}

#[derive(Serialize)]
pub struct Taxonomy {
    pub id: Uuid,
    pub name: &'static str,
    pub description: &'static str,
    pub version: &'static str,
}

pub fn taxonomy(vocab: &(&'static str, &'static str, &'static str)) -> Taxonomy {
    Taxonomy {
        id: taxonomy_id(vocab.0),
        name: vocab.1,
        description: vocab.2,
        version: "1",
    }
}

#[derive(Serialize)]
pub struct TaxonomyTerm {
    pub id: Uuid,
    pub name: &'static str,
    pub description: &'static str,
    pub taxonomy: &'static str,
    pub taxonomy_id: Uuid,
    pub term: &'static str,
    pub code: &'static str,
}

pub fn term(vocab: &'static str, t: &'static Term) -> TaxonomyTerm {
    TaxonomyTerm {
        id: term_id(vocab, t.id),
        name: t.label,
        description: t.description,
        taxonomy: vocab,
        taxonomy_id: taxonomy_id(vocab),
        term: t.id,
        code: t.id,
    }
}

/// Signpost's extension: what a consumer needs to check the signature itself.
#[derive(Serialize)]
pub struct Verification<'a> {
    pub node: &'a str,
    pub listing_id: Uuid,
    pub listing_version: u64,
    /// Computed from the checks this aggregator ran: the listing is served only when its
    /// signature, its snapshot and its node-document chain verified, and it is fresh now.
    pub verification_status: &'static str,
    pub verified_at: DateTime<Utc>,
    pub provenance_url: String,
    pub capacity_status: CapacityStatus,
    pub verified_training: &'a [String],
    pub envelope: EnvelopeRef<'a>,
}

#[derive(Serialize)]
pub struct OrganizationIdentifier {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub identifier_scheme: String,
    pub identifier_type: &'static str,
    pub identifier: String,
}

#[derive(Serialize)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    pub organization_identifiers: Vec<OrganizationIdentifier>,
}

#[derive(Serialize)]
pub struct Schedule {
    pub id: Uuid,
    pub service_id: Uuid,
    pub freq: &'static str,
    pub interval: u8,
    pub byday: &'static str,
    pub opens_at: String,
    pub closes_at: String,
    pub attending_type: &'static str,
    pub description: String,
}

#[derive(Serialize)]
pub struct Language {
    pub id: Uuid,
    pub service_id: Uuid,
    pub code: String,
    pub name: String,
}

#[derive(Serialize)]
pub struct CostOption {
    pub id: Uuid,
    pub service_id: Uuid,
    pub option: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    pub currency: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_description: Option<String>,
}

#[derive(Serialize)]
pub struct Phone {
    pub id: Uuid,
    pub number: String,
}

#[derive(Serialize)]
pub struct Contact {
    pub id: Uuid,
    pub service_id: Uuid,
    pub name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub phones: Vec<Phone>,
}

#[derive(Serialize)]
pub struct Address {
    pub id: Uuid,
    pub location_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    pub country: &'static str,
    pub address_type: &'static str,
    pub city: &'static str,
    pub state_province: &'static str,
}

#[derive(Serialize)]
pub struct Accessibility {
    pub id: Uuid,
    pub location_id: Uuid,
    pub description: &'static str,
}

#[derive(Serialize)]
pub struct Location {
    pub id: Uuid,
    pub location_type: &'static str,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<Address>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accessibility: Option<Vec<Accessibility>>,
}

#[derive(Serialize)]
pub struct ServiceAtLocation<'a> {
    pub id: Uuid,
    pub service_id: Uuid,
    pub location_id: Uuid,
    pub location: Location,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Service<'a>>,
}

#[derive(Serialize)]
pub struct Attribute {
    pub id: Uuid,
    pub link_id: Uuid,
    pub link_type: &'static str,
    pub link_entity: &'static str,
    pub taxonomy_term_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub taxonomy_term: TermJson,
}

/// A term inside an attribute: as written once for every request, or made now.
#[derive(Serialize)]
#[serde(untagged)]
pub enum TermJson {
    Written(&'static serde_json::value::RawValue),
    Made(TaxonomyTerm),
}

/// Every published term as HSDS writes it, written once: a full service names a dozen or
/// more, each with two ids to format and its label and description to escape.
static TERMS_WRITTEN: std::sync::LazyLock<
    std::collections::HashMap<(&'static str, &'static str), Box<serde_json::value::RawValue>>,
> = std::sync::LazyLock::new(|| {
    super::vocab::all_terms()
        .into_iter()
        .filter_map(|(vocab, t)| {
            let json = serde_json::value::to_raw_value(&term(vocab, t)).ok()?;
            Some(((vocab, t.id), json))
        })
        .collect()
});

fn term_json(vocab: &'static str, t: &'static Term) -> TermJson {
    match TERMS_WRITTEN.get(&(vocab, t.id)) {
        Some(json) => TermJson::Written(json),
        None => TermJson::Made(term(vocab, t)),
    }
}

/// A service: its one-to-one fields, and with [`Detail::Full`] every nested object.
#[derive(Serialize)]
pub struct Service<'a> {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fees: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_age: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_age: Option<u8>,
    pub last_modified: DateTime<Utc>,
    pub organization: Organization,
    pub signpost: Verification<'a>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub nested: Option<Nested<'a>>,
}

/// The one-to-many parts of a full service.
#[derive(Serialize)]
pub struct Nested<'a> {
    pub schedules: Vec<Schedule>,
    pub languages: Vec<Language>,
    pub cost_options: Vec<CostOption>,
    pub contacts: Vec<Contact>,
    pub service_at_locations: Vec<ServiceAtLocation<'a>>,
    pub service_areas: Vec<()>,
    pub funding: Vec<()>,
    pub attributes: Vec<Attribute>,
}

/// A service with just its id, name, status and date (`minimal=true`).
#[derive(Serialize)]
pub struct ServiceMinimal {
    pub id: Uuid,
    pub name: String,
    pub status: &'static str,
    pub last_modified: DateTime<Utc>,
}

/// How much of a service to render.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Core,
    Full,
}

/// Renders listings for one request: the query context and the public base URL.
pub struct Renderer<'a> {
    pub base: &'a str,
    pub ctx: QueryContext<'a>,
}

fn organization(seg: &Segment, id: Uuid) -> Organization {
    let doc = seg.data.document();
    Organization {
        id,
        name: seg.name.clone(),
        description: format!("{} (Signpost node {})", seg.name, seg.id),
        website: doc.map(|d| d.base_url.clone()),
        organization_identifiers: doc
            .map(|d| {
                d.org_identifiers
                    .iter()
                    .map(|o| OrganizationIdentifier {
                        id: uuid5_fmt(format_args!("{}/identifier/{}/{}", seg.id, o.scheme, o.id)),
                        organization_id: id,
                        identifier_scheme: o.scheme.clone(),
                        identifier_type: "Charity number",
                        identifier: o.id.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn attribute(
    service: Uuid,
    vocab: &'static str,
    t: &'static Term,
    value: Option<String>,
) -> Attribute {
    Attribute {
        id: uuid5_fmt(format_args!("{service}/attribute/{vocab}/{}", t.id)),
        link_id: service,
        link_type: "service",
        link_entity: "service",
        taxonomy_term_id: term_id(vocab, t.id),
        value,
        taxonomy_term: term_json(vocab, t),
    }
}

impl<'a> Renderer<'a> {
    /// A service, with its verification extension.
    pub fn service(
        &self,
        seg: &'a Segment,
        l: &'a Verified<Listing>,
        training: &'a [String],
        detail: Detail,
    ) -> Service<'a> {
        self.service_with(&ids(&seg.id, &l.id), seg, l, training, detail)
    }

    /// A service whose HSDS ids are `i`.
    fn service_with(
        &self,
        i: &Ids,
        seg: &'a Segment,
        l: &'a Verified<Listing>,
        training: &'a [String],
        detail: Detail,
    ) -> Service<'a> {
        let g = &l.group;
        let capacity = self.ctx.capacity_status(l);
        Service {
            id: i.service,
            organization_id: i.organization,
            name: g.name.clone(),
            description: g.description.clone(),
            url: g.contact.website.clone(),
            email: g.contact.email.clone(),
            status: "active",
            fees: if g.access.cost.free {
                Some("Free".to_owned())
            } else {
                g.access.cost.details.clone()
            },
            minimum_age: g.age_range.and_then(|a| a.min),
            maximum_age: g.age_range.and_then(|a| a.max),
            last_modified: l.issued_at,
            organization: organization(seg, i.organization),
            signpost: Verification {
                node: &seg.id,
                listing_id: l.id,
                listing_version: l.version,
                verification_status: if crate::verify::provenance_checks(&seg.data, l, self.ctx.now)
                    .iter()
                    .all(|(_, r)| r.is_ok())
                {
                    "verified"
                } else {
                    "unverified"
                },
                verified_at: seg.data.verified_at,
                provenance_url: format!("{}/v1/groups/{}/{}", self.base, seg.id, l.id),
                capacity_status: capacity,
                verified_training: training,
                envelope: l.envelope(),
            },
            nested: (detail == Detail::Full).then(|| self.nested(i, l, training, capacity)),
        }
    }

    fn nested(
        &self,
        i: &Ids,
        l: &Verified<Listing>,
        training: &[String],
        capacity: CapacityStatus,
    ) -> Nested<'a> {
        let g = &l.group;
        let schedules = g
            .schedule
            .iter()
            .enumerate()
            .map(|(k, x)| {
                let (freq, interval) = match x.frequency {
                    Frequency::Weekly => ("WEEKLY", 1),
                    Frequency::Fortnightly => ("WEEKLY", 2),
                    Frequency::Monthly => ("MONTHLY", 1),
                };
                Schedule {
                    id: uuid5_fmt(format_args!("{}/schedule/{k}", i.service)),
                    service_id: i.service,
                    freq,
                    interval,
                    byday: byday(x.day),
                    opens_at: x.opens.to_string(),
                    closes_at: x.closes.to_string(),
                    attending_type: if g.online && g.location.is_none() {
                        "online"
                    } else {
                        "in person"
                    },
                    description: format!("{} {}-{}", byday(x.day), x.opens, x.closes),
                }
            })
            .collect();
        let languages = g
            .languages
            .iter()
            .map(|code| Language {
                id: uuid5_fmt(format_args!("{}/language/{code}", i.service)),
                service_id: i.service,
                code: code.clone(),
                name: code.clone(),
            })
            .collect();
        let cost = &g.access.cost;
        let cost_options = vec![CostOption {
            id: uuid5_fmt(format_args!("{}/cost", i.service)),
            service_id: i.service,
            option: if cost.free { "Free" } else { "Per session" },
            amount: if cost.free {
                Some(0.0)
            } else {
                cost.amount_pence.map(|p| f64::from(p) / 100.0)
            },
            currency: "GBP",
            amount_description: cost.details.clone(),
        }];
        let contacts = vec![Contact {
            id: uuid5_fmt(format_args!("{}/contact", i.service)),
            service_id: i.service,
            name: "Referrals",
            title: g.contact.referral_instructions.clone(),
            email: g.contact.email.clone(),
            phones: g
                .contact
                .phone
                .iter()
                .map(|p| Phone {
                    id: uuid5_fmt(format_args!("{}/phone", i.service)),
                    number: p.clone(),
                })
                .collect(),
        }];
        let service_at_locations = g
            .location
            .iter()
            .map(|loc| ServiceAtLocation {
                id: i.service_at_location,
                service_id: i.service,
                location_id: i.location,
                location: Location {
                    id: i.location,
                    location_type: "physical",
                    name: loc.address.clone().unwrap_or_else(|| g.name.clone()),
                    latitude: Some(loc.lat),
                    longitude: Some(loc.lon),
                    addresses: Some(vec![Address {
                        id: uuid5_fmt(format_args!("{}/address", i.location)),
                        location_id: i.location,
                        address_1: loc.address.clone(),
                        postal_code: loc.postcode.clone(),
                        country: "GB",
                        address_type: "physical",
                        city: "",
                        state_province: "",
                    }]),
                    accessibility: Some(if g.access.step_free {
                        vec![Accessibility {
                            id: uuid5_fmt(format_args!("{}/step-free", i.location)),
                            location_id: i.location,
                            description: "Step-free access",
                        }]
                    } else {
                        vec![]
                    }),
                },
                service: None,
            })
            .collect();
        let mut attributes = Vec::new();
        for (vocab, terms, ids) in [
            ("signpost-categories", taxonomy::CATEGORIES, &g.categories),
            (
                "signpost-safeguarding",
                taxonomy::SAFEGUARDING_CAPABILITIES,
                &g.safeguarding.capabilities,
            ),
            (
                "signpost-staff-checks",
                taxonomy::STAFF_CHECKS,
                &g.safeguarding.staff_checks,
            ),
        ] {
            for c in ids {
                if let Some(t) = find(terms, c) {
                    attributes.push(attribute(i.service, vocab, t, None));
                }
            }
        }
        for a in training {
            if let Some(t) = find(taxonomy::ACHIEVEMENTS, a) {
                attributes.push(attribute(
                    i.service,
                    "signpost-training",
                    t,
                    Some("verified".into()),
                ));
            }
        }
        for (id, fact) in FACTS {
            if !fact.holds(g, capacity) {
                continue;
            }
            let value = match fact {
                Fact::AcceptingReferrals => g.capacity.places_available.map(|p| p.to_string()),
                Fact::CapacityUnknown => Some(g.capacity.updated_at.to_rfc3339()),
                _ => None,
            };
            if let Some(t) = find(ACCESS_TERMS, id) {
                attributes.push(attribute(i.service, "signpost-access", t, value));
            }
        }
        Nested {
            schedules,
            languages,
            cost_options,
            contacts,
            service_at_locations,
            service_areas: vec![],
            funding: vec![],
            attributes,
        }
    }

    /// A service at a location, with the service's one-to-one fields.
    pub fn service_at_location(
        &self,
        seg: &'a Segment,
        l: &'a Verified<Listing>,
        training: &'a [String],
    ) -> ServiceAtLocation<'a> {
        let i = ids(&seg.id, &l.id);
        let loc = l.group.location.as_ref();
        ServiceAtLocation {
            id: i.service_at_location,
            service_id: i.service,
            location_id: i.location,
            location: Location {
                id: i.location,
                location_type: if loc.is_some() { "physical" } else { "virtual" },
                name: loc
                    .and_then(|x| x.address.clone())
                    .unwrap_or_else(|| l.group.name.clone()),
                latitude: loc.map(|x| x.lat),
                longitude: loc.map(|x| x.lon),
                addresses: None,
                accessibility: None,
            },
            service: Some(self.service_with(&i, seg, l, training, Detail::Core)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_term_written_once_reads_as_one_made_now() {
        for (vocab, t) in super::super::vocab::all_terms() {
            let written = term_json(vocab, t);
            assert!(matches!(written, TermJson::Written(_)), "{vocab} {}", t.id);
            assert_eq!(
                serde_json::to_value(&written).unwrap(),
                serde_json::to_value(TermJson::Made(term(vocab, t))).unwrap(),
            );
        }
    }
}
