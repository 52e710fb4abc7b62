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
pub const FORMAT: u32 = 1;
const K_FORMAT: &str = "store/format";

/// Brings a store from format `from` to [`FORMAT`], one step at a time, in one batch each.
fn migrate(db: &sled::Db, from: u32) -> Result<(), StoreError> {
    let mut at = from;
    while at < FORMAT {
        // Format 0 is a store written before formats were recorded: the same layout as 1.
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
