//! DSSE v1 envelopes (secure-systems-lab/dsse, "envelope.md" and "protocol.md").
//!
//! A signature is Ed25519 over `PAE(payloadType, payload)`, where
//! `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body` and LEN is the
//! decimal byte count. Verification checks the exact payload bytes before anything parses
//! them. The `keyid` is only a hint: keys always come from the caller.

use std::borrow::Cow;
use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature as EdSignature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::did::DidKey;

/// Most signatures an envelope may carry; more is refused before any is checked.
pub const MAX_SIGNATURES: usize = 8;

/// A DSSE v1 envelope as it travels on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The payload's exact bytes, base64 (standard or URL-safe alphabet).
    pub payload: String,
    /// One of the `application/vnd.signpost.*.v1+json` types.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    /// A hint naming the signing key (its did:key); never used to choose the key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// The Ed25519 signature over PAE, base64 (standard or URL-safe alphabet).
    pub sig: String,
}

/// Why an envelope's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("payload type is {found:?}, expected {expected:?}")]
    PayloadTypeMismatch { expected: String, found: String },
    #[error("payload is not valid base64")]
    PayloadBase64,
    #[error("envelope has no signatures")]
    NoSignatures,
    #[error("envelope has {0} signatures; at most {MAX_SIGNATURES} are accepted")]
    TooManySignatures(usize),
    #[error("a signature is not valid base64")]
    SignatureBase64,
    #[error("a signature is {0} bytes long; Ed25519 signatures are 64")]
    SignatureLength(usize),
    #[error("no signature verifies under the expected keys")]
    BadSignature,
    #[error("{found} of the expected keys signed; {needed} are required")]
    BelowThreshold { found: usize, needed: usize },
}

/// Decodes base64 in either alphabet, padded or not, as DSSE asks of verifiers.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    // A vectorised byte search (a `char` pattern set walks the string one character at a
    // time: a tenth of a restart in perf).
    let url = memchr::memchr2(b'-', b'_', s.as_bytes()).is_some();
    let padded = s.ends_with('=');
    // SIMD: a quarter of the time of a scalar decoder; canonical like it (padding as the
    // alphabet's form asks, no stray bits in the last character).
    PayloadText::engine(url, padded).decode_to_vec(s).ok()
}

/// Verifies one raw Ed25519 signature with `verify_strict` (the primitive under every
/// envelope check; exposed for conformance tests against published vectors).
pub fn verify_raw(
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let key: [u8; 32] = public_key
        .try_into()
        .map_err(|_| SignatureError::BadSignature)?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| SignatureError::BadSignature)?;
    let sig = parse_signature(signature)?;
    key.verify_strict(message, &sig)
        .map_err(|_| SignatureError::BadSignature)
}

fn parse_signature(raw: &[u8]) -> Result<EdSignature, SignatureError> {
    let raw: [u8; 64] = raw
        .try_into()
        .map_err(|_| SignatureError::SignatureLength(raw.len()))?;
    Ok(EdSignature::from_bytes(&raw))
}

/// The pre-authentication encoding of DSSE v1.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let header = pae_header(payload_type, payload.len());
    let mut out = Vec::with_capacity(header.len() + payload.len());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(payload);
    out
}

/// PAE up to its payload: `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP`.
fn pae_header(payload_type: &str, payload_len: usize) -> String {
    format!(
        "DSSEv1 {} {payload_type} {payload_len} ",
        payload_type.len()
    )
}

/// The identity of an envelope's signed content: SHA-256 of `PAE(payloadType, payload)`.
///
/// It names exactly what was signed, so it does not change with JSON whitespace, the base64
/// alphabet or the set of signatures; snapshots name listings and attestations by it and the
/// node's `ETag` is made from it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnvelopeDigest(pub [u8; 32]);

