//! The benchmark's node farm: N organisations' signed publications, generated in memory and
//! served from one HTTP server under `/n/{i}` (each prefix is one node's base URL, with the
//! node wire format byte for byte). `POST /control/change/{count}` changes one listing on
//! each of the first `count` nodes (new listing version, new snapshot), as a real node would.

use std::sync::{Arc, RwLock};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use chrono::{Duration, Utc};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use signpost_protocol::model::ManifestEntry;
use signpost_protocol::{
    sample, DidKey, Envelope, Listing, NodeDocument, RevocationList, Snapshot, Verified,
};
use uuid::Uuid;

struct FarmNode {
    signing: SigningKey,
    id: DidKey,
    node_doc: web::Bytes,
    listings: Vec<Verified<Listing>>,
    listing_bytes: Vec<web::Bytes>,
    attestations: Vec<Envelope>,
    snapshot: Verified<Snapshot>,
    snapshot_bytes: web::Bytes,
    bundle: web::Bytes,
    etag: String,
}

/// What the farm prints on its first line of stdout.
#[derive(Serialize, Deserialize)]
pub struct FarmInfo {
    pub url: String,
    pub nodes: Vec<FarmEntry>,
    pub issuer: DidKey,
    pub revocations_url: String,
}

#[derive(Serialize, Deserialize)]
pub struct FarmEntry {
    pub id: DidKey,
    pub url: String,
}

fn bytes<T: Serialize>(v: &T) -> web::Bytes {
    web::Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

impl FarmNode {
    fn new(index: usize, listings_per_node: usize, issuer: &SigningKey) -> Result<Self, String> {
        let now = Utc::now();
        let root = signpost_protocol::keys::generate();
        let signing = signpost_protocol::keys::generate();
        let id = DidKey::new(root.verifying_key());
        let doc = NodeDocument::first(
            id,
            DidKey::new(signing.verifying_key()),
            sample::organisation_name(index as u64),
            "http://127.0.0.1",
            now,
            now + Duration::days(365),
        );
        let doc = Verified::sign(doc, &root).map_err(|e| e.to_string())?;
        let mut listings = Vec::with_capacity(listings_per_node);
        for j in 0..listings_per_node {
            let seed = (index * 100_003 + j) as u64;
            let group = sample::group(seed, index, now);
            let listing = sample::listing(
                id,
                Uuid::from_u64_pair(index as u64 + 1, j as u64 + 1),
                group,
                now,
            );
            listings.push(Verified::sign(listing, &signing).map_err(|e| e.to_string())?);
        }
        let attestations = if index % 3 == 0 {
            let att = sample::training_attestation(
                DidKey::new(issuer.verifying_key()),
                id,
                format!("bench-{index}"),
                now,
            );
            vec![Verified::sign(att, issuer)
                .map_err(|e| e.to_string())?
                .envelope()
                .to_envelope()]
        } else {
            vec![]
        };
        let listing_bytes = listings.iter().map(|l| bytes(&l.envelope())).collect();
        let mut node = Self {
            signing,
            id,
            node_doc: bytes(&doc.envelope()),
            listings,
            listing_bytes,
            attestations,
            snapshot: Verified::sign(placeholder_snapshot(id), &root).map_err(|e| e.to_string())?,
            snapshot_bytes: web::Bytes::new(),
            bundle: web::Bytes::new(),
            etag: String::new(),
        };
        node.publish(None)?;
        Ok(node)
    }

    /// Signs a new snapshot over the current listings and rebuilds the served bytes.
    fn publish(&mut self, prev: Option<&Verified<Snapshot>>) -> Result<(), String> {
        let now = Utc::now();
        let snapshot = Snapshot {
            node: self.id,
            seq: prev.map(|p| p.seq + 1).unwrap_or(1),
            prev: prev.map(|p| p.digest()),
            issued_at: now,
            expires_at: now + Duration::days(7),
            listings: self.listings.iter().map(ManifestEntry::from).collect(),
            attestations: self
                .attestations
                .iter()
                .filter_map(|a| a.digest().ok())
                .collect(),
        };
        self.snapshot = Verified::sign(snapshot, &self.signing).map_err(|e| e.to_string())?;
        self.snapshot_bytes = bytes(&self.snapshot.envelope());
        self.etag = format!("\"{}\"", self.snapshot.digest());
        let doc: Envelope = serde_json::from_slice(&self.node_doc).map_err(|e| e.to_string())?;
        self.bundle = bytes(&serde_json::json!({
            "node": doc,
            "snapshot": self.snapshot.envelope(),
            "listings": self.listings.iter().map(|l| l.envelope()).collect::<Vec<_>>(),
            "attestations": self.attestations,
        }));
        Ok(())
    }

    /// Changes one listing's capacity (a new version) and publishes a new snapshot.
    fn change_one(&mut self) -> Result<(), String> {
        let Some(first) = self.listings.first() else {
            return Ok(());
        };
        let mut listing = first.payload().clone();
        listing.version += 1;
        listing.issued_at = Utc::now();
        listing.group.capacity.places_available =
            Some(listing.group.capacity.places_available.unwrap_or(0) + 1);
        listing.group.capacity.updated_at = Utc::now();
        let signed = Verified::sign(listing, &self.signing).map_err(|e| e.to_string())?;
        self.listing_bytes[0] = bytes(&signed.envelope());
        self.listings[0] = signed;
        let prev = self.snapshot.clone();
        self.publish(Some(&prev))
    }
}

fn placeholder_snapshot(node: DidKey) -> Snapshot {
    let now = Utc::now();
    Snapshot {
        node,
        seq: 1,
        prev: None,
        issued_at: now,
        expires_at: now + Duration::days(1),
        listings: vec![],
        attestations: vec![],
    }
}

struct Farm {
    nodes: Vec<RwLock<FarmNode>>,
    revocations: web::Bytes,
}

fn json(b: web::Bytes) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(b)
}

