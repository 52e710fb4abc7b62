//! Training attestations end to end: issue, import at the node, crawl, verified filter;
//! and each way an attestation can fail to count.

use chrono::{Duration, Utc};
use serde_json::Value;
use signpost_aggregator::config::{AggregatorConfig, IssuerEntry};
use signpost_issuer::{Issuer, IssuerServer};
use signpost_protocol::model::Attestation;
use signpost_protocol::model::PayloadKind;
use signpost_protocol::wire::CrawlStatus;
use signpost_protocol::{DidKey, Envelope, RevocationList, Verified};
use signpost_tests::mock::sign_raw;
use signpost_tests::{b64, sample_group, Forge, MockNode, TestAggregator, TestNode};

const TIP: &str = "trauma-informed-practice";

struct World {
    issuer_dir: tempfile::TempDir,
    issuer: Issuer,
    server: IssuerServer,
    a: TestNode,
    b: TestNode,
}

async fn world() -> World {
    let issuer_dir = tempfile::tempdir().unwrap();
    let issuer = Issuer::init(issuer_dir.path(), "Yorkshire Trauma-Informed Training").unwrap();
    let server = signpost_issuer::serve(issuer_dir.path(), "127.0.0.1:0")
        .await
        .unwrap();
    let a = TestNode::start().await;
    let b = TestNode::start().await;
    a.create(&sample_group(1)).await;
    b.create(&sample_group(2)).await;
    World {
        issuer_dir,
        issuer,
        server,
        a,
        b,
    }
}

/// An attestation of `achievement` for `subject`, valid since yesterday for 30 days.
fn current(issuer: &mut Issuer, subject: DidKey, achievement: &str) -> Verified<Attestation> {
    let now = Utc::now();
    issuer
        .attest(
            subject,
            achievement,
            None,
            now - Duration::days(1),
            now + Duration::days(30),
        )
        .unwrap()
}

impl World {
    /// The issuer's signing key, read from its directory.
    fn key(&self) -> ed25519_dalek::SigningKey {
        signpost_store::keyfile::read_key(&self.issuer_dir.path().join(signpost_issuer::KEY_FILE))
            .unwrap()
    }
}

fn trust(id: DidKey, url: &str, achievements: &[&str]) -> impl FnOnce(&mut AggregatorConfig) {
    let entry = IssuerEntry {
        id,
        name: "Yorkshire Trauma-Informed Training".into(),
        achievements: achievements.iter().map(|s| s.to_string()).collect(),
        revocations_url: url.to_owned(),
    };
    move |c: &mut AggregatorConfig| c.issuers.push(entry)
}

async fn import(node: &TestNode, env: &Envelope) {
    let resp = node
        .admin(reqwest::Method::POST, "/admin/attestations")
        .json(env)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
}

async fn verified_nodes(agg: &TestAggregator, achievement: &str) -> Vec<String> {
    let page = agg
        .json(&format!("/v1/groups?verified_training={achievement}"))
        .await;
    let mut nodes: Vec<String> = page["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["node"].as_str().unwrap().to_owned())
        .collect();
    nodes.dedup();
    nodes
}

async fn audit(agg: &TestAggregator, issuer: &DidKey) -> Vec<Value> {
    agg.json(&format!("/v1/issuers/{issuer}/attestations"))
        .await
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn issue_import_crawl_verified_then_revoked() {
    let mut w = world().await;
    let now = Utc::now();
    let att = w
        .issuer
        .attest(
            w.a.id,
            TIP,
            Some("level 2".into()),
            now - Duration::days(1),
            now + Duration::days(365),
        )
        .unwrap();
    import(&w.a, &att.envelope().to_envelope()).await;
    let agg = TestAggregator::manual(
        &[w.a.entry(), w.b.entry()],
        trust(w.issuer.id(), &w.server.revocations_url(), &[TIP]),
    )
    .await;
    agg.crawl().await;

    assert_eq!(verified_nodes(&agg, TIP).await, vec![w.a.id.to_string()]);
    let page = agg
        .json("/v1/groups?verified_training=trauma-informed-practice")
        .await;
    assert_eq!(
        page["contents"][0]["verified_training"],
        serde_json::json!([TIP])
    );
    let id = page["contents"][0]["id"].as_str().unwrap().to_owned();
    let prov = agg.json(&format!("/v1/groups/{}/{id}", w.a.id)).await;
    let report = &prov["attestations"][0];
    assert_eq!(report["status"], "verified");
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["ok"] == true),
        "{report}"
    );
    let entries = audit(&agg, &w.issuer.id()).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["status"], "verified");
    assert_eq!(entries[0]["node"], w.a.id.to_string());
    let issuers = agg.json("/v1/issuers").await;
    assert_eq!(issuers[0]["revocation_list_version"], 1);

    // Revoke: shown within one revocation refresh.
    w.issuer.revoke(&att.serial).unwrap();
    agg.crawl().await;
    assert!(verified_nodes(&agg, TIP).await.is_empty());
    let entries = audit(&agg, &w.issuer.id()).await;
    assert_eq!(entries[0]["status"], "revoked");
    let prov = agg.json(&format!("/v1/groups/{}/{id}", w.a.id)).await;
    let revocation = prov["attestations"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "revocation")
        .unwrap()
        .clone();
    assert_eq!(revocation["ok"], false);
    assert!(revocation["reason"].as_str().unwrap().contains("revoked"));
    drop(w.issuer_dir);
}

