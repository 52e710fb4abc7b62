//! `did:key` identifiers for Ed25519 public keys (W3C did:key method, multicodec `0xed01`,
//! multibase base58btc): `did:key:z6Mk...`.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const PREFIX: &str = "did:key:";

/// The longest string that is even looked at as a did:key. An Ed25519 did:key is 56
/// characters; anything much longer is refused before decoding.
pub const MAX_DID_LEN: usize = 96;
/// The multicodec code for an Ed25519 public key, as an unsigned varint.
const ED25519_PUB: [u8; 2] = [0xed, 0x01];

/// Why a string is not a usable Ed25519 `did:key`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DidError {
    #[error("not a did:key (it must start with \"did:key:\")")]
    NotDidKey,
    #[error("did:key must use multibase base58btc (a 'z' after \"did:key:\")")]
    NotBase58btc,
    /// `at` counts characters from the start of the whole id, from 1.
    #[error("did:key has {found} at character {at}, which base58btc does not use (it leaves out 0, O, I and l, and anything not a letter or digit)")]
    Base58 { found: String, at: usize },
    /// Never expected: the decoder's other failures are of fixed-size buffers.
    #[error("did:key could not be decoded as base58btc")]
    Undecodable,
    #[error("did:key is not an Ed25519 public key (multicodec 0xed01 expected)")]
    NotEd25519,
    #[error("did:key holds {0} key bytes; an Ed25519 public key has 32")]
    WrongLength(usize),
    #[error("did:key holds bytes that are not an Ed25519 point")]
    InvalidPoint,
    #[error("{0} characters is too long for an Ed25519 did:key (56 characters)")]
    TooLong(usize),
}

/// An Ed25519 public key named as a `did:key`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DidKey(VerifyingKey);

impl DidKey {
    pub fn new(key: VerifyingKey) -> Self {
        Self(key)
    }

    pub fn key(&self) -> &VerifyingKey {
        &self.0
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }
}

impl From<VerifyingKey> for DidKey {
    fn from(key: VerifyingKey) -> Self {
        Self(key)
    }
}

impl fmt::Display for DidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = Vec::with_capacity(34);
        bytes.extend_from_slice(&ED25519_PUB);
        bytes.extend_from_slice(self.0.as_bytes());
        write!(f, "{PREFIX}z{}", bs58::encode(bytes).into_string())
    }
}

impl fmt::Debug for DidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DidKey({self})")
    }
}

impl FromStr for DidKey {
    type Err = DidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Bounded before decoding: base58 decoding is quadratic in the input's length, and
        // ids arrive in request paths, push bodies and unverified documents.
        if s.len() > MAX_DID_LEN {
            return Err(DidError::TooLong(s.len()));
        }
        // Every listing names its node, so a crawl or a restart parses the same id thousands
        // of times in a row, and decompressing its point is the costly part (13% of a
        // restart's samples in perf). The last id each thread parsed is remembered.
        thread_local! {
            static LAST: std::cell::RefCell<(String, Option<DidKey>)> =
                const { std::cell::RefCell::new((String::new(), None)) };
        }
        if let Some(hit) = LAST.with(|last| {
            let last = last.borrow();
            (last.0 == s).then_some(last.1).flatten()
        }) {
            return Ok(hit);
        }
        let parsed = Self::parse(s)?;
        LAST.with(|last| {
            let mut last = last.borrow_mut();
            last.0.clear();
            last.0.push_str(s);
            last.1 = Some(parsed);
        });
        Ok(parsed)
    }
}

