//! The `/oruk` handlers: parse ORUK parameters into a `GroupQuery`, call the index, render
//! HSDS.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Serialize;
use signpost_http::responses::{RateLimited, TakesNoParameters};
use signpost_http::NoParams;
use uuid::Uuid;

use super::hsds::{self, Detail, Page, Renderer, ServiceMinimal};
use super::query::{self, OrukQuery};
use super::vocab::{self, all_terms, taxonomy_id, term_id, VOCABULARIES};
use crate::crawl::Aggregator;
use crate::error::AggError;
use crate::index::Segment;
use signpost_protocol::query::Problems;

type Data = web::Data<Arc<Aggregator>>;

fn ok<T: Serialize>(body: &T) -> Result<HttpResponse, AggError> {
    // A full service is about 12 KiB: written into room for it, not grown from nothing.
    let mut bytes = Vec::with_capacity(16 * 1024);
    serde_json::to_writer(&mut bytes, body).map_err(|e| AggError::Internal(e.to_string()))?;
    Ok(signpost_http::json_bytes(bytes.into()))
}

fn public_base(state: &Aggregator) -> &str {
    state.config.api.public_url.trim_end_matches('/')
}

/// Verified training per node, computed once per response.
#[derive(Default)]
struct TrainingCache(HashMap<*const Segment, Arc<Vec<String>>>);

impl TrainingCache {
    fn get(&mut self, r: &Renderer<'_>, seg: &Arc<Segment>) -> Arc<Vec<String>> {
        Arc::clone(
            self.0
                .entry(Arc::as_ptr(seg))
                .or_insert_with(|| Arc::new(r.ctx.verified_training(&seg.data))),
        )
    }
}