async fn route(
    req: HttpRequest,
    farm: web::Data<Arc<Farm>>,
    path: web::Path<(usize, String)>,
) -> HttpResponse {
    let (i, rest) = path.into_inner();
    let Some(node) = farm.nodes.get(i) else {
        return HttpResponse::NotFound().finish();
    };
    let node = match node.read() {
        Ok(n) => n,
        Err(p) => p.into_inner(),
    };
    let etag_matches = || {
        req.headers()
            .get("if-none-match")
            .and_then(|v| v.to_str().ok())
            == Some(node.etag.as_str())
    };
    match rest.as_str() {
        ".well-known/signpost/node" | "v1/node/1" => json(node.node_doc.clone()),
        "v1/snapshot" if etag_matches() => HttpResponse::NotModified().finish(),
        "v1/snapshot" => HttpResponse::Ok()
            .content_type("application/json")
            .insert_header(("etag", node.etag.clone()))
            .body(node.snapshot_bytes.clone()),
        "v1/bundle" => HttpResponse::Ok()
            .content_type("application/json")
            .insert_header(("etag", node.etag.clone()))
            .body(node.bundle.clone()),
        other => match other
            .strip_prefix("v1/listings/")
            .and_then(|id| id.parse::<Uuid>().ok())
        {
            Some(id) => match node.listings.iter().position(|l| l.id == id) {
                Some(k) => json(node.listing_bytes[k].clone()),
                None => HttpResponse::NotFound().finish(),
            },
            None => HttpResponse::NotFound().finish(),
        },
    }
}

async fn change(farm: web::Data<Arc<Farm>>, count: web::Path<usize>) -> HttpResponse {
    let farm = Arc::clone(&farm);
    let n = count.into_inner();
    let result = web::block(move || {
        for node in farm.nodes.iter().take(n) {
            let mut node = match node.write() {
                Ok(n) => n,
                Err(p) => p.into_inner(),
            };
            node.change_one()?;
        }
        Ok::<_, String>(())
    })
    .await;
    match result {
        Ok(Ok(())) => HttpResponse::Ok().finish(),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

/// Generates the farm (signing on every core) and serves it; prints [`FarmInfo`] as one line.
pub async fn serve(nodes: usize, listings_per_node: usize) -> Result<(), String> {
    let issuer = signpost_protocol::keys::generate();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let issuer_for_threads = issuer.clone();
    let built = tokio::task::spawn_blocking(move || {
        let chunks: Vec<Vec<usize>> = (0..threads)
            .map(|t| (0..nodes).filter(|i| i % threads == t).collect())
            .collect();
        std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|idx| {
                    let issuer = issuer_for_threads.clone();
                    s.spawn(move || {
                        idx.into_iter()
                            .map(|i| FarmNode::new(i, listings_per_node, &issuer).map(|n| (i, n)))
                            .collect::<Result<Vec<_>, _>>()
                    })
                })
                .collect();
            let mut all = Vec::with_capacity(nodes);
            for h in handles {
                all.extend(
                    h.join()
                        .map_err(|_| "a generator thread panicked".to_string())??,
                );
            }
            all.sort_by_key(|(i, _)| *i);
            Ok::<_, String>(
                all.into_iter()
                    .map(|(_, n)| RwLock::new(n))
                    .collect::<Vec<_>>(),
            )
        })
    })
    .await
    .map_err(|e| e.to_string())??;
    let now = Utc::now();
    let list = RevocationList {
        issuer: DidKey::new(issuer.verifying_key()),
        version: 1,
        issued_at: now,
        expires_at: now + Duration::days(7),
        revoked: vec![],
    };
    let revocations = bytes(
        &Verified::sign(list, &issuer)
            .map_err(|e| e.to_string())?
            .envelope(),
    );
    let ids: Vec<DidKey> = built
        .iter()
        .map(|n| n.read().map(|n| n.id).unwrap_or_else(|p| p.into_inner().id))
        .collect();
    let farm = Arc::new(Farm {
        nodes: built,
        revocations,
    });
    let data = web::Data::new(Arc::clone(&farm));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/n/{i}/{rest:.*}", web::get().to(route))
            .route("/control/change/{count}", web::post().to(change))
            .route(
                "/issuer/revocations",
                web::get().to(|f: web::Data<Arc<Farm>>| async move { json(f.revocations.clone()) }),
            )
    })
    .workers(1)
    .backlog(4096)
    .max_connections(100_000)
    .bind("127.0.0.1:0")
    .map_err(|e| e.to_string())?;
    let url = format!("http://{}", server.addrs().first().ok_or("no address")?);
    let info = FarmInfo {
        nodes: ids
            .into_iter()
            .enumerate()
            .map(|(i, id)| FarmEntry {
                id,
                url: format!("{url}/n/{i}"),
            })
            .collect(),
        issuer: DidKey::new(issuer.verifying_key()),
        revocations_url: format!("{url}/issuer/revocations"),
        url,
    };
    println!(
        "{}",
        serde_json::to_string(&info).map_err(|e| e.to_string())?
    );
    server.run().await.map_err(|e| e.to_string())
}
