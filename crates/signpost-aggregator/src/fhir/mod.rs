//! `/fhir/R4`: the directory as FHIR R4 for GP systems and social-prescribing platforms,
//! read-only, `application/fhir+json`, over the same verified index and the same query
//! engine as `/v1` and `/oruk` (FHIR parameters are parsed into a `GroupQuery`).
//!
//! - [`model`]: the resources and datatypes emitted, typed;
//! - [`map`]: a verified listing as HealthcareService, Location, Organization,
//!   VerificationResult and Provenance;
//! - [`conformance`]: CapabilityStatement, CodeSystems, SearchParameters;
//! - `search`: search parameters read into a `GroupQuery`, every mistake kept;
//! - `searchset`: searchset Bundles with their links;
//! - `outcome`: errors as an OperationOutcome;
//! - this file: the handlers.

pub mod conformance;
pub mod map;
pub mod model;
mod outcome;
mod search;
mod searchset;

use std::fmt;
use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Timelike as _, Utc};
use signpost_http::{ApiError, ErrorCode};
use signpost_protocol::query::{
    Condition, GroupQuery, Problems, QueryCode, QueryError, RawGroupQuery,
};
use signpost_protocol::wire::CapacityStatus;
use signpost_protocol::DidKey;
use uuid::Uuid;

use crate::crawl::Aggregator;
use crate::error::AggError;
use crate::index::{Index, QueryContext, Segment};
use map::Urls;
use model::*;
use outcome::*;
use search::*;
use searchset::*;

type Data = web::Data<Arc<Aggregator>>;
type Params = web::Query<Vec<(String, String)>>;

pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";
fn fhir_json<T: serde::Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    match serde_json::to_vec(body) {
        Ok(bytes) => HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, FHIR_JSON))
            .body(bytes),
        Err(e) => {
            tracing::error!(error = %e, "FHIR response could not be serialised");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// A cacheable FHIR answer with the state's ETag.
fn cached<T: serde::Serialize>(body: &T, etag: String) -> Result<HttpResponse, FhirError> {
    // A HealthcareService is about 4 KiB: written into room for it, not grown from nothing.
    let mut bytes = Vec::with_capacity(8 * 1024);
    serde_json::to_writer(&mut bytes, body).map_err(|e| AggError::Internal(e.to_string()))?;
    let mut resp = crate::api::cached_json(bytes, etag);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(FHIR_JSON),
    );
    Ok(resp)
}

fn urls(state: &Aggregator, req: &HttpRequest) -> Urls {
    let public = state.config.api.public_url.trim_end_matches('/');
    if public.is_empty() {
        let info = req.connection_info();
        Urls::new(&format!("{}://{}", info.scheme(), info.host()))
    } else {
        Urls::new(public)
    }
}

