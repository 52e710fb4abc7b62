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

use std::collections::{BTreeSet, HashMap, HashSet};
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
    /// Held while a revocation list is put in use (pushes and the refresher).
    pub(crate) revocation_write: Mutex<()>,
    /// When every issuer's list was last fetched; held through a refresh, so that refreshes
    /// never overlap and the schedule skips a refresh someone else just made.
    pub(crate) revocations_fetched: tokio::sync::Mutex<Option<std::time::Instant>>,
    /// Held while an enrolment request is taken or decided: one at a time, so a decision
    /// is made on the request as it stands (never approved and declined at once).
    pub(crate) enrolment_write: Mutex<()>,
    /// Bumped whenever the revocation views are replaced (for ETags).
    pub(crate) revocation_generation: std::sync::atomic::AtomicU64,
    wake: RwLock<HashMap<DidKey, Arc<Notify>>>,
    /// The nodes the configuration file names (`config.nodes` holds these and the nodes
    /// approved before this start).
    pub(crate) configured: HashSet<DidKey>,
    /// The nodes whose enrolment request is approved in the store: trusted beside the
    /// configured ones, as the next start will trust them.
    pub(crate) approved: Mutex<HashSet<DidKey>>,
    /// Nodes whose approval was withdrawn while running: nothing of theirs is installed.
    pub(crate) withdrawn: Mutex<HashSet<DidKey>>,
    /// Whether the crawler's per-node tasks are running (a node approved later gets one).
    pub(crate) crawling: std::sync::atomic::AtomicBool,
    /// SHA-256 of the operator's admin token; `None`: no enrolment.
    pub admin_token: Option<[u8; 32]>,
    /// Per node: when its crawl was last woken by a push, and whether a wake is deferred.
    last_wake: Mutex<HashMap<DidKey, (Option<Instant>, bool)>>,
    doc_checked: Mutex<HashMap<DidKey, Instant>>,
    feed: Mutex<Feed>,
    mirror_position: Mutex<u64>,
    /// Feed items refused for a reason that passes with time, by position.
    mirror_retry: Mutex<std::collections::BTreeMap<u64, DidKey>>,
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

fn read_ref<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    match lock.read() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn write_ref<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    match lock.write() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn write<T>(lock: &RwLock<T>, value: T) {
    *write_ref(lock) = value;
}

use health::lock;

/// Feed positions: assigned in order, made visible only once every earlier one is installed
/// (or given up), never repeated (the highest is stored with every install).
struct Feed {
    /// The last position assigned.
    next: u64,
    /// Every position up to this one is installed or given up.
    visible: u64,
    /// Installed (or given up) above `visible`.
    installed: BTreeSet<u64>,
    /// Each node's current position.
    positions: HashMap<DidKey, u64>,
}

impl Feed {
    fn installed(&mut self, node: DidKey, position: u64) {
        self.positions.insert(node, position);
        self.skip(position);
    }

    fn skip(&mut self, position: u64) {
        self.installed.insert(position);
        while self.installed.remove(&(self.visible + 1)) {
            self.visible += 1;
        }
    }
}

