//! The organisation's node: publishes signed listings over HTTP (actix-web + sled).
//!
//! - [`init`] creates a node directory: keys, node document version 1, store, config, token.
//! - [`start`] serves it: public signed feed, admin API, automatic re-signing before expiry,
//!   and push notifications to subscribed aggregators.
//!
//! The state and every change live in [`publisher`], which knows nothing of HTTP.

pub mod acme;
pub mod backup;
pub mod check;
pub mod config;
pub mod decode;
pub mod error;
pub use signpost_protocol::languages;
pub mod openapi;
pub mod pages;
pub mod publisher;
pub mod routes;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpServer};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use signpost_protocol::DidKey;
use signpost_store::{keyfile, Store};

use crate::config::{
    NodeConfig, ADMIN_TOKEN_FILE, CONFIG_FILE, ROOT_KEY_FILE, SIGNING_KEY_FILE, STORE_DIR,
};
pub use crate::error::NodeError;
use crate::publisher::Publisher;

/// Why a node could not be created or started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error("{0} already holds a node; refusing to overwrite it")]
    Exists(PathBuf),
    #[error(
        "{dir} holds part of a node ({part}) but no node.toml, as an interrupted set-up leaves \
         it: move that folder aside, or choose another"
    )]
    Partial { dir: PathBuf, part: &'static str },
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Secret(#[from] keyfile::KeyFileError),
    #[error(transparent)]
    Store(#[from] signpost_store::StoreError),
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {}", signpost_http::listen_words(error))]
    Bind { addr: String, error: std::io::Error },
    #[error("invalid setting: {0}")]
    Invalid(String),
}

/// What `signpost node init` made.
#[derive(Debug)]
pub struct InitReport {
    pub id: DidKey,
    pub admin_token_path: PathBuf,
}

/// Creates a node in `dir`: root and signing keys, node document version 1 signed by the
/// root key, the store with an empty snapshot, `node.toml`, and `admin-token` (0600; only its
/// hash is in the config).
///
/// Everything given is checked before anything is written, and a failure part way (a full
/// disk) takes back what this call wrote: a mistake never leaves a half-made node that
/// blocks the next attempt.
pub fn init(dir: &Path, name: &str, base_url: &str) -> Result<InitReport, StartError> {
    if dir.join(CONFIG_FILE).exists() {
        return Err(StartError::Exists(dir.to_owned()));
    }
    let parts = [STORE_DIR, ROOT_KEY_FILE, SIGNING_KEY_FILE, ADMIN_TOKEN_FILE];
    if let Some(part) = parts.iter().find(|p| dir.join(p).exists()) {
        return Err(StartError::Partial {
            dir: dir.to_owned(),
            part,
        });
    }
    signpost_protocol::model::Group::validate_name(name)
        .map_err(|e| StartError::Invalid(e.to_string()))?;
    let base_url =
        config::base_url(base_url).map_err(|e| StartError::Invalid(format!("base_url: {e}")))?;
    let made_dir = !dir.exists();
    std::fs::create_dir_all(dir).map_err(|source| StartError::Io {
        path: dir.to_owned(),
        source,
    })?;
    write_node(dir, name, &base_url).inspect_err(|_| {
        // Only what this call made: the folder itself when it made it, else its parts.
        if made_dir {
            let _ = std::fs::remove_dir_all(dir);
        } else {
            for part in parts.iter().chain([&CONFIG_FILE]) {
                let path = dir.join(part);
                let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
            }
        }
    })
}

/// [`init`]'s writing, once what it was given is checked.
fn write_node(dir: &Path, name: &str, base_url: &str) -> Result<InitReport, StartError> {
    let root = signpost_protocol::keys::generate();
    let signing = signpost_protocol::keys::generate();
    keyfile::write_key(&dir.join(ROOT_KEY_FILE), &root)?;
    keyfile::write_key(&dir.join(SIGNING_KEY_FILE), &signing)?;

    let mut token = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut token);
    let token = hex::encode(token);
    let token_path = dir.join(ADMIN_TOKEN_FILE);
    keyfile::write_secret(&token_path, format!("{token}\n").as_bytes())?;

    let config = NodeConfig {
        name: name.to_owned(),
        base_url: base_url.to_owned(),
        admin_token_sha256: hex::encode(Sha256::digest(token.as_bytes())),
        publishing: Default::default(),
        limits: Default::default(),
        push: Default::default(),
        tls: None,
    };
    let store = Store::open(&dir.join(STORE_DIR))?;
    Publisher::initialise(
        dir,
        store,
        &root,
        &signing,
        name,
        &config.base_url,
        config.publishing.lifetime(),
    )?;
    let text = config
        .to_toml()
        .map_err(|e| StartError::Invalid(e.to_string()))?;
    let path = dir.join(CONFIG_FILE);
    std::fs::write(&path, text).map_err(|source| StartError::Io { path, source })?;
    Ok(InitReport {
        id: DidKey::new(root.verifying_key()),
        admin_token_path: token_path,
    })
}

/// A running node.
pub struct NodeServer {
    pub addr: SocketAddr,
    /// Whether it serves HTTPS.
    pub tls: bool,
    pub publisher: Arc<Publisher>,
    /// The automatic certificate's state, when the node obtains its own.
    pub acme: Option<Arc<acme::AcmeStatus>>,
    running: signpost_http::Running,
}

impl NodeServer {
    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }

    /// Waits until the server stops (Ctrl-C, or [`NodeServer::stop`] from elsewhere).
    pub async fn wait(self) -> std::io::Result<()> {
        self.running.wait().await
    }

    /// Stops accepting, finishes in-flight requests, and stops background tasks.
    pub async fn stop(self) {
        self.running.stop().await
    }
}

