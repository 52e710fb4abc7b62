//! HTTP handlers: thin. Parse, call the publisher, map the result.

use std::future::{ready, Ready};
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use signpost_http::responses::{JsonBodyRefused, RateLimited, TakesNoParameters, WrongToken};
use signpost_http::{if_none_match, json_bytes, NoParams, Problem};
use signpost_protocol::model::Group;
use signpost_protocol::{Envelope, Listing, NodeDocument};
use uuid::Uuid;

use crate::error::NodeError;
use crate::publisher::{Bundle, CapacityPatch, Publisher};

/// Shared state of the node's HTTP server.
pub struct AppState {
    pub publisher: Arc<Publisher>,
    /// SHA-256 of the admin token (replaced when the token is rotated from the pages).
    pub admin_token_sha256: std::sync::RwLock<[u8; 32]>,
    /// Wakes the push notifier after a change.
    pub changed: Arc<tokio::sync::Notify>,
    /// Sign-in, sessions and throttling for the pages.
    pub auth: crate::pages::session::Auth,
    /// The node directory.
    pub dir: std::path::PathBuf,
    /// Session cookies carry `Secure` (the node serves HTTPS, or is behind an HTTPS proxy).
    pub secure_cookies: bool,
    /// Push subscribers and their last results.
    pub push: Arc<crate::PushStatus>,
    /// Capacity older than this shows as unknown in directories (the pages nudge).
    pub capacity_max_age_days: u32,
    /// The automatic certificate's state, when the node obtains its own.
    pub acme: Option<Arc<crate::acme::AcmeStatus>>,
}

impl AppState {
    pub fn admin_token(&self) -> std::sync::RwLockReadGuard<'_, [u8; 32]> {
        self.admin_token_sha256
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn set_admin_token(&self, hash: [u8; 32]) {
        *self
            .admin_token_sha256
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = hash;
    }
}

type Data = web::Data<AppState>;

/// Proof that the request carried the admin token. Compared in constant time, on hashes.
pub struct Admin;

impl FromRequest for Admin {
    type Error = NodeError;
    type Future = Ready<Result<Self, NodeError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let Some(state) = req.app_data::<Data>() else {
            return ready(Err(NodeError::Internal("state missing".into())));
        };
        let ok = signpost_http::bearer_matches(req, &state.admin_token());
        ready(if ok {
            Ok(Admin)
        } else {
            Err(NodeError::Unauthorized)
        })
    }
}

/// Runs store and signing work off the async threads (the admin API's and the pages').
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, NodeError> + Send + 'static,
) -> Result<T, NodeError> {
    web::block(f)
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?
}

/// The current node document envelope.
#[utoipa::path(get, path = "/.well-known/signpost/node", tag = "public",
    responses((status = 200, description = "Node document envelope (node.v1), signed by the root key(s)", body = Envelope),
        TakesNoParameters,
        RateLimited))]
pub async fn node_document(state: Data, _: web::Query<NoParams>) -> HttpResponse {
    json_bytes(state.publisher.published().node_document.clone())
}

/// An earlier (or the current) node document version, for walking the rotation chain.
#[utoipa::path(get, path = "/v1/node/{version}", tag = "public",
    params(("version" = u64, Path, description = "Node document version, from 1")),
    responses((status = 200, description = "Node document envelope", body = Envelope),
        (status = 404, description = "No such version", body = Problem, content_type = "application/problem+json"),
        TakesNoParameters,
        RateLimited))]
pub async fn node_version(
    state: Data,
    path: web::Path<u64>,
    _: web::Query<NoParams>,
) -> Result<HttpResponse, NodeError> {
    let version = path.into_inner();
    let published = state.publisher.published();
    let index = usize::try_from(version).ok().and_then(|v| v.checked_sub(1));
    let doc = index
        .and_then(|i| published.node_versions.get(i))
        .ok_or(NodeError::NodeVersionNotFound(version))?;
    Ok(json_bytes(doc.clone()))
}

/// The current snapshot envelope. Strong `ETag`; `If-None-Match` gives 304.
#[utoipa::path(get, path = "/v1/snapshot", tag = "public",
    responses((status = 200, description = "Snapshot envelope (snapshot.v1)", body = Envelope,
            headers(("ETag" = String, description = "Quoted digest of the snapshot envelope"))),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 404, description = "Nothing published yet", body = Problem, content_type = "application/problem+json"),
        TakesNoParameters,
        RateLimited))]
pub async fn snapshot(
    state: Data,
    req: HttpRequest,
    _: web::Query<NoParams>,
) -> Result<HttpResponse, NodeError> {
    conditional(&state, &req, |p| p.snapshot.clone())
}

/// A response tagged with the snapshot's ETag, or 304 when the client has it.
fn conditional(
    state: &Data,
    req: &HttpRequest,
    body: impl FnOnce(&crate::publisher::Published) -> web::Bytes,
) -> Result<HttpResponse, NodeError> {
    let published = state.publisher.published();
    if published.seq == 0 {
        return Err(NodeError::NothingPublished);
    }
    if if_none_match(req, &published.etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, published.etag.clone()))
            .finish());
    }
    let mut resp = json_bytes(body(&published));
    resp.headers_mut().insert(
        header::ETAG,
        header::HeaderValue::from_str(&published.etag)
            .map_err(|e| NodeError::Internal(e.to_string()))?,
    );
    Ok(resp)
}

