//! An issuer: a training provider or regulator that signs attestations about organisations
//! and withdraws them through a signed revocation list.
//!
//! Everything public is a file in the issuer's directory, so a static web server can serve it
//! as well as [`serve`]:
//! - `issuer.json`: the issuer's public document (id, name);
//! - `revocations.json`: the current revocation list envelope (`revocations.v1`).
//!
//! Private: `issuer-key.pem` (0600) and `state.json` (every attestation issued, for audit).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use signpost_protocol::{Attestation, DidKey, Envelope, RevocationList, Verified};
use signpost_store::keyfile;

pub const KEY_FILE: &str = "issuer-key.pem";
pub const STATE_FILE: &str = "state.json";
pub const PUBLIC_FILE: &str = "issuer.json";
pub const REVOCATIONS_FILE: &str = "revocations.json";
/// Directories told of each new revocation list at once (base URLs, one a line).
pub const SUBSCRIBERS_FILE: &str = "subscribers";

/// How long a revocation list is valid; `serve` re-signs it when half is left.
pub const REVOCATION_LIST_LIFETIME_DAYS: i64 = 7;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssuerError {
    #[error("{0} already holds an issuer; refusing to overwrite it")]
    Exists(PathBuf),
    #[error("{0} holds no issuer; create one with `signpost issuer init`")]
    Missing(PathBuf),
    #[error(transparent)]
    Key(#[from] keyfile::KeyFileError),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("invalid attestation: {0}")]
    Invalid(#[from] signpost_protocol::ValidationError),
    /// The issuer's own name (`{0}` names the field: "name: must not be empty").
    #[error("the issuer's {0}")]
    Name(signpost_protocol::ValidationError),
    #[error(
        "{0:?} is not a directory's address: give its base URL, like https://directory.example.org"
    )]
    NotADirectory(String),
    #[error("no attestation with serial {0} was issued here")]
    UnknownSerial(String),
    #[error("cannot listen on {addr}: {words}", words = signpost_http::listen_words(.1), addr = .0)]
    Bind(String, std::io::Error),
}

pub use signpost_protocol::wire::IssuerDocument;

/// One attestation this issuer signed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issued {
    pub serial: String,
    pub subject: DidKey,
    pub achievement: String,
    pub valid_until: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    name: String,
    revocations_version: u64,
    revoked: Vec<String>,
    issued: Vec<Issued>,
}

