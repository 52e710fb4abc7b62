//! A listing any node may sign (its group, and its organisation's name on the first line),
//! installed in an aggregator and read through every surface that shows it: the API, the
//! pages, FHIR R4, Open Referral UK. Fails on a panic or on any 5xx answer.
#![no_main]
use std::cell::RefCell;
use std::sync::Arc;

use actix_web::{test, web, App};
use chrono::{Duration, Utc};
use libfuzzer_sys::fuzz_target;
use signpost_aggregator::config::AggregatorConfig;
use signpost_aggregator::crawl::Aggregator;
use signpost_aggregator::verify::NodeData;
use signpost_protocol::model::{Group, Listing, NodeDocument};
use signpost_protocol::{sample, DidKey, SigningKey, Verified};
use signpost_store::Store;

thread_local! {
    static STATE: RefCell<Option<(actix_rt::SystemRunner, Arc<Aggregator>)>> = const { RefCell::new(None) };
}

fn data(org: &str, group: Group) -> Option<NodeData> {
    let now = Utc::now();
    let root = SigningKey::from_bytes(&[7; 32]);
    let id = DidKey::new(root.verifying_key());
    let doc = NodeDocument::first(
        id,
        id,
        org,
        "https://signpost.example.org",
        now,
        now + Duration::days(365),
    );
    let listing = uuid::Uuid::from_u128(42);
    let listing = Verified::sign(sample::listing(id, listing, group, now), &root).ok()?;
    let snapshot = sample::first_snapshot(id, std::slice::from_ref(&listing), vec![], now);
    Some(NodeData {
        id,
        chain: vec![Verified::sign(doc, &root).ok()?],
        snapshot: Verified::sign(snapshot, &root).ok()?,
        listings: [(listing.id, listing)].into_iter().collect(),
        attestations: vec![],
        verified_at: now,
    })
}

fuzz_target!(|input: &[u8]| {
    let (org, json) = match input.iter().position(|&b| b == b'\n') {
        Some(i) => (
            String::from_utf8_lossy(&input[..i]).into_owned(),
            &input[i + 1..],
        ),
        None => ("Leeds Conversation Club".to_owned(), input),
    };
    let group = match signpost_protocol::wire::json_from_slice::<Group>(json) {
        Ok(g) => g,
        Err(e) => {
            if std::env::var_os("FUZZ_DEBUG").is_some() {
                eprintln!("parse: {e}");
            }
            return;
        }
    };
    let Some(data) = data(&org, group) else {
        if std::env::var_os("FUZZ_DEBUG").is_some() {
            eprintln!("not valid");
        }
        return;
    };
    let node = data.id.to_string();
    let listing: &Listing = data.listings.values().next().unwrap().payload();
    let words: Vec<String> = listing
        .group
        .name
        .split_whitespace()
        .take(2)
        .map(|w| w.bytes().map(|b| format!("%{b:02X}")).collect::<String>())
        .collect();
    let loc = listing.group.location.as_ref().map(|l| (l.lat, l.lon));
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let (sys, agg) = s.get_or_insert_with(|| {
            let dir = format!("/dev/shm/spfuzz-{}", std::process::id());
            let _ = std::fs::remove_dir_all(&dir);
            let store = Store::open(std::path::Path::new(&dir)).expect("store");
            let agg = Aggregator::open(AggregatorConfig::default(), store).expect("aggregator");
            (actix_rt::System::new(), Arc::new(agg))
        });
        agg.install(data).expect("installs");
        let mut uris = vec![
            "/v1/groups".to_owned(),
            format!("/v1/groups/{node}/{}", uuid::Uuid::from_u128(42)),
            "/v1/nodes".to_owned(),
            "/find".to_owned(),
            format!("/find/group/{node}/{}", uuid::Uuid::from_u128(42)),
            format!("/find/card/{node}/{}", uuid::Uuid::from_u128(42)),
            "/audit".to_owned(),
            "/audit.csv".to_owned(),
            "/fhir/R4/HealthcareService".to_owned(),
            "/fhir/R4/Location".to_owned(),
            "/fhir/R4/Organization".to_owned(),
            "/fhir/R4/Provenance".to_owned(),
            "/oruk/services".to_owned(),
            "/oruk/service_at_locations".to_owned(),
        ];
        if !words.is_empty() {
            let text = words.join("+");
            uris.push(format!("/v1/groups?text={text}"));
            uris.push(format!("/find?text={text}"));
            uris.push(format!("/fhir/R4/HealthcareService?name={text}"));
            uris.push(format!("/oruk/services?text={text}"));
        }
        if let Some((lat, lon)) = loc {
            uris.push(format!("/v1/groups?near={lat},{lon}&radius_km=1"));
            uris.push(format!("/find?near={lat},{lon}&radius_km=1"));
        }
        let agg = Arc::clone(agg);
        sys.block_on(async move {
            let state = web::Data::new(agg);
            let limiter = web::Data::new(signpost_http::ratelimit::RateLimiter::new(
                1_000_000, 1_000_000,
            ));
            let app = test::init_service(
                App::new()
                    .app_data(state)
                    .app_data(limiter)
                    .configure(signpost_aggregator::pages::configure)
                    .configure(signpost_aggregator::oruk::configure)
                    .configure(signpost_aggregator::fhir::configure)
                    .configure(signpost_aggregator::api::configure),
            )
            .await;
            for uri in &uris {
                let resp =
                    test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
                let status = resp.status();
                let body = test::read_body(resp).await;
                if std::env::var_os("FUZZ_DEBUG").is_some() {
                    eprintln!("{uri}: {status} {} bytes", body.len());
                }
                assert!(
                    !status.is_server_error(),
                    "{uri}: {status}: {}",
                    String::from_utf8_lossy(&body)
                );
                // Follow every id each FHIR / ORUK page lists.
                if uri.starts_with("/fhir/R4/HealthcareService")
                    || uri.starts_with("/oruk/services")
                {
                    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
                    let ids: Vec<String> = v["entry"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e["resource"]["id"].as_str().map(str::to_owned))
                        .chain(
                            v["contents"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|e| e["id"].as_str().map(str::to_owned)),
                        )
                        .collect();
                    for id in ids {
                        let u = if uri.starts_with("/fhir") {
                            format!("/fhir/R4/HealthcareService/{id}")
                        } else {
                            format!("/oruk/services/{id}")
                        };
                        let resp =
                            test::call_service(&app, test::TestRequest::get().uri(&u).to_request())
                                .await;
                        let status = resp.status();
                        let body = test::read_body(resp).await;
                        assert!(
                            status.is_success(),
                            "{u}: {status}: {}",
                            String::from_utf8_lossy(&body)
                        );
                    }
                }
            }
        });
    });
});