impl Aggregator {
    /// Opens the store and loads every verified node state into the index.
    pub fn open(mut config: AggregatorConfig, store: Store) -> Result<Self, String> {
        let admin_token = crate::enrol::admin_token(&config)?;
        let configured: HashSet<DidKey> = config.nodes.iter().map(|n| n.id).collect();
        let mut approved = HashSet::new();
        if config.mirror.is_none() {
            for entry in crate::enrol::approved(&store) {
                approved.insert(entry.id);
                if !config.nodes.iter().any(|n| n.id == entry.id) {
                    config.nodes.push(entry);
                }
            }
        }
        let roots = match &config.crawl.extra_roots_file {
            None => Vec::new(),
            Some(path) => {
                std::fs::read(path).map_err(|e| format!("crawl.extra_roots_file {path}: {e}"))?
            }
        };
        let fetcher = Fetcher::with_roots(
            config.crawl.timeout(),
            config.crawl.max_body_bytes,
            4,
            &roots,
        )?;
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
        match persist::drop_listing_keys(&store) {
            Ok(0) => {}
            Ok(n) => tracing::info!(keys = n, "removed listing keys an earlier version kept"),
            Err(e) => return Err(format!("cannot tidy the store: {e}")),
        }
        match persist::move_whole_values(&store, &pinned) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                nodes = n,
                "node values an earlier version kept in the database are now in files"
            ),
            Err(e) => return Err(format!("cannot tidy the store: {e}")),
        }
        let mut index = Index::default();
        let mut positions = HashMap::new();
        let mut highest = persist::feed_seq(&store);
        // Each node is read and its entries built on every core, and installed here as soon
        // as it is ready (installing is one thread: it overlaps the reading instead of
        // following it).
        std::thread::scope(|scope| {
            let (ready, arrived) = std::sync::mpsc::sync_channel(64);
            let (store, pinned) = (&store, &pinned);
            scope.spawn(move || {
                persist::load(store, pinned, |data, feed_seq| {
                    let data = Arc::new(data);
                    let prepared = crate::index::Prepared::new(Arc::clone(&data));
                    // The receiver lives until every sender is gone.
                    let _ = ready.send((prepared, data, feed_seq));
                });
            });
            for (prepared, data, feed_seq) in arrived {
                positions.insert(data.id, feed_seq);
                highest = highest.max(feed_seq);
                health.loaded(&data);
                index.install(prepared);
            }
        });
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
            revocations: RwLock::new(Arc::new(revocations::load(&store, &config.issuers))),
            revocation_generation: std::sync::atomic::AtomicU64::new(0),
            revocation_write: Mutex::new(()),
            revocations_fetched: tokio::sync::Mutex::new(None),
            enrolment_write: Mutex::new(()),
            wake: RwLock::new(wake),
            configured,
            approved: Mutex::new(approved),
            withdrawn: Mutex::new(HashSet::new()),
            crawling: std::sync::atomic::AtomicBool::new(false),
            admin_token,
            last_wake: Mutex::new(HashMap::new()),
            doc_checked: Mutex::new(HashMap::new()),
            feed: Mutex::new(Feed {
                next: highest,
                visible: highest,
                installed: BTreeSet::new(),
                positions,
            }),
            mirror_position: Mutex::new(0),
            mirror_retry: Mutex::new(Default::default()),
            metrics: Metrics::default(),
            permits,
            limits,
            store,
            config,
        })
    }

    /// The wake-up handle of a node's crawl task (created for a node added while running).
    pub(crate) fn wake_handle(&self, node: &DidKey) -> Arc<Notify> {
        if let Some(n) = read_ref(&self.wake).get(node) {
            return Arc::clone(n);
        }
        Arc::clone(write_ref(&self.wake).entry(*node).or_default())
    }

    /// Whether `handle` is still the wake-up handle of `node`'s crawl task: a task whose
    /// node was withdrawn (and perhaps approved again, with a task of its own) stops.
    pub(crate) fn is_current_task(&self, node: &DidKey, handle: &Arc<Notify>) -> bool {
        read_ref(&self.wake)
            .get(node)
            .is_some_and(|current| Arc::ptr_eq(current, handle))
    }

    /// Stops serving and crawling a node whose approval was withdrawn: its crawl task ends,
    /// an install of it already under way is refused, and it leaves the index, the feed and
    /// the health table. Its last verified state stays in the store, neither served nor
    /// loaded at the next start.
    pub(crate) fn withdraw(&self, node: &DidKey) {
        lock(&self.withdrawn).insert(*node);
        let task = write_ref(&self.wake).remove(node);
        if let Some(task) = task {
            task.notify_one();
        }
        write_ref(&self.index).remove(node);
        lock(&self.feed).positions.remove(node);
        self.health.remove(node);
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

    /// A strong ETag for a response computed from the directory's state now: the index,
    /// the revocation lists and the minute (freshness is judged against the clock), with the
    /// request's path and query.
    pub fn state_etag(&self, uri: &str) -> String {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.index().generation().hash(&mut h);
        self.revocation_generation
            .load(std::sync::atomic::Ordering::Acquire)
            .hash(&mut h);
        (Utc::now().timestamp() / 60).hash(&mut h);
        uri.hash(&mut h);
        format!("\"{:016x}\"", h.finish())
    }

    /// Every node's crawl health (`stale` where the served snapshot has expired).
    pub fn health(&self) -> Vec<NodeHealth> {
        let expired = self.expired_now();
        self.health.snapshot(expired)
    }

    /// One node's crawl health, as [`Aggregator::health`] gives it; `None` for a node this
    /// directory does not list.
    pub fn node_health(&self, id: &DidKey) -> Option<NodeHealth> {
        self.health.one(id, self.expired_now()(id))
    }

    /// Whether the snapshot served for a node has expired, as of now (its health then reads
    /// `Stale`).
    fn expired_now(&self) -> impl Fn(&DidKey) -> bool + '_ {
        let now = Utc::now();
        let index = self.index();
        move |id| {
            index
                .segment(id)
                .is_some_and(|seg| seg.data.snapshot.expires_at <= now)
        }
    }

    /// Nodes whose state changed after feed position `since`, oldest change first: only
    /// positions below which every position is installed, so a reader that moves its `since`
    /// forward never skips one installed later.
    pub fn feed_since(&self, since: u64, limit: usize) -> Vec<(u64, Arc<NodeData>)> {
        let (visible, positions) = {
            let feed = lock(&self.feed);
            (feed.visible, feed.positions.clone())
        };
        let index = self.index();
        let mut items: Vec<(u64, Arc<NodeData>)> = positions
            .into_iter()
            .filter(|(_, seq)| *seq > since && *seq <= visible)
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

    /// Stores a node's new verified state durably, then indexes it and puts it on the feed.
    /// Nothing is served before it is on disk: a crash never rolls the aggregator (or its
    /// rollback protection) back to older data. When the store fails, the new state is not
    /// served either, and the error says why.
    pub fn install(&self, data: NodeData) -> Result<Arc<NodeData>, String> {
        let position = self.next_position();
        let data = Arc::new(data);
        let stored = persist::save(&self.store, &data, position).and_then(|()| self.store.flush());
        self.finish_install(data, position, stored.map_err(|e| e.to_string()))
    }

    /// [`Aggregator::install`] for async callers: storing (sled's batch, then waiting for the
    /// disk) runs on a blocking thread, so the runtime's workers verify other nodes
    /// meanwhile instead of one of two cores waiting on the disk.
    pub async fn install_off_thread(&self, data: NodeData) -> Result<Arc<NodeData>, String> {
        let position = self.next_position();
        let data = Arc::new(data);
        let (store, held) = (self.store.clone(), Arc::clone(&data));
        let stored = tokio::task::spawn_blocking(move || {
            persist::save(&store, &held, position).and_then(|()| store.flush())
        })
        .await;
        let stored = match stored {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(e) => Err(format!("the store task stopped: {e}")),
        };
        self.finish_install(data, position, stored)
    }

    fn next_position(&self) -> u64 {
        let mut feed = lock(&self.feed);
        feed.next += 1;
        feed.next
    }

    fn finish_install(
        &self,
        data: Arc<NodeData>,
        position: u64,
        stored: Result<(), String>,
    ) -> Result<Arc<NodeData>, String> {
        if let Err(e) = stored {
            lock(&self.feed).skip(position);
            tracing::error!(node = %data.id, error = %e, "could not store verified data; still serving the previous state");
            return Err(format!("the store failed: {e}"));
        }
        let id = data.id;
        // Build the node's entries before taking the index lock.
        let prepared = crate::index::Prepared::new(Arc::clone(&data));
        {
            let mut guard = write_ref(&self.index);
            // Checked under the index's lock, which a withdrawal takes after marking the
            // node: either this install is refused, or the withdrawal removes it.
            if lock(&self.withdrawn).contains(&id) {
                drop(guard);
                lock(&self.feed).skip(position);
                return Err("the node's approval was withdrawn".into());
            }
            guard.install(prepared);
        }
        lock(&self.feed).installed(id, position);
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(n: u8) -> DidKey {
        DidKey::new(signpost_protocol::SigningKey::from_bytes(&[n; 32]).verifying_key())
    }

    #[test]
    fn a_withdrawn_node_leaves_the_index_and_the_feed_and_is_not_installed_again() {
        let store = Store::temporary().expect("store");
        let agg = Aggregator::open(AggregatorConfig::default(), store).expect("opens");
        let data = crate::persist::tests::node_state();
        let id = data.id;
        agg.install(data.clone()).expect("installs");
        assert!(agg.held(&id).is_some());
        assert_eq!(agg.feed_since(0, 10).len(), 1);
        assert_eq!(agg.index().listing_count(), 3);
        agg.withdraw(&id);
        assert!(agg.held(&id).is_none());
        assert!(agg.feed_since(0, 10).is_empty());
        assert_eq!(agg.index().listing_count(), 0);
        assert!(!agg.health.snapshot(|_| false).iter().any(|h| h.id == id));
        // An install already under way when the approval was withdrawn.
        assert!(agg.install(data.clone()).is_err());
        assert!(agg.held(&id).is_none());
        assert!(agg.feed_since(0, 10).is_empty());
        // Approved again: installed as any node.
        lock(&agg.withdrawn).remove(&id);
        agg.install(data).expect("installs");
        assert_eq!(agg.feed_since(0, 10).len(), 1);
    }

    #[test]
    fn a_position_becomes_visible_only_when_every_earlier_one_is_installed() {
        let mut feed = Feed {
            next: 4,
            visible: 4,
            installed: BTreeSet::new(),
            positions: HashMap::new(),
        };
        // Positions 5 and 6 are assigned; 6 is installed first.
        feed.installed(node(6), 6);
        assert_eq!(
            feed.visible, 4,
            "6 must wait for 5, or a reader could skip 5"
        );
        feed.installed(node(5), 5);
        assert_eq!(feed.visible, 6);
        // A position given up (the store failed) does not hold the feed back.
        feed.skip(7);
        feed.installed(node(8), 8);
        assert_eq!(feed.visible, 8);
        assert!(feed.installed.is_empty());
    }
}
