//! Backups: one file holding a node's keys, configuration, sign-in secrets and its whole
//! store, encrypted with a passphrase (age, scrypt). Restoring brings the node back in
//! another directory (another machine) and lets it carry on publishing: its counters jump
//! to the time of the restore, above anything it can have published after the backup, so
//! directories take its next snapshot as newer rather than refusing a rollback (the rule is
//! in `openapi/PROTOCOL.md`, "Restoring a node").

use std::io::{Read as _, Write as _};
use std::path::Path;

use age::secrecy::SecretString;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use signpost_store::{keyfile, Store, WriteBatch};

use crate::config::{
    NodeConfig, ADMIN_TOKEN_FILE, CONFIG_FILE, ROOT_KEY_FILE, SIGNING_KEY_FILE, STORE_DIR,
};
use crate::pages::session::PASSPHRASE_FILE;
use crate::publisher::Publisher;

/// When the last backup was made (RFC 3339), for the status page's reminder.
pub const LAST_BACKUP_FILE: &str = "last-backup";
/// A backup older than this is mentioned on the status page.
pub const REMIND_AFTER_DAYS: i64 = 30;

const MANIFEST: &str = "signpost-backup.json";
const STORE_FILE: &str = "store.jsonl";
/// The secret files a backup carries (0600 when restored), when present.
const SECRETS: [&str; 4] = [
    SIGNING_KEY_FILE,
    ROOT_KEY_FILE,
    ADMIN_TOKEN_FILE,
    PASSPHRASE_FILE,
];

/// What a backup says about itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub backup_format: u32,
    pub created_at: DateTime<Utc>,
    pub node: String,
    pub name: String,
    pub seq: u64,
    pub store_format: u32,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    #[error("the passphrase must be at least 12 characters")]
    WeakPassphrase,
    #[error("this file is not a Signpost backup, or the passphrase is wrong")]
    WrongPassphraseOrFile,
    #[error("the backup is damaged: {0}")]
    Damaged(String),
    #[error("{0} already holds a node; restore into an empty directory")]
    Exists(std::path::PathBuf),
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] signpost_store::StoreError),
    #[error(transparent)]
    Node(#[from] crate::NodeError),
}

fn io(e: impl std::fmt::Display) -> BackupError {
    BackupError::Io(e.to_string())
}

#[derive(Serialize, Deserialize)]
struct Entry {
    k: String,
    v: String,
}

fn add(
    tar: &mut tar::Builder<Vec<u8>>,
    name: &str,
    bytes: &[u8],
    mode: u32,
) -> Result<(), BackupError> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(mode);
    header.set_mtime(Utc::now().timestamp().max(0) as u64);
    header.set_cksum();
    tar.append_data(&mut header, name, bytes).map_err(io)
}

/// Makes an encrypted backup of the node in `dir` whose store is `store` (the publisher's,
/// while it runs; taken under its lock, so it is one consistent state).
pub fn create(dir: &Path, publisher: &Publisher, passphrase: &str) -> Result<Vec<u8>, BackupError> {
    if passphrase.chars().count() < 12 {
        return Err(BackupError::WeakPassphrase);
    }
    let crate::publisher::StoreDump {
        entries: dump,
        seq,
        format: store_format,
    } = publisher.dump()?;
    let doc = publisher.node_document()?;
    let mut tar = tar::Builder::new(Vec::new());
    let manifest = Manifest {
        backup_format: 1,
        created_at: Utc::now(),
        node: doc.id.to_string(),
        name: doc.name.clone(),
        seq,
        store_format,
    };
    add(
        &mut tar,
        MANIFEST,
        &serde_json::to_vec_pretty(&manifest).map_err(io)?,
        0o600,
    )?;
    let config = std::fs::read(dir.join(CONFIG_FILE)).map_err(io)?;
    add(&mut tar, CONFIG_FILE, &config, 0o600)?;
    for name in SECRETS {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            add(&mut tar, name, &bytes, 0o600)?;
        }
    }
    let mut lines = Vec::new();
    for (k, v) in dump {
        serde_json::to_writer(
            &mut lines,
            &Entry {
                k,
                v: base64::engine::general_purpose::STANDARD.encode(v),
            },
        )
        .map_err(io)?;
        lines.push(b'\n');
    }
    add(&mut tar, STORE_FILE, &lines, 0o600)?;
    let plain = tar.into_inner().map_err(io)?;
    let encryptor = age::Encryptor::with_user_passphrase(SecretString::from(passphrase.to_owned()));
    let mut out = Vec::new();
    let mut writer = encryptor.wrap_output(&mut out).map_err(io)?;
    writer.write_all(&plain).map_err(io)?;
    writer.finish().map_err(io)?;
    let _ = std::fs::write(dir.join(LAST_BACKUP_FILE), Utc::now().to_rfc3339());
    Ok(out)
}

