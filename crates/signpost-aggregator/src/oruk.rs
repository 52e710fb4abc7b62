//! Open Referral UK (the UK profile of HSDS 3.0) over the same verified index, under
//! `/oruk`. The mapping from a Signpost listing to HSDS objects is documented in
//! `openapi/ORUK.md`; ids are UUIDv5s derived from the node id and listing id, so they are
//! stable across crawls, restarts and aggregators.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use signpost_protocol::model::{Frequency, Interpreting, Listing, Weekday};
use signpost_protocol::query::{GroupQuery, Point, RawGroupQuery};
use signpost_protocol::taxonomy::{self, Term};
use signpost_protocol::Verified;
use uuid::Uuid;

use crate::error::AggError;
use crate::index::{CapacityStatus, QueryContext, Segment};
use crate::service::Aggregator;

type Data = web::Data<Arc<Aggregator>>;

/// The namespace of every Signpost UUIDv5.
const NAMESPACE: Uuid = Uuid::from_u128(0x5a1e_7c1d_4b0e_4c6f_9f53_2d1c_8e0a_77b1);

fn uuid5(name: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// The vocabularies published as HSDS taxonomies.
const VOCABULARIES: &[(&str, &str, &str)] = &[
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
const ACCESS_TERMS: &[Term] = &[
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

fn vocabulary(name: &str) -> &'static [Term] {
    match name {
        "signpost-categories" => taxonomy::CATEGORIES,
        "signpost-safeguarding" => taxonomy::SAFEGUARDING_CAPABILITIES,
        "signpost-staff-checks" => taxonomy::STAFF_CHECKS,
        "signpost-training" => taxonomy::ACHIEVEMENTS,
        _ => ACCESS_TERMS,
    }
}

fn taxonomy_id(vocab: &str) -> Uuid {
    uuid5(&format!("taxonomy/{vocab}"))
}

fn term_id(vocab: &str, term: &str) -> Uuid {
    uuid5(&format!("term/{vocab}/{term}"))
}

fn taxonomy_json(vocab: &(&str, &str, &str)) -> Value {
    json!({"id": taxonomy_id(vocab.0), "name": vocab.1, "description": vocab.2, "version": "1"})
}

fn term_json(vocab: &str, t: &Term) -> Value {
    json!({
        "id": term_id(vocab, t.id), "name": t.label, "description": t.description,
        "taxonomy": vocab, "taxonomy_id": taxonomy_id(vocab), "term": t.id, "code": t.id,
    })
}

fn all_terms() -> Vec<(&'static str, &'static Term)> {
    VOCABULARIES
        .iter()
        .flat_map(|v| vocabulary(v.0).iter().map(move |t| (v.0, t)))
        .collect()
}

/// Ids of one listing's HSDS objects.
struct Ids {
    service: Uuid,
    organization: Uuid,
    location: Uuid,
    service_at_location: Uuid,
}

fn ids(node: &str, listing: &Uuid) -> Ids {
    Ids {
        service: uuid5(&format!("{node}/{listing}/service")),
        organization: uuid5(&format!("{node}/organization")),
        location: uuid5(&format!("{node}/{listing}/location")),
        service_at_location: uuid5(&format!("{node}/{listing}/service_at_location")),
    }
}

fn byday(d: Weekday) -> &'static str {
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

/// What a consumer needs to check the signatures without trusting this aggregator.
fn verification(
    seg: &Segment,
    listing: &Verified<Listing>,
    status: CapacityStatus,
    training: &[String],
    base: &str,
) -> Value {
    json!({
        "node": seg.id,
        "listing_id": listing.id,
        "listing_version": listing.version,
        "verification_status": "verified",
        "verified_at": seg.data.verified_at,
        "provenance_url": format!("{base}/v1/groups/{}/{}", seg.id, listing.id),
        "capacity_status": status,
        "verified_training": training,
        "envelope": listing.envelope(),
    })
}

struct Ctx<'a> {
    base: &'a str,
    query: QueryContext<'a>,
}

impl Ctx<'_> {
    fn status(&self, l: &Listing) -> CapacityStatus {
        if self.query.now - l.group.capacity.updated_at > self.query.capacity_max_age {
            CapacityStatus::Unknown
        } else if l.group.capacity.accepting_referrals {
            CapacityStatus::Accepting
        } else {
            CapacityStatus::NotAccepting
        }
    }
}

