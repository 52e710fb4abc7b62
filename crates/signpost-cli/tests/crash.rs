//! Process-level durability: SIGKILL the node while a client writes, restart it, and check
//! that every acknowledged write is there and the snapshot chain is unbroken.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{bin, serve_node};

use signpost_protocol::{Listing, Snapshot, Verified};

fn verified_state(url: &str, pinned: &str) -> (Verified<Snapshot>, Vec<Verified<Listing>>) {
    let pinned = pinned.parse().unwrap();
    let client = common::node_client(url);
    let (doc, bundle) = common::block_on(async {
        (
            client.verified_document(&pinned).await.unwrap(),
            client.bundle().await.unwrap(),
        )
    });
    let keys = doc.signing_verifying_keys();
    let snap = Verified::<Snapshot>::verify(bundle.snapshot, &keys).unwrap();
    let listings: Vec<Verified<Listing>> = bundle
        .listings
        .into_iter()
        .map(|e| Verified::verify(e, &keys).unwrap())
        .collect();
    for l in &listings {
        let entry = snap
            .listings
            .iter()
            .find(|e| e.id == l.id)
            .expect("every bundled listing is in the snapshot");
        assert_eq!(entry.sha256, l.digest());
    }
    assert_eq!(snap.listings.len(), listings.len());
    (snap, listings)
}

#[test]
fn sigkill_during_writes_loses_no_acknowledged_change() {
    let dir = tempfile::tempdir().unwrap();
    let node_dir = dir.path().join("node");
    let (pinned, token) = common::init_node(&node_dir, "Crash Test");
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();

    let (mut child, url) = serve_node(&node_dir, "warn");
    let now = chrono::Utc::now();
    // Write from another thread; kill the node while it writes.
    let writer = {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        std::thread::spawn(move || {
            let mut acked = Vec::new();
            for seed in 0..10_000u64 {
                let group = signpost_protocol::sample::group(seed, seed as usize, now);
                match http
                    .post(format!("{url}/admin/listings"))
                    .bearer_auth(&token)
                    .json(&group)
                    .send()
                {
                    Ok(r) if r.status() == 201 => {
                        let body: serde_json::Value = r.json().unwrap();
                        acked.push(body["listing"]["id"].as_str().unwrap().to_owned());
                    }
                    _ => break,
                }
            }
            acked
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let acked = writer.join().unwrap();
    assert!(
        acked.len() > 5,
        "the writer got some acknowledgements before the kill ({})",
        acked.len()
    );

    let (mut child, url) = serve_node(&node_dir, "warn");
    let (snap, listings) = verified_state(&url, &pinned);
    for id in &acked {
        assert!(
            listings.iter().any(|l| l.id.to_string() == *id),
            "acknowledged listing {id} survived"
        );
    }
    assert!(
        snap.seq > acked.len() as u64,
        "seq {} after {} acknowledged writes",
        snap.seq,
        acked.len()
    );

    // The chain continues from the snapshot served after the restart.
    let first = listings[0].id;
    let r = http
        .patch(format!("{url}/admin/listings/{first}/capacity"))
        .bearer_auth(&token)
        // Open with one place: consistent whatever the listing said before.
        .json(&serde_json::json!({"accepting_referrals": true, "places_available": 1}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let (next, _) = verified_state(&url, &pinned);
    assert_eq!(next.seq, snap.seq + 1);
    assert_eq!(next.prev, Some(snap.digest()));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn root_rotation_offline_extends_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let node_dir = dir.path().join("node");
    let pinned = common::init_node(&node_dir, "Root Rotation").0;
    let new_root = dir.path().join("new-root.pem");
    let new_did = String::from_utf8(
        bin()
            .args(["keys", "generate", "--out", new_root.to_str().unwrap()])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let out = bin()
        .args([
            "node",
            "root",
            "rotate",
            "--dir",
            node_dir.to_str().unwrap(),
            "--new-root-key",
            new_root.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (mut child, url) = serve_node(&node_dir, "warn");
    let chain = common::block_on(common::node_client(&url).walk_chain(
        &pinned.parse().unwrap(),
        &[],
        100,
        chrono::Utc::now(),
    ))
    .unwrap();
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[1].root_keys[0].to_string(), new_did.trim());
    assert_eq!(chain[1].id.to_string(), pinned, "the id never changes");
    child.kill().unwrap();
    child.wait().unwrap();
}