/// Options for [`start`] beyond the node directory.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// HTTP worker threads (default 2: nodes are small).
    pub workers: Option<usize>,
}

/// Serves the node in `dir` on `listen` (e.g. `127.0.0.1:0`).
pub async fn start(
    dir: &Path,
    listen: &str,
    options: ServeOptions,
) -> Result<NodeServer, StartError> {
    let config = NodeConfig::load(dir)?;
    for file in [SIGNING_KEY_FILE, ADMIN_TOKEN_FILE, ROOT_KEY_FILE] {
        let path = dir.join(file);
        if path.exists() {
            keyfile::check_private(&path)?;
        }
    }
    let mut admin_token_sha256 = [0u8; 32];
    hex::decode_to_slice(&config.admin_token_sha256, &mut admin_token_sha256)
        .map_err(|_| StartError::Invalid("admin_token_sha256 must be 64 hex digits".into()))?;
    let store = Store::open(&dir.join(STORE_DIR))?;
    let lifetime = config.publishing.lifetime();
    let publisher = Arc::new(Publisher::open_configured(dir, store, &config)?);
    {
        let p = Arc::clone(&publisher);
        tokio::task::spawn_blocking(move || p.refresh_if_due(chrono::Utc::now()))
            .await
            .map_err(|e| StartError::Invalid(e.to_string()))??;
    }
    let changed = Arc::new(tokio::sync::Notify::new());
    // HTTPS: certificate files, or a certificate kept current by ACME.
    let mut acme_manager = None;
    let mut acme_status = None;
    let tls = match &config.tls {
        None => None,
        Some(t) => match &t.acme {
            Some(a) => {
                let (server_config, status, manager) = acme::configure(dir, a)?;
                acme_manager = Some(manager);
                acme_status = Some(status);
                Some(server_config)
            }
            None => Some(tls_config(dir, t)?),
        },
    };
    // The configured subscribers, and the directories the node asked to list it (told of
    // changes too, so that an approved node's changes reach them within a second).
    let push = Arc::new(PushStatus::new(&config.push.subscribers));
    for directory in publisher.directories() {
        push.add(&ping_url(&directory));
    }
    let state = web::Data::new(routes::AppState {
        publisher: Arc::clone(&publisher),
        admin_token_sha256: std::sync::RwLock::new(admin_token_sha256),
        changed: Arc::clone(&changed),
        auth: pages::session::Auth::new(dir),
        dir: dir.to_owned(),
        secure_cookies: config.tls.is_some() || config.base_url.starts_with("https://"),
        push: Arc::clone(&push),
        capacity_max_age_days: config.publishing.capacity_max_age_days,
        acme: acme_status.clone(),
    });
    let max_body = config.limits.max_body_bytes;
    let limiter = web::Data::new(
        config
            .rate_limiter()
            .map_err(|message| config::ConfigError {
                path: dir.join(config::CONFIG_FILE),
                message,
            })?,
    );
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(limiter.clone())
            .wrap(signpost_http::access_log())
            // HEAD is answered as GET (a directory or monitor checking the feed is there).
            .wrap(actix_web::middleware::from_fn(signpost_http::head_as_get))
            .configure(|cfg| configure(cfg, max_body))
    })
    .workers(options.workers.unwrap_or(2))
    .shutdown_timeout(5);
    let server = match tls {
        None => server.bind(listen),
        Some(tls) => server.bind_rustls_0_23(listen, tls),
    }
    .map_err(|error| StartError::Bind {
        addr: listen.to_owned(),
        error,
    })?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| StartError::Invalid("bound to no address".into()))?;
    let server = server.run();
    let mut running = signpost_http::Running::spawn(server);
    if let Some(manager) = acme_manager {
        running = running.with(tokio::spawn(manager));
    }
    let running = running
        .with(tokio::spawn(refresh_loop(
            Arc::clone(&publisher),
            lifetime,
            Arc::clone(&changed),
        )))
        .with(tokio::spawn(push_loop(
            Arc::clone(&publisher),
            push,
            changed,
        )));
    tracing::info!(%addr, node = %publisher.node_id(), "node serving");
    Ok(NodeServer {
        addr,
        tls: config.tls.is_some(),
        publisher,
        acme: acme_status,
        running,
    })
}