fn organization(seg: &Segment, id: Uuid) -> Value {
    let doc = seg.data.document();
    json!({
        "id": id,
        "name": seg.name,
        "description": format!("{} (Signpost node {})", seg.name, seg.id),
        "website": doc.map(|d| d.base_url.clone()),
        "organization_identifiers": doc.map(|d| d.org_identifiers.iter().map(|o| json!({
            "id": uuid5(&format!("{}/identifier/{}/{}", seg.id, o.scheme, o.id)),
            "organization_id": id, "identifier_scheme": o.scheme, "identifier_type": "Charity number", "identifier": o.id,
        })).collect::<Vec<_>>()).unwrap_or_default(),
    })
}

fn attribute(service: Uuid, vocab: &str, term: &Term, value: Option<String>) -> Value {
    json!({
        "id": uuid5(&format!("{service}/attribute/{vocab}/{}", term.id)),
        "link_id": service,
        "link_type": "service",
        "link_entity": "service",
        "taxonomy_term_id": term_id(vocab, term.id),
        "value": value,
        "taxonomy_term": term_json(vocab, term),
    })
}

fn find(vocab: &'static [Term], id: &str) -> Option<&'static Term> {
    vocab.iter().find(|t| t.id == id)
}

/// The one-to-one fields of a service (and its organization).
fn service_core(seg: &Segment, l: &Verified<Listing>, ctx: &Ctx<'_>) -> Value {
    let g = &l.group;
    let i = ids(&seg.id, &l.id);
    let training = ctx.query.verified_training(&seg.data);
    json!({
        "id": i.service,
        "organization_id": i.organization,
        "name": g.name,
        "description": g.description,
        "url": g.contact.website,
        "email": g.contact.email,
        "status": "active",
        "fees": if g.access.cost.free { Some("Free".to_owned()) } else { g.access.cost.details.clone() },
        "minimum_age": g.age_range.and_then(|a| a.min),
        "maximum_age": g.age_range.and_then(|a| a.max),
        "last_modified": l.issued_at,
        "organization": organization(seg, i.organization),
        "signpost": verification(seg, l, ctx.status(l), &training, ctx.base),
    })
}

/// A full HSDS service.
fn service_full(seg: &Segment, l: &Verified<Listing>, ctx: &Ctx<'_>) -> Value {
    let g = &l.group;
    let i = ids(&seg.id, &l.id);
    let mut s = service_core(seg, l, ctx);
    let schedules: Vec<Value> = g
        .schedule
        .iter()
        .enumerate()
        .map(|(k, x)| {
            let (freq, interval) = match x.frequency {
                Frequency::Weekly => ("WEEKLY", 1),
                Frequency::Fortnightly => ("WEEKLY", 2),
                Frequency::Monthly => ("MONTHLY", 1),
            };
            json!({
                "id": uuid5(&format!("{}/schedule/{k}", i.service)),
                "service_id": i.service,
                "freq": freq, "interval": interval, "byday": byday(x.day),
                "opens_at": x.opens.to_string(), "closes_at": x.closes.to_string(),
                "attending_type": if g.online && g.location.is_none() { "online" } else { "in person" },
                "description": format!("{} {}-{}", byday(x.day), x.opens, x.closes),
            })
        })
        .collect();
    let languages: Vec<Value> = g
        .languages
        .iter()
        .map(|code| json!({"id": uuid5(&format!("{}/language/{code}", i.service)), "service_id": i.service, "code": code, "name": code}))
        .collect();
    let amount = if g.access.cost.free {
        Some(0.0)
    } else {
        g.access.cost.amount_pence.map(|p| f64::from(p) / 100.0)
    };
    let cost_options = vec![json!({
        "id": uuid5(&format!("{}/cost", i.service)),
        "service_id": i.service,
        "option": if g.access.cost.free { "Free" } else { "Per session" },
        "amount": amount,
        "currency": "GBP",
        "amount_description": g.access.cost.details,
    })];
    let contacts = vec![json!({
        "id": uuid5(&format!("{}/contact", i.service)),
        "service_id": i.service,
        "name": "Referrals",
        "title": g.contact.referral_instructions,
        "email": g.contact.email,
        "phones": g.contact.phone.as_ref().map(|p| vec![json!({"id": uuid5(&format!("{}/phone", i.service)), "number": p})]).unwrap_or_default(),
    })];
    let service_at_locations: Vec<Value> = g
        .location
        .iter()
        .map(|loc| {
            json!({
                "id": i.service_at_location,
                "service_id": i.service,
                "location_id": i.location,
                "location": {
                    "id": i.location,
                    "location_type": "physical",
                    "name": loc.address.clone().unwrap_or_else(|| g.name.clone()),
                    "latitude": loc.lat,
                    "longitude": loc.lon,
                    "addresses": [{"id": uuid5(&format!("{}/address", i.location)), "location_id": i.location, "address_1": loc.address, "postal_code": loc.postcode, "country": "GB", "address_type": "physical", "city": "", "state_province": ""}],
                    "accessibility": if g.access.step_free { vec![json!({"id": uuid5(&format!("{}/step-free", i.location)), "location_id": i.location, "description": "Step-free access"})] } else { vec![] },
                },
            })
        })
        .collect();

    let mut attributes = Vec::new();
    for c in &g.categories {
        if let Some(t) = find(taxonomy::CATEGORIES, c) {
            attributes.push(attribute(i.service, "signpost-categories", t, None));
        }
    }
    for c in &g.safeguarding.capabilities {
        if let Some(t) = find(taxonomy::SAFEGUARDING_CAPABILITIES, c) {
            attributes.push(attribute(i.service, "signpost-safeguarding", t, None));
        }
    }
    for c in &g.safeguarding.staff_checks {
        if let Some(t) = find(taxonomy::STAFF_CHECKS, c) {
            attributes.push(attribute(i.service, "signpost-staff-checks", t, None));
        }
    }
    for a in ctx.query.verified_training(&seg.data) {
        if let Some(t) = find(taxonomy::ACHIEVEMENTS, &a) {
            attributes.push(attribute(
                i.service,
                "signpost-training",
                t,
                Some("verified".into()),
            ));
        }
    }
    let a = &g.access;
    let (capacity_term, capacity_value) = match ctx.status(l) {
        CapacityStatus::Accepting => (
            "accepting-referrals",
            g.capacity.places_available.map(|p| p.to_string()),
        ),
        CapacityStatus::NotAccepting => ("not-accepting-referrals", None),
        CapacityStatus::Unknown => ("capacity-unknown", Some(g.capacity.updated_at.to_rfc3339())),
    };
    let facts = [
        (capacity_term, true, capacity_value),
        ("free", a.cost.free, None),
        ("childcare", a.childcare, None),
        ("travel-paid", a.travel_paid, None),
        (
            "interpreting-professional",
            a.interpreting == Interpreting::Professional,
            None,
        ),
        (
            "interpreting-volunteer",
            a.interpreting == Interpreting::Volunteer,
            None,
        ),
        (
            "interpreter-outside-community",
            a.interpreter_outside_community,
            None,
        ),
        ("self-referral", a.self_referral, None),
        ("no-gp-registration", !a.gp_registration_required, None),
        ("no-status-check", !a.immigration_status_asked, None),
        ("no-data-shared", a.no_data_shared_with_authorities, None),
        (
            "designated-safeguarding-lead",
            g.safeguarding.designated_lead,
            None,
        ),
        (
            "written-safeguarding-policy",
            g.safeguarding.written_policy,
            None,
        ),
        ("assessment-required", g.capacity.assessment_required, None),
        ("volunteering", g.volunteering.offered, None),
    ];
    for (id, on, value) in facts {
        if let (true, Some(t)) = (on, find(ACCESS_TERMS, id)) {
            attributes.push(attribute(i.service, "signpost-access", t, value));
        }
    }
    if let Some(obj) = s.as_object_mut() {
        obj.insert("schedules".into(), json!(schedules));
        obj.insert("languages".into(), json!(languages));
        obj.insert("cost_options".into(), json!(cost_options));
        obj.insert("contacts".into(), json!(contacts));
        obj.insert("service_at_locations".into(), json!(service_at_locations));
        obj.insert("service_areas".into(), json!([]));
        obj.insert("funding".into(), json!([]));
        obj.insert("attributes".into(), json!(attributes));
    }
    s
}

/// Query parameters of the ORUK list endpoints.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrukQuery {
    /// Full-text search (case and accents folded).
    pub search: Option<String>,
    /// Alias of `search`.
    pub text: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
    /// A taxonomy term id (UUID, from `/oruk/taxonomy_terms`).
    pub taxonomy_term_id: Option<String>,
    /// A taxonomy id (UUID): services with any term of it.
    pub taxonomy_id: Option<String>,
    /// RFC 3339: services whose listing was signed on or after this time.
    pub modified_after: Option<String>,
    /// `true`: services with just their one-to-one fields.
    pub minimal: Option<String>,
    /// Services whose minimum age is at least this.
    pub minimum_age: Option<String>,
    /// Services whose maximum age is at most this.
    pub maximum_age: Option<String>,
    /// `MO`..`SU` or `monday`..`sunday`.
    pub day: Option<String>,
    /// `HH:MM`: sessions opening at or after this time.
    pub start_time: Option<String>,
    /// `HH:MM`: sessions closing at or before this time.
    pub end_time: Option<String>,
    /// A UK postcode or its outward code (e.g. `LS8` or `LS8 5AB`): the centre of the listings
    /// in that postcode district is used, with `proximity`.
    pub postcode: Option<String>,
    /// Metres around `postcode` (default 5000).
    pub proximity: Option<String>,
}