/// What a list endpoint renders for each hit.
#[derive(Clone, Copy)]
enum Kind {
    /// `/services?minimal=true`.
    Minimal,
    Service,
    AtLocation,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Item<'a> {
    Minimal(ServiceMinimal),
    Service(Box<hsds::Service<'a>>),
    AtLocation(Box<hsds::ServiceAtLocation<'a>>),
}

/// Runs an ORUK list query through the engine and renders the page.
fn list(
    state: &Aggregator,
    req: &HttpRequest,
    q: Result<web::Query<OrukQuery>, actix_web::Error>,
    kind: Kind,
) -> Result<HttpResponse, AggError> {
    // Every parameter is checked first, paging and `minimal` too: each mistake is named,
    // with any parameter the extractor refused (unknown, or given twice).
    let (q, mut problems) = match q {
        Ok(q) => (q.into_inner(), Problems::default()),
        Err(_) => crate::api::reread(req),
    };
    let (page, per_page) = problems
        .take(query::page(&q.page, &q.per_page))
        .unwrap_or((1, 50));
    let minimal = problems.take(query::minimal(&q)).unwrap_or(false);
    let parsed = query::to_group_query(&q, problems)?;
    let kind = match kind {
        Kind::Service if minimal => Kind::Minimal,
        other => other,
    };
    let (etag, not_modified) = crate::api::conditional(state, req);
    if let Some(resp) = not_modified {
        return Ok(resp);
    }
    let Some(mut query) = parsed else {
        return ok(&Page::<()>::new(Vec::new(), 0, page, per_page));
    };
    query.page = page;
    query.per_page = per_page;
    query.locate(state.gazetteer())?;
    let index = state.index();
    let revocations = state.revocations();
    let r = Renderer {
        base: public_base(state),
        ctx: state.context(&revocations, Utc::now()),
    };
    let (total, hits) = index.page(&query, &r.ctx);
    let mut cache = TrainingCache::default();
    let trainings: Vec<Arc<Vec<String>>> = hits.iter().map(|h| cache.get(&r, h.0)).collect();
    let contents: Vec<Item<'_>> = hits
        .iter()
        .zip(&trainings)
        .map(|(&(seg, l, _), t)| match kind {
            Kind::Minimal => Item::Minimal(ServiceMinimal {
                id: vocab::ids(&seg.id, &l.id).service,
                name: l.group.name.clone(),
                status: "active",
                last_modified: l.issued_at,
            }),
            Kind::Service => Item::Service(Box::new(r.service(seg, l, t, Detail::Core))),
            Kind::AtLocation => Item::AtLocation(Box::new(r.service_at_location(seg, l, t))),
        })
        .collect();
    let bytes = serde_json::to_vec(&Page::new(contents, total, page, per_page))
        .map_err(|e| AggError::Internal(e.to_string()))?;
    Ok(crate::api::cached_json(bytes, etag))
}

/// Finds a listing by its service UUID (or its service_at_location UUID) and renders it
/// in full.
fn by_id(state: &Aggregator, id: &str, at_location: bool) -> Result<HttpResponse, AggError> {
    let (what, named) = if at_location {
        ("service_at_location", vocab::Named::ServiceAtLocation)
    } else {
        ("service", vocab::Named::Service)
    };
    let not_found = || AggError::NotInDirectory {
        what,
        id: id.chars().take(40).collect(),
    };
    let id: Uuid = id.parse().map_err(|_| not_found())?;
    let index = state.index();
    let revocations = state.revocations();
    let r = Renderer {
        base: public_base(state),
        ctx: state.context(&revocations, Utc::now()),
    };
    let (node, listing) = vocab::named_listing(&index, &id, named).ok_or_else(not_found)?;
    let (seg, l, _) = index.hit(&node, &listing, &r.ctx).ok_or_else(not_found)?;
    let training = r.ctx.verified_training(&seg.data);
    ok(&r.service(seg, l, &training, Detail::Full))
}

#[utoipa::path(get, path = "/oruk/", tag = "oruk", responses((status = 200, description = "API version, profile and OpenAPI URL", body = Object), TakesNoParameters))]
pub async fn root(state: Data, _: web::Query<NoParams>) -> Result<HttpResponse, AggError> {
    #[derive(Serialize)]
    struct Root {
        version: &'static str,
        profile: &'static str,
        openapi_url: String,
    }
    ok(&Root {
        version: "3.0",
        profile: "https://openreferraluk.org",
        openapi_url: format!("{}/openapi.json", public_base(&state)),
    })
}

/// Services (HSDS 3.0, UK profile), paginated.
#[utoipa::path(get, path = "/oruk/services", tag = "oruk", params(OrukQuery),
    responses((status = 200, description = "A page of services (ORUK service_list items)", body = Object),
        (status = 400, description = "A parameter is invalid (its stable `code`); several are one `invalid_query`, each in `errors`", body = signpost_http::Problem, content_type = "application/problem+json"),
        RateLimited))]
pub async fn services(
    state: Data,
    req: HttpRequest,
    q: Result<web::Query<OrukQuery>, actix_web::Error>,
) -> Result<HttpResponse, AggError> {
    // `minimal=true` makes the items minimal.
    list(&state, &req, q, Kind::Service)
}

/// One service, fully nested.
#[utoipa::path(get, path = "/oruk/services/{id}", tag = "oruk", params(("id" = String, Path, description = "Service UUID")),
    responses((status = 200, description = "A full ORUK service", body = Object),
        (status = 404, description = "No such service", body = signpost_http::Problem, content_type = "application/problem+json"),
        TakesNoParameters,
        RateLimited))]
pub async fn service(
    state: Data,
    id: web::Path<String>,
    _: web::Query<NoParams>,
) -> Result<HttpResponse, AggError> {
    by_id(&state, &id, false)
}

/// Services at locations, paginated.
#[utoipa::path(get, path = "/oruk/service_at_locations", tag = "oruk", params(OrukQuery),
    responses((status = 200, description = "A page of service_at_location items", body = Object),
        (status = 400, description = "A parameter is invalid (its stable `code`); several are one `invalid_query`, each in `errors`", body = signpost_http::Problem, content_type = "application/problem+json"),
        RateLimited))]
