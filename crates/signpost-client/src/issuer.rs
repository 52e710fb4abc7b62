//! An issuer's public document and revocation list.

use signpost_protocol::wire::IssuerDocument;
use signpost_protocol::Envelope;

use crate::fetch::{FetchError, Fetcher};

/// The most bytes a revocation list may take.
pub const REVOCATION_LIST_CAP: usize = 4 * 1024 * 1024;

/// A training provider's or regulator's public files.
#[derive(Clone)]
pub struct IssuerClient {
    fetcher: Fetcher,
    base: String,
}

impl IssuerClient {
    pub fn new(fetcher: Fetcher, base_url: &str) -> Self {
        Self {
            fetcher,
            base: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The issuer's public document (`/.well-known/signpost/issuer`).
    pub async fn document(&self) -> Result<IssuerDocument, FetchError> {
        self.fetcher
            .get_json_capped(
                &format!("{}/.well-known/signpost/issuer", self.base),
                64 * 1024,
            )
            .await
    }

    /// The signed revocation list served at the issuer's `/revocations`.
    pub async fn revocations(&self) -> Result<Envelope, FetchError> {
        revocations_at(&self.fetcher, &format!("{}/revocations", self.base)).await
    }
}

/// A signed revocation list from wherever the trust policy says it is published (any static
/// host will do).
pub async fn revocations_at(fetcher: &Fetcher, url: &str) -> Result<Envelope, FetchError> {
    fetcher.get_json_capped(url, REVOCATION_LIST_CAP).await
}
