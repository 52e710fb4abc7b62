//! A mirror replica follows a primary aggregator's feed and verifies everything itself
//! against its own trust policy: the primary is only a transport, never trusted.

use std::sync::{mpsc, Arc};
use std::time::Duration;

use chrono::{DateTime, Utc};
use signpost_client::node::extend_chain;
use signpost_client::{ClientError, DirectoryClient, FetchError};
use signpost_protocol::wire::{FeedItem, FeedPage, Refusal, RefusalCode};
use signpost_protocol::DidKey;

use super::health::{lock, Outcome};
use super::publication::Publication;
use super::Aggregator;
use crate::config::NodeEntry;
use crate::persist;
use crate::verify::{NodeData, Refused};

/// The most verified states stored under one flush.
const STORE_BATCH: usize = 16;

/// A verified state after its storing: its node's place in the page, the state, its feed
/// position, and whether it is durably stored.
type StoredState = (usize, Arc<NodeData>, u64, Result<(), String>);

impl Aggregator {
    /// Follows the primary's feed until stopped.
    pub fn spawn_mirror(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let interval = me.config.crawl.interval().min(Duration::from_secs(5));
            loop {
                match me.catch_up().await {
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
        let primary = DirectoryClient::new(self.fetcher.clone(), &mirror.primary);
        let page = fetch_page(&primary, since).await?;
        self.take_page(&primary, since, page).await
    }

    /// Reads the primary's feed until it has nothing new; returns how many items it held.
    /// Each page is fetched while the one before it is verified, so the cores that verify
    /// do not wait for the transfer (a catch-up ran at half the machine's cores without it).
    pub async fn catch_up(&self) -> Result<usize, String> {
        let Some(mirror) = &self.config.mirror else {
            return Ok(0);
        };
        let primary = DirectoryClient::new(self.fetcher.clone(), &mirror.primary);
        let mut since = *lock(&self.mirror_position);
        let mut page = fetch_page(&primary, since).await?;
        let mut total = 0;
        while !page.items.is_empty() {
            let next = page.next.max(since);
            let ahead = {
                let primary = DirectoryClient::new(self.fetcher.clone(), &mirror.primary);
                AbortOnDrop(tokio::spawn(
                    async move { fetch_page(&primary, next).await },
                ))
            };
            total += self.take_page(&primary, since, page).await?;
            since = *lock(&self.mirror_position);
            page = if since == next {
                ahead.join().await?
            } else {
                fetch_page(&primary, since).await?
            };
        }
        Ok(total)
    }

    /// Verifies and installs a page read from position `since`, then moves past it.
    async fn take_page(
        &self,
        primary: &DirectoryClient,
        since: u64,
        page: FeedPage,
    ) -> Result<usize, String> {
        let count = page.items.len();
        // Items about different nodes are independent: each node's, in feed order, on
        // every core.
        let mut by_node: Vec<(DidKey, Vec<FeedItem>)> = Vec::new();
        for item in page.items {
            match by_node.iter_mut().find(|(n, _)| *n == item.node) {
                Some((_, items)) => items.push(item),
                None => by_node.push((item.node, vec![item])),
            }
        }
        let take_all = || self.take_items(by_node);
        match install_pool() {
            Some(pool) => pool.install(take_all)?,
            None => take_all()?,
        }
        *lock(&self.mirror_position) = page.next.max(since);
        self.retry_transient(primary).await?;
        Ok(count)
    }

    /// Verifies each node's items (in feed order) on every core, while a thread of its own
    /// stores what passed and another serves what is stored: a core that stored its own
    /// waited on the disk (its file, then the store's flush), and one that served the page
    /// only after all of it was stored left the other core idle meanwhile. What passed is
    /// stored in batches, each made durable with one flush before any of it is served. When
    /// anything could not be stored, what was stored is served and the error returned: the
    /// caller reads the page again.
    fn take_items(&self, by_node: Vec<(DidKey, Vec<FeedItem>)>) -> Result<(), String> {
        use rayon::prelude::*;
        let now = Utc::now();
        let nodes = by_node.len();
        // (the node's place in `by_node`, its verified state, its feed position)
        let (to_store, stored) = mpsc::channel::<(usize, Arc<NodeData>, u64)>();
        let (to_serve, durable) = mpsc::channel::<Vec<StoredState>>();
        let (stored_all, served_all) = std::thread::scope(|scope| {
            let storer = scope.spawn(move || self.store_in_batches(stored, to_serve));
            let server = scope.spawn(move || self.serve_in_order(durable, nodes, now));
            // A node a task: the core that runs out of nodes first takes any not yet
            // started, so at the page's end it waits on one node of the other's at most
            // (rayon's default runs of several nodes left it idle for 8.8 ms a page on
            // average, against 3.8 ms).
            by_node
                .into_par_iter()
                .enumerate()
                .with_max_len(1)
                .for_each_with(to_store, |to_store, (node, (_, items))| {
                    // A node's later item is checked against its earlier one, which may
                    // not be served yet.
                    let mut earlier: Option<Arc<NodeData>> = None;
                    for item in items {
                        if let Some(data) = self.verify_for_mirror(item, earlier.as_deref(), now) {
                            let data = Arc::new(data);
                            earlier = Some(Arc::clone(&data));
                            let position = self.next_position();
                            // Fails only when the storer has stopped, which `join` reports.
                            if to_store.send((node, data, position)).is_err() {
                                lock(&self.feed).skip(position);
                            }
                        }
                    }
                });
            (storer.join(), server.join())
        });
        stored_all.map_err(|_| "the mirror's store thread stopped".to_string())?;
        served_all.map_err(|_| "the mirror's install thread stopped".to_string())?
    }

    /// Stores verified states as they come, in batches of at most [`STORE_BATCH`]: a batch
    /// ends when no state is waiting (or the page is done), is flushed once, and only then
    /// handed on to be served.
    fn store_in_batches(
        &self,
        stored: mpsc::Receiver<(usize, Arc<NodeData>, u64)>,
        to_serve: mpsc::Sender<Vec<StoredState>>,
    ) {
        let save = |(node, data, position): (usize, Arc<NodeData>, u64)| {
            let saved = persist::save(&self.store, &data, position).map_err(|e| e.to_string());
            (node, data, position, saved)
        };
        while let Ok(first) = stored.recv() {
            let mut batch = vec![save(first)];
            while batch.len() < STORE_BATCH {
                match stored.try_recv() {
                    Ok(next) => batch.push(save(next)),
                    Err(_) => break,
                }
            }
            if let Err(e) = self.store.flush() {
                for (_, _, _, saved) in &mut batch {
                    if saved.is_ok() {
                        *saved = Err(e.to_string());
                    }
                }
            }
            if let Err(mpsc::SendError(lost)) = to_serve.send(batch) {
                for (_, _, position, _) in lost {
                    lock(&self.feed).skip(position);
                }
            }
        }
    }

    /// Serves stored states in the order they were verified (a primary's feed names a node
    /// once a page, but a mirror does not rely on it). After a state of a node that could
    /// not be stored, none of its later ones is served (each gives up its feed position, so
    /// the feed does not wait on it).
    fn serve_in_order(
        &self,
        durable: mpsc::Receiver<Vec<StoredState>>,
        nodes: usize,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let mut failed = vec![false; nodes];
        let mut result = Ok(());
        for (node, data, position, saved) in durable.into_iter().flatten() {
            let failed = failed.get_mut(node);
            let saved = match failed.as_deref() {
                Some(true) => Err("an earlier state of this node was not stored".into()),
                _ => saved,
            };
            match self.finish_install(data, position, saved) {
                Ok(installed) => self.health.record(
                    &installed.id,
                    Outcome::Updated(&installed),
                    now,
                    &self.metrics,
                ),
                Err(e) => {
                    if let Some(failed) = failed {
                        *failed = true;
                    }
                    result = result.and(Err(e));
                }
            }
        }
        result
    }

    /// Verifies and installs one feed item.
    fn take_feed_item(&self, item: FeedItem) -> Result<(), String> {
        let now = Utc::now();
        if let Some(data) = self.verify_for_mirror(item, None, now) {
            // Not stored, so not served: the caller reads this page again.
            let installed = self.install(data)?;
            self.health.record(
                &installed.id,
                Outcome::Updated(&installed),
                now,
                &self.metrics,
            );
        }
        Ok(())
    }

    /// One feed item verified against `earlier` (else what is held): its new state, or
    /// `None` when it is not followed, unchanged, or refused. A refusal for a reason that
    /// passes with time (clock skew) is kept to be tried again rather than skipped for good.
    fn verify_for_mirror(
        &self,
        item: FeedItem,
        earlier: Option<&NodeData>,
        now: DateTime<Utc>,
    ) -> Option<NodeData> {
        let entry = self.config.nodes.iter().find(|n| n.id == item.node)?;
        let position = item.position;
        let held = match earlier {
            Some(_) => None,
            None => self.held(&entry.id),
        };
        lock(&self.mirror_retry).remove(&position);
        match self.verify_feed_item(entry, earlier.or(held.as_deref()), item, now) {
            Ok(data) => data,
            Err(refused) => {
                if refused.refusal.code == RefusalCode::FutureTimestamp {
                    lock(&self.mirror_retry).insert(position, entry.id);
                }
                self.refuse(entry, refused, now);
                None
            }
        }
    }

    /// Asks again for items refused for a passing reason. An item whose node has changed
    /// since is dropped from the list: its newer state comes in the feed anyway.
    async fn retry_transient(&self, primary: &DirectoryClient) -> Result<(), String> {
        let due: Vec<(u64, DidKey)> = lock(&self.mirror_retry)
            .iter()
            .take(16)
            .map(|(p, n)| (*p, *n))
            .collect();
        for (position, node) in due {
            let page = primary
                .feed(position - 1, 1)
                .await
                .map_err(|e| e.to_string())?;
            match page.items.into_iter().next() {
                Some(item) if item.position == position && item.node == node => {
                    self.take_feed_item(item)?
                }
                _ => {
                    lock(&self.mirror_retry).remove(&position);
                }
            }
        }
        Ok(())
    }

    fn verify_feed_item(
        &self,
        entry: &NodeEntry,
        held: Option<&NodeData>,
        item: FeedItem,
        now: DateTime<Utc>,
    ) -> Result<Option<NodeData>, Refused> {
        let held_chain = held.map(|h| h.chain.clone()).unwrap_or_default();
        let new_docs = item.node_documents.into_iter().skip(held_chain.len());
        let chain = extend_chain(&entry.id, &held_chain, new_docs, now).map_err(Refusal::from)?;
        let published = Publication {
            snapshot: item.snapshot,
            listings: item.listings,
            attestations: item.attestations,
        };
        self.verify_publication(entry, chain, published, held, now)
    }
}

/// Reads the page of the feed after position `since`. Pages are bounded in bytes by the
/// primary; a page still over this mirror's cap holds a single large publication: it is
/// asked for one item at a time.
async fn fetch_page(primary: &DirectoryClient, since: u64) -> Result<FeedPage, String> {
    match primary.feed(since, 100).await {
        Err(ClientError::Fetch(FetchError::TooLarge(_))) => {
            primary.feed(since, 1).await.map_err(|e| match e {
                ClientError::Fetch(FetchError::TooLarge(cap)) => format!(
                    "the feed item after position {since} is larger than this mirror accepts ({cap} bytes); raise [crawl] max_body_bytes to at least the primary's"
                ),
                other => other.to_string(),
            })
        }
        other => other.map_err(|e| e.to_string()),
    }
}

/// A page being fetched ahead, given up if the page before it fails.
struct AbortOnDrop(tokio::task::JoinHandle<Result<FeedPage, String>>);

impl AbortOnDrop {
    async fn join(mut self) -> Result<FeedPage, String> {
        (&mut self.0)
            .await
            .map_err(|e| format!("fetching the next feed page stopped: {e}"))?
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Threads for verifying feed items: one a core (they never wait on the disk: see
/// [`Aggregator::take_items`]).
fn install_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        rayon::ThreadPoolBuilder::new()
            .num_threads(cores)
            .thread_name(|i| format!("mirror-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}
