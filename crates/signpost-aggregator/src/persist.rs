//! The aggregator's store: verified envelopes and each node's state, in sled (through
//! signpost-store). Only [`NodeData`] — verified — is ever written; a restart reloads it and
//! serves at once.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use signpost_protocol::{chain, DidKey, Envelope, EnvelopeRef, Listing, Snapshot, Verified};
use signpost_store::{Store, StoreError, WriteBatch};

use signpost_protocol::wire::Refusal;

use crate::verify::{Equivocation, NodeData};

#[derive(Deserialize)]
struct NodeMeta {
    chain: Vec<Envelope>,
    snapshot: Envelope,
    attestations: Vec<Envelope>,
    feed_seq: u64,
    verified_at: chrono::DateTime<chrono::Utc>,
    /// Every listing envelope the snapshot names (one value per node: sled's cost is per key).
    listings: Vec<Envelope>,
    /// The key each listing was verified under, in the same order (stores written before
    /// this field existed lack it: their listings are verified again on loading).
    #[serde(default)]
    listing_signers: Vec<DidKey>,
}

fn k_meta(node: &DidKey) -> String {
    format!("node/{node}/meta")
}
/// Set once the keys below are gone (so no install has to look for them again).
const K_LISTING_KEYS_GONE: &str = "meta/listing_keys_gone";
fn k_health(node: &DidKey) -> String {
    format!("health/{node}")
}
const K_FEED_SEQ: &str = "meta/feed_seq";

/// [`NodeMeta`] as written: the held envelopes as they are (no owned copies), and each
/// listing's signer written once per distinct key (a did:key costs a base58 encoding).
#[derive(Serialize)]
struct NodeMetaOut<'a> {
    chain: Vec<EnvelopeRef<'a>>,
    snapshot: EnvelopeRef<'a>,
    attestations: Vec<EnvelopeRef<'a>>,
    feed_seq: u64,
    verified_at: chrono::DateTime<chrono::Utc>,
    listings: Vec<EnvelopeRef<'a>>,
    listing_signers: Vec<std::sync::Arc<str>>,
}

/// Writes a node's new verified state, replacing the old one atomically.
pub fn save(store: &Store, data: &NodeData, feed_seq: u64) -> Result<(), StoreError> {
    let mut batch = WriteBatch::new();
    let mut signer: Option<(signpost_protocol::VerifyingKey, std::sync::Arc<str>)> = None;
    let meta = NodeMetaOut {
        chain: data.chain.iter().map(|d| d.envelope()).collect(),
        snapshot: data.snapshot.envelope(),
        attestations: data.attestations.iter().map(|a| a.envelope()).collect(),
        feed_seq,
        verified_at: data.verified_at,
        listings: data.listings.values().map(|l| l.envelope()).collect(),
        listing_signers: data
            .listings
            .values()
            .map(|l| match &signer {
                Some((key, text)) if *key == l.signer() => std::sync::Arc::clone(text),
                _ => {
                    let text: std::sync::Arc<str> = DidKey::new(l.signer()).to_string().into();
                    signer = Some((l.signer(), std::sync::Arc::clone(&text)));
                    text
                }
            })
            .collect(),
    };
    store.put_large(&mut batch, &k_meta(&data.id), &meta)?;
    batch.put(K_FEED_SEQ, &feed_seq)?;
    // Atomic here; the caller flushes (once for all concurrent installs) before serving it:
    // nothing served, nor the rollback protection it sets up, may be lost in a crash.
    store.commit_unsynced(batch)
}

/// Stores written by earlier versions kept one key per listing (`node/{id}/l/{listing}`)
/// beside the node's value. They are removed once, when the store is opened; looking for
/// them at every node's first install was 3% of a cold crawl's samples in perf.
pub fn drop_listing_keys(store: &Store) -> Result<usize, StoreError> {
    if store.get::<bool>(K_LISTING_KEYS_GONE)?.is_some() {
        return Ok(0);
    }
    let mut batch = WriteBatch::new();
    let mut removed = 0;
    for key in store.keys("node/") {
        let key = key?;
        if key.split('/').nth(2) == Some("l") {
            batch.remove(&key);
            removed += 1;
        }
    }
    batch.put(K_LISTING_KEYS_GONE, &true)?;
    store.commit(batch)?;
    Ok(removed)
}

/// Set once every node's value is kept in a file.
const K_NODE_VALUES_IN_FILES: &str = "meta/node_values_in_files";

