//! The publisher: the node's state and every change to it, with no HTTP.
//!
//! A change (create, replace, delete, capacity, attestation, key rotation, re-signing) runs
//! under one writer lock: it signs the new listing versions and a new snapshot (`seq` + 1,
//! `prev` = digest of the last snapshot), writes them in one atomic batch, flushes, and only
//! then swaps in the new published bytes. A caller told "done" never loses the change, and a
//! reader never sees a snapshot whose listings are not published.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use serde::Serialize;
use signpost_protocol::chain;
use signpost_protocol::model::{Group, ManifestEntry};
use signpost_protocol::{
    Attestation, DidKey, Envelope, EnvelopeDigest, Listing, NodeDocument, Snapshot, Verified,
};
use signpost_store::{keyfile, Store, WriteBatch};
use uuid::Uuid;

use crate::config::{ROOT_KEY_FILE, SIGNING_KEY_FILE};
use crate::error::NodeError;

/// How long a node document stays valid.
pub const NODE_DOCUMENT_LIFETIME_DAYS: i64 = 365;

const K_SEQ: &str = "meta/seq";
const K_SNAPSHOT: &str = "meta/snapshot";
/// The directories this node asked to list it (their API addresses), in the order asked.
const K_DIRECTORIES: &str = "meta/directories";

fn k_node(version: u64) -> String {
    format!("node/{version:020}")
}
fn k_listing(id: &Uuid) -> String {
    format!("listing/{id}")
}
fn k_version(id: &Uuid) -> String {
    format!("version/{id}")
}
fn k_attestation(d: &EnvelopeDigest) -> String {
    format!("attestation/{d}")
}

/// A node's store at one moment, for a backup.
pub struct StoreDump {
    /// Every key and raw value.
    pub entries: Vec<(String, Vec<u8>)>,
    /// The published snapshot's seq.
    pub seq: u64,
    /// The store's format.
    pub format: u32,
}

/// Everything a node serves publicly, serialised once per change.
pub struct Published {
    pub node_document: Bytes,
    /// Every node document version, oldest first (index = version - 1).
    pub node_versions: Vec<Bytes>,
    pub snapshot: Bytes,
    /// Strong ETag of the snapshot (quoted digest).
    pub etag: String,
    pub seq: u64,
    pub bundle: Bytes,
    pub listings: HashMap<Uuid, Bytes>,
}

pub use signpost_protocol::wire::{Bundle, CapacityPatch};

struct State {
    signing_key: SigningKey,
    node_docs: Vec<Verified<NodeDocument>>,
    seq: u64,
    snapshot: Option<Verified<Snapshot>>,
    listings: BTreeMap<Uuid, Verified<Listing>>,
    /// Highest version ever used per listing id, deleted ones included.
    versions: HashMap<Uuid, u64>,
    attestations: BTreeMap<EnvelopeDigest, Verified<Attestation>>,
}

impl State {
    fn node(&self) -> Result<&Verified<NodeDocument>, NodeError> {
        self.node_docs
            .last()
            .ok_or_else(|| NodeError::Internal("no node document".into()))
    }
}

/// A pending change, applied by [`Publisher::commit`].
#[derive(Default)]
struct Change {
    put: Vec<Verified<Listing>>,
    remove: Vec<Uuid>,
    attestation: Option<Verified<Attestation>>,
    node_doc: Option<Verified<NodeDocument>>,
    new_signing_key: Option<SigningKey>,
}

pub struct Publisher {
    dir: PathBuf,
    store: Store,
    node_id: DidKey,
    lifetime: Duration,
    max_listings: usize,
    state: Mutex<State>,
    published: RwLock<Arc<Published>>,
}

