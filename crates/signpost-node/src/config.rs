//! The node's configuration: `DIR/node.toml`, overlaid by `SIGNPOST_NODE_*` environment
//! variables (e.g. `SIGNPOST_NODE_LIMITS__MAX_LISTINGS=50`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format as _, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

pub const CONFIG_FILE: &str = "node.toml";
pub const ROOT_KEY_FILE: &str = "root-key.pem";
pub const SIGNING_KEY_FILE: &str = "signing-key.pem";
pub const ADMIN_TOKEN_FILE: &str = "admin-token";
pub const STORE_DIR: &str = "store";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub name: String,
    pub base_url: String,
    /// SHA-256 (hex) of the admin token; the token itself is only in `DIR/admin-token`.
    pub admin_token_sha256: String,
    #[serde(default)]
    pub publishing: Publishing,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub push: Push,
    /// Serve HTTPS directly (for charities without a reverse proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
}

/// HTTPS served by the node itself: certificate files, or a certificate obtained and renewed
/// automatically (ACME).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// Certificate chain, PEM (relative paths are relative to the node directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// Private key, PEM, mode 0600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// Obtain and renew the certificate automatically (RFC 8555, TLS-ALPN-01 on the node's
    /// own port, which must be reachable as port 443 of `domain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme: Option<Acme>,
}

/// Automatic certificates.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acme {
    /// The domain the certificate is for, e.g. `signpost.example-charity.org.uk`.
    pub domain: String,
    /// An email address the certificate authority may write to about the certificate.
    pub contact: String,
    /// The ACME directory URL (default: Let's Encrypt).
    #[serde(default = "lets_encrypt")]
    pub directory: String,
    /// A root certificate (PEM) to trust for the ACME server itself, for a private or test
    /// certificate authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_ca_file: Option<PathBuf>,
}

fn lets_encrypt() -> String {
    "https://acme-v02.api.letsencrypt.org/directory".into()
}

impl Tls {
    /// HTTPS from certificate files.
    pub fn files(cert_file: impl Into<PathBuf>, key_file: impl Into<PathBuf>) -> Self {
        Self {
            cert_file: Some(cert_file.into()),
            key_file: Some(key_file.into()),
            acme: None,
        }
    }

    /// HTTPS with an automatic certificate.
    pub fn acme(domain: &str, contact: &str, directory: &str) -> Self {
        Self {
            acme: Some(Acme {
                domain: domain.to_owned(),
                contact: contact.to_owned(),
                directory: directory.to_owned(),
                directory_ca_file: None,
            }),
            ..Self::default()
        }
    }

