//! One test per refusal reason (design brief, section 5): a node the test controls serves
//! altered, old, forked, oversized, slow or endless data; the aggregator refuses it with its
//! own reason, keeps serving the last verified data, and shows why in /v1/nodes.

use signpost_protocol::wire::{CrawlStatus, NodeHealth, RefusalCode};
use std::time::Duration;

use serde_json::json;
use signpost_aggregator::config::AggregatorConfig;
use signpost_protocol::model::PayloadKind;
use signpost_protocol::{DidKey, Envelope, Listing, NodeDocument, Verified};
use signpost_tests::mock::{in_secs, sign_raw};
use signpost_tests::{sample_group, Forge, MockNode, Reply, TestAggregator};
use uuid::Uuid;

struct Hostile {
    forge: Forge,
    mock: MockNode,
    agg: TestAggregator,
    first: Uuid,
}

/// A node with two listings, crawled once successfully.
async fn hostile_with(configure: impl FnOnce(&mut AggregatorConfig)) -> Hostile {
    let mut forge = Forge::new("Hostile Org");
    let first = Uuid::new_v4();
    forge.put(forge.listing(first, 1, sample_group(1)));
    forge.put(forge.listing(Uuid::new_v4(), 1, sample_group(2)));
    let mock = MockNode::start().await;
    let snap = forge.snapshot();
    mock.publish(&forge, &snap);
    let agg = TestAggregator::manual(&[forge.entry(&mock.url)], configure).await;
    agg.crawl().await;
    assert_eq!(
        agg.node_health(&forge.id).await.status,
        CrawlStatus::Healthy
    );
    assert_eq!(agg.names("").await.len(), 2);
    Hostile {
        forge,
        mock,
        agg,
        first,
    }
}

async fn hostile() -> Hostile {
    hostile_with(|_| {}).await
}

impl Hostile {
    /// Crawls and checks the refusal code; the two verified listings stay served.
    async fn refused(&self, code: RefusalCode) -> NodeHealth {
        self.agg.crawl().await;
        let health = self.agg.node_health(&self.forge.id).await;
        assert_eq!(
            health.last_refusal.as_ref().map(|r| r.code),
            Some(code),
            "{health:?}"
        );
        assert_eq!(health.status, CrawlStatus::Failing);
        assert_eq!(
            self.agg.names("").await.len(),
            2,
            "the last verified data is still served"
        );
        health
    }

    /// Crawls and checks the refusal is one of `codes`; the verified listings stay served.
    async fn refused_any(&self, codes: &[RefusalCode]) -> NodeHealth {
        self.agg.crawl().await;
        let health = self.agg.node_health(&self.forge.id).await;
        let code = health.last_refusal.as_ref().map(|r| r.code);
        assert!(code.is_some_and(|c| codes.contains(&c)), "{health:?}");
        assert_eq!(self.agg.names("").await.len(), 2);
        health
    }

    /// Serves the forge as it is now, under a new snapshot.
    fn publish(&mut self) {
        let snap = self.forge.snapshot();
        self.mock.publish(&self.forge, &snap);
    }

    /// The node document as first published.
    fn first_document(&self) -> NodeDocument {
        serde_json::from_slice(&self.forge.docs[0].payload_bytes().unwrap()).unwrap()
    }

    fn snapshot_reply(&self, env: &Envelope) {
        self.mock.json("/v1/snapshot", env);
        self.mock.json("/v1/bundle", &self.forge.bundle(env));
    }
}

#[tokio::test]
async fn tampered_snapshot_bad_signature() {
    let mut h = hostile().await;
    let mut env = h.forge.snapshot();
    let other = h.forge.next_snapshot();
    env.payload = signpost_tests::b64(&serde_json::to_vec(&other).unwrap());
    h.snapshot_reply(&env);
    h.refused(RefusalCode::BadSignature).await;
}

