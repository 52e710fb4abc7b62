//! The aggregator's configuration and trust policy: a TOML file overlaid by `SIGNPOST_AGG_*`
//! environment variables (e.g. `SIGNPOST_AGG_CRAWL__INTERVAL_SECS=30`).

use std::path::Path;
use std::time::Duration;

use figment::providers::{Env, Format as _, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use signpost_protocol::DidKey;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregatorConfig {
    /// Where the sled store lives (relative paths are relative to the config file).
    #[serde(default = "default_store")]
    pub store_dir: String,
    /// The nodes this aggregator trusts, each pinned to its id.
    #[serde(default)]
    pub nodes: Vec<NodeEntry>,
    /// Issuers trusted for named achievements only.
    #[serde(default)]
    pub issuers: Vec<IssuerEntry>,
    #[serde(default)]
    pub freshness: Freshness,
    #[serde(default)]
    pub crawl: Crawl,
    #[serde(default)]
    pub revocations: Revocations,
    /// Follow another aggregator's feed instead of crawling nodes (verification is still
    /// done here, against this trust policy).
    #[serde(default)]
    pub mirror: Option<Mirror>,
    #[serde(default)]
    pub api: Api,
    #[serde(default)]
    pub postcodes: Postcodes,
    #[serde(default)]
    pub enrolment: Enrolment,
}

/// Nodes asking to be listed (`POST /v1/enrolments`), approved by the operator with
/// `signpost aggregator enrolments approve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Enrolment {
    /// The operator's admin token (created, mode 0600, when missing). Without it, this
    /// directory takes no enrolment requests. Relative to the configuration file.
    pub admin_token_file: Option<String>,
    /// Most requests waiting for a decision at once.
    pub max_pending: usize,
}

impl Default for Enrolment {
    fn default() -> Self {
        Self {
            admin_token_file: None,
            max_pending: 500,
        }
    }
}

/// Postcode data beyond the embedded district and sector centroids.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Postcodes {
    /// A CSV of unit postcodes (`postcode,lat,lon`, or the ONS Postcode Directory), loaded at
    /// start: searches by a full postcode are then placed at the postcode itself.
    pub units_file: Option<String>,
}

fn default_store() -> String {
    "aggregator-store".into()
}

/// A node to crawl: its base URL and its pinned id (root did:key).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeEntry {
    pub url: String,
    pub id: DidKey,
}

/// A trusted training provider or regulator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerEntry {
    pub id: DidKey,
    pub name: String,
    /// Achievement ids this issuer is trusted for; for any other its attestations do not count.
    pub achievements: Vec<String>,
    /// Where its signed revocation list is published.
    pub revocations_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Freshness {
    /// Capacity confirmed longer ago than this is shown as unknown, never as accepting.
    pub capacity_max_age_days: u32,
    /// Timestamps further in the future than this are refused.
    pub max_clock_skew_secs: u64,
}

