//! The federation end to end: the demo crawled and queried, push, mirrors.

use signpost_protocol::dsse::Envelope;
use signpost_protocol::query::GroupQuery;
use signpost_protocol::wire::{CapacityPatch, CrawlStatus, RefusalCode};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use signpost_aggregator::config::{AggregatorConfig, Mirror};
use signpost_demo::{Demo, DemoOptions};
use signpost_tests::{b64, sample_group, Forge, MockNode, TestAggregator};

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

use signpost_tests::get_json as get;

#[tokio::test]
async fn the_demo_federation_is_crawled_queried_and_independently_verifiable() {
    let (_dir, demo) = demo().await;
    assert!(demo.orgs.len() >= 5);
    let base = demo.aggregator.url();
    let directory = signpost_tests::directory(&base);
    let nodes = directory.nodes().await.unwrap();
    assert!(
        nodes.iter().all(|n| n.status == CrawlStatus::Healthy),
        "{nodes:?}"
    );
    let all = directory
        .groups(&GroupQuery {
            per_page: 100,
            page: 1,
            ..GroupQuery::default()
        })
        .await
        .unwrap();
    assert!(all.pagination.total_items >= 30);
    assert_eq!(
        all.contents.len(),
        all.pagination.total_items,
        "every result on the page"
    );
    for result in &all.contents {
        // Keys from the organisation's own node, walked from the id the demo pinned.
        let org = demo
            .orgs
            .iter()
            .find(|o| o.id.to_string() == result.node)
            .unwrap();
        signpost_tests::verify_result(&org.url(), &org.id, result).await;
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
    let admin = signpost_tests::node_client(&org.url()).admin(&org.admin_token());
    let id = admin.list().await.unwrap()[0].id;
    let started = Instant::now();
    admin
        .capacity(
            id,
            &CapacityPatch {
                places_available: Some(Some(42)),
                accepting_referrals: Some(true),
                ..CapacityPatch::default()
            },
        )
        .await
        .unwrap();
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
    assert!(
        a["total_items"].as_u64().unwrap() >= 30,
        "the primary has groups to agree on"
    );
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
    assert!(mirror.node_health(&demo.orgs[0].id).await.status == CrawlStatus::Healthy);
    demo.stop().await;
}

/// A "primary" serving `feed` as its only page, and a mirror of `forge`'s node following it.
async fn mirror_of_feed(forge: &Forge, feed: Value) -> (MockNode, TestAggregator) {
    let primary = MockNode::start().await;
    primary.json("/v1/feed", &feed);
    let mirror = TestAggregator::manual(
        &[forge.entry("http://127.0.0.1:9")],
        |c: &mut AggregatorConfig| {
            c.mirror = Some(Mirror {
                primary: primary.url.clone(),
            })
        },
    )
    .await;
    (primary, mirror)
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
    let (_primary, mirror) = mirror_of_feed(
        &forge,
        json!({"next": 1, "items": [{"position": 1, "node": forge.id, "node_documents": forge.docs, "snapshot": snap, "listings": [listing_env], "attestations": []}]}),
    )
    .await;
    mirror.state().follow_feed_once().await.unwrap();
    let health = mirror.node_health(&forge.id).await;
    assert_eq!(health.status, CrawlStatus::Failing);
    assert!(
        health.last_refusal.as_ref().is_some_and(|r| [
            RefusalCode::BadSignature,
            RefusalCode::ManifestMismatch
        ]
        .contains(&r.code)),
        "{health:?}"
    );
    assert_eq!(mirror.json("/v1/groups").await["total_items"], 0);
}

#[tokio::test]
async fn a_mirror_names_the_first_bad_listing_in_the_manifest_although_it_verifies_them_on_every_core(
) {
    // A node's listings are verified on every core of a mirror; with two altered, its
    // refusal still names the first the manifest lists, every time.
    let mut forge = Forge::new("Many Listings Org");
    for n in 0..64 {
        forge.put(forge.listing(uuid::Uuid::new_v4(), 1, sample_group(n)));
    }
    let snap = forge.snapshot();
    let mut listings: Vec<Envelope> = forge.listings.iter().map(|(_, e)| e.clone()).collect();
    for n in [7, 50] {
        let mut payload: Value =
            serde_json::from_slice(&listings[n].payload_bytes().unwrap()).unwrap();
        payload["group"]["capacity"]["places_available"] = json!(500);
        listings[n].payload = b64(&serde_json::to_vec(&payload).unwrap());
    }
    let first_bad = forge.listings[7].0;
    let feed = json!({"next": 1, "items": [{"position": 1, "node": forge.id, "node_documents": forge.docs, "snapshot": snap, "listings": listings, "attestations": []}]});
    for _ in 0..3 {
        let (_primary, mirror) = mirror_of_feed(&forge, feed.clone()).await;
        mirror.state().follow_feed_once().await.unwrap();
        let health = mirror.node_health(&forge.id).await;
        let refusal = health.last_refusal.expect("refused");
        assert_eq!(refusal.code, RefusalCode::BadSignature, "{refusal:?}");
        assert!(
            refusal.detail.contains(&format!("listing {first_bad}")),
            "{refusal:?}"
        );
        assert_eq!(mirror.json("/v1/groups").await["total_items"], 0);
    }
}

#[tokio::test]
async fn a_mirror_retries_an_item_refused_for_clock_skew_instead_of_skipping_it() {
    let mut forge = Forge::new("Fast Clock Org");
    forge.put(forge.listing(uuid::Uuid::new_v4(), 1, sample_group(1)));
    // The node's clock runs two seconds fast.
    let mut snap = forge.next_snapshot();
    snap.issued_at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let env = forge.sign_snapshot(&snap);
    let node = MockNode::start().await;
    node.publish(&forge, &env);
    let primary = TestAggregator::manual(&[forge.entry(&node.url)], |_| {}).await;
    primary.crawl().await;
    assert_eq!(
        primary.names("").await.len(),
        1,
        "within the primary's skew"
    );
    let mirror = TestAggregator::manual(&[forge.entry(&node.url)], |c: &mut AggregatorConfig| {
        c.freshness.max_clock_skew_secs = 0;
        c.mirror = Some(Mirror {
            primary: primary.url.clone(),
        })
    })
    .await;
    mirror.state().follow_feed_once().await.unwrap();
    assert!(
        mirror.names("").await.is_empty(),
        "refused: from the future here"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Nothing new on the feed; the refused item is asked for again.
    mirror.state().follow_feed_once().await.unwrap();
    assert_eq!(mirror.names("").await.len(), 1);
}

#[tokio::test]
async fn a_mirror_serves_the_newer_of_two_states_of_a_node_in_one_feed_page() {
    // A primary's feed names a node once a page; a mirror does not rely on it. Two states
    // of one node in one page, in either order: the newer is served, the older never
    // replaces it, and the mirror's own feed moves past both.
    let mut forge = Forge::new("Twice Listed Org");
    let id = uuid::Uuid::new_v4();
    let mut older_group = sample_group(4);
    older_group.name = "Older Name".into();
    forge.put(forge.listing(id, 1, older_group));
    let older = (forge.snapshot(), forge.listings.clone());
    let mut newer_group = sample_group(4);
    newer_group.name = "Newer Name".into();
    forge.put(forge.listing(id, 2, newer_group));
    let newer = (forge.snapshot(), forge.listings.clone());
    let item = |position: u64, (snapshot, listings): &(Envelope, Vec<(uuid::Uuid, Envelope)>)| {
        json!({"position": position, "node": forge.id, "node_documents": forge.docs,
            "snapshot": snapshot, "listings": listings.iter().map(|(_, e)| e).collect::<Vec<_>>(),
            "attestations": []})
    };
    for (first, second) in [(&older, &newer), (&newer, &older)] {
        let (_primary, mirror) = mirror_of_feed(
            &forge,
            json!({"next": 2, "items": [item(1, first), item(2, second)]}),
        )
        .await;
        assert_eq!(mirror.state().follow_feed_once().await.unwrap(), 2);
        assert_eq!(mirror.names("").await, ["Newer Name"]);
        let feed = mirror.json("/v1/feed?since=0").await;
        let items = feed["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{feed}");
        assert_eq!(feed["next"], items[0]["position"], "{feed}");
    }
}