fn bad(parameter: &'static str, message: impl Into<String>) -> AggError {
    AggError::Query(signpost_protocol::query::QueryError {
        code: "invalid_parameter",
        parameter,
        message: message.into(),
    })
}

fn number<T: std::str::FromStr>(
    p: &'static str,
    v: &Option<String>,
) -> Result<Option<T>, AggError> {
    v.as_deref()
        .map(|s| {
            s.trim()
                .parse::<T>()
                .map_err(|_| bad(p, format!("{s:?} is not a number")))
        })
        .transpose()
}

fn parse_day(s: &str) -> Option<Weekday> {
    let upper = s.to_ascii_uppercase();
    Weekday::ALL
        .into_iter()
        .find(|d| byday(*d) == upper)
        .or_else(|| s.parse().ok())
}

fn outward(postcode: &str) -> String {
    let p = postcode.trim().to_uppercase();
    if let Some((out, _)) = p.split_once(' ') {
        return out.to_owned();
    }
    // "LS85AB": the inward code is always the last three characters.
    let chars: Vec<char> = p.chars().collect();
    if chars.len() > 4 {
        chars[..chars.len() - 3].iter().collect()
    } else {
        p
    }
}

type Match<'a> = (&'a Arc<Segment>, &'a Verified<Listing>, Option<f64>);

