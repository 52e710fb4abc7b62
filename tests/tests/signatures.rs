//! Each signature taken is checked once, as an operator sees it in `/metrics`.
//!
//! A binary of its own: the count is the whole process's, so no other test may verify
//! anything beside this one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use signpost_aggregator::config::{AggregatorConfig, Mirror};
use signpost_protocol::wire::CapacityPatch;
use signpost_tests::aggregator::TestAggregator;
use signpost_tests::{sample_group, TestNode};

/// The signatures this process has checked, as the aggregator's `/metrics` reports them.
async fn checked(agg: &TestAggregator) -> u64 {
    let metrics = agg.get("/metrics").await.text().await.unwrap();
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("signpost_signatures_checked_total "))
        .unwrap_or_else(|| panic!("no signature count in {metrics}"))
        .parse()
        .unwrap()
}

/// The signatures checked while `step` runs (the node is idle meanwhile).
async fn during(agg: &TestAggregator, step: impl std::future::Future<Output = ()>) -> u64 {
    let before = checked(agg).await;
    step.await;
    checked(agg).await - before
}

#[tokio::test]
async fn every_envelope_taken_is_checked_once_and_nothing_unchanged_again() {
    let node = TestNode::start().await;
    let ids = [
        node.create(&sample_group(1)).await,
        node.create(&sample_group(2)).await,
        node.create(&sample_group(3)).await,
    ];
    let mut agg = TestAggregator::manual(&[node.entry()], |_| {}).await;

    // Three listings, the snapshot that names them, and the node document (signed by
    // the pinned id, which is also its root key: one signature, checked once).
    assert_eq!(during(&agg, agg.crawl()).await, 3 + 1 + 1);
    assert_eq!(agg.json("/v1/groups").await["total_items"], 3);

    // Nothing changed: the node answers "not modified" and nothing is checked.
    assert_eq!(during(&agg, agg.crawl()).await, 0);

    // One listing changed: it and the new snapshot are checked, the two held listings
    // the snapshot names unchanged are not.
    node.set_capacity(
        ids[0],
        CapacityPatch {
            accepting_referrals: Some(true),
            places_available: Some(Some(3)),
            ..CapacityPatch::default()
        },
    )
    .await;
    assert_eq!(during(&agg, agg.crawl()).await, 1 + 1);

    // A mirror takes the whole publication from the primary's feed and checks it itself.
    let primary = agg.url.clone();
    let mirror = TestAggregator::manual(&[node.entry()], |c: &mut AggregatorConfig| {
        c.mirror = Some(Mirror { primary })
    })
    .await;
    let follow = async { while mirror.state().follow_feed_once().await.unwrap() > 0 {} };
    assert_eq!(during(&mirror, follow).await, 3 + 1 + 1);
    assert_eq!(mirror.json("/v1/groups").await["total_items"], 3);

    // A restart reads the listings from its own store without checking them again; the
    // node document and the snapshot are checked as they are loaded.
    drop(mirror);
    let before = checked(&agg).await;
    agg.restart().await;
    assert_eq!(checked(&agg).await - before, 1 + 1);
    assert_eq!(agg.json("/v1/groups").await["total_items"], 3);
}