impl EnvelopeDigest {
    pub fn of(payload_type: &str, payload: &[u8]) -> Self {
        // The same bytes as `pae`, without a copy of the payload.
        let mut h = Sha256::new();
        h.update(pae_header(payload_type, payload.len()).as_bytes());
        h.update(payload);
        Self(h.finalize().into())
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Self(out))
    }
}

impl fmt::Display for EnvelopeDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for EnvelopeDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnvelopeDigest({})", self.to_hex())
    }
}

impl Serialize for EnvelopeDigest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for EnvelopeDigest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(serde::de::Error::custom("expected 64 lowercase hex digits"));
        }
        Self::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom("expected 64 lowercase hex digits"))
    }
}

impl utoipa::PartialSchema for EnvelopeDigest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-9a-f]{64}$"))
            .description(Some("SHA-256 of PAE(payloadType, payload), lowercase hex"))
            .into()
    }
}

impl utoipa::ToSchema for EnvelopeDigest {}

impl Envelope {
    /// Signs `payload` (its exact bytes) as `payload_type` with one key; the `keyid` is the
    /// key's did:key.
    pub fn sign(payload_type: &str, payload: &[u8], key: &SigningKey) -> Self {
        let mut env = Self {
            payload: STANDARD.encode(payload),
            payload_type: payload_type.to_owned(),
            signatures: Vec::new(),
        };
        env.add_signature(payload, key);
        env
    }

    /// Adds one more signature over the same payload (multi-key signing, e.g. root-key
    /// thresholds). `payload` must be the envelope's decoded payload.
    pub fn add_signature(&mut self, payload: &[u8], key: &SigningKey) {
        self.signatures
            .push(signature(&self.payload_type, payload, key));
    }

    /// The decoded payload bytes, without checking any signature.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, SignatureError> {
        decode_base64(&self.payload).ok_or(SignatureError::PayloadBase64)
    }

    /// The envelope's digest, or an error when its payload is not base64.
    pub fn digest(&self) -> Result<EnvelopeDigest, SignatureError> {
        Ok(EnvelopeDigest::of(
            &self.payload_type,
            &self.payload_bytes()?,
        ))
    }

    /// Verifies that at least one signature is by one of `keys` and that the payload type is
    /// `expected_type`; returns the payload's exact bytes and the key that signed.
    pub fn verify(
        &self,
        expected_type: &str,
        keys: &[VerifyingKey],
    ) -> Result<(Vec<u8>, VerifyingKey), SignatureError> {
        let (payload, signers) = self.verify_threshold(expected_type, keys, 1)?;
        // verify_threshold returned at least one signer.
        let signer = signers
            .first()
            .copied()
            .ok_or(SignatureError::BadSignature)?;
        Ok((payload, signer))
    }

    /// Verifies that at least `threshold` distinct keys among `keys` signed; returns the
    /// payload bytes and the keys that signed, in the order of `keys`.
    pub fn verify_threshold(
        &self,
        expected_type: &str,
        keys: &[VerifyingKey],
        threshold: usize,
    ) -> Result<(Vec<u8>, Vec<VerifyingKey>), SignatureError> {
        check_shape(&self.payload_type, &self.signatures, expected_type)?;
        let payload = self.payload_bytes()?;
        let signers = check_signatures(
            &self.payload_type,
            &payload,
            &self.signatures,
            keys,
            threshold,
            &[],
        )?;
        Ok((payload, signers))
    }
}

/// An envelope whose payload is decoded and digested once, its signatures not yet checked:
/// nothing in it is trusted before [`crate::Verified::verify_decoded`]. Its digest may route
/// it to the manifest entry that names it.
#[derive(Debug, Clone)]
pub struct Decoded {
    envelope: Envelope,
    bytes: Vec<u8>,
    digest: EnvelopeDigest,
}

impl Decoded {
    pub fn new(envelope: Envelope) -> Result<Self, SignatureError> {
        let bytes = envelope.payload_bytes()?;
        let digest = EnvelopeDigest::of(&envelope.payload_type, &bytes);
        Ok(Self {
            envelope,
            bytes,
            digest,
        })
    }

    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The decoded payload, unverified (to route it, never to act on it).
    pub fn unverified_payload(&self) -> &[u8] {
        &self.bytes
    }

