//! The hardened fetcher: a reqwest client with rustls, a per-request timeout, no redirects to
//! another host (and at most three), JSON only, and a body cap enforced while streaming.
//! Every client in this crate is built on it.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::redirect::Policy;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use signpost_protocol::wire::{Problem, Refusal, RefusalCode};

/// Why a fetch failed. Each maps to a crawl refusal code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("no answer within the time limit")]
    Timeout,
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("the connection was reset or closed before the answer was complete")]
    Reset,
    #[error("redirect refused: {0}")]
    Redirect(String),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    #[error("content type {0:?}, expected application/json")]
    ContentType(String),
    #[error("body not valid JSON for this resource: {0}")]
    Malformed(String),
    #[error("transfer failed: {0}")]
    Body(String),
}

impl FetchError {
    /// The crawl refusal code for this failure.
    pub fn refusal_code(&self) -> RefusalCode {
        match self {
            Self::Timeout => RefusalCode::Timeout,
            Self::Connect(_) => RefusalCode::Unreachable,
            Self::Reset => RefusalCode::ConnectionReset,
            Self::Redirect(_) => RefusalCode::RedirectRefused,
            Self::Status(_) => RefusalCode::HttpStatus,
            Self::TooLarge(_) => RefusalCode::BodyTooLarge,
            Self::ContentType(_) => RefusalCode::WrongContentType,
            Self::Malformed(_) => RefusalCode::MalformedJson,
            Self::Body(_) => RefusalCode::TransferFailed,
        }
    }
}

impl From<FetchError> for Refusal {
    fn from(e: FetchError) -> Self {
        Refusal::new(e.refusal_code(), e.to_string())
    }
}

/// Why a typed API call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The request could not be made or its answer not read.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The server answered with an error; `problem` is its problem document when it sent one.
    #[error("HTTP {status}: {}", describe(problem.as_deref()))]
    Api {
        status: u16,
        problem: Option<Box<Problem>>,
    },
}

/// A problem in words: its detail, or each of its field problems when it lists several.
fn describe(problem: Option<&Problem>) -> String {
    match problem {
        None => "no problem document".into(),
        Some(p) if p.errors.is_empty() => p.detail.clone(),
        Some(p) => {
            let each: Vec<String> = p
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            format!("{} problems: {}", each.len(), each.join("; "))
        }
    }
}

impl ClientError {
    /// The problem's stable `code`, when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api {
                problem: Some(p), ..
            } => Some(&p.code),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::Fetch(FetchError::Status(s)) => Some(*s),
            _ => None,
        }
    }
}

/// A fetched body, or "not modified".
#[derive(Debug)]
pub enum Fetched {
    Body { bytes: Bytes, etag: Option<String> },
    NotModified,
}

/// Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body: usize,
}

impl Fetcher {
    /// A fetcher with `timeout` per request and `max_body` bytes per response at most.
    pub fn new(
        timeout: Duration,
        max_body: usize,
        max_connections_per_host: usize,
    ) -> Result<Self, String> {
        Self::with_roots(timeout, max_body, max_connections_per_host, &[])
    }

