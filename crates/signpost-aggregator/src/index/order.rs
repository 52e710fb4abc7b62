//! The default order (organisation, then group name, then id) and its positions, with the
//! shortest-text order ranked text selects from.

use super::*;

/// Where a listing comes in the default order: organisation, then group name (case and
/// accents folded), then id, so the order never depends on when a node was crawled.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct OrderKey {
    pub(super) organisation: Arc<str>,
    pub(super) group: Box<str>,
    pub(super) id: Uuid,
    pub(super) slot: u32,
}

/// The default order as positions, rebuilt once per index generation when a query needs it.
pub(super) struct OrderCache {
    generation: u64,
    /// Slots in order.
    pub(super) slots: Vec<u32>,
    /// Each slot's position in the order (`u32::MAX` for an empty slot).
    position: Vec<u32>,
    /// Slots by weighted text length, then position; built when a ranked query first
    /// needs it in this generation.
    by_length: std::sync::OnceLock<Vec<u32>>,
    /// `by_length` cut into runs of [`LENGTH_CHUNK`] slots, each as a bitmap: every member
    /// of a run comes before every member of the next in (length, position) order.
    length_chunks: std::sync::OnceLock<Vec<RoaringBitmap>>,
    /// Each slot's place in `by_length` (`u32::MAX` for an empty slot).
    length_rank: std::sync::OnceLock<Vec<u32>>,
    /// The words of text searches asked for in this generation, by what was typed
    /// (at most [`CACHED_WORDS`]).
    pub(super) words: std::sync::Mutex<HashMap<Box<str>, Arc<TextWord>>>,
}

/// Text search words kept per index generation (a common word's bitmaps are some hundreds of
/// kilobytes at 100,000 listings; the cache is emptied when full).
pub(super) const CACHED_WORDS: usize = 64;

impl OrderCache {
    pub(super) fn by_length(&self, text_lens: &[u16]) -> &[u32] {
        self.by_length.get_or_init(|| {
            let mut slots = self.slots.clone();
            // Stable: equal lengths keep the default order.
            slots.sort_by_key(|&slot| text_lens.get(slot as usize).copied().unwrap_or(0));
            slots
        })
    }

    pub(super) fn length_chunks(&self, text_lens: &[u16]) -> &[RoaringBitmap] {
        self.length_chunks.get_or_init(|| {
            self.by_length(text_lens)
                .chunks(LENGTH_CHUNK)
                .map(|run| {
                    let mut run = run.to_vec();
                    run.sort_unstable();
                    run.into_iter().collect()
                })
                .collect()
        })
    }

    pub(super) fn position(&self, slot: u32) -> u32 {
        self.position
            .get(slot as usize)
            .copied()
            .unwrap_or(u32::MAX)
    }

    fn length_rank(&self, text_lens: &[u16]) -> &[u32] {
        self.length_rank.get_or_init(|| {
            let mut rank = vec![u32::MAX; self.position.len()];
            for (i, &slot) in self.by_length(text_lens).iter().enumerate() {
                if let Some(r) = rank.get_mut(slot as usize) {
                    *r = i as u32;
                }
            }
            rank
        })
    }

    /// `slots` as places in the shortest-text order: a set's first members there are its
    /// shortest texts, ties in the default order.
    pub(super) fn by_rank(&self, slots: &RoaringBitmap, text_lens: &[u16]) -> RoaringBitmap {
        let rank = self.length_rank(text_lens);
        let mut ranks: Vec<u32> = slots
            .iter()
            .filter_map(|slot| rank.get(slot as usize).copied())
            .filter(|&r| r != u32::MAX)
            .collect();
        ranks.sort_unstable();
        RoaringBitmap::from_sorted_iter(ranks).unwrap_or_default()
    }
}

impl Index {
    /// The default order, rebuilt when the index has changed since it was last needed.
    pub(super) fn order(&self) -> Arc<OrderCache> {
        let mut cache = self.order_cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.as_ref().filter(|c| c.generation == self.generation) {
            return Arc::clone(c);
        }
        let slots: Vec<u32> = self.order.iter().map(|k| k.slot).collect();
        let mut position = vec![u32::MAX; self.entries.len()];
        for (i, slot) in slots.iter().enumerate() {
            if let Some(p) = position.get_mut(*slot as usize) {
                *p = i as u32;
            }
        }
        let fresh = Arc::new(OrderCache {
            generation: self.generation,
            slots,
            position,
            by_length: std::sync::OnceLock::new(),
            length_chunks: std::sync::OnceLock::new(),
            length_rank: std::sync::OnceLock::new(),
            words: Default::default(),
        });
        *cache = Some(Arc::clone(&fresh));
        fresh
    }
}