    pub fn digest(&self) -> EnvelopeDigest {
        self.digest
    }

    /// As [`Envelope::verify_threshold`], without decoding the payload again.
    pub(crate) fn verify_threshold(
        &self,
        expected_type: &str,
        keys: &[VerifyingKey],
        threshold: usize,
    ) -> Result<Vec<VerifyingKey>, SignatureError> {
        let env = &self.envelope;
        check_shape(&env.payload_type, &env.signatures, expected_type)?;
        check_signatures(
            &env.payload_type,
            &self.bytes,
            &env.signatures,
            keys,
            threshold,
            &[],
        )
    }
}

/// Checks what an envelope claims before anything is decoded: its payload type is
/// `expected_type`, and it has at least one signature and at most [`MAX_SIGNATURES`].
fn check_shape(
    payload_type: &str,
    signatures: &[EnvelopeSignature],
    expected_type: &str,
) -> Result<(), SignatureError> {
    if payload_type != expected_type {
        return Err(SignatureError::PayloadTypeMismatch {
            expected: expected_type.to_owned(),
            found: payload_type.to_owned(),
        });
    }
    if signatures.is_empty() {
        return Err(SignatureError::NoSignatures);
    }
    if signatures.len() > MAX_SIGNATURES {
        return Err(SignatureError::TooManySignatures(signatures.len()));
    }
    Ok(())
}

/// Checks that at least `threshold` distinct keys among `keys` signed `payload` (decoded) as
/// `payload_type`; returns them in the order of `keys`. A key in `known` counts without its
/// signature being checked again: `known` holds only keys this crate has already found
/// signing this same payload and type (a node document is checked against two sets of
/// keys that usually overlap), never keys a caller vouches for.
fn check_signatures(
    payload_type: &str,
    payload: &[u8],
    signatures: &[EnvelopeSignature],
    keys: &[VerifyingKey],
    threshold: usize,
    known: &[VerifyingKey],
) -> Result<Vec<VerifyingKey>, SignatureError> {
    let message = pae(payload_type, payload);
    let mut sigs = Vec::with_capacity(signatures.len());
    for s in signatures {
        let raw = decode_base64(&s.sig).ok_or(SignatureError::SignatureBase64)?;
        sigs.push(parse_signature(&raw)?);
    }
    let signers: Vec<VerifyingKey> = keys
        .iter()
        .filter(|key| {
            known.contains(key)
                || sigs.iter().any(|sig| {
                    checks::count();
                    key.verify_strict(&message, sig).is_ok()
                })
        })
        .copied()
        .collect();
    let needed = threshold.max(1);
    if signers.is_empty() {
        return Err(SignatureError::BadSignature);
    }
    if signers.len() < needed {
        return Err(SignatureError::BelowThreshold {
            found: signers.len(),
            needed,
        });
    }
    Ok(signers)
}

/// How an envelope's payload text was written, so that it can be written again byte for byte
/// from the decoded payload instead of being held twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum PayloadText {
    /// Base64 in this alphabet and padding: encoding the decoded payload gives the text
    /// received (checked when the envelope is held).
    Base64 { url_safe: bool, padded: bool },
    /// Text that encoding would not give again, kept as received.
    Verbatim(Box<str>),
}

impl PayloadText {
    /// How `text`, which `decode_base64` decoded to `payload` (or which was encoded from
    /// it), is written again from `payload`; `None` when it cannot be.
    fn of(text: &str, payload: &[u8]) -> Option<Self> {
        let url_safe = memchr::memchr2(b'-', b'_', text.as_bytes()).is_some();
        let padded = text.ends_with('=');
        // The decoder is canonical (a test holds it to that): text it decoded is what
        // encoding the payload in the same alphabet and padding gives, so it is not encoded
        // again here to compare (an encoding and a comparison per envelope held).
        (Self::engine(url_safe, padded).encoded_length(payload.len()) == text.len())
            .then_some(Self::Base64 { url_safe, padded })
    }