/// Stores written by earlier versions kept each node's value whole in sled, which then held
/// it in memory for as long as the process ran (see `Store::put_large`). They are moved to
/// files once, when the store is opened, one node per batch.
pub fn move_whole_values(store: &Store, nodes: &[DidKey]) -> Result<usize, StoreError> {
    if store.get::<bool>(K_NODE_VALUES_IN_FILES)?.is_some() {
        return Ok(0);
    }
    let mut rewritten = 0;
    for node in nodes {
        let key = k_meta(node);
        if let Some(whole) = store.get_raw(&key)? {
            let mut batch = WriteBatch::new();
            store.put_large_raw(&mut batch, &key, &whole)?;
            store.commit_unsynced(batch)?;
            rewritten += 1;
        }
    }
    let mut batch = WriteBatch::new();
    batch.put(K_NODE_VALUES_IN_FILES, &true)?;
    store.commit(batch)?;
    Ok(rewritten)
}

/// Keeps evidence of equivocation (two snapshots with one seq).
pub fn save_evidence(
    store: &Store,
    node: &DidKey,
    evidence: &Equivocation,
) -> Result<(), StoreError> {
    let mut batch = WriteBatch::new();
    batch.put(&format!("evidence/{node}/{:020}", evidence.seq), evidence)?;
    store.commit(batch)
}

pub fn evidence_count(store: &Store, node: &DidKey) -> usize {
    store.keys(&format!("evidence/{node}/")).count()
}

/// Records the last refusal for a node (shown in `/v1/nodes` after a restart too).
pub fn save_refusal(
    store: &Store,
    node: &DidKey,
    refusal: Option<&(Refusal, chrono::DateTime<chrono::Utc>)>,
) -> Result<(), StoreError> {
    let mut batch = WriteBatch::new();
    match refusal {
        Some(r) => batch.put(&k_health(node), r)?,
        None => batch.remove(&k_health(node)),
    }
    store.commit_unsynced(batch)
}

pub fn load_refusal(
    store: &Store,
    node: &DidKey,
) -> Option<(Refusal, chrono::DateTime<chrono::Utc>)> {
    store.get(&k_health(node)).ok().flatten()
}

pub fn feed_seq(store: &Store) -> u64 {
    store.get::<u64>(K_FEED_SEQ).ok().flatten().unwrap_or(0)
}

/// Loads every configured node's verified state, handing each node with its feed position to
/// `each` as soon as it is read. The chain is re-verified from the pinned id; envelopes this
/// store wrote after verifying them are re-parsed, not re-verified. Nodes are independent:
/// they are read and parsed on every core, so `each` is called from several threads.
pub fn load(store: &Store, pinned: &[DidKey], each: impl Fn(NodeData, u64) + Sync) {
    use rayon::prelude::*;
    pinned
        .par_iter()
        .for_each(|node| match load_node(store, node) {
            Ok(Some((data, feed_seq))) => each(data, feed_seq),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(%node, error = %e, "stored state not loaded; it will be crawled again");
            }
        });
}

fn load_node(store: &Store, node: &DidKey) -> Result<Option<(NodeData, u64)>, String> {
    let Some(meta) = store
        .get_large::<NodeMeta>(&k_meta(node))
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let chain = chain::verify_chain(node, meta.chain).map_err(|e| e.to_string())?;
    let keys = chain
        .last()
        .map(|d| d.signing_verifying_keys())
        .ok_or("no node document")?;
    // The snapshot was verified under the current keys; which one is not needed later.
    let snapshot = Verified::<Snapshot>::verify(meta.snapshot, &keys).map_err(|e| e.to_string())?;
    let named: HashSet<_> = snapshot.listings.iter().map(|e| e.id).collect();
    let mut listings = Vec::with_capacity(meta.listings.len());
    let signers = meta.listing_signers;
    for (n, env) in meta.listings.into_iter().enumerate() {
        // Attributed to the key it was verified under when stored; verified again when that
        // is not known (older stores) or no longer a current key.
        let listing = match signers.get(n).map(|d| *d.key()) {
            Some(signer) if keys.contains(&signer) => {
                Verified::<Listing>::from_own_store(env, signer).map_err(|e| e.to_string())?
            }
            _ => Verified::<Listing>::verify(env, &keys).map_err(|e| e.to_string())?,
        };
        if named.contains(&listing.id) {
            listings.push((listing.id, listing));
        }
    }
    // Built in bulk (full nodes; see `verify::assemble`).
    let listings = BTreeMap::from_iter(listings);
    let attestations = meta
        .attestations
        .into_iter()
        .filter_map(|env| Verified::verify_self_issued(env).ok())
        .collect();
    let data = NodeData {
        id: *node,
        chain,
        snapshot,
        listings,
        attestations,
        verified_at: meta.verified_at,
    };
    Ok(Some((data, meta.feed_seq)))
}

