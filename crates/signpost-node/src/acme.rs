//! Automatic HTTPS for a node without a reverse proxy: a certificate obtained and renewed by
//! ACME (RFC 8555) with the TLS-ALPN-01 challenge answered on the node's own port
//! (rustls-acme). The account key and certificate are kept in `DIR/acme/` (0700, files 0600).
//! A renewal that fails leaves the current certificate in use; the failure is logged and
//! shown on the status page, and retried with backoff.

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use rustls_acme::caches::DirCache;
use rustls_acme::{AcmeConfig, EventError, EventOk};

use crate::config::Acme;
use crate::StartError;

/// Where certificates and the ACME account key are kept, in the node directory.
pub const ACME_DIR: &str = "acme";

/// What the certificate manager last did, for the status page.
#[derive(Debug, Default)]
pub struct AcmeStatus {
    inner: Mutex<AcmeState>,
}

#[derive(Debug, Default, Clone)]
pub struct AcmeState {
    pub domain: String,
    /// When a certificate was last put in use (obtained, renewed or loaded).
    pub deployed_at: Option<DateTime<Utc>>,
    /// The last failure, when it came after the last success.
    pub last_error: Option<(DateTime<Utc>, String)>,
    /// Certificates obtained or renewed since the node started.
    pub issued: u32,
}

impl AcmeStatus {
    pub fn snapshot(&self) -> AcmeState {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn update(&self, f: impl FnOnce(&mut AcmeState)) {
        f(&mut self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner));
    }
}

fn restrict(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let _ = std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(0o600));
        }
    }
}

/// What went wrong, for the volunteer reading the status page: which step failed and what
/// to check, instead of the ACME library's own message (which the log keeps as `detail`).
fn in_words<EC: std::fmt::Debug, EA: std::fmt::Debug>(
    err: &EventError<EC, EA>,
    directory: &str,
) -> String {
    use rustls_acme::acme::AcmeError;
    use rustls_acme::OrderError;
    let ca = format!("the certificate authority ({directory})");
    match err {
        EventError::CertCacheLoad(_)
        | EventError::AccountCacheLoad(_)
        | EventError::CertCacheStore(_)
        | EventError::AccountCacheStore(_) => format!(
            "the node could not read or write its certificate files in {ACME_DIR}/ \
             (check the disk has space and the folder belongs to the node's user)"
        ),
        EventError::CachedCertParse(_) => format!(
            "the saved certificate in {ACME_DIR}/ could not be read, so a new one is being asked for"
        ),
        EventError::NewCertParse(_) => {
            format!("{ca} sent a certificate the node could not read")
        }
        EventError::Order(order) => match order {
            // The request error's type is private to rustls-acme; its status is in its text.
            OrderError::Acme(AcmeError::HttpRequest(http)) => {
                match http.to_string().strip_prefix("non 2xx http status: ") {
                    Some(rest) => format!(
                        "{ca} refused the request (HTTP {}); check the domain and contact address in [tls.acme]",
                        rest.split(' ').next().unwrap_or_default()
                    ),
                    None => format!(
                        "the node could not reach {ca}; check the machine's internet connection"
                    ),
                }
            }
            OrderError::Acme(AcmeError::Io(_)) => {
                format!("the node could not reach {ca}; check the machine's internet connection")
            }
            OrderError::Acme(AcmeError::NoTlsAlpn01Challenge) => format!(
                "{ca} does not offer the TLS-ALPN-01 check this node answers; use another certificate authority"
            ),
            OrderError::BadAuth(_) | OrderError::TooManyAttemptsAuth(_) => format!(
                "{ca} could not confirm this node answers for the domain; check the domain's DNS points at this machine and port 443 reaches the node"
            ),
            OrderError::BadOrder(_) | OrderError::ProcessingTimeout(_) => {
                format!("{ca} did not complete the certificate order")
            }
            _ => format!("{ca} answered in a way the node did not understand"),
        },
    }
}

/// The TLS server configuration whose certificate the ACME manager keeps current, and the
/// manager itself (a task to spawn).
pub fn configure(
    dir: &Path,
    acme: &Acme,
) -> Result<
    (
        rustls::ServerConfig,
        Arc<AcmeStatus>,
        impl std::future::Future<Output = ()> + Send + 'static,
    ),
    StartError,
> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cache_dir = dir.join(ACME_DIR);
    std::fs::create_dir_all(&cache_dir).map_err(|source| StartError::Io {
        path: cache_dir.clone(),
        source,
    })?;
    restrict(&cache_dir);
    let mut config = AcmeConfig::new_with_provider([acme.domain.clone()], Arc::clone(&provider))
        .contact_push(format!("mailto:{}", acme.contact))
        .directory(&acme.directory)
        .cache(DirCache::new(cache_dir.clone()));
    if let Some(ca) = &acme.directory_ca_file {
        let path = if ca.is_relative() {
            dir.join(ca)
        } else {
            ca.clone()
        };
        let pem = std::fs::read(&path).map_err(|source| StartError::Io {
            path: path.clone(),
            source,
        })?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|source| StartError::Io {
                path: path.clone(),
                source,
            })?;
            roots
                .add(cert)
                .map_err(|e| StartError::Invalid(format!("{}: {e}", path.display())))?;
        }
        let client = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| StartError::Invalid(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config = config.client_tls_config(Arc::new(client));
    }
    let mut state = config.state();
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StartError::Invalid(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_cert_resolver(state.resolver());
    // The challenge is answered on this port, in the TLS handshake.
    server.alpn_protocols.push(b"acme-tls/1".to_vec());
    let status = Arc::new(AcmeStatus::default());
    status.update(|s| s.domain = acme.domain.clone());
    let domain = acme.domain.clone();
    let directory = acme.directory.clone();
    let manager = {
        let status = Arc::clone(&status);
        async move {
            while let Some(event) = state.next().await {
                match event {
                    Ok(ok) => match ok {
                        EventOk::DeployedNewCert => {
                            tracing::info!(%domain, "certificate obtained and in use");
                            status.update(|s| {
                                s.deployed_at = Some(Utc::now());
                                s.last_error = None;
                                s.issued += 1;
                            });
                        }
                        EventOk::DeployedCachedCert => {
                            tracing::info!(%domain, "certificate loaded from the node directory");
                            status.update(|s| {
                                s.deployed_at = Some(Utc::now());
                                s.last_error = None;
                            });
                        }
                        EventOk::CertCacheStore | EventOk::AccountCacheStore => {
                            restrict(&cache_dir)
                        }
                    },
                    Err(err) => {
                        let message = in_words(&err, &directory);
                        tracing::warn!(%domain, error = %message, detail = %err, "certificate not obtained or renewed; the current one stays in use");
                        status.update(|s| s.last_error = Some((Utc::now(), message)));
                    }
                }
            }
        }
    };
    Ok((server, status, manager))
}
