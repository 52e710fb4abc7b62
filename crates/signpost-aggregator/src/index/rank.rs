//! Ranked text (BM25F): a listing's words per field, and a text query's words scored and
//! selected without scoring every match where the classes of equal scores allow.

use super::*;

/// Ranked text (BM25F). A listing's words are indexed per field, a field's weight counting
/// once per word: the group's name 3, its categories' labels 2, its description 1, and 1
/// more when the word comes twice or more in the description.
const NAME: u8 = 0;
const CATEGORY: u8 = 1;
const DESCRIPTION: u8 = 2;
const DESCRIPTION_AGAIN: u8 = 3;
pub(super) const FIELD_WEIGHTS: [u8; 4] = [3, 2, 1, 1];
const BM25_K1: f32 = 1.2;
const BM25_B: f32 = 0.75;
/// Weighted text lengths counted one by one up to this, the longer ones together (ranked
/// text's selection of a class's shortest texts; any bound is correct, this one is fast).
const LENGTH_BUCKETS: usize = 1024;
/// Listings per run of the shortest-text order that ranked text intersects with a class.
pub(super) const LENGTH_CHUNK: usize = 1024;
/// A class this small is ranked by collecting every member (a few microseconds).
const SMALL_CLASS: u64 = 512;
/// Ranked text maps candidates that are not simply its words' into the shortest-text order
/// up to this many (a microsecond or so per hundred). Tests lower it to reach the other plan
/// with a few listings: every plan gives the same answer.
#[doc(hidden)]
pub static RANK_MAPPED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(8192);

/// Each category's label, folded (once per process, not once per listing).
static CATEGORY_LABELS: std::sync::LazyLock<Vec<(&'static str, String)>> =
    std::sync::LazyLock::new(|| {
        taxonomy::CATEGORIES
            .iter()
            .map(|t| (t.id, text::fold(t.label)))
            .collect()
    });

/// A listing's words, each with the field it occurs in, in one string: a listing has some
/// fifty, and with a string each (made, hashed and freed as the index took it) preparing a
/// node's entries was 6.2% of a catch-up's samples, 3.6% without.
#[derive(Default)]
pub(super) struct Terms {
    text: String,
    /// Where each word ends in `text`, and its field.
    ends: Vec<(u32, u8)>,
}

impl Terms {
    pub(super) fn iter(&self) -> impl Iterator<Item = (&str, u8)> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&(end, field)| {
            let word = self.text.get(start..end as usize).unwrap_or("");
            start = end as usize;
            (word, field)
        })
    }
}

/// A listing's words with the fields they occur in, and its weighted length, given its name
/// folded (the default order keeps that too). Each field is folded once and its words
/// borrowed until they are deduplicated, then copied into one string.
pub(super) fn text_terms(g: &Group, name: &str) -> (Terms, u16) {
    let description = text::fold(&g.description);
    let mut out: Vec<(&str, u8)> = Vec::with_capacity(64);
    let mut len = 0u32;
    fn add<'a>(folded: &'a str, field: u8, out: &mut Vec<(&'a str, u8)>, len: &mut u32) {
        for w in folded.split(' ').filter(|w| !w.is_empty()) {
            *len += u32::from(FIELD_WEIGHTS[field as usize]);
            out.push((w, field));
        }
    }
    add(name, NAME, &mut out, &mut len);
    for c in &g.categories {
        if let Some((_, label)) = CATEGORY_LABELS.iter().find(|(id, _)| id == c) {
            add(label, CATEGORY, &mut out, &mut len);
        }
    }
    add(&description, DESCRIPTION, &mut out, &mut len);
    out.sort_unstable();
    // A second occurrence in the description becomes its own field; other repeats go.
    let mut terms: Vec<(&str, u8)> = Vec::with_capacity(out.len());
    for (w, f) in out {
        match terms.last() {
            Some((lw, lf)) if *lw == w && *lf == f && f == DESCRIPTION => {
                terms.push((w, DESCRIPTION_AGAIN))
            }
            Some((lw, lf))
                if *lw == w && (*lf == f || (*lf == DESCRIPTION_AGAIN && f == DESCRIPTION)) => {}
            _ => terms.push((w, f)),
        }
    }
    terms.sort_unstable();
    terms.dedup();
    let mut out = Terms {
        text: String::with_capacity(terms.iter().map(|(w, _)| w.len()).sum()),
        ends: Vec::with_capacity(terms.len()),
    };
    for (w, f) in terms {
        out.text.push_str(w);
        out.ends
            .push((u32::try_from(out.text.len()).unwrap_or(u32::MAX), f));
    }
    (out, u16::try_from(len).unwrap_or(u16::MAX))
}