#[tokio::test]
async fn tampered_listing_bad_signature() {
    let mut h = hostile().await;
    let mut listing = h.forge.listing(h.first, 2, sample_group(1));
    let env = h.forge.put(listing.clone());
    listing.group.capacity.places_available = Some(99);
    let tampered = Envelope {
        payload: signpost_tests::b64(&serde_json::to_vec(&listing).unwrap()),
        ..env.clone()
    };
    h.publish();
    h.mock.json(&format!("/v1/listings/{}", h.first), &tampered);
    // The manifest names the genuine digest; the tampered bytes are refused.
    let health = h
        .refused_any(&[RefusalCode::BadSignature, RefusalCode::ManifestMismatch])
        .await;
    assert!(health
        .last_refusal
        .as_ref()
        .unwrap()
        .detail
        .contains("listing"));
}

#[tokio::test]
async fn payload_type_mismatch() {
    let mut h = hostile().await;
    let snap = h.forge.next_snapshot();
    let env = sign_raw(&snap, PayloadKind::Listing.media_type(), &h.forge.signing);
    h.snapshot_reply(&env);
    h.refused(RefusalCode::PayloadTypeMismatch).await;
}

#[tokio::test]
async fn signature_by_a_key_the_node_document_does_not_name() {
    let mut h = hostile().await;
    let snap = h.forge.next_snapshot();
    let stranger = signpost_protocol::keys::generate();
    let env = sign_raw(&snap, PayloadKind::Snapshot.media_type(), &stranger);
    h.snapshot_reply(&env);
    h.refused(RefusalCode::UnknownSigningKey).await;
}

#[tokio::test]
async fn rollback_to_a_lower_seq() {
    let mut h = hostile().await;
    let old = h.forge.last_snapshot.clone().unwrap();
    let newer = h.forge.snapshot();
    h.snapshot_reply(&newer);
    h.agg.crawl().await;
    assert_eq!(h.agg.node_health(&h.forge.id).await.seq, Some(2));
    h.snapshot_reply(&old);
    h.refused(RefusalCode::Rollback).await;
}

#[tokio::test]
async fn equivocation_is_refused_and_kept_as_evidence() {
    let mut h = hostile().await;
    let mut forked = h.forge.next_snapshot();
    forked.seq = 1;
    forked.prev = None;
    forked.issued_at = in_secs(-5);
    let env = h.forge.sign_snapshot(&forked);
    h.snapshot_reply(&env);
    let health = h.refused(RefusalCode::Equivocation).await;
    assert_eq!(health.equivocations, 1);
}

#[tokio::test]
async fn listing_version_lower_than_seen() {
    let mut h = hostile().await;
    let v1 = h
        .forge
        .listings
        .iter()
        .find(|(id, _)| *id == h.first)
        .unwrap()
        .1
        .clone();
    h.forge.put(h.forge.listing(h.first, 2, sample_group(3)));
    h.publish();
    h.agg.crawl().await;
    assert_eq!(
        h.agg.node_health(&h.forge.id).await.status,
        CrawlStatus::Healthy
    );
    // Back to version 1 of that listing under a newer snapshot.
    h.forge.listings.retain(|(id, _)| *id != h.first);
    h.forge.listings.push((h.first, v1));
    h.publish();
    h.refused(RefusalCode::ListingRollback).await;
}

#[tokio::test]
async fn broken_prev_chain_triggers_a_full_resync() {
    let mut h = hostile().await;
    let mut snap = h.forge.next_snapshot();
    snap.prev = Some(signpost_protocol::EnvelopeDigest([7; 32]));
    let env = h.forge.sign_snapshot(&snap);
    h.mock.publish(&h.forge, &env);
    let bundles = h.mock.hits("/v1/bundle");
    h.agg.crawl().await;
    assert_eq!(
        h.mock.hits("/v1/bundle"),
        bundles + 1,
        "resynced from the bundle"
    );
    let health = h.agg.node_health(&h.forge.id).await;
    assert_eq!(health.status, CrawlStatus::Healthy);
    assert_eq!(health.seq, Some(2));
}

