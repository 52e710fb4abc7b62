//! The trusted issuers' revocation lists: fetched on a schedule, verified under the issuer's
//! key, refused when older than one already seen; a list that cannot be refreshed stays in
//! use until the grace period ends (then attestations fail closed).

use std::sync::Arc;
use std::time::Duration;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use signpost_protocol::DidKey;
use signpost_store::Store;

use crate::config::IssuerEntry;
use crate::persist;
use signpost_client::issuer::revocations_at;
use signpost_protocol::policy::RevocationView;
use signpost_protocol::{RevocationList, Verified};

use super::{write, Aggregator};

/// The revocation lists kept from before a restart, verified again under each issuer's key;
/// they count from when they were fetched, so the grace period does not restart.
pub fn load(store: &Store, issuers: &[IssuerEntry]) -> HashMap<DidKey, RevocationView> {
    issuers
        .iter()
        .filter_map(|issuer| {
            let held = persist::load_revocations(store, &issuer.id)?;
            match Verified::<RevocationList>::verify(held.envelope, &[*issuer.id.key()]) {
                Ok(list) if list.issuer == issuer.id => Some((
                    issuer.id,
                    RevocationView::new(Some(list), Some(held.fetched_at)),
                )),
                _ => {
                    tracing::warn!(issuer = %issuer.id, "a kept revocation list no longer verifies; ignored");
                    None
                }
            }
        })
        .collect()
}

impl Aggregator {
    /// Refreshes every trusted issuer's revocation list on a schedule.
    pub fn spawn_revocation_refresher(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let period = Duration::from_secs(me.config.revocations.refresh_secs.max(1));
            loop {
                me.refresh_revocations().await;
                tokio::time::sleep(period).await;
            }
        })
    }

    /// Fetches and verifies each issuer's revocation list once.
    pub async fn refresh_revocations(&self) {
        let mut views = (*self.revocations()).clone();
        for issuer in &self.config.issuers {
            let result: Result<(Verified<RevocationList>, DateTime<Utc>), String> = async {
                let env = revocations_at(&self.fetcher, &issuer.revocations_url)
                    .await
                    .map_err(|e| e.to_string())?;
                let list = Verified::<RevocationList>::verify(env, &[*issuer.id.key()])
                    .map_err(|e| e.to_string())?;
                if list.issuer != issuer.id {
                    return Err("the list names another issuer".into());
                }
                if list.expires_at <= Utc::now() {
                    return Err("the list has expired".into());
                }
                if let Some(held) = views.get(&issuer.id).and_then(|v| v.list.as_ref()) {
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
                persist::save_revocations(
                    &self.store,
                    &issuer.id,
                    &persist::HeldRevocations {
                        envelope: list.envelope().clone(),
                        fetched_at,
                    },
                )
                .map_err(|e| format!("could not keep the list: {e}"))?;
                Ok((list, fetched_at))
            }
            .await;
            match result {
                Ok((list, fetched_at)) => {
                    views.insert(issuer.id, RevocationView::new(Some(list), Some(fetched_at)));
                }
                Err(e) => {
                    tracing::warn!(issuer = %issuer.id, error = %e, "revocation list refused; previous list kept until the grace period ends");
                }
            }
        }
        write(&self.revocations, Arc::new(views));
        self.revocation_generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }
}
