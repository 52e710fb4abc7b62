//! Conformance: RFC 8032 section 7.1 vectors, the Wycheproof Ed25519 vectors, and the
//! refusals every Signpost verifier must make.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::Value;
use signpost_protocol::dsse::{verify_raw, Envelope};
use signpost_protocol::model::PayloadKind;
use signpost_protocol::{Attestation, DidKey, SignatureError, Verified, VerifyError};

struct Rfc8032 {
    secret: &'static str,
    public: &'static str,
    message: &'static str,
    signature: &'static str,
}

/// RFC 8032 section 7.1: TEST 1, TEST 2, TEST 3 and TEST SHA(abc).
const RFC8032: &[Rfc8032] = &[
    Rfc8032 {
        secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        message: "",
        signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    },
    Rfc8032 {
        secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        public: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        message: "72",
        signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    },
    Rfc8032 {
        secret: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        public: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        message: "af82",
        signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    },
    Rfc8032 {
        secret: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        public: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        message: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        signature: "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
    },
];

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn rfc8032_section_7_1() {
    for v in RFC8032 {
        let key = SigningKey::from_bytes(&unhex(v.secret).try_into().unwrap());
        assert_eq!(key.verifying_key().as_bytes().to_vec(), unhex(v.public));
        let sig = key.sign(&unhex(v.message));
        assert_eq!(
            sig.to_bytes().to_vec(),
            unhex(v.signature),
            "signature for {}",
            v.public
        );
        verify_raw(&unhex(v.public), &unhex(v.message), &unhex(v.signature)).unwrap();
        let mut bad = unhex(v.signature);
        bad[0] ^= 1;
        assert!(verify_raw(&unhex(v.public), &unhex(v.message), &bad).is_err());
    }
}

#[test]
fn wycheproof_ed25519() {
    let text = include_str!("data/wycheproof_ed25519_test.json");
    let doc: Value = serde_json::from_str(text).unwrap();
    let mut counted = (0, 0);
    for group in doc["testGroups"].as_array().unwrap() {
        let pk = unhex(group["publicKey"]["pk"].as_str().unwrap());
        for test in group["tests"].as_array().unwrap() {
            let id = test["tcId"].as_u64().unwrap();
            let msg = unhex(test["msg"].as_str().unwrap());
            // Some invalid vectors carry signatures that are not even hex of the right size.
            let sig = hex::decode(test["sig"].as_str().unwrap()).unwrap_or_default();
            let ok = verify_raw(&pk, &msg, &sig).is_ok();
            match test["result"].as_str().unwrap() {
                "valid" => {
                    assert!(ok, "tcId {id} must verify ({})", test["comment"]);
                    counted.0 += 1;
                }
                "invalid" => {
                    assert!(!ok, "tcId {id} must be refused ({})", test["comment"]);
                    counted.1 += 1;
                }
                other => panic!("tcId {id}: unexpected result {other}"),
            }
        }
    }
    assert_eq!(counted, (88, 63), "every vector was checked");
}

fn attestation_json(issuer: &SigningKey, subject: &SigningKey) -> String {
    format!(
        r#"{{"issuer":"{}","subject":"{}","achievement":"trauma-informed-practice","level":"foundation","valid_from":"2026-01-01T00:00:00Z","valid_until":"2027-01-01T00:00:00Z","serial":"TIP-0001"}}"#,
        DidKey::new(issuer.verifying_key()),
        DidKey::new(subject.verifying_key())
    )
}

#[test]
fn payload_refusals_each_have_their_own_error() {
    let issuer = SigningKey::from_bytes(&[1; 32]);
    let subject = SigningKey::from_bytes(&[2; 32]);
    let keys = [issuer.verifying_key()];
    let ty = PayloadKind::Attestation.media_type();
    let good = attestation_json(&issuer, &subject);

    let env = Envelope::sign(ty, good.as_bytes(), &issuer);
    let verified = Verified::<Attestation>::verify(env, &keys).unwrap();
    assert_eq!(verified.serial, "TIP-0001");

    // Duplicate keys in the signed payload.
    let dup = good.replacen(
        "\"serial\":\"TIP-0001\"",
        "\"serial\":\"TIP-0001\",\"serial\":\"TIP-0002\"",
        1,
    );
    let env = Envelope::sign(ty, dup.as_bytes(), &issuer);
    let err = Verified::<Attestation>::verify(env, &keys).unwrap_err();
    assert!(
        matches!(&err, VerifyError::Malformed { message, .. } if message.contains("duplicate")),
        "{err}"
    );

    // Unknown fields.
    let unknown = good.replacen('{', "{\"extra\":1,", 1);
    let env = Envelope::sign(ty, unknown.as_bytes(), &issuer);
    let err = Verified::<Attestation>::verify(env, &keys).unwrap_err();
    assert!(
        matches!(&err, VerifyError::Malformed { message, .. }
            if message.starts_with("\"extra\" is not a field of it (its fields are issuer, subject, ")),
        "{err}"
    );
    assert!(
        !err.to_string().contains('`'),
        "in words, not serde's: {err}"
    );

    // Valid JSON, invalid content.
    let backwards = good.replace("2027-01-01", "2025-01-01");
    let env = Envelope::sign(ty, backwards.as_bytes(), &issuer);
    assert!(matches!(
        Verified::<Attestation>::verify(env, &keys),
        Err(VerifyError::Invalid(_))
    ));

    // Swapped payload type: signed as a listing, presented as an attestation.
    let env = Envelope::sign(PayloadKind::Listing.media_type(), good.as_bytes(), &issuer);
    assert!(matches!(
        Verified::<Attestation>::verify(env, &keys),
        Err(VerifyError::Signature(
            SignatureError::PayloadTypeMismatch { .. }
        ))
    ));

    // Wrong key.
    let env = Envelope::sign(ty, good.as_bytes(), &subject);
    assert!(matches!(
        Verified::<Attestation>::verify(env, &keys),
        Err(VerifyError::Signature(SignatureError::BadSignature))
    ));
}
