//! Signpost's persistence, behind one small API so the storage engine can be replaced.
//!
//! - [`Store`]: an embedded sled database used as a key-value store of JSON values. Writes
//!   go through [`WriteBatch`], applied atomically and flushed to disk before
//!   [`Store::commit`] returns: a caller that answers "done" after `commit` never loses the
//!   change.
//! - [`keyfile`]: secret files (keys, tokens) written with mode 0600, read with clear errors.

pub mod keyfile;

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A storage failure. These are internal errors: they never stem from user input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source} (is another process using it?)")]
    Open { path: PathBuf, source: sled::Error },
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    #[error("stored value under {key:?} is corrupt: {source}")]
    Corrupt {
        key: String,
        source: serde_json::Error,
    },
    #[error("value for {key:?} cannot be serialised: {source}")]
    Encode {
        key: String,
        source: serde_json::Error,
    },
    #[error("stored value under {key:?} is incomplete: {what}")]
    Chunks { key: String, what: String },
    #[error("value for {key:?} is too large to store ({bytes} bytes)")]
    TooLarge { key: String, bytes: usize },
    #[error(
        "the store at {path} was written by a newer Signpost (store format {found}; this \
         version reads formats up to {supported}). It has not been changed: run the newer \
         version, or restore a backup made by this one"
    )]
    NewerFormat {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
}

/// The layout of what Signpost keeps in a store. Raised when the layout changes, with a
/// migration from every earlier format in [`migrate`]; a store of a later format is refused
/// untouched.
///
/// - 1: JSON values, one key each.
/// - 2: as 1, and values written with [`Store::put_large`] kept in chunks (see [`CHUNK`]).
///   Nothing is rewritten by the step: [`Store::get_large`] still reads a value kept whole,
///   and its owner rewrites it in chunks (an older version would not find a chunked value,
///   hence the new number).
pub const FORMAT: u32 = 2;
const K_FORMAT: &str = "store/format";

/// Brings a store from format `from` to [`FORMAT`], one step at a time, in one batch each.
fn migrate(db: &sled::Db, from: u32) -> Result<(), StoreError> {
    let mut at = from;
    while at < FORMAT {
        // Format 0 is a store written before formats were recorded: the same layout as 1.
        // 1 to 2 changes no existing value (see FORMAT).
        // Each later step rewrites what changed and records its number in the same batch.
        let mut batch = sled::Batch::default();
        let next = at + 1;
        let bytes = serde_json::to_vec(&next).map_err(|source| StoreError::Encode {
            key: K_FORMAT.to_owned(),
            source,
        })?;
        batch.insert(K_FORMAT, bytes);
        db.apply_batch(batch)?;
        db.flush()?;
        at = next;
    }
    Ok(())
}

/// Checks (and, for an older format, migrates) the format of an opened database.
fn check_format(db: &sled::Db, path: &Path) -> Result<(), StoreError> {
    let found: u32 = match db.get(K_FORMAT)? {
        None => 0,
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|source| StoreError::Corrupt {
            key: K_FORMAT.to_owned(),
            source,
        })?,
    };
    if found > FORMAT {
        return Err(StoreError::NewerFormat {
            path: path.to_owned(),
            found,
            supported: FORMAT,
        });
    }
    if found < FORMAT {
        migrate(db, found)?;
    }
    Ok(())
}

/// An open store. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
}