#[tokio::test]
async fn timestamps_far_in_the_future() {
    let mut h = hostile().await;
    let mut snap = h.forge.next_snapshot();
    snap.issued_at = in_secs(86_400);
    snap.expires_at = in_secs(8 * 86_400);
    let env = h.forge.sign_snapshot(&snap);
    h.snapshot_reply(&env);
    h.refused(RefusalCode::FutureTimestamp).await;
}

#[tokio::test]
async fn expired_snapshot() {
    let mut h = hostile().await;
    let mut snap = h.forge.next_snapshot();
    snap.issued_at = in_secs(-3 * 86_400);
    snap.expires_at = in_secs(-86_400);
    let env = h.forge.sign_snapshot(&snap);
    h.snapshot_reply(&env);
    h.refused(RefusalCode::Expired).await;
}

#[tokio::test]
async fn body_over_the_size_cap() {
    let h = hostile_with(|c| c.crawl.max_body_bytes = 64 * 1024).await;
    h.mock.set(
        "/v1/snapshot",
        Reply::Json(format!("{{\"payload\":\"{}\"}}", "A".repeat(64 * 1024)).into_bytes()),
    );
    h.refused(RefusalCode::BodyTooLarge).await;
}

#[tokio::test]
async fn too_many_listings() {
    let mut h = hostile_with(|c| c.crawl.max_listings_per_node = 2).await;
    h.forge
        .put(h.forge.listing(Uuid::new_v4(), 1, sample_group(9)));
    h.publish();
    h.refused(RefusalCode::TooManyListings).await;
}

#[tokio::test]
async fn slow_responses_time_out() {
    let h = hostile().await;
    h.mock
        .set("/v1/snapshot", Reply::Slow(Duration::from_secs(5)));
    h.refused(RefusalCode::Timeout).await;
}

#[tokio::test]
async fn endless_bodies_are_cut_off() {
    let h = hostile_with(|c| c.crawl.max_body_bytes = 256 * 1024).await;
    h.mock.set("/v1/snapshot", Reply::Endless);
    h.refused_any(&[RefusalCode::BodyTooLarge, RefusalCode::Timeout])
        .await;
}

#[tokio::test]
async fn redirects_to_another_host_are_refused() {
    let h = hostile().await;
    let elsewhere = h.mock.url.replace("127.0.0.1", "localhost");
    h.mock.set(
        "/v1/snapshot",
        Reply::Redirect(format!("{elsewhere}/v1/snapshot")),
    );
    h.refused(RefusalCode::RedirectRefused).await;
}

#[tokio::test]
async fn redirect_loops_are_refused() {
    let h = hostile().await;
    h.mock.set(
        "/v1/snapshot",
        Reply::Redirect(format!("{}/v1/snapshot", h.mock.url)),
    );
    h.refused(RefusalCode::RedirectRefused).await;
}

#[tokio::test]
async fn malformed_json() {
    let h = hostile().await;
    h.mock
        .set("/v1/snapshot", Reply::Json(b"{\"payload\": ".to_vec()));
    h.refused(RefusalCode::MalformedJson).await;
}

#[tokio::test]
async fn deeply_nested_json() {
    let h = hostile().await;
    h.mock.set(
        "/v1/snapshot",
        Reply::Json(format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes()),
    );
    h.refused(RefusalCode::MalformedJson).await;
}

#[tokio::test]
async fn invalid_utf8() {
    let h = hostile().await;
    h.mock.set(
        "/v1/snapshot",
        Reply::Json(vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}']),
    );
    h.refused(RefusalCode::MalformedJson).await;
}

#[tokio::test]
async fn wrong_content_type() {
    let h = hostile().await;
    h.mock.set(
        "/v1/snapshot",
        Reply::WrongType(b"<html>hello</html>".to_vec()),
    );
    h.refused(RefusalCode::WrongContentType).await;
}

#[tokio::test]
async fn server_errors() {
    let h = hostile().await;
    h.mock.set("/v1/snapshot", Reply::Status(500));
    let health = h.refused(RefusalCode::HttpStatus).await;
    assert!(health.last_refusal.as_ref().unwrap().detail.contains("500"));
}