/// One word of a text search: per field, the listings having a word it begins; all of
/// them; and the word's BM25 weight.
pub(super) struct TextWord {
    fields: [RoaringBitmap; 4],
    pub(super) set: RoaringBitmap,
    idf: f32,
    /// `fields` and `set` as places in the shortest-text order (see [`OrderCache::by_rank`]),
    /// made when a ranked query first needs them.
    ranked: std::sync::OnceLock<([RoaringBitmap; 4], RoaringBitmap)>,
}

impl TextWord {
    fn ranked(
        &self,
        order: &OrderCache,
        text_lens: &[u16],
    ) -> &([RoaringBitmap; 4], RoaringBitmap) {
        self.ranked.get_or_init(|| {
            let fields = self.fields.each_ref().map(|f| order.by_rank(f, text_lens));
            let set = fields.iter().union();
            (fields, set)
        })
    }
}

impl Index {
    /// The words of a text search, each with the listings having a word it begins.
    pub(super) fn text_words(&self, q: &GroupQuery, order: &OrderCache) -> Vec<Arc<TextWord>> {
        let mut cache = order.words.lock().unwrap_or_else(|p| p.into_inner());
        q.words
            .iter()
            .map(|prefix| {
                if let Some(w) = cache.get(prefix.as_str()) {
                    return Arc::clone(w);
                }
                let w = Arc::new(self.text_word(prefix));
                if cache.len() >= CACHED_WORDS {
                    cache.clear();
                }
                cache.insert(prefix.as_str().into(), Arc::clone(&w));
                w
            })
            .collect()
    }

