//! One crawl of one node: walk the node-document chain when due, fetch the snapshot
//! conditionally, then only the listings that changed (or the whole bundle on a cold crawl,
//! a broken `prev` chain, or many changes), and verify everything before it is installed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use signpost_client::node::{check_current, DEFAULT_MAX_CHAIN};
use signpost_client::{FetchError, NodeClient};
use signpost_protocol::wire::{Refusal, RefusalCode};
use signpost_protocol::{Decoded, NodeDocument, Snapshot, Verified};
use uuid::Uuid;

use super::health::lock;
use super::publication::Publication;
use super::Aggregator;
use crate::config::NodeEntry;
use crate::persist;
use crate::verify::{self, NodeData, Refused, SnapshotVerdict};

type Chain = Vec<Verified<NodeDocument>>;

/// The listings a snapshot names that are not held as they are (to fetch and verify).
fn not_held(snapshot: &Snapshot, held: Option<&NodeData>) -> Vec<Uuid> {
    snapshot
        .listings
        .iter()
        .filter(|e| {
            held.and_then(|h| h.listings.get(&e.id))
                .is_none_or(|l| l.digest() != e.sha256)
        })
        .map(|e| e.id)
        .collect()
}

/// Fetches listing envelopes one by one (verification follows, against the snapshot).
async fn fetch_listings(
    client: &NodeClient,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Decoded>, Refused> {
    let mut fetched = HashMap::with_capacity(ids.len());
    for id in ids {
        let env = client.listing(id).await.map_err(Refusal::from)?;
        let decoded = Decoded::new(env)
            .map_err(|e| Refusal::new(RefusalCode::BadSignature, format!("listing {id}: {e}")))?;
        fetched.insert(id, decoded);
    }
    Ok(fetched)
}

impl Aggregator {
    fn node_client(&self, entry: &NodeEntry) -> NodeClient {
        NodeClient::new(self.fetcher.clone(), &entry.url)
    }

    /// Records a refusal: health, metrics, the log, the store (and equivocation evidence).
    pub(crate) fn refuse(&self, entry: &NodeEntry, refused: Refused, now: DateTime<Utc>) {
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
        self.health.record(
            &entry.id,
            super::Outcome::Refused {
                refusal: &refused.refusal,
                equivocation: refused.evidence.is_some(),
            },
            now,
            &self.metrics,
        );
    }

    /// Crawls one node; `None` when what it serves is what is held.
    pub(crate) async fn crawl(
        &self,
        entry: &NodeEntry,
        held: Option<&NodeData>,
    ) -> Result<Option<NodeData>, Refused> {
        let client = self.node_client(entry);
        let now = Utc::now();
        let refresh_due = lock(&self.doc_checked).get(&entry.id).is_none_or(|t| {
            t.elapsed() >= Duration::from_secs(self.config.crawl.node_document_refresh_secs)
        });
        let held_chain = held.map(|h| h.chain.clone()).unwrap_or_default();
        // Keys are trusted only while the document naming them is current: an expired one is
        // walked again (the node should have renewed it), never used as it is.
        let expired = check_current(&held_chain, now).is_err();
        let mut chain = if held.is_none() || refresh_due || expired {
            self.refresh_chain(entry, &client, &held_chain).await?
        } else {
            held_chain
        };
        let Some(held) = held else {
            return self
                .crawl_bundle(entry, &client, chain, None)
                .await
                .map(Some);
        };
        let Some(env) = client
            .snapshot(Some(&held.etag()))
            .await
            .map_err(Refusal::from)?
        else {
            return Ok(None);
        };
        let keys = |c: &[Verified<NodeDocument>]| {
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
            Err(r) if r.refusal.code == RefusalCode::UnknownSigningKey && !refresh_due => {
                // The node may have rotated its signing key: walk the chain and try again.
                chain = self.refresh_chain(entry, &client, &chain).await?;
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
                return self
                    .crawl_bundle(entry, &client, chain, Some(held))
                    .await
                    .map(Some);
            }
            SnapshotVerdict::Newer { snapshot, .. } => *snapshot,
        };
        let changed = not_held(&snapshot, Some(held));
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
            return self
                .crawl_bundle(entry, &client, chain, Some(held))
                .await
                .map(Some);
        }
        let fetched = fetch_listings(&client, changed).await?;
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
            Err(r) if r.code == RefusalCode::ManifestMismatch => self
                .crawl_bundle(entry, &client, chain, Some(held))
                .await
                .map(Some),
            Err(r) => Err(r.into()),
        }
    }

    /// Verifies a node's whole publication from `/v1/bundle`.
    async fn crawl_bundle(
        &self,
        entry: &NodeEntry,
        client: &NodeClient,
        mut chain: Chain,
        held: Option<&NodeData>,
    ) -> Result<NodeData, Refused> {
        let now = Utc::now();
        let bundle = match client.bundle().await {
            Ok(bundle) => bundle,
            // More listings than one response may hold: the snapshot, then each listing.
            Err(FetchError::TooLarge(_)) => {
                return self.crawl_piecewise(entry, client, chain, held).await
            }
            Err(e) => return Err(Refusal::from(e).into()),
        };
        let head_digest = chain.last().map(|d| d.digest());
        if bundle.node.digest().ok() != head_digest {
            chain = client
                .advance(&entry.id, &chain, bundle.node, DEFAULT_MAX_CHAIN, now)
                .await
                .map_err(Refusal::from)?;
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
                .ok_or_else(|| Refusal::new(RefusalCode::Rollback, "no newer snapshot").into()),
        }
    }

    /// A cold crawl of a node whose bundle is over the size cap: the snapshot, then every
    /// listing it names that is not held, one request each. Attestations travel only in
    /// bundles, so those already held are kept (none on a first crawl).
    async fn crawl_piecewise(
        &self,
        entry: &NodeEntry,
        client: &NodeClient,
        chain: Chain,
        held: Option<&NodeData>,
    ) -> Result<NodeData, Refused> {
        let now = Utc::now();
        tracing::info!(node = %entry.id, "bundle over the size cap: fetching listings one by one");
        let env = client
            .snapshot(None)
            .await
            .map_err(Refusal::from)?
            .ok_or_else(|| {
                Refusal::new(RefusalCode::HttpStatus, "304 for an unconditional request")
            })?;
        let keys = chain
            .last()
            .map(|d| d.signing_verifying_keys())
            .unwrap_or_default();
        let snapshot = match verify::verify_snapshot(
            env,
            &entry.id,
            &keys,
            held.map(|h| &h.snapshot),
            now,
            &self.limits,
        )? {
            SnapshotVerdict::Same => {
                return held
                    .cloned()
                    .ok_or_else(|| Refusal::new(RefusalCode::Rollback, "no newer snapshot").into())
            }
            SnapshotVerdict::Newer { snapshot, .. } => *snapshot,
        };
        let fetched = fetch_listings(client, not_held(&snapshot, held)).await?;
        let attestations = held.map(|h| h.attestations.clone()).unwrap_or_default();
        Ok(verify::assemble(
            &entry.id,
            verify::Parts {
                chain,
                snapshot,
                fetched,
                attestations,
            },
            held,
            now,
            &self.limits,
        )?)
    }

    /// Fetches the current node document and walks the chain forward from `held`.
    async fn refresh_chain(
        &self,
        entry: &NodeEntry,
        client: &NodeClient,
        held: &[Verified<NodeDocument>],
    ) -> Result<Chain, Refused> {
        let chain = client
            .walk_chain(&entry.id, held, DEFAULT_MAX_CHAIN, Utc::now())
            .await
            .map_err(Refusal::from)?;
        lock(&self.doc_checked).insert(entry.id, Instant::now());
        Ok(chain)
    }
}