/// An issuer directory, opened.
pub struct Issuer {
    dir: PathBuf,
    key: SigningKey,
    state: State,
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> IssuerError {
    IssuerError::File {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// Writes a file atomically (temporary file, fsync, rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IssuerError> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(|e| file_err(&tmp, e))?;
    f.write_all(bytes).map_err(|e| file_err(&tmp, e))?;
    f.sync_all().map_err(|e| file_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| file_err(path, e))
}

impl Issuer {
    /// Creates an issuer: a key, its public document and an empty signed revocation list.
    pub fn init(dir: &Path, name: &str) -> Result<Self, IssuerError> {
        if dir.join(STATE_FILE).exists() || dir.join(KEY_FILE).exists() {
            return Err(IssuerError::Exists(dir.to_owned()));
        }
        signpost_protocol::model::Group::validate_name(name).map_err(IssuerError::Name)?;
        std::fs::create_dir_all(dir).map_err(|e| file_err(dir, e))?;
        let key = signpost_protocol::keys::generate();
        keyfile::write_key(&dir.join(KEY_FILE), &key)?;
        let mut issuer = Self {
            dir: dir.to_owned(),
            key,
            state: State {
                name: name.to_owned(),
                revocations_version: 0,
                revoked: Vec::new(),
                issued: Vec::new(),
            },
        };
        let doc = IssuerDocument {
            id: issuer.id(),
            name: name.to_owned(),
        };
        let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| file_err(dir, e))?;
        write_atomic(&dir.join(PUBLIC_FILE), &bytes)?;
        issuer.publish()?;
        Ok(issuer)
    }

    pub fn open(dir: &Path) -> Result<Self, IssuerError> {
        let state_path = dir.join(STATE_FILE);
        if !state_path.exists() {
            return Err(IssuerError::Missing(dir.to_owned()));
        }
        let key = keyfile::read_key(&dir.join(KEY_FILE))?;
        let text = std::fs::read(&state_path).map_err(|e| file_err(&state_path, e))?;
        let state = serde_json::from_slice(&text).map_err(|e| file_err(&state_path, e))?;
        Ok(Self {
            dir: dir.to_owned(),
            key,
            state,
        })
    }

    pub fn id(&self) -> DidKey {
        DidKey::new(self.key.verifying_key())
    }

    pub fn name(&self) -> &str {
        &self.state.name
    }

    pub fn issued(&self) -> &[Issued] {
        &self.state.issued
    }

    fn save(&self) -> Result<(), IssuerError> {
        let path = self.dir.join(STATE_FILE);
        let bytes = serde_json::to_vec_pretty(&self.state).map_err(|e| file_err(&path, e))?;
        write_atomic(&path, &bytes)
    }

    /// Signs an attestation with a fresh serial; records it.
    pub fn attest(
        &mut self,
        subject: DidKey,
        achievement: &str,
        level: Option<String>,
        valid_from: DateTime<Utc>,
        valid_until: DateTime<Utc>,
    ) -> Result<Verified<Attestation>, IssuerError> {
        let serial = uuid::Uuid::new_v4().simple().to_string();
        let att = Attestation {
            issuer: self.id(),
            subject,
            achievement: achievement.to_owned(),
            level,
            valid_from,
            valid_until,
            serial: serial.clone(),
        };
        let signed = Verified::sign(att, &self.key)?;
        self.state.issued.push(Issued {
            serial,
            subject,
            achievement: achievement.to_owned(),
            valid_until,
            issued_at: Utc::now(),
        });
        self.save()?;
        Ok(signed)
    }

    /// Revokes a serial and publishes a new revocation list version.
    pub fn revoke(&mut self, serial: &str) -> Result<Verified<RevocationList>, IssuerError> {
        if !self.state.issued.iter().any(|i| i.serial == serial) {
            return Err(IssuerError::UnknownSerial(serial.to_owned()));
        }
        if !self.state.revoked.iter().any(|s| s == serial) {
            self.state.revoked.push(serial.to_owned());
        }
        self.publish()
    }

    /// Signs and writes a new revocation list version (also renews its expiry).
    pub fn publish(&mut self) -> Result<Verified<RevocationList>, IssuerError> {
        let now = Utc::now();
        self.state.revocations_version += 1;
        let list = RevocationList {
            issuer: self.id(),
            version: self.state.revocations_version,
            issued_at: now,
            expires_at: now + chrono::Duration::days(REVOCATION_LIST_LIFETIME_DAYS),
            revoked: self.state.revoked.clone(),
        };
        let signed = Verified::sign(list, &self.key)?;
        let path = self.dir.join(REVOCATIONS_FILE);
        let bytes = serde_json::to_vec(&signed.envelope()).map_err(|e| file_err(&path, e))?;
        self.save()?;
        write_atomic(&path, &bytes)?;
        Ok(signed)
    }

    /// The directories told of each new revocation list.
    pub fn subscribers(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join(SUBSCRIBERS_FILE))
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    }

    /// Adds a directory (its base URL) to tell of each new revocation list.
    pub fn subscribe(&self, url: &str) -> Result<(), IssuerError> {
        let url = url.trim().trim_end_matches('/');
        if !(url.starts_with("https://") || url.starts_with("http://"))
            || url.contains(char::is_whitespace)
        {
            return Err(IssuerError::NotADirectory(url.to_owned()));
        }
        let mut all = self.subscribers();
        if !all.iter().any(|u| u == url) {
            all.push(url.to_owned());
        }
        let path = self.dir.join(SUBSCRIBERS_FILE);
        write_atomic(&path, format!("{}\n", all.join("\n")).as_bytes())
    }

