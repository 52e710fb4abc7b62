//! Verifying a node's whole publication, as a bundle or a mirror's feed item carries it:
//! the snapshot against the verified chain and what is held, every listing it names (those
//! held unchanged are not verified again), and the attestations.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use signpost_protocol::wire::{Refusal, RefusalCode};
use signpost_protocol::{Envelope, NodeDocument, Verified};
use uuid::Uuid;

use super::Aggregator;
use crate::config::NodeEntry;
use crate::verify::{self, NodeData, Refused, SnapshotVerdict};

/// A node's whole publication.
pub struct Publication {
    pub snapshot: Envelope,
    pub listings: Vec<Envelope>,
    pub attestations: Vec<Envelope>,
}

impl Aggregator {
    /// Verifies a whole publication; `None` when it is the snapshot already held.
    pub(crate) fn verify_publication(
        &self,
        entry: &NodeEntry,
        chain: Vec<Verified<NodeDocument>>,
        published: Publication,
        held: Option<&NodeData>,
        now: DateTime<Utc>,
    ) -> Result<Option<NodeData>, Refused> {
        let keys = chain
            .last()
            .map(|d| d.signing_verifying_keys())
            .unwrap_or_default();
        let snapshot = match verify::verify_snapshot(
            published.snapshot,
            &entry.id,
            &keys,
            held.map(|h| &h.snapshot),
            now,
            &self.limits,
        )? {
            SnapshotVerdict::Same => return Ok(None),
            SnapshotVerdict::Newer { snapshot, .. } => *snapshot,
        };
        if published.listings.len() > self.limits.max_listings {
            return Err(Refusal::new(
                RefusalCode::TooManyListings,
                format!("{} listings", published.listings.len()),
            )
            .into());
        }
        let fetched = by_listing_id(published.listings)?;
        let attestations = verify::verify_attestations(&snapshot, published.attestations)?;
        let parts = verify::Parts {
            chain,
            snapshot,
            fetched,
            attestations,
        };
        Ok(Some(verify::assemble(
            &entry.id,
            parts,
            held,
            now,
            &self.limits,
        )?))
    }
}

/// Routes listing envelopes to their manifest entries by the id in their payload (read
/// unverified, only to route; verification follows).
fn by_listing_id(envelopes: Vec<Envelope>) -> Result<HashMap<Uuid, Envelope>, Refusal> {
    #[derive(Deserialize)]
    struct IdOnly {
        id: Uuid,
    }
    let mut out = HashMap::with_capacity(envelopes.len());
    for env in envelopes {
        let bytes = env
            .payload_bytes()
            .map_err(|e| Refusal::new(RefusalCode::BadSignature, format!("listing: {e}")))?;
        let id = serde_json::from_slice::<IdOnly>(&bytes)
            .map_err(|_| Refusal::new(RefusalCode::MalformedPayload, "a listing without an id"))?
            .id;
        if out.insert(id, env).is_some() {
            return Err(Refusal::new(
                RefusalCode::ManifestMismatch,
                format!("listing {id} appears twice"),
            ));
        }
    }
    Ok(out)
}