pub async fn service_at_locations(
    state: Data,
    req: HttpRequest,
    q: Result<web::Query<OrukQuery>, actix_web::Error>,
) -> Result<HttpResponse, AggError> {
    list(&state, &req, q, Kind::AtLocation)
}

/// One service at a location: the full service it belongs to.
#[utoipa::path(get, path = "/oruk/service_at_locations/{id}", tag = "oruk", params(("id" = String, Path, description = "service_at_location UUID")),
    responses((status = 200, description = "The full ORUK service", body = Object),
        (status = 404, description = "Not found", body = signpost_http::Problem, content_type = "application/problem+json"),
        TakesNoParameters,
        RateLimited))]
pub async fn service_at_location(
    state: Data,
    id: web::Path<String>,
    _: web::Query<NoParams>,
) -> Result<HttpResponse, AggError> {
    by_id(&state, &id, true)
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page number, from 1 (default 1).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000000)]
    pub page: Option<String>,
    /// Items a page, 1 to 1000 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub per_page: Option<String>,
}

fn paginate<T: Serialize>(items: Vec<T>, q: &PageQuery) -> Result<HttpResponse, AggError> {
    let (page, per_page) = query::page(&q.page, &q.per_page)?;
    let total = items.len();
    let contents = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    ok(&Page::new(contents, total, page, per_page))
}

/// Signpost's vocabularies as HSDS taxonomies.
#[utoipa::path(get, path = "/oruk/taxonomies", tag = "oruk", params(PageQuery),
    responses((status = 200, description = "A page of taxonomies", body = Object),
        (status = 400, description = "Invalid parameter", body = signpost_http::Problem, content_type = "application/problem+json"),
        RateLimited))]
pub async fn taxonomies(q: web::Query<PageQuery>) -> Result<HttpResponse, AggError> {
    paginate(VOCABULARIES.iter().map(hsds::taxonomy).collect(), &q)
}

#[utoipa::path(get, path = "/oruk/taxonomies/{id}", tag = "oruk", params(("id" = String, Path, description = "Taxonomy UUID")),
    responses((status = 200, description = "A taxonomy", body = Object),
        (status = 404, description = "Not found", body = signpost_http::Problem, content_type = "application/problem+json"),
        TakesNoParameters,
        RateLimited))]
pub async fn taxonomy(
    id: web::Path<String>,
    _: web::Query<NoParams>,
) -> Result<HttpResponse, AggError> {
    let found = VOCABULARIES
        .iter()
        .find(|v| taxonomy_id(v.0).to_string() == id.as_str())
        .ok_or_else(|| AggError::NotFound(id.chars().take(40).collect()))?;
    ok(&hsds::taxonomy(found))
}

#[utoipa::path(get, path = "/oruk/taxonomy_terms", tag = "oruk", params(PageQuery),
    responses((status = 200, description = "A page of taxonomy terms", body = Object),
        (status = 400, description = "Invalid parameter", body = signpost_http::Problem, content_type = "application/problem+json"),
        RateLimited))]
pub async fn taxonomy_terms(q: web::Query<PageQuery>) -> Result<HttpResponse, AggError> {
    paginate(
        all_terms()
            .into_iter()
            .map(|(v, t)| hsds::term(v, t))
            .collect(),
        &q,
    )
}

#[utoipa::path(get, path = "/oruk/taxonomy_terms/{id}", tag = "oruk", params(("id" = String, Path, description = "Taxonomy term UUID")),
    responses((status = 200, description = "A taxonomy term", body = Object),
        (status = 404, description = "Not found", body = signpost_http::Problem, content_type = "application/problem+json"),
        TakesNoParameters,
        RateLimited))]
pub async fn taxonomy_term(
    id: web::Path<String>,
    _: web::Query<NoParams>,
) -> Result<HttpResponse, AggError> {
    let (v, t) = all_terms()
        .into_iter()
        .find(|(v, t)| term_id(v, t.id).to_string() == id.as_str())
        .ok_or_else(|| AggError::NotFound(id.chars().take(40).collect()))?;
    ok(&hsds::term(v, t))
}
