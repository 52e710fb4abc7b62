//! Hostile input beyond the refusal reasons, rate limiting, and bounded memory.

use signpost_protocol::wire::RefusalCode;
use std::io::Write as _;

use signpost_aggregator::config::AggregatorConfig;
use signpost_tests::{
    assert_problem, sample_group, Forge, MockNode, Reply, TestAggregator, TestNode,
};
use uuid::Uuid;

async fn crawled(
    configure: impl FnOnce(&mut AggregatorConfig),
) -> (Forge, MockNode, TestAggregator) {
    let mut forge = Forge::new("Hostile Org");
    forge.put(forge.listing(Uuid::new_v4(), 1, sample_group(1)));
    let mock = MockNode::start().await;
    let snap = forge.snapshot();
    mock.publish(&forge, &snap);
    let agg = TestAggregator::manual(&[forge.entry(&mock.url)], configure).await;
    agg.crawl().await;
    assert_eq!(agg.names("").await.len(), 1);
    (forge, mock, agg)
}

async fn refusal(agg: &TestAggregator, forge: &Forge) -> RefusalCode {
    agg.crawl().await;
    let health = agg.node_health(&forge.id).await;
    assert_eq!(
        agg.names("").await.len(),
        1,
        "last verified data still served"
    );
    health.last_refusal.expect("a refusal is recorded").code
}

#[tokio::test]
async fn resets_mid_body_gzip_bombs_and_just_over_the_cap_are_refused() {
    // (Memory under the same hostile answers is measured on a process of its own in
    // crates/signpost-cli/tests/memory.rs.)
    let cap = 256 * 1024;
    let (forge, mock, agg) = crawled(|c| c.crawl.max_body_bytes = cap).await;

    mock.set(
        "/v1/snapshot",
        Reply::ResetMidBody(b"{\"payload\":\"AAAA".to_vec()),
    );
    // Said as what it is, not as a decoding error.
    assert_eq!(refusal(&agg, &forge).await, RefusalCode::ConnectionReset);

    // 64 MiB of zeros, gzipped to about 64 KiB. The aggregator does not ask for compression
    // and never inflates it.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..64 {
        gz.write_all(&zeros).unwrap();
    }
    mock.set("/v1/snapshot", Reply::Gzip(gz.finish().unwrap()));
    assert_eq!(refusal(&agg, &forge).await, RefusalCode::MalformedJson);

    let over = format!("{{\"payload\":\"{}\"}}", "A".repeat(cap - 13));
    assert_eq!(over.len(), cap + 1, "one byte over the cap");
    mock.set("/v1/snapshot", Reply::Json(over.into_bytes()));
    assert_eq!(refusal(&agg, &forge).await, RefusalCode::BodyTooLarge);

    mock.set("/v1/snapshot", Reply::Endless);
    let code = refusal(&agg, &forge).await;
    assert!(
        code == RefusalCode::BodyTooLarge || code == RefusalCode::Timeout,
        "{code}"
    );
}

#[tokio::test]
async fn public_endpoints_are_rate_limited_with_a_429_problem() {
    let (_forge, _mock, agg) = crawled(|c| {
        c.api.rate_limit_per_sec = 1;
        c.api.rate_limit_burst = 5;
    })
    .await;
    // Setting up used one request of the burst.
    for _ in 0..4 {
        assert_eq!(agg.get("/v1/groups").await.status(), 200);
    }
    let resp = agg.get("/v1/groups").await;
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_problem(resp, 429, "rate_limited").await;
    assert!(retry.is_some_and(|r| r.parse::<u64>().unwrap() >= 1));

    let node = TestNode::start_with(|c| {
        c.limits.rate_limit_per_sec = 1;
        c.limits.rate_limit_burst = 2;
    })
    .await;
    assert_eq!(node.get("/v1/snapshot").send().await.unwrap().status(), 200);
    assert_eq!(node.get("/v1/snapshot").send().await.unwrap().status(), 200);
    assert_problem(
        node.get("/v1/snapshot").send().await.unwrap(),
        429,
        "rate_limited",
    )
    .await;
    // Admin calls carry a token and are not rate limited.
    let resp = node
        .admin(reqwest::Method::GET, "/admin/listings")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn configuration_values_that_would_overflow_time_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = signpost_aggregator::AggregatorConfig {
        store_dir: dir.path().join("store").display().to_string(),
        ..Default::default()
    };
    config.freshness.capacity_max_age_days = u32::MAX;
    let err = signpost_aggregator::start(config, "127.0.0.1:0", Default::default())
        .await
        .err()
        .expect("refused");
    let message = err.to_string();
    assert!(
        message.contains("freshness.capacity_max_age_days") && message.contains("from 1 to 3650"),
        "{message}"
    );

    let node = tempfile::tempdir().unwrap();
    signpost_node::init(node.path(), "Overflow Org", "http://127.0.0.1").unwrap();
    signpost_tests::edit_config(node.path(), |c| {
        c.publishing.lifetime_secs = 1_000_000_000_000_000
    });
    let err = signpost_node::start(node.path(), "127.0.0.1:0", Default::default())
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("publishing.lifetime_secs"),
        "{err}"
    );
}