impl DidKey {
    fn parse(s: &str) -> Result<Self, DidError> {
        let rest = s.strip_prefix(PREFIX).ok_or(DidError::NotDidKey)?;
        let encoded = rest.strip_prefix('z').ok_or(DidError::NotBase58btc)?;
        let bytes = bs58::decode(encoded).into_vec().map_err(|e| {
            // Where in the whole id, from 1, in characters (an index into `encoded` is in
            // bytes, after "did:key:z").
            let place = |index: usize| {
                let before = encoded.get(..index).unwrap_or(encoded);
                PREFIX.len() + 1 + before.chars().count() + 1
            };
            match e {
                bs58::decode::Error::InvalidCharacter { character, index } => DidError::Base58 {
                    found: format!("{character:?}"),
                    at: place(index),
                },
                bs58::decode::Error::NonAsciiCharacter { index } => DidError::Base58 {
                    found: "a character outside ASCII".into(),
                    at: place(index),
                },
                _ => DidError::Undecodable,
            }
        })?;
        let key = bytes
            .strip_prefix(&ED25519_PUB)
            .ok_or(DidError::NotEd25519)?;
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| DidError::WrongLength(key.len()))?;
        VerifyingKey::from_bytes(&key)
            .map(Self)
            .map_err(|_| DidError::InvalidPoint)
    }
}

impl Serialize for DidKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DidKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for DidKey {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^did:key:z[1-9A-HJ-NP-Za-km-z]+$"))
            .description(Some(
                "An Ed25519 public key as a did:key (multicodec 0xed01, base58btc)",
            ))
            .examples([serde_json::json!(
                "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
            )])
            .into()
    }
}

impl utoipa::ToSchema for DidKey {}

#[cfg(test)]
mod tests {
    use super::*;

    // The did:key spec's Ed25519 example.
    const SPEC_EXAMPLE: &str = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";

    #[test]
    fn the_remembered_id_never_answers_for_another() {
        let other = DidKey::from(crate::keys::generate().verifying_key()).to_string();
        for _ in 0..3 {
            for text in [SPEC_EXAMPLE, SPEC_EXAMPLE, other.as_str()] {
                assert_eq!(text.parse::<DidKey>().unwrap().to_string(), text);
            }
            // A string one character off is parsed afresh (and refused), not remembered.
            let mut off = other.clone();
            off.pop();
            off.push('!');
            assert!(off.parse::<DidKey>().is_err());
            assert_eq!(other.parse::<DidKey>().unwrap().to_string(), other);
        }
    }

    #[test]
    fn spec_example_round_trips() {
        let did: DidKey = SPEC_EXAMPLE.parse().unwrap();
        assert_eq!(did.to_string(), SPEC_EXAMPLE);
    }

    #[test]
    fn every_encoded_key_starts_z6mk() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
        let did = DidKey::new(key).to_string();
        assert!(did.starts_with("did:key:z6Mk"), "{did}");
        assert_eq!(did.parse::<DidKey>().unwrap().key(), &key);
    }

    #[test]
    fn long_strings_are_refused_before_decoding() {
        // 48 KB of base58 took about a second to decode before the bound.
        let huge = format!("did:key:z{}", "6".repeat(48 * 1024));
        let started = std::time::Instant::now();
        assert_eq!(huge.parse::<DidKey>(), Err(DidError::TooLong(huge.len())));
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
        assert!(SPEC_EXAMPLE.len() <= MAX_DID_LEN);
    }

    #[test]
    fn clear_errors() {
        assert_eq!(
            "did:web:example.org".parse::<DidKey>(),
            Err(DidError::NotDidKey)
        );
        assert_eq!("did:key:f00".parse::<DidKey>(), Err(DidError::NotBase58btc));
        let bad = "did:key:z6Mk0OIl".parse::<DidKey>().unwrap_err();
        assert_eq!(
            bad.to_string(),
            "did:key has '0' at character 13, which base58btc does not use (it leaves out 0, \
             O, I and l, and anything not a letter or digit)"
        );
        assert_eq!("did:key:z6Mk0OIl".chars().nth(12), Some('0'));
        let bad = "did:key:z6Mké1".parse::<DidKey>().unwrap_err();
        assert!(
            bad.to_string()
                .starts_with("did:key has a character outside ASCII at character 13,"),
            "{bad}"
        );
        // A secp256k1 did:key (multicodec 0xe7).
        assert_eq!(
            "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme".parse::<DidKey>(),
            Err(DidError::NotEd25519)
        );
        let short = format!(
            "did:key:z{}",
            bs58::encode([0xed, 0x01, 1, 2, 3]).into_string()
        );
        assert_eq!(short.parse::<DidKey>(), Err(DidError::WrongLength(3)));
    }
}
