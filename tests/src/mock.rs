//! A node the test controls byte for byte: it serves whatever a test puts in its routes,
//! slowly, endlessly, with the wrong type or as redirects. [`Forge`] signs payloads with the
//! keys of an organisation the test invents.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use signpost_protocol::model::{Group, ManifestEntry};
use signpost_protocol::{DidKey, Envelope, Listing, NodeDocument, Snapshot, Verified};
use uuid::Uuid;

/// How the mock answers one path.
#[derive(Clone)]
pub enum Reply {
    Json(Vec<u8>),
    Status(u16),
    Slow(Duration),
    Endless,
    Redirect(String),
    WrongType(Vec<u8>),
    /// Sends the start of a body, then drops the connection.
    ResetMidBody(Vec<u8>),
    /// A body with `Content-Encoding: gzip`.
    Gzip(Vec<u8>),
}

#[derive(Default)]
struct Routes {
    map: HashMap<String, Reply>,
    hits: HashMap<String, usize>,
}

pub struct MockNode {
    pub url: String,
    routes: Arc<Mutex<Routes>>,
    handle: actix_web::dev::ServerHandle,
}

async fn answer(req: HttpRequest, routes: web::Data<Arc<Mutex<Routes>>>) -> HttpResponse {
    let path = req.path().to_owned();
    let reply = {
        let mut r = routes.lock().unwrap();
        *r.hits.entry(path.clone()).or_default() += 1;
        r.map.get(&path).cloned()
    };
    match reply {
        None => HttpResponse::NotFound().finish(),
        Some(Reply::Json(b)) => HttpResponse::Ok().content_type("application/json").body(b),
        Some(Reply::WrongType(b)) => HttpResponse::Ok().content_type("text/html").body(b),
        Some(Reply::Status(s)) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(s).unwrap()).finish()
        }
        Some(Reply::Redirect(to)) => HttpResponse::Found()
            .insert_header(("location", to))
            .finish(),
        Some(Reply::Slow(d)) => {
            tokio::time::sleep(d).await;
            HttpResponse::Ok()
                .content_type("application/json")
                .body("{}")
        }
        Some(Reply::ResetMidBody(start)) => {
            let chunks = futures_util::stream::iter(vec![
                Ok::<_, actix_web::Error>(web::Bytes::from(start)),
                Err(actix_web::error::ErrorInternalServerError("reset")),
            ]);
            HttpResponse::Ok()
                .content_type("application/json")
                .streaming(chunks)
        }
        Some(Reply::Gzip(b)) => HttpResponse::Ok()
            .content_type("application/json")
            .insert_header(("content-encoding", "gzip"))
            .body(b),
        Some(Reply::Endless) => {
            let chunks = futures_util::stream::unfold((), |_| async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                Some((
                    Ok::<_, actix_web::Error>(web::Bytes::from(vec![b' '; 64 * 1024])),
                    (),
                ))
            });
            HttpResponse::Ok()
                .content_type("application/json")
                .streaming(chunks)
        }
    }
}

