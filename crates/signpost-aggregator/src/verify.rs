//! The verification pipeline: what the aggregator accepts from a node, and every reason it
//! refuses. Pure functions over envelopes, the node's last verified state and `now`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use signpost_protocol::model::ManifestEntry;
use signpost_protocol::wire::{Refusal, RefusalCode};
use signpost_protocol::{
    Attestation, Decoded, DidKey, Envelope, Listing, NodeDocument, SignatureError, Snapshot,
    Verified, VerifyError,
};
use uuid::Uuid;

/// Maps a verification failure to its refusal, telling a signature by a key the node document
/// does not name apart from a bad signature.
pub fn refusal(what: &str, env: &Envelope, err: VerifyError) -> Refusal {
    match err {
        VerifyError::Signature(SignatureError::PayloadTypeMismatch { expected, found }) => {
            Refusal::new(
                RefusalCode::PayloadTypeMismatch,
                format!("{what}: payload type {found:?}, expected {expected:?}"),
            )
        }
        VerifyError::Signature(SignatureError::BadSignature) => {
            let by_other_key = env.signatures.iter().any(|s| {
                s.keyid
                    .parse::<DidKey>()
                    .is_ok_and(|k| env.verify(&env.payload_type, &[*k.key()]).is_ok())
            });
            if by_other_key {
                Refusal::new(
                    RefusalCode::UnknownSigningKey,
                    format!("{what}: signed by a key the node document does not name"),
                )
            } else {
                Refusal::new(
                    RefusalCode::BadSignature,
                    format!("{what}: no valid signature by the node's keys"),
                )
            }
        }
        VerifyError::Signature(e) => {
            Refusal::new(RefusalCode::BadSignature, format!("{what}: {e}"))
        }
        VerifyError::Malformed { message, .. } => {
            Refusal::new(RefusalCode::MalformedPayload, format!("{what}: {message}"))
        }
        VerifyError::Invalid(e) => {
            Refusal::new(RefusalCode::InvalidPayload, format!("{what}: {e}"))
        }
        other => Refusal::new(RefusalCode::BadSignature, format!("{what}: {other}")),
    }
}

/// Limits and clock policy for verification.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_listings: usize,
    pub max_skew: Duration,
}

/// Everything verified about one node; only this reaches the store and the index.
#[derive(Debug, Clone)]
pub struct NodeData {
    pub id: DidKey,
    pub chain: Vec<Verified<NodeDocument>>,
    pub snapshot: Verified<Snapshot>,
    pub listings: BTreeMap<Uuid, Verified<Listing>>,
    /// Attestations whose signatures verify under their issuer; whether they count is policy.
    pub attestations: Vec<Verified<Attestation>>,
    /// When this aggregator verified the snapshot (listings held unchanged were verified
    /// when first received).
    pub verified_at: DateTime<Utc>,
}

impl NodeData {
    /// The node's `ETag` for this snapshot: its quoted digest (the protocol defines it so).
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.snapshot.digest())
    }

    pub fn document(&self) -> Option<&Verified<NodeDocument>> {
        self.chain.last()
    }
    pub fn signing_keys(&self) -> Vec<VerifyingKey> {
        self.document()
            .map(|d| d.signing_verifying_keys())
            .unwrap_or_default()
    }
}

/// Evidence that a node signed two different snapshots with the same `seq`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Equivocation {
    pub seq: u64,
    pub first: Envelope,
    pub second: Envelope,
}

/// A refusal, with evidence when the node equivocated.
#[derive(Debug, Clone)]
pub struct Refused {
    pub refusal: Refusal,
    pub evidence: Option<Box<Equivocation>>,
}

impl From<Refusal> for Refused {
    fn from(refusal: Refusal) -> Self {
        Self {
            refusal,
            evidence: None,
        }
    }
}