#[tokio::test]
async fn expired_and_not_yet_valid_do_not_count() {
    let mut w = world().await;
    let now = Utc::now();
    let soon = w
        .issuer
        .attest(
            w.a.id,
            TIP,
            None,
            now - Duration::days(1),
            now + Duration::seconds(2),
        )
        .unwrap();
    let later = w
        .issuer
        .attest(
            w.b.id,
            TIP,
            None,
            now + Duration::days(1),
            now + Duration::days(30),
        )
        .unwrap();
    import(&w.a, &soon.envelope().to_envelope()).await;
    import(&w.b, &later.envelope().to_envelope()).await;
    let agg = TestAggregator::manual(
        &[w.a.entry(), w.b.entry()],
        trust(w.issuer.id(), &w.server.revocations_url(), &[TIP]),
    )
    .await;
    agg.crawl().await;
    assert_eq!(verified_nodes(&agg, TIP).await, vec![w.a.id.to_string()]);
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    assert!(
        verified_nodes(&agg, TIP).await.is_empty(),
        "expired at query time"
    );
    let mut statuses: Vec<String> = audit(&agg, &w.issuer.id())
        .await
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_owned())
        .collect();
    statuses.sort();
    assert_eq!(statuses, vec!["expired", "not_yet_valid"]);
}

#[tokio::test]
async fn untrusted_issuer_and_untrusted_achievement() {
    let mut w = world().await;
    let other_dir = tempfile::tempdir().unwrap();
    let mut stranger = Issuer::init(other_dir.path(), "Unknown Training Ltd").unwrap();
    let by_stranger = current(&mut stranger, w.a.id, TIP);
    let wrong_achievement = current(&mut w.issuer, w.b.id, "mental-health-first-aid");
    import(&w.a, &by_stranger.envelope().to_envelope()).await;
    import(&w.b, &wrong_achievement.envelope().to_envelope()).await;
    let agg = TestAggregator::manual(
        &[w.a.entry(), w.b.entry()],
        trust(w.issuer.id(), &w.server.revocations_url(), &[TIP]),
    )
    .await;
    agg.crawl().await;
    assert!(verified_nodes(&agg, TIP).await.is_empty());
    assert!(verified_nodes(&agg, "mental-health-first-aid")
        .await
        .is_empty());
    assert_eq!(
        audit(&agg, &stranger.id()).await[0]["status"],
        "untrusted_issuer"
    );
    assert_eq!(
        audit(&agg, &w.issuer.id()).await[0]["status"],
        "not_trusted_for_achievement"
    );
}

#[tokio::test]
async fn an_attestation_about_another_organisation_or_tampered_does_not_count() {
    let mut w = world().await;
    let now = Utc::now();
    // A node (the test's own) presents an attestation about organisation A, and a tampered one.
    let mut forge = Forge::new("Borrowed Credentials");
    forge.put(forge.listing(uuid::Uuid::new_v4(), 1, signpost_tests::sample_group(7)));
    let about_a = current(&mut w.issuer, w.a.id, TIP);
    let mine = w
        .issuer
        .attest(
            forge.id,
            TIP,
            Some("foundation".into()),
            now - Duration::days(1),
            now + Duration::days(30),
        )
        .unwrap();
    let payload = String::from_utf8(mine.envelope().payload_bytes().to_vec())
        .unwrap()
        .replace("foundation", "advanced");
    let tampered = Envelope {
        payload: b64(payload.as_bytes()),
        ..mine.envelope().to_envelope()
    };
    forge.attestations = vec![about_a.envelope().to_envelope(), tampered];
    let mock = MockNode::start().await;
    let snap = forge.snapshot();
    mock.publish(&forge, &snap);
    let agg = TestAggregator::manual(
        &[forge.entry(&mock.url)],
        trust(w.issuer.id(), &w.server.revocations_url(), &[TIP]),
    )
    .await;
    agg.crawl().await;
    assert_eq!(
        agg.node_health(&forge.id).await.status,
        CrawlStatus::Healthy
    );
    assert!(verified_nodes(&agg, TIP).await.is_empty());
    let entries = audit(&agg, &w.issuer.id()).await;
    assert_eq!(
        entries.len(),
        1,
        "the tampered one is not presented at all: {entries:?}"
    );
    assert_eq!(entries[0]["status"], "subject_mismatch");
}

