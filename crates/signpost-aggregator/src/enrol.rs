//! Getting listed: a node asks (`POST /v1/enrolments`), the directory checks that the node
//! document at the given URL is signed by the given id, and keeps the request for the
//! operator, who approves or declines it (`signpost aggregator enrolments ...`, through the
//! bearer-token admin API). An approved node is trusted like one in the configuration,
//! persisted, and crawled at once.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use chrono::Utc;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use signpost_client::NodeClient;
use signpost_protocol::wire::{Enrolment, EnrolmentRequest, EnrolmentStatus};
use signpost_protocol::DidKey;
use signpost_store::{keyfile, Store, WriteBatch};

use crate::config::{AggregatorConfig, NodeEntry};
use crate::crawl::{health::lock, Aggregator, Health};
use crate::error::AggError;

const PREFIX: &str = "enrolment/";

fn key(id: &DidKey) -> String {
    format!("{PREFIX}{id}")
}

/// Every enrolment request held, oldest first.
pub fn load(store: &Store) -> Vec<Enrolment> {
    let mut all: Vec<Enrolment> = store
        .scan::<Enrolment>(PREFIX)
        .filter_map(Result::ok)
        .map(|(_, e)| e)
        .collect();
    all.sort_by_key(|e| e.requested_at);
    all
}

/// The approved nodes, to trust beside the configured ones.
pub fn approved(store: &Store) -> Vec<NodeEntry> {
    load(store)
        .into_iter()
        .filter(|e| e.status == EnrolmentStatus::Approved)
        .map(|e| NodeEntry {
            url: e.url,
            id: e.id,
        })
        .collect()
}

/// The operator's admin token hash: read from its file, or the file created (0600).
pub fn admin_token(config: &AggregatorConfig) -> Result<Option<[u8; 32]>, String> {
    let Some(path) = &config.enrolment.admin_token_file else {
        return Ok(None);
    };
    let path = std::path::Path::new(path);
    if !path.exists() {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        keyfile::write_secret(path, format!("{}\n", hex::encode(bytes)).as_bytes())
            .map_err(|e| format!("enrolment.admin_token_file: {e}"))?;
        tracing::info!(path = %path.display(), "created the operator's admin token");
    }
    keyfile::check_private(path).map_err(|e| format!("enrolment.admin_token_file: {e}"))?;
    let token = std::fs::read_to_string(path)
        .map_err(|e| format!("enrolment.admin_token_file {}: {e}", path.display()))?;
    Ok(Some(Sha256::digest(token.trim().as_bytes()).into()))
}

fn clean(field: &str, value: &str, max: usize) -> Result<(), AggError> {
    if value.trim().is_empty() || value.chars().count() > max || value.chars().any(char::is_control)
    {
        return Err(AggError::EnrolmentRefused(format!(
            "{field} must be 1 to {max} characters without control characters"
        )));
    }
    Ok(())
}

impl Aggregator {
    /// Every enrolment request, oldest first.
    pub fn enrolments(&self) -> Vec<Enrolment> {
        load(&self.store)
    }