/// Everything a node answers (its OpenAPI document, its pages, its API, and a problem for
/// any other path), over the [`routes::AppState`] its app holds; bodies up to `max_body`.
pub fn configure(cfg: &mut web::ServiceConfig, max_body: usize) {
    cfg.route("/openapi.json", web::get().to(openapi::serve))
        .configure(pages::configure)
        .configure(|cfg| routes::configure(cfg, max_body))
        .default_service(web::to(pages::unknown_path));
}

/// Re-signs before expiry: checks eight times per lifetime (at most hourly).
async fn refresh_loop(
    publisher: Arc<Publisher>,
    lifetime: Duration,
    changed: Arc<tokio::sync::Notify>,
) {
    let period = (lifetime / 8).clamp(Duration::from_millis(250), Duration::from_secs(3600));
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let p = Arc::clone(&publisher);
        match tokio::task::spawn_blocking(move || p.renew_document_if_due(chrono::Utc::now())).await
        {
            Ok(Ok(true)) => {
                tracing::info!("renewed the node document before it expires");
                changed.notify_one();
            }
            Ok(Ok(false)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "node document not renewed"),
            Err(e) => tracing::error!(error = %e, "renewal task failed"),
        }
        let p = Arc::clone(&publisher);
        match tokio::task::spawn_blocking(move || p.refresh_if_due(chrono::Utc::now())).await {
            Ok(Ok(true)) => {
                tracing::info!("re-signed listings and snapshot before expiry");
                changed.notify_one();
            }
            Ok(Ok(false)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "re-signing failed"),
            Err(e) => tracing::error!(error = %e, "re-signing task failed"),
        }
    }
}

