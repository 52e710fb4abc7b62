//! When nodes are crawled: one task per node polling every interval, a global limit on
//! crawls in flight, exponential backoff with jitter for failing nodes, and push wake-ups
//! (a node posting its new signed snapshot to `/v1/ping`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng as _;
use signpost_client::fetch::parse;
use signpost_protocol::wire::{Refusal, RefusalCode};
use signpost_protocol::{DidKey, Envelope, Snapshot};

use super::health::{lock, Outcome};
use super::Aggregator;
use crate::config::NodeEntry;
use crate::verify::{self, NodeData, SnapshotVerdict};

/// The wait before the next crawl of a node after `failures` failures in a row: doubling
/// from 1 s with ±25% jitter, never more than `max_backoff` nor one polling interval, so a
/// node that recovers is seen again at least as soon as a healthy one would be polled.
pub fn backoff(failures: u32, interval: Duration, max_backoff: Duration) -> Duration {
    let base = Duration::from_secs(1) * 2u32.saturating_pow(failures.min(16));
    let jitter = rand::thread_rng().gen_range(0.75..1.25);
    base.mul_f64(jitter)
        .min(max_backoff)
        .min(interval.max(Duration::from_secs(1)))
}

/// Whether a node keeps serving a snapshot past half its lifetime. Nodes re-sign at
/// half-life, so an unchanged snapshot that old means the node (or a cache in front of it)
/// is frozen: still served until it expires, but flagged now rather than days later.
pub fn frozen(held: &NodeData, now: DateTime<Utc>) -> Option<Refusal> {
    let snap = &held.snapshot;
    let half_life = (snap.expires_at - snap.issued_at) / 2;
    (now > snap.issued_at + half_life).then(|| {
        Refusal::new(
            RefusalCode::Frozen,
            format!(
                "the node still serves snapshot seq {} signed at {}, past half its lifetime; \
                 nodes re-sign at half-life: check the node, and any cache in front of it",
                snap.seq,
                snap.issued_at.to_rfc3339()
            ),
        )
    })
}

impl Aggregator {
    /// A push: the body is the node's new signed snapshot. It wakes the node's crawl only
    /// when it verifies under the keys held for the node and is newer than what is held, and
    /// at most once a second per node: a forged or replayed ping never turns this aggregator
    /// into an amplifier against a small charity's server. A snapshot signed by a key not
    /// yet known (anyone can claim one) wakes nothing: after a signing-key rotation the
    /// change is found by the next scheduled crawl.
    pub fn ping(self: &Arc<Self>, envelope: Envelope) -> Result<DidKey, Refusal> {
        let bytes = envelope
            .payload_bytes()
            .map_err(|e| Refusal::new(RefusalCode::BadSignature, e.to_string()))?;
        let claimed: Snapshot = parse(&bytes).map_err(Refusal::from)?;
        if !self.is_trusted(&claimed.node) {
            return Err(Refusal::new(
                RefusalCode::UnknownNode,
                "this aggregator does not follow that node",
            ));
        }
        let notify = self.wake_handle(&claimed.node);
        let held = self.held(&claimed.node).ok_or_else(|| {
            Refusal::new(
                RefusalCode::UnknownSigningKey,
                "nothing from this node has been verified yet, so a push cannot be; it is crawled on its schedule",
            )
        })?;
        let now = Utc::now();
        signpost_client::node::check_current(&held.chain, now).map_err(Refusal::from)?;
        match verify::verify_snapshot(
            envelope,
            &claimed.node,
            &held.signing_keys(),
            Some(&held.snapshot),
            now,
            &self.limits,
        ) {
            Ok(SnapshotVerdict::Newer { .. }) => {}
            Ok(SnapshotVerdict::Same) => {
                return Err(Refusal::new(RefusalCode::NotNewer, "already held"))
            }
            Err(r) => return Err(r.refusal),
        }
        // At most one wake a second per node. A change pushed within the second is not
        // lost: one wake is deferred to the end of the second (and only one).
        let delay = {
            let mut last = lock(&self.last_wake);
            let (at, deferred) = last.entry(claimed.node).or_insert((None, false));
            match at.map(|t: Instant| t.elapsed()) {
                Some(elapsed) if elapsed < Duration::from_secs(1) => {
                    if *deferred {
                        return Ok(claimed.node);
                    }
                    *deferred = true;
                    Some(Duration::from_secs(1) - elapsed)
                }
                _ => {
                    *at = Some(Instant::now());
                    None
                }
            }
        };
        match delay {
            None => notify.notify_one(),
            Some(delay) => {
                let node = claimed.node;
                let me = Arc::clone(self);
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if let Some(entry) = lock(&me.last_wake).get_mut(&node) {
                        *entry = (Some(Instant::now()), false);
                    }
                    notify.notify_one();
                });
            }
        }
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
        self.crawling
            .store(true, std::sync::atomic::Ordering::Relaxed);
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

    pub(crate) async fn node_loop(self: Arc<Self>, entry: NodeEntry) {
        let interval = self.config.crawl.interval();
        let max_backoff = Duration::from_secs(self.config.crawl.max_backoff_secs.max(1));
        let wake = self.wake_handle(&entry.id);
        // Spread the first crawls over a moment so a thousand nodes do not start at once.
        let first = rand::thread_rng().gen_range(0..=50u64);
        tokio::time::sleep(Duration::from_millis(first)).await;
        // Until the node is withdrawn (its handle removed, or replaced by a new task's).
        while self.is_current_task(&entry.id, &wake) {
            let wait = if self.crawl_and_record(&entry).await {
                interval
            } else {
                backoff(
                    self.health.consecutive_failures(&entry.id),
                    interval,
                    max_backoff,
                )
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
        if self.config.mirror.is_some() {
            return true; // mirrors learn from the feed, not from nodes
        }
        let held = self.held(&entry.id);
        let now = Utc::now();
        match self.crawl(entry, held.as_deref()).await {
            Ok(Some(data)) => match self.install_off_thread(data).await {
                Ok(installed) => {
                    self.health
                        .record(&entry.id, Outcome::Updated(&installed), now, &self.metrics);
                    true
                }
                // Verified but not stored: not served; the next crawl tries again.
                Err(_) => false,
            },
            Ok(None) => {
                match held.as_deref().and_then(|h| frozen(h, now)) {
                    Some(flag) => {
                        tracing::warn!(node = %entry.id, detail = %flag.detail, "frozen");
                        self.health
                            .record(&entry.id, Outcome::Flagged(&flag), now, &self.metrics)
                    }
                    None => self
                        .health
                        .record(&entry.id, Outcome::Unchanged, now, &self.metrics),
                }
                true
            }
            Err(refused) => {
                self.refuse(entry, refused, now);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_and_never_waits_longer_than_a_polling_interval() {
        let minute = Duration::from_secs(60);
        let hour = Duration::from_secs(3600);
        assert!(backoff(0, minute, hour) <= Duration::from_millis(1250));
        assert!(backoff(3, minute, hour) >= Duration::from_secs(6));
        for failures in [6, 10, 40, u32::MAX] {
            assert!(backoff(failures, minute, hour) <= minute, "{failures}");
        }
        assert!(backoff(20, hour, Duration::from_secs(300)) <= Duration::from_secs(300));
    }
}
