//! The aggregator's store: verified envelopes and each node's state, in sled (through
//! signpost-store). Only [`NodeData`] — verified — is ever written; a restart reloads it and
//! serves at once.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use signpost_protocol::{
    chain, DidKey, Envelope, EnvelopeRef, Listing, Snapshot, StoredEnvelope, Verified, VerifyError,
    VerifyingKey,
};
use signpost_store::{parse_large, LargeValue, Store, StoreError, WriteBatch};

use signpost_protocol::wire::Refusal;

use crate::verify::{Equivocation, NodeData};

/// A node's verified state as this version writes it, in the store's compact encoding (see
/// `Store::put_large_compact`): every envelope with its payload's bytes as they are, so
/// nothing is base64-encoded to write it nor decoded to read it back.
#[derive(Serialize, Deserialize)]
struct NodeState<'a> {
    #[serde(borrow)]
    chain: Vec<StoredEnvelope<'a>>,
    #[serde(borrow)]
    snapshot: StoredEnvelope<'a>,
    #[serde(borrow)]
    attestations: Vec<StoredEnvelope<'a>>,
    feed_seq: u64,
    verified_at: chrono::DateTime<chrono::Utc>,
    /// Every listing envelope the snapshot names (one value per node: sled's cost is per key).
    #[serde(borrow)]
    listings: Vec<StoredEnvelope<'a>>,
    /// The key each listing was verified under, in the same order.
    listing_signers: Vec<[u8; 32]>,
}

/// A node's state as earlier versions wrote it, in JSON (still read; rewritten in the
/// compact encoding when the node next changes).
#[derive(Deserialize)]
struct NodeMeta {
    chain: Vec<Envelope>,
    snapshot: Envelope,
    attestations: Vec<Envelope>,
    feed_seq: u64,
    verified_at: chrono::DateTime<chrono::Utc>,
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

/// A node's verified state as it is written: its held envelopes, borrowed.
fn state_of(data: &NodeData, feed_seq: u64) -> NodeState<'_> {
    NodeState {
        chain: data.chain.iter().map(|d| d.envelope().stored()).collect(),
        snapshot: data.snapshot.envelope().stored(),
        attestations: (data.attestations.iter())
            .map(|a| a.envelope().stored())
            .collect(),
        feed_seq,
        verified_at: data.verified_at,
        listings: (data.listings.values())
            .map(|l| l.envelope().stored())
            .collect(),
        listing_signers: (data.listings.values())
            .map(|l| l.signer().to_bytes())
            .collect(),
    }
}

/// Writes a node's new verified state, replacing the old one atomically.
pub fn save(store: &Store, data: &NodeData, feed_seq: u64) -> Result<(), StoreError> {
    let mut batch = WriteBatch::new();
    let state = state_of(data, feed_seq);
    store.put_large_compact(&mut batch, &k_meta(&data.id), &state)?;
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
    let key = k_meta(node);
    let Some(bytes) = store.get_large_raw(&key).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let parsed = parse_large::<NodeState, NodeMeta>(&key, &bytes).map_err(|e| e.to_string())?;
    let loaded = match parsed {
        LargeValue::Compact(state) => {
            let envelopes = Envelopes {
                chain: state
                    .chain
                    .iter()
                    .map(StoredEnvelope::to_envelope)
                    .collect(),
                snapshot: state.snapshot.to_envelope(),
                attestations: (state.attestations.iter())
                    .map(StoredEnvelope::to_envelope)
                    .collect(),
                verified_at: state.verified_at,
            };
            let signers = state.listing_signers;
            let listings = (state.listings.into_iter().enumerate())
                .map(|(n, stored)| (stored, signers.get(n).copied()));
            (rebuild(node, envelopes, listings)?, state.feed_seq)
        }
        LargeValue::Json(meta) => {
            let envelopes = Envelopes {
                chain: meta.chain,
                snapshot: meta.snapshot,
                attestations: meta.attestations,
                verified_at: meta.verified_at,
            };
            let signers = meta.listing_signers;
            let listings = (meta.listings.into_iter().enumerate())
                .map(|(n, env)| (env, signers.get(n).map(|d| d.key().to_bytes())));
            (rebuild(node, envelopes, listings)?, meta.feed_seq)
        }
    };
    Ok(Some(loaded))
}

/// The envelopes of a stored node state besides its listings.
struct Envelopes {
    chain: Vec<Envelope>,
    snapshot: Envelope,
    attestations: Vec<Envelope>,
    verified_at: chrono::DateTime<chrono::Utc>,
}

/// A listing as a store kept it: the compact form, or an earlier version's JSON envelope.
trait StoredListing {
    /// Read back as verified under `signer` when it was stored (its signature is not
    /// checked again: the store is trusted as local disk is).
    fn trusted(self, signer: VerifyingKey) -> Result<Verified<Listing>, VerifyError>;
    /// The envelope as it was received, to verify again.
    fn into_envelope(self) -> Envelope;
}