impl Default for Freshness {
    fn default() -> Self {
        Self {
            capacity_max_age_days: 14,
            max_clock_skew_secs: 300,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Crawl {
    /// Seconds between polls of each node (push makes it sooner).
    pub interval_secs: u64,
    /// Most requests in flight at once.
    pub concurrency: usize,
    /// Per-request timeout (connect, headers and body).
    pub timeout_secs: u64,
    /// Largest response body accepted, enforced while streaming.
    pub max_body_bytes: usize,
    /// Most listings one node may publish.
    pub max_listings_per_node: usize,
    /// Longest wait between attempts for a failing node (never more than `interval_secs`:
    /// a recovered node is seen again at least as soon as a healthy one is polled).
    pub max_backoff_secs: u64,
    /// Root certificates (PEM) to trust besides the usual ones, for nodes whose HTTPS
    /// certificates come from a private certificate authority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_roots_file: Option<String>,
    /// Refetch node documents at least this often.
    pub node_document_refresh_secs: u64,
}

impl Default for Crawl {
    fn default() -> Self {
        Self {
            interval_secs: 60,
            concurrency: 32,
            timeout_secs: 10,
            max_body_bytes: 16 * 1024 * 1024,
            max_listings_per_node: 10_000,
            max_backoff_secs: 300,
            extra_roots_file: None,
            node_document_refresh_secs: 3600,
        }
    }
}

impl Crawl {
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_secs.max(1))
    }
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Revocations {
    /// Seconds between refreshes of each issuer's revocation list.
    pub refresh_secs: u64,
    /// How long after the last successful fetch a list may still be used when it cannot be
    /// fetched (and has not expired). Past this, the issuer's attestations fail closed.
    pub grace_secs: u64,
}

impl Default for Revocations {
    fn default() -> Self {
        Self {
            refresh_secs: 300,
            grace_secs: 24 * 3600,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mirror {
    /// The primary aggregator's base URL.
    pub primary: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Api {
    /// Public URL of this aggregator (used in links such as ORUK's provenance links).
    pub public_url: String,
    /// Requests per second allowed per client address on public endpoints (0: no limit).
    pub rate_limit_per_sec: u32,
    /// Burst allowance for the rate limit.
    pub rate_limit_burst: u32,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Reverse proxies in front of the aggregator whose `X-Forwarded-For` is believed for
    /// rate limiting (addresses or networks).
    pub trusted_proxies: Vec<String>,
}

impl Default for Api {
    fn default() -> Self {
        Self {
            public_url: String::new(),
            rate_limit_per_sec: 0,
            rate_limit_burst: 50,
            workers: 0,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("configuration {path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl AggregatorConfig {
    /// Loads `path` and the environment overlay; checks the policy makes sense.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let mut config: Self = Figment::new()
            .merge(Toml::file(path))
            .merge(Env::prefixed("SIGNPOST_AGG_").split("__"))
            .extract()
            .map_err(|e| ConfigError {
                path: path.display().to_string(),
                message: signpost_http::config_problems(e),
            })?;
        if !path.exists() {
            return Err(ConfigError {
                path: path.display().to_string(),
                message: "no such file".into(),
            });
        }
        if let Some(parent) = path.parent() {
            if Path::new(&config.store_dir).is_relative() {
                config.store_dir = parent.join(&config.store_dir).display().to_string();
            }
            if let Some(file) = &mut config.enrolment.admin_token_file {
                if Path::new(file.as_str()).is_relative() {
                    *file = parent.join(&*file).display().to_string();
                }
            }
        }
        config.check().map_err(|message| ConfigError {
            path: path.display().to_string(),
            message,
        })?;
        Ok(config)
    }

    /// Checks the policy: achievements exist, URLs look like URLs, no node twice.
    pub fn check(&self) -> Result<(), String> {
        use signpost_http::check_range as range;
        const YEAR: u64 = 365 * 24 * 3600;
        range(
            "freshness.capacity_max_age_days",
            u64::from(self.freshness.capacity_max_age_days),
            1,
            3650,
        )?;
        range(
            "freshness.max_clock_skew_secs",
            self.freshness.max_clock_skew_secs,
            0,
            24 * 3600,
        )?;
        range(
            "crawl.interval_secs",
            self.crawl.interval_secs,
            1,
            7 * 24 * 3600,
        )?;
        range("crawl.timeout_secs", self.crawl.timeout_secs, 1, 3600)?;
        range(
            "crawl.max_backoff_secs",
            self.crawl.max_backoff_secs,
            1,
            7 * 24 * 3600,
        )?;
        range(
            "crawl.node_document_refresh_secs",
            self.crawl.node_document_refresh_secs,
            1,
            YEAR,
        )?;
        range(
            "crawl.concurrency",
            self.crawl.concurrency as u64,
            1,
            10_000,
        )?;
        range(
            "crawl.max_body_bytes",
            self.crawl.max_body_bytes as u64,
            1024,
            1 << 30,
        )?;
        range(
            "revocations.refresh_secs",
            self.revocations.refresh_secs,
            1,
            7 * 24 * 3600,
        )?;
        range(
            "revocations.grace_secs",
            self.revocations.grace_secs,
            0,
            YEAR,
        )?;
        for issuer in &self.issuers {
            for a in &issuer.achievements {
                if !signpost_protocol::taxonomy::contains(
                    signpost_protocol::taxonomy::ACHIEVEMENTS,
                    a,
                ) {
                    return Err(format!("issuer {}: unknown achievement {a:?}", issuer.name));
                }
            }
            check_url(&issuer.revocations_url)?;
        }
        for (i, node) in self.nodes.iter().enumerate() {
            check_url(&node.url)?;
            if self.nodes[..i].iter().any(|n| n.id == node.id) {
                return Err(format!("node {} is listed twice", node.id));
            }
        }
        if let Some(m) = &self.mirror {
            check_url(&m.primary)?;
        }
        Ok(())
    }

    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(self)
    }
}

impl IssuerEntry {
    /// The issuer as the trust policy names it.
    pub fn trusted(&self) -> signpost_protocol::policy::TrustedIssuer {
        signpost_protocol::policy::TrustedIssuer {
            id: self.id,
            name: self.name.clone(),
            achievements: self.achievements.clone(),
        }
    }
}

fn check_url(url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(format!("{url:?} is not an http(s) URL")),
    }
}

impl Default for AggregatorConfig {
    fn default() -> Self {
        Self {
            store_dir: default_store(),
            nodes: Vec::new(),
            issuers: Vec::new(),
            freshness: Freshness::default(),
            crawl: Crawl::default(),
            revocations: Revocations::default(),
            mirror: None,
            api: Api::default(),
            postcodes: Postcodes::default(),
            enrolment: Enrolment::default(),
        }
    }
}