#[tokio::test]
async fn unknown_fields_in_a_signed_payload() {
    let mut h = hostile().await;
    let snap = h.forge.next_snapshot();
    let mut value = serde_json::to_value(&snap).unwrap();
    value["surprise"] = json!("extra");
    let env = sign_raw(&value, PayloadKind::Snapshot.media_type(), &h.forge.signing);
    h.snapshot_reply(&env);
    let health = h.refused(RefusalCode::MalformedPayload).await;
    assert!(health
        .last_refusal
        .as_ref()
        .unwrap()
        .detail
        .contains("\"surprise\" is not a field of it"));
}

#[tokio::test]
async fn duplicate_keys_in_a_signed_payload() {
    let mut h = hostile().await;
    let snap = h.forge.next_snapshot();
    let text = serde_json::to_string(&snap).unwrap();
    let dup = text.replacen("\"seq\":", "\"seq\":99,\"seq\":", 1);
    let env = Envelope::sign(
        PayloadKind::Snapshot.media_type(),
        dup.as_bytes(),
        &h.forge.signing,
    );
    h.snapshot_reply(&env);
    let health = h.refused(RefusalCode::MalformedPayload).await;
    assert!(health
        .last_refusal
        .as_ref()
        .unwrap()
        .detail
        .contains("duplicate"));
}

#[tokio::test]
async fn a_node_document_rotating_to_a_key_it_does_not_control() {
    let mut h = hostile().await;
    // Version 2 names a new signing key but is signed only by a stranger, not the root key.
    let stranger = signpost_protocol::keys::generate();
    let current = h.first_document();
    let v2 = NodeDocument {
        version: 2,
        signing_keys: vec![DidKey::new(stranger.verifying_key())],
        root_keys: vec![DidKey::new(stranger.verifying_key())],
        ..current
    };
    let env = Verified::sign(v2, &stranger)
        .unwrap()
        .envelope()
        .to_envelope();
    h.forge.docs.push(env);
    h.forge.signing = stranger;
    h.publish();
    h.refused(RefusalCode::NodeDocument).await;
}

#[tokio::test]
async fn incremental_crawls_fetch_only_what_changed() {
    let mut h = hostile().await;
    // Nothing changed: one conditional snapshot request.
    h.agg.crawl().await;
    assert_eq!(h.mock.hits("/v1/bundle"), 1);
    // One listing changed: the snapshot and that listing only.
    h.forge.put(h.forge.listing(h.first, 2, sample_group(5)));
    h.publish();
    h.agg.crawl().await;
    assert_eq!(
        h.agg.node_health(&h.forge.id).await.status,
        CrawlStatus::Healthy
    );
    assert_eq!(h.mock.hits("/v1/bundle"), 1, "no second bundle");
    assert_eq!(h.mock.hits(&format!("/v1/listings/{}", h.first)), 1);
    let others: usize = h
        .forge
        .listings
        .iter()
        .filter(|(id, _)| *id != h.first)
        .map(|(id, _)| h.mock.hits(&format!("/v1/listings/{id}")))
        .sum();
    assert_eq!(others, 0);
}

#[tokio::test]
async fn a_snapshot_served_past_half_its_lifetime_is_flagged_frozen_and_still_served() {
    let mut h = hostile().await;
    // Signed four days ago for seven: an honest node would have re-signed it by now.
    let mut snap = h.forge.next_snapshot();
    snap.issued_at = in_secs(-4 * 86_400);
    snap.expires_at = in_secs(3 * 86_400);
    let env = h.forge.sign_snapshot(&snap);
    h.snapshot_reply(&env);
    h.agg.crawl().await;
    // Served again unchanged (as a 304 from a stale cache would be): flagged at once.
    h.agg.crawl().await;
    let health = h.agg.node_health(&h.forge.id).await;
    assert_eq!(health.status, CrawlStatus::Frozen, "{health:?}");
    let flag = health.last_refusal.expect("says why");
    assert_eq!(flag.code, RefusalCode::Frozen);
    assert!(flag.detail.contains("half its lifetime"), "{}", flag.detail);
    assert_eq!(
        h.agg.names("").await.len(),
        2,
        "still served until it expires"
    );
}

