//! What the fuzz targets share: a real aggregator on a store of its own, the node data it
//! installs, its public surfaces (API, pages, FHIR R4, Open Referral UK) answering requests
//! in process, and a node on loopback serving whatever bytes a target gives it; and the
//! targets themselves (`targets`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::http::StatusCode;
use actix_web::{test, web, App, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use signpost_aggregator::config::AggregatorConfig;
use signpost_aggregator::crawl::Aggregator;
use signpost_aggregator::verify::NodeData;
use signpost_protocol::model::{Listing, NodeDocument};
use signpost_protocol::wire::Bundle;
use signpost_protocol::{sample, DidKey, SigningKey, Verified};
use signpost_store::Store;

pub mod targets;

/// `bytes` as a URL path segment or form value: unreserved characters (and `:`, for ids
/// such as `did:key:...`) as they are, every other byte percent-encoded.
pub fn encode_path(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An input read as a run of at most `max` records, each separated from the next by
/// 0xff: (route byte, flags byte, the rest). Records shorter than two bytes are skipped.
pub fn records(input: &[u8], max: usize) -> Vec<(u8, u8, Vec<u8>)> {
    input
        .split(|b| *b == 0xff)
        .take(max)
        .filter_map(|r| match r {
            [route, flags, body @ ..] => Some((*route, *flags, body.to_vec())),
            _ => None,
        })
        .collect()
}

/// Whether `FUZZ_DEBUG` asks for each request and its answer to be printed.
pub fn debug() -> bool {
    std::env::var_os("FUZZ_DEBUG").is_some()
}

/// An aggregator serving from a store in memory-backed storage where there is some.
pub struct Harness {
    system: actix_rt::SystemRunner,
    pub aggregator: Arc<Aggregator>,
    dir: PathBuf,
}

impl Harness {
    pub fn new() -> Self {
        Self::with(|_, _| {})
    }

    /// An aggregator whose configuration `configure` sets, given the store's directory (a
    /// file beside it, `<dir>.<name>`, is removed with it).
    pub fn with(configure: impl FnOnce(&mut AggregatorConfig, &Path)) -> Self {
        let dir = store_dir();
        let mut config = AggregatorConfig::default();
        configure(&mut config, &dir);
        let store = Store::open(&dir).expect("the fuzz store opens");
        let aggregator = Aggregator::open(config, store).expect("opens");
        Self {
            system: actix_rt::System::new(),
            aggregator: Arc::new(aggregator),
            dir,
        }
    }

    /// A file beside the store, removed with it.
    pub fn beside(dir: &Path, name: &str) -> PathBuf {
        dir.with_extension(name)
    }

    /// Sends one request to the aggregator's surfaces (its federation and admin endpoints
    /// among them) in process; returns the answer's status and body.
    pub fn send(&self, request: test::TestRequest) -> (StatusCode, Vec<u8>) {
        let mut answer = (StatusCode::OK, Vec::new());
        self.answer_all(vec![request], |_, status, body| {
            answer = (status, body.to_vec());
            vec![]
        });
        answer
    }

    /// Runs `f` on this harness's runtime (a crawl, say) to its end.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.system.block_on(f)
    }

    /// GETs each of `uris` in turn from a fresh app over this aggregator; `each` sees every
    /// answer (none may be a 5xx) and may return more URIs to get.
    pub fn get_all(
        &self,
        uris: Vec<String>,
        mut each: impl FnMut(&str, StatusCode, &[u8]) -> Vec<String>,
    ) {
        let get = |uri: String| test::TestRequest::get().uri(&uri);
        self.answer_all(uris.into_iter().map(get).collect(), |uri, status, body| {
            assert!(
                !status.is_server_error(),
                "{uri}: {status}: {}",
                String::from_utf8_lossy(body)
            );
            each(uri, status, body).into_iter().map(get).collect()
        });
    }

    /// Answers each of `requests` in turn from a fresh app over this aggregator (every
    /// surface: pages, Open Referral UK, FHIR R4, the API); `each` sees every answer, by
    /// its URI, and may return more requests.
    fn answer_all(
        &self,
        requests: Vec<test::TestRequest>,
        mut each: impl FnMut(&str, StatusCode, &[u8]) -> Vec<test::TestRequest>,
    ) {
        let aggregator = Arc::clone(&self.aggregator);
        self.system.block_on(async move {
            let limiter = signpost_http::ratelimit::RateLimiter::new(1_000_000, 1_000_000);
            let app = test::init_service(
                App::new()
                    .app_data(web::Data::new(aggregator))
                    .app_data(web::Data::new(limiter))
                    .configure(signpost_aggregator::routes),
            )
            .await;
            let mut queue = requests;
            while let Some(request) = queue.pop() {
                let request = request.to_request();
                let uri = request.uri().to_string();
                let resp = test::call_service(&app, request).await;
                let status = resp.status();
                let body = resp.into_body().try_into_bytes().unwrap_or_default();
                if debug() {
                    let shown = &body[..body.len().min(300)];
                    eprintln!("{uri}: {status} {}", String::from_utf8_lossy(shown));
                }
                queue.extend(each(&uri, status, &body));
            }
        });
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let (Some(parent), Some(name)) = (self.dir.parent(), self.dir.file_name()) {
            let prefix = format!("{}.", name.to_string_lossy());
            for entry in std::fs::read_dir(parent).into_iter().flatten().flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

/// A store directory of this harness's own, in `/dev/shm` where it exists (a store syncs
/// each install). Those of processes no longer running are removed first: a fuzzer's
/// process ends without dropping what it holds.
fn store_dir() -> PathBuf {
    let base = Path::new("/dev/shm");
    let base = if base.is_dir() {
        base.to_owned()
    } else {
        std::env::temp_dir()
    };
    const PREFIX: &str = "signpost-fuzz-";
    for entry in std::fs::read_dir(&base).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|n| n.strip_prefix(PREFIX));
        let pid = pid.map(|p| p.split_once('-').map_or(p, |(pid, _)| pid));
        if let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok()) {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                // A store, or a file beside one.
                let _ = std::fs::remove_dir_all(entry.path())
                    .or_else(|_| std::fs::remove_file(entry.path()));
            }
        }
    }
    // One a harness: a target may open a new one (each holds its store's lock).
    static OPENED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = base.join(format!("{PREFIX}{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A node's verified state, signed by the key made of `seed`: its document (under `org`)
/// and the listings of `groups`, their ids numbered from the seed.
pub fn node(
    seed: u8,
    org: &str,
    groups: Vec<signpost_protocol::model::Group>,
    now: DateTime<Utc>,
) -> Option<NodeData> {
    node_at(seed, org, "https://signpost.example.org", groups, now)
}

/// As [`node`], its document naming `base_url` as the node's address.
pub fn node_at(
    seed: u8,
    org: &str,
    base_url: &str,
    groups: Vec<signpost_protocol::model::Group>,
    now: DateTime<Utc>,
) -> Option<NodeData> {
    let root = SigningKey::from_bytes(&[seed; 32]);
    let id = DidKey::new(root.verifying_key());
    let doc = NodeDocument::first(id, id, org, base_url, now, now + Duration::days(365));
    let listings = (groups.into_iter().zip(0u128..))
        .map(|(group, n)| {
            let listing = listing_id(seed, n);
            Verified::sign(sample::listing(id, listing, group, now), &root).ok()
        })
        .collect::<Option<Vec<Verified<Listing>>>>()?;
    let snapshot = sample::first_snapshot(id, &listings, vec![], now);
    Some(NodeData {
        id,
        chain: vec![Verified::sign(doc, &root).ok()?],
        snapshot: Verified::sign(snapshot, &root).ok()?,
        listings: listings.into_iter().map(|l| (l.id, l)).collect(),
        attestations: vec![],
        verified_at: now,
    })
}

/// The id of the `n`th listing of the node made of `seed`.
pub fn listing_id(seed: u8, n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(u128::from(seed) << 64 | n)
}

/// What a [`FakeNode`] answers: each path's bytes.
type Answers = std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>;

/// A node on `127.0.0.1` answering each path with the bytes set for it (404 otherwise), as
/// JSON: what a crawler reads from a node that may send anything.
pub struct FakeNode {
    pub url: String,
    answers: Arc<Answers>,
}

impl FakeNode {
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let answers: Arc<Answers> = Arc::default();
        let served = web::Data::from(Arc::clone(&answers));
        std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let server = actix_web::HttpServer::new(move || {
                    App::new()
                        .app_data(served.clone())
                        .default_service(web::to(answer))
                })
                .workers(1)
                .listen(listener)
                .expect("the fake node listens");
                server.run().await
            })
        });
        Self { url, answers }
    }

    /// What the node answers from now on: each path's bytes.
    pub fn set(&self, answers: impl IntoIterator<Item = (String, Vec<u8>)>) {
        if let Ok(mut held) = self.answers.lock() {
            held.clear();
            held.extend(answers);
        }
    }
}

