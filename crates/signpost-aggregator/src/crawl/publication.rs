//! Verifying a node's whole publication, as a bundle or a mirror's feed item carries it:
//! the snapshot against the verified chain and what is held, every listing it names (those
//! held unchanged are not verified again), and the attestations.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use signpost_protocol::wire::{Refusal, RefusalCode};
use signpost_protocol::{Decoded, Envelope, EnvelopeDigest, NodeDocument, Snapshot, Verified};
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
        let fetched = by_listing_id(&snapshot, published.listings)?;
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

/// Routes listing envelopes to their manifest entries, each decoded once: by its digest
/// when the manifest names it (its payload is then not read before it verifies), otherwise
/// by the id in its payload (read unverified, only to route: verification follows and
/// refuses it).
fn by_listing_id(
    snapshot: &Snapshot,
    envelopes: Vec<Envelope>,
) -> Result<HashMap<Uuid, Decoded>, Refusal> {
    #[derive(Deserialize)]
    struct IdOnly {
        id: Uuid,
    }
    let named: HashMap<EnvelopeDigest, Uuid> =
        snapshot.listings.iter().map(|e| (e.sha256, e.id)).collect();
    let mut out = HashMap::with_capacity(envelopes.len());
    for env in envelopes {
        let decoded = Decoded::new(env)
            .map_err(|e| Refusal::new(RefusalCode::BadSignature, format!("listing: {e}")))?;
        let id = match named.get(&decoded.digest()) {
            Some(id) => *id,
            None => {
                serde_json::from_slice::<IdOnly>(decoded.unverified_payload())
                    .map_err(|_| {
                        Refusal::new(RefusalCode::MalformedPayload, "a listing without an id")
                    })?
                    .id
            }
        };
        if out.insert(id, decoded).is_some() {
            return Err(Refusal::new(
                RefusalCode::ManifestMismatch,
                format!("listing {id} appears twice"),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_protocol::model::ManifestEntry;
    use signpost_protocol::DidKey;

    fn envelope(payload: &str) -> Envelope {
        let key = signpost_protocol::SigningKey::from_bytes(&[9; 32]);
        Envelope::sign(
            "application/vnd.signpost.listing.v1+json",
            payload.as_bytes(),
            &key,
        )
    }

    fn snapshot(listings: Vec<ManifestEntry>) -> Snapshot {
        let now = chrono::Utc::now();
        Snapshot {
            node: DidKey::new(signpost_protocol::SigningKey::from_bytes(&[9; 32]).verifying_key()),
            seq: 1,
            prev: None,
            issued_at: now,
            expires_at: now + chrono::Duration::days(1),
            listings,
            attestations: Vec::new(),
        }
    }

    #[test]
    fn listings_route_by_the_digest_the_manifest_names_else_by_their_id() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let named = envelope(&format!(r#"{{"id":"{a}"}}"#));
        let digest = Decoded::new(named.clone()).unwrap().digest();
        // The manifest names this digest under `b`: the payload is not read to route it
        // (verification then refuses the mismatch).
        let snap = snapshot(vec![ManifestEntry {
            id: b,
            version: 1,
            sha256: digest,
        }]);
        let unnamed = envelope(&format!(r#"{{"id":"{a}","note":"not named"}}"#));
        let routed = by_listing_id(&snap, vec![named.clone(), unnamed.clone()]).unwrap();
        assert_eq!(routed[&b].digest(), digest);
        assert_eq!(routed[&a].envelope(), &unnamed);

        let twice = by_listing_id(&snap, vec![unnamed.clone(), unnamed]).unwrap_err();
        assert_eq!(twice.code, RefusalCode::ManifestMismatch);
        assert!(twice.detail.contains("appears twice"), "{}", twice.detail);

        let no_id = by_listing_id(&snap, vec![envelope(r#"{"name":"x"}"#)]).unwrap_err();
        assert_eq!(no_id.code, RefusalCode::MalformedPayload);

        let mut not_base64 = named;
        not_base64.payload.push('!');
        let refused = by_listing_id(&snap, vec![not_base64]).unwrap_err();
        assert_eq!(refused.code, RefusalCode::BadSignature);
    }
}
