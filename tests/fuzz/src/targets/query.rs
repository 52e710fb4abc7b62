//! Any query string on every endpoint anyone may call, against a real aggregator holding
//! 300 realistic listings from five nodes. Fails on a panic or on any 5xx answer.
use std::cell::OnceCell;

use crate::{node, Harness};
use chrono::Utc;
use signpost_protocol::sample;

/// The first byte of an input picks one.
const ENDPOINTS: &[&str] = &[
    "/v1/groups",
    "/find",
    "/fhir/R4/HealthcareService",
    "/fhir/R4/Location",
    "/fhir/R4/Organization",
    "/fhir/R4/Provenance",
    "/fhir/R4/VerificationResult",
    "/oruk/services",
    "/oruk/service_at_locations",
    "/oruk/taxonomy_terms",
    "/oruk/taxonomies",
    "/v1/feed",
    "/v1/nodes",
    "/audit",
    "/audit.csv",
    "/v1/taxonomy",
];

thread_local! {
    static HARNESS: OnceCell<Harness> = const { OnceCell::new() };
}

fn seeded() -> Harness {
    let harness = Harness::new();
    let now = Utc::now();
    for seed in 1..=5u8 {
        let groups = (0..60)
            .map(|n| sample::group(u64::from(seed) * 1000 + n, usize::from(seed) % 4, now))
            .collect();
        let org = sample::organisation_name(u64::from(seed));
        let data = node(seed, &org, groups, now).expect("sample listings are valid");
        harness.aggregator.install(data).expect("installs");
    }
    harness
}

/// The bytes as a query string: kept where a URI allows them, else percent-encoded.
fn query(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One input of this target: the fuzzer's, or a seed's.
pub fn run(input: &[u8]) {
    let Some((&which, rest)) = input.split_first() else {
        return;
    };
    let endpoint = ENDPOINTS[usize::from(which) % ENDPOINTS.len()];
    let uri = format!("{endpoint}?{}", query(rest));
    // A string no URI parser takes is not a request anyone can send.
    if uri.parse::<actix_web::http::Uri>().is_err() {
        return;
    }
    HARNESS.with(|h| h.get_or_init(seeded).get_all(vec![uri], |_, _, _| vec![]));
}
