//! The directory API: thin handlers over the index, the crawl health and the trust policy.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use signpost_http::responses::{JsonBodyRefused, RateLimited, TakesNoParameters, WrongToken};
use signpost_http::{NoParams, Problem};
use signpost_protocol::policy::AttestationStatus;
use signpost_protocol::query::{GroupQuery, Problems, QueryCode, QueryError, RawGroupQuery};
use signpost_protocol::taxonomy::{Taxonomy, TAXONOMY};
use signpost_protocol::wire::{
    AuditEntry, CapacityStatus, Enrolment, EnrolmentRequest, FeedPage, GroupsPage, IssuerInfo,
    NodeHealth, Provenance, ProvenanceCheck,
};
use signpost_protocol::{DidKey, Envelope, EnvelopeRef};
use uuid::Uuid;

use crate::crawl::Aggregator;
use crate::error::AggError;
use crate::page_json::{AttestationView, FeedItemView, ProvenanceView};

type Data = web::Data<Arc<Aggregator>>;

/// How long a query answer may be reused: a minute, or five more when this service fails.
pub const CACHE_CONTROL: &str = "public, max-age=60, stale-if-error=300";

/// Conditional GET for answers derived from the directory's state: the ETag, and a 304
/// when the client already holds it.
pub fn conditional(state: &Aggregator, req: &HttpRequest) -> (String, Option<HttpResponse>) {
    // The request's path and query as they came, not written out again per request.
    let target = req.uri().path_and_query().map_or("", |pq| pq.as_str());
    let etag = state.state_etag(target);
    let not_modified = signpost_http::if_none_match(req, &etag).then(|| {
        HttpResponse::NotModified()
            .insert_header((header::ETAG, etag.clone()))
            .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
            .finish()
    });
    (etag, not_modified)
}

/// A cacheable JSON answer with its ETag.
pub fn cached_json(bytes: Vec<u8>, etag: String) -> HttpResponse {
    let mut resp = signpost_http::json_bytes(bytes.into());
    let headers = resp.headers_mut();
    if let Ok(v) = header::HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(CACHE_CONTROL),
    );
    resp
}

/// A query string its extractor refused (a parameter unknown or given twice), read again
/// from its pairs so that those mistakes are named with the values' own.
pub(crate) fn reread<T>(req: &HttpRequest) -> (T, Problems)
where
    T: serde::de::DeserializeOwned + Default + utoipa::IntoParams,
{
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let mut problems = Problems::default();
    let read = problems.read(&pairs);
    if problems.is_empty() {
        // Refused for a reason reading again does not find: never answered as if accepted.
        problems.push(QueryError::new(
            QueryCode::InvalidParameter,
            "query",
            "the parameters could not be read; check them against the API documentation",
        ));
    }
    (read, problems)
}

/// A path's node id.
fn did(s: &str) -> Result<DidKey, AggError> {
    did_of("a node", s)
}

/// A path's did:key, refused as `what` ("a node", "an issuer") when it is not one.
fn did_of(what: &'static str, s: &str) -> Result<DidKey, AggError> {
    s.parse().map_err(
        |e: signpost_protocol::did::DidError| AggError::InvalidNodeId {
            what,
            id: s.chars().take(100).collect(),
            why: e.to_string(),
        },
    )
}

/// Find groups. Every filter is optional; filters combine with AND. Order: with `near` (or
/// `postcode`), by distance, which each result carries; else with `text`, by relevance
/// (see `text`); else by organisation name, then group name (case and accents folded),
/// then id. Ties always fall back to that default order, so pages never overlap.
#[utoipa::path(get, path = "/v1/groups", tag = "directory",
    params(RawGroupQuery),
    responses((status = 200, description = "A page of groups, each with its original signed envelope", body = GroupsPage),
        (status = 400, description = "A parameter is invalid (its stable `code`); several are one `invalid_query`, each in `errors` with its own code", body = Problem, content_type = "application/problem+json"),
        RateLimited))]