/// When the last backup of the node in `dir` was made, if one was.
pub fn last_backup(dir: &Path) -> Option<DateTime<Utc>> {
    let text = std::fs::read_to_string(dir.join(LAST_BACKUP_FILE)).ok()?;
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Decrypts a backup; returns its files by name.
fn open(bytes: &[u8], passphrase: &str) -> Result<Vec<(String, Vec<u8>)>, BackupError> {
    let decryptor = age::Decryptor::new(bytes).map_err(|_| BackupError::WrongPassphraseOrFile)?;
    let identity = age::scrypt::Identity::new(SecretString::from(passphrase.to_owned()));
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|_| BackupError::WrongPassphraseOrFile)?;
    let mut plain = Vec::new();
    reader
        .read_to_end(&mut plain)
        .map_err(|_| BackupError::WrongPassphraseOrFile)?;
    let mut archive = tar::Archive::new(plain.as_slice());
    let mut files = Vec::new();
    for entry in archive
        .entries()
        .map_err(|e| BackupError::Damaged(e.to_string()))?
    {
        let mut entry = entry.map_err(|e| BackupError::Damaged(e.to_string()))?;
        let name = entry
            .path()
            .map_err(|e| BackupError::Damaged(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        let known = name == MANIFEST
            || name == CONFIG_FILE
            || name == STORE_FILE
            || SECRETS.contains(&name.as_str());
        if !known {
            return Err(BackupError::Damaged(format!("unexpected file {name:?}")));
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| BackupError::Damaged(e.to_string()))?;
        files.push((name, bytes));
    }
    Ok(files)
}

/// Reads a backup's manifest (checks the passphrase).
pub fn inspect(bytes: &[u8], passphrase: &str) -> Result<Manifest, BackupError> {
    let files = open(bytes, passphrase)?;
    let manifest = files
        .iter()
        .find(|(n, _)| n == MANIFEST)
        .ok_or_else(|| BackupError::Damaged("no manifest".into()))?;
    serde_json::from_slice(&manifest.1).map_err(|e| BackupError::Damaged(e.to_string()))
}

/// Restores a backup into the empty directory `dir` and re-signs the node's publication with
/// its counters moved to the time of the restore (so it carries on without being refused as
/// a rollback). Returns the manifest and the new snapshot's seq.
pub fn restore(bytes: &[u8], passphrase: &str, dir: &Path) -> Result<(Manifest, u64), BackupError> {
    if dir.join(CONFIG_FILE).exists() || dir.join(STORE_DIR).exists() {
        return Err(BackupError::Exists(dir.to_owned()));
    }
    let files = open(bytes, passphrase)?;
    let get = |name: &str| files.iter().find(|(n, _)| n == name).map(|(_, b)| b);
    let manifest: Manifest = serde_json::from_slice(
        get(MANIFEST).ok_or_else(|| BackupError::Damaged("no manifest".into()))?,
    )
    .map_err(|e| BackupError::Damaged(e.to_string()))?;
    std::fs::create_dir_all(dir).map_err(io)?;
    for name in SECRETS {
        if let Some(bytes) = get(name) {
            keyfile::write_secret(&dir.join(name), bytes).map_err(io)?;
        }
    }
    let config = get(CONFIG_FILE).ok_or_else(|| BackupError::Damaged("no node.toml".into()))?;
    std::fs::write(dir.join(CONFIG_FILE), config).map_err(io)?;
    let store = Store::open(&dir.join(STORE_DIR))?;
    let mut batch = WriteBatch::new();
    for line in get(STORE_FILE)
        .ok_or_else(|| BackupError::Damaged("no store".into()))?
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
    {
        let e: Entry =
            serde_json::from_slice(line).map_err(|e| BackupError::Damaged(e.to_string()))?;
        if e.k == "store/format" {
            continue; // the new store records its own
        }
        let v = base64::engine::general_purpose::STANDARD
            .decode(e.v)
            .map_err(|e| BackupError::Damaged(e.to_string()))?;
        batch.put_raw(&e.k, &v);
    }
    store.commit(batch)?;
    let config = NodeConfig::load(dir).map_err(io)?;
    let publisher = Publisher::open_configured(dir, store, &config)?;
    let seq = publisher.resume_after_restore(Utc::now())?;
    Ok((manifest, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_restores_elsewhere_and_the_counters_move_past_the_old_ones() {
        let from = tempfile::tempdir().unwrap();
        crate::init(from.path(), "Backup Test", "http://127.0.0.1").unwrap();
        let bytes;
        let old_seq;
        {
            let config = NodeConfig::load(from.path()).unwrap();
            let store = Store::open(&from.path().join(STORE_DIR)).unwrap();
            let p = Publisher::open(from.path(), store, config.publishing.lifetime(), 100).unwrap();
            p.create(signpost_protocol::sample::group(1, 1, Utc::now()))
                .unwrap();
            bytes = create(from.path(), &p, "a long enough passphrase").unwrap();
            old_seq = p.published().seq;
            assert!(last_backup(from.path()).is_some());
        }
        assert!(matches!(
            inspect(&bytes, "the wrong passphrase"),
            Err(BackupError::WrongPassphraseOrFile)
        ));
        let to = tempfile::tempdir().unwrap();
        let target = to.path().join("node");
        let (manifest, seq) = restore(&bytes, "a long enough passphrase", &target).unwrap();
        assert_eq!(manifest.seq, old_seq);
        assert!(
            seq > 1_000_000_000_000,
            "seq moves to the time of the restore: {seq}"
        );
        keyfile::check_private(&target.join(SIGNING_KEY_FILE)).unwrap();
        // Restoring over a node is refused.
        assert!(matches!(
            restore(&bytes, "a long enough passphrase", &target),
            Err(BackupError::Exists(_))
        ));
    }
}