/// A revocation list served by the test, signed by `key`.
fn list(issuer: DidKey, key: &ed25519_dalek::SigningKey, expires_in: Duration) -> Envelope {
    let now = Utc::now();
    let list = RevocationList {
        issuer,
        version: 1,
        issued_at: now - Duration::days(10),
        expires_at: now + expires_in,
        revoked: vec![],
    };
    sign_raw(&list, PayloadKind::Revocations.media_type(), key)
}

#[tokio::test]
async fn revocation_list_expired_foreign_or_unreachable_fails_closed() {
    let mut w = world().await;
    let att = current(&mut w.issuer, w.a.id, TIP);
    import(&w.a, &att.envelope().to_envelope()).await;
    let key = w.key();
    let lists = MockNode::start().await;
    let url = format!("{}/revocations", lists.url);

    // Expired list.
    lists.json(
        "/revocations",
        &list(w.issuer.id(), &key, -Duration::days(1)),
    );
    let agg = TestAggregator::manual(&[w.a.entry()], trust(w.issuer.id(), &url, &[TIP])).await;
    agg.crawl().await;
    assert!(verified_nodes(&agg, TIP).await.is_empty());
    assert_eq!(
        audit(&agg, &w.issuer.id()).await[0]["status"],
        "revocation_status_unknown"
    );

    // Signed by another key.
    let stranger = signpost_protocol::keys::generate();
    lists.json(
        "/revocations",
        &list(w.issuer.id(), &stranger, Duration::days(7)),
    );
    agg.crawl().await;
    assert!(verified_nodes(&agg, TIP).await.is_empty());

    // A good list: verified.
    lists.json(
        "/revocations",
        &list(w.issuer.id(), &key, Duration::days(7)),
    );
    agg.crawl().await;
    assert_eq!(verified_nodes(&agg, TIP).await, vec![w.a.id.to_string()]);
    drop(agg);

    // Unreachable: within the grace period the last list counts; past it, fail closed.
    let agg = TestAggregator::manual(&[w.a.entry()], {
        let t = trust(w.issuer.id(), &w.server.revocations_url(), &[TIP]);
        move |c: &mut AggregatorConfig| {
            t(c);
            c.revocations.grace_secs = 2;
        }
    })
    .await;
    agg.crawl().await;
    assert_eq!(verified_nodes(&agg, TIP).await, vec![w.a.id.to_string()]);
    w.server.stop().await;
    agg.crawl().await;
    assert_eq!(
        verified_nodes(&agg, TIP).await,
        vec![w.a.id.to_string()],
        "within grace"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    agg.crawl().await;
    assert!(
        verified_nodes(&agg, TIP).await.is_empty(),
        "past grace: fail closed"
    );
    let status = audit(&agg, &w.issuer.id()).await[0]["status"].clone();
    assert_eq!(status, "revocation_status_unknown");
}

/// A revocation list of `version` revoking `revoked`, signed by `key`.
fn list_with(
    issuer: DidKey,
    key: &ed25519_dalek::SigningKey,
    version: u64,
    revoked: &[&str],
) -> Envelope {
    let now = Utc::now();
    let list = RevocationList {
        issuer,
        version,
        issued_at: now - Duration::minutes(1),
        expires_at: now + Duration::days(7),
        revoked: revoked.iter().map(|s| s.to_string()).collect(),
    };
    sign_raw(&list, PayloadKind::Revocations.media_type(), key)
}

#[tokio::test]
async fn an_older_list_never_unrevokes_after_a_restart_and_a_forked_list_is_refused() {
    let mut w = world().await;
    let att = current(&mut w.issuer, w.a.id, TIP);
    import(&w.a, &att.envelope().to_envelope()).await;
    let key = w.key();
    let lists = MockNode::start().await;
    let url = format!("{}/revocations", lists.url);
    let serial = att.serial.clone();
    lists.json(
        "/revocations",
        &list_with(w.issuer.id(), &key, 2, &[&serial]),
    );
    let mut agg = TestAggregator::manual(&[w.a.entry()], trust(w.issuer.id(), &url, &[TIP])).await;
    agg.crawl().await;
    assert_eq!(audit(&agg, &w.issuer.id()).await[0]["status"], "revoked");

    // After a restart, a cache serves version 1, from before the revocation.
    agg.restart().await;
    lists.json("/revocations", &list_with(w.issuer.id(), &key, 1, &[]));
    agg.crawl().await;
    assert_eq!(
        audit(&agg, &w.issuer.id()).await[0]["status"],
        "revoked",
        "the kept version 2 still counts"
    );
    assert!(verified_nodes(&agg, TIP).await.is_empty());

    // Version 2 again, with other contents: equivocation, refused and kept as evidence.
    lists.json("/revocations", &list_with(w.issuer.id(), &key, 2, &[]));
    agg.crawl().await;
    assert_eq!(audit(&agg, &w.issuer.id()).await[0]["status"], "revoked");
    let evidence = agg
        .state()
        .store
        .keys(&format!("evidence/revocations/{}/", w.issuer.id()))
        .count();
    assert_eq!(evidence, 1);
}

#[tokio::test]
async fn the_audit_filters_by_achievement_and_status_and_refuses_unknown_parameters() {
    let mut w = world().await;
    let ok = current(&mut w.issuer, w.a.id, TIP);
    let revoked = current(&mut w.issuer, w.b.id, TIP);
    import(&w.a, &ok.envelope().to_envelope()).await;
    import(&w.b, &revoked.envelope().to_envelope()).await;
    w.issuer.revoke(&revoked.serial).unwrap();
    let agg = TestAggregator::manual(
        &[w.a.entry(), w.b.entry()],
        trust(w.issuer.id(), &w.server.revocations_url(), &[TIP]),
    )
    .await;
    agg.crawl().await;
    let id = w.issuer.id();
    // The issuer's public files, read with the typed client.
    let issuer = signpost_client::IssuerClient::new(signpost_tests::fetcher(), &w.server.url());
    assert_eq!(issuer.document().await.unwrap().id, id);
    let list = issuer.revocations().await.unwrap();
    let list = signpost_protocol::Verified::<RevocationList>::verify(list, &[*id.key()]).unwrap();
    assert_eq!(list.revoked, vec![revoked.serial.clone()]);
    let all = agg.directory().attestations(&id).await.unwrap();
    assert_eq!(all.len(), 2);
    let only = |q: &str| {
        let agg = &agg;
        let q = q.to_owned();
        async move {
            agg.json(&format!("/v1/issuers/{id}/attestations?{q}"))
                .await
        }
    };
    let revoked_only = only("status=revoked").await;
    assert_eq!(revoked_only.as_array().unwrap().len(), 1);
    assert_eq!(revoked_only[0]["node"], w.b.id.to_string());
    assert_eq!(
        only(&format!("achievement={TIP}"))
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(only("achievement=mental-health-first-aid")
        .await
        .as_array()
        .unwrap()
        .is_empty());
    let resp = agg
        .get(&format!("/v1/issuers/{id}/attestations?colour=red"))
        .await;
    signpost_tests::assert_problem(resp, 400, "unknown_parameter").await;
    // An issuer id that is not a did:key is named as the issuer's (the code is the table's
    // one for any id in a path).
    let resp = agg.get("/v1/issuers/training-co/attestations").await;
    let body = signpost_tests::assert_problem(resp, 404, "invalid_node_id").await;
    assert_eq!(
        body["detail"],
        "\"training-co\" is not an issuer id: not a did:key (it must start with \"did:key:\")"
    );

    // The regulator's page shows the same, and its CSV too.
    let page = agg.get(&format!("/audit?issuer={id}&status=revoked")).await;
    assert_eq!(page.status(), 200);
    assert!(page.headers().get("set-cookie").is_none());
    let html = page.text().await.unwrap();
    assert!(html.contains(&w.b.id.to_string()) && !html.contains(&w.a.id.to_string()));
    let csv = agg
        .get(&format!("/audit.csv?issuer={id}&status=revoked"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.lines().nth(1).unwrap().contains("revoked"));
}

/// An organisation's name is another party's text: in the regulator's CSV, one that a
/// spreadsheet would run as a formula is written as text.
#[tokio::test]
async fn the_audit_csv_does_not_hand_a_spreadsheet_a_formula() {
    let issuer_dir = tempfile::tempdir().unwrap();
    let mut issuer = Issuer::init(issuer_dir.path(), "Yorkshire Trauma-Informed Training").unwrap();
    let server = signpost_issuer::serve(issuer_dir.path(), "127.0.0.1:0")
        .await
        .unwrap();
    let hostile = TestNode::named("=HYPERLINK(\"http://evil.example\",\"Click\")").await;
    hostile.create(&sample_group(1)).await;
    let att = current(&mut issuer, hostile.id, TIP);
    import(&hostile, &att.envelope().to_envelope()).await;
    let agg = TestAggregator::manual(
        &[hostile.entry()],
        trust(issuer.id(), &server.revocations_url(), &[TIP]),
    )
    .await;
    agg.crawl().await;
    let csv = agg
        .get(&format!("/audit.csv?issuer={}", issuer.id()))
        .await
        .text()
        .await
        .unwrap();
    let row = csv.lines().nth(1).expect("one row");
    assert!(
        row.starts_with("\"'=HYPERLINK(") || row.starts_with("'=HYPERLINK("),
        "{csv}"
    );
    // The page shows the name as it is.
    let html = agg
        .get(&format!("/audit?issuer={}", issuer.id()))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("=HYPERLINK(") && !html.contains("&#39;=HYPERLINK"),
        "{html}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_pushed_revocation_shows_in_the_audit_at_once_with_when_it_took_effect() {
    let mut w = world().await;
    let now = Utc::now();
    let att = w
        .issuer
        .attest(
            w.a.id,
            TIP,
            None,
            now - Duration::days(1),
            now + Duration::days(365),
        )
        .unwrap();
    import(&w.a, &att.envelope().to_envelope()).await;
    // The aggregator would not fetch the list again for an hour: only a push can tell it.
    let agg = TestAggregator::manual(&[w.a.entry()], |c| {
        trust(w.issuer.id(), &w.server.revocations_url(), &[TIP])(c);
        c.revocations.refresh_secs = 3600;
    })
    .await;
    agg.crawl().await;
    let before = audit(&agg, &w.issuer.id()).await;
    assert_eq!(before[0]["status"], "verified");
    assert!(before[0]["status_since"].is_string());

    w.issuer.subscribe(&agg.url).unwrap();
    // A directory's address is what it subscribes; anything else is said to be not one.
    let wrong = w.issuer.subscribe("directory.example.org").unwrap_err();
    assert!(
        wrong
            .to_string()
            .starts_with("\"directory.example.org\" is not a directory's address"),
        "{wrong}"
    );
    assert_eq!(w.issuer.subscribers(), std::slice::from_ref(&agg.url));
    let revoked_at = Utc::now();
    let list = w.issuer.revoke(&att.serial).unwrap();
    let results =
        signpost_issuer::push(&list.envelope().to_envelope(), &w.issuer.subscribers()).await;
    assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
    // No crawl, no refresh: the push alone.
    let after = audit(&agg, &w.issuer.id()).await;
    assert_eq!(after[0]["status"], "revoked");
    let since: chrono::DateTime<Utc> =
        serde_json::from_value(after[0]["status_since"].clone()).unwrap();
    assert!(since >= revoked_at - Duration::seconds(1) && since <= Utc::now());
    assert!(verified_nodes(&agg, TIP).await.is_empty());

    // A replayed (older) list is refused, and so is one from an issuer not trusted here.
    let resp = agg
        .http
        .post(format!("{}/v1/revocations", agg.url))
        .json(&before_list(&w))
        .send()
        .await
        .unwrap();
    signpost_tests::assert_problem(resp, 422, "revocations_refused").await;
    let stranger_dir = tempfile::tempdir().unwrap();
    let mut stranger = Issuer::init(stranger_dir.path(), "Unknown Training Ltd").unwrap();
    let foreign = stranger.publish().unwrap();
    let resp = agg
        .http
        .post(format!("{}/v1/revocations", agg.url))
        .json(&foreign.envelope())
        .send()
        .await
        .unwrap();
    signpost_tests::assert_problem(resp, 422, "revocations_refused").await;
    // After a restart the time it took effect is still known.
    let mut agg = agg;
    agg.restart().await;
    let kept = audit(&agg, &w.issuer.id()).await;
    assert_eq!(kept[0]["status_since"], after[0]["status_since"]);
    drop(w.issuer_dir);
}

/// The issuer's first list (version 1), signed again as it was: a replay.
fn before_list(w: &World) -> Envelope {
    let key = w.key();
    list_with(w.issuer.id(), &key, 1, &[])
}