#[tokio::test]
async fn public_load_behind_a_proxy_does_not_starve_the_aggregators_crawl() {
    let node = signpost_tests::TestNode::start_with(|c| {
        c.limits.rate_limit_per_sec = 2;
        c.limits.rate_limit_burst = 2;
        // The node sits behind a reverse proxy on this machine.
        c.limits.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    node.create(&signpost_tests::sample_group(1)).await;
    // Someone on the internet floods the node through the proxy.
    let mut limited = 0;
    for _ in 0..20 {
        let resp = node
            .get("/v1/snapshot")
            .header("x-forwarded-for", "203.0.113.7")
            .send()
            .await
            .unwrap();
        if resp.status() == 429 {
            limited += 1;
        }
    }
    assert!(limited >= 15, "the flood is limited: {limited}");
    // The aggregator's crawl has a bucket of its own.
    let agg = TestAggregator::manual(&[node.entry()], |_| {}).await;
    agg.crawl().await;
    let health = agg.node_health(&node.id).await;
    assert_eq!(
        health.status,
        signpost_protocol::wire::CrawlStatus::Healthy,
        "{health:?}"
    );
    assert_eq!(agg.names("").await.len(), 1);
}

/// A method a path does not have is a 405 naming the ones it has (`Allow`), on the node's
/// API and the issuer's files as on the directory's, not a 404 saying there is nothing
/// there; HEAD is answered as GET.
#[tokio::test]
async fn a_wrong_method_is_named_with_the_ones_allowed_on_every_server() {
    let node = TestNode::start().await;
    let http = signpost_tests::client();
    for (method, path, allow) in [
        (reqwest::Method::PUT, "/admin/listings", "GET, HEAD, POST"),
        (
            reqwest::Method::GET,
            "/admin/listings/00000000-0000-4000-8000-000000000000",
            "PUT, DELETE",
        ),
        (reqwest::Method::DELETE, "/v1/snapshot", "GET, HEAD"),
        (reqwest::Method::POST, "/v1/bundle", "GET, HEAD"),
    ] {
        let resp = node.admin(method.clone(), path).send().await.unwrap();
        assert_eq!(resp.headers()["allow"], allow, "{method} {path}");
        let problem = assert_problem(resp, 405, "method_not_allowed").await;
        assert!(
            problem["detail"].as_str().unwrap().contains(allow),
            "{problem}"
        );
    }
    // The directory's pages as its API.
    let agg = TestAggregator::manual(&[node.entry()], |_| {}).await;
    for path in ["/find", "/audit", "/"] {
        let resp = http
            .post(format!("{}{path}", agg.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405, "{path}");
        assert_eq!(resp.headers()["allow"], "GET, HEAD", "{path}");
    }
    let head = http
        .head(format!("{}/v1/snapshot", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.headers().contains_key("etag"));

    let dir = tempfile::tempdir().unwrap();
    signpost_issuer::Issuer::init(dir.path(), "Yorkshire Trauma-Informed Training").unwrap();
    let issuer = signpost_issuer::serve(dir.path(), "127.0.0.1:0")
        .await
        .unwrap();
    let revocations = format!("{}/revocations", issuer.url());
    assert_eq!(http.head(&revocations).send().await.unwrap().status(), 200);
    let resp = http.post(&revocations).send().await.unwrap();
    assert_eq!(resp.headers()["allow"], "GET, HEAD");
    assert_problem(resp, 405, "method_not_allowed").await;
    issuer.stop().await;
}
