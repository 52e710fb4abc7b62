//! The aggregator service: shared state, the crawler (one task per node, a global
//! concurrency limit, backoff with jitter, push wake-ups), the revocation refresher and
//! the feed follower for mirrors.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use signpost_protocol::policy::{RevocationView, TrustedIssuer};
use signpost_protocol::{DidKey, Envelope, NodeDocument, RevocationList, Snapshot, Verified};
use signpost_store::Store;
use tokio::sync::{Notify, Semaphore};
use uuid::Uuid;

use crate::config::{AggregatorConfig, NodeEntry};
use crate::fetch::{parse, Fetched, Fetcher};
use crate::index::{Index, QueryContext};
use crate::persist;
use crate::verify::{self, Limits, NodeData, Refusal, Refused, SnapshotVerdict};

/// Crawl health of one node, as `/v1/nodes` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NodeHealth {
    #[schema(value_type = String)]
    pub id: DidKey,
    pub url: String,
    pub name: Option<String>,
    /// `healthy`: last crawl succeeded; `failing`: last crawl failed or was refused (the last
    /// verified data is still served); `stale`: the served snapshot has expired and is hidden;
    /// `pending`: never crawled.
    pub status: String,
    pub seq: Option<u64>,
    pub listings: usize,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_refusal: Option<Refusal>,
    pub last_refusal_at: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    /// Snapshots with equal seq and different bytes, kept as evidence.
    pub equivocations: usize,
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub crawls: AtomicU64,
    pub crawl_failures: AtomicU64,
    pub unchanged: AtomicU64,
    pub updates: AtomicU64,
    pub queries: AtomicU64,
    pub refusals: Mutex<HashMap<String, u64>>,
}

/// What the aggregator knows, shared by the crawler and the HTTP handlers.
pub struct Aggregator {
    pub config: AggregatorConfig,
    pub store: Store,
    pub fetcher: Fetcher,
    pub issuers: Vec<TrustedIssuer>,
    index: RwLock<Index>,
    health: Mutex<HashMap<DidKey, NodeHealth>>,
    revocations: RwLock<Arc<HashMap<DidKey, RevocationView>>>,
    wake: HashMap<DidKey, Arc<Notify>>,
    doc_checked: Mutex<HashMap<DidKey, Instant>>,
    feed_seq: AtomicU64,
    feed_positions: Mutex<HashMap<DidKey, u64>>,
    mirror_position: Mutex<u64>,
    pub metrics: Metrics,
    permits: Semaphore,
    limits: Limits,
}

/// `GET /v1/bundle` on a node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Bundle {
    node: Envelope,
    snapshot: Envelope,
    listings: Vec<Envelope>,
    attestations: Vec<Envelope>,
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    match lock.read() {
        Ok(g) => g.clone(),
        Err(p) => p.into_inner().clone(),
    }
}