pub async fn groups(
    state: Data,
    req: HttpRequest,
    query: Result<web::Query<RawGroupQuery>, actix_web::Error>,
) -> Result<HttpResponse, AggError> {
    let mut q = match query {
        Ok(raw) => GroupQuery::parse(&raw)?,
        Err(_) => {
            let (raw, problems) = reread::<RawGroupQuery>(&req);
            GroupQuery::parse_after(&raw, problems)?
        }
    };
    let (etag, not_modified) = conditional(&state, &req);
    if let Some(resp) = not_modified {
        return Ok(resp);
    }
    state.metrics.queries.fetch_add(1, Ordering::Relaxed);
    let body = groups_body(&state, &mut q)?;
    Ok(cached_json(body, etag))
}

/// The body of a `/v1/groups` answer: the engine and the page writer without HTTP (the
/// bench times this beside the whole request).
pub fn groups_body(state: &Aggregator, q: &mut GroupQuery) -> Result<Vec<u8>, AggError> {
    let centre = q.locate(state.gazetteer())?;
    let index = state.index();
    let revocations = state.revocations();
    let ctx = state.context(&revocations, Utc::now());
    let mut page = index.search(q, &ctx);
    page.centre = centre;
    let mut body = Vec::with_capacity(1024 + page.contents.len() * 5 * 1024);
    crate::page_json::write_page(&mut body, &page)
        .map_err(|e| AggError::Internal(e.to_string()))?;
    Ok(body)
}

fn check(check: &'static str, at: DateTime<Utc>, result: Result<(), String>) -> ProvenanceCheck {
    ProvenanceCheck {
        check: check.into(),
        ok: result.is_ok(),
        reason: result.err(),
        checked_at: Some(at),
    }
}

/// One group with its provenance: the listing, snapshot and node document envelopes, the
/// attestations, and the result of every check.
#[utoipa::path(get, path = "/v1/groups/{node}/{id}", tag = "directory",
    params(("node" = String, Path, description = "The organisation's id (did:key)"), ("id" = Uuid, Path, description = "The listing id")),
    responses((status = 200, description = "The group and its provenance", body = Provenance),
        (status = 404, description = "No such group", body = Problem, content_type = "application/problem+json"),
        TakesNoParameters,
        RateLimited))]
pub async fn group(
    state: Data,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    _: web::Query<NoParams>,
) -> Result<HttpResponse, AggError> {
    let (node_s, id_s) = path.into_inner();
    let node = did(&node_s)?;
    let (etag, not_modified) = conditional(&state, &req);
    let not_found = || AggError::GroupNotFound {
        node: node_s.chars().take(100).collect(),
        id: id_s.chars().take(40).collect(),
    };
    let id: Uuid = id_s.parse().map_err(|_| not_found())?;
    let index = state.index();
    let revocations = state.revocations();
    let now = Utc::now();
    let ctx = state.context(&revocations, now);
    let group = index.get(&node, &id, &ctx).ok_or_else(not_found)?;
    let seg = index.segment(&node).ok_or_else(not_found)?;
    let data = &seg.data;
    let listing = data.listings.get(&id).ok_or_else(not_found)?;
    if let Some(resp) = not_modified {
        return Ok(resp);
    }
    let node_documents: Vec<EnvelopeRef<'_>> = data.chain.iter().map(|d| d.envelope()).collect();

    // Every check computed now from the verified state (signatures were verified on receipt,
    // at `verified_at`, under the keys these checks name).
    let mut checks: Vec<ProvenanceCheck> = crate::verify::provenance_checks(data, listing, now)
        .into_iter()
        .map(|(name, result)| check(name, now, result))
        .collect();
    checks.extend([
        check("snapshot_fresh", now, fresh(data.snapshot.expires_at, now)),
        check("listing_fresh", now, fresh(listing.expires_at, now)),
        check(
            "capacity_fresh",
            now,
            if ctx.capacity_status(listing) != CapacityStatus::Unknown {
                Ok(())
            } else {
                Err(format!(
                    "capacity confirmed {}; shown as unknown",
                    listing.group.capacity.updated_at.to_rfc3339()
                ))
            },
        ),
    ]);
    let attestations = data
        .attestations
        .iter()
        .zip(ctx.attestations(data))
        .map(|(a, (status, checks))| AttestationView {
            attestation: a.payload(),
            status,
            checks,
            envelope: a.envelope(),
        })
        .collect();
    let body = ProvenanceView {
        group,
        node_documents,
        snapshot: data.snapshot.envelope(),
        listing: listing.envelope(),
        attestations,
        checks,
    };
    let mut bytes = Vec::with_capacity(32 * 1024);
    crate::page_json::write_provenance(&mut bytes, &body)
        .map_err(|e| AggError::Internal(e.to_string()))?;
    Ok(cached_json(bytes, etag))
}