/// One listing envelope, as named by the current snapshot.
#[utoipa::path(get, path = "/v1/listings/{id}", tag = "public",
    params(("id" = Uuid, Path, description = "Listing id")),
    responses((status = 200, description = "Listing envelope (listing.v1)", body = Envelope),
        (status = 404, description = "No such listing", body = Problem, content_type = "application/problem+json"),
        TakesNoParameters,
        RateLimited))]
pub async fn listing(
    state: Data,
    path: web::Path<Uuid>,
    _: web::Query<NoParams>,
) -> Result<HttpResponse, NodeError> {
    let id = path.into_inner();
    let published = state.publisher.published();
    let bytes = published
        .listings
        .get(&id)
        .ok_or(NodeError::ListingNotFound(id))?;
    Ok(json_bytes(bytes.clone()))
}

/// The snapshot with every listing and attestation envelope it names, for a cold crawl.
#[utoipa::path(get, path = "/v1/bundle", tag = "public",
    responses((status = 200, description = "Bundle", body = Bundle,
            headers(("ETag" = String, description = "The snapshot's ETag"))),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 404, description = "Nothing published yet", body = Problem, content_type = "application/problem+json"),
        TakesNoParameters,
        RateLimited))]
pub async fn bundle(
    state: Data,
    req: HttpRequest,
    _: web::Query<NoParams>,
) -> Result<HttpResponse, NodeError> {
    conditional(&state, &req, |p| p.bundle.clone())
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "public", responses((status = 200, description = "The node is serving", body = String, content_type = "text/plain"),
        RateLimited))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

pub use signpost_protocol::wire::AdminListing;

fn admin_listing(l: signpost_protocol::Verified<Listing>) -> AdminListing {
    let (listing, envelope) = l.into_parts();
    AdminListing { listing, envelope }
}

/// Every published listing with its version.
#[utoipa::path(get, path = "/admin/listings", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Listings", body = Vec<Listing>),
        WrongToken,
        TakesNoParameters))]
pub async fn admin_list(_: Admin, state: Data, _: web::Query<NoParams>) -> HttpResponse {
    HttpResponse::Ok().json(state.publisher.listings())
}

/// Publishes a new listing (signed, with a new snapshot).
#[utoipa::path(post, path = "/admin/listings", tag = "admin", security(("bearer" = [])),
    request_body = Group,
    responses((status = 201, description = "Published", body = AdminListing),
        JsonBodyRefused,
        WrongToken,
        (status = 409, description = "Listing limit reached", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid listing: every problem in `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn admin_create(
    _: Admin,
    state: Data,
    body: web::Json<Box<serde_json::value::RawValue>>,
) -> Result<HttpResponse, NodeError> {
    let group = crate::decode::group_text(body.get())?;
    let publisher = Arc::clone(&state.publisher);
    let listing = blocking(move || publisher.create(group)).await?;
    state.changed.notify_one();
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/listings/{}", listing.id)))
        .json(admin_listing(listing)))
}

/// Replaces a listing's content (new version).
#[utoipa::path(put, path = "/admin/listings/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = Group,
    responses((status = 200, description = "Published", body = AdminListing),
        JsonBodyRefused,
        WrongToken,
        (status = 404, description = "No such listing", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid listing: every problem in `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn admin_replace(
    _: Admin,
    state: Data,
    path: web::Path<Uuid>,
    body: web::Json<Box<serde_json::value::RawValue>>,
) -> Result<HttpResponse, NodeError> {
    let group = crate::decode::group_text(body.get())?;
    let publisher = Arc::clone(&state.publisher);
    let id = path.into_inner();
    let listing = blocking(move || publisher.replace(id, group)).await?;
    state.changed.notify_one();
    Ok(HttpResponse::Ok().json(admin_listing(listing)))
}

/// Withdraws a listing.
#[utoipa::path(delete, path = "/admin/listings/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    responses((status = 204, description = "Withdrawn"),
        WrongToken,
        (status = 404, description = "No such listing", body = Problem, content_type = "application/problem+json")))]