    /// The current revocation list envelope, as published.
    pub fn revocations(&self) -> Result<Envelope, IssuerError> {
        let path = self.dir.join(REVOCATIONS_FILE);
        let bytes = std::fs::read(&path).map_err(|e| file_err(&path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| file_err(&path, e))
    }

    /// Re-signs the list when less than half its lifetime is left.
    pub fn refresh_if_due(&mut self) -> Result<bool, IssuerError> {
        let env = self.revocations()?;
        let due = match Verified::<RevocationList>::verify(env, &[self.key.verifying_key()]) {
            Ok(list) => {
                list.expires_at - Utc::now()
                    < chrono::Duration::days(REVOCATION_LIST_LIFETIME_DAYS) / 2
            }
            Err(_) => true,
        };
        if due {
            self.publish()?;
        }
        Ok(due)
    }
}

/// Tells each directory of a new revocation list (`POST {url}/v1/revocations`); it verifies
/// the list under this issuer's key before using it. Returns each directory's result.
pub async fn push(
    envelope: &Envelope,
    subscribers: &[String],
) -> Vec<(String, Result<(), String>)> {
    let fetcher = match signpost_client::Fetcher::new(Duration::from_secs(10), 64 * 1024, 1) {
        Ok(f) => f,
        Err(e) => {
            return subscribers
                .iter()
                .map(|u| (u.clone(), Err(e.clone())))
                .collect()
        }
    };
    let mut out = Vec::new();
    for url in subscribers {
        let result = signpost_client::DirectoryClient::new(fetcher.clone(), url)
            .push_revocations(envelope)
            .await
            .map_err(|e| e.to_string());
        match &result {
            Ok(()) => tracing::info!(%url, "revocation list pushed"),
            Err(e) => tracing::warn!(%url, error = %e, "revocation list push failed"),
        }
        out.push((url.clone(), result));
    }
    out
}

/// A running issuer server.
pub struct IssuerServer {
    pub addr: SocketAddr,
    running: signpost_http::Running,
}

impl IssuerServer {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn revocations_url(&self) -> String {
        format!("{}/revocations", self.url())
    }
    pub async fn wait(self) -> std::io::Result<()> {
        self.running.wait().await
    }
    pub async fn stop(self) {
        self.running.stop().await
    }
}

async fn file(dir: web::Data<PathBuf>, name: &'static str) -> HttpResponse {
    match tokio::fs::read(dir.join(name)).await {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("application/json")
            .body(bytes),
        Err(_) => signpost_http::problem_response(&signpost_http::RequestError::NotFound),
    }
}

/// Serves the public document at `/.well-known/signpost/issuer` and the revocation list at
/// `/revocations` (the files in the directory), re-signing the list before it expires.
pub async fn serve(dir: &Path, listen: &str) -> Result<IssuerServer, IssuerError> {
    let mut issuer = Issuer::open(dir)?;
    issuer.refresh_if_due()?;
    let data = web::Data::new(dir.to_owned());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(signpost_http::public_cors())
            // HEAD as GET, and a method a file does not have is a 405 with `Allow`.
            .wrap(actix_web::middleware::from_fn(signpost_http::head_as_get))
            .service(signpost_http::get(
                "/.well-known/signpost/issuer",
                |d: web::Data<PathBuf>| file(d, PUBLIC_FILE),
            ))
            .service(signpost_http::get(
                "/revocations",
                |d: web::Data<PathBuf>| file(d, REVOCATIONS_FILE),
            ))
            .service(signpost_http::get("/healthz", || async {
                HttpResponse::Ok().body("ok\n")
            }))
            .default_service(web::to(signpost_http::not_found))
    })
    .workers(1)
    .shutdown_timeout(2)
    .bind(listen)
    .map_err(|e| IssuerError::Bind(listen.to_owned(), e))?;
    let addr =
        server.addrs().first().copied().ok_or_else(|| {
            IssuerError::Bind(listen.to_owned(), std::io::Error::other("no address"))
        })?;
    let server = server.run();
    let dir = dir.to_owned();
    let refresher = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            match Issuer::open(&dir).and_then(|mut i| i.refresh_if_due()) {
                Ok(true) => tracing::info!("revocation list re-signed"),
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "could not re-sign the revocation list"),
            }
        }
    });
    Ok(IssuerServer {
        addr,
        running: signpost_http::Running::spawn(server).with(refresher),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attest_revoke_and_publish() {
        let dir = tempfile::tempdir().unwrap();
        let mut issuer = Issuer::init(dir.path(), "Yorkshire Trauma Training").unwrap();
        assert!(Issuer::init(dir.path(), "Again").is_err());
        let org = DidKey::new(signpost_protocol::keys::generate().verifying_key());
        let now = Utc::now();
        let att = issuer
            .attest(
                org,
                "trauma-informed-practice",
                Some("level 2".into()),
                now,
                now + chrono::Duration::days(365),
            )
            .unwrap();
        let again = issuer
            .attest(
                org,
                "trauma-informed-practice",
                None,
                now,
                now + chrono::Duration::days(365),
            )
            .unwrap();
        assert_ne!(att.serial, again.serial, "fresh serials");
        assert!(issuer
            .attest(org, "juggling", None, now, now + chrono::Duration::days(1))
            .is_err());

        let list = issuer.revoke(&att.serial).unwrap();
        assert_eq!(list.version, 2);
        assert_eq!(list.revoked, vec![att.serial.clone()]);
        assert!(matches!(
            issuer.revoke("nope"),
            Err(IssuerError::UnknownSerial(_))
        ));

        // The published file verifies under the issuer's key, and survives a reopen.
        let reopened = Issuer::open(dir.path()).unwrap();
        let env = reopened.revocations().unwrap();
        let verified = Verified::<RevocationList>::verify(env, &[*reopened.id().key()]).unwrap();
        assert_eq!(verified.version, 2);
        assert_eq!(reopened.issued().len(), 2);
    }
}
