//! A mirror replica follows a primary aggregator's feed and verifies everything itself
//! against its own trust policy: the primary is only a transport, never trusted.

use std::sync::Arc;
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
use crate::verify::{NodeData, Refused};

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
        let take_all = || {
            use rayon::prelude::*;
            by_node
                .into_par_iter()
                .map(|(_, items)| items.into_iter().try_for_each(|i| self.take_feed_item(i)))
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<Result<(), String>>()
        };
        match install_pool() {
            Some(pool) => pool.install(take_all)?,
            None => take_all()?,
        }
        *lock(&self.mirror_position) = page.next.max(since);
        self.retry_transient(primary).await?;
        Ok(count)
    }

    /// Verifies and installs one feed item. A refusal for a reason that passes with time
    /// (clock skew) is kept to be tried again rather than skipped for good.
    fn take_feed_item(&self, item: FeedItem) -> Result<(), String> {
        let Some(entry) = self
            .config
            .nodes
            .iter()
            .find(|n| n.id == item.node)
            .cloned()
        else {
            return Ok(());
        };
        let position = item.position;
        let held = self.held(&entry.id);
        let now = Utc::now();
        lock(&self.mirror_retry).remove(&position);
        match self.verify_feed_item(&entry, held.as_deref(), item, now) {
            Ok(Some(data)) => {
                // Not stored, so not served: the caller reads this page again.
                let installed = self.install(data)?;
                self.health
                    .record(&entry.id, Outcome::Updated(&installed), now, &self.metrics);
            }
            Ok(None) => {}
            Err(refused) => {
                if refused.refusal.code == RefusalCode::FutureTimestamp {
                    lock(&self.mirror_retry).insert(position, entry.id);
                }
                self.refuse(&entry, refused, now);
            }
        }
        Ok(())
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

/// Threads for taking feed items: twice as many as cores, because each install waits for
/// the disk (its file, then the store's flush) and the other threads verify meanwhile.
fn install_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        rayon::ThreadPoolBuilder::new()
            .num_threads(2 * cores)
            .thread_name(|i| format!("mirror-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}
