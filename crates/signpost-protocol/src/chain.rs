//! Node document chains: an organisation's identity is its first root key; each later node
//! document must be signed by a threshold of the previous version's root keys and of its own.
//! Verifiers pin the id (or version 1) at enrolment and walk the chain forward.

use ed25519_dalek::VerifyingKey;

use crate::did::DidKey;
use crate::dsse::Envelope;
use crate::model::NodeDocument;
use crate::verified::{Verified, VerifyError};

/// Why a node document chain was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    #[error("the chain is empty")]
    Empty,
    #[error("version {version}: {source}")]
    Verify { version: u64, source: VerifyError },
    #[error("version 1 names id {found}, but {expected} was pinned")]
    WrongId { expected: String, found: String },
    #[error("version {found} follows version {previous}; versions must go up by one")]
    Gap { previous: u64, found: u64 },
    #[error("version {0} changes the node's id")]
    IdChanged(u64),
}

/// Verifies the first node document against the pinned id.
pub fn verify_first(
    pinned: &DidKey,
    envelope: Envelope,
) -> Result<Verified<NodeDocument>, ChainError> {
    let doc = Verified::<NodeDocument>::verify(envelope, &[*pinned.key()])
        .map_err(|source| ChainError::Verify { version: 1, source })?;
    if doc.version != 1 {
        return Err(ChainError::Gap {
            previous: 0,
            found: doc.version,
        });
    }
    if &doc.id != pinned {
        return Err(ChainError::WrongId {
            expected: pinned.to_string(),
            found: doc.id.to_string(),
        });
    }
    own_threshold(&doc, &[doc.signer()])?;
    Ok(doc)
}

/// A document is also signed by a threshold of the root keys it names. `checked` are keys
/// its signatures were already verified under (usually the same root keys, whose
/// signatures are then not checked twice).
fn own_threshold(doc: &Verified<NodeDocument>, checked: &[VerifyingKey]) -> Result<(), ChainError> {
    doc.also_signed_by(&doc.root_verifying_keys(), doc.threshold as usize, checked)
        .map(|_| ())
        .map_err(|e| ChainError::Verify {
            version: doc.version,
            source: e.into(),
        })
}

/// Verifies `next` as the successor of `current`: version +1, same id, signed by a threshold
/// of `current`'s root keys and a threshold of its own.
pub fn verify_next(
    current: &Verified<NodeDocument>,
    next: Envelope,
) -> Result<Verified<NodeDocument>, ChainError> {
    let expected = current.version + 1;
    let (doc, signers) = Verified::<NodeDocument>::verify_threshold_signers(
        next,
        &current.root_verifying_keys(),
        current.threshold as usize,
    )
    .map_err(|source| ChainError::Verify {
        version: expected,
        source,
    })?;
    if doc.version != expected {
        return Err(ChainError::Gap {
            previous: current.version,
            found: doc.version,
        });
    }
    if doc.id != current.id {
        return Err(ChainError::IdChanged(doc.version));
    }
    own_threshold(&doc, &signers)?;
    Ok(doc)
}

