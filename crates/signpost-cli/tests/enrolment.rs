//! Getting listed, as an operator does it: a node (the real binary) asks a directory (the
//! real binary) to list it; `signpost aggregator enrolments list` shows the request and
//! `approve` makes the directory crawl the node at once. No TOML is edited.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{bin, serve, serve_aggregator};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn an_operator_approves_a_node_with_the_cli() {
    let work = tempfile::tempdir().unwrap();
    let node_dir = work.path().join("node");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let init = common::init_node_at(&node_dir, "CLI Charity", &url);
    assert!(
        init.printed
            .contains(&format!("{url}/manage/sign-in/once/")),
        "init prints the one-time link: {}",
        init.printed
    );
    let (id, token) = (init.id, init.token);
    let listen = format!("127.0.0.1:{port}");
    let (mut node, _) = serve(
        &[
            "node",
            "serve",
            "--dir",
            node_dir.to_str().unwrap(),
            "--listen",
            &listen,
        ],
        "warn",
    );
    let http = reqwest::blocking::Client::new();
    let group = signpost_tests::sample_group(11);
    let created = http
        .post(format!("{url}/admin/listings"))
        .bearer_auth(token.trim())
        .json(&group)
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);

    let config = work.path().join("aggregator.toml");
    std::fs::write(
        &config,
        "store_dir = \"store\"\n[enrolment]\nadmin_token_file = \"operator-token\"\n",
    )
    .unwrap();
    let (mut agg, agg_url) = serve_aggregator(&config, "warn");

    let asked = http
        .post(format!("{agg_url}/v1/enrolments"))
        .json(&serde_json::json!({"id": id, "url": url, "name": "CLI Charity", "contact": "volunteer@example.org"}))
        .send()
        .unwrap();
    assert_eq!(asked.status(), 202, "{}", asked.text().unwrap_or_default());

    let cli = |args: &[&str]| {
        let out = bin()
            .args(["aggregator", "enrolments"])
            .args(args)
            .args(["--config", config.to_str().unwrap(), "--url", &agg_url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let listed = cli(&["list"]);
    assert!(
        listed.starts_with("pending")
            && listed.contains("CLI Charity")
            && listed.contains("volunteer@example.org"),
        "{listed}"
    );
    let approved = cli(&["approve", &id]);
    assert!(approved.starts_with("approved"), "{approved}");

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let page: serde_json::Value = http
            .get(format!("{agg_url}/v1/groups"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        if page["total_items"] == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the approved node is crawled at once"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = agg.kill();
    let _ = node.kill();
    let _ = agg.wait();
    let _ = node.wait();
}