#[tokio::test]
async fn capacity_confirmed_after_the_listing_was_signed_is_unknown_not_accepting() {
    let mut h = hostile().await;
    let mut g = sample_group(7);
    g.name = "Future Capacity Club".into();
    g.capacity.accepting_referrals = true;
    g.capacity.places_available = Some(5);
    g.capacity.updated_at = "2031-01-01T00:00:00Z".parse().unwrap();
    h.forge.put(h.forge.listing(Uuid::new_v4(), 1, g));
    h.publish();
    h.agg.crawl().await;
    let page = h.agg.groups("text=future").await;
    assert_eq!(page.contents.len(), 1, "verified and served");
    assert_eq!(
        page.contents[0].capacity_status,
        signpost_protocol::wire::CapacityStatus::Unknown
    );
    let accepting = h.agg.groups("text=future&accepting=true").await;
    assert!(
        accepting.contents.is_empty(),
        "never matches accepting=true"
    );
}

#[tokio::test]
async fn listings_signed_by_a_rotated_out_key_are_not_kept_on_after_rotation() {
    let mut h = hostile().await;
    // A proper rotation: version 2, signed by the root key, names only a new signing key.
    let new_key = signpost_protocol::keys::generate();
    let current = h.first_document();
    let v2 = NodeDocument {
        version: 2,
        signing_keys: vec![DidKey::new(new_key.verifying_key())],
        ..current
    };
    h.forge.docs.push(
        Verified::sign(v2, &h.forge.root)
            .unwrap()
            .envelope()
            .to_envelope(),
    );
    h.forge.signing = new_key;
    // The new snapshot names the listings as they were: signed by the key now gone.
    h.publish();
    let health = h.refused(RefusalCode::UnknownSigningKey).await;
    assert!(
        health.last_refusal.unwrap().detail.contains("re-sign"),
        "says what the node must do"
    );
    // Once the node re-signs them under the new key, the new state is accepted.
    let listings: Vec<Listing> = h
        .forge
        .listings
        .iter()
        .map(|(_, e)| serde_json::from_slice(&e.payload_bytes().unwrap()).unwrap())
        .collect();
    for mut l in listings {
        l.version += 1;
        h.forge.put(l);
    }
    h.publish();
    h.agg.crawl().await;
    let health = h.agg.node_health(&h.forge.id).await;
    assert_eq!(health.status, CrawlStatus::Healthy, "{health:?}");
    assert_eq!(health.seq, Some(3));
}

