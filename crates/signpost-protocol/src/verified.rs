//! [`Verified<T>`]: a payload that came out of an envelope whose signature verified and whose
//! content validated. It cannot be built any other way (outside signing it yourself), so code
//! that takes a `Verified<Listing>` cannot be handed an unchecked listing by mistake.

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::dsse::{
    Decoded, Envelope, EnvelopeDigest, EnvelopeRef, HeldEnvelope, SignatureError, StoredEnvelope,
};
use crate::model::{Payload, ValidationError};

/// Why an envelope did not yield a payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("signature: {0}")]
    Signature(#[from] SignatureError),
    /// Malformed JSON, an unknown field, a duplicate key or a wrong type in the signed payload.
    #[error("payload is not a valid {kind} document: {message}")]
    Malformed { kind: &'static str, message: String },
    #[error("payload content: {0}")]
    Invalid(#[from] ValidationError),
}

/// A payload whose envelope verified under keys the caller chose, with that envelope.
#[derive(Debug, Clone)]
pub struct Verified<T> {
    payload: T,
    /// The exact payload bytes that were signed (decoded from the envelope once, shared by
    /// whoever needs them: the index serves them as they are).
    bytes: std::sync::Arc<[u8]>,
    /// The envelope, less its payload's base64 text (written again from `bytes`), shared
    /// like the bytes (the index answers a page from both without looking the listing up).
    envelope: std::sync::Arc<HeldEnvelope>,
    digest: EnvelopeDigest,
    signer: VerifyingKey,
}

impl<T: Payload> Verified<T> {
    /// Verifies `envelope` against `keys` (at least one must have signed), then parses and
    /// validates its exact payload bytes.
    pub fn verify(envelope: Envelope, keys: &[VerifyingKey]) -> Result<Self, VerifyError> {
        let (bytes, signer) = envelope.verify(T::KIND.media_type(), keys)?;
        Self::finish(envelope, bytes, signer)
    }

    /// As [`Verified::verify`], for an envelope already decoded (its payload is not decoded
    /// nor digested again).
    pub fn verify_decoded(decoded: &Decoded, keys: &[VerifyingKey]) -> Result<Self, VerifyError> {
        let signers = decoded.verify_threshold(T::KIND.media_type(), keys, 1)?;
        let signer = signers
            .first()
            .copied()
            .ok_or(SignatureError::BadSignature)?;
        let bytes = decoded.unverified_payload();
        let envelope = HeldEnvelope::of(decoded.envelope(), bytes);
        Self::held(bytes, envelope, decoded.digest(), signer)
    }

    /// As [`Verified::verify`], but `threshold` distinct keys among `keys` must have signed.
    pub fn verify_threshold(
        envelope: Envelope,
        keys: &[VerifyingKey],
        threshold: usize,
    ) -> Result<Self, VerifyError> {
        Ok(Self::verify_threshold_signers(envelope, keys, threshold)?.0)
    }

    /// As [`Verified::verify_threshold`], with every key among `keys` that signed.
    pub(crate) fn verify_threshold_signers(
        envelope: Envelope,
        keys: &[VerifyingKey],
        threshold: usize,
    ) -> Result<(Self, Vec<VerifyingKey>), VerifyError> {
        let (bytes, signers) = envelope.verify_threshold(T::KIND.media_type(), keys, threshold)?;
        let signer = signers
            .first()
            .copied()
            .ok_or(SignatureError::BadSignature)?;
        Ok((Self::finish(envelope, bytes, signer)?, signers))
    }

    /// Checks that `threshold` distinct keys among `keys` signed this envelope too, counting
    /// those in `known` without checking their signatures again. `known` must come from
    /// this envelope's own verification ([`Verified::signer`] or the signers
    /// [`Verified::verify_threshold_signers`] returned), which is why this is not public.
    pub(crate) fn also_signed_by(
        &self,
        keys: &[VerifyingKey],
        threshold: usize,
        known: &[VerifyingKey],
    ) -> Result<Vec<VerifyingKey>, SignatureError> {
        self.envelope()
            .verify_threshold_knowing(T::KIND.media_type(), keys, threshold, known)
    }

    /// Re-reads an envelope that this process's own store persisted only after verifying it.
    /// The signature is not checked again (the store is trusted as local disk is); the
    /// payload is still parsed and validated. Never call this on bytes from the network.
    pub fn from_own_store(envelope: Envelope, signer: VerifyingKey) -> Result<Self, VerifyError> {
        let bytes = envelope.payload_bytes()?;
        if envelope.payload_type != T::KIND.media_type() {
            return Err(SignatureError::PayloadTypeMismatch {
                expected: T::KIND.media_type().to_owned(),
                found: envelope.payload_type,
            }
            .into());
        }
        Self::finish(envelope, bytes, signer)
    }

    /// As [`Verified::from_own_store`], for an envelope this process's own store kept in
    /// its binary form: the payload is parsed and validated from the bytes as they were
    /// kept, without base64. Never call this on bytes from the network.
    pub fn from_stored(
        stored: StoredEnvelope<'_>,
        signer: VerifyingKey,
    ) -> Result<Self, VerifyError> {
        if stored.payload_type() != T::KIND.media_type() {
            return Err(SignatureError::PayloadTypeMismatch {
                expected: T::KIND.media_type().to_owned(),
                found: stored.payload_type().to_owned(),
            }
            .into());
        }
        let (bytes, envelope) = stored.into_held();
        let digest = EnvelopeDigest::of(T::KIND.media_type(), &bytes);
        Self::held(&bytes, envelope, digest, signer)
    }

    /// A payload from its exact bytes (parsed and validated), with the envelope it came in.
    fn held(
        bytes: &[u8],
        envelope: HeldEnvelope,
        digest: EnvelopeDigest,
        signer: VerifyingKey,
    ) -> Result<Self, VerifyError> {
        Ok(Self {
            payload: Self::parse(bytes)?,
            bytes: bytes.into(),
            envelope: envelope.into(),
            digest,
            signer,
        })
    }

    fn finish(
        envelope: Envelope,
        bytes: Vec<u8>,
        signer: VerifyingKey,
    ) -> Result<Self, VerifyError> {
        let digest = EnvelopeDigest::of(&envelope.payload_type, &bytes);
        let envelope = HeldEnvelope::new(envelope, &bytes);
        Self::held(&bytes, envelope, digest, signer)
    }

    /// Parses and validates verified payload bytes.
    fn parse(bytes: &[u8]) -> Result<T, VerifyError> {
        let payload: T =
            crate::wire::json_from_slice(bytes).map_err(|e| VerifyError::Malformed {
                kind: kind_name(T::KIND),
                message: crate::wire::json_words(&e),
            })?;
        payload.validate()?;
        Ok(payload)
    }

    /// Validates `payload`, serialises it and signs it with `key`.
    pub fn sign(payload: T, key: &SigningKey) -> Result<Self, ValidationError> {
        payload.validate()?;
        let bytes = serde_json::to_vec(&payload)
            .map_err(|e| ValidationError::new("payload", format!("cannot be serialised: {e}")))?;
        let envelope = Envelope::sign(T::KIND.media_type(), &bytes, key);
        let digest = EnvelopeDigest::of(&envelope.payload_type, &bytes);
        let envelope = HeldEnvelope::new(envelope, &bytes);
        Ok(Self {
            payload,
            bytes: bytes.into(),
            envelope: envelope.into(),
            digest,
            signer: key.verifying_key(),
        })
    }

    /// Adds another key's signature (for root-key thresholds).
    pub fn cosign(&mut self, key: &SigningKey) {
        std::sync::Arc::make_mut(&mut self.envelope).add_signature(&self.bytes, key);
    }
}

impl Verified<crate::model::Attestation> {
    /// Verifies an attestation's signature under the key its payload names as `issuer`.
    /// This proves only that the issuer signed it: whether that issuer is trusted, for that
    /// achievement, and whether it is revoked or expired, is the verifier's policy.
    pub fn verify_self_issued(envelope: Envelope) -> Result<Self, VerifyError> {
        let bytes = envelope.payload_bytes()?;
        let claimed: crate::model::Attestation =
            serde_json::from_slice(&bytes).map_err(|e| VerifyError::Malformed {
                kind: "attestation",
                message: crate::wire::json_words(&e),
            })?;
        Self::verify(envelope, &[*claimed.issuer.key()])
    }
}

impl<T> Verified<T> {
    pub fn payload(&self) -> &T {
        &self.payload
    }
    /// The envelope, exactly as received (or signed).
    pub fn envelope(&self) -> EnvelopeRef<'_> {
        self.envelope.view(&self.bytes)
    }
    pub fn digest(&self) -> EnvelopeDigest {
        self.digest
    }
    /// The exact payload bytes that were signed and verified.
    pub fn payload_bytes(&self) -> &std::sync::Arc<[u8]> {
        &self.bytes
    }
    /// The envelope as held, to be viewed with [`Verified::payload_bytes`]
    /// ([`HeldEnvelope::view`]).
    pub fn held_envelope(&self) -> &std::sync::Arc<HeldEnvelope> {
        &self.envelope
    }
    /// The first of the caller's keys that signed.
    pub fn signer(&self) -> VerifyingKey {
        self.signer
    }
    pub fn into_parts(self) -> (T, Envelope) {
        let envelope = self.envelope().to_envelope();
        (self.payload, envelope)
    }
}

/// The entry by which a snapshot's manifest names a signed listing.
impl From<&Verified<crate::model::Listing>> for crate::model::ManifestEntry {
    fn from(listing: &Verified<crate::model::Listing>) -> Self {
        Self {
            id: listing.id,
            version: listing.version,
            sha256: listing.digest(),
        }
    }
}

impl<T> std::ops::Deref for Verified<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.payload
    }
}

fn kind_name(kind: crate::model::PayloadKind) -> &'static str {
    match kind {
        crate::model::PayloadKind::Node => "node",
        crate::model::PayloadKind::Listing => "listing",
        crate::model::PayloadKind::Snapshot => "snapshot",
        crate::model::PayloadKind::Attestation => "attestation",
        crate::model::PayloadKind::Revocations => "revocations",
    }
}