pub async fn admin_delete(
    _: Admin,
    state: Data,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, NodeError> {
    let publisher = Arc::clone(&state.publisher);
    let id = path.into_inner();
    blocking(move || publisher.delete(id)).await?;
    state.changed.notify_one();
    Ok(HttpResponse::NoContent().finish())
}

/// Updates capacity: places, accepting referrals, weekly cap, waiting time. `updated_at` is
/// set to now.
#[utoipa::path(patch, path = "/admin/listings/{id}/capacity", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body = CapacityPatch,
    responses((status = 200, description = "Published", body = AdminListing),
        JsonBodyRefused,
        WrongToken,
        (status = 404, description = "No such listing", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid listing: every problem in `errors`", body = Problem, content_type = "application/problem+json")))]
pub async fn admin_capacity(
    _: Admin,
    state: Data,
    path: web::Path<Uuid>,
    body: signpost_http::Body<CapacityPatch>,
) -> Result<HttpResponse, NodeError> {
    // Only a JSON object is a patch (serde would also take a list of field values): the
    // body reader refuses a list.
    let body = body.into_inner();
    let publisher = Arc::clone(&state.publisher);
    let id = path.into_inner();
    let listing = blocking(move || publisher.patch_capacity(id, &body)).await?;
    state.changed.notify_one();
    Ok(HttpResponse::Ok().json(admin_listing(listing)))
}

/// Imports an attestation about this organisation (its signature must verify under its
/// issuer, and its subject must be this node).
#[utoipa::path(post, path = "/admin/attestations", tag = "admin", security(("bearer" = [])),
    request_body = Envelope,
    responses((status = 201, description = "Imported; the next snapshot names it", body = signpost_protocol::Attestation),
        JsonBodyRefused,
        WrongToken,
        (status = 422, description = "Signature invalid or about another organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn admin_attestation(
    _: Admin,
    state: Data,
    body: signpost_http::Body<Envelope>,
) -> Result<HttpResponse, NodeError> {
    let publisher = Arc::clone(&state.publisher);
    let att = blocking(move || publisher.import_attestation(body.into_inner())).await?;
    state.changed.notify_one();
    Ok(HttpResponse::Created().json(att.payload()))
}

/// Replaces the signing key: node document version + 1 signed by the root key; every listing
/// re-signed.
#[utoipa::path(post, path = "/admin/keys/rotate", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "The new node document", body = NodeDocument),
        WrongToken,
        (status = 409, description = "The root key is not on this machine", body = Problem, content_type = "application/problem+json")))]
pub async fn admin_rotate(_: Admin, state: Data) -> Result<HttpResponse, NodeError> {
    let publisher = Arc::clone(&state.publisher);
    let doc = blocking(move || publisher.rotate_signing_key()).await?;
    state.changed.notify_one();
    Ok(HttpResponse::Ok().json(doc.payload()))
}

/// The passphrase a backup is encrypted with.
#[derive(Debug, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupRequest {
    /// At least 12 characters; needed to restore.
    #[schema(min_length = 12)]
    pub passphrase: String,
}

/// An encrypted backup (age, passphrase): keys, configuration, sign-in secrets and the
/// store, for `signpost node restore`.
#[utoipa::path(post, path = "/admin/backup", tag = "admin", security(("bearer" = [])),
    request_body = BackupRequest,
    responses((status = 200, description = "The backup file", content_type = "application/octet-stream"),
        JsonBodyRefused,
        WrongToken,
        (status = 422, description = "Passphrase too short", body = Problem, content_type = "application/problem+json")))]
pub async fn admin_backup(
    _: Admin,
    state: Data,
    body: signpost_http::Body<BackupRequest>,
) -> Result<HttpResponse, NodeError> {
    let req = body.into_inner();
    let publisher = Arc::clone(&state.publisher);
    let dir = state.dir.clone();
    let bytes = blocking(move || {
        crate::backup::create(&dir, &publisher, &req.passphrase).map_err(|e| match e {
            crate::backup::BackupError::WeakPassphrase => {
                NodeError::Invalid(vec![signpost_protocol::wire::FieldProblem {
                    field: "passphrase".into(),
                    code: "too_short".into(),
                    message: "The passphrase must be at least 12 characters".into(),
                }])
            }
            other => NodeError::Internal(other.to_string()),
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"signpost-node-backup.age\"",
        ))
        .body(bytes))
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig, max_body: usize) {
    cfg.app_data(signpost_http::json_config(max_body))
        .app_data(signpost_http::path_config())
        .app_data(signpost_http::query_config())
        .service(
            // Each path answers a method it does not have with 405 and `Allow`, not a 404
            // saying there is nothing there.
            web::scope("/admin")
                .service(
                    web::resource("/listings")
                        .route(web::get().to(admin_list))
                        .route(web::post().to(admin_create))
                        .default_service(signpost_http::method_not_allowed("GET, HEAD, POST")),
                )
                .service(
                    web::resource("/listings/{id}")
                        .route(web::put().to(admin_replace))
                        .route(web::delete().to(admin_delete))
                        .default_service(signpost_http::method_not_allowed("PUT, DELETE")),
                )
                .service(
                    web::resource("/listings/{id}/capacity")
                        .route(web::patch().to(admin_capacity))
                        .default_service(signpost_http::method_not_allowed("PATCH")),
                )
                .service(signpost_http::post("/attestations", admin_attestation))
                .service(signpost_http::post("/keys/rotate", admin_rotate))
                .service(signpost_http::post("/backup", admin_backup)),
        )
        .service(
            signpost_http::public_scope("")
                .service(signpost_http::get(
                    "/.well-known/signpost/node",
                    node_document,
                ))
                .service(signpost_http::get("/v1/node/{version}", node_version))
                .service(signpost_http::get("/v1/snapshot", snapshot))
                .service(signpost_http::get("/v1/listings/{id}", listing))
                .service(signpost_http::get("/v1/bundle", bundle))
                .service(signpost_http::get("/healthz", healthz)),
        );
}
