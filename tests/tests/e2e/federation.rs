//! The federation end to end: the demo crawled and queried, push, mirrors.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use signpost_aggregator::config::{AggregatorConfig, Mirror};
use signpost_demo::{Demo, DemoOptions};
use signpost_protocol::{chain, Envelope, Listing, NodeDocument, Verified};
use signpost_tests::{client, sample_group, Forge, MockNode, TestAggregator};

async fn demo() -> (tempfile::TempDir, Demo) {
    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start(DemoOptions {
        data_dir: dir.path().join("demo"),
        listen: "127.0.0.1:0".into(),
        crawl_interval_secs: 300,
    })
    .await
    .unwrap();
    (dir, demo)
}

async fn get(url: &str) -> Value {
    let resp = client().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    resp.json().await.unwrap()
}

/// Checks one result with keys fetched from the node itself, walked from the pinned id.
async fn verify_from_node(demo: &Demo, result: &Value) {
    let org = demo
        .orgs
        .iter()
        .find(|o| o.id.to_string() == result["node"])
        .unwrap();
    let current: Envelope =
        serde_json::from_value(get(&format!("{}/.well-known/signpost/node", org.url())).await)
            .unwrap();
    let version = serde_json::from_slice::<NodeDocument>(&current.payload_bytes().unwrap())
        .unwrap()
        .version;
    let mut docs = Vec::new();
    for v in 1..=version {
        docs.push(
            serde_json::from_value::<Envelope>(get(&format!("{}/v1/node/{v}", org.url())).await)
                .unwrap(),
        );
    }
    let doc = chain::verify_chain(&org.id, docs).unwrap().pop().unwrap();
    let env: Envelope = serde_json::from_value(result["envelope"].clone()).unwrap();
    let listing = Verified::<Listing>::verify(env, &doc.signing_verifying_keys()).unwrap();
    assert_eq!(
        serde_json::to_value(listing.payload()).unwrap(),
        result["listing"]
    );
}

#[tokio::test]
async fn the_demo_federation_is_crawled_queried_and_independently_verifiable() {
    let (_dir, demo) = demo().await;
    assert!(demo.orgs.len() >= 5);
    let base = demo.aggregator.url();
    let nodes = get(&format!("{base}/v1/nodes")).await;
    assert!(
        nodes
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["status"] == "healthy"),
        "{nodes}"
    );
    let all = get(&format!("{base}/v1/groups?per_page=100")).await;
    assert!(all["total_items"].as_u64().unwrap() >= 30);
    for result in all["contents"].as_array().unwrap() {
        verify_from_node(&demo, result).await;
    }
    // Every example query the banner prints returns something.
    let banner = demo.banner();
    let queries: Vec<&str> = banner
        .lines()
        .filter_map(|l| l.trim().strip_prefix("curl -s '"))
        .map(|l| l.trim_end_matches('\''))
        .collect();
    assert!(queries.len() >= 5);
    for url in queries {
        let body = get(url).await;
        let n = body
            .get("total_items")
            .and_then(Value::as_u64)
            .unwrap_or_else(|| body.as_array().map(|a| a.len() as u64).unwrap_or(0));
        assert!(n > 0, "{url} returned nothing");
    }
    // The revoked attestation shows in the regulator's audit.
    let audit = get(&format!(
        "{base}/v1/issuers/{}/attestations",
        demo.issuer_id
    ))
    .await;
    assert!(audit
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["status"] == "revoked"));
    assert!(audit
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["status"] == "verified"));
    demo.stop().await;
}

#[tokio::test]
async fn a_capacity_change_is_pushed_and_queryable_within_two_seconds() {
    let (_dir, demo) = demo().await;
    let org = &demo.orgs[0];
    let base = demo.aggregator.url();
    let http = client();
    let listings: Vec<Value> = http
        .get(format!("{}/admin/listings", org.url()))
        .bearer_auth(org.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = listings[0]["id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let resp = http
        .patch(format!("{}/admin/listings/{id}/capacity", org.url()))
        .bearer_auth(org.admin_token())
        .json(&json!({"places_available": 42, "accepting_referrals": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let prov_url = format!("{base}/v1/groups/{}/{id}", org.id);
    loop {
        let prov = get(&prov_url).await;
        if prov["group"]["listing"]["group"]["capacity"]["places_available"] == 42 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not seen within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("capacity change visible after {:?}", started.elapsed());
    demo.stop().await;
}

#[tokio::test]
async fn a_mirror_agrees_with_its_primary() {
    let (_dir, demo) = demo().await;
    let nodes: Vec<(String, signpost_protocol::DidKey)> =
        demo.orgs.iter().map(|o| (o.url(), o.id)).collect();
    let primary = demo.aggregator.url();
    let mirror = TestAggregator::manual(&nodes, |c: &mut AggregatorConfig| {
        c.mirror = Some(Mirror {
            primary: primary.clone(),
        })
    })
    .await;
    while mirror.state().follow_feed_once().await.unwrap() > 0 {}
    let a = get(&format!("{primary}/v1/groups?per_page=100")).await;
    let b = mirror.json("/v1/groups?per_page=100").await;
    let key = |v: &Value| {
        let mut out: Vec<(String, String)> = v["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["id"].as_str().unwrap().to_owned(),
                    g["envelope"]["payload"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        out.sort();
        out
    };
    assert_eq!(key(&a), key(&b));
    assert!(mirror.node_health(&demo.orgs[0].id).await["status"] == "healthy");
    demo.stop().await;
}

#[tokio::test]
async fn a_mirror_never_trusts_its_primary() {
    // A "primary" that serves a feed with a listing whose bytes were altered.
    let mut forge = Forge::new("Mirrored Org");
    let id = uuid::Uuid::new_v4();
    forge.put(forge.listing(id, 1, sample_group(3)));
    let snap = forge.snapshot();
    let mut listing_env = forge.listings[0].1.clone();
    let mut payload: Value = serde_json::from_slice(&listing_env.payload_bytes().unwrap()).unwrap();
    payload["group"]["capacity"]["places_available"] = json!(500);
    listing_env.payload = b64(&serde_json::to_vec(&payload).unwrap());
    let fake_primary = MockNode::start().await;
    fake_primary.json(
        "/v1/feed",
        &json!({"next": 1, "items": [{"position": 1, "node": forge.id, "node_documents": forge.docs, "snapshot": snap, "listings": [listing_env], "attestations": []}]}),
    );
    let mirror = TestAggregator::manual(
        &[forge.entry("http://127.0.0.1:9")],
        |c: &mut AggregatorConfig| {
            c.mirror = Some(Mirror {
                primary: fake_primary.url.clone(),
            })
        },
    )
    .await;
    mirror.state().follow_feed_once().await.unwrap();
    let health = mirror.node_health(&forge.id).await;
    assert_eq!(health["status"], "failing");
    assert!(
        ["bad_signature", "manifest_mismatch"]
            .contains(&health["last_refusal"]["code"].as_str().unwrap()),
        "{health}"
    );
    assert_eq!(mirror.json("/v1/groups").await["total_items"], 0);
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