fn write<T>(lock: &RwLock<T>, value: T) {
    match lock.write() {
        Ok(mut g) => *g = value,
        Err(p) => *p.into_inner() = value,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Aggregator {
    /// Opens the store and loads every verified node state into the index.
    pub fn open(config: AggregatorConfig, store: Store) -> Result<Self, String> {
        let fetcher = Fetcher::new(config.crawl.timeout(), config.crawl.max_body_bytes, 4)?;
        let issuers = config
            .issuers
            .iter()
            .map(|i| TrustedIssuer {
                id: i.id,
                name: i.name.clone(),
                achievements: i.achievements.clone(),
            })
            .collect();
        let pinned: Vec<DidKey> = config.nodes.iter().map(|n| n.id).collect();
        let mut index = Index::default();
        let mut health = HashMap::new();
        let mut positions = HashMap::new();
        for entry in &config.nodes {
            let last = persist::load_refusal(&store, &entry.id);
            health.insert(
                entry.id,
                NodeHealth {
                    id: entry.id,
                    url: entry.url.clone(),
                    name: None,
                    status: "pending".into(),
                    seq: None,
                    listings: 0,
                    last_attempt: None,
                    last_success: None,
                    last_refusal_at: last.as_ref().map(|l| l.1),
                    last_refusal: last.map(|l| l.0),
                    consecutive_failures: 0,
                    equivocations: persist::evidence_count(&store, &entry.id),
                },
            );
        }
        for (data, feed_seq) in persist::load(&store, &pinned) {
            positions.insert(data.id, feed_seq);
            if let Some(h) = health.get_mut(&data.id) {
                h.seq = Some(data.snapshot.seq);
                h.listings = data.listings.len();
                h.name = data.document().map(|d| d.name.clone());
            }
            index.replace(Arc::new(data));
        }
        let wake = config
            .nodes
            .iter()
            .map(|n| (n.id, Arc::new(Notify::new())))
            .collect();
        let limits = Limits {
            max_listings: config.crawl.max_listings_per_node,
            max_skew: chrono::Duration::seconds(config.freshness.max_clock_skew_secs as i64),
        };
        let permits = Semaphore::new(config.crawl.concurrency.max(1));
        Ok(Self {
            fetcher,
            issuers,
            index: RwLock::new(index),
            health: Mutex::new(health),
            revocations: RwLock::new(Arc::new(HashMap::new())),
            wake,
            doc_checked: Mutex::new(HashMap::new()),
            feed_seq: AtomicU64::new(persist::feed_seq(&store)),
            feed_positions: Mutex::new(positions),
            mirror_position: Mutex::new(0),
            metrics: Metrics::default(),
            permits,
            limits,
            store,
            config,
        })
    }

    /// The index, for reading. Do not hold it across an await.
    pub fn index(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn revocations(&self) -> Arc<HashMap<DidKey, RevocationView>> {
        read(&self.revocations)
    }

    /// The query context at `now`; `revocations` must outlive it.
    pub fn context<'a>(
        &'a self,
        revocations: &'a HashMap<DidKey, RevocationView>,
        now: DateTime<Utc>,
    ) -> QueryContext<'a> {
        QueryContext {
            now,
            capacity_max_age: chrono::Duration::days(
                self.config.freshness.capacity_max_age_days as i64,
            ),
            issuers: &self.issuers,
            revocations,
            grace: chrono::Duration::seconds(self.config.revocations.grace_secs as i64),
        }
    }

    pub fn health(&self) -> Vec<NodeHealth> {
        let now = Utc::now();
        let index = self.index();
        let mut out: Vec<NodeHealth> = lock(&self.health).values().cloned().collect();
        for h in &mut out {
            if let Some(seg) = index.segment(&h.id) {
                if seg.data.snapshot.expires_at <= now {
                    h.status = "stale".into();
                }
            }
        }
        out.sort_by(|a, b| a.url.cmp(&b.url));
        out
    }

    /// Nodes whose state changed after feed position `since`, oldest change first.
    pub fn feed_since(&self, since: u64, limit: usize) -> Vec<(u64, Arc<NodeData>)> {
        let index = self.index();
        let positions = lock(&self.feed_positions).clone();
        let mut items: Vec<(u64, Arc<NodeData>)> = positions
            .into_iter()
            .filter(|(_, seq)| *seq > since)
            .filter_map(|(id, seq)| index.segment(&id).map(|s| (seq, Arc::clone(&s.data))))
            .collect();
        items.sort_by_key(|(seq, _)| *seq);
        items.truncate(limit);
        items
    }

    /// A verified push: the body is the node's new signed snapshot. Wakes its crawl when it
    /// verifies under the node's keys and is newer than what is held.
    pub fn ping(&self, envelope: Envelope) -> Result<DidKey, Refusal> {
        let bytes = envelope
            .payload_bytes()
            .map_err(|e| Refusal::new("bad_signature", e.to_string()))?;
        let claimed: Snapshot = parse(&bytes).map_err(Refusal::from)?;
        let notify = self.wake.get(&claimed.node).ok_or_else(|| {
            Refusal::new("unknown_node", "this aggregator does not follow that node")
        })?;
        let index = self.index();
        if let Some(seg) = index.segment(&claimed.node) {
            let keys = seg.data.signing_keys();
            match verify::verify_snapshot(
                envelope,
                &claimed.node,
                &keys,
                Some(&seg.data.snapshot),
                Utc::now(),
                &self.limits,
            ) {
                Ok(SnapshotVerdict::Newer { .. }) => {}
                Ok(SnapshotVerdict::Same) => return Err(Refusal::new("not_newer", "already held")),
                // A rotated key is only learnt by crawling: let the crawl decide.
                Err(r) if r.refusal.code == "unknown_signing_key" => {}
                Err(r) => return Err(r.refusal),
            }
        }
        notify.notify_one();
        Ok(claimed.node)
    }

    /// Crawls every node once, now (used by tests and the benchmark).
    pub async fn crawl_all_once(self: &Arc<Self>) {
        let tasks: Vec<_> = self
            .config
            .nodes
            .clone()
            .into_iter()
            .map(|entry| {
                let me = Arc::clone(self);
                tokio::spawn(async move { me.crawl_and_record(&entry).await })
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
    }

    /// Runs the crawler: one task per node, polls every interval, sooner on a push.
    pub fn spawn_crawler(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        self.config
            .nodes
            .clone()
            .into_iter()
            .map(|entry| {
                let me = Arc::clone(self);
                tokio::spawn(async move { me.node_loop(entry).await })
            })
            .collect()
    }

    async fn node_loop(self: Arc<Self>, entry: NodeEntry) {
        let interval = self.config.crawl.interval();
        let max_backoff = Duration::from_secs(self.config.crawl.max_backoff_secs.max(1));
        let wake = self.wake.get(&entry.id).cloned().unwrap_or_default();
        // Spread the first crawls over a moment so a thousand nodes do not start at once.
        let first = rand::thread_rng().gen_range(0..=50u64);
        tokio::time::sleep(Duration::from_millis(first)).await;
        loop {
            let ok = self.crawl_and_record(&entry).await;
            let failures = lock(&self.health)
                .get(&entry.id)
                .map(|h| h.consecutive_failures)
                .unwrap_or(0);
            let wait = if ok {
                interval
            } else {
                let base = Duration::from_secs(1) * 2u32.saturating_pow(failures.min(16));
                let jitter = rand::thread_rng().gen_range(0.5..1.5);
                base.min(max_backoff)
                    .min(interval.max(Duration::from_secs(1)) * 4)
                    .mul_f64(jitter)
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = wake.notified() => {}
            }
        }
    }

    /// Crawls one node and records the outcome; returns whether it succeeded.
    pub async fn crawl_and_record(&self, entry: &NodeEntry) -> bool {
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        self.metrics.crawls.fetch_add(1, Ordering::Relaxed);
        let held = self.index().segment(&entry.id).map(|s| Arc::clone(&s.data));
        let now = Utc::now();
        let result = if self.config.mirror.is_some() {
            Ok(None) // mirrors learn from the feed, not from nodes
        } else {
            self.crawl(entry, held.as_deref()).await
        };
        match result {
            Ok(update) => {
                if let Some(data) = update {
                    self.install(data, held.as_deref());
                } else {
                    self.metrics.unchanged.fetch_add(1, Ordering::Relaxed);
                }
                let mut health = lock(&self.health);
                if let Some(h) = health.get_mut(&entry.id) {
                    h.status = "healthy".into();
                    h.last_attempt = Some(now);
                    h.last_success = Some(now);
                    h.consecutive_failures = 0;
                }
                true
            }
            Err(refused) => {
                self.refuse(entry, refused, now);
                false
            }
        }
    }

    fn refuse(&self, entry: &NodeEntry, refused: Refused, now: DateTime<Utc>) {
        self.metrics.crawl_failures.fetch_add(1, Ordering::Relaxed);
        *lock(&self.metrics.refusals)
            .entry(refused.refusal.code.clone())
            .or_default() += 1;
        tracing::warn!(node = %entry.id, url = %entry.url, code = %refused.refusal.code, detail = %refused.refusal.detail, "refused; last verified data stays served");
        if let Some(evidence) = &refused.evidence {
            if let Err(e) = persist::save_evidence(&self.store, &entry.id, evidence) {
                tracing::error!(error = %e, "could not keep equivocation evidence");
            }
        }
        let record = (refused.refusal.clone(), now);
        if let Err(e) = persist::save_refusal(&self.store, &entry.id, Some(&record)) {
            tracing::error!(error = %e, "could not record refusal");
        }
        let mut health = lock(&self.health);
        if let Some(h) = health.get_mut(&entry.id) {
            h.status = "failing".into();
            h.last_attempt = Some(now);
            h.last_refusal = Some(refused.refusal);
            h.last_refusal_at = Some(now);
            h.consecutive_failures += 1;
            if refused.evidence.is_some() {
                h.equivocations += 1;
            }
        }
    }

    /// Stores and indexes a node's new verified state.
    pub fn install(&self, data: NodeData, previous: Option<&NodeData>) {
        self.metrics.updates.fetch_add(1, Ordering::Relaxed);
        let feed_seq = self.feed_seq.fetch_add(1, Ordering::SeqCst) + 1;
        if let Err(e) = persist::save(&self.store, &data, previous, feed_seq) {
            tracing::error!(node = %data.id, error = %e, "could not store verified data; serving it from memory");
        }
        {
            let mut health = lock(&self.health);
            if let Some(h) = health.get_mut(&data.id) {
                h.seq = Some(data.snapshot.seq);
                h.listings = data.listings.len();
                h.name = data.document().map(|d| d.name.clone());
            }
        }
        lock(&self.feed_positions).insert(data.id, feed_seq);
        // Build the node's entries before taking the index lock.
        let prepared = crate::index::Prepared::new(Arc::new(data));
        let mut guard = match self.index.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        guard.install(prepared);
    }

    async fn crawl(
        &self,
        entry: &NodeEntry,
        held: Option<&NodeData>,
    ) -> Result<Option<NodeData>, Refused> {
        let base = entry.url.trim_end_matches('/');
        let now = Utc::now();
        let refresh_due = lock(&self.doc_checked).get(&entry.id).is_none_or(|t| {
            t.elapsed() >= Duration::from_secs(self.config.crawl.node_document_refresh_secs)
        });
        let held_chain = held.map(|h| h.chain.clone()).unwrap_or_default();
        let mut chain = if held.is_none() || refresh_due {
            self.refresh_chain(entry, &held_chain).await?
        } else {
            held_chain
        };
        let Some(held) = held else {
            return self.crawl_bundle(entry, chain, None).await.map(Some);
        };
        let env = match self
            .fetcher
            .get(&format!("{base}/v1/snapshot"), Some(&held.etag()))
            .await
            .map_err(Refusal::from)?
        {
            Fetched::NotModified => return Ok(None),
            Fetched::Body { bytes, .. } => parse::<Envelope>(&bytes).map_err(Refusal::from)?,
        };
        let keys = |c: &[signpost_protocol::Verified<NodeDocument>]| {
            c.last()
                .map(|d| d.signing_verifying_keys())
                .unwrap_or_default()
        };
        let verdict = match verify::verify_snapshot(
            env.clone(),
            &entry.id,
            &keys(&chain),
            Some(&held.snapshot),
            now,
            &self.limits,
        ) {
            Err(r) if r.refusal.code == "unknown_signing_key" && !refresh_due => {
                // The node may have rotated its signing key: walk the chain and try again.
                chain = self.refresh_chain(entry, &chain).await?;
                verify::verify_snapshot(
                    env,
                    &entry.id,
                    &keys(&chain),
                    Some(&held.snapshot),
                    now,
                    &self.limits,
                )?
            }
            other => other?,
        };
        let snapshot = match verdict {
            SnapshotVerdict::Same => return Ok(None),
            SnapshotVerdict::Newer { chained: false, .. } => {
                tracing::info!(node = %entry.id, "snapshot does not chain to the one held: full resync");
                return self.crawl_bundle(entry, chain, Some(held)).await.map(Some);
            }
            SnapshotVerdict::Newer { snapshot, .. } => *snapshot,
        };
        let changed: Vec<Uuid> = snapshot
            .listings
            .iter()
            .filter(|e| {
                held.listings
                    .get(&e.id)
                    .is_none_or(|l| l.digest() != e.sha256)
            })
            .map(|e| e.id)
            .collect();
        // Compare what the two snapshots name (an attestation whose signature failed is not
        // held, but its snapshot still names it).
        let attestations_changed = {
            let mut have = held.snapshot.attestations.clone();
            have.sort();
            let mut want = snapshot.attestations.clone();
            want.sort();
            have != want
        };
        if attestations_changed || changed.len() > 8.max(snapshot.listings.len() / 4) {
            return self.crawl_bundle(entry, chain, Some(held)).await.map(Some);
        }
        let mut fetched = HashMap::new();
        for id in changed {
            match self
                .fetcher
                .get(&format!("{base}/v1/listings/{id}"), None)
                .await
                .map_err(Refusal::from)?
            {
                Fetched::Body { bytes, .. } => {
                    fetched.insert(id, parse::<Envelope>(&bytes).map_err(Refusal::from)?);
                }
                Fetched::NotModified => {
                    return Err(
                        Refusal::new("http_status", "304 for an unconditional request").into(),
                    )
                }
            }
        }
        let attestations = held.attestations.clone();
        match verify::assemble(
            &entry.id,
            verify::Parts {
                chain: chain.clone(),
                snapshot,
                fetched,
                attestations,
            },
            Some(held),
            now,
            &self.limits,
        ) {
            Ok(data) => Ok(Some(data)),
            // The node changed again between the snapshot and the listings: take the bundle.
            Err(r) if r.code == "manifest_mismatch" => {
                self.crawl_bundle(entry, chain, Some(held)).await.map(Some)
            }
            Err(r) => Err(r.into()),
        }
    }

    /// Verifies a node's whole publication from `/v1/bundle`.
    async fn crawl_bundle(
        &self,
        entry: &NodeEntry,
        mut chain: Vec<Verified<NodeDocument>>,
        held: Option<&NodeData>,
    ) -> Result<NodeData, Refused> {
        let base = entry.url.trim_end_matches('/');
        let now = Utc::now();
        let bytes = match self
            .fetcher
            .get(&format!("{base}/v1/bundle"), None)
            .await
            .map_err(Refusal::from)?
        {
            Fetched::Body { bytes, .. } => bytes,
            Fetched::NotModified => {
                return Err(Refusal::new("http_status", "304 for an unconditional request").into())
            }
        };
        let bundle: Bundle = parse(&bytes).map_err(Refusal::from)?;
        let head_digest = chain.last().map(|d| d.digest());
        if bundle.node.digest().ok() != head_digest {
            chain = self.advance_to(entry, &chain, bundle.node).await?;
        }
        let published = Publication {
            snapshot: bundle.snapshot,
            listings: bundle.listings,
            attestations: bundle.attestations,
        };
        match self.verify_publication(entry, chain, published, held, now)? {
            Some(data) => Ok(data),
            None => held
                .cloned()
                .ok_or_else(|| Refusal::new("rollback", "no newer snapshot").into()),
        }
    }

    /// Fetches the current node document and walks the chain forward from `held`.
    async fn refresh_chain(
        &self,
        entry: &NodeEntry,
        held: &[Verified<NodeDocument>],
    ) -> Result<Vec<Verified<NodeDocument>>, Refused> {
        let base = entry.url.trim_end_matches('/');
        let current: Envelope = self
            .fetcher
            .get_json(&format!("{base}/.well-known/signpost/node"))
            .await
            .map_err(Refusal::from)?;
        let chain = self.advance_to(entry, held, current).await?;
        lock(&self.doc_checked).insert(entry.id, Instant::now());
        Ok(chain)
    }

    /// Walks the chain from `held` to `current`, fetching the versions in between.
    async fn advance_to(
        &self,
        entry: &NodeEntry,
        held: &[Verified<NodeDocument>],
        current: Envelope,
    ) -> Result<Vec<Verified<NodeDocument>>, Refused> {
        let base = entry.url.trim_end_matches('/');
        let bytes = current
            .payload_bytes()
            .map_err(|e| Refusal::new("bad_signature", format!("node document: {e}")))?;
        let peek: NodeDocument = parse(&bytes)
            .map_err(|e| Refusal::new("malformed_payload", format!("node document: {e}")))?;
        let have = held.last().map(|d| d.version).unwrap_or(0);
        if peek.version < have {
            return Err(Refusal::new(
                "node_document_rollback",
                format!(
                    "node document version {} is older than version {have} already seen",
                    peek.version
                ),
            )
            .into());
        }
        if peek.version == have {
            let same = held
                .last()
                .is_some_and(|d| current.digest().ok() == Some(d.digest()));
            return if same {
                Ok(held.to_vec())
            } else {
                Err(Refusal::new(
                    "node_document",
                    format!("a different node document with the same version {have}"),
                )
                .into())
            };
        }
        if peek.version - have > 1000 {
            return Err(Refusal::new(
                "node_document",
                "more than 1000 node document versions to walk",
            )
            .into());
        }
        let mut envelopes = Vec::new();
        for v in have + 1..peek.version {
            envelopes.push(
                self.fetcher
                    .get_json::<Envelope>(&format!("{base}/v1/node/{v}"))
                    .await
                    .map_err(Refusal::from)?,
            );
        }
        envelopes.push(current);
        let chain = verify::advance_chain(&entry.id, held, envelopes)?;
        if let Some(doc) = chain.last() {
            if doc.expires <= Utc::now() {
                return Err(Refusal::new(
                    "expired",
                    format!("node document version {} has expired", doc.version),
                )
                .into());
            }
        }
        Ok(chain)
    }

    /// Refreshes every trusted issuer's revocation list on a schedule.
    pub fn spawn_revocation_refresher(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let period = Duration::from_secs(me.config.revocations.refresh_secs.max(1));
            loop {
                me.refresh_revocations().await;
                tokio::time::sleep(period).await;
            }
        })
    }

    /// Fetches and verifies each issuer's revocation list once.
    pub async fn refresh_revocations(&self) {
        let mut views = (*self.revocations()).clone();
        for issuer in &self.config.issuers {
            let result: Result<Verified<RevocationList>, String> = async {
                let env: Envelope = self
                    .fetcher
                    .get_json(&issuer.revocations_url)
                    .await
                    .map_err(|e| e.to_string())?;
                let list = Verified::<RevocationList>::verify(env, &[*issuer.id.key()])
                    .map_err(|e| e.to_string())?;
                if list.issuer != issuer.id {
                    return Err("the list names another issuer".into());
                }
                if list.expires_at <= Utc::now() {
                    return Err("the list has expired".into());
                }
                if let Some(held) = views.get(&issuer.id).and_then(|v| v.list.as_ref()) {
                    if list.version < held.version {
                        return Err(format!(
                            "version {} is older than version {} already seen",
                            list.version, held.version
                        ));
                    }
                }
                Ok(list)
            }
            .await;
            match result {
                Ok(list) => {
                    views.insert(issuer.id, RevocationView::new(Some(list), Some(Utc::now())));
                }
                Err(e) => {
                    tracing::warn!(issuer = %issuer.id, error = %e, "revocation list refused; previous list kept until the grace period ends");
                }
            }
        }
        write(&self.revocations, Arc::new(views));
    }
}

impl Aggregator {
    /// Follows the primary's feed, verifying everything against this aggregator's own
    /// trust policy: the primary is only a transport, never trusted.
    pub fn spawn_mirror(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let interval = me.config.crawl.interval().min(Duration::from_secs(5));
            loop {
                match me.follow_feed_once().await {
                    Ok(0) => tokio::time::sleep(interval).await,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "mirror: feed fetch failed");
                        tokio::time::sleep(interval).await;
                    }
                }
            }
        })
    }

    /// Reads one page of the primary's feed; returns how many items it held.
    pub async fn follow_feed_once(&self) -> Result<usize, String> {
        let Some(mirror) = &self.config.mirror else {
            return Ok(0);
        };
        let since = *lock(&self.mirror_position);
        let url = format!(
            "{}/v1/feed?since={since}&limit=100",
            mirror.primary.trim_end_matches('/')
        );
        let page: crate::api::FeedPage = self
            .fetcher
            .get_json(&url)
            .await
            .map_err(|e| e.to_string())?;
        let count = page.items.len();
        for item in page.items {
            let Some(entry) = self
                .config
                .nodes
                .iter()
                .find(|n| n.id == item.node)
                .cloned()
            else {
                continue;
            };
            let held = self.index().segment(&entry.id).map(|s| Arc::clone(&s.data));
            let now = Utc::now();
            match self.verify_feed_item(&entry, held.as_deref(), item, now) {
                Ok(Some(data)) => {
                    self.install(data, held.as_deref());
                    let mut health = lock(&self.health);
                    if let Some(h) = health.get_mut(&entry.id) {
                        h.status = "healthy".into();
                        h.last_attempt = Some(now);
                        h.last_success = Some(now);
                        h.consecutive_failures = 0;
                    }
                }
                Ok(None) => {}
                Err(refused) => self.refuse(&entry, refused, now),
            }
        }
        *lock(&self.mirror_position) = page.next.max(since);
        Ok(count)
    }

    fn verify_feed_item(
        &self,
        entry: &NodeEntry,
        held: Option<&NodeData>,
        item: crate::api::FeedItem,
        now: DateTime<Utc>,
    ) -> Result<Option<NodeData>, Refused> {
        let held_chain = held.map(|h| h.chain.clone()).unwrap_or_default();
        let new_docs: Vec<Envelope> = item
            .node_documents
            .into_iter()
            .skip(held_chain.len())
            .collect();
        let chain = verify::advance_chain(&entry.id, &held_chain, new_docs)?;
        let published = Publication {
            snapshot: item.snapshot,
            listings: item.listings,
            attestations: item.attestations,
        };
        self.verify_publication(entry, chain, published, held, now)
    }
}

