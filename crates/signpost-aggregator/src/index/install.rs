//! A node's entries, prepared outside the index lock, installed and removed under it.

use super::*;

/// A node's entries, built outside the index lock and installed under it.
pub struct Prepared {
    seg: Arc<Segment>,
    entries: Vec<PreparedEntry>,
}

struct PreparedEntry {
    entry: Entry,
    keys: Vec<Key>,
    terms: Terms,
    name_fold: Box<str>,
}

impl Prepared {
    pub fn new(data: Arc<NodeData>) -> Self {
        let min_expiry = data
            .listings
            .values()
            .map(|l| l.expires_at)
            .min()
            .unwrap_or(data.snapshot.expires_at);
        let name = data.document().map(|d| d.name.clone()).unwrap_or_default();
        let seg = Arc::new(Segment {
            name_fold: text::fold(&name).into(),
            name,
            id: data.id.to_string(),
            min_expiry,
            data: Arc::clone(&data),
            derived_ids: std::sync::OnceLock::new(),
        });
        let entries = data
            .listings
            .values()
            .map(|l| {
                let payload = Arc::clone(l.payload_bytes());
                let envelope = Arc::clone(l.held_envelope());
                let g = &l.group;
                let name_fold = text::fold(&g.name);
                let (terms, text_len) = text_terms(g, &name_fold);
                let entry = Entry {
                    seg: Arc::clone(&seg),
                    id: l.id,
                    payload,
                    envelope,
                    point: g.location.as_ref().map(|loc| Point {
                        lat: loc.lat,
                        lon: loc.lon,
                    }),
                    accepting: g.capacity.accepting_referrals,
                    places: g.capacity.places_available,
                    capacity_updated_at: g.capacity.updated_at,
                    issued_at: l.issued_at,
                    expires_at: l.expires_at,
                    sessions: g
                        .schedule
                        .iter()
                        .map(|s| (s.day as u8, s.opens.minutes(), s.closes.minutes()))
                        .collect(),
                    age: g.age_range.map(|r| (r.min, r.max)).unwrap_or((None, None)),
                    text_len,
                };
                PreparedEntry {
                    entry,
                    keys: keys_of(l.payload()),
                    terms,
                    name_fold: name_fold.into(),
                }
            })
            .collect();
        Self { seg, entries }
    }
}

impl Index {
    /// Installs prepared entries, replacing the node's previous ones.
    pub fn install(&mut self, prepared: Prepared) {
        self.generation += 1;
        let node = prepared.seg.data.id;
        self.remove(&node);
        self.expiries
            .insert((prepared.seg.earliest_expiry(), prepared.seg.id.clone()));
        let mut slots = RoaringBitmap::new();
        let mut by_id = HashMap::new();
        for prepared_entry in prepared.entries {
            let PreparedEntry {
                entry,
                keys,
                terms,
                name_fold,
            } = prepared_entry;
            let slot = self.free.pop().unwrap_or(self.entries.len() as u32);
            self.text_len_total += u64::from(entry.text_len);
            if self.text_lens.len() <= slot as usize {
                self.text_lens.resize(slot as usize + 1, 0);
            }
            self.text_lens[slot as usize] = entry.text_len;
            if self.points.len() <= slot as usize {
                self.points.resize(slot as usize + 1, (f64::NAN, f64::NAN));
            }
            self.points[slot as usize] =
                entry.point.map_or((f64::NAN, f64::NAN), |p| (p.lat, p.lon));
            self.live_column.grow(slot as usize + 1);
            self.live_column.insert(slot as usize);
            self.order.insert(OrderKey {
                organisation: Arc::clone(&prepared.seg.name_fold),
                group: name_fold,
                id: entry.id,
                slot,
            });
            let slots_held = (self.entries.len() as u64).max(u64::from(slot) + 1);
            for k in keys {
                use std::collections::hash_map::Entry as Slot;
                // Words and cells never have a column (most keys are words: no lookup).
                let may_have_column = !matches!(k, Key::Word(..) | Key::Cell(..));
                let column = if may_have_column {
                    self.columns.get_mut(&k)
                } else {
                    None
                };
                let has_column = match column {
                    Some(column) => {
                        column.grow(slot as usize + 1);
                        column.insert(slot as usize);
                        true
                    }
                    None => false,
                };
                let (key, bitmap) = match self.bitmaps.entry(k) {
                    Slot::Occupied(b) => {
                        let gains =
                            !has_column && b.key().wants_column(b.get().len() + 1, slots_held);
                        let key = gains.then(|| b.key().clone());
                        let b = b.into_mut();
                        add(b, slot);
                        (key, b)
                    }
                    Slot::Vacant(v) => {
                        let key = v.key().wants_column(1, slots_held).then(|| v.key().clone());
                        let b = v.insert(RoaringBitmap::new());
                        b.insert(slot);
                        (key, b)
                    }
                };
                if let Some(key) = key {
                    self.columns.insert(key, column_of(bitmap));
                }
            }
            for (w, field) in terms.iter() {
                let id = self.word_id(w);
                match self.bitmaps.entry(Key::Word(id, field)) {
                    std::collections::hash_map::Entry::Occupied(b) => {
                        add(b.into_mut(), slot);
                    }
                    std::collections::hash_map::Entry::Vacant(v) => {
                        // A word's field is new to the word list only when its bitmap is.
                        if let Some((_, fields)) = self.words.get_mut(w) {
                            *fields |= 1 << field;
                        }
                        v.insert(RoaringBitmap::new()).insert(slot);
                    }
                }
            }
            by_id.insert(entry.id, slot);
            if slot as usize == self.entries.len() {
                self.entries.push(Some(entry));
            } else {
                self.entries[slot as usize] = Some(entry);
            }
            self.live.insert(slot);
            slots.insert(slot);
        }
        self.nodes.insert(
            node,
            NodeSlots {
                seg: prepared.seg,
                slots,
                by_id,
            },
        );
    }