fn fresh(expires: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    if expires > now {
        Ok(())
    } else {
        Err(format!("expired at {}", expires.to_rfc3339()))
    }
}

/// Crawl health per node: status, last success, and the reason for the last refusal.
#[utoipa::path(get, path = "/v1/nodes", tag = "directory",
    responses((status = 200, description = "Every node in the trust policy", body = Vec<NodeHealth>),
        TakesNoParameters,
        RateLimited))]
pub async fn nodes(state: Data, _: web::Query<NoParams>) -> HttpResponse {
    HttpResponse::Ok().json(state.health())
}

/// One node's crawl health, as in `/v1/nodes`: a node's own pages ask it to show the
/// organisation whether this directory lists it and which of its publications it serves.
#[utoipa::path(get, path = "/v1/nodes/{node}", tag = "directory",
    params(("node" = String, Path, description = "The organisation's id (did:key)")),
    responses((status = 200, description = "The node's crawl health", body = NodeHealth),
        (status = 404, description = "This directory does not list the node (`node_not_found`), or the id is not a did:key (`invalid_node_id`)", body = Problem, content_type = "application/problem+json"),
        TakesNoParameters,
        RateLimited))]
pub async fn node(
    state: Data,
    path: web::Path<String>,
    _: web::Query<NoParams>,
) -> Result<HttpResponse, AggError> {
    let node = did(&path)?;
    state
        .node_health(&node)
        .map(|h| HttpResponse::Ok().json(h))
        .ok_or_else(|| AggError::NodeNotFound(node.to_string()))
}

/// The trusted issuers and their revocation lists.
#[utoipa::path(get, path = "/v1/issuers", tag = "directory",
    responses((status = 200, description = "Trusted issuers", body = Vec<IssuerInfo>),
        TakesNoParameters,
        RateLimited))]
pub async fn issuers(state: Data, _: web::Query<NoParams>) -> HttpResponse {
    let revocations = state.revocations();
    let out: Vec<IssuerInfo> = state
        .config
        .issuers
        .iter()
        .map(|i| {
            let view = revocations.get(&i.id);
            let list = view.and_then(|v| v.list.as_ref());
            IssuerInfo {
                id: i.id,
                name: i.name.clone(),
                achievements: i.achievements.clone(),
                revocations_url: i.revocations_url.clone(),
                revocation_list_version: list.map(|l| l.version),
                revocation_list_expires_at: list.map(|l| l.expires_at),
                revocation_list_fetched_at: view.and_then(|v| v.last_success),
                revoked: list.map(|l| l.revoked.len()).unwrap_or(0),
            }
        })
        .collect();
    HttpResponse::Ok().json(out)
}

/// Filters of the regulator's audit, as sent.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only attestations for this achievement (an achievement's id in `GET /v1/taxonomy`).
    #[param(value_type = Option<signpost_protocol::taxonomy::AchievementId>, inline)]
    pub achievement: Option<String>,
    /// Only attestations with this status.
    #[param(value_type = Option<AttestationStatus>)]
    pub status: Option<String>,
}

/// The audit's filters, read: an achievement of the taxonomy and a status.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub achievement: Option<String>,
    pub status: Option<AttestationStatus>,
}

