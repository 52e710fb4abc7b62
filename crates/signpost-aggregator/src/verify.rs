//! The verification pipeline: what the aggregator accepts from a node, and every reason it
//! refuses. Pure functions over envelopes, the node's last verified state and `now`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use signpost_protocol::chain::{self, ChainError};
use signpost_protocol::model::ManifestEntry;
use signpost_protocol::{
    Attestation, DidKey, Envelope, Listing, NodeDocument, SignatureError, Snapshot, Verified,
    VerifyError,
};
use uuid::Uuid;

use crate::fetch::FetchError;

/// Why new data from a node was refused. The node's last verified data stays served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Refusal {
    /// Stable code: `bad_signature`, `payload_type_mismatch`, `unknown_signing_key`,
    /// `malformed_payload`, `invalid_payload`, `rollback`, `equivocation`,
    /// `listing_rollback`, `future_timestamp`, `expired`, `too_many_listings`,
    /// `manifest_mismatch`, `wrong_node`, `node_document`, `node_document_rollback`,
    /// `timeout`, `unreachable`, `redirect_refused`, `http_status`, `body_too_large`,
    /// `wrong_content_type`, `malformed_json`, `transfer_failed`.
    pub code: String,
    pub detail: String,
}

impl Refusal {
    pub fn new(code: &str, detail: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl From<FetchError> for Refusal {
    fn from(e: FetchError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

/// Maps a verification failure to its refusal, telling a signature by a key the node document
/// does not name apart from a bad signature.
pub fn refusal(what: &str, env: &Envelope, err: VerifyError) -> Refusal {
    match err {
        VerifyError::Signature(SignatureError::PayloadTypeMismatch { expected, found }) => {
            Refusal::new(
                "payload_type_mismatch",
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
                    "unknown_signing_key",
                    format!("{what}: signed by a key the node document does not name"),
                )
            } else {
                Refusal::new(
                    "bad_signature",
                    format!("{what}: no valid signature by the node's keys"),
                )
            }
        }
        VerifyError::Signature(e) => Refusal::new("bad_signature", format!("{what}: {e}")),
        VerifyError::Malformed { message, .. } => {
            Refusal::new("malformed_payload", format!("{what}: {message}"))
        }
        VerifyError::Invalid(e) => Refusal::new("invalid_payload", format!("{what}: {e}")),
        other => Refusal::new("bad_signature", format!("{what}: {other}")),
    }
}

fn chain_refusal(e: ChainError) -> Refusal {
    Refusal::new("node_document", e.to_string())
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
            "future_timestamp",
            format!("{what} issued at {issued}, in the future"),
        ));
    }
    if expires <= now {
        return Err(Refusal::new(
            "expired",
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
        return Err(Refusal::new("wrong_node", format!("snapshot is for {}", snap.node)).into());
    }
    if snap.listings.len() > limits.max_listings {
        return Err(Refusal::new(
            "too_many_listings",
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
                "rollback",
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
                    "equivocation",
                    format!("two different snapshots signed with seq {}", snap.seq),
                ),
                evidence: Some(Box::new(Equivocation {
                    seq: snap.seq,
                    first: held.envelope().clone(),
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
    env: Envelope,
    node: &DidKey,
    keys: &[VerifyingKey],
    entry: &ManifestEntry,
    held: Option<&Verified<Listing>>,
    now: DateTime<Utc>,
    limits: &Limits,
) -> Result<Verified<Listing>, Refusal> {
    let what = format!("listing {}", entry.id);
    let listing =
        Verified::<Listing>::verify(env.clone(), keys).map_err(|e| refusal(&what, &env, e))?;
    if listing.digest() != entry.sha256
        || listing.id != entry.id
        || listing.version != entry.version
    {
        return Err(Refusal::new(
            "manifest_mismatch",
            format!("{what} does not match the snapshot's manifest"),
        ));
    }
    if listing.node != *node {
        return Err(Refusal::new(
            "wrong_node",
            format!("{what} claims node {}", listing.node),
        ));
    }
    if let Some(h) = held {
        if listing.version < h.version {
            return Err(Refusal::new(
                "listing_rollback",
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
    let mut out = Vec::new();
    for env in envelopes {
        let digest = env
            .digest()
            .map_err(|e| Refusal::new("bad_signature", format!("attestation: {e}")))?;
        if !snapshot.attestations.contains(&digest) {
            return Err(Refusal::new(
                "manifest_mismatch",
                "an attestation the snapshot does not name",
            ));
        }
        if let Ok(att) = Verified::<Attestation>::verify_self_issued(env) {
            out.push(att);
        }
    }
    Ok(out)
}

/// Walks a node document chain forward from what is held (or from the pinned id) to
/// `envelopes` (the versions after the last held one, in order).
pub fn advance_chain(
    pinned: &DidKey,
    held: &[Verified<NodeDocument>],
    envelopes: Vec<Envelope>,
) -> Result<Vec<Verified<NodeDocument>>, Refusal> {
    let mut chain = held.to_vec();
    for env in envelopes {
        let next = match chain.last() {
            None => chain::verify_first(pinned, env).map_err(chain_refusal)?,
            Some(last) => chain::verify_next(last, env).map_err(chain_refusal)?,
        };
        chain.push(next);
    }
    if chain.is_empty() {
        return Err(Refusal::new("node_document", "no node document"));
    }
    Ok(chain)
}

/// The verified parts of a node's new publication, and the listing envelopes fetched for it.
pub struct Parts {
    pub chain: Vec<Verified<NodeDocument>>,
    pub snapshot: Verified<Snapshot>,
    pub fetched: HashMap<Uuid, Envelope>,
    pub attestations: Vec<Verified<Attestation>>,
}

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
    let mut listings = BTreeMap::new();
    for entry in &snapshot.listings {
        let held_listing = held.and_then(|h| h.listings.get(&entry.id));
        let listing = match (held_listing, fetched.remove(&entry.id)) {
            (Some(h), _) if h.digest() == entry.sha256 => {
                times(
                    &format!("listing {}", entry.id),
                    h.issued_at,
                    h.expires_at,
                    now,
                    limits,
                )?;
                h.clone()
            }
            (h, Some(env)) => verify_listing(env, node, &keys, entry, h, now, limits)?,
            (_, None) => {
                return Err(Refusal::new(
                    "manifest_mismatch",
                    format!("listing {} named by the snapshot is missing", entry.id),
                ));
            }
        };
        listings.insert(entry.id, listing);
    }
    if !fetched.is_empty() {
        return Err(Refusal::new(
            "manifest_mismatch",
            "listings the snapshot does not name",
        ));
    }
    Ok(NodeData {
        id: *node,
        chain,
        snapshot,
        listings,
        attestations,
        verified_at: now,
    })
}
