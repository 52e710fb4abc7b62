//! Ed25519 key generation and the PEM (PKCS#8) text form of a secret key. Reading and
//! writing key files is the store crate's job; this is the pure part.

use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use ed25519_dalek::SigningKey;

/// Why a key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// What the text is instead, in words (the PKCS#8 decoder's own text is not for people).
    #[error(
        "not an Ed25519 private key in PKCS#8 PEM form (what `signpost keys generate` or \
         `openssl genpkey -algorithm ed25519` writes): {0}"
    )]
    NotPem(&'static str),
    #[error("the key could not be encoded: {0}")]
    Encode(String),
}

/// A new random signing key from the operating system's generator.
pub fn generate() -> SigningKey {
    SigningKey::generate(&mut rand_core::OsRng)
}

/// The key as PKCS#8 PEM text (what `openssl genpkey -algorithm ed25519` writes).
pub fn to_pem(key: &SigningKey) -> Result<String, KeyError> {
    key.to_pkcs8_pem(Default::default())
        .map(|pem| pem.to_string())
        .map_err(|e| KeyError::Encode(e.to_string()))
}

pub fn from_pem(text: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(text).map_err(|_| {
        KeyError::NotPem(if text.trim().is_empty() {
            "the file is empty"
        } else if !text.contains("-----BEGIN ") {
            "it has no \"-----BEGIN PRIVATE KEY-----\" line"
        } else if !text.contains("-----BEGIN PRIVATE KEY-----") {
            "it holds another kind of PEM (its first line should read \
             \"-----BEGIN PRIVATE KEY-----\")"
        } else {
            "its key is damaged, or of another algorithm than Ed25519"
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip() {
        let key = generate();
        let pem = to_pem(&key).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(from_pem(&pem).unwrap().to_bytes(), key.to_bytes());
        assert!(matches!(from_pem("hello"), Err(KeyError::NotPem(_))));
    }
}