/// Runs an ORUK list query over the index; calls `render` for the page.
fn list(
    state: &Aggregator,
    q: &OrukQuery,
    render: impl Fn(&Match<'_>, &Ctx<'_>) -> Value,
) -> Result<Value, AggError> {
    let page: usize = number("page", &q.page)?.unwrap_or(1);
    let per_page: usize = number("per_page", &q.per_page)?.unwrap_or(50);
    if page == 0 || per_page == 0 || per_page > 1000 {
        return Err(bad("page", "page starts at 1; per_page is 1..1000"));
    }
    let mut raw = RawGroupQuery {
        text: q.search.clone().or_else(|| q.text.clone()),
        ..RawGroupQuery::default()
    };
    let index = state.index();
    let revocations = state.revocations();
    let now = Utc::now();
    let ctx = Ctx {
        base: state.config.api.public_url.trim_end_matches('/'),
        query: state.context(&revocations, now),
    };

    // Terms and taxonomies.
    let mut term_filter: Option<(&str, &Term)> = None;
    if let Some(t) = &q.taxonomy_term_id {
        let id: Uuid = t
            .parse()
            .map_err(|_| bad("taxonomy_term_id", "not a UUID"))?;
        match all_terms()
            .into_iter()
            .find(|(v, term)| term_id(v, term.id) == id)
        {
            Some(found) => term_filter = Some(found),
            None => return Ok(page_json(Vec::new(), 0, page, per_page)),
        }
    }
    let taxonomy_filter = match &q.taxonomy_id {
        None => None,
        Some(t) => {
            let id: Uuid = t.parse().map_err(|_| bad("taxonomy_id", "not a UUID"))?;
            match VOCABULARIES.iter().find(|v| taxonomy_id(v.0) == id) {
                Some(v) => Some(v.0),
                None => return Ok(page_json(Vec::new(), 0, page, per_page)),
            }
        }
    };
    if let Some(("signpost-categories", term)) = term_filter {
        raw.category = Some(term.id.to_owned());
    }
    if let Some(("signpost-safeguarding", term)) = term_filter {
        raw.safeguarding = Some(term.id.to_owned());
    }
    if let Some(("signpost-training", term)) = term_filter {
        raw.verified_training = Some(term.id.to_owned());
    }
    let day = q
        .day
        .as_deref()
        .map(|d| parse_day(d).ok_or_else(|| bad("day", format!("{d:?} is not a day"))))
        .transpose()?;
    let start_time = q
        .start_time
        .as_deref()
        .map(|t| {
            t.get(..5)
                .unwrap_or(t)
                .parse::<signpost_protocol::model::TimeOfDay>()
                .map_err(|e| bad("start_time", e))
        })
        .transpose()?;
    let end_time = q
        .end_time
        .as_deref()
        .map(|t| {
            t.get(..5)
                .unwrap_or(t)
                .parse::<signpost_protocol::model::TimeOfDay>()
                .map_err(|e| bad("end_time", e))
        })
        .transpose()?;
    let min_age: Option<f64> = number("minimum_age", &q.minimum_age)?;
    let max_age: Option<f64> = number("maximum_age", &q.maximum_age)?;
    let modified_after = q
        .modified_after
        .as_deref()
        .map(|m| {
            DateTime::parse_from_rfc3339(m)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| bad("modified_after", "not an RFC 3339 time"))
        })
        .transpose()?;
    let mut query = GroupQuery::parse(&raw).map_err(AggError::Query)?;
    if let Some(pc) = &q.postcode {
        // The centre of the listings in that postcode district: coordinates from the data.
        let district = outward(pc);
        let points: Vec<Point> = index
            .segments()
            .flat_map(|s| s.data.listings.values())
            .filter_map(|l| l.group.location.as_ref())
            .filter(|loc| {
                loc.postcode
                    .as_deref()
                    .is_some_and(|p| outward(p) == district)
            })
            .map(|loc| Point {
                lat: loc.lat,
                lon: loc.lon,
            })
            .collect();
        if points.is_empty() {
            return Ok(page_json(Vec::new(), 0, page, per_page));
        }
        let n = points.len() as f64;
        let centre = Point {
            lat: points.iter().map(|p| p.lat).sum::<f64>() / n,
            lon: points.iter().map(|p| p.lon).sum::<f64>() / n,
        };
        let metres: f64 = number("proximity", &q.proximity)?.unwrap_or(5000.0);
        if !(metres > 0.0 && metres <= 500_000.0) {
            return Err(bad("proximity", "metres, more than 0 and at most 500000"));
        }
        query.near = Some((centre, metres / 1000.0));
    }
    let matches: Vec<Match<'_>> = index
        .matching(&query, &ctx.query)
        .into_iter()
        .filter(|(seg, l, _)| {
            let g = &l.group;
            let term_ok = match (term_filter, taxonomy_filter) {
                (Some(("signpost-staff-checks", term)), _) => {
                    g.safeguarding.staff_checks.iter().any(|c| c == term.id)
                }
                (Some(("signpost-access", term)), _) => service_full(seg, l, &ctx)["attributes"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x["taxonomy_term"]["term"] == term.id)),
                (_, Some("signpost-safeguarding")) => !g.safeguarding.capabilities.is_empty(),
                (_, Some("signpost-staff-checks")) => !g.safeguarding.staff_checks.is_empty(),
                (_, Some("signpost-training")) => {
                    !ctx.query.verified_training(&seg.data).is_empty()
                }
                _ => true,
            };
            term_ok
                && modified_after.is_none_or(|t| l.issued_at >= t)
                && min_age.is_none_or(|a| {
                    g.age_range
                        .and_then(|r| r.min)
                        .is_some_and(|m| f64::from(m) >= a)
                })
                && max_age.is_none_or(|a| {
                    g.age_range
                        .and_then(|r| r.max)
                        .is_some_and(|m| f64::from(m) <= a)
                })
                && (day.is_none() && start_time.is_none() && end_time.is_none()
                    || g.schedule.iter().any(|s| {
                        day.is_none_or(|d| s.day == d)
                            && start_time.is_none_or(|t| s.opens >= t)
                            && end_time.is_none_or(|t| s.closes <= t)
                    }))
        })
        .collect();
    let total = matches.len();
    let contents = matches
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|m| render(m, &ctx))
        .collect();
    Ok(page_json(contents, total, page, per_page))
}

