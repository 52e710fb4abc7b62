//! Process-level operations: SIGKILL of the aggregator during crawls, privacy of logs and
//! stores, and the admin token kept out of logs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read as _;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{init_node, serve_aggregator, serve_node};

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn total(url: &str) -> u64 {
    let v: serde_json::Value = http()
        .get(format!("{url}/v1/groups"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["total_items"].as_u64().unwrap()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn aggregator_sigkill_during_crawls_then_restart_serves_at_once_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let node_dir = dir.path().join("node");
    let (id, token) = init_node(&node_dir, "Kill Test");
    let (mut node, node_url) = serve_node(&node_dir, "warn");
    let now = chrono::Utc::now();
    for seed in 0..20u64 {
        let g = signpost_protocol::sample::group(seed, seed as usize, now);
        assert_eq!(
            http()
                .post(format!("{node_url}/admin/listings"))
                .bearer_auth(&token)
                .json(&g)
                .send()
                .unwrap()
                .status(),
            201
        );
    }
    let config = dir.path().join("aggregator.toml");
    std::fs::write(&config, format!("store_dir = \"store\"\n[crawl]\ninterval_secs = 1\n[[nodes]]\nurl = \"{node_url}\"\nid = \"{id}\"\n")).unwrap();
    let (mut agg, agg_url) = serve_aggregator(&config, "warn");
    wait_for("first crawl", || total(&agg_url) == 20);

    // Keep the node changing while the aggregator crawls, and kill the aggregator mid-way.
    for seed in 20..30u64 {
        let g = signpost_protocol::sample::group(seed, seed as usize, now);
        http()
            .post(format!("{node_url}/admin/listings"))
            .bearer_auth(&token)
            .json(&g)
            .send()
            .unwrap();
        std::thread::sleep(Duration::from_millis(60));
    }
    agg.kill().unwrap(); // SIGKILL
    agg.wait().unwrap();

    let (mut agg, agg_url) = serve_aggregator(&config, "warn");
    // Served at once from the store: verified data, never a corrupt or partial node.
    let first = total(&agg_url);
    assert!(
        (20..=30).contains(&first),
        "served {first} listings straight after restart"
    );
    let page: serde_json::Value = http()
        .get(format!("{agg_url}/v1/groups?per_page=100"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let env: signpost_protocol::Envelope =
        serde_json::from_value(page["contents"][0]["envelope"].clone()).unwrap();
    let doc =
        common::block_on(common::node_client(&node_url).verified_document(&id.parse().unwrap()))
            .unwrap();
    signpost_protocol::Verified::<signpost_protocol::Listing>::verify(
        env,
        &doc.signing_verifying_keys(),
    )
    .unwrap();
    // The crawl resumes.
    wait_for("crawl to resume", || total(&agg_url) == 30);
    agg.kill().unwrap();
    agg.wait().unwrap();
    node.kill().unwrap();
    node.wait().unwrap();
}

fn served_seq(url: &str) -> Option<u64> {
    let v: serde_json::Value = http()
        .get(format!("{url}/v1/nodes"))
        .send()
        .ok()?
        .json()
        .ok()?;
    v[0]["seq"].as_u64()
}

#[test]
fn aggregator_killed_just_after_serving_new_data_restarts_with_that_data() {
    let dir = tempfile::tempdir().unwrap();
    let node_dir = dir.path().join("node");
    let (id, token) = init_node(&node_dir, "Durability Test");
    let config = dir.path().join("aggregator.toml");
    let now = chrono::Utc::now();
    for round in 0..3u64 {
        let (mut node, node_url) = serve_node(&node_dir, "warn");
        std::fs::write(&config, format!("store_dir = \"store\"\n[crawl]\ninterval_secs = 1\n[[nodes]]\nurl = \"{node_url}\"\nid = \"{id}\"\n")).unwrap();
        let (mut agg, agg_url) = serve_aggregator(&config, "warn");
        let g = signpost_protocol::sample::group(round, round as usize, now);
        assert_eq!(
            http()
                .post(format!("{node_url}/admin/listings"))
                .bearer_auth(&token)
                .json(&g)
                .send()
                .unwrap()
                .status(),
            201
        );
        // seq 1 is the empty first snapshot; each listing adds one.
        let expected = round + 2;
        let deadline = Instant::now() + Duration::from_secs(20);
        while served_seq(&agg_url) != Some(expected) {
            assert!(
                Instant::now() < deadline,
                "seq {expected} never served: {}",
                http()
                    .get(format!("{agg_url}/v1/nodes"))
                    .send()
                    .and_then(|r| r.text())
                    .unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        // Killed the moment it serves the new snapshot, with the node gone: whatever it
        // served, and the rollback protection it relies on, must survive.
        agg.kill().unwrap();
        agg.wait().unwrap();
        node.kill().unwrap();
        node.wait().unwrap();
        let (mut agg, agg_url) = serve_aggregator(&config, "warn");
        assert_eq!(
            served_seq(&agg_url),
            Some(expected),
            "round {round}: the restarted aggregator serves what it served before the crash"
        );
        assert_eq!(total(&agg_url), round + 1);
        agg.kill().unwrap();
        agg.wait().unwrap();
    }
}

#[test]
fn logs_and_stores_hold_no_precise_coordinates_client_addresses_or_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let node_dir = dir.path().join("node");
    let (id, token) = init_node(&node_dir, "Privacy Test");
    let (mut node, node_url) = serve_node(&node_dir, "debug");
    let g = signpost_protocol::sample::group(1, 1, chrono::Utc::now());
    assert_eq!(
        http()
            .post(format!("{node_url}/admin/listings"))
            .bearer_auth(&token)
            .json(&g)
            .send()
            .unwrap()
            .status(),
        201
    );
    assert_eq!(
        http()
            .post(format!("{node_url}/admin/listings"))
            .bearer_auth("wrong-token-value")
            .json(&g)
            .send()
            .unwrap()
            .status(),
        401
    );

    let config = dir.path().join("aggregator.toml");
    std::fs::write(&config, format!("store_dir = \"store\"\n[api]\nrate_limit_per_sec = 100\n[[nodes]]\nurl = \"{node_url}\"\nid = \"{id}\"\n")).unwrap();
    let (mut agg, agg_url) = serve_aggregator(&config, "debug");
    wait_for("crawl", || total(&agg_url) == 1);
    // A patient's precise location, as GP software would send it.
    for _ in 0..3 {
        let r = http()
            .get(format!(
                "{agg_url}/v1/groups?near=53.812345,-1.512345&radius_km=3"
            ))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // The node's log follows the same rule: a query string sent to it is not written, nor
    // is it when refused (its snapshot takes no parameters).
    let r = http()
        .get(format!(
            "{node_url}/v1/snapshot?postcode=LS8%205AB&near=53.812345,-1.512345"
        ))
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    std::thread::sleep(Duration::from_millis(700)); // let sled flush
    agg.kill().unwrap();
    node.kill().unwrap();
    let mut agg_log = String::new();
    agg.stderr
        .take()
        .unwrap()
        .read_to_string(&mut agg_log)
        .unwrap();
    let mut node_log = String::new();
    node.stderr
        .take()
        .unwrap()
        .read_to_string(&mut node_log)
        .unwrap();
    agg.wait().unwrap();
    node.wait().unwrap();

    assert!(
        agg_log.contains("GET /v1/groups"),
        "requests are logged (paths only): {agg_log}"
    );
    for needle in ["53.812345", "-1.512345", "53.8123", "near="] {
        assert!(!agg_log.contains(needle), "aggregator log holds {needle}");
    }
    assert!(
        !agg_log
            .lines()
            .any(|l| l.contains("GET /v1/groups") && l.contains("127.0.0.1")),
        "client addresses are not logged"
    );
    // Nothing the aggregator stores holds the query.
    let mut stored = Vec::new();
    for entry in walk(&dir.path().join("store")) {
        stored.extend(std::fs::read(entry).unwrap_or_default());
    }
    let stored = String::from_utf8_lossy(&stored);
    assert!(
        !stored.contains("53.812345") && !stored.contains("53.8123"),
        "the store holds query coordinates"
    );
    assert!(node_log.contains("GET /v1/snapshot"), "{node_log}");
    for needle in ["53.812345", "LS8", "postcode=", "near="] {
        assert!(!node_log.contains(needle), "node log holds {needle}");
    }
    // The admin token, right or wrong, never reaches the node's logs.
    assert!(
        node_log.contains("/admin/listings"),
        "admin requests are logged: {node_log}"
    );
    assert!(
        !node_log.contains(&token) && !node_log.contains("wrong-token-value"),
        "a token reached the logs"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
