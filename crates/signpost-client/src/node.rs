//! A node's public feed and admin API.
//!
//! [`NodeClient::walk_chain`] is the one place a node-document chain is fetched and walked:
//! from the pinned id (or the versions already verified) to the node's current document,
//! verifying each version as it arrives, with a small size cap per document and a cap on the
//! number of versions, so a hostile node cannot make the walker fetch gigabytes before the
//! first check.

use chrono::{DateTime, Utc};
use reqwest::Method;
use signpost_protocol::chain::{self, ChainError};
use signpost_protocol::model::Group;
use signpost_protocol::wire::{AdminListing, Bundle, CapacityPatch, Refusal, RefusalCode};
use signpost_protocol::{Attestation, DidKey, Envelope, NodeDocument, Verified};
use uuid::Uuid;

use crate::fetch::{parse, ClientError, FetchError, Fetched, Fetcher};

/// The most bytes one node document may take (a document names a few keys and ids).
pub const NODE_DOCUMENT_CAP: usize = 64 * 1024;

/// The default cap on a chain's length: versions beyond it are not walked.
pub const DEFAULT_MAX_CHAIN: u64 = 256;

/// Why a node-document chain could not be walked.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ChainWalkError {
    #[error("node document: {0}")]
    Fetch(#[from] FetchError),
    #[error("node document is not readable: {0}")]
    Unreadable(String),
    #[error("node document version {found} is older than version {seen} already seen")]
    Rollback { seen: u64, found: u64 },
    #[error("a different node document with the same version {0}")]
    Forked(u64),
    #[error("the node names document version {versions}; at most {max} versions are walked")]
    TooLong { versions: u64, max: u64 },
    #[error("version 1 of the node document is not signed by the pinned id: {0}")]
    PinnedIdMismatch(ChainError),
    #[error("node document chain: {0}")]
    Chain(ChainError),
    #[error("node document version {version} expired at {expires}")]
    Expired {
        version: u64,
        expires: DateTime<Utc>,
    },
}

impl From<ChainWalkError> for Refusal {
    fn from(e: ChainWalkError) -> Self {
        let code = match &e {
            ChainWalkError::Fetch(f) => f.refusal_code(),
            ChainWalkError::Unreadable(_) => RefusalCode::MalformedPayload,
            ChainWalkError::Rollback { .. } => RefusalCode::NodeDocumentRollback,
            ChainWalkError::Forked(_) => RefusalCode::NodeDocument,
            ChainWalkError::TooLong { .. } => RefusalCode::ChainTooLong,
            ChainWalkError::PinnedIdMismatch(_) => RefusalCode::PinnedIdMismatch,
            ChainWalkError::Chain(_) => RefusalCode::NodeDocument,
            ChainWalkError::Expired { .. } => RefusalCode::Expired,
        };
        Refusal::new(code, e.to_string())
    }
}

/// Verifies `next` as the successor of the chain's last version (or as version 1 against
/// the pinned id), telling a first document signed by another key apart.
pub fn verify_step(
    pinned: &DidKey,
    chain: &[Verified<NodeDocument>],
    next: Envelope,
) -> Result<Verified<NodeDocument>, ChainWalkError> {
    match chain.last() {
        Some(last) => chain::verify_next(last, next).map_err(ChainWalkError::Chain),
        None => chain::verify_first(pinned, next).map_err(|e| match e {
            ChainError::Verify { .. } | ChainError::WrongId { .. } => {
                ChainWalkError::PinnedIdMismatch(e)
            }
            other => ChainWalkError::Chain(other),
        }),
    }
}

/// Extends `held` (verified, possibly empty) with `envelopes`, the versions after its last,
/// verifying each in turn. The result's last document must not have expired at `now`.
pub fn extend_chain(
    pinned: &DidKey,
    held: &[Verified<NodeDocument>],
    envelopes: impl IntoIterator<Item = Envelope>,
    now: DateTime<Utc>,
) -> Result<Vec<Verified<NodeDocument>>, ChainWalkError> {
    let mut chain = held.to_vec();
    for env in envelopes {
        let next = verify_step(pinned, &chain, env)?;
        chain.push(next);
    }
    check_current(&chain, now)?;
    Ok(chain)
}

