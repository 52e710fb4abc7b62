//! Upgrades: a node directory written by an earlier release (a committed fixture: keys,
//! config and a store of format 1 with two listings) is opened by the binary, migrated and
//! served; a store claiming a newer format is refused with a clear message, every key and
//! value left as it was.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{bin, serve_node};

fn unpack(to: &Path) {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/node-store-format-1.tar.gz"
    ))
    .unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()))
        .unpack(to)
        .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    for secret in ["admin-token", "root-key.pem", "signing-key.pem"] {
        std::fs::set_permissions(
            to.join("node").join(secret),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
}

#[test]
fn a_store_written_by_an_earlier_release_is_served_and_a_newer_one_refused_untouched() {
    let work = tempfile::tempdir().unwrap();
    unpack(work.path());
    let node_dir = work.path().join("node");
    let (mut node, url) = serve_node(&node_dir, "warn");
    let token = std::fs::read_to_string(node_dir.join("admin-token")).unwrap();
    let listings: serde_json::Value = reqwest::blocking::Client::new()
        .get(format!("{url}/admin/listings"))
        .bearer_auth(token.trim())
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(listings.as_array().unwrap().len(), 2, "{listings}");
    let snapshot = reqwest::blocking::get(format!("{url}/v1/snapshot")).unwrap();
    assert_eq!(snapshot.status(), 200);
    node.kill().unwrap();
    node.wait().unwrap();

    // The same store, as if a later Signpost had migrated it.
    std::thread::sleep(std::time::Duration::from_millis(300));
    {
        let store = signpost_store::Store::open(&node_dir.join("store")).unwrap();
        assert_eq!(store.format().unwrap(), signpost_store::FORMAT);
        let mut batch = signpost_store::WriteBatch::new();
        batch
            .put("store/format", &(signpost_store::FORMAT + 1))
            .unwrap();
        store.commit(batch).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let before = signpost_store::Store::contents_of(&node_dir.join("store")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let node_dir_text = node_dir.to_str().unwrap();
    let out = bin()
        .args([
            "node",
            "serve",
            "--dir",
            node_dir_text,
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("written by a newer Signpost") && stderr.contains("has not been changed"),
        "{stderr}"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let after = signpost_store::Store::contents_of(&node_dir.join("store")).unwrap();
    assert!(after == before, "every key and value is left as it was");
}