impl Publisher {
    /// Creates a node's first state: node document version 1 signed by `root`, an empty
    /// snapshot at seq 1.
    pub fn initialise(
        dir: &Path,
        store: Store,
        root: &SigningKey,
        signing: &SigningKey,
        name: &str,
        base_url: &str,
        lifetime: std::time::Duration,
    ) -> Result<(), NodeError> {
        let now = Utc::now();
        let id = DidKey::new(root.verifying_key());
        let doc = NodeDocument::first(
            id,
            DidKey::new(signing.verifying_key()),
            name,
            base_url.trim_end_matches('/'),
            now,
            now + Duration::days(NODE_DOCUMENT_LIFETIME_DAYS),
        );
        let doc = Verified::sign(doc, root).map_err(NodeError::InvalidListing)?;
        let mut batch = WriteBatch::new();
        batch.put(&k_node(1), &doc.envelope())?;
        store.commit(batch)?;
        let publisher = Self::open(dir, store, lifetime, usize::MAX)?;
        publisher.resign_all()?;
        Ok(())
    }

    /// Opens the node in `dir` with its configured lifetime and listing limit.
    pub fn open_configured(
        dir: &Path,
        store: Store,
        config: &crate::config::NodeConfig,
    ) -> Result<Self, NodeError> {
        Self::open(
            dir,
            store,
            config.publishing.lifetime(),
            config.limits.max_listings,
        )
    }

    /// Opens an existing node's state from its store and key files.
    pub fn open(
        dir: &Path,
        store: Store,
        lifetime: std::time::Duration,
        max_listings: usize,
    ) -> Result<Self, NodeError> {
        let envelopes: Vec<Envelope> = store
            .scan::<Envelope>("node/")
            .map(|r| r.map(|(_, e)| e))
            .collect::<Result<_, _>>()?;
        let first = envelopes
            .first()
            .ok_or_else(|| NodeError::Internal("the store holds no node document".into()))?;
        let first_doc: NodeDocument =
            serde_json::from_slice(&first.payload_bytes().map_err(internal)?).map_err(internal)?;
        let node_docs = chain::verify_chain(&first_doc.id, envelopes).map_err(internal)?;
        let current = node_docs
            .last()
            .ok_or_else(|| NodeError::Internal("empty chain".into()))?;

        let signing_key = load_signing_key(dir, current)?;
        let signer = signing_key.verifying_key();

        let mut listings = BTreeMap::new();
        for item in store.scan::<Envelope>("listing/") {
            let (_, env) = item?;
            let listing = Verified::<Listing>::from_own_store(env, signer).map_err(internal)?;
            listings.insert(listing.id, listing);
        }
        let mut versions = HashMap::new();
        for item in store.scan::<u64>("version/") {
            let (key, v) = item?;
            if let Some(id) = key
                .strip_prefix("version/")
                .and_then(|s| s.parse::<Uuid>().ok())
            {
                versions.insert(id, v);
            }
        }
        let mut attestations = BTreeMap::new();
        for item in store.scan::<Envelope>("attestation/") {
            let (_, env) = item?;
            let att = Verified::<Attestation>::verify_self_issued(env).map_err(internal)?;
            attestations.insert(att.digest(), att);
        }
        let seq = store.get::<u64>(K_SEQ)?.unwrap_or(0);
        let snapshot = match store.get::<Envelope>(K_SNAPSHOT)? {
            Some(env) => Some(Verified::<Snapshot>::from_own_store(env, signer).map_err(internal)?),
            None => None,
        };
        let node_id = current.id;
        let state = State {
            signing_key,
            node_docs,
            seq,
            snapshot,
            listings,
            versions,
            attestations,
        };
        let published = build_published(&state)?;
        Ok(Self {
            dir: dir.to_owned(),
            store,
            node_id,
            lifetime: Duration::from_std(lifetime).unwrap_or(Duration::days(7)),
            max_listings,
            state: Mutex::new(state),
            published: RwLock::new(Arc::new(published)),
        })
    }

    pub fn node_id(&self) -> DidKey {
        self.node_id
    }

