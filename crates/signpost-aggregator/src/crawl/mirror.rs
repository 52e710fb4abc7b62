//! A mirror replica follows a primary aggregator's feed and verifies everything itself
//! against its own trust policy: the primary is only a transport, never trusted.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use signpost_client::node::extend_chain;
use signpost_client::{ClientError, DirectoryClient, FetchError};
use signpost_protocol::wire::{FeedItem, Refusal};

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
        let primary = DirectoryClient::new(self.fetcher.clone(), &mirror.primary);
        // Pages are bounded in bytes by the primary; a page still over this mirror's cap
        // holds a single large publication: ask for one item at a time.
        let page = match primary.feed(since, 100).await {
            Err(ClientError::Fetch(FetchError::TooLarge(_))) => {
                primary.feed(since, 1).await.map_err(|e| match e {
                    ClientError::Fetch(FetchError::TooLarge(cap)) => format!(
                        "the feed item after position {since} is larger than this mirror accepts ({cap} bytes); raise [crawl] max_body_bytes to at least the primary's"
                    ),
                    other => other.to_string(),
                })?
            }
            other => other.map_err(|e| e.to_string())?,
        };
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
            let held = self.held(&entry.id);
            let now = Utc::now();
            match self.verify_feed_item(&entry, held.as_deref(), item, now) {
                Ok(Some(data)) => match self.install(data, held.as_deref()) {
                    Ok(installed) => self.health.record(
                        &entry.id,
                        Outcome::Updated(&installed),
                        now,
                        &self.metrics,
                    ),
                    // Not stored, so not served: read this page again.
                    Err(e) => return Err(e),
                },
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
