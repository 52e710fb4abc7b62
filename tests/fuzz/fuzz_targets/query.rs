//! Any query string, on every endpoint anyone may call, against an aggregator holding a few
//! hundred realistic listings. Fails on a panic or on any 5xx answer.
#![no_main]
use std::cell::RefCell;
use std::sync::Arc;

use actix_web::{test, web, App};
use chrono::{Duration, Utc};
use libfuzzer_sys::fuzz_target;
use signpost_aggregator::config::AggregatorConfig;
use signpost_aggregator::crawl::Aggregator;
use signpost_aggregator::verify::NodeData;
use signpost_protocol::model::{Listing, NodeDocument};
use signpost_protocol::{sample, DidKey, SigningKey, Verified};
use signpost_store::Store;

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
    static STATE: RefCell<Option<(actix_rt::SystemRunner, Arc<Aggregator>)>> = const { RefCell::new(None) };
}

fn node(seed: u8, now: chrono::DateTime<Utc>) -> NodeData {
    let root = SigningKey::from_bytes(&[seed; 32]);
    let id = DidKey::new(root.verifying_key());
    let doc = NodeDocument::first(
        id,
        id,
        sample::organisation_name(u64::from(seed)),
        "https://signpost.example.org",
        now,
        now + Duration::days(365),
    );
    let listings: Vec<Verified<Listing>> = (0..60u64)
        .map(|n| {
            let group = sample::group(u64::from(seed) * 1000 + n, usize::from(seed) % 4, now);
            let id_ = uuid::Uuid::from_u128(u128::from(seed) << 64 | u128::from(n));
            Verified::sign(sample::listing(id, id_, group, now), &root).expect("signs")
        })
        .collect();
    let snapshot = sample::first_snapshot(id, &listings, vec![], now);
    NodeData {
        id,
        chain: vec![Verified::sign(doc, &root).expect("signs")],
        snapshot: Verified::sign(snapshot, &root).expect("signs"),
        listings: listings.into_iter().map(|l| (l.id, l)).collect(),
        attestations: vec![],
        verified_at: now,
    }
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

fuzz_target!(|input: &[u8]| {
    let Some((&which, rest)) = input.split_first() else {
        return;
    };
    let uri = format!(
        "{}?{}",
        ENDPOINTS[usize::from(which) % ENDPOINTS.len()],
        query(rest)
    );
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let (sys, agg) = s.get_or_insert_with(|| {
            let dir = format!("/dev/shm/spfuzzq-{}", std::process::id());
            let _ = std::fs::remove_dir_all(&dir);
            let store = Store::open(std::path::Path::new(&dir)).expect("store");
            let agg = Aggregator::open(AggregatorConfig::default(), store).expect("aggregator");
            let now = Utc::now();
            for seed in 1..=5 {
                agg.install(node(seed, now)).expect("installs");
            }
            (actix_rt::System::new(), Arc::new(agg))
        });
        let agg = Arc::clone(agg);
        sys.block_on(async move {
            let app = test::init_service(
                App::new()
                    .app_data(web::Data::new(agg))
                    .app_data(web::Data::new(signpost_http::ratelimit::RateLimiter::new(
                        1_000_000, 1_000_000,
                    )))
                    .configure(signpost_aggregator::pages::configure)
                    .configure(signpost_aggregator::oruk::configure)
                    .configure(signpost_aggregator::fhir::configure)
                    .configure(signpost_aggregator::api::configure),
            )
            .await;
            let Ok(req) =
                std::panic::catch_unwind(|| test::TestRequest::get().uri(&uri).to_request())
            else {
                return;
            };
            let resp = test::call_service(&app, req).await;
            let status = resp.status();
            let body = test::read_body(resp).await;
            if std::env::var_os("FUZZ_DEBUG").is_some() {
                eprintln!(
                    "{uri}: {status} {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                );
            }
            assert!(
                !status.is_server_error(),
                "{uri}: {status}: {}",
                String::from_utf8_lossy(&body)
            );
        });
    });
});