impl StoredListing for StoredEnvelope<'_> {
    fn trusted(self, signer: VerifyingKey) -> Result<Verified<Listing>, VerifyError> {
        Verified::from_stored(self, signer)
    }
    fn into_envelope(self) -> Envelope {
        self.to_envelope()
    }
}

impl StoredListing for Envelope {
    fn trusted(self, signer: VerifyingKey) -> Result<Verified<Listing>, VerifyError> {
        Verified::from_own_store(self, signer)
    }
    fn into_envelope(self) -> Envelope {
        self
    }
}

/// A node's state from what its store kept. The chain is re-verified from the pinned id and
/// the snapshot under its current keys. Each listing comes with the key it was verified
/// under when stored, if the store kept it: it is attributed to that key when that is still
/// a current one (found by its bytes: a key made from them would decompress its point, a
/// tenth of a restart), and verified again otherwise (older stores, rotated keys).
fn rebuild(
    node: &DidKey,
    envelopes: Envelopes,
    listings: impl ExactSizeIterator<Item = (impl StoredListing, Option<[u8; 32]>)>,
) -> Result<NodeData, String> {
    let chain = chain::verify_chain(node, envelopes.chain).map_err(|e| e.to_string())?;
    let keys = chain
        .last()
        .map(|d| d.signing_verifying_keys())
        .ok_or("no node document")?;
    // The snapshot was verified under the current keys; which one is not needed later.
    let snapshot =
        Verified::<Snapshot>::verify(envelopes.snapshot, &keys).map_err(|e| e.to_string())?;
    let named: HashSet<_> = snapshot.listings.iter().map(|e| e.id).collect();
    let mut held = Vec::with_capacity(listings.len());
    for (stored, signer) in listings {
        let listing = match keys.iter().find(|k| Some(k.as_bytes()) == signer.as_ref()) {
            Some(signer) => stored.trusted(*signer),
            None => Verified::verify(stored.into_envelope(), &keys),
        };
        let listing = listing.map_err(|e| e.to_string())?;
        if named.contains(&listing.id) {
            held.push((listing.id, listing));
        }
    }
    // Built in bulk (full nodes; see `verify::assemble`).
    let listings = BTreeMap::from_iter(held);
    let attestations = envelopes
        .attestations
        .into_iter()
        .filter_map(|env| Verified::verify_self_issued(env).ok())
        .collect();
    Ok(NodeData {
        id: *node,
        chain,
        snapshot,
        listings,
        attestations,
        verified_at: envelopes.verified_at,
    })
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
pub(crate) mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use signpost_protocol::model::NodeDocument;
    use signpost_protocol::{sample, SigningKey};

    /// A node's verified state with what a store must keep exactly: a listing whose payload
    /// text is URL-safe base64 without padding, one whose signature has no key hint, and an
    /// attestation.
    pub(crate) fn node_state() -> NodeData {
        let now = Utc::now();
        let root = SigningKey::from_bytes(&[3; 32]);
        let signing = SigningKey::from_bytes(&[4; 32]);
        let issuer = SigningKey::from_bytes(&[5; 32]);
        let id = DidKey::new(root.verifying_key());
        let doc = NodeDocument::first(
            id,
            DidKey::new(signing.verifying_key()),
            "Harehills Welcome Project",
            "https://signpost.example.org",
            now,
            now + Duration::days(365),
        );
        let chain = vec![Verified::sign(doc, &root).expect("signs")];
        let keys = [signing.verifying_key()];
        let listings: Vec<Verified<Listing>> = (0..3u64)
            .map(|n| {
                let listing = sample::listing(
                    id,
                    uuid::Uuid::from_u128(u128::from(n) + 1),
                    sample::group(n, 0, now),
                    now,
                );
                let mut envelope = Verified::sign(listing, &signing)
                    .expect("signs")
                    .envelope()
                    .to_envelope();
                match n {
                    1 => {
                        use base64::Engine as _;
                        let bytes = envelope.payload_bytes().expect("base64");
                        envelope.payload =
                            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
                    }
                    2 => envelope.signatures[0].keyid.clear(),
                    _ => {}
                }
                Verified::verify(envelope, &keys).expect("verifies")
            })
            .collect();
        let attestation =
            sample::training_attestation(DidKey::new(issuer.verifying_key()), id, "persist-1", now);
        let attestation = Verified::sign(attestation, &issuer).expect("signs");
        let snapshot = sample::first_snapshot(id, &listings, vec![attestation.digest()], now);
        let snapshot = Verified::sign(snapshot, &signing).expect("signs");
        NodeData {
            id,
            chain,
            snapshot,
            listings: listings.into_iter().map(|l| (l.id, l)).collect(),
            attestations: vec![attestation],
            verified_at: now,
        }
    }

    /// Every envelope of a state, as it would be served.
    fn served(data: &NodeData) -> Vec<Envelope> {
        let mut all: Vec<Envelope> = data
            .chain
            .iter()
            .map(|d| d.envelope().to_envelope())
            .collect();
        all.push(data.snapshot.envelope().to_envelope());
        all.extend(data.listings.values().map(|l| l.envelope().to_envelope()));
        all.extend(data.attestations.iter().map(|a| a.envelope().to_envelope()));
        all
    }

    fn assert_same_state(back: &NodeData, data: &NodeData) {
        assert_eq!(
            served(back),
            served(data),
            "every envelope served byte for byte"
        );
        assert_eq!(back.verified_at, data.verified_at);
        for (id, listing) in &data.listings {
            let kept = &back.listings[id];
            assert_eq!(kept.signer(), listing.signer());
            assert_eq!(kept.digest(), listing.digest());
            assert_eq!(kept.payload_bytes(), listing.payload_bytes());
            assert_eq!(kept.group.name, listing.group.name);
        }
    }

    /// Writes with `write` in one batch and commits it.
    fn commit(store: &Store, write: impl FnOnce(&mut WriteBatch) -> Result<(), StoreError>) {
        let mut batch = WriteBatch::new();
        write(&mut batch).expect("written");
        store.commit(batch).expect("committed");
    }

    #[test]
    fn a_node_state_comes_back_exactly_as_it_was_stored() {
        let store = Store::temporary().expect("store");
        let data = node_state();
        let url_safe = &served(&data)[3];
        assert_ne!(
            url_safe.payload,
            Envelope::sign(
                "x",
                &url_safe.payload_bytes().expect("base64"),
                &SigningKey::from_bytes(&[1; 32])
            )
            .payload,
            "the second listing's text is not the standard encoding of its payload"
        );
        save(&store, &data, 7).expect("saved");
        store.flush().expect("flushed");
        let raw = store
            .get_large_raw(&k_meta(&data.id))
            .expect("read")
            .expect("kept");
        assert_eq!(
            raw.first(),
            Some(&0),
            "written in the compact encoding, not JSON"
        );
        let (back, feed_seq) = load_node(&store, &data.id).expect("loads").expect("found");
        assert_eq!(feed_seq, 7);
        assert_same_state(&back, &data);
    }

    #[test]
    fn a_node_state_written_in_json_by_an_earlier_version_still_loads() {
        let data = node_state();
        let envelopes = |all: Vec<EnvelopeRef<'_>>| serde_json::to_value(all).expect("json");
        let listings: Vec<_> = data.listings.values().map(|l| l.envelope()).collect();
        let signers: Vec<String> = data
            .listings
            .values()
            .map(|l| DidKey::new(l.signer()).to_string())
            .collect();
        let mut written = serde_json::json!({
            "chain": envelopes(data.chain.iter().map(|d| d.envelope()).collect()),
            "snapshot": data.snapshot.envelope(),
            "attestations": envelopes(data.attestations.iter().map(|a| a.envelope()).collect()),
            "feed_seq": 5,
            "verified_at": data.verified_at,
            "listings": envelopes(listings),
            "listing_signers": signers,
        });
        for with_signers in [true, false] {
            if !with_signers {
                // Stores older still did not name the signers: verified again.
                written
                    .as_object_mut()
                    .expect("object")
                    .remove("listing_signers");
            }
            let store = Store::temporary().expect("store");
            commit(&store, |batch| {
                store.put_large(batch, &k_meta(&data.id), &written)
            });
            let (back, feed_seq) = load_node(&store, &data.id).expect("loads").expect("found");
            assert_eq!(feed_seq, 5);
            assert_same_state(&back, &data);
            // The next save writes it compact.
            save(&store, &back, 6).expect("saved");
            let (again, _) = load_node(&store, &data.id).expect("loads").expect("found");
            assert_same_state(&again, &data);
        }
    }

    #[test]
    fn a_listing_stored_under_a_key_no_longer_current_is_verified_again() {
        let store = Store::temporary().expect("store");
        let data = node_state();
        let state = NodeState {
            listing_signers: vec![[7; 32]; data.listings.len()],
            ..state_of(&data, 2)
        };
        commit(&store, |batch| {
            store.put_large_compact(batch, &k_meta(&data.id), &state)
        });
        let (back, _) = load_node(&store, &data.id).expect("loads").expect("found");
        // Attributed to the key whose signature verified now, not to the one written down.
        assert_same_state(&back, &data);
    }

    #[test]
    fn a_damaged_compact_state_is_an_error_never_a_panic() {
        let store = Store::temporary().expect("store");
        let data = node_state();
        save(&store, &data, 1).expect("saved");
        let key = k_meta(&data.id);
        let whole = store.get_large_raw(&key).expect("read").expect("kept");
        for cut in (1..whole.len()).step_by(97) {
            commit(&store, |batch| {
                store.put_large_raw(batch, &key, &whole[..cut])
            });
            assert!(load_node(&store, &data.id).is_err(), "cut at {cut}");
        }
        let mut longer = whole.clone();
        longer.push(0);
        commit(&store, |batch| store.put_large_raw(batch, &key, &longer));
        let err = load_node(&store, &data.id).expect_err("trailing bytes");
        assert!(err.contains("corrupt"), "{err}");
    }

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