    /// Refuses a TLS setting that could not work: a certificate without its key, both a
    /// certificate and ACME, or ACME without a domain, a contact email or an https directory.
    pub fn check(&self) -> Result<(), String> {
        match (&self.cert_file, &self.key_file, &self.acme) {
            (Some(_), Some(_), None) => Ok(()),
            (None, None, Some(acme)) => {
                if acme.domain.is_empty() || acme.domain.contains(['/', ':', ' ']) {
                    return Err(format!(
                        "tls.acme.domain {:?} is not a domain name",
                        acme.domain
                    ));
                }
                if !acme.contact.contains('@') {
                    return Err("tls.acme.contact must be an email address".into());
                }
                if !acme.directory.starts_with("https://") {
                    return Err("tls.acme.directory must be an https:// URL".into());
                }
                Ok(())
            }
            _ => Err("[tls] needs either cert_file and key_file, or acme (not both)".into()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Publishing {
    /// How long a signed snapshot or listing stays valid (seconds). The node re-signs
    /// everything when less than half of this remains.
    pub lifetime_secs: u64,
    /// Directories show capacity confirmed longer ago than this as unknown; the pages nudge
    /// before then. Match the directories this node is listed in (their default is 14).
    pub capacity_max_age_days: u32,
}

impl Default for Publishing {
    fn default() -> Self {
        Self {
            lifetime_secs: 7 * 24 * 3600,
            capacity_max_age_days: 14,
        }
    }
}

impl Publishing {
    pub fn lifetime(&self) -> Duration {
        Duration::from_secs(self.lifetime_secs.max(2))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest admin request body accepted (bytes).
    pub max_body_bytes: usize,
    /// Most listings the node publishes.
    pub max_listings: usize,
    /// Requests per second per client address on public endpoints (0: no limit).
    pub rate_limit_per_sec: u32,
    /// Burst allowance for the rate limit.
    pub rate_limit_burst: u32,
    /// Reverse proxies in front of the node (addresses or networks): the client address they
    /// forward (`X-Forwarded-For`) is used for rate limiting. Without this, everyone behind
    /// the proxy shares one limit.
    pub trusted_proxies: Vec<String>,
    /// Clients never rate limited: the aggregators that crawl this node.
    pub unlimited: Vec<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            max_listings: 1000,
            rate_limit_per_sec: 50,
            rate_limit_burst: 200,
            trusted_proxies: Vec::new(),
            unlimited: Vec::new(),
        }
    }
}

/// Aggregators to notify when the node's publication changes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Push {
    /// Ping URLs, e.g. `https://aggregator.example/v1/ping`.
    pub subscribers: Vec<String>,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

impl NodeConfig {
    pub fn load(dir: &Path) -> Result<Self, ConfigError> {
        let path = dir.join(CONFIG_FILE);
        if !path.exists() {
            return Err(ConfigError {
                path,
                message: "no node here; create one with `signpost node init`".into(),
            });
        }
        let config: Self = Figment::new()
            .merge(Toml::file(&path))
            .merge(Env::prefixed("SIGNPOST_NODE_").split("__"))
            .extract()
            .map_err(|e| ConfigError {
                path: path.clone(),
                message: signpost_http::config_problems(e),
            })?;
        config
            .check()
            .map_err(|message| ConfigError { path, message })?;
        Ok(config)
    }

    /// Refuses values that time arithmetic could not hold (a lifetime of a billion years).
    pub fn check(&self) -> Result<(), String> {
        base_url(&self.base_url).map_err(|e| format!("base_url: {e}"))?;
        signpost_http::check_range(
            "publishing.lifetime_secs",
            self.publishing.lifetime_secs,
            2,
            366 * 24 * 3600,
        )?;
        if let Some(tls) = &self.tls {
            tls.check()?;
        }
        self.rate_limiter().map(|_| ())
    }

    /// The public endpoints' rate limiter as configured.
    pub fn rate_limiter(&self) -> Result<signpost_http::ratelimit::RateLimiter, String> {
        use signpost_http::ratelimit::{parse_networks, RateLimiter};
        Ok(
            RateLimiter::new(self.limits.rate_limit_per_sec, self.limits.rate_limit_burst)
                .trust_proxies(parse_networks(
                    "limits.trusted_proxies",
                    &self.limits.trusted_proxies,
                )?)
                .unlimited(parse_networks("limits.unlimited", &self.limits.unlimited)?),
        )
    }

    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(self)
    }
}

/// The address a node is reached at, checked and written the one way (no trailing `/`): an
/// http(s) URL with a host, without a user, a `?query` or a `#fragment`, since the node's
/// pages and feed are found by adding to it (`{base_url}/manage`, `{base_url}/snapshot`).
/// The error says what is wrong with it in words.
pub fn base_url(given: &str) -> Result<String, String> {
    let like = "give one like https://groups.example.org";
    let trimmed = given.trim();
    let url =
        url::Url::parse(trimmed).map_err(|_| format!("{given:?} is not a web address: {like}"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!(
            "{given:?} must start with https:// (or http:// on a test machine): {like}"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{given:?} has no host name: {like}"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{given:?} must not hold a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{given:?} must not end in a ?query or #fragment: the node's pages and feed are \
             found by adding to it"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}