/// Tells subscribed aggregators about each change by posting the new signed snapshot, so the
/// ping proves itself: an aggregator verifies it before crawling.
async fn push_loop(
    publisher: Arc<Publisher>,
    status: Arc<PushStatus>,
    changed: Arc<tokio::sync::Notify>,
) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "push disabled: no HTTP client");
            return;
        }
    };
    loop {
        changed.notified().await;
        // Read anew each time: a directory the node asks to list it is added while it runs.
        let subscribers = status.urls();
        if subscribers.is_empty() {
            continue;
        }
        let published = publisher.published();
        let pings = subscribers.iter().map(|url| {
            client
                .post(url)
                .header("content-type", "application/json")
                .body(published.snapshot.clone())
                .send()
        });
        for (url, result) in subscribers
            .iter()
            .zip(futures_util::future::join_all(pings).await)
        {
            let outcome = match result {
                Ok(r) if r.status().is_success() => {
                    tracing::debug!(%url, seq = published.seq, "pushed");
                    format!("accepted snapshot {}", published.seq)
                }
                Ok(r) => {
                    tracing::warn!(%url, status = %r.status(), "push refused");
                    format!("refused (HTTP {})", r.status().as_u16())
                }
                Err(e) => {
                    tracing::warn!(%url, error = %e, "push failed");
                    "could not be reached".to_owned()
                }
            };
            status.record(url, outcome);
        }
    }
}

/// The ping URL of a directory's API at `base` (where a node tells it of changes).
pub fn ping_url(base: &str) -> String {
    format!("{}/v1/ping", base.trim_end_matches('/'))
}

/// A subscriber's ping URL and, once pushed to, when and with what result.
pub type PushResult = (String, Option<(chrono::DateTime<chrono::Utc>, String)>);

/// Push subscribers and the last result of pushing to each, for the status page.
pub struct PushStatus {
    last: std::sync::Mutex<Vec<PushResult>>,
}

impl PushStatus {
    pub fn new(urls: &[String]) -> Self {
        Self {
            last: std::sync::Mutex::new(urls.iter().map(|u| (u.clone(), None)).collect()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<PushResult>> {
        self.last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a subscriber; false when it is one already (a last `/` aside).
    pub fn add(&self, url: &str) -> bool {
        let mut last = self.lock();
        let same = |u: &str| u.trim_end_matches('/') == url.trim_end_matches('/');
        if last.iter().any(|(u, _)| same(u)) {
            return false;
        }
        last.push((url.to_owned(), None));
        true
    }

    /// Whether no directory is told of changes.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    pub fn urls(&self) -> Vec<String> {
        self.lock().iter().map(|(u, _)| u.clone()).collect()
    }

    fn record(&self, url: &str, outcome: String) {
        if let Some(entry) = self.lock().iter_mut().find(|(u, _)| u == url) {
            entry.1 = Some((chrono::Utc::now(), outcome));
        }
    }

    /// Each subscriber with the time and result of its last push.
    pub fn snapshot(&self) -> Vec<PushResult> {
        self.lock().clone()
    }
}

/// Replaces the root key offline (the node must be stopped: the store is locked while it
/// runs). Node document version + 1 names only the new root key and is signed by both.
pub fn rotate_root(
    dir: &Path,
    old_root: &Path,
    new_root: &Path,
) -> Result<signpost_protocol::NodeDocument, StartError> {
    let old = keyfile::read_key(old_root)?;
    let new = keyfile::read_key(new_root)?;
    let publisher = open_stopped(dir)?;
    Ok(publisher.rotate_root(&old, &new)?)
}

/// A stopped node's publisher (a running node holds its store's lock).
fn open_stopped(dir: &Path) -> Result<Publisher, StartError> {
    let config = NodeConfig::load(dir)?;
    let store = Store::open(&dir.join(STORE_DIR))?;
    Ok(Publisher::open_configured(dir, store, &config)?)
}

/// Backs up a stopped node (the running node makes its own from `POST /admin/backup` or its
/// Status page: the store is locked while it runs).
pub fn backup_stopped(dir: &Path, passphrase: &str) -> Result<Vec<u8>, backup::BackupError> {
    let config = NodeConfig::load(dir).map_err(|e| backup::BackupError::Io(e.to_string()))?;
    let store = Store::open(&dir.join(STORE_DIR)).map_err(|e| {
        backup::BackupError::Io(match e {
            signpost_store::StoreError::InUse { .. } => format!(
                "the node in {} is running (its store is in use): give its address with --url, \
                 or make the backup from its Status page",
                dir.display()
            ),
            other => other.to_string(),
        })
    })?;
    let publisher = Publisher::open_configured(dir, store, &config)?;
    backup::create(dir, &publisher, passphrase)
}

/// Imports an attestation into a stopped node's store (the running node's admin API does
/// the same).
pub fn import_attestation(
    dir: &Path,
    envelope: signpost_protocol::Envelope,
) -> Result<(), StartError> {
    let publisher = open_stopped(dir)?;
    publisher.import_attestation(envelope)?;
    Ok(())
}

/// Loads the certificate chain and key for HTTPS (rustls with the ring provider).
fn tls_config(dir: &Path, tls: &config::Tls) -> Result<rustls::ServerConfig, StartError> {
    let path = |p: &Path| {
        if p.is_relative() {
            dir.join(p)
        } else {
            p.to_owned()
        }
    };
    let (Some(cert_file), Some(key_file)) = (&tls.cert_file, &tls.key_file) else {
        return Err(StartError::Invalid(
            "[tls] needs cert_file and key_file, or acme".into(),
        ));
    };
    let (cert_path, key_path) = (path(cert_file), path(key_file));
    keyfile::check_private(&key_path)?;
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| StartError::Io { path: p, source }
    };
    let certs = rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(&cert_path).map_err(io(&cert_path))?,
    ))
    .collect::<Result<Vec<_>, _>>()
    .map_err(io(&cert_path))?;
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(
        std::fs::File::open(&key_path).map_err(io(&key_path))?,
    ))
    .map_err(io(&key_path))?
    .ok_or_else(|| StartError::Invalid(format!("{}: no private key", key_path.display())))?;
    rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
    .map_err(|e| StartError::Invalid(format!("TLS: {e}")))
}

