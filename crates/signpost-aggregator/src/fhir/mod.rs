//! `/fhir/R4`: the directory as FHIR R4 for GP systems and social-prescribing platforms,
//! read-only, `application/fhir+json`, over the same verified index and the same query
//! engine as `/v1` and `/oruk` (FHIR parameters are parsed into a `GroupQuery`).
//!
//! - [`model`]: the resources and datatypes emitted, typed;
//! - [`map`]: a verified listing as HealthcareService, Location, Organization,
//!   VerificationResult and Provenance;
//! - [`conformance`]: CapabilityStatement, CodeSystems, SearchParameters;
//! - this file: the handlers, search parameters, searchset Bundles and OperationOutcome.

pub mod conformance;
pub mod map;
pub mod model;

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
use uuid::Uuid;

use crate::crawl::Aggregator;
use crate::error::AggError;
use crate::index::{Index, QueryContext, Segment};
use map::Urls;
use model::*;

type Data = web::Data<Arc<Aggregator>>;
type Params = web::Query<Vec<(String, String)>>;

pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";
const DEFAULT_COUNT: usize = 20;
const MAX_COUNT: usize = 100;
const MAX_PAGE: usize = 100_000;

/// An error as an OperationOutcome, with the Signpost error code in `issue.details`.
#[derive(Debug)]
pub struct FhirError {
    code: ErrorCode,
    issue: &'static str,
    diagnostics: String,
    expression: Option<String>,
    /// The request's other mistakes, each an `issue` of the same OperationOutcome.
    more: Vec<FhirError>,
}

impl fmt::Display for FhirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostics)
    }
}

impl FhirError {
    fn invalid(parameter: &str, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::InvalidParameter,
            issue: "invalid",
            diagnostics: format!("{parameter}: {}", message.into()),
            expression: Some(parameter.to_owned()),
            more: Vec::new(),
        }
    }

    fn not_found(what: &str, id: &str) -> Self {
        Self {
            code: ErrorCode::NotFound,
            issue: "not-found",
            diagnostics: format!(
                "no {what} {} in this directory",
                id.chars().take(80).collect::<String>()
            ),
            expression: None,
            more: Vec::new(),
        }
    }

    fn outcome(&self) -> OperationOutcome {
        OperationOutcome {
            resource_type: "OperationOutcome",
            issue: std::iter::once(self)
                .chain(&self.more)
                .map(|e| Issue {
                    severity: "error",
                    code: e.issue,
                    details: Some(CodeableConcept {
                        coding: vec![Coding::new(
                            "urn:signpost:error",
                            e.code.as_str(),
                            Some(e.code.title()),
                        )],
                        text: None,
                    }),
                    diagnostics: e.diagnostics.clone(),
                    expression: e.expression.iter().cloned().collect(),
                })
                .collect(),
        }
    }
}

/// Each of a query's mistakes as an issue of its own, naming the FHIR search parameter it
/// came from.
impl From<QueryError> for FhirError {
    fn from(e: QueryError) -> Self {
        let one = |p: &QueryError| {
            // The engine's names for what FHIR's own parameters became (an unknown one is
            // named as the client sent it).
            let parameter = match p.parameter.as_ref() {
                _ if p.code == QueryCode::UnknownParameter => p.parameter.as_ref(),
                "text" => "name",
                "category" => "service-category",
                "radius_km" => "distance",
                other => other,
            };
            Self {
                code: p.code.into(),
                issue: match p.code {
                    QueryCode::UnknownPostcode => "not-found",
                    QueryCode::UnknownParameter => "not-supported",
                    _ => "invalid",
                },
                diagnostics: format!("{parameter}: {}", p.message),
                expression: Some(parameter.to_owned()),
                more: Vec::new(),
            }
        };
        Self {
            more: e.more.iter().map(one).collect(),
            ..one(&e)
        }
    }
}

impl From<AggError> for FhirError {
    fn from(e: AggError) -> Self {
        Self {
            code: e.code(),
            issue: if e.code().status() == StatusCode::NOT_FOUND {
                "not-found"
            } else {
                "processing"
            },
            diagnostics: e.to_string(),
            expression: None,
            more: Vec::new(),
        }
    }
}