/// HSDS fields are typed without null: absent values are left out.
fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

fn ok(v: Value) -> HttpResponse {
    HttpResponse::Ok().json(strip_nulls(v))
}

fn page_json(contents: Vec<Value>, total: usize, page: usize, per_page: usize) -> Value {
    let total_pages = total.div_ceil(per_page);
    json!({
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": contents.len(),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": contents.is_empty(),
        "contents": contents,
    })
}

/// Finds a listing by its service UUID (or service_at_location UUID).
fn by_service_id(state: &Aggregator, id: &str, sal: bool) -> Result<Value, AggError> {
    let id: Uuid = id.parse().map_err(|_| AggError::GroupNotFound {
        node: "oruk".into(),
        id: id.chars().take(40).collect(),
    })?;
    let index = state.index();
    let revocations = state.revocations();
    let ctx = Ctx {
        base: state.config.api.public_url.trim_end_matches('/'),
        query: state.context(&revocations, Utc::now()),
    };
    for seg in index.segments() {
        for l in seg.data.listings.values() {
            let i = ids(&seg.id, &l.id);
            if (if sal {
                i.service_at_location
            } else {
                i.service
            }) == id
                && index.get(&seg.data.id, &l.id, &ctx.query).is_some()
            {
                return Ok(service_full(seg, l, &ctx));
            }
        }
    }
    Err(AggError::GroupNotFound {
        node: "oruk".into(),
        id: id.to_string(),
    })
}