#[tokio::test]
async fn an_expired_node_document_is_not_trusted_on_a_warm_aggregator() {
    let mut forge = Forge::new("Expiring Org");
    // Version 1 expires in two seconds and is never renewed.
    let mut doc: NodeDocument =
        serde_json::from_slice(&forge.docs[0].payload_bytes().unwrap()).unwrap();
    doc.expires = in_secs(2);
    forge.docs[0] = Verified::sign(doc, &forge.root)
        .unwrap()
        .envelope()
        .to_envelope();
    forge.put(forge.listing(Uuid::new_v4(), 1, sample_group(1)));
    let mock = MockNode::start().await;
    let snap = forge.snapshot();
    mock.publish(&forge, &snap);
    let agg = TestAggregator::manual(&[forge.entry(&mock.url)], |_| {}).await;
    agg.crawl().await;
    assert_eq!(
        agg.node_health(&forge.id).await.status,
        CrawlStatus::Healthy
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // New data signed by the keys of the expired document: refused, and the reason given.
    forge.put(forge.listing(Uuid::new_v4(), 1, sample_group(2)));
    let snap = forge.snapshot();
    mock.publish(&forge, &snap);
    agg.crawl().await;
    let health = agg.node_health(&forge.id).await;
    assert_eq!(health.status, CrawlStatus::Failing, "{health:?}");
    let refusal = health.last_refusal.unwrap();
    assert_eq!(refusal.code, RefusalCode::Expired);
    assert!(
        refusal.detail.contains("node document"),
        "{}",
        refusal.detail
    );
    assert_eq!(
        agg.names("").await.len(),
        1,
        "the new listing was not taken"
    );
}

#[tokio::test]
async fn only_a_verified_newer_push_wakes_a_crawl() {
    let mut forge = Forge::new("Pushing Org");
    forge.put(forge.listing(Uuid::new_v4(), 1, sample_group(1)));
    let mock = MockNode::start().await;
    let snap = forge.snapshot();
    mock.publish(&forge, &snap);
    let agg = TestAggregator::crawling(&[forge.entry(&mock.url)], |c| {
        c.crawl.interval_secs = 300;
    })
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while agg.names("").await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "first crawl");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let polls = || mock.hits("/v1/snapshot") + mock.hits("/v1/bundle");
    let before = polls();
    let ping = |env: &Envelope| {
        let agg = agg.url.clone();
        let env = env.clone();
        async move {
            signpost_tests::client()
                .post(format!("{agg}/v1/ping"))
                .json(&env)
                .send()
                .await
                .unwrap()
        }
    };

    // Forged: a newer snapshot naming the node, signed by someone else.
    let stranger = signpost_protocol::keys::generate();
    let mut forged = forge.next_snapshot();
    forged.seq += 10;
    let forged = sign_raw(&forged, PayloadKind::Snapshot.media_type(), &stranger);
    for _ in 0..5 {
        signpost_tests::assert_problem(ping(&forged).await, 422, "ping_refused").await;
    }
    // A replay of what is held.
    signpost_tests::assert_problem(ping(&snap).await, 422, "ping_refused").await;
    // Signed, but not a snapshot: what is missing is named in words, not serde's.
    let not_a_snapshot = sign_raw(
        &serde_json::json!({ "seq": 1 }),
        PayloadKind::Snapshot.media_type(),
        &stranger,
    );
    let body =
        signpost_tests::assert_problem(ping(&not_a_snapshot).await, 422, "ping_refused").await;
    assert_eq!(
        body["detail"],
        "ping refused: malformed_json: body not valid JSON for this resource: \"node\" is required",
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(polls(), before, "no crawl was woken");

    // The node's genuine next snapshot: crawled at once.
    forge.put(forge.listing(Uuid::new_v4(), 1, sample_group(2)));
    let next = forge.snapshot();
    mock.publish(&forge, &next);
    assert_eq!(ping(&next).await.status(), 202);
    while agg.names("").await.len() < 2 {
        assert!(std::time::Instant::now() < deadline, "woken crawl");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn last_code(agg: &TestAggregator, id: &DidKey) -> Option<RefusalCode> {
    agg.crawl().await;
    agg.node_health(id).await.last_refusal.map(|r| r.code)
}

/// A node whose pinned first document is fine, but whose current document claims `version`.
fn claim_version(forge: &Forge, version: u64, signer: &signpost_protocol::SigningKey) -> Envelope {
    let mut doc: NodeDocument =
        serde_json::from_slice(&forge.docs[0].payload_bytes().unwrap()).unwrap();
    doc.version = version;
    sign_raw(&doc, PayloadKind::Node.media_type(), signer)
}

#[tokio::test]
async fn the_chain_walk_verifies_each_version_before_fetching_the_next() {
    let forge = Forge::new("Long Chain Org");
    let mock = MockNode::start().await;
    let stranger = signpost_protocol::keys::generate();
    let agg = TestAggregator::manual(&[forge.entry(&mock.url)], |_| {}).await;

    // Claims version 100; version 2 is not signed by version 1's root key.
    mock.json(
        "/.well-known/signpost/node",
        &claim_version(&forge, 100, &stranger),
    );
    mock.json("/v1/node/1", &forge.docs[0]);
    mock.json("/v1/node/2", &claim_version(&forge, 2, &stranger));
    assert_eq!(
        last_code(&agg, &forge.id).await,
        Some(RefusalCode::NodeDocument)
    );
    assert_eq!(mock.hits("/v1/node/2"), 1);
    assert_eq!(
        mock.hits("/v1/node/3"),
        0,
        "nothing fetched past the first bad version"
    );

    // Claims a chain longer than any node needs: refused before fetching any of it.
    mock.json(
        "/.well-known/signpost/node",
        &claim_version(&forge, 1_000_000, &stranger),
    );
    assert_eq!(
        last_code(&agg, &forge.id).await,
        Some(RefusalCode::ChainTooLong)
    );
    assert_eq!(mock.hits("/v1/node/2"), 1);

    // A node document far larger than a document needs.
    let mut huge: NodeDocument =
        serde_json::from_slice(&forge.docs[0].payload_bytes().unwrap()).unwrap();
    huge.name = "x".repeat(100 * 1024);
    mock.json(
        "/.well-known/signpost/node",
        &sign_raw(&huge, PayloadKind::Node.media_type(), &forge.root),
    );
    assert_eq!(
        last_code(&agg, &forge.id).await,
        Some(RefusalCode::BodyTooLarge)
    );

    // Version 1 not signed by the id pinned at enrolment: said as such.
    let other = Forge::new("Impostor");
    mock.json("/.well-known/signpost/node", &other.docs[0]);
    assert_eq!(
        last_code(&agg, &forge.id).await,
        Some(RefusalCode::PinnedIdMismatch)
    );
    assert!(agg.names("").await.is_empty());
}

#[tokio::test]
async fn an_attestation_repeated_a_thousand_times_is_verified_and_kept_once() {
    let mut h = hostile().await;
    let issuer = signpost_protocol::keys::generate();
    let issuer_id = DidKey::new(issuer.verifying_key());
    let att = signpost_protocol::Attestation {
        issuer: issuer_id,
        subject: h.forge.id,
        achievement: "trauma-informed-practice".into(),
        level: None,
        valid_from: in_secs(-86_400),
        valid_until: in_secs(86_400 * 30),
        serial: "repeat-1".into(),
    };
    let env = Verified::sign(att, &issuer)
        .unwrap()
        .envelope()
        .to_envelope();
    // The snapshot names it once; the bundle repeats it a thousand times.
    h.forge.attestations = vec![env.clone()];
    let snap = h.forge.snapshot();
    h.forge.attestations = vec![env; 1000];
    h.mock.publish(&h.forge, &snap);
    h.agg.crawl().await;
    let health = h.agg.node_health(&h.forge.id).await;
    assert_eq!(health.status, CrawlStatus::Healthy, "{health:?}");
    let audit = h
        .agg
        .json(&format!("/v1/issuers/{issuer_id}/attestations"))
        .await;
    assert_eq!(audit.as_array().unwrap().len(), 1, "kept and checked once");
}

/// Verified data held past its expiry stops being served (fail closed) without waiting for a
/// crawl: a listing on its own, then the whole node when its snapshot expires.
#[tokio::test]
async fn data_past_its_expiry_stops_being_served() {
    let mut forge = Forge::new("Short-lived Org");
    let mut short = forge.listing(Uuid::new_v4(), 1, sample_group(3));
    short.expires_at = in_secs(2);
    forge.put(short);
    forge.put(forge.listing(Uuid::new_v4(), 1, sample_group(4)));
    let mock = MockNode::start().await;
    let mut snap = forge.next_snapshot();
    snap.expires_at = in_secs(4);
    let env = forge.sign_snapshot(&snap);
    mock.publish(&forge, &env);
    let agg = TestAggregator::manual(&[forge.entry(&mock.url)], |_| {}).await;
    agg.crawl().await;
    assert_eq!(agg.names("").await.len(), 2);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(agg.names("").await.len(), 1, "the expired listing is gone");
    assert_eq!(
        agg.groups("per_page=1").await.pagination.total_items,
        1,
        "and from the count"
    );
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(
        agg.names("").await.len(),
        0,
        "the expired snapshot takes its node's listings"
    );
}