/// Replaces the admin token: a new random token in `DIR/admin-token` (0600) and its hash in
/// the config. The old token stops working when the node next starts.
pub fn rotate_admin_token(dir: &Path) -> Result<PathBuf, StartError> {
    rotate_admin_token_now(dir).map(|_| dir.join(ADMIN_TOKEN_FILE))
}

/// [`rotate_admin_token`], returning the new token and its hash (for a running node, which
/// takes the new hash at once).
pub fn rotate_admin_token_now(dir: &Path) -> Result<(String, [u8; 32]), StartError> {
    let mut config = NodeConfig::load(dir)?;
    let mut token = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut token);
    let token = hex::encode(token);
    let path = dir.join(ADMIN_TOKEN_FILE);
    let fresh = dir.join(format!("{ADMIN_TOKEN_FILE}.new"));
    let _ = std::fs::remove_file(&fresh);
    keyfile::write_secret(&fresh, format!("{token}\n").as_bytes())?;
    config.admin_token_sha256 = hex::encode(Sha256::digest(token.as_bytes()));
    let text = config
        .to_toml()
        .map_err(|e| StartError::Invalid(e.to_string()))?;
    let config_path = dir.join(CONFIG_FILE);
    std::fs::write(&config_path, text).map_err(|source| StartError::Io {
        path: config_path,
        source,
    })?;
    std::fs::rename(&fresh, &path).map_err(|source| StartError::Io {
        path: path.clone(),
        source,
    })?;
    Ok((token.clone(), Sha256::digest(token.as_bytes()).into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_pushed_to_once_however_its_address_ends() {
        let status = PushStatus::new(&["https://directory.example/v1/ping/".to_owned()]);
        assert!(!status.add(&ping_url("https://directory.example/")));
        assert!(status.add(&ping_url("https://other.example")));
        assert_eq!(
            status.urls(),
            [
                "https://directory.example/v1/ping/",
                "https://other.example/v1/ping"
            ]
        );
    }
}
