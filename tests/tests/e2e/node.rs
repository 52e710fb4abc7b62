//! The organisation's node, over HTTP.

use reqwest::Method;
use serde_json::{json, Value};
use signpost_protocol::wire::CapacityPatch;
use signpost_protocol::{Attestation, DidKey, Envelope, Listing, Verified};
use signpost_tests::{assert_problem, refused, sample_group, TestNode};

fn places(n: u32) -> CapacityPatch {
    CapacityPatch {
        places_available: Some(Some(n)),
        ..CapacityPatch::default()
    }
}

/// A sample group as JSON, for bodies the typed client would never send.
fn sample_group_json(seed: u64) -> Value {
    serde_json::to_value(sample_group(seed)).unwrap()
}

#[tokio::test]
async fn publish_update_capacity_delete_and_verify() {
    let node = TestNode::start().await;
    let first = node.snapshot().await;
    assert_eq!(first.seq, 1);
    assert!(first.listings.is_empty());

    let id = node.create(&sample_group(1)).await;
    let snap = node.snapshot().await;
    assert_eq!(snap.seq, 2);
    assert_eq!(
        snap.prev,
        Some(first.digest()),
        "prev chains to the last snapshot"
    );
    assert_eq!(snap.listings.len(), 1);
    assert_eq!(snap.listings[0].id, id);

    // The listing verifies under the node document's signing key and matches the manifest.
    let doc = node.node_document().await;
    let env: Envelope = node
        .get(&format!("/v1/listings/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listing = Verified::<Listing>::verify(env, &doc.signing_verifying_keys()).unwrap();
    assert_eq!(listing.version, 1);
    assert_eq!(listing.node, node.id);
    assert_eq!(listing.digest(), snap.listings[0].sha256);
    assert!(listing.expires_at > listing.issued_at);

    // Replace: version 2.
    let mut group = sample_group(1);
    group.name = "Renamed Conversation Café".into();
    let replaced = node.admin_client().replace(id, &group).await.unwrap();
    assert_eq!(replaced.listing.version, 2);
    assert_eq!(replaced.listing.group.name, "Renamed Conversation Café");

    // Capacity in one small call: version 3, updated_at moves, other fields kept.
    let before = replaced.listing.group.capacity.updated_at.to_rfc3339();
    let body = node
        .set_capacity(
            id,
            CapacityPatch {
                accepting_referrals: Some(false),
                places_available: Some(Some(0)),
                // Sent as JSON null: clears the field.
                waiting_time_days: Some(None),
                ..CapacityPatch::default()
            },
        )
        .await;
    let cap = &body.listing.group.capacity;
    assert_eq!(body.listing.version, 3);
    assert!(!cap.accepting_referrals);
    assert_eq!(cap.places_available, Some(0));
    assert_eq!(cap.waiting_time_days, None, "null clears");
    assert_ne!(cap.updated_at.to_rfc3339(), before);
    assert_eq!(body.listing.group.name, "Renamed Conversation Café");
    assert_eq!(node.snapshot().await.seq, 4);

    // Admin listing shows the version.
    let all: Vec<Value> = node
        .admin(Method::GET, "/admin/listings")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["version"], 3);

    // Delete: gone from the feed, snapshot moves on.
    let resp = node
        .admin(Method::DELETE, &format!("/admin/listings/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_problem(
        node.get(&format!("/v1/listings/{id}"))
            .send()
            .await
            .unwrap(),
        404,
        "listing_not_found",
    )
    .await;
    let snap = node.snapshot().await;
    assert_eq!(snap.seq, 5);
    assert!(snap.listings.is_empty());
}

#[tokio::test]
async fn snapshot_etag_gives_304_until_a_change() {
    let node = TestNode::start().await;
    let resp = node.get("/v1/snapshot").send().await.unwrap();
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && etag.len() == 66,
        "strong etag: {etag}"
    );
    let resp = node
        .get("/v1/snapshot")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);
    let resp = node
        .get("/v1/bundle")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);
    node.create(&sample_group(2)).await;
    let resp = node
        .get("/v1/snapshot")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_ne!(resp.headers()["etag"].to_str().unwrap(), etag);
}

#[tokio::test]
async fn public_endpoints_are_cors_open() {
    let node = TestNode::start().await;
    let resp = node
        .get("/v1/snapshot")
        .header("origin", "https://gp-system.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://gp-system.example"
    );
}