/// Checks timestamps: nothing from the future, nothing expired.
fn times(
    what: &str,
    issued: DateTime<Utc>,
    expires: DateTime<Utc>,
    now: DateTime<Utc>,
    limits: &Limits,
) -> Result<(), Refusal> {
    if issued > now + limits.max_skew {
        return Err(Refusal::new(
            RefusalCode::FutureTimestamp,
            format!("{what} issued at {issued}, in the future"),
        ));
    }
    if expires <= now {
        return Err(Refusal::new(
            RefusalCode::Expired,
            format!("{what} expired at {expires}"),
        ));
    }
    Ok(())
}

/// What the aggregator does with a new snapshot.
pub enum SnapshotVerdict {
    /// The same snapshot it holds.
    Same,
    /// A newer snapshot. `chained` is false when its `prev` does not name the snapshot held
    /// although it directly follows it (a full resync is then done).
    Newer {
        snapshot: Box<Verified<Snapshot>>,
        chained: bool,
    },
}

/// Verifies a snapshot envelope against the node's keys and its last verified snapshot.
pub fn verify_snapshot(
    env: Envelope,
    node: &DidKey,
    keys: &[VerifyingKey],
    held: Option<&Verified<Snapshot>>,
    now: DateTime<Utc>,
    limits: &Limits,
) -> Result<SnapshotVerdict, Refused> {
    let snap = Verified::<Snapshot>::verify(env.clone(), keys)
        .map_err(|e| refusal("snapshot", &env, e))?;
    if snap.node != *node {
        return Err(Refusal::new(
            RefusalCode::WrongNode,
            format!("snapshot is for {}", snap.node),
        )
        .into());
    }
    if snap.listings.len() > limits.max_listings {
        return Err(Refusal::new(
            RefusalCode::TooManyListings,
            format!(
                "{} listings; at most {} accepted",
                snap.listings.len(),
                limits.max_listings
            ),
        )
        .into());
    }
    if let Some(held) = held {
        if snap.seq < held.seq {
            return Err(Refusal::new(
                RefusalCode::Rollback,
                format!(
                    "snapshot seq {} is lower than seq {} already seen",
                    snap.seq, held.seq
                ),
            )
            .into());
        }
        if snap.seq == held.seq {
            if snap.digest() == held.digest() {
                times("snapshot", snap.issued_at, snap.expires_at, now, limits)?;
                return Ok(SnapshotVerdict::Same);
            }
            return Err(Refused {
                refusal: Refusal::new(
                    RefusalCode::Equivocation,
                    format!("two different snapshots signed with seq {}", snap.seq),
                ),
                evidence: Some(Box::new(Equivocation {
                    seq: snap.seq,
                    first: held.envelope().to_envelope(),
                    second: env,
                })),
            });
        }
    }
    times("snapshot", snap.issued_at, snap.expires_at, now, limits)?;
    let chained = match held {
        Some(h) if snap.seq == h.seq + 1 => snap.prev == Some(h.digest()),
        _ => true,
    };
    Ok(SnapshotVerdict::Newer {
        snapshot: Box::new(snap),
        chained,
    })
}

/// Verifies one listing envelope against the manifest entry that names it.
pub fn verify_listing(
    decoded: &Decoded,
    node: &DidKey,
    keys: &[VerifyingKey],
    entry: &ManifestEntry,
    held: Option<&Verified<Listing>>,
    now: DateTime<Utc>,
    limits: &Limits,
) -> Result<Verified<Listing>, Refusal> {
    let what = format!("listing {}", entry.id);
    let listing = Verified::<Listing>::verify_decoded(decoded, keys)
        .map_err(|e| refusal(&what, decoded.envelope(), e))?;
    if listing.digest() != entry.sha256
        || listing.id != entry.id
        || listing.version != entry.version
    {
        return Err(Refusal::new(
            RefusalCode::ManifestMismatch,
            format!("{what} does not match the snapshot's manifest"),
        ));
    }
    if listing.node != *node {
        return Err(Refusal::new(
            RefusalCode::WrongNode,
            format!("{what} claims node {}", listing.node),
        ));
    }
    if let Some(h) = held {
        if listing.version < h.version {
            return Err(Refusal::new(
                RefusalCode::ListingRollback,
                format!(
                    "{what} version {} is lower than version {} already seen",
                    listing.version, h.version
                ),
            ));
        }
    }
    times(&what, listing.issued_at, listing.expires_at, now, limits)?;
    Ok(listing)
}