#[utoipa::path(get, path = "/oruk/", tag = "oruk", responses((status = 200, description = "API version, profile and OpenAPI URL", body = Object)))]
pub async fn root(state: Data) -> HttpResponse {
    let base = state.config.api.public_url.trim_end_matches('/').to_owned();
    ok(json!({
        "version": "3.0",
        "profile": "https://openreferraluk.org",
        "openapi_url": format!("{base}/openapi.json"),
    }))
}

/// Services (HSDS 3.0, UK profile), paginated.
#[utoipa::path(get, path = "/oruk/services", tag = "oruk", params(OrukQuery),
    responses((status = 200, description = "A page of services (ORUK service_list items)", body = Object),
        (status = 400, description = "Invalid parameter", body = signpost_http::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = signpost_http::Problem, content_type = "application/problem+json")))]
pub async fn services(state: Data, q: web::Query<OrukQuery>) -> Result<HttpResponse, AggError> {
    let minimal = q.minimal.as_deref() == Some("true");
    let body = list(&state, &q, |(seg, l, _), ctx| {
        if minimal {
            json!({"id": ids(&seg.id, &l.id).service, "name": l.group.name, "status": "active", "last_modified": l.issued_at})
        } else {
            service_core(seg, l, ctx)
        }
    })?;
    Ok(ok(body))
}

