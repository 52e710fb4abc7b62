//! Signpost's persistence, behind one small API so the storage engine can be replaced.
//!
//! - [`Store`]: an embedded sled database used as a key-value store of JSON values (and of
//!   large values in a compact binary encoding, see [`Store::put_large_compact`]). Writes
//!   go through [`WriteBatch`], applied atomically and flushed to disk before
//!   [`Store::commit`] returns: a caller that answers "done" after `commit` never loses the
//!   change.
//! - [`keyfile`]: secret files (keys, tokens) written with mode 0600, read with clear errors.

pub mod keyfile;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// sled's error in words: an I/O error as the system says it (sled's `Display` shows its
/// `Debug`, `Os { code: .., kind: .., message: .. }`).
fn sled_words(e: &sled::Error) -> String {
    match e {
        sled::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// A storage failure. These are internal errors: they never stem from user input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// sled's words are in the message (not a `source`: sled's own `Display` is its
    /// `Debug`, which a chain printed in full would add).
    #[error("cannot open the store at {path}: {}", sled_words(error))]
    Open { path: PathBuf, error: sled::Error },
    /// Another process holds the store's lock (sled's own words are an `Os { code: 11, .. }`).
    #[error(
        "the store at {path} is in use by another process: is the node or aggregator that \
         keeps it running?"
    )]
    InUse { path: PathBuf },
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
    #[error("stored value under {key:?} is corrupt: {source}")]
    CorruptCompact {
        key: String,
        source: postcard::Error,
    },
    #[error("value for {key:?} cannot be serialised: {source}")]
    EncodeCompact {
        key: String,
        source: postcard::Error,
    },
    #[error("cannot use the store's file {path}: {source}")]
    Files {
        path: PathBuf,
        source: std::io::Error,
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
///
/// - 1: JSON values, one key each.
/// - 2: as 1, and values written with [`Store::put_large`] kept in files beside the database
///   (see [`Store::put_large`]). Nothing is rewritten by the step: [`Store::get_large`]
///   still reads a value kept whole, and its owner rewrites it (an older version would not
///   find a value kept in a file, hence the new number).
/// - 3: as 2, and a value kept in a file may be in the compact binary encoding (see
///   [`Store::put_large_compact`]); JSON values are still read. Nothing is rewritten by the
///   step (an older version could not read a compact value, hence the new number).
pub const FORMAT: u32 = 3;
const K_FORMAT: &str = "store/format";

/// Brings a store from format `from` to [`FORMAT`], one step at a time, in one batch each.
fn migrate(db: &sled::Db, from: u32) -> Result<(), StoreError> {
    let mut at = from;
    while at < FORMAT {
        // Format 0 is a store written before formats were recorded: the same layout as 1.
        // 1 to 2 and 2 to 3 change no existing value (see FORMAT).
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
        Some(bytes) => parse(K_FORMAT, &bytes)?,
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
    files: Arc<Files>,
}

/// Where large values are kept: one file each in `values/` beside sled's files.
struct Files {
    dir: PathBuf,
    /// Files replaced by a committed batch, removed once that batch is on disk.
    replaced: Mutex<Vec<PathBuf>>,
    /// A temporary store's directory, removed with the store.
    _temporary: Option<tempfile::TempDir>,
}

/// A stored JSON value, or why it is corrupt.
fn parse<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, StoreError> {
    signpost_protocol::wire::json_from_slice(bytes).map_err(|source| StoreError::Corrupt {
        key: key.to_owned(),
        source,
    })
}

/// What a value written by [`Store::put_large_compact`] starts with (JSON never starts with
/// a zero byte).
const COMPACT: &[u8] = b"\0signpost-compact-1\0";

/// A large value as it was written.
#[derive(Debug)]
pub enum LargeValue<C, J> {
    /// By [`Store::put_large_compact`].
    Compact(C),
    /// In JSON, by [`Store::put_large`] or by an earlier version.
    Json(J),
}

/// Parses a large value read with [`Store::get_large_raw`] as it was written: `C` may borrow
/// from `bytes` (a payload kept as bytes is not copied to be read).
pub fn parse_large<'a, C: serde::Deserialize<'a>, J: DeserializeOwned>(
    key: &str,
    bytes: &'a [u8],
) -> Result<LargeValue<C, J>, StoreError> {
    match bytes.strip_prefix(COMPACT) {
        Some(compact) => match postcard::take_from_bytes(compact) {
            Ok((value, [])) => Ok(LargeValue::Compact(value)),
            Ok(_) => Err(postcard::Error::DeserializeBadEncoding),
            Err(e) => Err(e),
        }
        .map_err(|source| StoreError::CorruptCompact {
            key: key.to_owned(),
            source,
        }),
        None => parse(key, bytes).map(LargeValue::Json),
    }
}

/// A writer that keeps the error of a failed write: postcard reports one only as a full
/// buffer.
struct KeepsError<'a> {
    out: &'a mut dyn std::io::Write,
    error: Option<std::io::Error>,
}

impl std::io::Write for KeepsError<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf).map_err(|e| {
            let kind = e.kind();
            self.error = Some(e);
            std::io::Error::from(kind)
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The directory of large values in a store at `dir`.
const VALUES_DIR: &str = "values";
/// Under `{key}#file`: the id of the file holding the large value of `key`.
fn file_ref_key(key: &str) -> String {
    format!("{key}#file")
}
/// Under `store/values/{id}`: the key whose value file `id` holds (to find files left by a
/// batch that never committed).
fn file_owner_key(id: u64) -> String {
    format!("store/values/{id:016x}")
}
fn file_name(id: u64) -> String {
    format!("{id:016x}.json")
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
                    let store = Self {
                        db,
                        files: Arc::new(Files::at(dir.join(VALUES_DIR), None)?),
                    };
                    store.remove_unreferenced_files()?;
                    return Ok(store);
                }
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock")
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                    return Err(StoreError::InUse {
                        path: dir.to_owned(),
                    })
                }
                Err(source) => {
                    return Err(StoreError::Open {
                        path: dir.to_owned(),
                        error: source,
                    })
                }
            }
        }
    }

    /// A store in a temporary location that is removed on drop (tests and benchmarks).
    pub fn temporary() -> Result<Self, StoreError> {
        let db = sled::Config::new().temporary(true).open()?;
        check_format(&db, Path::new("(temporary)"))?;
        let temporary = tempfile::tempdir().map_err(|source| StoreError::Files {
            path: std::env::temp_dir(),
            source,
        })?;
        let dir = temporary.path().to_owned();
        Ok(Self {
            db,
            files: Arc::new(Files::at(dir, Some(temporary))?),
        })
    }

    pub fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }

    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        self.db
            .get(key)?
            .map(|bytes| parse(key, &bytes))
            .transpose()
    }

    /// Adds `value` to `batch` under `key`, kept in a file of its own in `values/` (written
    /// and synced to disk now; the batch records which file), replacing whatever was kept
    /// under `key`. The file it replaces is removed once the batch is on disk. Read it with
    /// [`Store::get_large`].
    ///
    /// Why files: sled 0.34 keeps a page over about 128 KB outside its log (a "blob") and
    /// counts it in its cache at the size of a pointer, so it never evicts it. One value per
    /// node kept a second copy of everything the aggregator holds in memory (measured with
    /// heaptrack: 2.9 KB a listing); chunks small enough for sled's log cost 4.9 bytes
    /// written a byte stored and slowed a cold crawl by a third. A file costs one write.
    pub fn put_large<T: Serialize + ?Sized>(
        &self,
        batch: &mut WriteBatch,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        // Encoded straight into the file: a node's value is hundreds of KB, and building it
        // in memory first grew a buffer a dozen times, each time on freshly zeroed pages.
        self.put_large_with(batch, key, |out, path| {
            serde_json::to_writer(out, value).map_err(|source| {
                if source.is_io() {
                    StoreError::Files {
                        path: path.to_owned(),
                        source: source.into(),
                    }
                } else {
                    StoreError::Encode {
                        key: key.to_owned(),
                        source,
                    }
                }
            })
        })
    }

    /// As [`Store::put_large`], in a compact binary encoding (postcard, after a marker JSON
    /// never starts with) instead of JSON: bytes are kept as they are, where JSON would
    /// need them in base64, and nothing is escaped or scanned. Read it with
    /// [`Store::get_large_raw`] and [`parse_large`].
    pub fn put_large_compact<T: Serialize + ?Sized>(
        &self,
        batch: &mut WriteBatch,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        // Encoded straight into the file, as `put_large` does.
        self.put_large_with(batch, key, |out, path| {
            let failed = |source| StoreError::Files {
                path: path.to_owned(),
                source,
            };
            out.write_all(COMPACT).map_err(failed)?;
            let mut file = KeepsError { out, error: None };
            let encoded = postcard::to_io(value, &mut file).map(drop);
            encoded.map_err(|source| match file.error.take() {
                Some(e) => failed(e),
                None => StoreError::EncodeCompact {
                    key: key.to_owned(),
                    source,
                },
            })
        })
    }

    /// [`Store::put_large`] for bytes already encoded.
    pub fn put_large_raw(
        &self,
        batch: &mut WriteBatch,
        key: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        self.put_large_with(batch, key, |out, path| {
            out.write_all(bytes).map_err(|source| StoreError::Files {
                path: path.to_owned(),
                source,
            })
        })
    }

    /// [`Store::put_large`] with the value written into its file by `write`.
    fn put_large_with(
        &self,
        batch: &mut WriteBatch,
        key: &str,
        write: impl FnOnce(&mut dyn std::io::Write, &Path) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let id = self.db.generate_id()?;
        let path = self.files.dir.join(file_name(id));
        self.files.write(&path, write)?;
        if let Some(old) = self.file_of(key)? {
            batch.inner.remove(file_owner_key(old).as_bytes());
            batch.replaced.push(self.files.dir.join(file_name(old)));
        }
        batch
            .inner
            .insert(file_ref_key(key).as_bytes(), id.to_be_bytes().to_vec());
        batch
            .inner
            .insert(file_owner_key(id).as_bytes(), key.as_bytes());
        batch.inner.remove(key);
        Ok(())
    }

    /// The id of the file holding `key`'s large value, if it is kept in one.
    fn file_of(&self, key: &str) -> Result<Option<u64>, StoreError> {
        Ok(self
            .db
            .get(file_ref_key(key))?
            .and_then(|id| <[u8; 8]>::try_from(id.as_ref()).ok())
            .map(u64::from_be_bytes))
    }

    /// Reads a value written with [`Store::put_large`] (or kept whole under `key` by an
    /// earlier version).
    pub fn get_large_raw(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(id) = self.file_of(key)? else {
            return self.get_raw(key);
        };
        let path = self.files.dir.join(file_name(id));
        std::fs::read(&path)
            .map(Some)
            .map_err(|source| StoreError::Files { path, source })
    }

    /// Removes the files no committed batch refers to: written for a batch that was never
    /// committed (a crash between the two), or replaced by one whose removal a crash
    /// interrupted.
    fn remove_unreferenced_files(&self) -> Result<(), StoreError> {
        let dir = &self.files.dir;
        let entries = std::fs::read_dir(dir).map_err(|source| StoreError::Files {
            path: dir.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let id = name
                .strip_suffix(".json")
                .and_then(|hex| u64::from_str_radix(hex, 16).ok());
            let referenced = match id {
                Some(id) => match self.db.get(file_owner_key(id))? {
                    Some(owner) => self.file_of(&String::from_utf8_lossy(&owner))? == Some(id),
                    None => false,
                },
                None => false,
            };
            if !referenced {
                std::fs::remove_file(entry.path()).map_err(|source| StoreError::Files {
                    path: entry.path(),
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// [`Store::get_large_raw`], parsed.
    pub fn get_large<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        self.get_large_raw(key)?
            .map(|bytes| parse(key, &bytes))
            .transpose()
    }

    /// Every value whose key starts with `prefix`, in key order.
    pub fn scan<T: DeserializeOwned>(
        &self,
        prefix: &str,
    ) -> impl Iterator<Item = Result<(String, T), StoreError>> + '_ {
        self.db.scan_prefix(prefix).map(|item| {
            let (k, v) = item?;
            let key = String::from_utf8_lossy(&k).into_owned();
            let value = parse(&key, &v)?;
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
        self.apply(batch)?;
        self.flush()
    }

    /// Applies `batch` atomically without waiting for the disk (caches that can be rebuilt).
    pub fn commit_unsynced(&self, batch: WriteBatch) -> Result<(), StoreError> {
        self.apply(batch)
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), StoreError> {
        self.db.apply_batch(batch.inner)?;
        if !batch.replaced.is_empty() {
            self.files
                .replaced
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend(batch.replaced);
        }
        Ok(())
    }

    /// Waits until everything written so far is on disk. Concurrent callers share the
    /// work: one flush makes every earlier write durable (group commit).
    pub fn flush(&self) -> Result<(), StoreError> {
        let replaced = std::mem::take(
            &mut *self
                .files
                .replaced
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        self.db.flush()?;
        // Only now is nothing on disk referring to them. A removal that fails leaves a file
        // no batch refers to, removed when the store is next opened.
        for path in replaced {
            let _ = std::fs::remove_file(path);
        }
        Ok(())
    }

    /// Every key and value of the store in `dir`, whatever its format, changing nothing
    /// Signpost keeps (for diagnosis, and to check a refused store was left as it was).
    pub fn contents_of(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .open()
            .map_err(|error| StoreError::Open {
                path: dir.to_owned(),
                error,
            })?;
        Self {
            db,
            files: Arc::new(Files::unchecked(dir.join(VALUES_DIR), None)),
        }
        .dump()
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

impl Files {
    /// The files in `dir`, created if missing.
    fn at(dir: PathBuf, temporary: Option<tempfile::TempDir>) -> Result<Self, StoreError> {
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Files {
            path: dir.clone(),
            source,
        })?;
        Ok(Self::unchecked(dir, temporary))
    }

    fn unchecked(dir: PathBuf, temporary: Option<tempfile::TempDir>) -> Self {
        Self {
            dir,
            replaced: Mutex::new(Vec::new()),
            _temporary: temporary,
        }
    }

    /// Creates a new file at `path`, has `write` fill it (through a buffer) and syncs it and
    /// its directory, so that a batch referring to it never outlives it in a crash. A file
    /// left half written is removed (else, when the store is next opened: no batch refers
    /// to it).
    fn write(
        &self,
        path: &Path,
        write: impl FnOnce(&mut dyn std::io::Write, &Path) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let failed = |source| StoreError::Files {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::create_new(path).map_err(failed)?;
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, &file);
        let written = write(&mut out, path)
            .and_then(|()| out.flush().map_err(failed))
            .and_then(|()| file.sync_all().map_err(failed));
        drop(out);
        if let Err(e) = written {
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| StoreError::Files {
                path: self.dir.clone(),
                source,
            })
    }
}

/// Writes to apply together.
#[derive(Default)]
pub struct WriteBatch {
    inner: sled::Batch,
    /// Files of large values this batch replaces.
    replaced: Vec<PathBuf>,
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

    /// A store another handle holds is named as in use, in words (sled's own are an
    /// `Os { code: 11, kind: WouldBlock, .. }`), after the wait for a lock being let go.
    #[test]
    fn a_store_in_use_is_said_to_be_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let _held = Store::open(dir.path()).unwrap();
        let err = Store::open(dir.path()).err().expect("the lock is held");
        assert!(matches!(err, StoreError::InUse { .. }), "{err}");
        let said = err.to_string();
        assert!(
            said.ends_with(
                "is in use by another process: is the node or aggregator that keeps it running?"
            ) && !said.contains("Os {"),
            "{said}"
        );
    }

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
    fn a_large_value_is_kept_in_a_file_replaced_once_on_disk_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let values = dir.path().join(VALUES_DIR);
        let files = || std::fs::read_dir(&values).unwrap().count();
        let big: Vec<u8> = (0..300_000).map(|i| b'a' + (i % 26) as u8).collect();
        {
            let store = Store::open(dir.path()).unwrap();
            // Kept whole by an earlier version: still read, then replaced by a file.
            let mut batch = WriteBatch::new();
            batch.put_raw("node/x/meta", &big);
            store.commit(batch).unwrap();
            assert_eq!(
                store.get_large_raw("node/x/meta").unwrap(),
                Some(big.clone())
            );
            let mut batch = WriteBatch::new();
            store
                .put_large_raw(&mut batch, "node/x/meta", &big)
                .unwrap();
            store.commit(batch).unwrap();
            assert_eq!(
                store.get_raw("node/x/meta").unwrap(),
                None,
                "the whole value is gone"
            );
            assert_eq!(files(), 1);
            assert!(store.dump().unwrap().iter().all(|(_, v)| v.len() < 100));
            // The file replaced stays until the batch replacing it is on disk.
            let mut batch = WriteBatch::new();
            store
                .put_large(&mut batch, "node/x/meta", &vec![1u8, 2])
                .unwrap();
            store.commit_unsynced(batch).unwrap();
            assert_eq!(files(), 2);
            store.flush().unwrap();
            assert_eq!(files(), 1);
            assert_eq!(
                store.get_large::<Vec<u8>>("node/x/meta").unwrap(),
                Some(vec![1, 2])
            );
            assert_eq!(store.get_large_raw("node/y/meta").unwrap(), None);
            // A large value written straight into its file is read back as serde writes it.
            let words: Vec<String> = (0..20_000).map(|i| format!("w\"{i}")).collect();
            let mut batch = WriteBatch::new();
            store.put_large(&mut batch, "node/w/meta", &words).unwrap();
            store.commit(batch).unwrap();
            assert_eq!(
                store.get_large_raw("node/w/meta").unwrap(),
                Some(serde_json::to_vec(&words).unwrap())
            );
            assert_eq!(files(), 2);
            // A value JSON cannot hold fails partway through its file: an error naming
            // the key, the file gone, the value held before still read.
            let unencodable: std::collections::BTreeMap<(u8, u8), u8> =
                [((1, 2), 3)].into_iter().collect();
            let mut batch = WriteBatch::new();
            let err = store
                .put_large(&mut batch, "node/w/meta", &(&words, unencodable))
                .unwrap_err();
            assert!(
                matches!(&err, StoreError::Encode { key, .. } if key == "node/w/meta"),
                "{err}"
            );
            store.commit(batch).unwrap();
            assert_eq!(files(), 2);
            assert_eq!(
                store.get_large::<Vec<String>>("node/w/meta").unwrap(),
                Some(words)
            );
            // A file written for a batch that was never committed (a crash between them).
            let mut batch = WriteBatch::new();
            store
                .put_large_raw(&mut batch, "node/y/meta", &big)
                .unwrap();
            drop(batch);
            assert_eq!(files(), 3);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            files(),
            2,
            "the file no batch refers to is removed on opening"
        );
        assert_eq!(
            store.get_large::<Vec<u8>>("node/x/meta").unwrap(),
            Some(vec![1, 2])
        );
        let mut batch = WriteBatch::new();
        store.put_large_raw(&mut batch, "node/x/meta", b"").unwrap();
        store.commit(batch).unwrap();
        assert_eq!(
            store.get_large_raw("node/x/meta").unwrap(),
            Some(Vec::new())
        );
        // A file lost from under the store is an error that names it.
        for f in std::fs::read_dir(&values).unwrap() {
            std::fs::remove_file(f.unwrap().path()).unwrap();
        }
        let err = store.get_large_raw("node/x/meta").unwrap_err();
        assert!(
            err.to_string().contains("cannot use the store's file"),
            "{err}"
        );
        // A temporary store keeps its files in a directory of its own.
        let temporary = Store::temporary().unwrap();
        let mut batch = WriteBatch::new();
        temporary.put_large_raw(&mut batch, "k", &big).unwrap();
        temporary.commit(batch).unwrap();
        assert_eq!(temporary.get_large_raw("k").unwrap(), Some(big));
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