/// Verifies the attestation envelopes a snapshot names (signature under their issuer).
/// Attestations that do not verify are dropped (they never count), not a refusal of the node.
pub fn verify_attestations(
    snapshot: &Snapshot,
    envelopes: Vec<Envelope>,
) -> Result<Vec<Verified<Attestation>>, Refusal> {
    // The snapshot names at most 100 (its validation); a bundle may repeat them.
    let named: std::collections::HashSet<_> = snapshot.attestations.iter().collect();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for env in envelopes {
        let digest = env
            .digest()
            .map_err(|e| Refusal::new(RefusalCode::BadSignature, format!("attestation: {e}")))?;
        // The same attestation repeated is verified, kept and checked once.
        if !seen.insert(digest) {
            continue;
        }
        if !named.contains(&digest) {
            return Err(Refusal::new(
                RefusalCode::ManifestMismatch,
                "an attestation the snapshot does not name",
            ));
        }
        if let Ok(att) = Verified::<Attestation>::verify_self_issued(env) {
            out.push(att);
        }
    }
    Ok(out)
}

/// The verified parts of a node's new publication, and the listing envelopes fetched for it.
pub struct Parts {
    pub chain: Vec<Verified<NodeDocument>>,
    pub snapshot: Verified<Snapshot>,
    pub fetched: HashMap<Uuid, Decoded>,
    pub attestations: Vec<Verified<Attestation>>,
}

/// A listing the manifest names, with what is held of it and what was fetched for it.
type ListingWork<'a> = (
    &'a ManifestEntry,
    Option<&'a Verified<Listing>>,
    Option<Decoded>,
);

/// Assembles a node's new state from a verified snapshot and the listings it names: those
/// held unchanged are kept, the rest must be in `fetched`.
pub fn assemble(
    node: &DidKey,
    parts: Parts,
    held: Option<&NodeData>,
    now: DateTime<Utc>,
    limits: &Limits,
) -> Result<NodeData, Refusal> {
    let Parts {
        chain,
        snapshot,
        mut fetched,
        attestations,
    } = parts;
    let keys = chain
        .last()
        .map(|d| d.signing_verifying_keys())
        .unwrap_or_default();
    let work: Vec<ListingWork<'_>> = snapshot
        .listings
        .iter()
        .map(|entry| {
            let held_listing = held.and_then(|h| h.listings.get(&entry.id));
            (entry, held_listing, fetched.remove(&entry.id))
        })
        .collect();
    if !fetched.is_empty() {
        return Err(Refusal::new(
            RefusalCode::ManifestMismatch,
            "listings the snapshot does not name",
        ));
    }
    let check = |(entry, held_listing, decoded): ListingWork<'_>| {
        let listing = match (held_listing, decoded) {
            (Some(h), _) if h.digest() == entry.sha256 => keep_held(h, entry, &keys, now, limits)?,
            (h, Some(decoded)) => verify_listing(&decoded, node, &keys, entry, h, now, limits)?,
            (_, None) => {
                return Err(Refusal::new(
                    RefusalCode::ManifestMismatch,
                    format!("listing {} named by the snapshot is missing", entry.id),
                ));
            }
        };
        Ok((entry.id, listing))
    };
    // On a thread of a rayon pool (a mirror's), a node's listings are verified on every
    // thread of it: a core that has run out of nodes at a page's end takes listings of the
    // node still being verified instead of waiting for it. Elsewhere (the crawl, whose
    // nodes are tasks of their own), one by one. Either way the refusal is the first the
    // manifest's order meets.
    // Collected, then built in bulk: a map filled by inserting in key order leaves its nodes
    // half empty, and each entry is a kilobyte inline (measured with heaptrack: 1.9 KB per
    // listing, against 1.1 KB built in bulk).
    let listings: Vec<(Uuid, Verified<Listing>)> = if rayon::current_thread_index().is_some() {
        use rayon::prelude::*;
        let checked: Vec<Result<_, Refusal>> = work.into_par_iter().map(check).collect();
        checked.into_iter().collect::<Result<_, _>>()?
    } else {
        work.into_iter().map(check).collect::<Result<_, _>>()?
    };
    let listings = BTreeMap::from_iter(listings);
    Ok(NodeData {
        id: *node,
        chain,
        snapshot,
        listings,
        attestations,
        verified_at: now,
    })
}