/// The minute now is in: what a response shows as its time, so that one ETag (which
/// changes each minute) always means the same bytes.
fn minute(now: DateTime<Utc>) -> DateTime<Utc> {
    now.with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now)
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The version and date the conformance resources (CapabilityStatement, CodeSystems,
/// SearchParameters) carry: the build's version, and the day they last changed.
const VERSION: &str = env!("CARGO_PKG_VERSION");
const CONFORMANCE_DATE: &str = "2026-11-24";

/// `GET /fhir/R4/metadata`.
pub async fn metadata(state: Data, req: HttpRequest) -> HttpResponse {
    let urls = urls(&state, &req);
    fhir_json(
        StatusCode::OK,
        &conformance::capability_statement(&urls, VERSION, CONFORMANCE_DATE),
    )
}

pub async fn code_system(
    state: Data,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, FhirError> {
    let urls = urls(&state, &req);
    conformance::code_system(&urls, &id, VERSION, CONFORMANCE_DATE)
        .map(|cs| fhir_json(StatusCode::OK, &cs))
        .ok_or_else(|| FhirError::not_found("CodeSystem", &id))
}

pub async fn search_parameter(
    state: Data,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, FhirError> {
    let urls = urls(&state, &req);
    conformance::search_parameter(&urls, &id, VERSION, CONFORMANCE_DATE)
        .map(|sp| fhir_json(StatusCode::OK, &sp))
        .ok_or_else(|| FhirError::not_found("SearchParameter", &id))
}

fn capacity(ctx: &QueryContext<'_>, l: &signpost_protocol::Listing) -> CapacityStatus {
    ctx.capacity_status(l)
}

/// What one search renders for each hit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Services,
    Locations,
}

async fn search(
    state: Data,
    req: HttpRequest,
    params: Params,
    kind: Kind,
) -> Result<HttpResponse, FhirError> {
    let (allowed, include, revinclude): (&[&str], &[&str], &[&str]) = match kind {
        Kind::Services => (
            conformance::HEALTHCARE_SERVICE_PARAMS,
            &[
                "HealthcareService:location",
                "HealthcareService:organization",
            ],
            &["Provenance:target"],
        ),
        Kind::Locations => (
            conformance::LOCATION_PARAMS,
            &[],
            &["HealthcareService:location"],
        ),
    };
    let mut problems = Problems::default();
    check_known(&req, &params, allowed, &mut problems);
    let paging = paging(&params, &mut problems);
    check_includes(&paging, include, revinclude, &mut problems);
    let query = group_query(&params, &paging, kind == Kind::Locations, problems)?;
    let (etag, not_modified) = crate::api::conditional(&state, &req);
    if let Some(resp) = not_modified {
        return Ok(resp);
    }
    let urls = urls(&state, &req);
    let now = Utc::now();
    let Some((mut query, ids)) = query else {
        return cached(
            &bundle(&urls, &req, &etag, now, 0, &paging, Vec::new()),
            etag,
        );
    };
    query.locate(state.gazetteer())?;
    if paging.summary_count {
        query.per_page = 1;
    }
    let index = state.index();
    if !ids.is_empty() {
        // `_id`: the listings these HealthcareService ids name (none, when they name none).
        let named = ids.iter().filter_map(|id| listing_named(&index, id));
        query.conditions.push(Condition::Listings(named.collect()));
    }
    let revocations = state.revocations();
    let ctx = state.context(&revocations, now);
    let (total, hits) = index.page(&query, &ctx);
    let mut entries = Vec::new();
    if !paging.summary_count {
        let mut orgs: Vec<String> = Vec::new();
        for (seg, l, distance) in &hits {
            let listing = l.payload();
            let cap = capacity(&ctx, listing);
            let service = || {
                Resource::HealthcareService(Box::new(map::healthcare_service(
                    &urls, seg, listing, cap,
                )))
            };
            match kind {
                Kind::Services => {
                    let mut e = entry(&urls, service(), "match");
                    e.search.score = distance.map(|_| 1.0);
                    entries.push(e);
                    if paging
                        .include
                        .iter()
                        .any(|i| i == "HealthcareService:location")
                    {
                        if let Some(loc) = map::location(seg, listing) {
                            entries.push(entry(
                                &urls,
                                Resource::Location(Box::new(loc)),
                                "include",
                            ));
                        }
                    }
                    if paging
                        .include
                        .iter()
                        .any(|i| i == "HealthcareService:organization")
                        && !orgs.contains(&seg.id)
                    {
                        orgs.push(seg.id.clone());
                        entries.push(entry(
                            &urls,
                            Resource::Organization(Box::new(map::organization(seg))),
                            "include",
                        ));
                    }
                    if !paging.revinclude.is_empty() {
                        entries.push(entry(
                            &urls,
                            Resource::Provenance(Box::new(map::provenance(seg, l))),
                            "include",
                        ));
                    }
                }
                Kind::Locations => {
                    if let Some(loc) = map::location(seg, listing) {
                        entries.push(entry(&urls, Resource::Location(Box::new(loc)), "match"));
                    }
                    if !paging.revinclude.is_empty() {
                        entries.push(entry(&urls, service(), "include"));
                    }
                }
            }
        }
    }
    cached(
        &bundle(&urls, &req, &etag, now, total, &paging, entries),
        etag,
    )
}

pub async fn search_services(
    state: Data,
    req: HttpRequest,
    params: Params,
) -> Result<HttpResponse, FhirError> {
    search(state, req, params, Kind::Services).await
}

pub async fn search_locations(
    state: Data,
    req: HttpRequest,
    params: Params,
) -> Result<HttpResponse, FhirError> {
    search(state, req, params, Kind::Locations).await
}

/// The served listing with this HealthcareService id (its node's and its own, in one UUID).
fn find<'a>(index: &'a Index, ctx: &QueryContext<'_>, id: &str) -> Option<crate::index::Hit<'a>> {
    let (node, listing) = listing_named(index, &id.parse().ok()?)?;
    index.hit(&node, &listing, ctx)
}

/// The node and listing a HealthcareService id names.
fn listing_named(index: &Index, id: &Uuid) -> Option<(DidKey, Uuid)> {
    use crate::oruk::vocab::{named_listing, Named};
    named_listing(index, id, Named::Service)
}

fn read(
    state: &Aggregator,
    req: &HttpRequest,
    render: impl FnOnce(&Urls, &Index, &QueryContext<'_>) -> Result<Resource, FhirError>,
) -> Result<HttpResponse, FhirError> {
    let (etag, not_modified) = crate::api::conditional(state, req);
    if let Some(resp) = not_modified {
        return Ok(resp);
    }
    let urls = urls(state, req);
    let index = state.index();
    let revocations = state.revocations();
    let ctx = state.context(&revocations, Utc::now());
    let resource = render(&urls, &index, &ctx)?;
    cached(&resource, etag)
}

pub async fn read_service(
    state: Data,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, FhirError> {
    read(&state, &req, |urls, index, ctx| {
        let (seg, l, _) =
            find(index, ctx, &id).ok_or_else(|| FhirError::not_found("HealthcareService", &id))?;
        let cap = capacity(ctx, l.payload());
        Ok(Resource::HealthcareService(Box::new(
            map::healthcare_service(urls, seg, l.payload(), cap),
        )))
    })
}

pub async fn read_location(
    state: Data,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, FhirError> {
    read(&state, &req, |_, index, ctx| {
        let service = id.strip_prefix("loc-").unwrap_or("");
        find(index, ctx, service)
            .and_then(|(seg, l, _)| map::location(seg, l.payload()))
            .map(|loc| Resource::Location(Box::new(loc)))
            .ok_or_else(|| FhirError::not_found("Location", &id))
    })
}

pub async fn read_provenance(
    state: Data,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, FhirError> {
    read(&state, &req, |_, index, ctx| {
        let service = id.strip_prefix("prov-").unwrap_or("");
        find(index, ctx, service)
            .map(|(seg, l, _)| Resource::Provenance(Box::new(map::provenance(seg, l))))
            .ok_or_else(|| FhirError::not_found("Provenance", &id))
    })
}

fn segment<'a>(index: &'a Index, org: &str) -> Option<&'a Arc<Segment>> {
    let node = map::node_of(org)?;
    index.segments().find(|s| s.data.id == node)
}

pub async fn read_organization(
    state: Data,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, FhirError> {
    read(&state, &req, |_, index, _| {
        segment(index, &id)
            .map(|seg| Resource::Organization(Box::new(map::organization(seg))))
            .ok_or_else(|| FhirError::not_found("Organization", &id))
    })
}

/// Every attestation of every organisation, with its status now.
fn verification_results(
    urls: &Urls,
    index: &Index,
    ctx: &QueryContext<'_>,
    only: Option<&Arc<Segment>>,
) -> Vec<Resource> {
    let shown = minute(ctx.now);
    let mut out = Vec::new();
    for seg in index.segments() {
        if only.is_some_and(|o| !Arc::ptr_eq(o, seg)) {
            continue;
        }
        for (att, (status, _)) in seg
            .data
            .attestations
            .iter()
            .zip(ctx.attestations(&seg.data))
        {
            let mut vr = map::verification_result(urls, seg, att, status, ctx);
            vr.status_date = stamp(shown);
            vr.meta.last_updated = Some(stamp(shown));
            for s in &mut vr.primary_source {
                s.validation_date = stamp(shown);
            }
            out.push(Resource::VerificationResult(Box::new(vr)));
        }
    }
    out
}

pub async fn read_verification_result(
    state: Data,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, FhirError> {
    read(&state, &req, |urls, index, ctx| {
        verification_results(urls, index, ctx, None)
            .into_iter()
            .find(|r| r.type_and_id().1 == id.as_str())
            .ok_or_else(|| FhirError::not_found("VerificationResult", &id))
    })
}

/// Searches over whole organisations (Organization, VerificationResult, Provenance).
async fn simple_search(
    state: Data,
    req: HttpRequest,
    params: Params,
    allowed: &[&str],
    select: impl FnOnce(
        &Urls,
        &Index,
        &QueryContext<'_>,
        &[(String, String)],
    ) -> Result<Vec<Resource>, FhirError>,
) -> Result<HttpResponse, FhirError> {
    let mut problems = Problems::default();
    check_known(&req, &params, allowed, &mut problems);
    let paging = paging(&params, &mut problems);
    check_includes(&paging, &[], &[], &mut problems);
    problems.finish()?;
    let (etag, not_modified) = crate::api::conditional(&state, &req);
    if let Some(resp) = not_modified {
        return Ok(resp);
    }
    let urls = urls(&state, &req);
    let now = Utc::now();
    let index = state.index();
    let revocations = state.revocations();
    let ctx = state.context(&revocations, now);
    let all = select(&urls, &index, &ctx, &params)?;
    let total = all.len();
    let entries = if paging.summary_count {
        Vec::new()
    } else {
        all.into_iter()
            .skip((paging.page - 1).saturating_mul(paging.count))
            .take(paging.count)
            .map(|r| entry(&urls, r, "match"))
            .collect()
    };
    cached(
        &bundle(&urls, &req, &etag, now, total, &paging, entries),
        etag,
    )
}

pub async fn search_organizations(
    state: Data,
    req: HttpRequest,
    params: Params,
) -> Result<HttpResponse, FhirError> {
    simple_search(
        state,
        req,
        params,
        &["name", "_id"],
        |_, index, _, params| {
            let name = param(params, "name").map(signpost_protocol::text::fold);
            let id = param(params, "_id");
            let mut segs: Vec<&Arc<Segment>> = index
                .segments()
                .filter(|s| {
                    name.as_ref()
                        .is_none_or(|n| signpost_protocol::text::fold(&s.name).contains(n.as_str()))
                })
                .filter(|s| id.is_none_or(|i| map::org_id(&s.id) == i))
                .collect();
            segs.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
            Ok(segs
                .into_iter()
                .map(|s| Resource::Organization(Box::new(map::organization(s))))
                .collect())
        },
    )
    .await
}

pub async fn search_verification_results(
    state: Data,
    req: HttpRequest,
    params: Params,
) -> Result<HttpResponse, FhirError> {
    simple_search(
        state,
        req,
        params,
        &["target"],
        |urls, index, ctx, params| {
            let only = match param(params, "target") {
                None => None,
                Some(t) => match segment(index, t) {
                    Some(s) => Some(s),
                    None => return Ok(Vec::new()),
                },
            };
            Ok(verification_results(urls, index, ctx, only))
        },
    )
    .await
}

pub async fn search_provenance(
    state: Data,
    req: HttpRequest,
    params: Params,
) -> Result<HttpResponse, FhirError> {
    simple_search(state, req, params, &["target"], |_, index, ctx, params| {
        let target = param(params, "target").ok_or_else(|| {
            FhirError::invalid(
                "target",
                "give the HealthcareService, like target=HealthcareService/{id}",
            )
        })?;
        let id = target.trim_start_matches("HealthcareService/");
        Ok(find(index, ctx, id)
            .map(|(seg, l, _)| Resource::Provenance(Box::new(map::provenance(seg, l))))
            .into_iter()
            .collect())
    })
    .await
}

/// Anything else under `/fhir/R4`.
pub async fn unsupported(req: HttpRequest) -> Result<HttpResponse, FhirError> {
    Err(FhirError::unsupported(req.path()))
}

/// Registers `/fhir/R4`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use signpost_http::get;
    cfg.service(
        signpost_http::public_scope("/fhir/R4")
            .service(get("/metadata", metadata))
            .service(get("/HealthcareService", search_services))
            .service(get("/HealthcareService/{id}", read_service))
            .service(get("/Location", search_locations))
            .service(get("/Location/{id}", read_location))
            .service(get("/Organization", search_organizations))
            .service(get("/Organization/{id}", read_organization))
            .service(get("/VerificationResult", search_verification_results))
            .service(get("/VerificationResult/{id}", read_verification_result))
            .service(get("/Provenance", search_provenance))
            .service(get("/Provenance/{id}", read_provenance))
            .service(get("/CodeSystem/{id}", code_system))
            .service(get("/SearchParameter/{id}", search_parameter))
            .default_service(web::to(unsupported)),
    );
}
