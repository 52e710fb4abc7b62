//! Helpers shared by the process-level tests: run the real `signpost` binary.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_signpost"))
}

/// Starts a serving command and returns the child and the first URL it printed. Retries
/// while a killed predecessor still holds the store's lock.
pub fn serve(args: &[&str], log: &str) -> (Child, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut child = bin()
            .args(args)
            .env("SIGNPOST_LOG", log)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            return (child, url.trim_end_matches('/').to_owned());
        }
        let _ = child.wait();
        assert!(Instant::now() < deadline, "did not start: {line}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `signpost node serve` on `dir`, on a free port: the child and its URL.
pub fn serve_node(dir: &Path, log: &str) -> (Child, String) {
    let dir = dir.to_str().unwrap();
    serve(
        &["node", "serve", "--dir", dir, "--listen", "127.0.0.1:0"],
        log,
    )
}

/// `signpost aggregator serve` with `config`, on a free port: the child and its URL.
pub fn serve_aggregator(config: &Path, log: &str) -> (Child, String) {
    let config = config.to_str().unwrap();
    serve(
        &[
            "aggregator",
            "serve",
            "--config",
            config,
            "--listen",
            "127.0.0.1:0",
        ],
        log,
    )
}

/// The id an `init` command printed (its `id:` line).
pub fn printed_id(stdout: &[u8]) -> String {
    String::from_utf8_lossy(stdout)
        .lines()
        .find(|l| l.starts_with("id:"))
        .expect("init prints the id")
        .trim_start_matches("id:")
        .trim()
        .to_owned()
}

/// What `signpost node init` made: the node id, the admin token, and all it printed.
pub struct NodeInit {
    pub id: String,
    pub token: String,
    pub printed: String,
}

/// `signpost node init` with the node's public URL.
pub fn init_node_at(dir: &Path, name: &str, base_url: &str) -> NodeInit {
    let out = bin()
        .args(["node", "init", "--dir", dir.to_str().unwrap()])
        .args(["--name", name, "--base-url", base_url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = std::fs::read_to_string(dir.join("admin-token"))
        .unwrap()
        .trim()
        .to_owned();
    NodeInit {
        id: printed_id(&out.stdout),
        token,
        printed: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

/// `signpost node init`; returns the node id and the admin token.
pub fn init_node(dir: &Path, name: &str) -> (String, String) {
    let init = init_node_at(dir, name, "http://127.0.0.1");
    (init.id, init.token)
}

/// Runs a future to completion (the typed clients are async; these tests are not).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// The typed client for a node's public feed.
pub fn node_client(url: &str) -> signpost_client::NodeClient {
    signpost_client::NodeClient::new(signpost_client::Fetcher::generous().unwrap(), url)
}