/// One service, fully nested.
#[utoipa::path(get, path = "/oruk/services/{id}", tag = "oruk", params(("id" = String, Path, description = "Service UUID")),
    responses((status = 200, description = "A full ORUK service", body = Object),
        (status = 404, description = "No such service", body = signpost_http::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = signpost_http::Problem, content_type = "application/problem+json")))]
pub async fn service(state: Data, id: web::Path<String>) -> Result<HttpResponse, AggError> {
    Ok(ok(by_service_id(&state, &id, false)?))
}

/// Services at locations, paginated (listings with a location only).
#[utoipa::path(get, path = "/oruk/service_at_locations", tag = "oruk", params(OrukQuery),
    responses((status = 200, description = "A page of service_at_location items", body = Object),
        (status = 400, description = "Invalid parameter", body = signpost_http::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = signpost_http::Problem, content_type = "application/problem+json")))]
pub async fn service_at_locations(
    state: Data,
    q: web::Query<OrukQuery>,
) -> Result<HttpResponse, AggError> {
    let body = list(&state, &q, |(seg, l, _), ctx| {
        let i = ids(&seg.id, &l.id);
        let loc = l.group.location.as_ref();
        json!({
            "id": i.service_at_location,
            "service_id": i.service,
            "location_id": i.location,
            "location": {
                "id": i.location,
                "location_type": if loc.is_some() { "physical" } else { "virtual" },
                "name": loc.and_then(|x| x.address.clone()).unwrap_or_else(|| l.group.name.clone()),
                "latitude": loc.map(|x| x.lat),
                "longitude": loc.map(|x| x.lon),
            },
            "service": service_core(seg, l, ctx),
        })
    })?;
    Ok(ok(body))
}

/// One service at a location: the full service it belongs to.
#[utoipa::path(get, path = "/oruk/service_at_locations/{id}", tag = "oruk", params(("id" = String, Path, description = "service_at_location UUID")),
    responses((status = 200, description = "The full ORUK service", body = Object),
        (status = 404, description = "Not found", body = signpost_http::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = signpost_http::Problem, content_type = "application/problem+json")))]
pub async fn service_at_location(
    state: Data,
    id: web::Path<String>,
) -> Result<HttpResponse, AggError> {
    Ok(ok(by_service_id(&state, &id, true)?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub page: Option<String>,
    pub per_page: Option<String>,
}

fn paginate(items: Vec<Value>, q: &PageQuery) -> Result<Value, AggError> {
    let page: usize = number("page", &q.page)?.unwrap_or(1);
    let per_page: usize = number("per_page", &q.per_page)?.unwrap_or(50);
    if page == 0 || per_page == 0 || per_page > 1000 {
        return Err(bad("page", "page starts at 1; per_page is 1..1000"));
    }
    let total = items.len();
    Ok(page_json(
        items
            .into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .collect(),
        total,
        page,
        per_page,
    ))
}

/// Signpost's vocabularies as HSDS taxonomies.
#[utoipa::path(get, path = "/oruk/taxonomies", tag = "oruk", params(PageQuery),
    responses((status = 200, description = "A page of taxonomies", body = Object),
        (status = 400, description = "Invalid parameter", body = signpost_http::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = signpost_http::Problem, content_type = "application/problem+json")))]
