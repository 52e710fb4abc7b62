//! An aggregator's directory API: typed queries in, typed pages out.

use reqwest::Method;
use signpost_protocol::query::GroupQuery;
use signpost_protocol::wire::{
    AuditEntry, Enrolment, EnrolmentRequest, FeedPage, GroupsPage, IssuerInfo, NodeHealth,
    Provenance,
};
use signpost_protocol::{DidKey, Envelope};
use uuid::Uuid;

use crate::fetch::{ClientError, Fetcher};

/// The directory API of one aggregator.
#[derive(Clone)]
pub struct DirectoryClient {
    fetcher: Fetcher,
    base: String,
}

impl DirectoryClient {
    pub fn new(fetcher: Fetcher, base_url: &str) -> Self {
        Self {
            fetcher,
            base: base_url.trim_end_matches('/').to_owned(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.fetcher
            .call::<(), T>(Method::GET, &format!("{}{path}", self.base), None, None)
            .await
    }

    /// The URL of a `/v1/groups` search for `query`.
    pub fn groups_url(&self, query: &GroupQuery) -> String {
        let base = format!("{}/v1/groups", self.base);
        reqwest::Url::parse_with_params(&base, query.to_pairs())
            .map(String::from)
            .unwrap_or(base)
    }

    /// A page of groups matching `query`.
    pub async fn groups(&self, query: &GroupQuery) -> Result<GroupsPage, ClientError> {
        self.fetcher
            .call::<(), _>(Method::GET, &self.groups_url(query), None, None)
            .await
    }

    /// One group with its provenance.
    pub async fn group(&self, node: &DidKey, id: Uuid) -> Result<Provenance, ClientError> {
        self.get(&format!("/v1/groups/{node}/{id}")).await
    }

    /// A page of the feed after position `since`: at most `limit` items and, beyond the
    /// first, about as many bytes as this client accepts.
    pub async fn feed(&self, since: u64, limit: usize) -> Result<FeedPage, ClientError> {
        let max_bytes = (self.fetcher.max_body() / 2).clamp(65_536, 8 * 1024 * 1024);
        self.get(&format!(
            "/v1/feed?since={since}&limit={limit}&max_bytes={max_bytes}"
        ))
        .await
    }

    /// Pushes a node's new signed snapshot.
    pub async fn ping(&self, snapshot: &Envelope) -> Result<(), ClientError> {
        self.fetcher
            .call_raw(
                Method::POST,
                &format!("{}/v1/ping", self.base),
                None,
                Some(snapshot),
            )
            .await
            .map(|_| ())
    }

    /// Pushes an issuer's new signed revocation list.
    pub async fn push_revocations(&self, list: &Envelope) -> Result<(), ClientError> {
        self.fetcher
            .call_raw(
                Method::POST,
                &format!("{}/v1/revocations", self.base),
                None,
                Some(list),
            )
            .await
            .map(|_| ())
    }

    /// Crawl health of every node.
    pub async fn nodes(&self) -> Result<Vec<NodeHealth>, ClientError> {
        self.get("/v1/nodes").await
    }

    /// One node's crawl health; `None` when this directory does not list it.
    pub async fn node(&self, node: &DidKey) -> Result<Option<NodeHealth>, ClientError> {
        match self.get(&format!("/v1/nodes/{node}")).await {
            Ok(health) => Ok(Some(health)),
            Err(e) if e.code() == Some("node_not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The trusted issuers and their revocation lists.
    pub async fn issuers(&self) -> Result<Vec<IssuerInfo>, ClientError> {
        self.get("/v1/issuers").await
    }

    /// The regulator's audit: every organisation presenting an attestation from `issuer`.
    pub async fn attestations(&self, issuer: &DidKey) -> Result<Vec<AuditEntry>, ClientError> {
        self.get(&format!("/v1/issuers/{issuer}/attestations"))
            .await
    }

    /// Asks the directory to list a node (the directory checks the node document first).
    pub async fn enrol(&self, request: &EnrolmentRequest) -> Result<Enrolment, ClientError> {
        self.fetcher
            .call(
                Method::POST,
                &format!("{}/v1/enrolments", self.base),
                None,
                Some(request),
            )
            .await
    }

    /// The enrolment requests (operator only).
    pub async fn enrolments(&self, token: &str) -> Result<Vec<Enrolment>, ClientError> {
        self.fetcher
            .call::<(), _>(
                Method::GET,
                &format!("{}/admin/enrolments", self.base),
                Some(token),
                None,
            )
            .await
    }

    /// Approves (the node is trusted and crawled at once) or declines a request.
    pub async fn decide_enrolment(
        &self,
        token: &str,
        node: &DidKey,
        approve: bool,
    ) -> Result<Enrolment, ClientError> {
        let verb = if approve { "approve" } else { "decline" };
        self.fetcher
            .call::<(), _>(
                Method::POST,
                &format!("{}/admin/enrolments/{node}/{verb}", self.base),
                Some(token),
                None,
            )
            .await
    }
}