impl AuditFilter {
    /// Reads both filters, naming each that is not one of its list (an empty one too: the
    /// `/audit` page, whose "any" is empty, leaves those out).
    pub fn read(achievement: Option<&str>, status: Option<&str>) -> Result<Self, QueryError> {
        let mut problems = Problems::default();
        if let Some(a) = achievement {
            if !signpost_protocol::taxonomy::contains(signpost_protocol::taxonomy::ACHIEVEMENTS, a)
            {
                problems.push(QueryError::new(
                    QueryCode::UnknownAchievement,
                    "achievement",
                    format!("unknown achievement {a:?}; see GET /v1/taxonomy"),
                ));
            }
        }
        let status = match status {
            None => None,
            Some(s) => AttestationStatus::from_name(s).or_else(|| {
                let names: Vec<&str> = AttestationStatus::ALL.iter().map(|s| s.as_str()).collect();
                problems.push(QueryError::new(
                    QueryCode::InvalidParameter,
                    "status",
                    format!("{s:?} is not a status; use one of: {}", names.join(", ")),
                ));
                None
            }),
        };
        problems.finish()?;
        Ok(Self {
            achievement: achievement.map(str::to_owned),
            status,
        })
    }
}

/// Every organisation presenting an attestation from `issuer`, with its status now: the one
/// place the audit is computed (the API and the `/audit` page both read it).
pub fn audit_entries(state: &Aggregator, issuer: &DidKey, q: &AuditFilter) -> Vec<AuditEntry> {
    let index = state.index();
    let revocations = state.revocations();
    let ctx = state.context(&revocations, Utc::now());
    let mut out = Vec::new();
    for seg in index.segments() {
        for (att, (status, checks)) in seg
            .data
            .attestations
            .iter()
            .zip(ctx.attestations(&seg.data))
        {
            if att.issuer == *issuer
                && q.achievement.as_ref().is_none_or(|a| *a == att.achievement)
                && q.status.is_none_or(|s| s == status)
            {
                let status_since = match status {
                    AttestationStatus::Revoked => revocations
                        .get(&att.issuer)
                        .and_then(|v| v.revoked_since.get(&att.serial))
                        .copied(),
                    AttestationStatus::Expired => Some(att.valid_until),
                    AttestationStatus::Verified => Some(seg.data.verified_at),
                    _ => None,
                };
                out.push(AuditEntry {
                    node: seg.data.id,
                    node_name: seg.name.clone(),
                    attestation: att.payload().clone(),
                    status,
                    status_since,
                    checks,
                });
            }
        }
    }
    out.sort_by(|a, b| a.node_name.cmp(&b.node_name));
    out
}

/// The regulator's audit: every organisation presenting an attestation from this issuer,
/// with its status (verified, expired, revoked, subject mismatch, untrusted, ...), by
/// organisation name. An unknown parameter is a 400.
#[utoipa::path(get, path = "/v1/issuers/{did}/attestations", tag = "directory",
    params(("did" = String, Path, description = "The issuer's did:key"), AuditQuery),
    responses((status = 200, description = "Attestations presented", body = Vec<AuditEntry>),
        (status = 400, description = "A parameter is unknown or invalid: `unknown_parameter`, `unknown_achievement`, `invalid_parameter` (a status not in the list); several are one `invalid_query`, each in `errors`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The issuer id is not a did:key (`invalid_node_id`, the code of any id in a path)", body = Problem, content_type = "application/problem+json"),
        RateLimited))]
pub async fn issuer_attestations(
    state: Data,
    path: web::Path<String>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AggError> {
    let issuer = did_of("an issuer", &path)?;
    let filter = AuditFilter::read(query.achievement.as_deref(), query.status.as_deref())?;
    Ok(HttpResponse::Ok().json(audit_entries(&state, &issuer, &filter)))
}

/// The published taxonomy: categories, safeguarding capabilities, staff checks, achievements.
#[utoipa::path(get, path = "/v1/taxonomy", tag = "directory",
    responses((status = 200, description = "The taxonomy", body = Taxonomy),
        TakesNoParameters,
        RateLimited))]
pub async fn taxonomy(_: web::Query<NoParams>) -> HttpResponse {
    HttpResponse::Ok().json(TAXONOMY)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// Feed position already seen (0 for everything).
    #[param(value_type = Option<i64>, minimum = 0)]
    pub since: Option<String>,
    /// Most items per response (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// Most bytes per response (default and most 8 MiB, least 64 KiB). A page always holds
    /// at least one item, however large.
    #[param(value_type = Option<u32>, minimum = 65536, maximum = 8388608)]
    pub max_bytes: Option<String>,
}

