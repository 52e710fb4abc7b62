//! The trusted issuers' revocation lists: fetched on a schedule, verified under the issuer's
//! key, refused when older than one already seen; a list that cannot be refreshed stays in
//! use until the grace period ends (then attestations fail closed).

use std::sync::Arc;
use std::time::Duration;

use std::collections::HashMap;

use chrono::Utc;
use signpost_protocol::DidKey;
use signpost_store::Store;

use crate::config::IssuerEntry;
use crate::persist;
use signpost_client::issuer::revocations_at;
use signpost_protocol::policy::RevocationView;
use signpost_protocol::{Envelope, RevocationList, Verified};

use super::{write, Aggregator};

/// The revocation lists kept from before a restart, verified again under each issuer's key;
/// they count from when they were fetched, so the grace period does not restart.
pub fn load(store: &Store, issuers: &[IssuerEntry]) -> HashMap<DidKey, RevocationView> {
    issuers
        .iter()
        .filter_map(|issuer| {
            let held = persist::load_revocations(store, &issuer.id)?;
            match Verified::<RevocationList>::verify(held.envelope, &[*issuer.id.key()]) {
                Ok(list) if list.issuer == issuer.id => {
                    let mut view = RevocationView::new(Some(list), Some(held.fetched_at));
                    view.revoked_since = held.revoked_since;
                    Some((issuer.id, view))
                }
                _ => {
                    tracing::warn!(issuer = %issuer.id, "a kept revocation list no longer verifies; ignored");
                    None
                }
            }
        })
        .collect()
}

impl Aggregator {
    /// Refreshes every trusted issuer's revocation list on a schedule: at once, then each
    /// period, skipping a turn when the lists were fetched less than a period ago (by a
    /// caller of [`Aggregator::refresh_revocations`]; the benchmark's measured phases must
    /// not take in a fetch it already made).
    pub fn spawn_revocation_refresher(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let period = Duration::from_secs(me.config.revocations.refresh_secs.max(1));
            loop {
                me.refresh_revocations_older_than(period).await;
                tokio::time::sleep(period).await;
            }
        })
    }

    /// Fetches and verifies each issuer's revocation list once, now (after any refresh under
    /// way).
    pub async fn refresh_revocations(&self) {
        self.refresh_revocations_older_than(Duration::ZERO).await;
    }

    /// Fetches each issuer's list unless they were fetched less than `age` ago.
    async fn refresh_revocations_older_than(&self, age: Duration) {
        let mut fetched = self.revocations_fetched.lock().await;
        if age > Duration::ZERO && fetched.is_some_and(|at| at.elapsed() < age) {
            return;
        }
        for issuer in &self.config.issuers {
            let result = match revocations_at(&self.fetcher, &issuer.revocations_url).await {
                Ok(env) => self.accept_revocations(issuer, env),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = result {
                tracing::warn!(issuer = %issuer.id, error = %e, "revocation list refused; previous list kept until the grace period ends");
            }
        }
        *fetched = Some(std::time::Instant::now());
        // Revocations take effect as time passes too (the grace period): new ETags.
        self.revocation_generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    /// A revocation list pushed by its issuer (`POST /v1/revocations`): the issuer must be
    /// trusted here, and the list verify under its key and be no older than the one held.
    pub fn push_revocations(&self, envelope: Envelope) -> Result<u64, String> {
        let bytes = envelope
            .payload_bytes()
            .map_err(|e| format!("not a signed revocation list: {e}"))?;
        let claimed: RevocationList = signpost_client::fetch::parse(&bytes)
            .map_err(|e| format!("not a revocation list: {e}"))?;
        let issuer = self
            .config
            .issuers
            .iter()
            .find(|i| i.id == claimed.issuer)
            .ok_or_else(|| "this directory does not trust that issuer".to_owned())?;
        self.accept_revocations(issuer, envelope)
    }

    /// Verifies one list of `issuer` and, when it is newer, keeps it (persisted first) and
    /// puts it in use; notes when each serial was first seen revoked. Returns its version.
    fn accept_revocations(&self, issuer: &IssuerEntry, env: Envelope) -> Result<u64, String> {
        let list = Verified::<RevocationList>::verify(env, &[*issuer.id.key()])
            .map_err(|e| e.to_string())?;
        if list.issuer != issuer.id {
            return Err("the list names another issuer".into());
        }
        if list.expires_at <= Utc::now() {
            return Err("the list has expired".into());
        }
        // One writer at a time: a push and the scheduled refresh never undo each other.
        let _writing = super::health::lock(&self.revocation_write);
        let views = self.revocations();
        let held = views.get(&issuer.id);
        if let Some(held) = held.and_then(|v| v.list.as_ref()) {
            if list.version < held.version {
                return Err(format!(
                    "version {} is older than version {} already seen",
                    list.version, held.version
                ));
            }
            if list.version == held.version && list.digest() != held.digest() {
                if let Err(e) = persist::save_revocation_evidence(
                    &self.store,
                    &issuer.id,
                    list.version,
                    held.envelope(),
                    list.envelope(),
                ) {
                    tracing::error!(error = %e, "could not keep revocation list evidence");
                }
                return Err(format!(
                    "two different revocation lists signed as version {}: refused, both kept as evidence",
                    list.version
                ));
            }
        }
        let fetched_at = Utc::now();
        let mut since = held.map(|v| v.revoked_since.clone()).unwrap_or_default();
        for serial in &list.revoked {
            since.entry(serial.clone()).or_insert(fetched_at);
        }
        since.retain(|serial, _| list.revoked.contains(serial));
        persist::save_revocations(
            &self.store,
            &issuer.id,
            &persist::HeldRevocations {
                envelope: list.envelope().to_envelope(),
                fetched_at,
                revoked_since: since.clone(),
            },
        )
        .map_err(|e| format!("could not keep the list: {e}"))?;
        let version = list.version;
        let mut view = RevocationView::new(Some(list), Some(fetched_at));
        view.revoked_since = since;
        let mut next = (*views).clone();
        next.insert(issuer.id, view);
        write(&self.revocations, Arc::new(next));
        self.revocation_generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        Ok(version)
    }
}