#[tokio::test]
async fn bundle_carries_every_envelope_the_snapshot_names() {
    let node = TestNode::start().await;
    for seed in 10..15 {
        node.create(&sample_group(seed)).await;
    }
    let bundle: Value = node
        .get("/v1/bundle")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let doc = node.node_document().await;
    let keys = doc.signing_verifying_keys();
    let snap: Envelope = serde_json::from_value(bundle["snapshot"].clone()).unwrap();
    let snap = Verified::<signpost_protocol::Snapshot>::verify(snap, &keys).unwrap();
    let listings: Vec<Envelope> = serde_json::from_value(bundle["listings"].clone()).unwrap();
    assert_eq!(listings.len(), 5);
    for env in listings {
        let l = Verified::<Listing>::verify(env, &keys).unwrap();
        let entry = snap.listings.iter().find(|e| e.id == l.id).unwrap();
        assert_eq!(entry.sha256, l.digest());
        assert_eq!(entry.version, l.version);
    }
}

#[tokio::test]
async fn refusals_are_problem_json_and_change_nothing() {
    let node = TestNode::start_with(|c| c.limits.max_listings = 2).await;
    let seq = node.snapshot().await.seq;
    let url = format!("{}/admin/listings", node.url);

    // Missing, wrong and malformed tokens: 401, nothing changed.
    let listing = || node.http.post(&url).json(&sample_group(1));
    refused(listing(), 401, "unauthorized").await;
    refused(listing().bearer_auth("0".repeat(64)), 401, "unauthorized").await;
    refused(
        listing().header("authorization", "Basic abc"),
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(node.snapshot().await.seq, seq);

    let post = |body: String, ctype: &'static str| {
        node.admin(Method::POST, "/admin/listings")
            .header("content-type", ctype)
            .body(body)
    };
    let group_with = |change: fn(&mut Value)| {
        let mut g = sample_group_json(1);
        change(&mut g);
        g.to_string()
    };
    let json = "application/json";
    for (body, ctype, status, code) in [
        ("{not json".to_owned(), json, 400, "malformed_json"),
        (
            group_with(|g| g["surprise"] = json!(true)),
            json,
            400,
            "malformed_json",
        ),
        (
            sample_group_json(1).to_string(),
            "text/plain",
            415,
            "unsupported_media_type",
        ),
        (
            json!({"name": "x".repeat(70 * 1024)}).to_string(),
            json,
            413,
            "body_too_large",
        ),
        (
            group_with(|g| g["location"]["lat"] = json!(123.0)),
            json,
            422,
            "invalid_listing",
        ),
        (
            group_with(|g| g["name"] = json!("n".repeat(201))),
            json,
            422,
            "invalid_listing",
        ),
        (
            group_with(|g| g["languages"] = json!(["english!"])),
            json,
            422,
            "invalid_listing",
        ),
    ] {
        refused(post(body, ctype), status, code).await;
    }
    let body = refused(
        post(
            group_with(|g| g["categories"] = json!(["not-a-category"])),
            json,
        ),
        422,
        "invalid_listing",
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("group.categories"),
        "{body}"
    );
    assert_eq!(
        node.snapshot().await.seq,
        seq,
        "no refusal changed anything"
    );

    // The listing limit.
    node.create(&sample_group(1)).await;
    node.create(&sample_group(2)).await;
    refused(
        post(sample_group_json(3).to_string(), json),
        409,
        "listing_limit_reached",
    )
    .await;

    // Unknown things.
    let missing = uuid::Uuid::new_v4();
    let listing = format!("/admin/listings/{missing}");
    let capacity = format!("/admin/listings/{missing}/capacity");
    for req in [
        node.admin(Method::PUT, &listing).json(&sample_group(1)),
        node.admin(Method::PATCH, &capacity).json(&json!({})),
        node.admin(Method::DELETE, &listing),
    ] {
        refused(req, 404, "listing_not_found").await;
    }
    refused(node.get("/v1/listings/not-a-uuid"), 404, "invalid_path").await;
    refused(node.get("/v1/node/99"), 404, "node_version_not_found").await;
    refused(node.get("/v1/node/0"), 404, "node_version_not_found").await;
    refused(node.get("/nowhere"), 404, "not_found").await;
    refused(
        node.admin(Method::PATCH, &capacity)
            .json(&json!({"places": 3})),
        400,
        "malformed_json",
    )
    .await;
}