/// The most bytes a feed page holds (unless one item alone is larger).
pub const FEED_MAX_BYTES: usize = 8 * 1024 * 1024;

/// Verified envelopes as received, for mirror aggregators: each node whose state changed
/// after `since`, with its whole current publication, oldest change first, paged by count
/// and by bytes. A mirror verifies all of it itself.
#[utoipa::path(get, path = "/v1/feed", tag = "directory",
    params(FeedQuery),
    responses((status = 200, description = "Feed page", body = FeedPage),
        (status = 400, description = "A parameter is invalid (`invalid_parameter`); several are one `invalid_query`, each in `errors`", body = Problem, content_type = "application/problem+json"),
        RateLimited))]
pub async fn feed(state: Data, query: web::Query<FeedQuery>) -> Result<HttpResponse, AggError> {
    // Each parameter checked, every mistake named.
    let mut problems = Problems::default();
    let mut bad = |parameter: &'static str, message: &str| {
        problems.push(QueryError::new(
            QueryCode::InvalidParameter,
            parameter,
            message,
        ))
    };
    // Each read as text, so that a value that is not a number is named like one out of range.
    let mut number = |parameter: &'static str, value: &Option<String>, range, default, rule| {
        let (low, high): (u64, u64) = range;
        // Given empty, or with spaces, it is not a number either (as the API document says).
        match value.as_deref() {
            None => default,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (low..=high).contains(&n) => n,
                _ => {
                    bad(parameter, &format!("{v:?} is not accepted: {rule}"));
                    default
                }
            },
        }
    };
    let since = number(
        "since",
        &query.since,
        (0, i64::MAX as u64),
        0,
        "give a feed position, a whole number, 0 or more",
    );
    let limit = number(
        "limit",
        &query.limit,
        (1, 1000),
        100,
        "give a whole number between 1 and 1000",
    ) as usize;
    let max_bytes = number(
        "max_bytes",
        &query.max_bytes,
        (65_536, FEED_MAX_BYTES as u64),
        FEED_MAX_BYTES as u64,
        "give a whole number between 65536 and 8388608",
    ) as usize;
    problems.finish()?;
    // Items are written one by one until the byte budget is spent (always at least one), so
    // a page never grows with the directory and a mirror with a small cap still moves on.
    let mut body = Vec::with_capacity(64 * 1024);
    body.extend_from_slice(b"{\"items\":[");
    let mut next = since;
    for (n, (position, d)) in state.feed_since(since, limit).into_iter().enumerate() {
        let item = FeedItemView {
            position,
            node: &d.id,
            node_documents: d.chain.iter().map(|c| c.envelope()).collect(),
            snapshot: d.snapshot.envelope(),
            listings: d.listings.values().map(|l| l.envelope()).collect(),
            attestations: d.attestations.iter().map(|a| a.envelope()).collect(),
        };
        // Written in place, and taken back out when it does not fit.
        let before = body.len();
        if n > 0 {
            body.push(b',');
        }
        crate::page_json::write_feed_item(&mut body, &item)
            .map_err(|e| AggError::Internal(e.to_string()))?;
        if n > 0 && body.len() + 32 > max_bytes {
            body.truncate(before);
            break;
        }
        next = position;
    }
    body.extend_from_slice(format!("],\"next\":{next}}}").as_bytes());
    Ok(signpost_http::json_bytes(body.into()))
}

/// Push from a node: the body is its new signed snapshot envelope. When it verifies and is
/// newer than what is held, the node is crawled at once.
#[utoipa::path(post, path = "/v1/ping", tag = "federation",
    request_body = Envelope,
    responses((status = 202, description = "Crawl scheduled"),
        JsonBodyRefused,
        (status = 422, description = "Not a newer snapshot of a followed node", body = Problem, content_type = "application/problem+json"),
        RateLimited))]
pub async fn ping(
    state: Data,
    body: signpost_http::Body<Envelope>,
) -> Result<HttpResponse, AggError> {
    state
        .ping(body.into_inner())
        .map_err(|r| AggError::PingRefused(r.to_string()))?;
    Ok(HttpResponse::Accepted().finish())
}

