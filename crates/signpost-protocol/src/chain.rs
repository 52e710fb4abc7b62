//! Node document chains: an organisation's identity is its first root key; each later node
//! document must be signed by a threshold of the previous version's root keys and of its own.
//! Verifiers pin the id (or version 1) at enrolment and walk the chain forward.

use crate::did::DidKey;
use crate::dsse::Envelope;
use crate::model::{NodeDocument, Payload as _};
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
    own_threshold(&doc)?;
    Ok(doc)
}

/// A document is also signed by a threshold of the root keys it names.
fn own_threshold(doc: &Verified<NodeDocument>) -> Result<(), ChainError> {
    doc.envelope()
        .verify_threshold(
            NodeDocument::KIND.media_type(),
            &doc.root_verifying_keys(),
            doc.threshold as usize,
        )
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
    let doc = Verified::<NodeDocument>::verify_threshold(
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
    own_threshold(&doc)?;
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
