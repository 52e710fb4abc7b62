//! The aggregator: crawls nodes, verifies every envelope, indexes what verified, and serves
//! the directory API that GP software calls.
//!
//! - [`crawl`]: the aggregator's state and everything that brings verified data into it
//!   (scheduler, one node's crawl, publications, revocation lists, mirror, health), fetching
//!   through `signpost-client`.
//! - [`verify`]: the verification pipeline and every refusal reason, as pure functions.
//! - [`persist`]: verified state in sled; reloaded at start.
//! - [`index`]: the in-memory index and the one query engine every surface calls.
//! - [`api`], [`oruk`], [`openapi`], [`error`]: the HTTP surfaces; each parses its own
//!   parameters into a `GroupQuery`, calls the engine and renders.

pub mod api;
pub mod config;
pub mod crawl;
pub mod enrol;
pub mod error;
pub mod fhir;
pub mod index;
pub mod openapi;
pub mod oruk;
pub mod page_json;
pub mod pages;
pub mod persist;
pub mod verify;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use actix_web::{web, App, HttpServer};
use signpost_store::Store;
use utoipa_swagger_ui::SwaggerUi;

pub use crate::config::AggregatorConfig;
pub use crate::crawl::Aggregator;

/// Why the aggregator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Store(#[from] signpost_store::StoreError),
    #[error("cannot listen on {addr}: {}", signpost_http::listen_words(error))]
    Bind { addr: String, error: std::io::Error },
    #[error("{0}")]
    Other(String),
}

/// A running aggregator.
pub struct AggregatorServer {
    pub addr: SocketAddr,
    pub state: Arc<Aggregator>,
    running: signpost_http::Running,
}

impl AggregatorServer {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn wait(self) -> std::io::Result<()> {
        self.running.wait().await
    }

    pub async fn stop(self) {
        self.running.stop().await
    }
}

/// Options beyond the configuration file.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Do not start the background crawler (tests and benchmarks drive crawls themselves).
    pub manual_crawl: bool,
}

/// Starts an aggregator from a configuration file.
pub async fn start_from_file(
    path: &Path,
    listen: &str,
    options: ServeOptions,
) -> Result<AggregatorServer, StartError> {
    let config = AggregatorConfig::load(path)?;
    start(config, listen, options).await
}

/// Every route the aggregator serves, in the order they are matched. The app needs the
/// [`Aggregator`] and the [`signpost_http::ratelimit::RateLimiter`] as data.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // The machine surfaces first: a path is matched against each route in turn, and the
    // documentation's pattern (`/docs/{_:.*}`) is a regular expression run for every path
    // tried past it (about 2% of a query's worker time).
    cfg.configure(api::configure_v1)
        .configure(oruk::configure)
        .configure(fhir::configure)
        // The documentation lives at `/docs/`; `/docs` as typed is sent there (relative, so a
        // path prefix added by a reverse proxy is kept).
        .service(signpost_http::get("/docs", || async {
            actix_web::HttpResponse::PermanentRedirect()
                .insert_header((actix_web::http::header::LOCATION, "docs/"))
                .finish()
        }))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi::document()))
        .configure(pages::configure)
        // Its scope takes every path left.
        .configure(api::configure)
        .default_service(web::to(pages::unknown_path));
}

/// Starts an aggregator: loads what the store holds (served at once), then crawls.
pub async fn start(
    config: AggregatorConfig,
    listen: &str,
    options: ServeOptions,
) -> Result<AggregatorServer, StartError> {
    config.check().map_err(StartError::Other)?;
    let store = Store::open(Path::new(&config.store_dir))?;
    let workers = config.api.workers;
    let state = Arc::new(
        tokio::task::spawn_blocking(move || Aggregator::open(config, store))
            .await
            .map_err(|e| StartError::Other(e.to_string()))?
            .map_err(StartError::Other)?,
    );
    let data = web::Data::new(Arc::clone(&state));
    let limiter = web::Data::new(
        signpost_http::ratelimit::RateLimiter::new(
            state.config.api.rate_limit_per_sec,
            state.config.api.rate_limit_burst,
        )
        .trust_proxies(
            signpost_http::ratelimit::parse_networks(
                "api.trusted_proxies",
                &state.config.api.trusted_proxies,
            )
            .map_err(StartError::Other)?,
        ),
    );
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(limiter.clone())
            .wrap(signpost_http::access_log())
            .wrap(actix_web::middleware::from_fn(signpost_http::head_as_get))
            .configure(routes)
    })
    .shutdown_timeout(5)
    .backlog(4096);
    if workers > 0 {
        server = server.workers(workers);
    }
    let server = server.bind(listen).map_err(|error| StartError::Bind {
        addr: listen.to_owned(),
        error,
    })?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| StartError::Other("bound to no address".into()))?;
    let server = server.run();
    let mut running =
        signpost_http::Running::spawn(server).with(state.spawn_revocation_refresher());
    if !options.manual_crawl {
        if state.config.mirror.is_some() {
            running = running.with(state.spawn_mirror());
        } else {
            for task in state.spawn_crawler() {
                running = running.with(task);
            }
        }
    }
    tracing::info!(%addr, nodes = state.config.nodes.len(), listings = state.index().listing_count(), "aggregator serving");
    Ok(AggregatorServer {
        addr,
        state,
        running,
    })
}