    fn engine(url_safe: bool, padded: bool) -> &'static base64_simd::Base64 {
        match (url_safe, padded) {
            (false, true) => &base64_simd::STANDARD,
            (false, false) => &base64_simd::STANDARD_NO_PAD,
            (true, true) => &base64_simd::URL_SAFE,
            (true, false) => &base64_simd::URL_SAFE_NO_PAD,
        }
    }
}

/// An envelope held beside its decoded payload, without the payload's base64 text (about
/// two thirds of a listing envelope's bytes): [`EnvelopeRef`] writes the text again, exactly
/// as it was received, when the envelope is served.
#[derive(Debug, Clone)]
pub struct HeldEnvelope {
    text: PayloadText,
    payload_type: Box<str>,
    signatures: Vec<EnvelopeSignature>,
}

impl HeldEnvelope {
    /// Holds `envelope`, whose payload `decode_base64` decoded to `payload` (or which was
    /// encoded from it), so its text is base64, which JSON needs no escaping for.
    pub(crate) fn new(envelope: Envelope, payload: &[u8]) -> Self {
        let text = PayloadText::of(&envelope.payload, payload)
            .unwrap_or_else(|| PayloadText::Verbatim(envelope.payload.into_boxed_str()));
        Self {
            text,
            payload_type: envelope.payload_type.into_boxed_str(),
            signatures: envelope.signatures,
        }
    }

    /// As [`HeldEnvelope::new`], copying what it keeps of a borrowed envelope.
    pub(crate) fn of(envelope: &Envelope, payload: &[u8]) -> Self {
        let text = PayloadText::of(&envelope.payload, payload)
            .unwrap_or_else(|| PayloadText::Verbatim(envelope.payload.as_str().into()));
        Self {
            text,
            payload_type: envelope.payload_type.as_str().into(),
            signatures: envelope.signatures.clone(),
        }
    }

    /// The envelope, given the decoded payload it was held with.
    pub fn view<'a>(&'a self, payload: &'a [u8]) -> EnvelopeRef<'a> {
        EnvelopeRef {
            text: &self.text,
            payload,
            payload_type: &self.payload_type,
            signatures: &self.signatures,
        }
    }

    /// As [`Envelope::add_signature`]; `payload` is the decoded payload it was held with.
    pub fn add_signature(&mut self, payload: &[u8], key: &SigningKey) {
        self.signatures
            .push(signature(&self.payload_type, payload, key));
    }
}

/// A held envelope, borrowed: serialises as the [`Envelope`] that was received.
#[derive(Debug, Clone, Copy)]
pub struct EnvelopeRef<'a> {
    text: &'a PayloadText,
    payload: &'a [u8],
    pub payload_type: &'a str,
    pub signatures: &'a [EnvelopeSignature],
}

impl<'a> EnvelopeRef<'a> {
    /// The decoded payload.
    pub fn payload_bytes(&self) -> &[u8] {
        self.payload
    }

    /// Appends the payload's base64 text, as received, to `out`. It is always base64 (the
    /// envelope verified), so it needs no escaping inside a JSON string.
    pub fn write_payload_text(&self, out: &mut Vec<u8>) {
        match self.text {
            PayloadText::Base64 { url_safe, padded } => {
                PayloadText::engine(*url_safe, *padded).encode_append(self.payload, out);
            }
            PayloadText::Verbatim(text) => out.extend_from_slice(text.as_bytes()),
        }
    }

    /// The payload's base64 text, as received.
    pub fn payload_text(&self) -> String {
        match self.text {
            PayloadText::Base64 { url_safe, padded } => {
                PayloadText::engine(*url_safe, *padded).encode_to_string(self.payload)
            }
            PayloadText::Verbatim(text) => text.to_string(),
        }
    }

