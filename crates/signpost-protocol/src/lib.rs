//! Signpost's wire formats and the rules for trusting them.
//!
//! This crate does no I/O: no HTTP, no storage, no clock reads except where a caller
//! passes `now`. It holds:
//!
//! - [`dsse`]: DSSE v1 envelopes, the pre-authentication encoding (PAE), signing and
//!   verification with `verify_strict` against keys the caller supplies;
//! - [`chain`]: node document rotation chains walked from a pinned id;
//! - [`did`]: `did:key` identifiers for Ed25519 public keys;
//! - [`model`]: the typed payloads (node document, listing, snapshot, attestation,
//!   revocation list) and their validation;
//! - [`verified`]: [`Verified<T>`], the only way a payload leaves an envelope;
//! - [`languages`]: languages by name in English and their own script, with their tags;
//! - [`taxonomy`]: the published taxonomy (categories, safeguarding capabilities,
//!   staff checks, achievements) with stable ids and labels;
//! - [`text`]: text folding (case and accents) for search;
//! - [`wire`]: everything else that crosses the network (bundle, feed, pages, provenance,
//!   crawl health and refusal codes, admin bodies, problem documents), defined once.

pub mod chain;
pub mod did;
pub mod dsse;
pub mod keys;
pub mod languages;
pub mod model;
pub mod policy;
pub mod query;
pub mod sample;
pub mod taxonomy;
pub mod text;
pub mod verified;
pub mod wire;

pub use did::{DidError, DidKey};
pub use dsse::{
    signature_checks, Decoded, Envelope, EnvelopeDigest, EnvelopeRef, SignatureError,
    StoredEnvelope,
};
pub use model::{
    Attestation, Listing, NodeDocument, Payload, PayloadKind, RevocationList, Snapshot,
    ValidationError,
};
pub use verified::{Verified, VerifyError};

/// Re-exported so callers use the same Ed25519 types as this crate.
pub use ed25519_dalek::{SigningKey, VerifyingKey};