#[tokio::test]
async fn restart_keeps_every_listing_and_seq_and_versions_never_repeat() {
    let mut node = TestNode::start().await;
    let a = node.create(&sample_group(1)).await;
    let b = node.create(&sample_group(2)).await;
    node.set_capacity(a, places(4)).await;
    node.admin(Method::DELETE, &format!("/admin/listings/{b}"))
        .send()
        .await
        .unwrap();
    let before = node.snapshot().await;

    node.restart().await;
    let after = node.snapshot().await;
    assert_eq!(
        after.digest(),
        before.digest(),
        "the same snapshot is served after a restart"
    );
    let env: Envelope = node
        .get(&format!("/v1/listings/{a}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = node.node_document().await.signing_verifying_keys();
    assert_eq!(Verified::<Listing>::verify(env, &keys).unwrap().version, 2);

    // seq continues and chains; a recreated id cannot reuse a version.
    let body = node.set_capacity(a, places(3)).await;
    assert_eq!(body.listing.version, 3);
    let next = node.snapshot().await;
    assert_eq!(next.seq, before.seq + 1);
    assert_eq!(next.prev, Some(before.digest()));
}

#[tokio::test]
async fn signing_key_rotation_extends_the_chain_and_resigns() {
    let node = TestNode::start().await;
    let id = node.create(&sample_group(5)).await;
    let old_keys = node.node_document().await.signing_verifying_keys();
    let resp = node
        .admin(Method::POST, "/admin/keys/rotate")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let doc = node.node_document().await; // walks and verifies v1 -> v2 from the pinned id
    assert_eq!(doc.version, 2);
    let new_keys = doc.signing_verifying_keys();
    assert_ne!(new_keys, old_keys);
    let env: Envelope = node
        .get(&format!("/v1/listings/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(Verified::<Listing>::verify(env.clone(), &old_keys).is_err());
    assert_eq!(
        Verified::<Listing>::verify(env, &new_keys).unwrap().version,
        2
    );
    node.snapshot().await; // verifies under the new key
}

#[tokio::test]
async fn rotation_without_the_root_key_is_refused() {
    let node = TestNode::start().await;
    std::fs::rename(
        node.dir.path().join("root-key.pem"),
        node.dir.path().join("offline.pem"),
    )
    .unwrap();
    let resp = node
        .admin(Method::POST, "/admin/keys/rotate")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 409, "root_key_unavailable").await;
    assert_eq!(node.node_document().await.version, 1);
}

fn attestation(issuer: &ed25519_dalek::SigningKey, subject: DidKey, serial: &str) -> Envelope {
    let now = chrono::Utc::now();
    let att = Attestation {
        issuer: DidKey::new(issuer.verifying_key()),
        subject,
        achievement: "trauma-informed-practice".into(),
        level: Some("foundation".into()),
        valid_from: now - chrono::Duration::days(1),
        valid_until: now + chrono::Duration::days(365),
        serial: serial.into(),
    };
    Verified::sign(att, issuer)
        .unwrap()
        .envelope()
        .to_envelope()
}

#[tokio::test]
async fn attestations_are_checked_imported_and_published() {
    let node = TestNode::start().await;
    let issuer = signpost_protocol::keys::generate();
    let good = attestation(&issuer, node.id, "TIP-1");
    let resp = node
        .admin(Method::POST, "/admin/attestations")
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let snap = node.snapshot().await;
    assert_eq!(snap.attestations, vec![good.digest().unwrap()]);
    let bundle: Value = node
        .get("/v1/bundle")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        bundle["attestations"][0],
        serde_json::to_value(&good).unwrap()
    );

    let other_org = DidKey::new(signpost_protocol::keys::generate().verifying_key());
    let resp = node
        .admin(Method::POST, "/admin/attestations")
        .json(&attestation(&issuer, other_org, "TIP-2"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 422, "attestation_wrong_subject").await;
    let mut tampered = attestation(&issuer, node.id, "TIP-3");
    let payload = String::from_utf8(tampered.payload_bytes().unwrap())
        .unwrap()
        .replace("foundation", "advanced");
    tampered.payload = signpost_tests::b64(payload.as_bytes());
    let resp = node
        .admin(Method::POST, "/admin/attestations")
        .json(&tampered)
        .send()
        .await
        .unwrap();
    assert_problem(resp, 422, "attestation_invalid").await;
    assert_eq!(node.snapshot().await.attestations.len(), 1);
}

#[tokio::test]
async fn the_node_resigns_before_expiry_on_its_own() {
    let node = TestNode::start_with(|c| c.publishing.lifetime_secs = 4).await;
    node.create(&sample_group(3)).await;
    let first = node.snapshot().await;
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let later = node.snapshot().await;
    assert!(
        later.seq > first.seq,
        "re-signed: seq {} -> {}",
        first.seq,
        later.seq
    );
    assert!(later.expires_at > chrono::Utc::now());
    let bundle: Value = node
        .get("/v1/bundle")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let env: Envelope = serde_json::from_value(bundle["listings"][0].clone()).unwrap();
    let keys = node.node_document().await.signing_verifying_keys();
    let listing = Verified::<Listing>::verify(env, &keys).unwrap();
    assert!(listing.version > 1 && listing.expires_at > chrono::Utc::now());
}

#[tokio::test]
async fn init_refuses_to_overwrite_and_serve_refuses_readable_secrets() {
    let node = TestNode::start().await;
    assert!(signpost_node::init(node.dir.path(), "Again", "http://x").is_err());
    let dir = tempfile::tempdir().unwrap();
    signpost_node::init(dir.path(), "Loose Perms", "http://127.0.0.1").unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(
        dir.path().join("admin-token"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let err = signpost_node::start(dir.path(), "127.0.0.1:0", Default::default())
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("readable by other users"), "{err}");
}

#[tokio::test]
async fn the_node_serves_https_itself() {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    signpost_node::init(dir.path(), "HTTPS Charity", "https://127.0.0.1").unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert.cert.pem()).unwrap();
    signpost_store::keyfile::write_secret(
        &dir.path().join("key.pem"),
        cert.signing_key.serialize_pem().as_bytes(),
    )
    .unwrap();
    signpost_tests::edit_config(dir.path(), |c| {
        c.tls = Some(signpost_node::config::Tls::files("cert.pem", "key.pem"))
    });
    let server = signpost_node::start(dir.path(), "127.0.0.1:0", Default::default())
        .await
        .unwrap();
    assert!(server.url().starts_with("https://"));
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let resp = client
        .get(format!("{}/v1/snapshot", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // Plain HTTP is not served on that port.
    let plain = client
        .get(format!("http://{}/v1/snapshot", server.addr))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    server.stop().await;
}

#[tokio::test]
async fn an_old_admin_token_is_refused_after_rotation() {
    let mut node = TestNode::start().await;
    let old = node.token.clone();
    node.stop().await;
    let path = signpost_node::rotate_admin_token(node.dir.path()).unwrap();
    node.token = std::fs::read_to_string(path).unwrap().trim().to_owned();
    assert_ne!(old, node.token);
    node.start_again().await;
    let resp = node
        .http
        .get(format!("{}/admin/listings", node.url))
        .bearer_auth(&old)
        .send()
        .await
        .unwrap();
    assert_problem(resp, 401, "unauthorized").await;
    let resp = node
        .admin(Method::GET, "/admin/listings")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn the_node_sets_when_capacity_was_confirmed_never_the_client() {
    let node = TestNode::start().await;
    let mut g = sample_group(1);
    // A client's clock (or a typo) says 2031: that would read as "accepting" for ever.
    g.capacity.updated_at = "2031-01-01T00:00:00Z".parse().unwrap();
    let before = chrono::Utc::now();
    let created = node.admin_client().create(&g).await.unwrap();
    let confirmed = created.listing.group.capacity.updated_at;
    assert!(
        confirmed >= before && confirmed <= chrono::Utc::now(),
        "{confirmed}"
    );

    // Replacing other facts keeps the confirmation time; changing capacity confirms it now.
    let mut renamed = created.listing.group.clone();
    renamed.name = "Renamed".into();
    renamed.capacity.updated_at = "2031-01-01T00:00:00Z".parse().unwrap();
    let id = created.listing.id;
    let replaced = node.admin_client().replace(id, &renamed).await.unwrap();
    assert_eq!(replaced.listing.group.capacity.updated_at, confirmed);
    let mut fuller = replaced.listing.group.clone();
    fuller.capacity.places_available = Some(1);
    let replaced = node.admin_client().replace(id, &fuller).await.unwrap();
    assert!(replaced.listing.group.capacity.updated_at > confirmed);
}

#[tokio::test]
async fn the_node_renews_its_document_well_before_it_expires() {
    let node = TestNode::start().await;
    let publisher = &node.server.as_ref().unwrap().publisher;
    let now = chrono::Utc::now();
    assert!(
        !publisher.renew_document_if_due(now).unwrap(),
        "not due yet"
    );
    // Seven months on, less than half of the year's lifetime is left: renewed.
    let later = now + chrono::Duration::days(200);
    assert!(publisher.renew_document_if_due(later).unwrap());
    let doc = node.node_document().await;
    assert_eq!(doc.version, 2, "a new version, verified along the chain");
    assert!(doc.expires > later + chrono::Duration::days(300));
    assert_eq!(doc.signing_keys.len(), 1, "same keys");
}

#[tokio::test]
async fn a_wrong_address_is_named_in_words_to_a_program_and_a_page_to_a_browser() {
    let node = TestNode::start().await;
    let get = |path: &str| node.http.get(format!("{}{path}", node.url));

    // A program: a problem naming what is wrong, never the deserialiser's own words.
    let body = refused(get("/v1/listings/not-an-id"), 404, "invalid_path").await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("id: \"not-an-id\" is not a UUID"),
        "{detail}"
    );
    assert!(
        !detail.contains("deserialize") && !detail.contains("parsing failed"),
        "{detail}"
    );
    let body = refused(get("/v1/node/first"), 404, "invalid_path").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("version: \"first\" is not a whole number"),
        "{body}"
    );
    let body = refused(
        node.admin(Method::DELETE, "/admin/listings/zz"),
        404,
        "invalid_path",
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("id: \"zz\""),
        "{body}"
    );
    // A parameter given to a read that takes none is refused by name, not ignored.
    for path in [
        "/v1/snapshot?since=3",
        "/v1/bundle?x=1",
        "/.well-known/signpost/node?v=2",
    ] {
        let body = refused(get(path), 400, "unknown_parameter").await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .ends_with("is not a parameter of this endpoint; it takes none"),
            "{path}: {body}"
        );
    }
    assert_eq!(get("/v1/snapshot").send().await.unwrap().status(), 200);
    // A group sent with its required fields missing: every one named in one answer, not
    // the first only.
    let body = refused(
        node.admin(Method::POST, "/admin/listings")
            .json(&json!({"name": "Tea"})),
        400,
        "malformed_json",
    )
    .await;
    let missing = signpost_tests::listed(&body, "field");
    for field in [
        "group.description",
        "group.access",
        "group.capacity",
        "group.safeguarding",
    ] {
        assert!(missing.iter().any(|f| f == field), "{field} in {missing:?}");
    }
    assert!(!missing.iter().any(|f| f == "group.name"), "{missing:?}");
    // A path no route answers is named, without its query (it can hold a postcode).
    let body = refused(get("/v2/listings?postcode=LS8+5AB"), 404, "not_found").await;
    assert_eq!(
        body["detail"],
        "there is nothing at /v2/listings on this server"
    );

    // A browser: a page in words, with the way back, and the pages' own headers.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let page = browser
        .get(format!("{}/manage/nothing-here", node.url))
        .header("accept", html)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    let header = |name: &str| {
        page.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(header("content-security-policy").is_some_and(|c| c.contains("default-src 'none'")));
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    let text = page.text().await.unwrap();
    assert!(
        text.contains("<h1>Page not found</h1>") && text.contains("href=\"/manage\""),
        "{text}"
    );

    // A group's page whose id is not one: the sign-in page first, as for every page here...
    let to_sign_in = browser
        .get(format!("{}/manage/groups/not-an-id", node.url))
        .header("accept", html)
        .send()
        .await
        .unwrap();
    assert_eq!(to_sign_in.status(), 303);
    assert_eq!(to_sign_in.headers()["location"], "/manage/sign-in");
    // ...and, signed in, a page saying there is no group there.
    let text = signpost_tests::signed_in_page(
        &browser,
        &node.url,
        &node.token,
        "/manage/groups/not-an-id",
    )
    .await;
    assert!(text.contains("<h1>Group not found</h1>"), "{text}");
    assert!(text.contains("There is no group at this address"), "{text}");
    assert!(!text.contains("UUID parsing"), "{text}");
}