/// A listing held unchanged: still current, and kept as it is while the keys that signed it
/// are named; when they changed, it must verify under the keys the node document names now.
fn keep_held(
    h: &Verified<Listing>,
    entry: &ManifestEntry,
    keys: &[VerifyingKey],
    now: DateTime<Utc>,
    limits: &Limits,
) -> Result<Verified<Listing>, Refusal> {
    times(
        &format!("listing {}", entry.id),
        h.issued_at,
        h.expires_at,
        now,
        limits,
    )?;
    if keys.contains(&h.signer()) {
        return Ok(h.clone());
    }
    let what = format!("listing {}", entry.id);
    Verified::<Listing>::verify(h.envelope().to_envelope(), keys).map_err(|e| {
        match refusal(&what, &h.envelope().to_envelope(), e) {
            r if matches!(
                r.code,
                RefusalCode::BadSignature | RefusalCode::UnknownSigningKey
            ) =>
            {
                Refusal::new(
                    RefusalCode::UnknownSigningKey,
                    format!(
                        "{what} is signed by a key the node document no longer names; \
                         the node must re-sign it"
                    ),
                )
            }
            r => r,
        }
    })
}

/// The checks behind a held listing, computed from the verified state now (nothing is
/// written down as passed): the node-document chain runs from the pinned id version by
/// version and its current document has not expired; the snapshot and the listing were
/// verified under keys the current document names; the listing is the one the snapshot's
/// manifest names.
pub fn provenance_checks(
    data: &NodeData,
    listing: &Verified<Listing>,
    now: DateTime<Utc>,
) -> Vec<(&'static str, Result<(), String>)> {
    let keys = data.signing_keys();
    let chain = (|| {
        let first = data.chain.first().ok_or("no node document")?;
        if first.id != data.id {
            return Err(format!("version 1 names {}, not the pinned id", first.id));
        }
        for (n, doc) in data.chain.iter().enumerate() {
            if doc.version != n as u64 + 1 || doc.id != data.id {
                return Err(format!("version {} is out of place", doc.version));
            }
        }
        let current = data.chain.last().ok_or("no node document")?;
        if current.expires <= now {
            return Err(format!(
                "node document version {} expired at {}",
                current.version,
                current.expires.to_rfc3339()
            ));
        }
        Ok(())
    })();
    let signed = |what: &str, signer: VerifyingKey| {
        if keys.contains(&signer) {
            Ok(())
        } else {
            Err(format!(
                "{what} was verified under {}, which the current node document no longer names",
                DidKey::new(signer)
            ))
        }
    };
    let in_snapshot = match data.snapshot.listings.iter().find(|e| e.id == listing.id) {
        Some(e) if e.sha256 == listing.digest() && e.version == listing.version => Ok(()),
        Some(_) => Err("the snapshot names another version of this listing".to_owned()),
        None => Err("the snapshot does not name this listing".to_owned()),
    };
    vec![
        ("node_document_chain", chain),
        (
            "snapshot_signature",
            signed("the snapshot", data.snapshot.signer()),
        ),
        ("listing_signature", signed("the listing", listing.signer())),
        ("listing_in_snapshot", in_snapshot),
    ]
}