impl actix_web::ResponseError for FhirError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        fhir_json(self.code.status(), &self.outcome())
    }
}

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
    let bytes = serde_json::to_vec(body).map_err(|e| AggError::Internal(e.to_string()))?;
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

/// Whether the client asked for unknown parameters to be ignored.
fn lenient(req: &HttpRequest) -> bool {
    req.headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split([',', ';'])
                .any(|p| p.trim().eq_ignore_ascii_case("handling=lenient"))
        })
}

/// `_count`, `_page`, `_summary`, and the includes, common to every search.
#[derive(Default)]
struct Paging {
    count: usize,
    page: usize,
    summary_count: bool,
    include: Vec<String>,
    revinclude: Vec<String>,
}

/// The paging parameters; each mistake is kept in `problems`.
fn paging(params: &[(String, String)], problems: &mut Problems) -> Paging {
    let mut invalid = |parameter: &'static str, message: String| {
        problems.push(QueryError::new(
            QueryCode::InvalidParameter,
            parameter,
            message,
        ))
    };
    let mut p = Paging {
        count: DEFAULT_COUNT,
        page: 1,
        ..Paging::default()
    };
    for (k, v) in params {
        match k.as_str() {
            "_count" => match v.parse().ok().filter(|n| (1..=MAX_COUNT).contains(n)) {
                Some(n) => p.count = n,
                None => invalid("_count", format!("a number from 1 to {MAX_COUNT}")),
            },
            "_page" => match v.parse().ok().filter(|n| (1..=MAX_PAGE).contains(n)) {
                Some(n) => p.page = n,
                None => invalid("_page", format!("a page number from 1 to {MAX_PAGE}")),
            },
            "_summary" => match v.as_str() {
                "count" => p.summary_count = true,
                "false" => {}
                _ => invalid("_summary", "only count (or false) is supported".into()),
            },
            "_format"
                if !matches!(
                    v.as_str(),
                    "json" | "application/fhir+json" | "application/json"
                ) =>
            {
                invalid("_format", "only json is served".into())
            }
            "_include" => p.include.push(v.clone()),
            "_revinclude" => p.revinclude.push(v.clone()),
            _ => {}
        }
    }
    p
}

/// Keeps each parameter outside `allowed` (and the common ones) as a mistake, unless the
/// client is lenient.
fn check_known(
    req: &HttpRequest,
    params: &[(String, String)],
    allowed: &[&str],
    problems: &mut Problems,
) {
    if lenient(req) {
        return;
    }
    for (k, _) in params {
        if !allowed.contains(&k.as_str()) && !conformance::COMMON_PARAMS.contains(&k.as_str()) {
            let mut all: Vec<&str> = allowed.to_vec();
            all.extend_from_slice(conformance::COMMON_PARAMS);
            problems.push(QueryError::new(
                QueryCode::UnknownParameter,
                k.clone(),
                format!(
                    "not a search parameter here; the supported ones are {} (send `Prefer: handling=lenient` to have unknown ones ignored)",
                    all.join(", ")
                ),
            ));
        }
    }
}

/// Refuses includes the search does not serve; each mistake is kept in `problems`.
fn check_includes(p: &Paging, include: &[&str], revinclude: &[&str], problems: &mut Problems) {
    for (parameter, asked, served) in [
        ("_include", &p.include, include),
        ("_revinclude", &p.revinclude, revinclude),
    ] {
        if let Some(bad) = asked.iter().find(|i| !served.contains(&i.as_str())) {
            let supported = if served.is_empty() {
                "none".to_owned()
            } else {
                served.join(", ")
            };
            problems.push(QueryError::new(
                QueryCode::InvalidParameter,
                parameter,
                format!("{bad} is not supported; supported: {supported}"),
            ));
        }
    }
}

/// A token's code: `system|code` or `code`.
fn code(token: &str) -> &str {
    token.rsplit('|').next().unwrap_or(token)
}