impl Store {
    /// Opens (or creates) the store in `dir`. sled holds a file lock while a handle lives,
    /// and releases it from a background thread a moment after the last handle is dropped, so
    /// a lock held by this same process is waited for (up to two seconds).
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        loop {
            let opened = sled::Config::new()
                .path(dir)
                .cache_capacity(16 * 1024 * 1024)
                .mode(sled::Mode::LowSpace)
                .open();
            match opened {
                Ok(db) => {
                    check_format(&db, dir)?;
                    return Ok(Self { db });
                }
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock")
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(source) => {
                    return Err(StoreError::Open {
                        path: dir.to_owned(),
                        source,
                    })
                }
            }
        }
    }

    /// A store in a temporary location that is removed on drop (tests and benchmarks).
    pub fn temporary() -> Result<Self, StoreError> {
        let db = sled::Config::new().temporary(true).open()?;
        check_format(&db, Path::new("(temporary)"))?;
        Ok(Self { db })
    }

    pub fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }

    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        match self.db.get(key)? {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|source| StoreError::Corrupt {
                        key: key.to_owned(),
                        source,
                    })
            }
        }
    }

    /// Adds `value` to `batch` under `key` in chunks of at most [`CHUNK`] bytes, replacing
    /// whatever was kept under `key` (whole or in chunks). Read it with [`Store::get_large`].
    pub fn put_large<T: Serialize + ?Sized>(
        &self,
        batch: &mut WriteBatch,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|source| StoreError::Encode {
            key: key.to_owned(),
            source,
        })?;
        self.put_large_raw(batch, key, &bytes)
    }

    /// [`Store::put_large`] for bytes already encoded.
    pub fn put_large_raw(
        &self,
        batch: &mut WriteBatch,
        key: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let count = bytes.len().div_ceil(CHUNK).max(1);
        let held = self.chunk_count(key)?;
        let Ok(count_u32) = u32::try_from(count) else {
            return Err(StoreError::TooLarge {
                key: key.to_owned(),
                bytes: bytes.len(),
            });
        };
        for (i, part) in bytes.chunks(CHUNK).enumerate() {
            let chunk_key = chunk_key(key, i);
            if i == 0 {
                let mut first = Vec::with_capacity(4 + part.len());
                first.extend_from_slice(&count_u32.to_le_bytes());
                first.extend_from_slice(part);
                batch.inner.insert(chunk_key.as_bytes(), first);
            } else {
                batch.inner.insert(chunk_key.as_bytes(), part);
            }
        }
        if bytes.is_empty() {
            batch
                .inner
                .insert(chunk_key(key, 0).as_bytes(), count_u32.to_le_bytes().to_vec());
        }
        for stale in count..held {
            batch.inner.remove(chunk_key(key, stale).as_bytes());
        }
        batch.inner.remove(key);
        Ok(())
    }

    /// How many chunks `key` is kept in (0 when none).
    fn chunk_count(&self, key: &str) -> Result<usize, StoreError> {
        Ok(match self.db.get(chunk_key(key, 0))? {
            Some(first) => first
                .get(..4)
                .and_then(|c| c.try_into().ok())
                .map_or(0, |c| u32::from_le_bytes(c) as usize),
            None => 0,
        })
    }

    /// Reads a value written with [`Store::put_large`] (or kept whole under `key` by an
    /// earlier version). Each chunk is read with its own lookup: sled evicts what lookups
    /// bring into its cache, but keeps every page a scan has read.
    pub fn get_large_raw(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(first) = self.db.get(chunk_key(key, 0))? else {
            return self.get_raw(key);
        };
        let corrupt = |what: &str| StoreError::Chunks {
            key: key.to_owned(),
            what: what.to_owned(),
        };
        let count = first
            .get(..4)
            .and_then(|c| c.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| corrupt("its first chunk has no count"))? as usize;
        let mut bytes = Vec::with_capacity(count.saturating_mul(CHUNK).min(1 << 30));
        bytes.extend_from_slice(&first[4..]);
        for i in 1..count {
            let part = self
                .db
                .get(chunk_key(key, i))?
                .ok_or_else(|| corrupt(&format!("chunk {i} of {count} is missing")))?;
            bytes.extend_from_slice(&part);
        }
        Ok(Some(bytes))
    }

    /// [`Store::get_large_raw`], parsed.
    pub fn get_large<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        match self.get_large_raw(key)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|source| {
                StoreError::Corrupt {
                    key: key.to_owned(),
                    source,
                }
            }),
        }
    }

    /// Every value whose key starts with `prefix`, in key order.
    pub fn scan<T: DeserializeOwned>(
        &self,
        prefix: &str,
    ) -> impl Iterator<Item = Result<(String, T), StoreError>> + '_ {
        self.db.scan_prefix(prefix).map(|item| {
            let (k, v) = item?;
            let key = String::from_utf8_lossy(&k).into_owned();
            let value = serde_json::from_slice(&v).map_err(|source| StoreError::Corrupt {
                key: key.clone(),
                source,
            })?;
            Ok((key, value))
        })
    }

    /// Every key that starts with `prefix`.
    pub fn keys(&self, prefix: &str) -> impl Iterator<Item = Result<String, StoreError>> + '_ {
        self.db
            .scan_prefix(prefix)
            .keys()
            .map(|k| Ok(String::from_utf8_lossy(&k?).into_owned()))
    }

    /// Applies every write in `batch` atomically, then flushes to disk.
    pub fn commit(&self, batch: WriteBatch) -> Result<(), StoreError> {
        self.db.apply_batch(batch.inner)?;
        self.db.flush()?;
        Ok(())
    }

    /// Applies `batch` atomically without waiting for the disk (caches that can be rebuilt).
    pub fn commit_unsynced(&self, batch: WriteBatch) -> Result<(), StoreError> {
        self.db.apply_batch(batch.inner)?;
        Ok(())
    }

    /// Waits until everything written so far is on disk. Concurrent callers share the
    /// work: one flush makes every earlier write durable (group commit).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Every key and value of the store in `dir`, whatever its format, changing nothing
    /// Signpost keeps (for diagnosis, and to check a refused store was left as it was).
    pub fn contents_of(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .open()
            .map_err(|source| StoreError::Open {
                path: dir.to_owned(),
                source,
            })?;
        Self { db }.dump()
    }

    /// The store's format (see [`FORMAT`]).
    pub fn format(&self) -> Result<u32, StoreError> {
        Ok(self.get::<u32>(K_FORMAT)?.unwrap_or(0))
    }

    /// Every key and its raw value, in key order (a backup's copy of the store).
    pub fn dump(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.db
            .iter()
            .map(|item| {
                let (k, v) = item?;
                Ok((String::from_utf8_lossy(&k).into_owned(), v.to_vec()))
            })
            .collect()
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }
}