    /// The directories this node asked to list it (their API addresses), in the order asked.
    pub fn directories(&self) -> Vec<String> {
        match self.store.get::<Vec<String>>(K_DIRECTORIES) {
            Ok(d) => d.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %e, "the directories this node asked to list it could not be read");
                Vec::new()
            }
        }
    }

    /// Remembers a directory this node asked to list it (durably: a restart and a backup keep
    /// it); false when it was remembered already.
    pub fn remember_directory(&self, base: &str) -> Result<bool, NodeError> {
        let _state = self.lock();
        let mut directories = self.directories();
        if directories.iter().any(|d| d == base) {
            return Ok(false);
        }
        directories.push(base.to_owned());
        let mut batch = WriteBatch::new();
        batch.put(K_DIRECTORIES, &directories)?;
        self.store.commit(batch)?;
        Ok(true)
    }

    /// What is published now.
    pub fn published(&self) -> Arc<Published> {
        match self.published.read() {
            Ok(p) => Arc::clone(&p),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-changed: state is only
        // replaced after the store commit succeeded.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every listing currently published.
    pub fn listings(&self) -> Vec<Listing> {
        self.lock()
            .listings
            .values()
            .map(|l| l.payload().clone())
            .collect()
    }

    pub fn listing(&self, id: Uuid) -> Result<Verified<Listing>, NodeError> {
        self.lock()
            .listings
            .get(&id)
            .cloned()
            .ok_or(NodeError::ListingNotFound(id))
    }

    fn sign_listing(
        &self,
        st: &State,
        id: Uuid,
        group: Group,
        now: DateTime<Utc>,
    ) -> Result<Verified<Listing>, NodeError> {
        let version = st.versions.get(&id).copied().unwrap_or(0) + 1;
        let listing = Listing {
            node: self.node_id,
            id,
            version,
            issued_at: now,
            expires_at: now + self.lifetime,
            group,
        };
        Verified::sign(listing, &st.signing_key).map_err(NodeError::InvalidListing)
    }

    /// The attestations this node presents, as their issuers signed them.
    pub fn attestations(&self) -> Vec<Attestation> {
        self.lock()
            .attestations
            .values()
            .map(|a| a.payload().clone())
            .collect()
    }

    /// The current node document.
    pub fn node_document(&self) -> Result<NodeDocument, NodeError> {
        Ok(self.lock().node()?.payload().clone())
    }

    /// Every key of the store with the published seq and the store format, taken under the
    /// state lock: one consistent state for a backup.
    pub fn dump(&self) -> Result<StoreDump, NodeError> {
        let st = self.lock();
        Ok(StoreDump {
            entries: self.store.dump()?,
            seq: st.seq,
            format: self.store.format()?,
        })
    }

    /// After a restore: the node may have published more after its backup was made, which
    /// directories hold. Every counter jumps to the restore time in milliseconds since 1970
    /// (far above any count of changes made in between), and everything is re-signed in one
    /// new snapshot: directories take it as newer and resync. Returns the new seq.
    pub fn resume_after_restore(&self, now: DateTime<Utc>) -> Result<u64, NodeError> {
        let floor = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let mut st = self.lock();
        st.seq = st.seq.max(floor);
        for v in st.versions.values_mut() {
            *v = (*v).max(floor);
        }
        let mut put = Vec::new();
        for (id, l) in &st.listings {
            put.push(self.sign_listing(&st, *id, l.group.clone(), Utc::now())?);
        }
        self.commit(
            &mut st,
            Change {
                put,
                ..Change::default()
            },
        )?;
        Ok(st.seq)
    }

    /// Publishes a new listing. Its capacity counts as confirmed now: the node sets
    /// `capacity.updated_at` itself, whatever the client sent.
    pub fn create(&self, mut group: Group) -> Result<Verified<Listing>, NodeError> {
        checked(&group)?;
        let now = Utc::now();
        group.capacity.updated_at = now;
        self.publish_new(group, now)
    }

    /// Publishes a listing brought from elsewhere (seeding, migration) whose capacity was
    /// confirmed at a known time: `capacity.updated_at` is kept unless it is in the future
    /// (then it becomes now). Not reachable from the admin API.
    pub fn import(&self, mut group: Group) -> Result<Verified<Listing>, NodeError> {
        let now = Utc::now();
        group.capacity.updated_at = group.capacity.updated_at.min(now);
        self.publish_new(group, now)
    }

    fn publish_new(
        &self,
        group: Group,
        now: DateTime<Utc>,
    ) -> Result<Verified<Listing>, NodeError> {
        group.validate().map_err(NodeError::InvalidListing)?;
        let mut st = self.lock();
        if st.listings.len() >= self.max_listings {
            return Err(NodeError::ListingLimit(self.max_listings));
        }
        let listing = self.sign_listing(&st, Uuid::new_v4(), group, now)?;
        self.commit_listing(&mut st, listing)
    }

    /// Replaces a listing's content; its version goes up by one. When the capacity figures
    /// change they count as confirmed now; otherwise their confirmation time is kept (the
    /// client's `updated_at` is never taken).
    pub fn replace(&self, id: Uuid, mut group: Group) -> Result<Verified<Listing>, NodeError> {
        checked(&group)?;
        let mut st = self.lock();
        let current = st.listings.get(&id).ok_or(NodeError::ListingNotFound(id))?;
        let now = Utc::now();
        let held = &current.group.capacity;
        group.capacity.updated_at = held.updated_at;
        if group.capacity != *held {
            group.capacity.updated_at = now;
        }
        let listing = self.sign_listing(&st, id, group, now)?;
        self.commit_listing(&mut st, listing)
    }

    /// Sets capacity fields (and its `updated_at`) in one small change.
    pub fn patch_capacity(
        &self,
        id: Uuid,
        patch: &CapacityPatch,
    ) -> Result<Verified<Listing>, NodeError> {
        let mut st = self.lock();
        let current = st.listings.get(&id).ok_or(NodeError::ListingNotFound(id))?;
        let now = Utc::now();
        let mut group = current.group.clone();
        patch.apply(&mut group.capacity, now);
        checked(&group)?;
        let listing = self.sign_listing(&st, id, group, now)?;
        self.commit_listing(&mut st, listing)
    }

    /// Withdraws a listing. Its id's version counter is kept, so a later listing can never
    /// reuse a version.
    pub fn delete(&self, id: Uuid) -> Result<(), NodeError> {
        let mut st = self.lock();
        if !st.listings.contains_key(&id) {
            return Err(NodeError::ListingNotFound(id));
        }
        self.commit(
            &mut st,
            Change {
                remove: vec![id],
                ..Change::default()
            },
        )
    }

    /// Imports an attestation about this node; its signature must verify under its issuer.
    pub fn import_attestation(
        &self,
        envelope: Envelope,
    ) -> Result<Verified<Attestation>, NodeError> {
        let att = Verified::<Attestation>::verify_self_issued(envelope)
            .map_err(NodeError::AttestationInvalid)?;
        if att.subject != self.node_id {
            return Err(NodeError::AttestationWrongSubject {
                expected: self.node_id.to_string(),
                found: att.subject.to_string(),
            });
        }
        let mut st = self.lock();
        if st.attestations.contains_key(&att.digest()) {
            return Ok(att);
        }
        self.commit(
            &mut st,
            Change {
                attestation: Some(att.clone()),
                ..Change::default()
            },
        )?;
        Ok(att)
    }

    /// Replaces the signing key: node document version + 1 signed by the root key, and every
    /// listing re-signed with the new key, in one change.
    pub fn rotate_signing_key(&self) -> Result<Verified<NodeDocument>, NodeError> {
        let root_path = self.dir.join(ROOT_KEY_FILE);
        if !root_path.exists() {
            return Err(NodeError::RootKeyUnavailable(
                root_path.display().to_string(),
            ));
        }
        let root = keyfile::read_key(&root_path)
            .map_err(|e| NodeError::RootKeyUnavailable(e.to_string()))?;
        let new_key = signpost_protocol::keys::generate();
        let mut st = self.lock();
        let current = st.node()?.payload().clone();
        let now = Utc::now();
        let next = NodeDocument {
            version: current.version + 1,
            issued_at: now,
            expires: now + Duration::days(NODE_DOCUMENT_LIFETIME_DAYS),
            signing_keys: vec![DidKey::new(new_key.verifying_key())],
            ..current
        };
        let doc = Verified::sign(next, &root).map_err(NodeError::InvalidListing)?;
        let doc = chain::verify_next(st.node()?, doc.envelope().to_envelope()).map_err(|e| {
            NodeError::RootKeyUnavailable(format!("root key does not control this node: {e}"))
        })?;
        let old_key = std::mem::replace(&mut st.signing_key, new_key.clone());
        let resigned = self.resign(&st, now, |_| true);
        st.signing_key = old_key;
        let put = resigned?;
        self.commit(
            &mut st,
            Change {
                put,
                node_doc: Some(doc.clone()),
                new_signing_key: Some(new_key),
                ..Change::default()
            },
        )?;
        Ok(doc)
    }

    /// Renews the node document (a new version with the same keys and a new expiry) once
    /// less than half its lifetime is left, so aggregators never see it expire. Needs the
    /// root key on this machine; without it, says so (`RootKeyUnavailable`) when renewal is
    /// due. Returns whether it renewed.
    pub fn renew_document_if_due(&self, now: DateTime<Utc>) -> Result<bool, NodeError> {
        let due = {
            let st = self.lock();
            st.node()?.expires <= now + Duration::days(NODE_DOCUMENT_LIFETIME_DAYS / 2)
        };
        if !due {
            return Ok(false);
        }
        let root_path = self.dir.join(ROOT_KEY_FILE);
        if !root_path.exists() {
            return Err(NodeError::RootKeyUnavailable(format!(
                "the node document must be renewed before it expires and the root key is not at {}",
                root_path.display()
            )));
        }
        let root = keyfile::read_key(&root_path)
            .map_err(|e| NodeError::RootKeyUnavailable(e.to_string()))?;
        let mut st = self.lock();
        let current = st.node()?.payload().clone();
        let next = NodeDocument {
            version: current.version + 1,
            issued_at: now,
            expires: now + Duration::days(NODE_DOCUMENT_LIFETIME_DAYS),
            ..current
        };
        let doc = Verified::sign(next, &root).map_err(NodeError::InvalidListing)?;
        let doc = chain::verify_next(st.node()?, doc.envelope().to_envelope()).map_err(|e| {
            NodeError::RootKeyUnavailable(format!("root key does not control this node: {e}"))
        })?;
        self.commit(
            &mut st,
            Change {
                node_doc: Some(doc),
                ..Change::default()
            },
        )?;
        Ok(true)
    }

    /// Re-signs every listing and the snapshot (new versions, new expiry).
    pub fn resign_all(&self) -> Result<(), NodeError> {
        let mut st = self.lock();
        let put = self.resign(&st, Utc::now(), |_| true)?;
        self.commit(
            &mut st,
            Change {
                put,
                ..Change::default()
            },
        )
    }

    /// Re-signs what expires within half a lifetime; returns whether anything was due.
    pub fn refresh_if_due(&self, now: DateTime<Utc>) -> Result<bool, NodeError> {
        let horizon = now + self.lifetime / 2;
        let mut st = self.lock();
        let snapshot_due = st.snapshot.as_ref().is_none_or(|s| s.expires_at <= horizon);
        let put = self.resign(&st, now, |l| l.expires_at <= horizon)?;
        if !snapshot_due && put.is_empty() {
            return Ok(false);
        }
        self.commit(
            &mut st,
            Change {
                put,
                ..Change::default()
            },
        )?;
        Ok(true)
    }

    fn resign(
        &self,
        st: &State,
        now: DateTime<Utc>,
        due: impl Fn(&Listing) -> bool,
    ) -> Result<Vec<Verified<Listing>>, NodeError> {
        st.listings
            .values()
            .filter(|l| due(l.payload()))
            .map(|l| self.sign_listing(st, l.id, l.group.clone(), now))
            .collect()
    }

    /// Commits one new or changed listing and gives it back.
    fn commit_listing(
        &self,
        st: &mut State,
        listing: Verified<Listing>,
    ) -> Result<Verified<Listing>, NodeError> {
        self.commit(
            st,
            Change {
                put: vec![listing.clone()],
                ..Change::default()
            },
        )?;
        Ok(listing)
    }

    /// Writes a change and a new snapshot atomically, flushes, then publishes.
    fn commit(&self, st: &mut State, change: Change) -> Result<(), NodeError> {
        let now = Utc::now();
        let signing_key = change.new_signing_key.as_ref().unwrap_or(&st.signing_key);

        let mut listings = st.listings.clone();
        let mut versions = st.versions.clone();
        let mut batch = WriteBatch::new();
        for l in &change.put {
            batch.put(&k_listing(&l.id), &l.envelope())?;
            batch.put(&k_version(&l.id), &l.version)?;
            versions.insert(l.id, l.version);
            listings.insert(l.id, l.clone());
        }
        for id in &change.remove {
            batch.remove(&k_listing(id));
            listings.remove(id);
        }
        let mut attestations = st.attestations.clone();
        if let Some(att) = &change.attestation {
            batch.put(&k_attestation(&att.digest()), &att.envelope())?;
            attestations.insert(att.digest(), att.clone());
        }
        // Attestations past their validity are no longer presented.
        let expired: Vec<EnvelopeDigest> = attestations
            .iter()
            .filter(|(_, a)| a.valid_until <= now)
            .map(|(d, _)| *d)
            .collect();
        for d in expired {
            batch.remove(&k_attestation(&d));
            attestations.remove(&d);
        }
        if let Some(doc) = &change.node_doc {
            batch.put(&k_node(doc.version), &doc.envelope())?;
        }

        let seq = st.seq + 1;
        let snapshot = Snapshot {
            node: self.node_id,
            seq,
            prev: st.snapshot.as_ref().map(|s| s.digest()),
            issued_at: now,
            expires_at: now + self.lifetime,
            listings: listings.values().map(ManifestEntry::from).collect(),
            attestations: attestations.keys().copied().collect(),
        };
        let snapshot = Verified::sign(snapshot, signing_key)
            .map_err(|e| NodeError::Internal(e.to_string()))?;
        batch.put(K_SNAPSHOT, &snapshot.envelope())?;
        batch.put(K_SEQ, &seq)?;

        // A new signing key is written beside the old one first; the store commit makes the
        // new node document current, and the rename follows (redone at start-up if we stop
        // between the two).
        let pending_key = self.dir.join(format!("{SIGNING_KEY_FILE}.new"));
        if let Some(key) = &change.new_signing_key {
            let _ = std::fs::remove_file(&pending_key);
            keyfile::write_key(&pending_key, key)
                .map_err(|e| NodeError::Internal(e.to_string()))?;
        }
        self.store.commit(batch)?;
        if change.new_signing_key.is_some() {
            std::fs::rename(&pending_key, self.dir.join(SIGNING_KEY_FILE)).map_err(internal)?;
        }

        if let Some(key) = change.new_signing_key {
            st.signing_key = key;
        }
        if let Some(doc) = change.node_doc {
            st.node_docs.push(doc);
        }
        st.listings = listings;
        st.versions = versions;
        st.attestations = attestations;
        st.seq = seq;
        st.snapshot = Some(snapshot);
        let published = build_published(st)?;
        match self.published.write() {
            Ok(mut p) => *p = Arc::new(published),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(published),
        }
        Ok(())
    }
}

fn internal(e: impl std::fmt::Display) -> NodeError {
    NodeError::Internal(e.to_string())
}

/// Loads the signing key the current node document names, finishing an interrupted rotation.
fn load_signing_key(dir: &Path, current: &NodeDocument) -> Result<SigningKey, NodeError> {
    let path = dir.join(SIGNING_KEY_FILE);
    let pending = dir.join(format!("{SIGNING_KEY_FILE}.new"));
    let named = |k: &SigningKey| {
        current
            .signing_keys
            .contains(&DidKey::new(k.verifying_key()))
    };
    if pending.exists() {
        let key = keyfile::read_key(&pending).map_err(|e| NodeError::Internal(e.to_string()))?;
        if named(&key) {
            std::fs::rename(&pending, &path).map_err(internal)?;
            return Ok(key);
        }
        // The rotation never committed: the pending key was never published.
        std::fs::remove_file(&pending).map_err(internal)?;
    }
    let key = keyfile::read_key(&path).map_err(|e| NodeError::Internal(e.to_string()))?;
    if !named(&key) {
        return Err(NodeError::Internal(format!(
            "{} is not a signing key of node document version {}",
            path.display(),
            current.version
        )));
    }
    Ok(key)
}

fn to_bytes<T: Serialize>(value: &T) -> Result<Bytes, NodeError> {
    serde_json::to_vec(value).map(Bytes::from).map_err(internal)
}

fn build_published(st: &State) -> Result<Published, NodeError> {
    let node_versions = st
        .node_docs
        .iter()
        .map(|d| to_bytes(&d.envelope()))
        .collect::<Result<Vec<_>, _>>()?;
    let node_document = node_versions.last().cloned().unwrap_or_default();
    let listings = st
        .listings
        .iter()
        .map(|(id, l)| Ok((*id, to_bytes(&l.envelope())?)))
        .collect::<Result<HashMap<_, _>, NodeError>>()?;
    let (snapshot, etag, seq, bundle) = match &st.snapshot {
        Some(s) => {
            let bundle = Bundle {
                node: st.node()?.envelope().to_envelope(),
                snapshot: s.envelope().to_envelope(),
                listings: st
                    .listings
                    .values()
                    .map(|l| l.envelope().to_envelope())
                    .collect(),
                attestations: st
                    .attestations
                    .values()
                    .map(|a| a.envelope().to_envelope())
                    .collect(),
            };
            (
                to_bytes(&s.envelope())?,
                format!("\"{}\"", s.digest()),
                s.seq,
                to_bytes(&bundle)?,
            )
        }
        None => (Bytes::new(), String::new(), 0, Bytes::new()),
    };
    Ok(Published {
        node_document,
        node_versions,
        snapshot,
        etag,
        seq,
        bundle,
        listings,
    })
}

impl Publisher {
    /// Node document version + 1 whose only root key is `new_root`, signed by `old_root` (a
    /// root key of the current version) and by `new_root`.
    pub fn rotate_root(
        &self,
        old_root: &SigningKey,
        new_root: &SigningKey,
    ) -> Result<NodeDocument, NodeError> {
        let mut st = self.lock();
        let current = st.node()?.payload().clone();
        let now = Utc::now();
        let next = NodeDocument {
            version: current.version + 1,
            issued_at: now,
            expires: now + Duration::days(NODE_DOCUMENT_LIFETIME_DAYS),
            root_keys: vec![DidKey::new(new_root.verifying_key())],
            threshold: 1,
            ..current
        };
        let mut doc = Verified::sign(next, old_root).map_err(NodeError::InvalidListing)?;
        doc.cosign(new_root);
        let doc = chain::verify_next(st.node()?, doc.envelope().to_envelope()).map_err(|e| {
            NodeError::RootKeyUnavailable(format!("that root key does not control this node: {e}"))
        })?;
        let payload = doc.payload().clone();
        self.commit(
            &mut st,
            Change {
                node_doc: Some(doc),
                ..Change::default()
            },
        )?;
        Ok(payload)
    }
}

/// The authoring checks ([`crate::check`]): every problem at once.
fn checked(group: &Group) -> Result<(), NodeError> {
    let problems = crate::check::group(group);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(NodeError::Invalid(problems))
    }
}