/// Verifies a whole chain from version 1 against the pinned id; returns every version.
pub fn verify_chain(
    pinned: &DidKey,
    envelopes: impl IntoIterator<Item = Envelope>,
) -> Result<Vec<Verified<NodeDocument>>, ChainError> {
    let mut iter = envelopes.into_iter();
    let first = iter.next().ok_or(ChainError::Empty)?;
    let mut chain = vec![verify_first(pinned, first)?];
    for env in iter {
        let next = match chain.last() {
            Some(last) => verify_next(last, env)?,
            None => return Err(ChainError::Empty),
        };
        chain.push(next);
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::dsse::checks_on_this_thread;
    use crate::model::PayloadKind;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn did(k: &SigningKey) -> DidKey {
        DidKey::new(k.verifying_key())
    }

    /// Version 1 of a node whose id and only root key is `root`.
    fn first(root: &SigningKey) -> NodeDocument {
        let now = Utc::now();
        NodeDocument::first(
            did(root),
            did(&key(99)),
            "Riverside Refugee Forum",
            "https://signpost.riverside.example",
            now,
            now + Duration::days(365),
        )
    }

    /// `doc` as the next version, with these root keys and threshold.
    fn next(doc: &NodeDocument, roots: &[&SigningKey], threshold: u32) -> NodeDocument {
        NodeDocument {
            version: doc.version + 1,
            root_keys: roots.iter().map(|k| did(k)).collect(),
            threshold,
            ..doc.clone()
        }
    }

    fn signed(doc: &NodeDocument, by: &[&SigningKey]) -> Envelope {
        let bytes = serde_json::to_vec(doc).unwrap();
        let mut env = Envelope::sign(PayloadKind::Node.media_type(), &bytes, by[0]);
        for k in &by[1..] {
            let more = Envelope::sign(PayloadKind::Node.media_type(), &bytes, k);
            env.signatures.extend(more.signatures);
        }
        env
    }

    /// Signature checks `f` makes on this thread.
    fn checks_in<T>(f: impl FnOnce() -> T) -> (T, usize) {
        let before = checks_on_this_thread();
        let out = f();
        (out, checks_on_this_thread() - before)
    }

    #[test]
    fn a_chain_is_accepted_with_each_signature_checked_once() {
        let root = key(1);
        let v1 = first(&root);
        let v2 = next(&v1, &[&root], 1);
        let v3 = next(&v2, &[&root], 1);
        let envelopes = [&v1, &v2, &v3].map(|d| signed(d, &[&root]));
        let (chain, checked) = checks_in(|| verify_chain(&did(&root), envelopes.clone()));
        let chain = chain.unwrap();
        assert_eq!(
            chain.iter().map(|d| d.version).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        // Each version is signed by the previous version's root key and by its own, the
        // same key: one signature, checked once (checking it again for the second
        // threshold cost a verification per node in every crawl).
        assert_eq!(checked, 3);
    }

    #[test]
    fn a_new_root_key_must_sign_beside_the_old_one() {
        let (old, new) = (key(1), key(2));
        let v1 = first(&old);
        let v2 = next(&v1, &[&new], 1);
        let chain = verify_chain(
            &did(&old),
            [signed(&v1, &[&old]), signed(&v2, &[&old, &new])],
        )
        .unwrap();
        assert_eq!(chain[1].root_keys, vec![did(&new)]);

        // Only the old key: the new version's own root key did not sign.
        let refused = verify_chain(&did(&old), [signed(&v1, &[&old]), signed(&v2, &[&old])]);
        assert!(
            matches!(refused, Err(ChainError::Verify { version: 2, .. })),
            "{refused:?}"
        );
        // Only the new key: the previous version's root key did not sign.
        let refused = verify_chain(&did(&old), [signed(&v1, &[&old]), signed(&v2, &[&new])]);
        assert!(
            matches!(refused, Err(ChainError::Verify { version: 2, .. })),
            "{refused:?}"
        );
    }

    #[test]
    fn a_known_signer_counts_once_towards_a_threshold_of_two() {
        let (a, b) = (key(1), key(2));
        let v1 = first(&a);
        let v2 = next(&v1, &[&a, &b], 2);
        // Signed by the previous root key `a` alone: `a` counts for version 2's own
        // threshold without being checked again, but it is one key of the two needed.
        let refused = verify_chain(&did(&a), [signed(&v1, &[&a]), signed(&v2, &[&a])]);
        assert!(
            matches!(
                refused,
                Err(ChainError::Verify {
                    version: 2,
                    source: VerifyError::Signature(crate::SignatureError::BelowThreshold {
                        found: 1,
                        needed: 2
                    })
                })
            ),
            "{refused:?}"
        );
        let v3 = next(&v2, &[&a, &b], 2);
        let (chain, checked) = checks_in(|| {
            verify_chain(
                &did(&a),
                [
                    signed(&v1, &[&a]),
                    signed(&v2, &[&a, &b]),
                    signed(&v3, &[&a, &b]),
                ],
            )
        });
        assert_eq!(chain.unwrap().len(), 3);
        // v1: a's one signature. v2: a (its signature), b (a's signature, then its own);
        // its own threshold knows both. v3: a, then b (a's signature, then its own).
        assert_eq!(checked, 1 + 3 + 3);
    }

    #[test]
    fn the_first_version_must_be_the_pinned_id_signed_by_it() {
        let (root, stranger) = (key(1), key(2));
        let v1 = first(&root);
        let refused = verify_first(&did(&stranger), signed(&v1, &[&root]));
        assert!(
            matches!(refused, Err(ChainError::Verify { version: 1, .. })),
            "{refused:?}"
        );
        // Signed by the pinned key, but naming another id.
        let other = NodeDocument {
            id: did(&stranger),
            root_keys: vec![did(&stranger), did(&root)],
            ..v1.clone()
        };
        let refused = verify_first(&did(&root), signed(&other, &[&root]));
        assert!(
            matches!(refused, Err(ChainError::WrongId { .. })),
            "{refused:?}"
        );
        let v2 = next(&v1, &[&root], 1);
        let refused = verify_first(&did(&root), signed(&v2, &[&root]));
        assert_eq!(
            refused.unwrap_err(),
            ChainError::Gap {
                previous: 0,
                found: 2
            }
        );
    }

    #[test]
    fn versions_go_up_by_one_and_keep_the_id() {
        let root = key(1);
        let v1 = first(&root);
        let current = verify_first(&did(&root), signed(&v1, &[&root])).unwrap();
        let v3 = NodeDocument {
            version: 3,
            ..next(&v1, &[&root], 1)
        };
        assert_eq!(
            verify_next(&current, signed(&v3, &[&root])).unwrap_err(),
            ChainError::Gap {
                previous: 1,
                found: 3
            }
        );
        let moved = NodeDocument {
            id: did(&key(2)),
            ..next(&v1, &[&root], 1)
        };
        assert_eq!(
            verify_next(&current, signed(&moved, &[&root])).unwrap_err(),
            ChainError::IdChanged(2)
        );
        assert_eq!(
            verify_chain(&did(&root), Vec::new()).unwrap_err(),
            ChainError::Empty
        );
    }
}
