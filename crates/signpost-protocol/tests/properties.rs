//! Property tests: arbitrary input never panics, and signing then verifying round-trips.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use signpost_protocol::model::PayloadKind;
use signpost_protocol::query::{GroupQuery, RawGroupQuery};
use signpost_protocol::{
    Attestation, DidKey, Envelope, Listing, NodeDocument, RevocationList, Snapshot, Verified,
};

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sign_then_verify_round_trips(payload in proptest::collection::vec(any::<u8>(), 0..4096), ty in "[ -~]{0,80}") {
        let k = key();
        let env = Envelope::sign(&ty, &payload, &k);
        let (bytes, signer) = env.verify(&ty, &[k.verifying_key()]).unwrap();
        prop_assert_eq!(bytes, payload.clone());
        prop_assert_eq!(signer, k.verifying_key());
        // Any other key, or any other type, is refused.
        prop_assert!(env.verify(&ty, &[SigningKey::from_bytes(&[7; 32]).verifying_key()]).is_err());
        let other_type = format!("{}x", ty);
        prop_assert!(env.verify(&other_type, &[k.verifying_key()]).is_err());
        // The JSON form round-trips.
        let json = serde_json::to_vec(&env).unwrap();
        let back: Envelope = serde_json::from_slice(&json).unwrap();
        prop_assert!(back.verify(&ty, &[k.verifying_key()]).is_ok());
    }

    #[test]
    fn arbitrary_bytes_never_panic_as_envelopes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(env) = serde_json::from_slice::<Envelope>(&bytes) {
            let keys = [key().verifying_key()];
            let _ = Verified::<Listing>::verify(env.clone(), &keys);
            let _ = Verified::<Snapshot>::verify(env.clone(), &keys);
            let _ = Verified::<NodeDocument>::verify(env.clone(), &keys);
            let _ = Verified::<Attestation>::verify_self_issued(env.clone());
            let _ = env.digest();
        }
    }

    /// Starts from a valid signed listing (so the verifier's whole path runs) and mutates
    /// its serialised envelope: one byte flipped, inserted or removed anywhere. The original
    /// verifies; no mutation panics; a mutation that still parses and verifies must leave
    /// the signed payload exactly as it was (only JSON whitespace or base64 alphabet can
    /// change without breaking the signature).
    #[test]
    fn mutated_valid_envelopes_are_refused_or_unchanged(
        seed in any::<u64>(),
        position in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        how in 0u8..3,
    ) {
        let k = key();
        let now = chrono::Utc::now();
        let listing = Listing {
            node: DidKey::new(k.verifying_key()),
            id: uuid::Uuid::from_u64_pair(seed, 2),
            version: 1,
            issued_at: now,
            expires_at: now + chrono::Duration::days(7),
            group: signpost_protocol::sample::group(seed, (seed % 16) as usize, now),
        };
        let signed = Verified::sign(listing, &k).unwrap();
        let keys = [k.verifying_key()];
        let mut bytes = serde_json::to_vec(&signed.envelope()).unwrap();
        let original: Envelope = serde_json::from_slice(&bytes).unwrap();
        prop_assert!(Verified::<Listing>::verify(original, &keys).is_ok(), "the unmutated envelope verifies");
        let i = position.index(bytes.len());
        match how {
            0 => bytes[i] ^= byte.max(1),
            1 => bytes.insert(i, byte),
            _ => { bytes.remove(i); }
        }
        if let Ok(env) = serde_json::from_slice::<Envelope>(&bytes) {
            if let Ok(back) = Verified::<Listing>::verify(env, &keys) {
                prop_assert_eq!(back.digest(), signed.digest(), "a verifying mutation changed what was signed");
                prop_assert_eq!(back.payload(), signed.payload());
            }
        }
    }

    #[test]
    fn arbitrary_envelope_fields_never_panic(payload in "\\PC{0,300}", ty in "\\PC{0,60}", sig in "\\PC{0,120}", keyid in "\\PC{0,80}") {
        let env = Envelope { payload, payload_type: ty, signatures: vec![signpost_protocol::dsse::EnvelopeSignature { keyid, sig }] };
        let keys = [key().verifying_key()];
        let _ = Verified::<Listing>::verify(env.clone(), &keys);
        let _ = Verified::<RevocationList>::verify(env, &keys);
    }

    #[test]
    fn arbitrary_signed_payloads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        // A valid signature over garbage: parsing and validation must refuse without panicking.
        let k = key();
        for kind in PayloadKind::ALL {
            let env = Envelope::sign(kind.media_type(), &bytes, &k);
            let keys = [k.verifying_key()];
            let _ = Verified::<Listing>::verify(env.clone(), &keys);
            let _ = Verified::<Snapshot>::verify(env.clone(), &keys);
            let _ = Verified::<NodeDocument>::verify(env.clone(), &keys);
            let _ = Verified::<Attestation>::verify(env.clone(), &keys);
            let _ = Verified::<RevocationList>::verify(env, &keys);
        }
    }

    #[test]
    fn arbitrary_json_values_never_panic_as_listings(json in arb_json()) {
        let k = key();
        let env = Envelope::sign(PayloadKind::Listing.media_type(), json.to_string().as_bytes(), &k);
        let _ = Verified::<Listing>::verify(env, &[k.verifying_key()]);
    }

    #[test]
    fn sample_listings_sign_and_verify(seed in any::<u64>(), home in 0usize..16) {
        let k = key();
        let now = chrono::Utc::now();
        let listing = Listing {
            node: DidKey::new(k.verifying_key()),
            id: uuid::Uuid::from_u64_pair(seed, 1),
            version: 1,
            issued_at: now,
            expires_at: now + chrono::Duration::days(7),
            group: signpost_protocol::sample::group(seed, home, now),
        };
        let signed = Verified::sign(listing.clone(), &k).unwrap();
        let back = Verified::<Listing>::verify(signed.envelope().to_envelope(), &[k.verifying_key()]).unwrap();
        prop_assert_eq!(back.payload(), &listing);
        prop_assert_eq!(back.digest(), signed.digest());
    }

    #[test]
    fn did_key_parsing_never_panics(s in "\\PC{0,100}") {
        let _ = s.parse::<DidKey>();
        let _ = format!("did:key:z{s}").parse::<DidKey>();
    }

    #[test]
    fn query_parsing_never_panics(
        text in proptest::option::of("\\PC{0,250}"),
        near in proptest::option::of("\\PC{0,40}"),
        radius in proptest::option::of("\\PC{0,20}"),
        category in proptest::option::of("[a-z,-]{0,40}"),
        page in proptest::option::of("\\PC{0,12}"),
        per_page in proptest::option::of("\\PC{0,12}"),
        day in proptest::option::of("\\PC{0,12}"),
        time in proptest::option::of("\\PC{0,8}"),
        age in proptest::option::of("\\PC{0,5}"),
        language in proptest::option::of("\\PC{0,30}"),
    ) {
        let raw = RawGroupQuery { text, near, radius_km: radius, category, page, per_page, day, time, age, language, ..RawGroupQuery::default() };
        if let Ok(q) = GroupQuery::parse(&raw) {
            prop_assert!(q.page >= 1 && q.per_page >= 1 && q.per_page <= 100);
            if let Some((p, r)) = q.near {
                prop_assert!((-90.0..=90.0).contains(&p.lat) && (-180.0..=180.0).contains(&p.lon) && r > 0.0);
            }
        }
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        "\\PC{0,20}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
            proptest::collection::hash_map(
                prop_oneof![
                    Just("node".to_string()),
                    Just("id".to_string()),
                    Just("group".to_string()),
                    Just("version".to_string()),
                    "[a-z_]{1,12}"
                ],
                inner,
                0..8
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