    /// One word of a text search: the listings having a word it begins, per field.
    fn text_word(&self, prefix: &str) -> TextWord {
        let n = self.live.len() as f32;
        let mut fields: [Vec<&RoaringBitmap>; 4] = Default::default();
        for (_, present) in self
            .words
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(w, _)| w.starts_with(prefix))
        {
            let &(id, present) = present;
            for (f, sets) in fields.iter_mut().enumerate() {
                if present & (1 << f) != 0 {
                    if let Some(b) = self.bitmaps.get(&Key::Word(id, f as u8)) {
                        sets.push(b);
                    }
                }
            }
        }
        let fields = fields.map(|sets| sets.into_iter().union());
        let set = fields.iter().union();
        let df = set.len() as f32;
        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        TextWord {
            fields,
            set,
            idf,
            ranked: std::sync::OnceLock::new(),
        }
    }

    /// BM25F's per-word term for a weighted frequency and a text length.
    fn bm25(idf: f32, tf: f32, len: f32, average: f32) -> f32 {
        if tf == 0.0 {
            return 0.0;
        }
        let norm = BM25_K1 * (1.0 - BM25_B + BM25_B * len / average);
        idf * tf * (BM25_K1 + 1.0) / (tf + norm)
    }

    fn average_text_len(&self) -> f32 {
        (self.text_len_total as f32 / self.live.len().max(1) as f32).max(1.0)
    }

    /// Splits `cand` into classes whose members have the same weighted frequency for every
    /// word (each word's field bitmaps given in the same space as `cand`), one class for
    /// each set of frequencies; `None` past 256.
    fn classes(
        cand: RoaringBitmap,
        words: &[&[RoaringBitmap; 4]],
    ) -> Option<Vec<(RoaringBitmap, Vec<u8>)>> {
        let mut classes: Vec<(RoaringBitmap, Vec<u8>)> = vec![(cand, Vec::new())];
        for fields in words {
            let mut next = Vec::new();
            for (set, tfs) in classes {
                let mut parts: Vec<(RoaringBitmap, u8)> = vec![(set, 0)];
                for (field, weight) in fields.iter().zip(FIELD_WEIGHTS) {
                    let mut split = Vec::with_capacity(parts.len() * 2);
                    for (part, tf) in parts {
                        // A field that has all of a class or none of it (a category's label,
                        // a word never repeated) splits nothing: counted, not built.
                        let shared = part.intersection_len(field);
                        if shared == 0 || shared == part.len() {
                            let tf = if shared == 0 {
                                tf
                            } else {
                                tf.saturating_add(weight)
                            };
                            split.push((part, tf));
                            continue;
                        }
                        let inside = &part & field;
                        let outside = part - &inside;
                        if !inside.is_empty() {
                            split.push((inside, tf.saturating_add(weight)));
                        }
                        if !outside.is_empty() {
                            split.push((outside, tf));
                        }
                    }
                    parts = split;
                }
                // Parts whose fields weigh the same (the name alone, or a category and the
                // description) score alike: one class, split no further by the next word.
                let mut merged: Vec<(RoaringBitmap, u8)> = Vec::with_capacity(parts.len());
                for (part, tf) in parts {
                    match merged.iter_mut().find(|(_, t)| *t == tf) {
                        Some((same, _)) => *same |= part,
                        None => merged.push((part, tf)),
                    }
                }
                for (part, tf) in merged {
                    let mut tfs = tfs.clone();
                    tfs.push(tf);
                    next.push((part, tfs));
                }
            }
            classes = next;
            if classes.len() > 256 {
                return None;
            }
        }
        Some(classes)
    }

    /// The first `need` of `cand` by BM25F score, ties in the default order; `None` when
    /// the matches fall into too many classes (see [`Index::classes`]) and every one must be
    /// scored.
    ///
    /// Within a class of equal word frequencies the score only falls as the text gets
    /// longer, so a class's best are its shortest texts. The classes are made among places
    /// in the shortest-text order (each word's bitmaps are mapped there once per index
    /// generation), where a class's first members are its shortest texts, ties in the
    /// default order; a candidate set that is not simply the words' (other filters, expired
    /// data held) is mapped there when small, else the classes are made among slots and
    /// their shortest texts looked for ([`Index::shortest`]).
    pub(super) fn top_scores(
        &self,
        cand: &RoaringBitmap,
        words: &[Arc<TextWord>],
        order: &OrderCache,
        need: usize,
    ) -> Option<Vec<(f32, u32, u32)>> {
        if need == 0 {
            return Some(Vec::new());
        }
        let average = self.average_text_len();
        let len_of = |slot: u32| self.text_lens.get(slot as usize).copied().unwrap_or(0);
        let score = |tfs: &[u8], len: u16| -> f32 {
            words
                .iter()
                .zip(tfs)
                .map(|(w, tf)| Self::bm25(w.idf, f32::from(*tf), f32::from(len), average))
                .sum()
        };
        let ranked: Vec<&([RoaringBitmap; 4], RoaringBitmap)> = words
            .iter()
            .map(|w| w.ranked(order, &self.text_lens))
            .collect();
        let in_rank = if ranked.is_empty() {
            None
        } else {
            let all = ranked.iter().map(|r| &r.1).intersection();
            if all.len() == cand.len() {
                // `cand` is within every word's set: the same size, the same listings.
                Some(all)
            } else if cand.len() <= RANK_MAPPED.load(std::sync::atomic::Ordering::Relaxed) {
                Some(order.by_rank(cand, &self.text_lens))
            } else {
                None
            }
        };
        let by_length = order.by_length(&self.text_lens);
        // Each class with its first `need` slots by (length, position).
        let firsts: Vec<(Vec<u8>, Vec<u32>)> = match in_rank {
            Some(cand) => {
                let fields: Vec<&[RoaringBitmap; 4]> = ranked.iter().map(|r| &r.0).collect();
                Self::classes(cand, &fields)?
                    .into_iter()
                    .map(|(class, tfs)| {
                        let mut slots = Vec::with_capacity(need.min(class.len() as usize));
                        first_members(&class, need, |r| {
                            slots.extend(by_length.get(r as usize).copied());
                        });
                        (tfs, slots)
                    })
                    .collect()
            }
            None => {
                let fields: Vec<&[RoaringBitmap; 4]> = words.iter().map(|w| &w.fields).collect();
                Self::classes(cand.clone(), &fields)?
                    .into_iter()
                    .map(|(class, tfs)| (tfs, Self::shortest(&class, need, order, &self.text_lens)))
                    .collect()
            }
        };
        let mut hits: Vec<(f32, u32, u32)> = Vec::new();
        for (tfs, slots) in &firsts {
            for &slot in slots {
                hits.push((score(tfs, len_of(slot)), order.position(slot), slot));
            }
        }
        first_pages(&mut hits, need, |a, b| {
            b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
        });
        Some(hits)
    }

    /// A class's first `need` by (weighted text length, position), in that order.
    ///
    /// A small class collects and selects every member. A larger one is intersected with
    /// the runs of the shortest-text order, shortest first, until the runs seen hold `need`
    /// of its members: every member of a later run comes after them, so only those are
    /// sorted (for a common word, one or two intersections instead of tens of thousands of
    /// members). A class of long texts gives up after one run per hundred members (a bound
    /// chosen, not measured, so that the runs never cost much more than collecting), and
    /// then takes a histogram of the class's lengths, collecting only the members up to the
    /// longest length needed.
    fn shortest(
        class: &RoaringBitmap,
        need: usize,
        order: &OrderCache,
        text_lens: &[u16],
    ) -> Vec<u32> {
        let len_of = |slot: u32| text_lens.get(slot as usize).copied().unwrap_or(0);
        let key = |slot: u32| (len_of(slot), order.position(slot), slot);
        let by = |a: &(u16, u32, u32), b: &(u16, u32, u32)| a.cmp(b);
        if need == 0 {
            return Vec::new();
        }
        if class.len() <= SMALL_CLASS {
            let mut keys = Vec::with_capacity(class.len() as usize);
            first_members(class, usize::MAX, |slot| keys.push(key(slot)));
            first_pages(&mut keys, need, by);
            return keys.into_iter().map(|k| k.2).collect();
        }
        let budget = (class.len() / 100).max(4) as usize;
        let mut keys = Vec::with_capacity(need * 2);
        for run in order.length_chunks(text_lens).iter().take(budget) {
            let members = class & run;
            keys.reserve(members.len() as usize);
            first_members(&members, usize::MAX, |slot| keys.push(key(slot)));
            if keys.len() >= need {
                first_pages(&mut keys, need, by);
                return keys.into_iter().map(|k| k.2).collect();
            }
        }
        let mut counts = [0u32; LENGTH_BUCKETS];
        let bucket = |len: u16| usize::from(len).min(LENGTH_BUCKETS - 1);
        for slot in class {
            counts[bucket(len_of(slot))] += 1;
        }
        let mut seen = 0usize;
        let limit = counts
            .iter()
            .position(|&c| {
                seen += c as usize;
                seen >= need
            })
            .unwrap_or(LENGTH_BUCKETS - 1);
        let mut keys: Vec<(u16, u32, u32)> = Vec::with_capacity(seen);
        first_members(class, usize::MAX, |slot| {
            if bucket(len_of(slot)) <= limit {
                keys.push(key(slot));
            }
        });
        first_pages(&mut keys, need, by);
        keys.into_iter().map(|k| k.2).collect()
    }

    /// BM25F scores of `cand` (which has every word), as (score, slot), in slot order.
    pub(super) fn scores(&self, cand: &RoaringBitmap, words: &[Arc<TextWord>]) -> Vec<(f32, u32)> {
        let average = self.average_text_len();
        // Each word's weighted frequency per slot, from its field bitmaps (read in order).
        let frequencies: Vec<Vec<u8>> = words
            .iter()
            .map(|w| {
                let mut tf = vec![0u8; self.entries.len()];
                for (set, weight) in w.fields.iter().zip(FIELD_WEIGHTS) {
                    for slot in set {
                        if let Some(t) = tf.get_mut(slot as usize) {
                            *t = t.saturating_add(weight);
                        }
                    }
                }
                tf
            })
            .collect();
        cand.iter()
            .map(|slot| {
                let len = f32::from(self.text_lens.get(slot as usize).copied().unwrap_or(0));
                let score = words
                    .iter()
                    .zip(&frequencies)
                    .map(|(w, tf)| {
                        let tf = f32::from(tf.get(slot as usize).copied().unwrap_or(0));
                        Self::bm25(w.idf, tf, len, average)
                    })
                    .sum();
                (score, slot)
            })
            .collect()
    }
}
