//! The `signpost` binary's key, sign and verify commands, run as a user would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn signpost(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signpost"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const LISTING_TYPE: &str = "application/vnd.signpost.listing.v1+json";

#[test]
fn generate_sign_verify_and_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    let key_s = key.to_str().unwrap();
    let out = signpost(&["keys", "generate", "--out", key_s]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let did = text(&out.stdout).trim().to_owned();
    assert!(did.starts_with("did:key:z6Mk"), "{did}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Never overwrites a key.
    let again = signpost(&["keys", "generate", "--out", key_s]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("refusing to overwrite"),
        "{}",
        text(&again.stderr)
    );

    let payload = b"{\"any\": \"bytes\",  \"kept\": \"exactly\"}\n";
    let file = dir.path().join("listing.json");
    std::fs::write(&file, payload).unwrap();
    let out = signpost(&[
        "sign",
        "--key",
        key_s,
        "--type",
        LISTING_TYPE,
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let envelope = dir.path().join("envelope.json");
    std::fs::write(&envelope, &out.stdout).unwrap();
    let env: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(env["payloadType"], LISTING_TYPE);
    assert_eq!(env["signatures"][0]["keyid"], did.as_str());

    let out = signpost(&[
        "verify",
        "--key",
        &did,
        "--type",
        LISTING_TYPE,
        envelope.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, payload, "prints the exact payload bytes");

    // Wrong type, wrong key, tampered payload: exit 1 and one line saying why.
    let refused = |args: &[&str], env_path: &Path, why: &str| {
        let mut all = args.to_vec();
        all.push(env_path.to_str().unwrap());
        let out = signpost(&all);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(why), "{err} should say {why}");
        assert!(out.stdout.is_empty());
    };
    refused(
        &[
            "verify",
            "--key",
            &did,
            "--type",
            "application/vnd.signpost.node.v1+json",
        ],
        &envelope,
        "payload type",
    );
    let other = dir.path().join("other.pem");
    let other_did = text(&signpost(&["keys", "generate", "--out", other.to_str().unwrap()]).stdout)
        .trim()
        .to_owned();
    refused(
        &["verify", "--key", &other_did, "--type", LISTING_TYPE],
        &envelope,
        "no signature verifies",
    );
    let mut tampered = env.clone();
    tampered["payload"] = serde_json::Value::String("eyJhbnkiOiAib3RoZXIifQ==".into());
    let tampered_path = dir.path().join("tampered.json");
    std::fs::write(&tampered_path, serde_json::to_vec(&tampered).unwrap()).unwrap();
    refused(
        &["verify", "--key", &did, "--type", LISTING_TYPE],
        &tampered_path,
        "no signature verifies",
    );
    refused(
        &[
            "verify",
            "--key",
            "did:key:nonsense",
            "--type",
            LISTING_TYPE,
        ],
        &envelope,
        "did:key",
    );
}

#[test]
fn unreadable_key_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x");
    std::fs::write(&file, "x").unwrap();
    let missing = dir.path().join("missing.pem");
    let out = signpost(&[
        "sign",
        "--key",
        missing.to_str().unwrap(),
        "--type",
        LISTING_TYPE,
        file.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("missing.pem"),
        "{}",
        text(&out.stderr)
    );
}

/// A mistake in what a volunteer types to set a node up is named before anything is
/// written, so the next attempt is not blocked by a half-made node.
#[test]
fn a_node_set_up_with_a_mistake_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("node");
    let nd = node.to_str().unwrap();
    let init = |base_url: &str| {
        signpost(&[
            "node",
            "init",
            "--dir",
            nd,
            "--name",
            "Harehills",
            "--base-url",
            base_url,
        ])
    };
    for (base_url, says) in [
        (
            "harehills.org.uk",
            "\"harehills.org.uk\" is not a web address",
        ),
        ("ftp://harehills.org.uk", "must start with https://"),
        (
            "https://harehills.org.uk/?page=1",
            "must not end in a ?query or #fragment",
        ),
    ] {
        let out = init(base_url);
        assert_eq!(out.status.code(), Some(2), "{base_url}");
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
        assert!(!node.exists(), "{base_url}: nothing written");
    }
    let setup = |more: &[&str]| {
        let mut args = vec!["node", "setup", "--dir", nd, "--name", "Harehills"];
        args.extend_from_slice(more);
        signpost(&args)
    };
    // Automatic HTTPS is checked before the node is made, too.
    let out = setup(&[
        "--domain",
        "harehills.org.uk",
        "--acme-contact",
        "not an email",
    ]);
    assert!(
        text(&out.stderr).contains("tls.acme.contact must be an email address"),
        "{}",
        text(&out.stderr)
    );
    assert!(!node.exists(), "nothing written");
    for (domain, leaves) in [
        ("my charity.org", false),
        ("https://harehills.org.uk/", true),
    ] {
        let out = setup(&["--domain", domain]);
        if leaves {
            assert!(out.status.success(), "{}", text(&out.stderr));
            assert!(
                text(&out.stdout).contains("address:  https://harehills.org.uk\n"),
                "the scheme and / typed are dropped: {}",
                text(&out.stdout)
            );
        } else {
            assert!(
                text(&out.stderr).contains(
                    "domain: \"my charity.org\" is not a domain name: give one like signpost.example.org.uk"
                ),
                "{}",
                text(&out.stderr)
            );
            assert!(!node.exists(), "nothing written");
        }
    }
    // A folder an older build left half-made is named as such, not as a node.
    std::fs::remove_file(node.join("node.toml")).unwrap();
    let out = init("https://harehills.org.uk");
    assert!(
        text(&out.stderr).contains("holds part of a node")
            && text(&out.stderr).contains("no node.toml"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn issuer_attest_import_verify_and_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let d = |p: &str| dir.path().join(p).to_str().unwrap().to_owned();
    let out = signpost(&[
        "issuer",
        "init",
        "--dir",
        &d("issuer"),
        "--name",
        "Yorkshire Trauma Training",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let issuer_id = common::printed_id(&out.stdout);
    let out = signpost(&[
        "node",
        "init",
        "--dir",
        &d("node"),
        "--name",
        "Harehills Welcome",
        "--base-url",
        "http://127.0.0.1",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let node_id = common::printed_id(&out.stdout);

    let out = signpost(&[
        "issuer",
        "attest",
        "--dir",
        &d("issuer"),
        "--subject",
        &node_id,
        "--achievement",
        "trauma-informed-practice",
        "--level",
        "level 2",
        "--valid-until",
        "2099-01-01",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::write(d("att.json"), &out.stdout).unwrap();
    let serial = text(&out.stderr)
        .lines()
        .find(|l| l.starts_with("serial"))
        .unwrap()
        .trim_start_matches("serial")
        .trim()
        .to_owned();

    // Offline import into the stopped node.
    let out = signpost(&[
        "node",
        "attest",
        "import",
        "--dir",
        &d("node"),
        &d("att.json"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Offline check against a trust policy.
    let policy = format!(
        "[[issuers]]\nid = \"{issuer_id}\"\nname = \"Yorkshire Trauma Training\"\nachievements = [\"trauma-informed-practice\"]\nrevocations_url = \"http://127.0.0.1:1/revocations\"\n"
    );
    std::fs::write(d("policy.toml"), policy).unwrap();
    let revocations = d("issuer/revocations.json");
    let out = signpost(&[
        "verify-attestation",
        "--trust",
        &d("policy.toml"),
        "--revocations",
        &revocations,
        &d("att.json"),
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("status: verified"));
    // Without a revocation list the check fails closed.
    let out = signpost(&[
        "verify-attestation",
        "--trust",
        &d("policy.toml"),
        &d("att.json"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("revocation: FAIL"));

    let out = signpost(&["issuer", "revoke", "--dir", &d("issuer"), &serial]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = signpost(&[
        "verify-attestation",
        "--trust",
        &d("policy.toml"),
        "--revocations",
        &revocations,
        &d("att.json"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("status: revoked"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn verify_group_checks_a_result_end_to_end_and_names_what_fails() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    let mut demo = common::bin()
        .args(["demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("demo"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut base = None;
    let mut lines = std::io::BufReader::new(demo.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("Directory API docs:") {
            base = Some(rest.trim().trim_end_matches("/docs/").to_owned());
            break;
        }
    }
    // The rest of what it prints is read, so its output stays open.
    std::thread::spawn(move || lines.for_each(drop));
    let base = base.expect("the demo printed its URLs");
    let http = reqwest::blocking::Client::new();
    let page: serde_json::Value = http
        .get(format!(
            "{base}/v1/groups?verified_training=trauma-informed-practice&per_page=1"
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let first = &page["contents"][0];
    let url = format!(
        "{base}/v1/groups/{}/{}",
        first["node"].as_str().unwrap(),
        first["id"].as_str().unwrap()
    );

    let out = signpost(&["verify-group", &url]);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}");
    for check in [
        "node document chain",
        "snapshot signature",
        "listing signature",
        "listing in the snapshot",
        "the listing shown is the one signed",
        "attestation",
    ] {
        assert!(said.contains(&format!("ok    {check}")), "{check}: {said}");
    }

    // The finder's page or referral card for the group, as a Link Worker copies it, is
    // checked through the same record; another web page is named as one.
    let card = format!(
        "{base}/find/card/{}/{}?lang=ar",
        first["node"].as_str().unwrap(),
        first["id"].as_str().unwrap()
    );
    let out = signpost(&["verify-group", &card]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ok    listing signature"));
    let out = signpost(&["verify-group", &format!("{base}/find?postcode=LS8")]);
    assert!(
        text(&out.stderr).contains("is a web page, not a group's directory record"),
        "{}",
        text(&out.stderr)
    );

    // A saved copy whose shown facts were changed by whoever served it.
    let mut prov: serde_json::Value = http.get(&url).send().unwrap().json().unwrap();
    prov["group"]["listing"]["group"]["capacity"]["places_available"] = serde_json::json!(99);
    let saved = dir.path().join("provenance.json");
    std::fs::write(&saved, serde_json::to_vec(&prov).unwrap()).unwrap();
    let out = signpost(&["verify-group", saved.to_str().unwrap()]);
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("FAIL  the listing shown is the one signed"),
        "{said}"
    );
    assert!(said.contains("ok    listing signature"), "{said}");

    // The configuration the demo wrote works as an operator's does, from any folder: its
    // paths are relative to the file.
    let config = dir.path().join("demo").join("aggregator.toml");
    let out = common::bin()
        .args(["aggregator", "enrolments", "--url", &base, "--config"])
        .arg(&config)
        .arg("list")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "no enrolment requests");

    // What cannot be checked is said in words: the directory's own reason for a 404, a
    // refused connection, a file that is not JSON.
    let missing = format!(
        "{base}/v1/groups/{}/00000000-0000-4000-8000-000000000000",
        first["node"].as_str().unwrap()
    );
    let out = signpost(&["verify-group", &missing]);
    let said = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("HTTP 404: no group 00000000-0000-4000-8000-000000000000 from node"),
        "{said}"
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let out = signpost(&[
        "verify-group",
        &format!("http://127.0.0.1:{port}/v1/groups/a/b"),
    ]);
    let said = text(&out.stderr);
    assert!(
        said.contains("could not connect: the connection was refused: nothing is listening"),
        "{said}"
    );
    let out = signpost(&["verify-group", &format!("https{}", &base["http".len()..])]);
    let said = text(&out.stderr);
    assert!(said.contains("did not answer in HTTPS"), "{said}");
    std::fs::write(&saved, "not json").unwrap();
    let out = signpost(&["verify-group", saved.to_str().unwrap()]);
    let said = text(&out.stderr);
    assert!(
        said.contains("is not a saved provenance document")
            && said.contains("it is not JSON (the first mistake is at line 1, column 2)"),
        "{said}"
    );
    let _ = demo.kill();
    let _ = demo.wait();
}

/// `signpost bench --ingest-only` runs a real farm and aggregator and reports what ingest
/// costs, with the figures it skipped absent from its table rather than printed as zeros.
#[test]
fn bench_ingest_only_measures_the_crawl_the_mirror_and_the_restart() {
    let out = signpost(&[
        "bench",
        "--nodes",
        "3",
        "--listings-per-node",
        "5",
        "--ingest-only",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ingest_only"], true);
    assert_eq!(report["listings"], 15);
    assert_eq!(report["replica_listings"], 15);
    assert_eq!(report["restart_listings"], 15);
    for figure in [
        "verify_strict_per_sec_one_thread",
        "cold_crawl_ratio_to_verify",
        "replica_ratio_to_verify",
        "rss_ratio_to_envelopes",
        "verify_strict_listings_per_sec_one_thread",
    ] {
        assert!(report[figure].as_f64().unwrap() > 0.0, "{figure}: {report}");
    }
    let listing_signature_us = 1e6
        / report["verify_strict_listings_per_sec_one_thread"]
            .as_f64()
            .unwrap();
    // Where the CPU time went in each phase: the aggregator's own, per listing, and how busy
    // the cores were (a share of all their time).
    for phase in ["cold_crawl_cpu", "replica_cpu"] {
        let cpu = &report[phase];
        for figure in ["process_secs", "process_us_per_listing"] {
            assert!(
                cpu[figure].as_f64().unwrap() > 0.0,
                "{phase}.{figure}: {cpu}"
            );
        }
        // Counted in hundredths of a second: a phase this small may be shorter than that.
        if let Some(busy) = cpu["machine_busy"].as_f64() {
            assert!((0.0..=1.0).contains(&busy), "{phase}: {cpu}");
        }
        // Each signature taken checked once: 3 nodes x (5 listings, a node document and a
        // snapshot), and the first node's training attestation.
        assert_eq!(
            cpu["signature_checks_per_listing"].as_f64().unwrap(),
            (3.0 * (5.0 + 2.0) + 1.0) / 15.0,
            "{phase}: {cpu}"
        );
        let per_listing = cpu["process_secs"].as_f64().unwrap() * 1e6 / 15.0;
        let reported = cpu["process_us_per_listing"].as_f64().unwrap();
        assert!(
            (per_listing - reported).abs() < 1e-6 * reported.max(1.0),
            "{cpu}"
        );
        // What a listing costs besides checking its own signature.
        let besides = cpu["besides_listing_signature_us"].as_f64().unwrap();
        assert!(
            (besides - (reported - listing_signature_us)).abs() < 1e-6 * reported,
            "{cpu}"
        );
    }
    assert!(report["cold_crawl_cpu"]["farm_secs"].as_f64().unwrap() >= 0.0);
    assert_eq!(report["queries"], serde_json::json!([]), "no query load");
    assert!(report["peer"].is_null());

    let table = signpost(&[
        "bench",
        "--nodes",
        "2",
        "--listings-per-node",
        "3",
        "--ingest-only",
    ]);
    assert!(table.status.success(), "{}", text(&table.stderr));
    let table = text(&table.stdout);
    assert!(table.contains("cold crawl: total"), "{table}");
    assert!(
        table.contains("cold crawl: aggregator CPU a listing"),
        "{table}"
    );
    assert!(table.contains("verify_strict alone"), "{table}");
    assert!(
        table.contains("verify_strict, one thread, the crawled listings"),
        "{table}"
    );
    assert!(table.contains("us besides its signature"), "{table}");
    // 2 nodes x (3 listings, a document, a snapshot) and one attestation, over 6 listings.
    assert!(
        table.contains("1.833 signature checks a listing"),
        "{table}"
    );
    assert!(
        table.contains("mirror replica catch-up (6 listings)"),
        "{table}"
    );
    assert!(table.contains("--ingest-only"), "{table}");
    assert!(!table.contains("warm re-crawl"), "{table}");
    assert!(!table.contains("node RSS"), "{table}");
}

/// A server that cannot listen says why in words, with what to do.
#[test]
fn a_port_in_use_is_said_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = dir.path().join("issuer");
    let out = signpost(&[
        "issuer",
        "init",
        "--dir",
        issuer.to_str().unwrap(),
        "--name",
        "Yorkshire Trauma Training",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    for (listen, says) in [
        (addr.as_str(), "another program is listening there already"),
        ("nonsense", "give an address and port, like 127.0.0.1:8080"),
    ] {
        let out = signpost(&[
            "issuer",
            "serve",
            "--dir",
            issuer.to_str().unwrap(),
            "--listen",
            listen,
        ]);
        assert_eq!(out.status.code(), Some(2), "{listen}");
        assert!(
            text(&out.stderr).contains(&format!("cannot listen on {listen}: {says}")),
            "{}",
            text(&out.stderr)
        );
    }
}