async fn answer(request: actix_web::HttpRequest, answers: web::Data<Answers>) -> HttpResponse {
    match answers
        .lock()
        .ok()
        .and_then(|a| a.get(request.path()).cloned())
    {
        Some(body) => HttpResponse::Ok()
            .content_type("application/json")
            .body(body),
        None => HttpResponse::NotFound().finish(),
    }
}

/// What a node serves of `data`, as a node of this project writes it: each path a crawler
/// reads, with its bytes.
pub fn served(data: &NodeData) -> Vec<(String, Vec<u8>)> {
    fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
        serde_json::to_vec(v).unwrap_or_default()
    }
    let mut out = Vec::new();
    for (n, d) in data.chain.iter().enumerate() {
        out.push((format!("/v1/node/{}", n + 1), json(&d.envelope())));
    }
    out.push(("/v1/snapshot".to_owned(), json(&data.snapshot.envelope())));
    for l in data.listings.values() {
        out.push((format!("/v1/listings/{}", l.id), json(&l.envelope())));
    }
    if let Some(doc) = data.chain.last().map(|d| d.envelope()) {
        out.push(("/.well-known/signpost/node".to_owned(), json(&doc)));
        let bundle = Bundle {
            node: doc.to_envelope(),
            snapshot: data.snapshot.envelope().to_envelope(),
            listings: data
                .listings
                .values()
                .map(|l| l.envelope().to_envelope())
                .collect(),
            attestations: (data.attestations.iter())
                .map(|a| a.envelope().to_envelope())
                .collect(),
        };
        out.push(("/v1/bundle".to_owned(), json(&bundle)));
    }
    out
}

