//! An aggregator under test.

use serde_json::Value;
use signpost_aggregator::config::{AggregatorConfig, NodeEntry};
use signpost_aggregator::{AggregatorServer, ServeOptions};
use signpost_client::DirectoryClient;
use signpost_protocol::wire::{GroupsPage, NodeHealth};
use signpost_protocol::DidKey;

pub struct TestAggregator {
    pub dir: tempfile::TempDir,
    pub server: Option<AggregatorServer>,
    pub url: String,
    pub config: AggregatorConfig,
    pub http: reqwest::Client,
}

impl TestAggregator {
    /// An aggregator over `nodes` (url, id) whose crawls the test drives with [`Self::crawl`].
    pub async fn manual(
        nodes: &[(String, DidKey)],
        configure: impl FnOnce(&mut AggregatorConfig),
    ) -> Self {
        Self::start(nodes, configure, ServeOptions { manual_crawl: true }).await
    }

    /// An aggregator that crawls on its own.
    pub async fn crawling(
        nodes: &[(String, DidKey)],
        configure: impl FnOnce(&mut AggregatorConfig),
    ) -> Self {
        Self::start(nodes, configure, ServeOptions::default()).await
    }

    async fn start(
        nodes: &[(String, DidKey)],
        configure: impl FnOnce(&mut AggregatorConfig),
        options: ServeOptions,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = AggregatorConfig {
            store_dir: dir.path().join("store").display().to_string(),
            nodes: nodes
                .iter()
                .map(|(url, id)| NodeEntry {
                    url: url.clone(),
                    id: *id,
                })
                .collect(),
            ..AggregatorConfig::default()
        };
        config.crawl.timeout_secs = 2;
        config.revocations.refresh_secs = 1;
        configure(&mut config);
        let server = signpost_aggregator::start(config.clone(), "127.0.0.1:0", options.clone())
            .await
            .unwrap();
        let url = server.url();
        Self {
            dir,
            server: Some(server),
            url,
            config,
            http: crate::client(),
        }
    }

    pub fn state(&self) -> &std::sync::Arc<signpost_aggregator::Aggregator> {
        &self.server.as_ref().unwrap().state
    }

    /// Crawls every node once and refreshes revocation lists.
    pub async fn crawl(&self) {
        self.state().refresh_revocations().await;
        self.state().crawl_all_once().await;
    }

    /// Stops and starts again on the same store (manual crawling).
    pub async fn restart(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
        let mut tries = 0;
        let server = loop {
            match signpost_aggregator::start(
                self.config.clone(),
                "127.0.0.1:0",
                ServeOptions { manual_crawl: true },
            )
            .await
            {
                Ok(s) => break s,
                Err(e) if tries < 50 && e.to_string().contains("lock") => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("restart: {e}"),
            }
        };
        self.url = server.url();
        self.server = Some(server);
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    pub async fn json(&self, path: &str) -> Value {
        let resp = self.get(path).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.unwrap()
    }

    /// The directory API, typed.
    pub fn directory(&self) -> DirectoryClient {
        crate::directory(&self.url)
    }

    /// The health record of one node.
    pub async fn node_health(&self, id: &DidKey) -> NodeHealth {
        self.directory()
            .nodes()
            .await
            .unwrap()
            .into_iter()
            .find(|n| n.id == *id)
            .unwrap()
    }

    /// A page of `/v1/groups` for a query string, typed.
    pub async fn groups(&self, query: &str) -> GroupsPage {
        let resp = self.get(&format!("/v1/groups?{query}")).await;
        assert_eq!(resp.status(), 200, "GET /v1/groups?{query}");
        resp.json().await.unwrap()
    }

    /// Listing names the directory returns for a query.
    pub async fn names(&self, query: &str) -> Vec<String> {
        self.groups(&format!("per_page=100&{query}"))
            .await
            .contents
            .into_iter()
            .map(|g| g.listing.group.name)
            .collect()
    }
}