/// The most bytes of a value written with [`Store::put_large`] kept under one key. sled 0.34
/// keeps a page larger than about 128 KB outside its log (a "blob") and counts it in its
/// cache at the size of a pointer, so it never evicts it: one value per node kept a second
/// copy of everything the aggregator holds in memory (measured with heaptrack: 2.9 KB per
/// listing). A leaf page holds at most 17 keys, so chunks of 7 KiB keep every page under
/// that threshold, and the 16 MiB cache bounds what sled holds.
pub const CHUNK: usize = 7 * 1024;

/// Where chunk `i` of a large value under `key` is kept. `#` sorts before `/`, so the chunks
/// follow their key and precede anything under `{key}/`.
fn chunk_key(key: &str, i: usize) -> String {
    format!("{key}#{i:05}")
}

/// Writes to apply together.
#[derive(Default)]
pub struct WriteBatch {
    inner: sled::Batch,
}

impl WriteBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|source| StoreError::Encode {
            key: key.to_owned(),
            source,
        })?;
        self.inner.insert(key, bytes);
        Ok(())
    }

    pub fn put_raw(&mut self, key: &str, value: &[u8]) {
        self.inner.insert(key, value);
    }

    pub fn remove(&mut self, key: &str) {
        self.inner.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_atomic_and_persist_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let mut batch = WriteBatch::new();
            batch.put("l/1", &1u64).unwrap();
            batch.put("l/2", &2u64).unwrap();
            batch.put("m/seq", &7u64).unwrap();
            store.commit(batch).unwrap();
            let mut batch = WriteBatch::new();
            batch.remove("l/1");
            store.commit(batch).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let listed: Vec<(String, u64)> = store.scan("l/").map(Result::unwrap).collect();
        assert_eq!(listed, vec![("l/2".to_owned(), 2)]);
        assert_eq!(store.get::<u64>("m/seq").unwrap(), Some(7));
        assert!(matches!(
            store.get::<String>("m/seq"),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_large_value_is_kept_in_chunks_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..CHUNK * 5 + 123).map(|i| b'a' + (i % 26) as u8).collect();
        let small = b"short".to_vec();
        {
            let store = Store::open(dir.path()).unwrap();
            // Kept whole by an earlier version: still read, then replaced by chunks.
            let mut batch = WriteBatch::new();
            batch.put_raw("node/x/meta", &big);
            store.commit(batch).unwrap();
            assert_eq!(store.get_large_raw("node/x/meta").unwrap(), Some(big.clone()));
            let mut batch = WriteBatch::new();
            store.put_large_raw(&mut batch, "node/x/meta", &big).unwrap();
            store.commit(batch).unwrap();
            let keys: Vec<String> = store.keys("node/x/").map(Result::unwrap).collect();
            assert_eq!(keys.len(), 6, "{keys:?}");
            assert!(!keys.contains(&"node/x/meta".to_owned()), "the whole value is gone");
            assert!(store
                .dump()
                .unwrap()
                .iter()
                .all(|(_, v)| v.len() <= CHUNK + 4));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.get_large_raw("node/x/meta").unwrap(), Some(big.clone()));
        // A smaller value leaves no stale chunk behind; an empty one is still a value.
        let mut batch = WriteBatch::new();
        store.put_large_raw(&mut batch, "node/x/meta", &small).unwrap();
        store.commit(batch).unwrap();
        assert_eq!(store.keys("node/x/").count(), 1);
        assert_eq!(store.get_large_raw("node/x/meta").unwrap(), Some(small));
        let mut batch = WriteBatch::new();
        store.put_large(&mut batch, "node/x/meta", &vec![1u8, 2]).unwrap();
        store.commit(batch).unwrap();
        assert_eq!(store.get_large::<Vec<u8>>("node/x/meta").unwrap(), Some(vec![1, 2]));
        let mut batch = WriteBatch::new();
        store.put_large_raw(&mut batch, "node/x/meta", b"").unwrap();
        store.commit(batch).unwrap();
        assert_eq!(store.get_large_raw("node/x/meta").unwrap(), Some(Vec::new()));
        assert_eq!(store.get_large_raw("node/y/meta").unwrap(), None);
        // A missing chunk is reported, not read as a shorter value.
        let mut batch = WriteBatch::new();
        store.put_large_raw(&mut batch, "node/z/meta", &big).unwrap();
        batch.remove("node/z/meta#00002");
        store.commit(batch).unwrap();
        let err = store.get_large_raw("node/z/meta").unwrap_err();
        assert!(err.to_string().contains("chunk 2 of 6 is missing"), "{err}");
    }

    #[test]
    fn an_unversioned_store_is_stamped_and_a_newer_one_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        {
            // A store as written before formats were recorded.
            let db = sled::Config::new().path(dir.path()).open().unwrap();
            db.insert("listing/x", b"1".to_vec()).unwrap();
            db.flush().unwrap();
        }
        {
            let store = Store::open(dir.path()).unwrap();
            assert_eq!(store.format().unwrap(), FORMAT);
            assert_eq!(store.get::<u64>("listing/x").unwrap(), Some(1));
            let mut batch = WriteBatch::new();
            batch.put(K_FORMAT, &(FORMAT + 1)).unwrap();
            store.commit(batch).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        let err = match Store::open(dir.path()) {
            Err(e) => e,
            Ok(_) => panic!("a newer format must be refused"),
        };
        assert!(
            err.to_string().contains("written by a newer Signpost"),
            "{err}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        assert_eq!(
            db.get(K_FORMAT).unwrap().map(|v| v.to_vec()),
            Some(serde_json::to_vec(&(FORMAT + 1)).unwrap()),
            "left as it was"
        );
        assert!(db.get("listing/x").unwrap().is_some());
    }
}