    /// As [`Envelope::verify_threshold`], without decoding the payload again.
    pub fn verify_threshold(
        &self,
        expected_type: &str,
        keys: &[VerifyingKey],
        threshold: usize,
    ) -> Result<Vec<VerifyingKey>, SignatureError> {
        self.verify_threshold_knowing(expected_type, keys, threshold, &[])
    }

    /// As [`EnvelopeRef::verify_threshold`], counting the keys in `known` (ones this crate
    /// has already found signing this envelope) without checking their signatures again.
    pub(crate) fn verify_threshold_knowing(
        &self,
        expected_type: &str,
        keys: &[VerifyingKey],
        threshold: usize,
        known: &[VerifyingKey],
    ) -> Result<Vec<VerifyingKey>, SignatureError> {
        check_shape(self.payload_type, self.signatures, expected_type)?;
        check_signatures(
            self.payload_type,
            self.payload,
            self.signatures,
            keys,
            threshold,
            known,
        )
    }

    /// The envelope as received, owned.
    pub fn to_envelope(&self) -> Envelope {
        Envelope {
            payload: self.payload_text(),
            payload_type: self.payload_type.to_owned(),
            signatures: self.signatures.to_vec(),
        }
    }

    /// The envelope in the form a verifier keeps on its own disk (see [`StoredEnvelope`]).
    pub fn stored(&self) -> StoredEnvelope<'a> {
        StoredEnvelope {
            payload_type: Cow::Borrowed(self.payload_type),
            payload: Cow::Borrowed(self.payload),
            text: Cow::Borrowed(self.text),
            signatures: Cow::Borrowed(self.signatures),
        }
    }
}

/// A verified envelope as its verifier keeps it on its own disk, for a binary serde format:
/// the payload's bytes as they are (nothing to encode when it is written nor to decode when
/// it is read back) and how its base64 text was written, so that it is served again byte for
/// byte as it was received. Read back, it borrows the payload from the bytes read.
///
/// It is trusted as local disk is: only [`crate::Verified::from_stored`] turns it back into
/// a payload, without checking the signature again. Never read one from the network.
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredEnvelope<'a> {
    #[serde(borrow)]
    payload_type: Cow<'a, str>,
    #[serde(borrow, with = "serde_bytes")]
    payload: Cow<'a, [u8]>,
    text: Cow<'a, PayloadText>,
    #[serde(with = "stored_signatures")]
    signatures: Cow<'a, [EnvelopeSignature]>,
}

/// Signatures as (key hint, signature) pairs: every field written, as a format without
/// field names needs (the wire form leaves an empty hint out).
mod stored_signatures {
    use std::borrow::Cow;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::EnvelopeSignature;

    #[allow(clippy::ptr_arg)] // serde's `with` hands over the field's own type
    pub fn serialize<S: Serializer>(
        signatures: &Cow<'_, [EnvelopeSignature]>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(signatures.iter().map(|s| (&s.keyid, &s.sig)))
    }

    pub fn deserialize<'de, 'a, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Cow<'a, [EnvelopeSignature]>, D::Error> {
        let pairs = Vec::<(String, String)>::deserialize(deserializer)?;
        Ok(Cow::Owned(
            pairs
                .into_iter()
                .map(|(keyid, sig)| EnvelopeSignature { keyid, sig })
                .collect(),
        ))
    }
}

impl<'a> StoredEnvelope<'a> {
    /// The envelope as it was received, owned (to verify it again).
    pub fn to_envelope(&self) -> Envelope {
        EnvelopeRef {
            text: &self.text,
            payload: &self.payload,
            payload_type: &self.payload_type,
            signatures: &self.signatures,
        }
        .to_envelope()
    }

    pub fn payload_type(&self) -> &str {
        &self.payload_type
    }

