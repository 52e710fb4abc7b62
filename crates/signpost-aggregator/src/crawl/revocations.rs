//! The trusted issuers' revocation lists: fetched on a schedule, verified under the issuer's
//! key, refused when older than one already seen; a list that cannot be refreshed stays in
//! use until the grace period ends (then attestations fail closed).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use signpost_client::issuer::revocations_at;
use signpost_protocol::policy::RevocationView;
use signpost_protocol::{RevocationList, Verified};

use super::{write, Aggregator};

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
            let result: Result<Verified<RevocationList>, String> = async {
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
                }
                Ok(list)
            }
            .await;
            match result {
                Ok(list) => {
                    views.insert(issuer.id, RevocationView::new(Some(list), Some(Utc::now())));
                }
                Err(e) => {
                    tracing::warn!(issuer = %issuer.id, error = %e, "revocation list refused; previous list kept until the grace period ends");
                }
            }
        }
        write(&self.revocations, Arc::new(views));
    }
}
