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
                Ok(db) => return Ok(Self { db }),
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
}
