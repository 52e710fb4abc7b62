//! Fetching from nodes and issuers: a reqwest client with rustls, a per-request timeout, no
//! redirects to another host, JSON only, and a body cap enforced while streaming.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::redirect::Policy;
use reqwest::StatusCode;

/// Why a fetch failed. Each becomes a refusal reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("timed out")]
    Timeout,
    #[error("connection failed: {0}")]
    Connect(String),
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
    /// Stable refusal code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect(_) => "unreachable",
            Self::Redirect(_) => "redirect_refused",
            Self::Status(_) => "http_status",
            Self::TooLarge(_) => "body_too_large",
            Self::ContentType(_) => "wrong_content_type",
            Self::Malformed(_) => "malformed_json",
            Self::Body(_) => "transfer_failed",
        }
    }
}

/// A fetched body, or "not modified".
pub enum Fetched {
    Body { bytes: Bytes, etag: Option<String> },
    NotModified,
}

#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body: usize,
}

impl Fetcher {
    pub fn new(
        timeout: Duration,
        max_body: usize,
        max_connections_per_host: usize,
    ) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(max_connections_per_host)
            .user_agent(concat!("signpost-aggregator/", env!("CARGO_PKG_VERSION")))
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
            .map_err(|e| e.to_string())?;
        Ok(Self { client, max_body })
    }

    /// GET `url` (conditionally, with `etag`), capped at the configured size.
    pub async fn get(&self, url: &str, etag: Option<&str>) -> Result<Fetched, FetchError> {
        self.get_capped(url, etag, self.max_body).await
    }

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
        let mut resp = req.send().await.map_err(classify)?;
        if resp.status() == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !resp.status().is_success() {
            return Err(FetchError::Status(resp.status().as_u16()));
        }
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
            return Err(FetchError::ContentType(ctype));
        }
        if resp.content_length().is_some_and(|n| n as usize > cap) {
            return Err(FetchError::TooLarge(cap));
        }
        let etag = resp
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = BytesMut::with_capacity(
            resp.content_length()
                .map_or(16 * 1024, |n| n as usize)
                .min(cap),
        );
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            if e.is_timeout() {
                FetchError::Timeout
            } else {
                FetchError::Body(e.to_string())
            }
        })? {
            if body.len() + chunk.len() > cap {
                return Err(FetchError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body {
            bytes: body.freeze(),
            etag,
        })
    }

    /// GET and parse JSON (strictly: a type with `deny_unknown_fields` refuses extras).
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, FetchError> {
        match self.get(url, None).await? {
            Fetched::Body { bytes, .. } => parse(&bytes),
            Fetched::NotModified => Err(FetchError::Status(304)),
        }
    }

    /// POST a JSON body (push pings); returns the status.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// Parses JSON with a depth limit (serde_json refuses nesting deeper than 128).
pub fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, FetchError> {
    serde_json::from_slice(bytes).map_err(|e| FetchError::Malformed(e.to_string()))
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
        FetchError::Connect(e.to_string())
    } else {
        // The connection was made but the exchange failed (reset, closed mid-message, ...).
        FetchError::Body(e.to_string())
    }
}
