//! HTTP pieces shared by the node and the aggregator.
//!
//! Errors become HTTP here and nowhere else: every server error type implements [`ApiError`]
//! (a stable code, a status, a message), and [`Problem`] renders it as
//! `application/problem+json` (RFC 9457). Extractor failures (malformed JSON, oversized
//! bodies, bad paths and queries) and unknown routes go through the same table.

pub mod ratelimit;

use std::fmt;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error that has a place in an API's error table.
pub trait ApiError: fmt::Display + fmt::Debug {
    /// Stable, machine-readable, lowercase with underscores. Never changes meaning.
    fn code(&self) -> &'static str;
    fn status(&self) -> StatusCode;
    /// A short, human title for the code.
    fn title(&self) -> &'static str;
}

/// An RFC 9457 problem document, with Signpost's stable `code`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:signpost:problem:<code>`.
    #[serde(rename = "type")]
    #[schema(example = "urn:signpost:problem:invalid_listing")]
    pub problem_type: String,
    #[schema(example = "The listing is not valid")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    /// What exactly was wrong with this request.
    pub detail: String,
    /// Stable machine-readable code.
    #[schema(example = "invalid_listing")]
    pub code: String,
}

impl Problem {
    pub fn from_error<E: ApiError + ?Sized>(err: &E) -> Self {
        Self {
            problem_type: format!("urn:signpost:problem:{}", err.code()),
            title: err.title().to_owned(),
            status: err.status().as_u16(),
            detail: err.to_string(),
            code: err.code().to_owned(),
        }
    }

    pub fn response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = HttpResponse::build(status);
        resp.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if status == StatusCode::UNAUTHORIZED {
            resp.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        resp.json(self)
    }
}

/// Renders any [`ApiError`] as problem+json; use in `ResponseError::error_response`.
pub fn problem_response<E: ApiError + ?Sized>(err: &E) -> HttpResponse {
    if err.status().is_server_error() {
        tracing::error!(code = err.code(), error = %err, "internal error");
    }
    Problem::from_error(err).response()
}

/// Errors raised before a handler runs: request parsing and routing. Shared by every server.
#[derive(Debug)]
#[non_exhaustive]
pub enum RequestError {
    MalformedJson(String),
    BodyTooLarge { limit: usize },
    UnsupportedMediaType,
    BadPath(String),
    BadQuery(String),
    NotFound,
    RateLimited { retry_after_secs: u64 },
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedJson(e) => {
                write!(f, "the body is not valid JSON for this endpoint: {e}")
            }
            Self::BodyTooLarge { limit } => write!(f, "the body is larger than {limit} bytes"),
            Self::UnsupportedMediaType => f.write_str("send the body as application/json"),
            Self::BadPath(e) => write!(f, "the path is not valid: {e}"),
            Self::BadQuery(e) => write!(f, "the query string is not valid: {e}"),
            Self::NotFound => f.write_str("no such resource"),
            Self::RateLimited { retry_after_secs } => {
                write!(
                    f,
                    "too many requests from this client; retry after {retry_after_secs} s"
                )
            }
        }
    }
}

impl ApiError for RequestError {
    fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "malformed_json",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::BadPath(_) => "invalid_path",
            Self::BadQuery(_) => "invalid_query",
            Self::NotFound => "not_found",
            Self::RateLimited { .. } => "rate_limited",
        }
    }
    fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) | Self::BadQuery(_) => StatusCode::BAD_REQUEST,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadPath(_) | Self::NotFound => StatusCode::NOT_FOUND,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }
    fn title(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "Malformed JSON body",
            Self::BodyTooLarge { .. } => "Request body too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::BadPath(_) => "Not found",
            Self::BadQuery(_) => "Invalid query parameters",
            Self::NotFound => "Not found",
            Self::RateLimited { .. } => "Too many requests",
        }
    }
}

impl ResponseError for RequestError {
    fn status_code(&self) -> StatusCode {
        ApiError::status(self)
    }
    fn error_response(&self) -> HttpResponse {
        problem_response(self)
    }
}

/// JSON body extraction with a size limit and problem+json errors.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req| {
            use actix_web::error::JsonPayloadError as J;
            let e = match &err {
                J::OverflowKnownLength { .. } | J::Overflow { .. } => {
                    RequestError::BodyTooLarge { limit }
                }
                J::ContentType => RequestError::UnsupportedMediaType,
                other => RequestError::MalformedJson(other.to_string()),
            };
            e.into()
        })
}

/// Path extraction with problem+json errors (a malformed id is "not found").
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|err, _req| RequestError::BadPath(err.to_string()).into())
}

/// Query extraction with problem+json errors.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _req| RequestError::BadQuery(err.to_string()).into())
}

/// The default service: unknown routes are a problem+json 404.
pub async fn not_found(_req: HttpRequest) -> HttpResponse {
    problem_response(&RequestError::NotFound)
}

/// CORS for public, read-only endpoints: any origin may read.
pub fn public_cors() -> actix_cors::Cors {
    actix_cors::Cors::default()
        .allow_any_origin()
        .allowed_methods(["GET", "HEAD", "OPTIONS"])
        .allow_any_header()
        .expose_headers([header::ETAG, header::CONTENT_TYPE])
        .max_age(86_400)
}

/// A JSON response from bytes already serialised (pre-built responses on hot paths).
pub fn json_bytes(bytes: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ))
        .body(bytes)
}

/// Whether an `If-None-Match` header matches a strong `etag` (already quoted).
pub fn if_none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag == etag)
}

/// Compares a generated OpenAPI document with its committed copy (rewriting the copy first
/// when `SIGNPOST_BLESS` is set). For the tests that keep `openapi/` in step with the code.
pub fn check_committed(path: &str, generated: &str) -> Result<(), String> {
    if std::env::var_os("SIGNPOST_BLESS").is_some() {
        std::fs::write(path, generated).map_err(|e| format!("{path}: {e}"))?;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed == generated {
        Ok(())
    } else {
        Err(format!(
            "{path} is out of date; run `SIGNPOST_BLESS=1 cargo test openapi` and commit it"
        ))
    }
}

/// A running server and the background tasks that belong to it (re-signing, crawling, ...).
pub struct Running {
    handle: actix_web::dev::ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Spawns `server` on the current runtime.
    pub fn spawn(server: actix_web::dev::Server) -> Self {
        let handle = server.handle();
        Self {
            handle,
            server: tokio::spawn(server),
            background: Vec::new(),
        }
    }

    /// Adds a task that stops with the server.
    pub fn with(mut self, task: tokio::task::JoinHandle<()>) -> Self {
        self.background.push(task);
        self
    }

    /// Waits until the server stops (a signal, or [`Running::stop`] from elsewhere).
    pub async fn wait(self) -> std::io::Result<()> {
        let result = self.server.await.unwrap_or(Ok(()));
        for task in self.background {
            task.abort();
        }
        result
    }

    /// Stops accepting, finishes in-flight requests, and stops the background tasks.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        for task in &self.background {
            task.abort();
        }
        for task in self.background {
            let _ = task.await;
        }
        let _ = self.server.await;
    }
}