/// A searchset Bundle with `self`, `next` and `previous` links.
fn bundle(
    urls: &Urls,
    req: &HttpRequest,
    etag: &str,
    now: DateTime<Utc>,
    total: usize,
    paging: &Paging,
    entry: Vec<BundleEntry>,
) -> Bundle {
    let path = req.path().trim_start_matches("/fhir/R4");
    let link_to = |page: usize| {
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        pairs.retain(|(k, _)| k != "_page");
        if page > 1 {
            pairs.push(("_page".into(), page.to_string()));
        }
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if query.is_empty() {
            format!("{}{path}", urls.base)
        } else {
            format!("{}{path}?{query}", urls.base)
        }
    };
    let mut link = vec![BundleLink {
        relation: "self",
        url: link_to(paging.page),
    }];
    if !paging.summary_count {
        if paging.page * paging.count < total {
            link.push(BundleLink {
                relation: "next",
                url: link_to(paging.page + 1),
            });
        }
        if paging.page > 1 {
            link.push(BundleLink {
                relation: "previous",
                url: link_to(paging.page - 1),
            });
        }
    }
    Bundle {
        resource_type: "Bundle",
        id: Uuid::new_v5(
            &Uuid::NAMESPACE_URL,
            format!("{etag}{}", req.uri()).as_bytes(),
        )
        .to_string(),
        meta: Meta {
            last_updated: Some(stamp(minute(now))),
            profile: Vec::new(),
        },
        bundle_type: "searchset",
        total,
        link,
        entry,
    }
}

fn entry(urls: &Urls, resource: Resource, mode: &'static str) -> BundleEntry {
    let (kind, id) = resource.type_and_id();
    BundleEntry {
        full_url: urls.full(kind, id),
        resource,
        search: EntrySearch { mode, score: None },
    }
}

// ---------------------------------------------------------------------------------------
// Parameters into the one query engine

