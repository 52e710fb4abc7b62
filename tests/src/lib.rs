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
use signpost_client::{DirectoryClient, Fetcher, NodeAdmin, NodeClient};
use signpost_node::config::NodeConfig;
use signpost_node::NodeServer;
use signpost_protocol::model::Group;
use signpost_protocol::wire::{AdminListing, CapacityPatch, GroupResult};
use signpost_protocol::{DidKey, Listing, NodeDocument, Verified};

/// A raw HTTP client, for what typed clients do not cover (status codes, headers, hostile
/// bodies).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

/// The fetcher the typed clients use in tests (20 s, 64 MiB).
pub fn fetcher() -> Fetcher {
    Fetcher::new(std::time::Duration::from_secs(20), 64 * 1024 * 1024, 8).unwrap()
}

/// A node's public feed, typed.
pub fn node_client(url: &str) -> NodeClient {
    NodeClient::new(fetcher(), url)
}

/// An aggregator's directory API, typed.
pub fn directory(url: &str) -> DirectoryClient {
    DirectoryClient::new(fetcher(), url)
}

/// GET a URL that must answer 200 with JSON.
pub async fn get_json(url: &str) -> Value {
    let resp = client().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "GET {url}");
    resp.json().await.unwrap()
}

/// Standard base64, for forging envelopes.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Verifies one directory result without trusting the aggregator: walks the node's document
/// chain from the pinned id at the node itself, verifies the envelope with its signing keys,
/// and checks the listing shown is the one signed. Returns the verified listing.
pub async fn verify_result(
    node_url: &str,
    pinned: &DidKey,
    result: &GroupResult,
) -> Verified<Listing> {
    assert_eq!(result.node, pinned.to_string(), "the result names its node");
    let doc = node_client(node_url)
        .verified_document(pinned)
        .await
        .unwrap();
    let env = result.envelope.clone().expect("pages carry envelopes");
    let listing = Verified::<Listing>::verify(env, &doc.signing_verifying_keys()).unwrap();
    assert_eq!(
        listing.payload(),
        &result.listing,
        "the listing shown is the one signed"
    );
    listing
}

/// A realistic sample group.
pub fn sample_group(seed: u64) -> Group {
    signpost_protocol::sample::group(seed, seed as usize, Utc::now())
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
        Self::start_as("Test Organisation", configure).await
    }

    /// Starts the node of an organisation called `name`.
    pub async fn named(name: &str) -> Self {
        Self::start_as(name, |_| {}).await
    }

    async fn start_as(name: &str, configure: impl FnOnce(&mut NodeConfig)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let report = signpost_node::init(dir.path(), name, "http://127.0.0.1").unwrap();
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

    /// This node's public feed, typed.
    pub fn client(&self) -> NodeClient {
        node_client(&self.url)
    }

    /// This node's admin API, typed, with its token.
    pub fn admin_client(&self) -> NodeAdmin {
        self.client().admin(&self.token)
    }

    /// Publishes a group; returns its id.
    pub async fn create(&self, group: &Group) -> uuid::Uuid {
        self.admin_client().create(group).await.unwrap().listing.id
    }

    /// Changes a listing's capacity; returns the new signed listing.
    pub async fn set_capacity(&self, id: uuid::Uuid, patch: CapacityPatch) -> AdminListing {
        self.admin_client().capacity(id, &patch).await.unwrap()
    }

    /// The current node document, verified along the chain from the pinned id.
    pub async fn node_document(&self) -> Verified<NodeDocument> {
        self.client().verified_document(&self.id).await.unwrap()
    }

    /// This node as an aggregator's trust policy names it.
    pub fn entry(&self) -> (String, DidKey) {
        (self.url.clone(), self.id)
    }

    pub async fn snapshot(&self) -> Verified<signpost_protocol::Snapshot> {
        let doc = self.node_document().await;
        let env = self.client().snapshot(None).await.unwrap().unwrap();
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

/// Sends `req` and checks it is refused as `status` with `code` (see [`assert_problem`]).
pub async fn refused(req: reqwest::RequestBuilder, status: u16, code: &str) -> Value {
    assert_problem(req.send().await.unwrap(), status, code).await
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

/// `key` (`field`, `code` or `message`) of each problem in a problem document's `errors`
/// list, in order; each must say what is wrong.
pub fn listed(problem: &Value, key: &str) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("an errors list: {problem}"))
        .iter()
        .map(|e| {
            assert!(
                !e["message"].as_str().unwrap_or("").is_empty(),
                "each says what is wrong: {e}"
            );
            e[key].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

/// Signs in to a node's pages as a volunteer's browser would (the sign-in form's token and
/// cookie, then the admin token) and returns the text of the page at `path` (e.g.
/// `/manage/status`). `http` must not follow redirects (the session cookie comes with one).
pub async fn signed_in_page(http: &reqwest::Client, base: &str, token: &str, path: &str) -> String {
    let session = signed_in_session(http, base, token).await;
    session_page(http, base, &session, path).await
}

/// The text of a node's page at `path`, with a session's cookie from [`signed_in_session`].
pub async fn session_page(http: &reqwest::Client, base: &str, session: &str, path: &str) -> String {
    http.get(format!("{base}{path}"))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Signs in to a node's pages as [`signed_in_page`] does; returns the session's cookie
/// (`name=value`), to send with later requests.
pub async fn signed_in_session(http: &reqwest::Client, base: &str, token: &str) -> String {
    let cookie = |resp: &reqwest::Response, name: &str| {
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no {name} cookie"))
    };
    let form = http
        .get(format!("{base}/manage/sign-in"))
        .send()
        .await
        .unwrap();
    let sign_in_cookie = cookie(&form, "signpost-sign-in");
    let html = form.text().await.unwrap();
    let form_token = html
        .split("name=\"form_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the sign-in form carries a form token")
        .to_owned();
    let signed_in = http
        .post(format!("{base}/manage/sign-in"))
        .header("cookie", sign_in_cookie)
        .header("origin", base)
        .form(&[("form_token", form_token.as_str()), ("secret", token)])
        .send()
        .await
        .unwrap();
    assert!(
        signed_in.status().is_redirection(),
        "signed in: {}",
        signed_in.status()
    );
    cookie(&signed_in, "signpost-session")
}
