//! What a charity does with its node beyond the browser (which `tests/browser` drives): the
//! admin API's errors in words, all at once; asking a directory to be listed, and the
//! operator approving, declining and withdrawing (the CLI's side is in
//! `crates/signpost-cli/tests/enrolment.rs`);
//! a second change pushed within a second still reaching the
//! directory.

use std::time::Duration;

use serde_json::json;
use signpost_protocol::wire::{EnrolmentRequest, EnrolmentStatus};
use signpost_tests::aggregator::TestAggregator;
use signpost_tests::{assert_problem, listed, sample_group, TestNode};

#[tokio::test]
async fn the_admin_api_lists_every_mistake_in_words() {
    let node = TestNode::start().await;
    let post = |body: &serde_json::Value| {
        let sent = node
            .admin(reqwest::Method::POST, "/admin/listings")
            .json(body)
            .send();
        async move { sent.await.unwrap() }
    };
    let mut body = serde_json::to_value(sample_group(3)).unwrap();
    body["languages"] = json!(["arabic", "AR"]);
    let (lat, lon) = (
        body["location"]["lat"].clone(),
        body["location"]["lon"].clone(),
    );
    body["location"]["lat"] = lon;
    body["location"]["lon"] = lat;
    body["access"]["self_referral"] = json!(true);
    body["contact"] = json!({});
    body["capacity"]["accepting_referrals"] = json!(true);
    body["capacity"]["places_available"] = json!(0);
    // A capacity confirmation time from the client is never taken (and may be left out).
    body["capacity"]
        .as_object_mut()
        .unwrap()
        .remove("updated_at");
    let resp = post(&body).await;
    let problem = assert_problem(resp, 422, "invalid_listing").await;
    let errors = problem["errors"].as_array().unwrap();
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    for expected in [
        ("group.languages[0]", "invalid_language"),
        ("group.languages[1]", "invalid_language"),
        ("group.location.lat", "swapped_coordinates"),
        ("group.contact", "needs_contact"),
        ("group.capacity.places_available", "contradiction"),
    ] {
        assert!(found.contains(&expected), "{expected:?} not in {found:?}");
    }
    for e in errors {
        let message = e["message"].as_str().unwrap();
        assert!(
            !message.contains("serde") && !message.contains("line "),
            "{message}"
        );
    }

    // Several type mistakes are each named, in one answer.
    let mut body = serde_json::to_value(sample_group(3)).unwrap();
    body["schedule"][0]["opens"] = json!("6pm");
    body["capacity"]["places_available"] = json!("five");
    body["colour"] = json!("blue");
    let resp = post(&body).await;
    let problem = assert_problem(resp, 400, "malformed_json").await;
    let mut fields = listed(&problem, "field");
    fields.sort();
    assert_eq!(
        fields,
        [
            "group.capacity.places_available",
            "group.colour",
            "group.schedule[0].opens"
        ],
        "{problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("the body is not valid JSON for this endpoint: 3 problems"),
        "{problem}"
    );
    // A capacity change with two wrong fields names both.
    let id = node.create(&sample_group(4)).await;
    let resp = node
        .admin(
            reqwest::Method::PATCH,
            &format!("/admin/listings/{id}/capacity"),
        )
        .json(&json!({"accepting_referrals": "yes", "places_available": -1}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(resp, 400, "malformed_json").await;
    assert_eq!(
        listed(&problem, "field"),
        ["accepting_referrals", "places_available"],
        "{problem}"
    );
    // A field given twice is named (JSON would keep only the last), and a list is not a
    // patch.
    let mut text = serde_json::to_string(&sample_group(5)).unwrap();
    text.insert_str(1, r#""name": "Another name", "#);
    // JSON text sent as it is, to a path of the admin API.
    let send = |method: reqwest::Method, path: String, text: String| {
        let sent = node
            .admin(method, &path)
            .header("content-type", "application/json")
            .body(text)
            .send();
        async move { sent.await.unwrap() }
    };
    let resp = send(reqwest::Method::POST, "/admin/listings".into(), text).await;
    let problem = assert_problem(resp, 400, "malformed_json").await;
    assert_eq!(listed(&problem, "field"), ["group.name"], "{problem}");
    assert_eq!(listed(&problem, "code"), ["duplicate_field"], "{problem}");
    let capacity = format!("/admin/listings/{id}/capacity");
    let resp = send(reqwest::Method::PATCH, capacity.clone(), "[true, 3]".into()).await;
    let problem = assert_problem(resp, 400, "malformed_json").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .ends_with("the body must be an object with named fields"),
        "{problem}"
    );
    // Text that is not JSON at all is placed, in words.
    for (text, words) in [
        (
            "not json",
            "not well-formed JSON: the mistake is at line 1, column 2",
        ),
        ("{\"accepting_referrals\": ", "ends before it is complete"),
        ("", "the body is empty"),
    ] {
        let resp = send(reqwest::Method::PATCH, capacity.clone(), text.into()).await;
        let problem = assert_problem(resp, 400, "malformed_json").await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(words), "{text:?}: {detail}");
        assert!(
            !detail.contains("deserialize") && !detail.contains("expected"),
            "{detail}"
        );
    }

    // A type mistake names the field and what is expected, not the JSON library's words.
    let mut body = serde_json::to_value(sample_group(3)).unwrap();
    body["schedule"][0]["opens"] = json!("6pm");
    let resp = post(&body).await;
    let problem = assert_problem(resp, 400, "malformed_json").await;
    assert_eq!(problem["errors"][0]["field"], "group.schedule[0].opens");
    assert!(problem["detail"].as_str().unwrap().contains("like 18:30"));

    // And a good one is published with capacity confirmed now, whatever was sent.
    let mut body = serde_json::to_value(sample_group(3)).unwrap();
    body["capacity"]["updated_at"] = json!("2031-01-01T00:00:00Z");
    let resp = post(&body).await;
    assert_eq!(resp.status(), 201);
    let created: serde_json::Value = resp.json().await.unwrap();
    let at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(created["listing"]["group"]["capacity"]["updated_at"].clone())
            .unwrap();
    assert!(at <= chrono::Utc::now());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits, up to 10 s, until the directory serves at least `n` groups.
async fn until_serving(agg: &TestAggregator, n: usize, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while agg.names("").await.len() < n {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A node serving one group, that knows its own address as a real one does, and a
/// directory crawling every second that takes enrolment requests.
struct Enrolling {
    _dir: tempfile::TempDir,
    _secrets: tempfile::TempDir,
    url: String,
    report: signpost_node::InitReport,
    server: signpost_node::NodeServer,
    agg: TestAggregator,
    /// The directory operator's admin token.
    token: String,
}

impl Enrolling {
    async fn start(name: &str, seed: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let report = signpost_node::init(dir.path(), name, &url).unwrap();
        let listen = format!("127.0.0.1:{port}");
        let server = signpost_node::start(dir.path(), &listen, Default::default())
            .await
            .unwrap();
        server.publisher.create(sample_group(seed)).unwrap();
        let secrets = tempfile::tempdir().unwrap();
        let token_path = secrets.path().join("operator-token");
        let agg = TestAggregator::crawling(&[], |c| {
            c.enrolment.admin_token_file = Some(token_path.display().to_string());
            c.crawl.interval_secs = 1;
        })
        .await;
        let token = std::fs::read_to_string(&token_path).unwrap();
        Self {
            _dir: dir,
            _secrets: secrets,
            url,
            report,
            server,
            agg,
            token: token.trim().to_owned(),
        }
    }
}

#[tokio::test]
async fn a_node_asks_to_be_listed_and_the_approved_node_is_crawled_at_once() {
    let Enrolling {
        url,
        report,
        server,
        agg,
        token,
        ..
    } = Enrolling::start("Enrolling Charity", 5).await;
    let token = token.as_str();
    let directory = agg.directory();

    // Someone claiming another node's id at this address is refused.
    let stranger =
        signpost_protocol::DidKey::new(signpost_protocol::keys::generate().verifying_key());
    let err = directory
        .enrol(&EnrolmentRequest {
            id: stranger,
            url: url.clone(),
            name: "Impostor".into(),
            contact: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("enrolment_refused"));

    // The real node asks; the operator sees it pending; nobody else can decide.
    let asked = directory
        .enrol(&EnrolmentRequest {
            id: report.id,
            url: url.clone(),
            name: "Enrolling Charity".into(),
            contact: Some("volunteer@example.org".into()),
        })
        .await
        .unwrap();
    assert_eq!(asked.status, EnrolmentStatus::Pending);
    let listed = directory.enrolments(token).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "Enrolling Charity");
    assert_eq!(
        directory
            .decide_enrolment("wrong-token", &report.id, true)
            .await
            .unwrap_err()
            .code(),
        Some("unauthorized")
    );
    assert!(agg.names("").await.is_empty(), "nothing before approval");

    // Approved: crawled at once, without a restart or any TOML.
    let approved = directory
        .decide_enrolment(token, &report.id, true)
        .await
        .unwrap();
    assert_eq!(approved.status, EnrolmentStatus::Approved);
    until_serving(&agg, 1, "the approved node is crawled").await;

    // The operator withdraws the approval: at once, the node is no longer served, on the
    // feed or in the node list, and the stored decision says so (what a restart trusts).
    let declined = directory
        .decide_enrolment(token, &report.id, false)
        .await
        .unwrap();
    assert_eq!(declined.status, EnrolmentStatus::Declined);
    assert!(agg.names("").await.is_empty(), "withdrawn: not served");
    let nodes = signpost_tests::get_json(&format!("{}/v1/nodes", agg.url)).await;
    assert!(
        !nodes.to_string().contains(&report.id.to_string()),
        "withdrawn: not in the node list: {nodes}"
    );
    let feed = signpost_tests::get_json(&format!("{}/v1/feed?since=0", agg.url)).await;
    assert_eq!(feed["items"].as_array().map(Vec::len), Some(0), "{feed}");
    // Crawled every second while it was approved: a change it publishes now is not
    // taken (its crawl task has stopped, and nothing of it would be installed).
    server.publisher.create(sample_group(9)).unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(agg.names("").await.is_empty(), "withdrawn: not crawled");
    assert_eq!(
        directory.enrolments(token).await.unwrap()[0].status,
        EnrolmentStatus::Declined
    );

    // Approved again: crawled again at once, with what it published meanwhile.
    directory
        .decide_enrolment(token, &report.id, true)
        .await
        .unwrap();
    until_serving(&agg, 2, "approved again: crawled again").await;
    server.stop().await;
}

#[tokio::test]
async fn a_declined_node_is_not_listed_until_the_operator_approves_it_after_all() {
    let Enrolling {
        url,
        report,
        server,
        agg,
        token,
        ..
    } = Enrolling::start("Second Thoughts", 6).await;
    let token = token.as_str();
    let directory = agg.directory();
    directory
        .enrol(&EnrolmentRequest {
            id: report.id,
            url: url.clone(),
            name: "Second Thoughts".into(),
            contact: None,
        })
        .await
        .unwrap();

    let declined = directory
        .decide_enrolment(token, &report.id, false)
        .await
        .unwrap();
    assert_eq!(declined.status, EnrolmentStatus::Declined);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        agg.names("").await.is_empty(),
        "a declined node is not crawled"
    );

    let approved = directory
        .decide_enrolment(token, &report.id, true)
        .await
        .unwrap();
    assert_eq!(approved.status, EnrolmentStatus::Approved);
    until_serving(&agg, 1, "approved after all: crawled at once").await;
    server.stop().await;
}

#[tokio::test]
async fn a_second_change_within_a_second_still_reaches_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let report = signpost_node::init(dir.path(), "Quick Changes", &url).unwrap();
    // A long polling interval: only pushes can bring the changes in time.
    let agg = TestAggregator::crawling(&[(url.clone(), report.id)], |c| {
        c.crawl.interval_secs = 3600;
    })
    .await;
    signpost_tests::edit_config(dir.path(), |c| {
        c.push.subscribers = vec![format!("{}/v1/ping", agg.url)];
    });
    let server = signpost_node::start(dir.path(), &format!("127.0.0.1:{port}"), Default::default())
        .await
        .unwrap();
    // The directory verifies the node once first: a push from a node it has never verified
    // wakes nothing (by design), and its first scheduled crawl may have come before the node
    // listened. From here on only pushes bring changes in.
    agg.crawl().await;
    let token = std::fs::read_to_string(dir.path().join("admin-token")).unwrap();
    let admin = signpost_tests::node_client(&url).admin(token.trim());
    let first = admin.create(&sample_group(7)).await.unwrap();
    until_serving(&agg, 1, "the first push lands").await;
    // Two more changes at once: the second push comes within a second of the first.
    admin
        .capacity(
            first.listing.id,
            &signpost_protocol::wire::CapacityPatch {
                accepting_referrals: Some(false),
                places_available: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    admin.create(&sample_group(8)).await.unwrap();
    until_serving(
        &agg,
        2,
        "the change pushed within the second arrives (deferred, not dropped)",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn a_node_restored_from_an_old_backup_carries_on_and_is_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let report = signpost_node::init(dir.path(), "Restored Charity", &url).unwrap();
    let listen = format!("127.0.0.1:{port}");
    let server = signpost_node::start(dir.path(), &listen, Default::default())
        .await
        .unwrap();
    let token = std::fs::read_to_string(dir.path().join("admin-token")).unwrap();
    let admin = signpost_tests::node_client(&url).admin(token.trim());
    admin.create(&sample_group(31)).await.unwrap();
    let agg = TestAggregator::manual(&[(url.clone(), report.id)], |_| {}).await;
    agg.crawl().await;

    // A backup from the running node, then three more changes the directory sees.
    let http = signpost_tests::client();
    let resp = http
        .post(format!("{url}/admin/backup"))
        .bearer_auth(token.trim())
        .json(&json!({"passphrase": "short"}))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 422, "invalid_listing").await;
    let backup = http
        .post(format!("{url}/admin/backup"))
        .bearer_auth(token.trim())
        .json(&json!({"passphrase": "correct horse battery staple"}))
        .send()
        .await
        .unwrap();
    assert_eq!(backup.status(), 200);
    let backup = backup.bytes().await.unwrap().to_vec();
    let second = admin.create(&sample_group(32)).await.unwrap();
    admin.create(&sample_group(33)).await.unwrap();
    admin
        .capacity(
            second.listing.id,
            &signpost_protocol::wire::CapacityPatch {
                accepting_referrals: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    agg.crawl().await;
    assert_eq!(agg.names("").await.len(), 3);
    let before = agg.node_health(&report.id).await;

    // The machine dies; the old backup is restored elsewhere and serves at the same address.
    server.stop().await;
    let elsewhere = tempfile::tempdir().unwrap();
    let restored_dir = elsewhere.path().join("node");
    signpost_node::backup::restore(&backup, "correct horse battery staple", &restored_dir).unwrap();
    let restored = signpost_node::start(&restored_dir, &listen, Default::default())
        .await
        .unwrap();
    let mut after_restore = sample_group(34);
    after_restore.name = "Back After The Restore".into();
    admin.create(&after_restore).await.unwrap();
    agg.crawl().await;
    let names = agg.names("").await;
    assert!(
        names.contains(&"Back After The Restore".to_owned()),
        "the directory serves the restored node's change: {names:?}"
    );
    let health = agg.node_health(&report.id).await;
    assert_eq!(health.last_refusal, None, "not refused as a rollback");
    assert!(health.seq > before.seq);
    restored.stop().await;
}

/// The Status page's list of directories (its items' markup), or nothing when it has none.
fn directories_on(page: &str) -> String {
    page.split("<ul class=\"directories\">")
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .map(str::to_owned)
        .unwrap_or_default()
}

#[tokio::test]
async fn the_status_page_says_how_each_directory_lists_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let report = signpost_node::init(dir.path(), "Seen Or Not", &url).unwrap();
    let listing = TestAggregator::crawling(&[(url.clone(), report.id)], |c| {
        c.crawl.interval_secs = 3600;
    })
    .await;
    let other = TestAggregator::crawling(&[], |_| {}).await;
    let nobody = format!("http://127.0.0.1:{}", free_port());
    signpost_tests::edit_config(dir.path(), |c| {
        c.push.subscribers = vec![
            format!("{}/v1/ping", listing.url),
            format!("{}/v1/ping/", other.url),
            format!("{nobody}/v1/ping"),
        ];
    });
    let server = signpost_node::start(dir.path(), &format!("127.0.0.1:{port}"), Default::default())
        .await
        .unwrap();
    listing.crawl().await;
    let token = std::fs::read_to_string(dir.path().join("admin-token")).unwrap();
    let admin = signpost_tests::node_client(&url).admin(token.trim());
    admin.create(&sample_group(4)).await.unwrap();
    until_serving(&listing, 1, "the change is pushed and read").await;

    // The directory API: one node's health, as in the list of all of them.
    let health = signpost_tests::get_json(&format!("{}/v1/nodes/{}", listing.url, report.id)).await;
    assert_eq!(health["id"], report.id.to_string(), "{health}");
    assert_eq!(health["status"], "healthy", "{health}");
    assert_eq!(health["listings"], 1, "{health}");
    let seq = health["seq"].as_u64().unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let not_listed = http
        .get(format!("{}/v1/nodes/{}", other.url, report.id))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(not_listed, 404, "node_not_found").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&report.id.to_string()),
        "{problem}"
    );
    let not_an_id = http
        .get(format!("{}/v1/nodes/not-a-did", other.url))
        .send()
        .await
        .unwrap();
    assert_problem(not_an_id, 404, "invalid_node_id").await;

    // The node's status page: each directory's answer in words, and what to do about it.
    let page = signpost_tests::signed_in_page(&http, &url, token.trim(), "/manage/status").await;
    let list = directories_on(&page);
    let items: Vec<&str> = list.split("<li>").skip(1).collect();
    assert_eq!(items.len(), 3, "{page}");
    let item = |base: &str| {
        *items
            .iter()
            .find(|i| i.contains(&format!(">{base}</span>")))
            .unwrap_or_else(|| panic!("{base} in {items:?}"))
    };
    let listed = item(&listing.url);
    assert!(
        listed.contains(&format!(
            "Listed: it shows 1 group from snapshot {seq} (your latest); last read just now."
        )),
        "{listed}"
    );
    assert!(!listed.contains("error-message"), "{listed}");
    let unlisted = item(&other.url);
    assert!(
        unlisted.contains("Not listed. Send its operator the enrolment card"),
        "{unlisted}"
    );
    assert!(unlisted.contains("error-message"), "{unlisted}");
    let unreachable = item(&nobody);
    assert!(
        unreachable.contains(&format!("We could not reach {nobody}")),
        "{unreachable}"
    );
    assert!(unreachable.contains("error-message"), "{unreachable}");
    server.stop().await;
}

#[tokio::test]
async fn a_directory_asked_from_the_status_page_is_told_of_changes_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let listen = format!("127.0.0.1:{port}");
    let report = signpost_node::init(dir.path(), "Asked From The Page", &url).unwrap();
    let secrets = tempfile::tempdir().unwrap();
    let token_path = secrets.path().join("operator-token");
    // Never crawled on a schedule: only the approval and the node's pushes bring changes.
    let agg = TestAggregator::crawling(&[], |c| {
        c.enrolment.admin_token_file = Some(token_path.display().to_string());
        c.crawl.interval_secs = 3600;
    })
    .await;
    let operator = std::fs::read_to_string(&token_path).unwrap();
    let server = signpost_node::start(dir.path(), &listen, Default::default())
        .await
        .unwrap();
    server.publisher.create(sample_group(11)).unwrap();
    let token = std::fs::read_to_string(dir.path().join("admin-token")).unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let session = signpost_tests::signed_in_session(&http, &url, token.trim()).await;
    let status_page = || signpost_tests::session_page(&http, &url, &session, "/manage/status");
    let page = status_page().await;
    assert!(directories_on(&page).is_empty(), "no directory yet: {page}");

    // The volunteer asks the directory from the Status page.
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's forms carry a CSRF token")
        .to_owned();
    let asked = http
        .post(format!("{url}/manage/status/enrol"))
        .header("cookie", &session)
        .header("origin", &url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("directory", &format!("{}/", agg.url)),
            ("contact", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 303, "{}", asked.text().await.unwrap());
    let item = directories_on(&status_page().await);
    assert!(item.contains(&format!(">{}</span>", agg.url)), "{item}");
    assert!(
        item.contains("Not listed yet: this node has asked to be listed"),
        "{item}"
    );

    // Approved: crawled at once; from then on each change is pushed to it.
    agg.directory()
        .decide_enrolment(operator.trim(), &report.id, true)
        .await
        .unwrap();
    until_serving(&agg, 1, "the approved node is crawled").await;
    let admin = signpost_tests::node_client(&url).admin(token.trim());
    admin.create(&sample_group(12)).await.unwrap();
    until_serving(&agg, 2, "the change is pushed to the directory it asked").await;
    let item = directories_on(&status_page().await);
    assert!(
        item.contains("Listed: it shows 2 groups from snapshot"),
        "{item}"
    );
    assert!(item.contains("(your latest)"), "{item}");

    // A restart keeps it: still shown, still told of changes.
    server.stop().await;
    let server = signpost_node::start(dir.path(), &listen, Default::default())
        .await
        .unwrap();
    let admin = signpost_tests::node_client(&url).admin(token.trim());
    admin.create(&sample_group(13)).await.unwrap();
    until_serving(&agg, 3, "after a restart, changes are still pushed").await;
    let page = signpost_tests::signed_in_page(&http, &url, token.trim(), "/manage/status").await;
    let item = directories_on(&page);
    assert!(
        item.contains("Listed: it shows 3 groups from snapshot"),
        "{item}"
    );
    server.stop().await;
}