/// A node just made by `signpost node init`, answering its management pages and admin API
/// in process, with one group published, a session signed in with the admin token, and a
/// one-time sign-in link: the secrets a target may hand to the requests it makes, or not.
pub struct ManagedNode {
    system: actix_rt::SystemRunner,
    pub state: web::Data<signpost_node::routes::AppState>,
    pub dir: PathBuf,
    pub admin_token: String,
    pub one_time: String,
    /// The signed-in session's cookie value and its CSRF token.
    pub session: (String, String),
    /// The published group's id.
    pub group: uuid::Uuid,
}

impl ManagedNode {
    pub fn new() -> Self {
        let dir = store_dir();
        let report = signpost_node::init(&dir, "Fuzzed Community Group", "http://localhost")
            .expect("a node is made");
        let admin_token = std::fs::read_to_string(&report.admin_token_path)
            .expect("its admin token")
            .trim()
            .to_owned();
        let config = signpost_node::config::NodeConfig::load(&dir).expect("its config");
        let store = Store::open(&dir.join(signpost_node::config::STORE_DIR)).expect("its store");
        let publisher = signpost_node::publisher::Publisher::open(
            &dir,
            store,
            config.publishing.lifetime(),
            config.limits.max_listings,
        )
        .expect("its publisher");
        let group = publisher
            .create(sample::group(7, 1, Utc::now()))
            .expect("a sample group publishes")
            .id;
        let one_time =
            signpost_node::pages::session::new_one_time_link(&dir).expect("a one-time link");
        let token_sha256 = sha256(&admin_token);
        let configured: String = token_sha256.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            configured, config.admin_token_sha256,
            "the token is the one configured"
        );
        let state = web::Data::new(signpost_node::routes::AppState {
            publisher: Arc::new(publisher),
            admin_token_sha256: std::sync::RwLock::new(token_sha256),
            changed: Arc::default(),
            auth: signpost_node::pages::session::Auth::new(&dir),
            dir: dir.clone(),
            secure_cookies: false,
            push: Arc::new(signpost_node::PushStatus::new(&[])),
            capacity_max_age_days: config.publishing.capacity_max_age_days,
            acme: None,
        });
        let (cookie, session) = state.auth.start();
        Self {
            system: actix_rt::System::new(),
            state,
            dir,
            admin_token,
            one_time,
            session: (cookie, session.csrf),
            group,
        }
    }

    /// Everything the node publishes or keeps that only its owner may change: what it
    /// serves (document, snapshot, listings), the admin token's hash, the passphrase and,
    /// last, the one-time link.
    pub fn kept(&self) -> Vec<Vec<u8>> {
        let published = self.state.publisher.published();
        let mut listings: Vec<Vec<u8>> = published.listings.values().map(|b| b.to_vec()).collect();
        listings.sort();
        let mut out = vec![
            published.node_document.to_vec(),
            published.snapshot.to_vec(),
            self.state.admin_token().to_vec(),
        ];
        out.extend(listings);
        for file in [
            signpost_node::pages::session::PASSPHRASE_FILE,
            signpost_node::pages::session::ONE_TIME_FILE,
        ] {
            out.push(std::fs::read(self.dir.join(file)).unwrap_or_default());
        }
        out
    }

    /// Whether the admin token still opens the admin API (the pages can replace it).
    pub fn token_current(&self) -> bool {
        *self.state.admin_token() == sha256(&self.admin_token)
    }

    /// Answers `request` as `signpost node` serves it: its status, headers and body.
    pub fn answer(
        &self,
        request: test::TestRequest,
    ) -> (StatusCode, actix_web::http::header::HeaderMap, Vec<u8>) {
        let state = self.state.clone();
        self.system.block_on(async move {
            let app = test::init_service(
                App::new()
                    .app_data(state)
                    .configure(|cfg| signpost_node::configure(cfg, 256 * 1024)),
            )
            .await;
            let resp = test::call_service(&app, request.to_request()).await;
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = resp.into_body().try_into_bytes().unwrap_or_default();
            (status, headers, body.to_vec())
        })
    }
}

impl Default for ManagedNode {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for ManagedNode {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn sha256(text: &str) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes()).into()
}