    /// Takes a node's request to be listed, after checking its node document.
    pub async fn request_enrolment(&self, req: EnrolmentRequest) -> Result<Enrolment, AggError> {
        if self.admin_token.is_none() || self.config.mirror.is_some() {
            return Err(AggError::EnrolmentClosed);
        }
        clean("name", &req.name, 200)?;
        if let Some(c) = &req.contact {
            clean("contact", c, 300)?;
        }
        let url = req.url.trim_end_matches('/').to_owned();
        match reqwest::Url::parse(&url) {
            Ok(u)
                if matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && url.len() <= 2048 => {}
            _ => {
                return Err(AggError::EnrolmentRefused(format!(
                    "{:?} is not an http(s) URL",
                    req.url
                )))
            }
        }
        if self.is_trusted(&req.id) {
            return Err(AggError::EnrolmentRefused(
                "this node is already listed here".into(),
            ));
        }
        let held = load(&self.store);
        let pending = held
            .iter()
            .filter(|e| e.status == EnrolmentStatus::Pending)
            .count();
        let again = held.iter().any(|e| e.id == req.id);
        if !again && pending >= self.config.enrolment.max_pending {
            return Err(AggError::TooManyEnrolments(pending));
        }
        // The node must prove the id: its document chain, from the id, at that URL.
        let doc = NodeClient::new(self.fetcher.clone(), &url)
            .verified_document(&req.id)
            .await
            .map_err(|e| {
                AggError::EnrolmentRefused(format!(
                    "the node document at {url} could not be checked against {}: {e}",
                    req.id
                ))
            })?;
        if doc.base_url.trim_end_matches('/') != url {
            return Err(AggError::EnrolmentRefused(format!(
                "the node document says the node is at {}, not {url}",
                doc.base_url
            )));
        }
        let enrolment = Enrolment {
            id: req.id,
            url,
            name: doc.name.clone(),
            contact: req.contact,
            status: EnrolmentStatus::Pending,
            requested_at: Utc::now(),
            decided_at: None,
        };
        // Checked again now the document is in: the operator may have approved an earlier
        // request from this node while it was fetched.
        let _taking = lock(&self.enrolment_write);
        if self.is_trusted(&req.id) {
            return Err(AggError::EnrolmentRefused(
                "this node is already listed here".into(),
            ));
        }
        self.save_enrolment(&enrolment)?;
        tracing::info!(node = %enrolment.id, "enrolment requested");
        Ok(enrolment)
    }

    fn save_enrolment(&self, e: &Enrolment) -> Result<(), AggError> {
        let mut batch = WriteBatch::new();
        batch
            .put(&key(&e.id), e)
            .map_err(|err| AggError::Internal(err.to_string()))?;
        self.store
            .commit(batch)
            .map_err(|err| AggError::Internal(err.to_string()))
    }

    /// Approves (trusted at once and crawled now) or declines a request. Declining one
    /// approved before withdraws the approval at once: the node is no longer trusted,
    /// crawled or served (unless the configuration file names it), as the next start
    /// would have it.
    pub fn decide_enrolment(
        self: &Arc<Self>,
        id: &DidKey,
        approve: bool,
    ) -> Result<Enrolment, AggError> {
        let _deciding = lock(&self.enrolment_write);
        let mut e: Enrolment = self
            .store
            .get(&key(id))
            .ok()
            .flatten()
            .ok_or_else(|| AggError::EnrolmentNotFound(id.to_string()))?;
        let status = if approve {
            EnrolmentStatus::Approved
        } else {
            EnrolmentStatus::Declined
        };
        if e.status == status {
            return Ok(e); // decided so already: nothing changes
        }
        let was_trusted = self.is_trusted(&e.id);
        e.status = status;
        e.decided_at = Some(Utc::now());
        self.save_enrolment(&e)?;
        tracing::info!(node = %e.id, approved = approve, "enrolment decided");
        if approve {
            lock(&self.approved).insert(e.id);
            if !was_trusted {
                self.add_node(NodeEntry {
                    url: e.url.clone(),
                    id: e.id,
                });
            }
        } else if lock(&self.approved).remove(&e.id) && !self.configured.contains(&e.id) {
            tracing::warn!(node = %e.id, "approval withdrawn: no longer crawled or served");
            self.withdraw(&e.id);
        }
        Ok(e)
    }

    /// Whether a node is trusted: named by the configuration file, or approved.
    pub fn is_trusted(&self, id: &DidKey) -> bool {
        self.configured.contains(id) || lock(&self.approved).contains(id)
    }

    /// Starts trusting and crawling a node while running.
    fn add_node(self: &Arc<Self>, entry: NodeEntry) {
        self.health
            .add(Health::pending(entry.id, entry.url.clone()));
        lock(&self.withdrawn).remove(&entry.id);
        self.wake_handle(&entry.id);
        if self.crawling.load(Ordering::Relaxed) {
            let me = Arc::clone(self);
            tokio::spawn(async move { me.node_loop(entry).await });
        }
    }
}
