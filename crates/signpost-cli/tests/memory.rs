//! Memory under hostile answers, measured on an aggregator process of its own (not the
//! shared test process, whose memory other tests move).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write as _;
use std::time::{Duration, Instant};

use signpost_tests::{sample_group, Forge, MockNode, Reply};

fn rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

async fn total(url: &str) -> u64 {
    let v: serde_json::Value = signpost_tests::get_json(&format!("{url}/v1/groups")).await;
    v["total_items"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_answers_do_not_grow_the_aggregators_memory() {
    let mut forge = Forge::new("Hostile Org");
    forge.put(forge.listing(uuid::Uuid::new_v4(), 1, sample_group(1)));
    forge.put(forge.listing(uuid::Uuid::new_v4(), 1, sample_group(2)));
    let mock = MockNode::start().await;
    let snap = forge.snapshot();
    mock.publish(&forge, &snap);

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("aggregator.toml");
    std::fs::write(
        &config,
        format!(
            "store_dir = \"store\"\n[crawl]\ninterval_secs = 1\ntimeout_secs = 1\nmax_body_bytes = 262144\n[[nodes]]\nurl = \"{}\"\nid = \"{}\"\n",
            mock.url, forge.id
        ),
    )
    .unwrap();
    let args = [
        "aggregator".to_owned(),
        "serve".into(),
        "--config".into(),
        config.display().to_string(),
        "--listen".into(),
        "127.0.0.1:0".into(),
    ];
    let (mut agg, url) = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::serve(&args, "warn")
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while total(&url).await != 2 {
        assert!(Instant::now() < deadline, "first crawl");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = agg.id();
    let before = rss(pid);
    assert!(before > 0);

    // Endless bodies, a gzip bomb (64 MiB of zeros in about 64 KiB) and a body one byte
    // over the cap, over and over, for several crawls each.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..64 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    let over = format!("{{\"payload\":\"{}\"}}", "A".repeat(262_144 - 12));
    for reply in [
        Reply::Endless,
        Reply::Gzip(bomb.clone()),
        Reply::Json(over.into_bytes()),
        Reply::Endless,
    ] {
        let reply_for = |r: &Reply| match r {
            Reply::Endless => Reply::Endless,
            Reply::Gzip(b) => Reply::Gzip(b.clone()),
            Reply::Json(b) => Reply::Json(b.clone()),
            _ => Reply::Status(500),
        };
        mock.set("/v1/snapshot", reply_for(&reply));
        mock.set("/v1/bundle", reply);
        tokio::time::sleep(Duration::from_millis(2500)).await;
    }
    let after = rss(pid);
    let grown = after.saturating_sub(before);
    println!(
        "aggregator RSS {} MiB before, {} MiB after hostile answers",
        before / (1024 * 1024),
        after / (1024 * 1024)
    );
    assert!(
        grown < 64 * 1024 * 1024,
        "memory grew by {} MiB",
        grown / (1024 * 1024)
    );
    assert_eq!(
        total(&url).await,
        2,
        "the last verified data is still served"
    );
    agg.kill().unwrap();
    agg.wait().unwrap();
}