/// The chain's current document exists and has not expired.
pub fn check_current(
    chain: &[Verified<NodeDocument>],
    now: DateTime<Utc>,
) -> Result<(), ChainWalkError> {
    let doc = chain
        .last()
        .ok_or(ChainWalkError::Chain(ChainError::Empty))?;
    if doc.expires <= now {
        return Err(ChainWalkError::Expired {
            version: doc.version,
            expires: doc.expires,
        });
    }
    Ok(())
}

/// A node's public, read-only feed.
#[derive(Clone)]
pub struct NodeClient {
    fetcher: Fetcher,
    base: String,
}

impl NodeClient {
    pub fn new(fetcher: Fetcher, base_url: &str) -> Self {
        Self {
            fetcher,
            base: base_url.trim_end_matches('/').to_owned(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The node's current document envelope (unverified).
    pub async fn document(&self) -> Result<Envelope, FetchError> {
        self.fetcher
            .get_json_capped(&self.url("/.well-known/signpost/node"), NODE_DOCUMENT_CAP)
            .await
    }

    /// One earlier version of the node document (unverified).
    pub async fn document_version(&self, version: u64) -> Result<Envelope, FetchError> {
        self.fetcher
            .get_json_capped(&self.url(&format!("/v1/node/{version}")), NODE_DOCUMENT_CAP)
            .await
    }

    /// Fetches the current node document and walks the chain to it (see [`Self::advance`]).
    pub async fn walk_chain(
        &self,
        pinned: &DidKey,
        held: &[Verified<NodeDocument>],
        max_versions: u64,
        now: DateTime<Utc>,
    ) -> Result<Vec<Verified<NodeDocument>>, ChainWalkError> {
        let current = self.document().await?;
        self.advance(pinned, held, current, max_versions, now).await
    }

    /// Walks from `held` to `current`, fetching the versions in between one at a time and
    /// verifying each before fetching the next. `current`'s version is read unverified only
    /// to know how far to go, and bounded by `max_versions`.
    pub async fn advance(
        &self,
        pinned: &DidKey,
        held: &[Verified<NodeDocument>],
        current: Envelope,
        max_versions: u64,
        now: DateTime<Utc>,
    ) -> Result<Vec<Verified<NodeDocument>>, ChainWalkError> {
        let bytes = current
            .payload_bytes()
            .map_err(|e| ChainWalkError::Unreadable(e.to_string()))?;
        #[derive(serde::Deserialize)]
        struct VersionOnly {
            version: u64,
        }
        let claimed = serde_json::from_slice::<VersionOnly>(&bytes)
            .map_err(|e| ChainWalkError::Unreadable(e.to_string()))?
            .version;
        let have = held.last().map(|d| d.version).unwrap_or(0);
        if claimed < have {
            return Err(ChainWalkError::Rollback {
                seen: have,
                found: claimed,
            });
        }
        if claimed == have {
            let same = held
                .last()
                .is_some_and(|d| current.digest().ok() == Some(d.digest()));
            if !same {
                return Err(ChainWalkError::Forked(have));
            }
            check_current(held, now)?;
            return Ok(held.to_vec());
        }
        if claimed > max_versions {
            return Err(ChainWalkError::TooLong {
                versions: claimed,
                max: max_versions,
            });
        }
        let mut chain = held.to_vec();
        for v in have + 1..claimed {
            let env = self.document_version(v).await?;
            let next = verify_step(pinned, &chain, env)?;
            chain.push(next);
        }
        let last = verify_step(pinned, &chain, current)?;
        chain.push(last);
        check_current(&chain, now)?;
        Ok(chain)
    }

    /// The snapshot envelope, or `None` when it still has the ETag given.
    pub async fn snapshot(&self, etag: Option<&str>) -> Result<Option<Envelope>, FetchError> {
        match self.fetcher.get(&self.url("/v1/snapshot"), etag).await? {
            Fetched::NotModified if etag.is_some() => Ok(None),
            Fetched::NotModified => Err(FetchError::Status(304)),
            Fetched::Body { bytes, .. } => parse(&bytes).map(Some),
        }
    }

    /// The whole publication in one response, for a cold crawl.
    pub async fn bundle(&self) -> Result<Bundle, FetchError> {
        self.fetcher.get_json(&self.url("/v1/bundle")).await
    }

    /// One listing envelope.
    pub async fn listing(&self, id: Uuid) -> Result<Envelope, FetchError> {
        self.fetcher
            .get_json(&self.url(&format!("/v1/listings/{id}")))
            .await
    }

    /// The verified chain and current document, for tools and tests: walks from the pinned
    /// id with the default cap.
    pub async fn verified_document(
        &self,
        pinned: &DidKey,
    ) -> Result<Verified<NodeDocument>, ChainWalkError> {
        let mut chain = self
            .walk_chain(pinned, &[], DEFAULT_MAX_CHAIN, Utc::now())
            .await?;
        chain.pop().ok_or(ChainWalkError::Chain(ChainError::Empty))
    }

    /// The admin API of this node, with its bearer token.
    pub fn admin(&self, token: &str) -> NodeAdmin {
        NodeAdmin {
            fetcher: self.fetcher.clone(),
            base: self.base.clone(),
            token: token.to_owned(),
        }
    }
}

/// A node's admin API (bearer token), with typed bodies.
#[derive(Clone)]
pub struct NodeAdmin {
    fetcher: Fetcher,
    base: String,
    token: String,
}

impl NodeAdmin {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn call<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        self.fetcher
            .call(method, &self.url(path), Some(&self.token), body)
            .await
    }

    /// Every published listing.
    pub async fn list(&self) -> Result<Vec<signpost_protocol::Listing>, ClientError> {
        self.call::<(), _>(Method::GET, "/admin/listings", None)
            .await
    }

    /// Publishes a new group; returns the signed listing.
    pub async fn create(&self, group: &Group) -> Result<AdminListing, ClientError> {
        self.call(Method::POST, "/admin/listings", Some(group))
            .await
    }

    /// Replaces a group's facts (a new listing version).
    pub async fn replace(&self, id: Uuid, group: &Group) -> Result<AdminListing, ClientError> {
        self.call(Method::PUT, &format!("/admin/listings/{id}"), Some(group))
            .await
    }

    /// Withdraws a listing.
    pub async fn delete(&self, id: Uuid) -> Result<(), ClientError> {
        self.fetcher
            .call_raw::<()>(
                Method::DELETE,
                &self.url(&format!("/admin/listings/{id}")),
                Some(&self.token),
                None,
            )
            .await
            .map(|_| ())
    }

    /// Changes capacity (the node sets when it was confirmed).
    pub async fn capacity(
        &self,
        id: Uuid,
        patch: &CapacityPatch,
    ) -> Result<AdminListing, ClientError> {
        self.call(
            Method::PATCH,
            &format!("/admin/listings/{id}/capacity"),
            Some(patch),
        )
        .await
    }

    /// Imports an attestation from a training provider.
    pub async fn import_attestation(
        &self,
        envelope: &Envelope,
    ) -> Result<Attestation, ClientError> {
        self.call(Method::POST, "/admin/attestations", Some(envelope))
            .await
    }

    /// Rotates the signing key (needs the root key on the node's machine).
    pub async fn rotate_key(&self) -> Result<NodeDocument, ClientError> {
        self.call::<(), _>(Method::POST, "/admin/keys/rotate", None)
            .await
    }
}