    /// Removes a node's entries (replaced by an install, or its approval withdrawn).
    pub fn remove(&mut self, node: &DidKey) {
        if let Some(old) = self.nodes.remove(node) {
            self.generation += 1;
            self.expiries
                .remove(&(old.seg.earliest_expiry(), old.seg.id.clone()));
            for slot in &old.slots {
                self.remove_slot(slot);
            }
        }
    }

    fn remove_slot(&mut self, slot: u32) {
        let Some(entry) = self.entries.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        self.text_len_total = self
            .text_len_total
            .saturating_sub(u64::from(entry.text_len));
        clear_bit(&mut self.live_column, slot);
        let listing = entry.seg.data.listings.get(&entry.id);
        if let Some(l) = listing {
            let name_fold = text::fold(&l.group.name);
            for (w, field) in text_terms(&l.group, &name_fold).0.iter() {
                self.remove_word(w, field, slot);
            }
            self.order.remove(&OrderKey {
                organisation: Arc::clone(&entry.seg.name_fold),
                group: name_fold.into(),
                id: entry.id,
                slot,
            });
        }
        let keys = listing.map(|l| keys_of(l.payload())).unwrap_or_default();
        let slots_held = self.entries.len() as u64;
        for k in &keys {
            let (empty, sparse) = match self.bitmaps.get_mut(k) {
                Some(b) => {
                    b.remove(slot);
                    (b.is_empty(), !k.keeps_column(b.len(), slots_held))
                }
                None => (false, true),
            };
            let column = if matches!(k, Key::Word(..) | Key::Cell(..)) {
                None
            } else {
                self.columns.get_mut(k)
            };
            if let Some(column) = column {
                if sparse {
                    self.columns.remove(k);
                } else {
                    clear_bit(column, slot);
                }
            }
            if empty {
                self.bitmaps.remove(k);
            }
        }
        self.live.remove(slot);
        self.free.push(slot);
    }

    /// `w`'s number, given it when it is new.
    fn word_id(&mut self, w: &str) -> u32 {
        if let Some(&id) = self.word_ids.get(w) {
            return id;
        }
        // With none free, the numbers held are 0 to one less than how many there are.
        let id = self
            .free_word_ids
            .pop()
            .unwrap_or(u32::try_from(self.word_ids.len()).unwrap_or(u32::MAX));
        self.word_ids.insert(w.into(), id);
        self.words.insert(w.into(), (id, 0));
        id
    }

    /// Takes `slot` out of word `w`'s bitmap for `field`; a word left without a bitmap
    /// is forgotten and its number freed.
    fn remove_word(&mut self, w: &str, field: u8, slot: u32) {
        let Some(&id) = self.word_ids.get(w) else {
            return;
        };
        let key = Key::Word(id, field);
        let empty = self.bitmaps.get_mut(&key).is_some_and(|b| {
            b.remove(slot);
            b.is_empty()
        });
        if !empty {
            return;
        }
        self.bitmaps.remove(&key);
        let none_left = self.words.get_mut(w).is_some_and(|(_, fields)| {
            *fields &= !(1 << field);
            *fields == 0
        });
        if none_left {
            self.words.remove(w);
            self.word_ids.remove(w);
            self.free_word_ids.push(id);
        }
    }
}