/// The search as the one query engine's, or `None` when nothing can match. Every parameter
/// is checked, whatever the others hold: each mistake, with those already in `problems`
/// (paging, includes), is an issue.
fn group_query(
    params: &[(String, String)],
    paging: &Paging,
    for_locations: bool,
    mut problems: Problems,
) -> Result<Option<GroupQuery>, FhirError> {
    let mut raw = RawGroupQuery::default();
    let mut conditions = Vec::new();
    let mut categories: Vec<String> = Vec::new();
    let mut ids: Vec<Uuid> = Vec::new();
    // `active=false`, or an id this directory never gives: nothing can match.
    let mut matches_nothing = false;
    let mut invalid = |parameter: &'static str, message: String| {
        problems.push(QueryError::new(
            QueryCode::InvalidParameter,
            parameter,
            message,
        ))
    };
    for (k, v) in params {
        match k.as_str() {
            "service-category" | "service-type" => {
                categories.extend(v.split(',').map(|t| code(t).to_owned()))
            }
            "name" => raw.text = Some(v.clone()),
            "active" => match v.as_str() {
                "true" => {}
                "false" => matches_nothing = true,
                _ => invalid("active", "true or false".into()),
            },
            "_lastUpdated" => {
                let (prefix, date) = if v.len() > 2
                    && v.is_char_boundary(2)
                    && v[..2].chars().all(|c| c.is_ascii_lowercase())
                {
                    v.split_at(2)
                } else {
                    ("eq", v.as_str())
                };
                if !matches!(prefix, "ge" | "gt") {
                    invalid(
                        "_lastUpdated",
                        "only ge or gt a date is supported, like ge2026-01-01".into(),
                    );
                    continue;
                }
                let at = DateTime::parse_from_rfc3339(date)
                    .map(|t| t.with_timezone(&Utc))
                    .or_else(|_| {
                        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
                            .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
                    });
                match at {
                    Ok(at) => conditions.push(Condition::ModifiedAfter(at)),
                    Err(_) => invalid(
                        "_lastUpdated",
                        "a date like 2026-01-01 or 2026-01-01T09:00:00Z".into(),
                    ),
                }
            }
            "organization" => match map::node_of(v) {
                Some(node) => conditions.push(Condition::Node(node)),
                None => invalid(
                    "organization",
                    "Organization/{id}, an id from this directory".into(),
                ),
            },
            "language" => raw.language = Some(v.split(',').map(code).collect::<Vec<_>>().join(",")),
            "characteristic" => {
                let mut facts = Vec::new();
                for t in v.split(',') {
                    match map::fact_of(code(t)) {
                        Some(fact) => facts.push(fact),
                        None => invalid(
                            "characteristic",
                            format!(
                                "{:?} is not a code of the signpost-access CodeSystem",
                                code(t)
                            ),
                        ),
                    }
                }
                conditions.push(Condition::AnyFact(facts));
            }
            "postcode" => raw.postcode = Some(v.clone()),
            "distance" => {
                raw.radius_km = Some(
                    v.trim_end_matches("|http://unitsofmeasure.org|km")
                        .trim_end_matches("|km")
                        .to_owned(),
                )
            }
            "near" if for_locations => {
                let parts: Vec<&str> = v.split('|').collect();
                let (lat, lon) = match parts.as_slice() {
                    [lat, lon, ..] => (*lat, *lon),
                    _ => {
                        invalid(
                            "near",
                            "latitude|longitude|distance|units, like 53.81|-1.52|5|km".into(),
                        );
                        continue;
                    }
                };
                raw.near = Some(format!("{lat},{lon}"));
                if let Some(d) = parts.get(2).filter(|d| !d.is_empty()) {
                    let Ok(d) = d.parse::<f64>() else {
                        invalid("near", "the distance must be a number".into());
                        continue;
                    };
                    let km = match parts.get(3).copied().unwrap_or("km") {
                        "km" | "" => d,
                        "m" => d / 1000.0,
                        other => {
                            invalid(
                                "near",
                                format!("distance units must be km or m, not {other:?}"),
                            );
                            continue;
                        }
                    };
                    raw.radius_km = Some(km.to_string());
                }
            }
            "_id" => {
                for id in v.split(',') {
                    let id = id.trim_start_matches("loc-");
                    match id.parse() {
                        Ok(u) => ids.push(u),
                        Err(_) => matches_nothing = true,
                    }
                }
            }
            _ => {}
        }
    }
    if !categories.is_empty() {
        raw.category = Some(categories.join(","));
    }
    let mut q = problems.finish_with(GroupQuery::parse(&raw))?;
    if matches_nothing {
        return Ok(None);
    }
    q.conditions.extend(conditions);
    if for_locations {
        q.conditions.push(Condition::HasLocation);
    }
    q.page = paging.page;
    q.per_page = paging.count;
    if !ids.is_empty() {
        q.conditions.push(Condition::Ids(ids));
    }
    Ok(Some(q))
}

// ---------------------------------------------------------------------------------------
// Handlers

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
    let Some(mut query) = query else {
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

/// The served listing with this id, wherever it is published.
fn find<'a>(index: &'a Index, ctx: &QueryContext<'_>, id: &str) -> Option<crate::index::Hit<'a>> {
    let id: Uuid = id.parse().ok()?;
    index
        .segments()
        .find(|seg| seg.data.listings.contains_key(&id))
        .and_then(|seg| index.hit(&seg.data.id, &id, ctx))
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
        let listing_id = id.strip_prefix("loc-").unwrap_or("");
        find(index, ctx, listing_id)
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
        let listing_id = id.strip_prefix("prov-").unwrap_or("");
        find(index, ctx, listing_id)
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

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
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
    Err(FhirError {
        code: ErrorCode::NotFound,
        issue: "not-supported",
        diagnostics: format!(
            "{} is not served here: this server reads HealthcareService, Location, Organization, VerificationResult, Provenance, CodeSystem and SearchParameter (see /fhir/R4/metadata)",
            req.path().chars().take(100).collect::<String>()
        ),
        expression: None,
        more: Vec::new(),
    })
}

/// Registers `/fhir/R4`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use signpost_http::get;
    cfg.service(
        web::scope("/fhir/R4")
            .wrap(actix_web::middleware::from_fn(
                signpost_http::ratelimit::rate_limit,
            ))
            .wrap(signpost_http::public_cors())
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