    /// [`Fetcher::new`] also trusting these root certificates (PEM), for nodes whose HTTPS
    /// certificates come from a private certificate authority.
    pub fn with_roots(
        timeout: Duration,
        max_body: usize,
        max_connections_per_host: usize,
        extra_roots_pem: &[u8],
    ) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder();
        if !extra_roots_pem.is_empty() {
            for cert in reqwest::Certificate::from_pem_bundle(extra_roots_pem)
                .map_err(|e| format!("the extra root certificates are not PEM: {e}"))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(max_connections_per_host)
            .user_agent(concat!("signpost/", env!("CARGO_PKG_VERSION")))
            .redirect(Policy::custom(|attempt| {
                let same_host = attempt.previous().first().is_some_and(|first| {
                    first.host_str() == attempt.url().host_str()
                        && first.port_or_known_default() == attempt.url().port_or_known_default()
                });
                if !same_host {
                    let host = attempt.url().host_str().unwrap_or("?").to_owned();
                    attempt.error(format!("to another host ({host})"))
                } else if attempt.previous().len() >= 3 {
                    attempt.error("more than 3 redirects")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(|e| format!("cannot set up HTTP: {e}"))?;
        Ok(Self { client, max_body })
    }

    /// A fetcher for tools and tests: 30 s per request, 64 MiB per response.
    pub fn generous() -> Result<Self, String> {
        Self::new(Duration::from_secs(30), 64 * 1024 * 1024, 8)
    }

    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// GET `url` (conditionally, with `etag`), capped at the configured size.
    pub async fn get(&self, url: &str, etag: Option<&str>) -> Result<Fetched, FetchError> {
        self.get_capped(url, etag, self.max_body).await
    }

    /// GET `url` with a cap of its own (never above the configured one).
    pub async fn get_capped(
        &self,
        url: &str,
        etag: Option<&str>,
        cap: usize,
    ) -> Result<Fetched, FetchError> {
        let mut req = self.client.get(url).header("accept", "application/json");
        if let Some(tag) = etag {
            req = req.header(IF_NONE_MATCH, tag);
        }
        let resp = req.send().await.map_err(classify)?;
        if resp.status() == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !resp.status().is_success() {
            return Err(FetchError::Status(resp.status().as_u16()));
        }
        let etag = resp
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = read_json_body(resp, cap.min(self.max_body)).await?;
        Ok(Fetched::Body { bytes, etag })
    }

    /// GET and parse JSON strictly (a type with `deny_unknown_fields` refuses extras).
    pub async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, FetchError> {
        self.get_json_capped(url, self.max_body).await
    }

    /// [`Fetcher::get_json`] with a cap of its own.
    pub async fn get_json_capped<T: DeserializeOwned>(
        &self,
        url: &str,
        cap: usize,
    ) -> Result<T, FetchError> {
        match self.get_capped(url, None, cap).await? {
            Fetched::Body { bytes, .. } => parse(&bytes),
            Fetched::NotModified => Err(FetchError::Status(304)),
        }
    }

    /// Sends a request with an optional bearer token and JSON body; parses a JSON answer,
    /// or the problem document of an error. For APIs (admin, directory), not for crawling.
    pub async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let bytes = self.call_raw(method, url, token, body).await?;
        Ok(parse(&bytes)?)
    }

    /// [`Fetcher::call`] for answers without a body (204, 202).
    pub async fn call_raw<B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<Bytes, ClientError> {
        let mut req = self
            .client
            .request(method, url)
            .header("accept", "application/json");
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(classify)?;
        let status = resp.status();
        if status.is_success() {
            // 204 has no body; a 202 may (an enrolment answers with the request held).
            if status == StatusCode::NO_CONTENT
                || (status == StatusCode::ACCEPTED && resp.content_length() == Some(0))
            {
                return Ok(Bytes::new());
            }
            return Ok(read_json_body(resp, self.max_body).await?);
        }
        let problem = read_json_body(resp, 64 * 1024)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice::<Problem>(&b).ok())
            .map(Box::new);
        Err(ClientError::Api {
            status: status.as_u16(),
            problem,
        })
    }

    /// The underlying reqwest client (same pool, timeouts and redirect policy).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// Reads a JSON body (any `*/json` or `*+json` type) up to `cap` bytes while streaming.
async fn read_json_body(mut resp: reqwest::Response, cap: usize) -> Result<Bytes, FetchError> {
    let ctype = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let essence = ctype
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" && !essence.ends_with("+json") {
        return Err(FetchError::ContentType(
            signpost_protocol::wire::bounded_text(&ctype, 80),
        ));
    }
    if resp.content_length().is_some_and(|n| n as usize > cap) {
        return Err(FetchError::TooLarge(cap));
    }
    let mut body = BytesMut::with_capacity(
        resp.content_length()
            .map_or(16 * 1024, |n| n as usize)
            .min(cap),
    );
    while let Some(chunk) = resp.chunk().await.map_err(classify_body)? {
        if body.len() + chunk.len() > cap {
            return Err(FetchError::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses JSON (serde_json refuses nesting deeper than 128).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, FetchError> {
    signpost_protocol::wire::json_from_slice(bytes)
        .map_err(|e| FetchError::Malformed(signpost_protocol::wire::json_words(&e)))
}

/// Whether the failure is a reset or an early close, looking through the error's causes.
fn is_reset(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            if matches!(
                io.kind(),
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof
            ) {
                return true;
            }
        }
        let text = c.to_string();
        if text.contains("connection closed before message completed")
            || text.contains("connection reset")
            || text.contains("end of file before message length reached")
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Why a connection could not be made, in words a node's operator can act on: found in the
/// error's causes (hyper's own outermost text, "client error (Connect)", says nothing).
fn connect_reason(e: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = e.to_string();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            let said = match io.kind() {
                K::ConnectionRefused => Some(
                    "the connection was refused: nothing is listening at that address and port",
                ),
                K::TimedOut => Some("the connection timed out"),
                K::HostUnreachable | K::NetworkUnreachable => {
                    Some("the network cannot reach that address")
                }
                K::AddrNotAvailable => Some("that address cannot be used from here"),
                _ => None,
            };
            if let Some(said) = said {
                return said.into();
            }
        }
        let text = c.to_string();
        if text.starts_with("dns error") || text.contains("failed to lookup address") {
            return "the host name could not be found (DNS)".into();
        }
        if text.contains("received corrupt message") {
            return "the server did not answer in HTTPS: is its address http://, not https://?"
                .into();
        }
        if text.contains("certificate") {
            return format!("its HTTPS certificate was not accepted: {text}");
        }
        if text.contains("tls") || text.contains("TLS") || text.contains("handshake") {
            return format!("the HTTPS handshake failed: {text}");
        }
        deepest = text;
        cause = c.source();
    }
    deepest
}

fn classify_body(e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        FetchError::Timeout
    } else if is_reset(&e) {
        FetchError::Reset
    } else {
        FetchError::Body(e.to_string())
    }
}

fn classify(e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        FetchError::Timeout
    } else if e.is_redirect() {
        FetchError::Redirect(
            std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.to_string()),
        )
    } else if e.is_connect() {
        FetchError::Connect(connect_reason(&e))
    } else if is_reset(&e) {
        FetchError::Reset
    } else {
        // The connection was made but the exchange failed in some other way.
        FetchError::Body(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_protocol::wire::FieldProblem;

    fn problem(detail: &str, errors: &[(&str, &str, &str)]) -> Option<Box<Problem>> {
        Some(Box::new(Problem {
            problem_type: "urn:signpost:problem:invalid_query".into(),
            title: "Invalid query parameters".into(),
            status: 400,
            detail: detail.into(),
            code: "invalid_query".into(),
            errors: errors
                .iter()
                .map(|(field, code, message)| FieldProblem {
                    field: (*field).into(),
                    code: (*code).into(),
                    message: (*message).into(),
                })
                .collect(),
        }))
    }

    /// A command-line user sees every mistake the server named, not only the first.
    #[test]
    fn an_api_error_says_each_problem_the_server_listed() {
        let several = ClientError::Api {
            status: 400,
            problem: problem(
                "2 problems, each in `errors`; the first, near: latitude 91 is outside -90..90",
                &[
                    (
                        "near",
                        "invalid_coordinates",
                        "latitude 91 is outside -90..90",
                    ),
                    (
                        "per_page",
                        "invalid_parameter",
                        "\"abc\" is not a whole number",
                    ),
                ],
            ),
        };
        assert_eq!(
            several.to_string(),
            "HTTP 400: 2 problems: near: latitude 91 is outside -90..90; per_page: \"abc\" is not a whole number"
        );
        let one = ClientError::Api {
            status: 400,
            problem: problem("day: not a day of the week", &[]),
        };
        assert_eq!(one.to_string(), "HTTP 400: day: not a day of the week");
        let none = ClientError::Api {
            status: 502,
            problem: None,
        };
        assert_eq!(none.to_string(), "HTTP 502: no problem document");
    }
}