/// The highest revocation list seen from an issuer, and when it was fetched.
#[derive(Serialize, Deserialize)]
pub struct HeldRevocations {
    pub envelope: Envelope,
    pub fetched_at: chrono::DateTime<chrono::Utc>,
    /// When each revoked serial was first seen revoked here (the audit's "since").
    #[serde(default)]
    pub revoked_since: std::collections::BTreeMap<String, chrono::DateTime<chrono::Utc>>,
}

fn k_revocations(issuer: &DidKey) -> String {
    format!("revocations/{issuer}")
}

/// Keeps the revocation list now in use, durably: after a restart (and on a mirror that
/// restarts) an older list, such as a cached copy, can never un-revoke.
pub fn save_revocations(
    store: &Store,
    issuer: &DidKey,
    held: &HeldRevocations,
) -> Result<(), StoreError> {
    let mut batch = WriteBatch::new();
    batch.put(&k_revocations(issuer), held)?;
    store.commit(batch)
}

pub fn load_revocations(store: &Store, issuer: &DidKey) -> Option<HeldRevocations> {
    store.get(&k_revocations(issuer)).ok().flatten()
}

/// Keeps two different revocation lists signed with the same version as evidence.
pub fn save_revocation_evidence(
    store: &Store,
    issuer: &DidKey,
    version: u64,
    first: EnvelopeRef<'_>,
    second: EnvelopeRef<'_>,
) -> Result<(), StoreError> {
    let mut batch = WriteBatch::new();
    batch.put(
        &format!("evidence/revocations/{issuer}/{version:020}"),
        &(first, second),
    )?;
    store.commit(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_keys_of_an_earlier_version_go_once_and_the_rest_stays() {
        let store = Store::temporary().expect("store");
        let mut batch = WriteBatch::new();
        batch.put_raw("node/did:key:z6Mkone/l/0001", b"{}");
        batch.put_raw("node/did:key:z6Mkone/l/0002", b"{}");
        batch.put_raw("node/did:key:z6Mkone/meta", b"{}");
        batch.put_raw("node/did:key:z6Mktwo/meta", b"{}");
        store.commit(batch).expect("commit");
        assert_eq!(drop_listing_keys(&store).expect("tidy"), 2);
        let left: Vec<String> = store.keys("node/").map(|k| k.expect("key")).collect();
        assert_eq!(
            left,
            ["node/did:key:z6Mkone/meta", "node/did:key:z6Mktwo/meta"]
        );
        // Done once: a key written later under that prefix is not looked for again.
        let mut batch = WriteBatch::new();
        batch.put_raw("node/did:key:z6Mkone/l/0003", b"{}");
        store.commit(batch).expect("commit");
        assert_eq!(drop_listing_keys(&store).expect("tidy"), 0);
    }

    #[test]
    fn node_values_kept_whole_are_moved_to_files_once() {
        let store = Store::temporary().expect("store");
        let one = DidKey::new(ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key());
        let two = DidKey::new(ed25519_dalek::SigningKey::from_bytes(&[2; 32]).verifying_key());
        let whole = vec![b'7'; 300_000];
        let mut batch = WriteBatch::new();
        batch.put_raw(&k_meta(&one), &whole);
        store.commit(batch).expect("commit");
        assert_eq!(move_whole_values(&store, &[one, two]).expect("tidy"), 1);
        assert_eq!(store.get_raw(&k_meta(&one)).expect("get"), None);
        assert_eq!(
            store.get_large_raw(&k_meta(&one)).expect("get"),
            Some(whole)
        );
        assert_eq!(
            store.keys(&k_meta(&one)).count(),
            1,
            "one small key: the file's id"
        );
        // Done once: not looked for again.
        let mut batch = WriteBatch::new();
        batch.put_raw(&k_meta(&two), b"{}");
        store.commit(batch).expect("commit");
        assert_eq!(move_whole_values(&store, &[one, two]).expect("tidy"), 0);
    }
}
