//! The test harness: real servers on `127.0.0.1:0`, real HTTP clients.
//!
//! [`TestNode`] creates a node in a temporary directory and serves it in-process;
//! [`TestAggregator`] does the same for an aggregator. Tests talk to them over HTTP only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod aggregator;
pub mod mock;

pub use aggregator::TestAggregator;
pub use mock::{Forge, MockNode, Reply};

use std::path::Path;

use chrono::Utc;
use serde_json::Value;
use signpost_node::config::NodeConfig;
use signpost_node::NodeServer;
use signpost_protocol::model::Group;
use signpost_protocol::{DidKey, Envelope, NodeDocument, Verified};

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A realistic sample group.
pub fn sample_group(seed: u64) -> Group {
    signpost_protocol::sample::group(seed, seed as usize, Utc::now())
}

pub fn sample_group_json(seed: u64) -> Value {
    serde_json::to_value(sample_group(seed)).unwrap()
}

/// A node created in a temporary directory and served on `127.0.0.1:0`.
pub struct TestNode {
    pub dir: tempfile::TempDir,
    pub server: Option<NodeServer>,
    pub token: String,
    pub id: DidKey,
    pub url: String,
    pub http: reqwest::Client,
}

impl TestNode {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a node after changing its configuration.
    pub async fn start_with(configure: impl FnOnce(&mut NodeConfig)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let report =
            signpost_node::init(dir.path(), "Test Organisation", "http://127.0.0.1").unwrap();
        edit_config(dir.path(), configure);
        let token = std::fs::read_to_string(&report.admin_token_path)
            .unwrap()
            .trim()
            .to_owned();
        let server = signpost_node::start(dir.path(), "127.0.0.1:0", Default::default())
            .await
            .unwrap_or_else(|e| panic!("node start: {e}"));
        let url = server.url();
        Self {
            dir,
            server: Some(server),
            token,
            id: report.id,
            url,
            http: client(),
        }
    }

    /// Stops the server (releasing the store) and starts it again on the same address.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start_again().await;
    }

    /// Starts a stopped node again on the same address.
    pub async fn start_again(&mut self) {
        let listen = self.url.trim_start_matches("http://").to_owned();
        // Worker threads release the store (and the port) a moment after the server stops.
        let mut tries = 0;
        let server = loop {
            match signpost_node::start(self.dir.path(), &listen, Default::default()).await {
                Ok(server) => break server,
                Err(e)
                    if tries < 50
                        && (e.to_string().contains("lock") || e.to_string().contains("listen")) =>
                {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("restart: {e}"),
            }
        };
        self.url = server.url();
        self.server = Some(server);
    }

    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.url))
    }

    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token)
    }

    /// Creates a listing; returns its id.
    pub async fn create(&self, group: &Value) -> uuid::Uuid {
        let resp = self
            .admin(reqwest::Method::POST, "/admin/listings")
            .json(group)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
        let body: Value = resp.json().await.unwrap();
        body["listing"]["id"].as_str().unwrap().parse().unwrap()
    }

    pub async fn set_capacity(&self, id: uuid::Uuid, patch: Value) -> Value {
        let resp = self
            .admin(
                reqwest::Method::PATCH,
                &format!("/admin/listings/{id}/capacity"),
            )
            .json(&patch)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        resp.json().await.unwrap()
    }

    /// The current node document, verified against the pinned id.
    pub async fn node_document(&self) -> Verified<NodeDocument> {
        let env: Envelope = self
            .get("/.well-known/signpost/node")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut chain = Vec::new();
        let version = serde_json::from_slice::<NodeDocument>(&env.payload_bytes().unwrap())
            .unwrap()
            .version;
        for v in 1..=version {
            chain.push(
                self.get(&format!("/v1/node/{v}"))
                    .send()
                    .await
                    .unwrap()
                    .json::<Envelope>()
                    .await
                    .unwrap(),
            );
        }
        signpost_protocol::chain::verify_chain(&self.id, chain)
            .unwrap()
            .pop()
            .unwrap()
    }

    /// This node as an aggregator's trust policy names it.
    pub fn entry(&self) -> (String, DidKey) {
        (self.url.clone(), self.id)
    }

    pub async fn snapshot(&self) -> Verified<signpost_protocol::Snapshot> {
        let doc = self.node_document().await;
        let env: Envelope = self
            .get("/v1/snapshot")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Verified::verify(env, &doc.signing_verifying_keys()).unwrap()
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            drop(server);
        }
    }
}

/// Rewrites a node's `node.toml`.
pub fn edit_config(dir: &Path, configure: impl FnOnce(&mut NodeConfig)) {
    let mut config = NodeConfig::load(dir).unwrap();
    configure(&mut config);
    std::fs::write(
        dir.join(signpost_node::config::CONFIG_FILE),
        config.to_toml().unwrap(),
    )
    .unwrap();
}

/// Asserts a problem+json response with `status` and `code`; returns the body.
pub async fn assert_problem(resp: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "expected {status} {code}");
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "problem+json for {code}"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    body
}
