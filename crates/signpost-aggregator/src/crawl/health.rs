//! Crawl health per node and the counters behind `/metrics`. Every crawl or feed outcome is
//! recorded through [`Health::record`], the one place a node's status changes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use signpost_protocol::wire::{CrawlStatus, NodeHealth, Refusal, RefusalCode};
use signpost_protocol::DidKey;

use crate::verify::NodeData;

/// What one crawl (or one feed item, on a mirror) came to.
pub enum Outcome<'a> {
    /// The node serves what is held.
    Unchanged,
    /// New verified data was installed.
    Updated(&'a NodeData),
    /// Refused; the last verified data stays served.
    Refused {
        refusal: &'a Refusal,
        equivocation: bool,
    },
    /// Still served, but flagged (a snapshot kept past half its lifetime).
    Flagged(&'a Refusal),
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub crawls: AtomicU64,
    pub crawl_failures: AtomicU64,
    pub unchanged: AtomicU64,
    pub updates: AtomicU64,
    pub queries: AtomicU64,
    pub refusals: Mutex<HashMap<RefusalCode, u64>>,
}

impl Metrics {
    pub fn refusal_counts(&self) -> Vec<(RefusalCode, u64)> {
        let mut out: Vec<_> = lock(&self.refusals).iter().map(|(k, v)| (*k, *v)).collect();
        out.sort();
        out
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every node's crawl health.
pub struct Health {
    nodes: Mutex<HashMap<DidKey, NodeHealth>>,
}

impl Health {
    pub fn new(nodes: impl IntoIterator<Item = NodeHealth>) -> Self {
        Self {
            nodes: Mutex::new(nodes.into_iter().map(|h| (h.id, h)).collect()),
        }
    }

    /// Starts tracking a node added while running.
    pub fn add(&self, health: NodeHealth) {
        lock(&self.nodes).entry(health.id).or_insert(health);
    }

    /// Stops tracking a node no longer followed.
    pub fn remove(&self, node: &DidKey) {
        lock(&self.nodes).remove(node);
    }

    /// A node that has never been crawled.
    pub fn pending(id: DidKey, url: String) -> NodeHealth {
        NodeHealth {
            id,
            url,
            name: None,
            status: CrawlStatus::Pending,
            seq: None,
            listings: 0,
            last_attempt: None,
            last_success: None,
            last_refusal: None,
            last_refusal_at: None,
            consecutive_failures: 0,
            equivocations: 0,
        }
    }

    /// Records what a crawl of `node` came to at `now`, and counts it.
    pub fn record(
        &self,
        node: &DidKey,
        outcome: Outcome<'_>,
        now: DateTime<Utc>,
        metrics: &Metrics,
    ) {
        metrics.crawls.fetch_add(1, Ordering::Relaxed);
        let mut nodes = lock(&self.nodes);
        let Some(h) = nodes.get_mut(node) else {
            return;
        };
        h.last_attempt = Some(now);
        match outcome {
            Outcome::Unchanged | Outcome::Updated(_) => {
                if let Outcome::Updated(data) = outcome {
                    metrics.updates.fetch_add(1, Ordering::Relaxed);
                    Self::describe(h, data);
                } else {
                    metrics.unchanged.fetch_add(1, Ordering::Relaxed);
                }
                h.status = CrawlStatus::Healthy;
                h.last_success = Some(now);
                h.consecutive_failures = 0;
            }
            Outcome::Flagged(refusal) => {
                metrics.unchanged.fetch_add(1, Ordering::Relaxed);
                *lock(&metrics.refusals).entry(refusal.code).or_default() += 1;
                h.status = CrawlStatus::Frozen;
                h.last_success = Some(now);
                h.last_refusal = Some(refusal.clone());
                h.last_refusal_at = Some(now);
                h.consecutive_failures = 0;
            }
            Outcome::Refused {
                refusal,
                equivocation,
            } => {
                metrics.crawl_failures.fetch_add(1, Ordering::Relaxed);
                *lock(&metrics.refusals).entry(refusal.code).or_default() += 1;
                h.status = CrawlStatus::Failing;
                h.last_refusal = Some(refusal.clone());
                h.last_refusal_at = Some(now);
                h.consecutive_failures = h.consecutive_failures.saturating_add(1);
                if equivocation {
                    h.equivocations += 1;
                }
            }
        }
    }

    /// Notes what is served for a node (at start-up, from the store).
    pub fn loaded(&self, data: &NodeData) {
        if let Some(h) = lock(&self.nodes).get_mut(&data.id) {
            Self::describe(h, data);
        }
    }

    fn describe(h: &mut NodeHealth, data: &NodeData) {
        h.seq = Some(data.snapshot.seq);
        h.listings = data.listings.len();
        h.name = data.document().map(|d| d.name.clone());
    }

    pub fn consecutive_failures(&self, node: &DidKey) -> u32 {
        lock(&self.nodes)
            .get(node)
            .map(|h| h.consecutive_failures)
            .unwrap_or(0)
    }

    /// One node's health (its status `Stale` when `expired`).
    pub fn one(&self, id: &DidKey, expired: bool) -> Option<NodeHealth> {
        let h = lock(&self.nodes).get(id).cloned()?;
        Some(stale_if(h, expired))
    }

    /// Every node's health, by URL; `expired` says which served snapshots have expired.
    pub fn snapshot(&self, expired: impl Fn(&DidKey) -> bool) -> Vec<NodeHealth> {
        let mut out: Vec<NodeHealth> = (lock(&self.nodes).values())
            .map(|h| stale_if(h.clone(), expired(&h.id)))
            .collect();
        out.sort_by(|a, b| a.url.cmp(&b.url));
        out
    }
}

/// A node's health as served: `Stale` once the snapshot served for it has expired.
fn stale_if(mut h: NodeHealth, expired: bool) -> NodeHealth {
    if expired {
        h.status = CrawlStatus::Stale;
    }
    h
}