    /// The payload's bytes, and the envelope held without them.
    pub(crate) fn into_held(self) -> (Cow<'a, [u8]>, HeldEnvelope) {
        let held = HeldEnvelope {
            text: self.text.into_owned(),
            payload_type: self.payload_type.into(),
            signatures: self.signatures.into_owned(),
        };
        (self.payload, held)
    }
}

impl Serialize for EnvelopeRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut s = serializer.serialize_struct("Envelope", 3)?;
        // Base64 needs no escaping: written as a raw JSON string, it is checked by a scan
        // eight bytes at a time instead of escaped one byte at a time (the largest cost
        // after verification of writing a node's state to the store or a feed page).
        let mut quoted = Vec::with_capacity(self.payload.len() * 4 / 3 + 8);
        quoted.push(b'"');
        self.write_payload_text(&mut quoted);
        quoted.push(b'"');
        match String::from_utf8(quoted)
            .ok()
            .and_then(|q| serde_json::value::RawValue::from_string(q).ok())
        {
            Some(raw) => s.serialize_field("payload", &raw)?,
            None => s.serialize_field("payload", &self.payload_text())?,
        }
        s.serialize_field("payloadType", self.payload_type)?;
        s.serialize_field("signatures", self.signatures)?;
        s.end()
    }
}

fn signature(payload_type: &str, payload: &[u8], key: &SigningKey) -> EnvelopeSignature {
    let sig = key.sign(&pae(payload_type, payload));
    EnvelopeSignature {
        keyid: DidKey::new(key.verifying_key()).to_string(),
        sig: STANDARD.encode(sig.to_bytes()),
    }
}

/// Signatures checked with `verify_strict`, counted for the operator's metrics and the
/// bench (each signature taken is checked once: a regression would show here).
mod checks {
    use std::sync::atomic::{AtomicU64, Ordering};

    static IN_PROCESS: AtomicU64 = AtomicU64::new(0);

