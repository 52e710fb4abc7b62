//! Which listings' organisations hold a verified attestation, kept until the first moment any
//! attestation's status could change.

use super::*;

/// Per-achievement bitmaps of the listings whose organisation has a verified attestation,
/// and each organisation's verified achievements (the filter and the results read the same
/// answer), recomputed when the index or the revocation lists change, or when the time
/// reaches the first moment any attestation's status could change
/// ([`attestation_status_until`]). Recomputed every second instead, it cost a few
/// milliseconds of CPU each second at a thousand nodes, under a lock every search takes:
/// the requests in flight waited for it.
pub(super) struct TrainingCache {
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    generation: u64,
    revocations: usize,
    by_achievement: HashMap<String, RoaringBitmap>,
    /// Each node's verified achievements, by its segment's address (results show them).
    pub(super) by_node: HashMap<usize, Arc<[String]>, foldhash::fast::RandomState>,
}

impl Index {
    /// Listings of organisations presenting a verified attestation for `achievement`.
    /// Who holds which verified training now (see [`TrainingCache`]).
    pub(super) fn training(&self, ctx: &QueryContext<'_>) -> Arc<TrainingCache> {
        let revocations = ctx.revocations as *const _ as usize;
        let mut cache = self.training.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.as_ref().filter(|c| {
            c.generation == self.generation
                && c.revocations == revocations
                && c.from <= ctx.now
                && c.until.is_none_or(|until| ctx.now < until)
        }) {
            return Arc::clone(c);
        }
        let mut by_achievement: HashMap<String, RoaringBitmap> = HashMap::new();
        let mut by_node = HashMap::default();
        let mut until: Option<DateTime<Utc>> = None;
        for n in self.nodes.values() {
            for a in &n.seg.data.attestations {
                let revocation = ctx.revocations.get(&a.issuer);
                if let Some(t) = attestation_status_until(a, revocation, ctx.grace, ctx.now) {
                    until = Some(until.map_or(t, |u| u.min(t)));
                }
            }
            let held = ctx.verified_training(&n.seg.data);
            for a in &held {
                *by_achievement.entry(a.clone()).or_default() |= &n.slots;
            }
            by_node.insert(Arc::as_ptr(&n.seg) as usize, held.into());
        }
        let fresh = Arc::new(TrainingCache {
            from: ctx.now,
            until,
            generation: self.generation,
            revocations,
            by_achievement,
            by_node,
        });
        *cache = Some(Arc::clone(&fresh));
        fresh
    }

    pub(super) fn trained(&self, achievement: &str, ctx: &QueryContext<'_>) -> RoaringBitmap {
        self.training(ctx)
            .by_achievement
            .get(achievement)
            .cloned()
            .unwrap_or_default()
    }
}
