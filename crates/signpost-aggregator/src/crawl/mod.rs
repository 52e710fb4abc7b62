//! The aggregator's state and everything that brings verified data into it.
//!
//! - this file: [`Aggregator`], the state shared by the crawler and the HTTP handlers
//!   (configuration, store, index, health, revocation views, feed positions), and
//!   [`Aggregator::install`], the one way new verified data is stored, indexed and put on the
//!   feed;
//! - [`scheduler`]: a task per node, the global concurrency limit, backoff, push wake-ups;
//! - [`node`]: one crawl of one node (chain, conditional snapshot, changed listings, bundle);
//! - [`publication`]: verifying a whole publication (a bundle or a feed item);
//! - [`revocations`]: the issuers' revocation lists;
//! - [`mirror`]: following a primary aggregator's feed;
//! - [`health`]: crawl health per node and the metrics counters.

pub mod health;
pub mod mirror;
pub mod node;
pub mod publication;
pub mod revocations;
pub mod scheduler;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use chrono::{DateTime, Utc};
use signpost_client::Fetcher;
use signpost_postcodes::{Gazetteer, Units};
use signpost_protocol::policy::{RevocationView, TrustedIssuer};
use signpost_protocol::wire::NodeHealth;
use signpost_protocol::DidKey;
use signpost_store::Store;
use tokio::sync::{Notify, Semaphore};

use crate::config::AggregatorConfig;
use crate::index::{Index, QueryContext};
use crate::persist;
use crate::verify::{Limits, NodeData};

pub use health::{Health, Metrics, Outcome};

/// What the aggregator knows, shared by the crawler and the HTTP handlers.
pub struct Aggregator {
    pub config: AggregatorConfig,
    pub store: Store,
    pub fetcher: Fetcher,
    pub issuers: Vec<TrustedIssuer>,
    index: RwLock<Index>,
    pub health: Health,
    revocations: RwLock<Arc<HashMap<DidKey, RevocationView>>>,
    wake: HashMap<DidKey, Arc<Notify>>,
    doc_checked: Mutex<HashMap<DidKey, Instant>>,
    feed_seq: AtomicU64,
    feed_positions: Mutex<HashMap<DidKey, u64>>,
    mirror_position: Mutex<u64>,
    pub metrics: Metrics,
    permits: Semaphore,
    limits: Limits,
    gazetteer: Gazetteer,
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

use health::lock;

impl Aggregator {
    /// Opens the store and loads every verified node state into the index.
    pub fn open(config: AggregatorConfig, store: Store) -> Result<Self, String> {
        let fetcher = Fetcher::new(config.crawl.timeout(), config.crawl.max_body_bytes, 4)?;
        let issuers = config.issuers.iter().map(|i| i.trusted()).collect();
        let pinned: Vec<DidKey> = config.nodes.iter().map(|n| n.id).collect();
        let health = Health::new(config.nodes.iter().map(|entry| {
            let last = persist::load_refusal(&store, &entry.id);
            NodeHealth {
                last_refusal_at: last.as_ref().map(|l| l.1),
                last_refusal: last.map(|l| l.0),
                equivocations: persist::evidence_count(&store, &entry.id),
                ..Health::pending(entry.id, entry.url.clone())
            }
        }));
        let mut index = Index::default();
        let mut positions = HashMap::new();
        for (data, feed_seq) in persist::load(&store, &pinned) {
            positions.insert(data.id, feed_seq);
            health.loaded(&data);
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
        let gazetteer = match &config.postcodes.units_file {
            None => Gazetteer::embedded(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("postcodes.units_file {path}: {e}"))?;
                let units = Units::from_csv(&text)
                    .map_err(|e| format!("postcodes.units_file {path}: {e}"))?;
                tracing::info!(units = units.len(), "unit postcodes loaded");
                Gazetteer::with_units(units)
            }
        };
        Ok(Self {
            gazetteer,
            fetcher,
            issuers,
            index: RwLock::new(index),
            health,
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

    /// Where postcodes are: embedded centroids and any unit postcodes loaded.
    pub fn gazetteer(&self) -> &Gazetteer {
        &self.gazetteer
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
            skew: self.limits.max_skew,
            issuers: &self.issuers,
            revocations,
            grace: chrono::Duration::seconds(self.config.revocations.grace_secs as i64),
        }
    }

    /// Every node's crawl health (`stale` where the served snapshot has expired).
    pub fn health(&self) -> Vec<NodeHealth> {
        let now = Utc::now();
        let index = self.index();
        self.health.snapshot(|id| {
            index
                .segment(id)
                .is_some_and(|seg| seg.data.snapshot.expires_at <= now)
        })
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

    /// The verified state held for a node.
    pub fn held(&self, node: &DidKey) -> Option<Arc<NodeData>> {
        self.index().segment(node).map(|s| Arc::clone(&s.data))
    }

    /// Stores and indexes a node's new verified state, and puts it on the feed.
    pub fn install(&self, data: NodeData, previous: Option<&NodeData>) {
        let feed_seq = self.feed_seq.fetch_add(1, Ordering::SeqCst) + 1;
        if let Err(e) = persist::save(&self.store, &data, previous, feed_seq) {
            tracing::error!(node = %data.id, error = %e, "could not store verified data; serving it from memory");
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
}