/// An issuer pushes its new signed revocation list: verified under the issuer's key (it must
/// be trusted here) and put in use at once when newer than the one held.
#[utoipa::path(post, path = "/v1/revocations", tag = "federation",
    request_body = Envelope,
    responses((status = 202, description = "In use"),
        JsonBodyRefused,
        (status = 422, description = "Not a newer list, verified, of a trusted issuer", body = Problem, content_type = "application/problem+json"),
        RateLimited))]
pub async fn push_revocations(
    state: Data,
    body: signpost_http::Body<Envelope>,
) -> Result<HttpResponse, AggError> {
    let st = Arc::clone(&state);
    let version = web::block(move || st.push_revocations(body.into_inner()))
        .await
        .map_err(|e| AggError::Internal(e.to_string()))?
        .map_err(AggError::RevocationsRefused)?;
    tracing::info!(version, "revocation list pushed and in use");
    Ok(HttpResponse::Accepted().finish())
}

/// A node asks to be listed. The directory fetches the node document at `url` and checks it
/// is signed by `id` (its whole chain) before keeping the request for the operator.
#[utoipa::path(post, path = "/v1/enrolments", tag = "federation",
    request_body = EnrolmentRequest,
    responses((status = 202, description = "Waiting for the operator's decision", body = Enrolment),
        JsonBodyRefused,
        (status = 403, description = "This directory takes no enrolment requests", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The node document could not be checked, or the node is already listed", body = Problem, content_type = "application/problem+json"),
        RateLimited,
        (status = 503, description = "Too many requests waiting", body = Problem, content_type = "application/problem+json")))]
pub async fn enrol(
    state: Data,
    body: signpost_http::Body<EnrolmentRequest>,
) -> Result<HttpResponse, AggError> {
    let e = state.request_enrolment(body.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(e))
}

/// The operator's bearer token, checked in constant time against its hash.
fn operator(state: &Data, req: &HttpRequest) -> Result<(), AggError> {
    let Some(expected) = state.admin_token else {
        return Err(AggError::EnrolmentClosed);
    };
    if signpost_http::bearer_matches(req, &expected) {
        Ok(())
    } else {
        Err(AggError::Unauthorized)
    }
}

/// Enrolment requests, oldest first (operator only).
#[utoipa::path(get, path = "/admin/enrolments", tag = "operations", security(("bearer" = [])),
    responses((status = 200, description = "Every request held", body = Vec<Enrolment>),
        WrongToken,
        (status = 403, description = "Enrolment is not enabled", body = Problem, content_type = "application/problem+json")))]
pub async fn enrolments(state: Data, req: HttpRequest) -> Result<HttpResponse, AggError> {
    operator(&state, &req)?;
    Ok(HttpResponse::Ok().json(state.enrolments()))
}