pub async fn taxonomies(q: web::Query<PageQuery>) -> Result<HttpResponse, AggError> {
    Ok(ok(paginate(
        VOCABULARIES.iter().map(taxonomy_json).collect(),
        &q,
    )?))
}

#[utoipa::path(get, path = "/oruk/taxonomies/{id}", tag = "oruk", params(("id" = String, Path, description = "Taxonomy UUID")),
    responses((status = 200, description = "A taxonomy", body = Object),
        (status = 404, description = "Not found", body = signpost_http::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = signpost_http::Problem, content_type = "application/problem+json")))]
pub async fn taxonomy(id: web::Path<String>) -> Result<HttpResponse, AggError> {
    let found = VOCABULARIES
        .iter()
        .find(|v| taxonomy_id(v.0).to_string() == id.as_str())
        .ok_or_else(|| AggError::NotFound(id.chars().take(40).collect()))?;
    Ok(ok(taxonomy_json(found)))
}

#[utoipa::path(get, path = "/oruk/taxonomy_terms", tag = "oruk", params(PageQuery),
    responses((status = 200, description = "A page of taxonomy terms", body = Object),
        (status = 400, description = "Invalid parameter", body = signpost_http::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = signpost_http::Problem, content_type = "application/problem+json")))]
pub async fn taxonomy_terms(q: web::Query<PageQuery>) -> Result<HttpResponse, AggError> {
    Ok(ok(paginate(
        all_terms()
            .into_iter()
            .map(|(v, t)| term_json(v, t))
            .collect(),
        &q,
    )?))
}

#[utoipa::path(get, path = "/oruk/taxonomy_terms/{id}", tag = "oruk", params(("id" = String, Path, description = "Taxonomy term UUID")),
    responses((status = 200, description = "A taxonomy term", body = Object),
        (status = 404, description = "Not found", body = signpost_http::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = signpost_http::Problem, content_type = "application/problem+json")))]
pub async fn taxonomy_term(id: web::Path<String>) -> Result<HttpResponse, AggError> {
    let (v, t) = all_terms()
        .into_iter()
        .find(|(v, t)| term_id(v, t.id).to_string() == id.as_str())
        .ok_or_else(|| AggError::NotFound(id.chars().take(40).collect()))?;
    Ok(ok(term_json(v, t)))
}

/// Registers `/oruk`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/oruk")
            .wrap(actix_web::middleware::from_fn(
                signpost_http::ratelimit::rate_limit,
            ))
            .wrap(signpost_http::public_cors())
            .route("", web::get().to(root))
            .route("/", web::get().to(root))
            .route("/services", web::get().to(services))
            .route("/services/{id}", web::get().to(service))
            .route("/service_at_locations", web::get().to(service_at_locations))
            .route(
                "/service_at_locations/{id}",
                web::get().to(service_at_location),
            )
            .route("/taxonomies", web::get().to(taxonomies))
            .route("/taxonomies/{id}", web::get().to(taxonomy))
            .route("/taxonomy_terms", web::get().to(taxonomy_terms))
            .route("/taxonomy_terms/{id}", web::get().to(taxonomy_term)),
    );
}

#[cfg(test)]
mod tests {
    use super::outward;

    #[test]
    fn outward_codes_never_split_a_character() {
        assert_eq!(outward("LS8 5AB"), "LS8");
        assert_eq!(outward("ls85ab"), "LS8");
        assert_eq!(outward("BD1"), "BD1");
        assert_eq!(outward("0\u{10000}"), "0\u{10000}");
        assert_eq!(outward("0\u{10000}\u{10000}ab"), "0\u{10000}");
    }
}