impl MockNode {
    pub async fn start() -> Self {
        let routes = Arc::new(Mutex::new(Routes::default()));
        let data = web::Data::new(Arc::clone(&routes));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .shutdown_timeout(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let url = format!("http://{}", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url,
            routes,
            handle,
        }
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.routes
            .lock()
            .unwrap()
            .map
            .insert(path.to_owned(), reply);
    }

    pub fn json(&self, path: &str, value: &impl serde::Serialize) {
        self.set(path, Reply::Json(serde_json::to_vec(value).unwrap()));
    }

    pub fn hits(&self, path: &str) -> usize {
        self.routes
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Publishes everything `forge` holds: node documents, snapshot, listings, bundle.
    pub fn publish(&self, forge: &Forge, snapshot: &Envelope) {
        for (i, doc) in forge.docs.iter().enumerate() {
            self.json(&format!("/v1/node/{}", i + 1), doc);
        }
        self.json("/.well-known/signpost/node", forge.docs.last().unwrap());
        self.json("/v1/snapshot", snapshot);
        for (id, env) in &forge.listings {
            self.json(&format!("/v1/listings/{id}"), env);
        }
        self.json("/v1/bundle", &forge.bundle(snapshot));
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// An invented organisation whose keys the test holds.
pub struct Forge {
    pub root: SigningKey,
    pub signing: SigningKey,
    pub id: DidKey,
    pub docs: Vec<Envelope>,
    pub listings: Vec<(Uuid, Envelope)>,
    pub attestations: Vec<Envelope>,
    pub seq: u64,
    pub last_snapshot: Option<Envelope>,
}

impl Forge {
    pub fn new(name: &str) -> Self {
        let root = signpost_protocol::keys::generate();
        let signing = signpost_protocol::keys::generate();
        let id = DidKey::new(root.verifying_key());
        let now = Utc::now();
        let doc = NodeDocument::first(
            id,
            DidKey::new(signing.verifying_key()),
            name,
            "http://127.0.0.1",
            now,
            now + chrono::Duration::days(365),
        );
        let doc = Verified::sign(doc, &root).unwrap().envelope().to_envelope();
        Self {
            root,
            signing,
            id,
            docs: vec![doc],
            listings: vec![],
            attestations: vec![],
            seq: 0,
            last_snapshot: None,
        }
    }

    pub fn listing(&self, id: Uuid, version: u64, group: Group) -> Listing {
        let now = Utc::now();
        Listing {
            node: self.id,
            id,
            version,
            issued_at: now,
            expires_at: now + chrono::Duration::days(7),
            group,
        }
    }

    /// Signs a listing with the signing key and holds it (replacing one with the same id).
    pub fn put(&mut self, listing: Listing) -> Envelope {
        let env = Verified::sign(listing.clone(), &self.signing)
            .unwrap()
            .envelope()
            .to_envelope();
        self.listings.retain(|(id, _)| *id != listing.id);
        self.listings.push((listing.id, env.clone()));
        env
    }

    /// The snapshot payload naming the held listings, at the next seq.
    pub fn next_snapshot(&mut self) -> Snapshot {
        self.seq += 1;
        let now = Utc::now();
        Snapshot {
            node: self.id,
            seq: self.seq,
            prev: self.last_snapshot.as_ref().map(|s| s.digest().unwrap()),
            issued_at: now,
            expires_at: now + chrono::Duration::days(7),
            listings: self.manifest(),
            attestations: self
                .attestations
                .iter()
                .map(|a| a.digest().unwrap())
                .collect(),
        }
    }

    pub fn manifest(&self) -> Vec<ManifestEntry> {
        self.listings
            .iter()
            .map(|(id, env)| {
                let version = serde_json::from_slice::<Listing>(&env.payload_bytes().unwrap())
                    .unwrap()
                    .version;
                ManifestEntry {
                    id: *id,
                    version,
                    sha256: env.digest().unwrap(),
                }
            })
            .collect()
    }

    /// Signs a snapshot payload as-is (no validation: tests forge bad ones too).
    pub fn sign_snapshot(&mut self, snapshot: &Snapshot) -> Envelope {
        let env = sign_raw(
            snapshot,
            signpost_protocol::model::PayloadKind::Snapshot.media_type(),
            &self.signing,
        );
        self.last_snapshot = Some(env.clone());
        env
    }

    /// The next valid snapshot, signed.
    pub fn snapshot(&mut self) -> Envelope {
        let s = self.next_snapshot();
        self.sign_snapshot(&s)
    }

    pub fn bundle(&self, snapshot: &Envelope) -> signpost_protocol::wire::Bundle {
        signpost_protocol::wire::Bundle {
            node: self.docs.last().unwrap().clone(),
            snapshot: snapshot.clone(),
            listings: self.listings.iter().map(|(_, e)| e.clone()).collect(),
            attestations: self.attestations.clone(),
        }
    }

    pub fn entry(&self, url: &str) -> (String, DidKey) {
        (url.to_owned(), self.id)
    }
}

/// Signs any serialisable value as `payload_type`, bypassing validation.
pub fn sign_raw(value: &impl serde::Serialize, payload_type: &str, key: &SigningKey) -> Envelope {
    Envelope::sign(payload_type, &serde_json::to_vec(value).unwrap(), key)
}

/// A time `secs` from now.
pub fn in_secs(secs: i64) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::seconds(secs)
}