/// Approves a request: the node is trusted and crawled at once (operator only).
#[utoipa::path(post, path = "/admin/enrolments/{node}/approve", tag = "operations", security(("bearer" = [])),
    params(("node" = String, Path, description = "The node's id (did:key)")),
    responses((status = 200, description = "Approved", body = Enrolment),
        WrongToken,
        (status = 403, description = "Enrolment is not enabled", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json")))]
pub async fn approve(
    state: Data,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AggError> {
    decide(state, req, path, true).await
}

/// Declines a request, or withdraws an approval: the node is no longer crawled or served,
/// at once (operator only).
#[utoipa::path(post, path = "/admin/enrolments/{node}/decline", tag = "operations", security(("bearer" = [])),
    params(("node" = String, Path, description = "The node's id (did:key)")),
    responses((status = 200, description = "Declined", body = Enrolment),
        WrongToken,
        (status = 403, description = "Enrolment is not enabled", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json")))]
pub async fn decline(
    state: Data,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AggError> {
    decide(state, req, path, false).await
}

async fn decide(
    state: Data,
    req: HttpRequest,
    path: web::Path<String>,
    approve: bool,
) -> Result<HttpResponse, AggError> {
    operator(&state, &req)?;
    let raw = path.into_inner();
    let id: DidKey = raw
        .parse()
        .map_err(|_| AggError::EnrolmentNotFound(raw.clone()))?;
    let e = state.decide_enrolment(&id, approve)?;
    Ok(HttpResponse::Ok().json(e))
}

/// Liveness and readiness.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Serving", body = String, content_type = "text/plain"),
        RateLimited))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
        RateLimited))]
pub async fn metrics(state: Data) -> HttpResponse {
    let m = &state.metrics;
    let index = state.index();
    let health = state.health();
    let mut out = String::new();
    let mut line = |name: &str, help: &str, kind: &str, samples: Vec<(String, u64)>| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for (labels, v) in samples {
            out.push_str(&format!("{name}{labels} {v}\n"));
        }
    };
    line(
        "signpost_listings",
        "Verified listings held",
        "gauge",
        vec![(String::new(), index.listing_count() as u64)],
    );
    let mut by_status = std::collections::BTreeMap::<String, u64>::new();
    for h in &health {
        *by_status.entry(h.status.as_str().to_owned()).or_default() += 1;
    }
    line(
        "signpost_nodes",
        "Nodes by crawl status",
        "gauge",
        by_status
            .into_iter()
            .map(|(s, n)| (format!("{{status=\"{s}\"}}"), n))
            .collect(),
    );
    line(
        "signpost_crawls_total",
        "Crawl attempts",
        "counter",
        vec![(String::new(), m.crawls.load(Ordering::Relaxed))],
    );
    line(
        "signpost_crawl_updates_total",
        "Crawls that installed new verified data",
        "counter",
        vec![(String::new(), m.updates.load(Ordering::Relaxed))],
    );
    line(
        "signpost_crawl_failures_total",
        "Crawls that failed or were refused",
        "counter",
        vec![(String::new(), m.crawl_failures.load(Ordering::Relaxed))],
    );
    let refusals: Vec<(String, u64)> = m
        .refusals
        .lock()
        .map(|r| {
            r.iter()
                .map(|(k, v)| (format!("{{code=\"{k}\"}}"), *v))
                .collect()
        })
        .unwrap_or_default();
    line(
        "signpost_refusals_total",
        "Refusals by reason",
        "counter",
        refusals,
    );
    line(
        "signpost_signatures_checked_total",
        "Signatures checked in this process (each envelope taken is checked once; unchanged listings are not checked again)",
        "counter",
        vec![(String::new(), signpost_protocol::signature_checks())],
    );
    line(
        "signpost_queries_total",
        "Directory queries answered",
        "counter",
        vec![(String::new(), m.queries.load(Ordering::Relaxed))],
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}

/// Registers the directory's `/v1` routes (first of all: see [`crate::routes`]).
pub fn configure_v1(cfg: &mut web::ServiceConfig) {
    cfg.app_data(signpost_http::json_config(64 * 1024))
        .app_data(signpost_http::path_config())
        .app_data(signpost_http::query_config())
        .service(
            signpost_http::public_scope("/v1")
                .service(signpost_http::get("/groups", groups))
                .service(signpost_http::get("/groups/{node}/{id}", group))
                .service(signpost_http::get("/nodes", nodes))
                .service(signpost_http::get("/nodes/{node}", node))
                .service(signpost_http::get("/issuers", issuers))
                .service(signpost_http::get(
                    "/issuers/{did}/attestations",
                    issuer_attestations,
                ))
                .service(signpost_http::get("/taxonomy", taxonomy))
                .service(signpost_http::get("/feed", feed))
                .service(signpost_http::post("/ping", ping))
                .service(signpost_http::post("/enrolments", enrol))
                .service(signpost_http::post("/revocations", push_revocations)),
        );
}

/// Registers the operator's routes (enrolments, health, metrics); last of all, as its scope
/// takes every path left (see [`crate::routes`]).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        signpost_http::public_scope("")
            .service(signpost_http::get("/admin/enrolments", enrolments))
            .service(signpost_http::post(
                "/admin/enrolments/{node}/approve",
                approve,
            ))
            .service(signpost_http::post(
                "/admin/enrolments/{node}/decline",
                decline,
            ))
            .service(signpost_http::get("/healthz", healthz))
            .service(signpost_http::get("/metrics", metrics)),
    );
}