    #[cfg(test)]
    thread_local! {
        static ON_THIS_THREAD: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    pub(super) fn count() {
        IN_PROCESS.fetch_add(1, Ordering::Relaxed);
        #[cfg(test)]
        ON_THIS_THREAD.with(|c| c.set(c.get() + 1));
    }

    pub(super) fn in_process() -> u64 {
        IN_PROCESS.load(Ordering::Relaxed)
    }

    /// This thread's checks (unit tests run side by side in one process).
    #[cfg(test)]
    pub(crate) fn on_this_thread() -> usize {
        ON_THIS_THREAD.with(std::cell::Cell::get)
    }
}

#[cfg(test)]
pub(crate) use checks::on_this_thread as checks_on_this_thread;

/// How many signatures this process has checked with `verify_strict` since it started:
/// every envelope taken (listing, snapshot, node document, attestation, revocation list)
/// costs one check a signature, once.
pub fn signature_checks() -> u64 {
    checks::in_process()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

    #[test]
    fn the_simd_decoder_accepts_exactly_what_the_scalar_decoder_accepts() {
        // Characters where the two could differ: both alphabets, padding, bits that a
        // canonical encoding leaves zero (A, Q, g, w) or not (B, R), and a stranger.
        let chars = b"AQgwBR+/-_=Z9 ";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut valid = 0;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 13) as usize;
            let text: String = (0..len)
                .map(|i| chars[((state >> (4 + 4 * i)) % chars.len() as u64) as usize] as char)
                .collect();
            let url = text.contains(['-', '_']);
            let engine = match (url, text.ends_with('=')) {
                (false, true) => &STANDARD,
                (false, false) => &STANDARD_NO_PAD,
                (true, true) => &URL_SAFE,
                (true, false) => &URL_SAFE_NO_PAD,
            };
            let decoded = decode_base64(&text);
            assert_eq!(decoded, engine.decode(&text).ok(), "{text:?}");
            // Canonical: what decodes encodes again to the same text, in the alphabet and
            // padding the text shows (what `HeldEnvelope` relies on to drop the text).
            if let Some(bytes) = &decoded {
                let again = PayloadText::engine(url, text.ends_with('=')).encode_to_string(bytes);
                assert_eq!(again, text, "{text:?} does not encode back");
            }
            valid += usize::from(decoded.is_some());
        }
        assert!(
            valid > 5_000,
            "only {valid} of the strings tried were base64"
        );
    }

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    #[test]
    fn pae_matches_the_spec_example() {
        // From the DSSE protocol specification.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn the_digest_is_sha256_of_pae() {
        for (t, body) in [
            ("http://example.com/HelloWorld", &b"hello world"[..]),
            ("", b""),
            (
                "application/vnd.signpost.listing.v1+json",
                &[0xffu8; 1000][..],
            ),
        ] {
            let whole: [u8; 32] = Sha256::digest(pae(t, body)).into();
            assert_eq!(EnvelopeDigest::of(t, body).0, whole, "{t:?}");
        }
    }

    #[test]
    fn sign_then_verify() {
        let k = key(1);
        let env = Envelope::sign("t", b"{\"a\":1}", &k);
        let (payload, signer) = env.verify("t", &[k.verifying_key()]).unwrap();
        assert_eq!(payload, b"{\"a\":1}");
        assert_eq!(signer, k.verifying_key());
        assert_eq!(
            env.signatures[0].keyid,
            DidKey::new(k.verifying_key()).to_string()
        );
    }

    #[test]
    fn url_safe_and_unpadded_base64_are_accepted() {
        let k = key(2);
        // 0xfb 0xff encodes with '+' and '/' in the standard alphabet.
        let payload = [0xfbu8, 0xff, 0xfe, 0x3e];
        let mut env = Envelope::sign("t", &payload, &k);
        env.payload = URL_SAFE_NO_PAD.encode(payload);
        let sig = decode_base64(&env.signatures[0].sig).unwrap();
        env.signatures[0].sig = URL_SAFE_NO_PAD.encode(sig);
        assert_eq!(env.verify("t", &[k.verifying_key()]).unwrap().0, payload);
    }

    #[test]
    fn each_refusal_has_its_own_error() {
        let k = key(3);
        let good = Envelope::sign("t", b"hello", &k);
        let keys = [k.verifying_key()];

        assert!(matches!(
            good.verify("other", &keys),
            Err(SignatureError::PayloadTypeMismatch { .. })
        ));
        let mut swapped = good.clone();
        swapped.payload_type = "u".into();
        assert!(matches!(
            swapped.verify("u", &keys),
            Err(SignatureError::BadSignature)
        ));
        let mut tampered = good.clone();
        tampered.payload = STANDARD.encode(b"hellO");
        assert_eq!(
            tampered.verify("t", &keys),
            Err(SignatureError::BadSignature)
        );
        assert_eq!(
            good.verify("t", &[key(4).verifying_key()]),
            Err(SignatureError::BadSignature)
        );
        let mut truncated = good.clone();
        let sig = decode_base64(&truncated.signatures[0].sig).unwrap();
        truncated.signatures[0].sig = STANDARD.encode(&sig[..63]);
        assert_eq!(
            truncated.verify("t", &keys),
            Err(SignatureError::SignatureLength(63))
        );
        let mut unsigned = good.clone();
        unsigned.signatures.clear();
        assert_eq!(
            unsigned.verify("t", &keys),
            Err(SignatureError::NoSignatures)
        );
        let mut bad_b64 = good.clone();
        bad_b64.payload = "!!!".into();
        assert_eq!(
            bad_b64.verify("t", &keys),
            Err(SignatureError::PayloadBase64)
        );
        let mut many = good.clone();
        many.signatures = vec![good.signatures[0].clone(); MAX_SIGNATURES + 1];
        assert_eq!(
            many.verify("t", &keys),
            Err(SignatureError::TooManySignatures(MAX_SIGNATURES + 1))
        );
    }

    #[test]
    fn keyid_is_only_a_hint() {
        let k = key(5);
        let other = key(6);
        let mut env = Envelope::sign("t", b"x", &k);
        // A keyid naming another key changes nothing: keys come from the caller.
        env.signatures[0].keyid = DidKey::new(other.verifying_key()).to_string();
        assert!(env.verify("t", &[k.verifying_key()]).is_ok());
        assert!(env.verify("t", &[other.verifying_key()]).is_err());
    }

    #[test]
    fn thresholds_count_distinct_keys() {
        let (a, b, c) = (key(7), key(8), key(9));
        let mut env = Envelope::sign("t", b"doc", &a);
        let keys = [a.verifying_key(), b.verifying_key(), c.verifying_key()];
        assert_eq!(
            env.verify_threshold("t", &keys, 2),
            Err(SignatureError::BelowThreshold {
                found: 1,
                needed: 2
            })
        );
        // The same signature twice is still one key.
        env.signatures.push(env.signatures[0].clone());
        assert!(env.verify_threshold("t", &keys, 2).is_err());
        env.add_signature(b"doc", &b);
        let (_, signers) = env.verify_threshold("t", &keys, 2).unwrap();
        assert_eq!(signers, vec![a.verifying_key(), b.verifying_key()]);
    }

    #[test]
    fn digest_ignores_encoding_but_not_content() {
        let k = key(10);
        let env = Envelope::sign("t", &[0xfb, 0xff], &k);
        let mut url = env.clone();
        url.payload = URL_SAFE_NO_PAD.encode([0xfb, 0xff]);
        assert_eq!(env.digest().unwrap(), url.digest().unwrap());
        let other = Envelope::sign("t", &[0xfb, 0xfe], &k);
        assert_ne!(env.digest().unwrap(), other.digest().unwrap());
        let hex = env.digest().unwrap().to_hex();
        assert_eq!(EnvelopeDigest::from_hex(&hex), Some(env.digest().unwrap()));
    }

    #[test]
    fn a_held_envelope_is_written_again_exactly_as_received_in_every_base64_form() {
        let k = key(5);
        for len in 0..70usize {
            let payload: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8 ^ 0xa5).collect();
            let signed = Envelope::sign("t", &payload, &k);
            for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
                let mut received = signed.clone();
                received.payload = engine.encode(&payload);
                let decoded = received.payload_bytes().unwrap();
                let held = HeldEnvelope::new(received.clone(), &decoded);
                assert!(
                    matches!(held.text, PayloadText::Base64 { .. }),
                    "{len} bytes, {:?} held as text",
                    received.payload
                );
                let view = held.view(&decoded);
                assert_eq!(view.to_envelope(), received);
                assert_eq!(
                    serde_json::to_string(&view).unwrap(),
                    serde_json::to_string(&received).unwrap()
                );
                let mut out = b"x".to_vec();
                view.write_payload_text(&mut out);
                assert_eq!(&out[1..], received.payload.as_bytes());
                view.verify_threshold("t", &[k.verifying_key()], 1).unwrap();
            }
        }
    }

    #[test]
    fn text_that_encoding_would_not_give_again_is_kept_as_received() {
        let k = key(6);
        let env = Envelope::sign("t", b"abc", &k);
        let decoded = env.payload_bytes().unwrap();
        let odd = HeldEnvelope::new(
            Envelope {
                payload: "YW Jj".into(),
                ..env.clone()
            },
            &decoded,
        );
        assert_eq!(odd.view(&decoded).payload_text(), "YW Jj");
        let mut cosigned = HeldEnvelope::new(env.clone(), &decoded);
        cosigned.add_signature(&decoded, &key(7));
        let view = cosigned.view(&decoded);
        assert_eq!(view.signatures.len(), 2);
        view.verify_threshold("t", &[k.verifying_key(), key(7).verifying_key()], 2)
            .unwrap();
    }
}