/// A node's whole publication as a bundle or a feed item carries it.
struct Publication {
    snapshot: Envelope,
    listings: Vec<Envelope>,
    attestations: Vec<Envelope>,
}

impl Aggregator {
    /// Verifies a whole publication against a verified chain and what is held: the
    /// snapshot, every listing it names (those held unchanged are not verified again), and
    /// the attestations. `None` when it is the snapshot already held.
    fn verify_publication(
        &self,
        entry: &NodeEntry,
        chain: Vec<Verified<NodeDocument>>,
        published: Publication,
        held: Option<&NodeData>,
        now: DateTime<Utc>,
    ) -> Result<Option<NodeData>, Refused> {
        let keys = chain
            .last()
            .map(|d| d.signing_verifying_keys())
            .unwrap_or_default();
        let snapshot = match verify::verify_snapshot(
            published.snapshot,
            &entry.id,
            &keys,
            held.map(|h| &h.snapshot),
            now,
            &self.limits,
        )? {
            SnapshotVerdict::Same => return Ok(None),
            SnapshotVerdict::Newer { snapshot, .. } => *snapshot,
        };
        if published.listings.len() > self.limits.max_listings {
            return Err(Refusal::new(
                "too_many_listings",
                format!("{} listings", published.listings.len()),
            )
            .into());
        }
        let fetched = by_listing_id(published.listings)?;
        let attestations = verify::verify_attestations(&snapshot, published.attestations)?;
        let parts = verify::Parts {
            chain,
            snapshot,
            fetched,
            attestations,
        };
        Ok(Some(verify::assemble(
            &entry.id,
            parts,
            held,
            now,
            &self.limits,
        )?))
    }
}

/// Routes listing envelopes to their manifest entries by the id in their payload (read
/// unverified, only to route; verification follows).
fn by_listing_id(envelopes: Vec<Envelope>) -> Result<HashMap<Uuid, Envelope>, Refusal> {
    #[derive(Deserialize)]
    struct IdOnly {
        id: Uuid,
    }
    let mut out = HashMap::with_capacity(envelopes.len());
    for env in envelopes {
        let bytes = env
            .payload_bytes()
            .map_err(|e| Refusal::new("bad_signature", format!("listing: {e}")))?;
        let id = serde_json::from_slice::<IdOnly>(&bytes)
            .map_err(|_| Refusal::new("malformed_payload", "a listing without an id"))?
            .id;
        if out.insert(id, env).is_some() {
            return Err(Refusal::new(
                "manifest_mismatch",
                format!("listing {id} appears twice"),
            ));
        }
    }
    Ok(out)
}
