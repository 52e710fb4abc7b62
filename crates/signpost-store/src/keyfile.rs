//! Secret files: Ed25519 keys (PKCS#8 PEM) and tokens, created with mode 0600.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use signpost_protocol::keys::{self, KeyError};

/// Why a secret file could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    #[error("{path}: already exists; refusing to overwrite a secret")]
    Exists { path: PathBuf },
    /// Each error's words are in its message (no `source`: a chain printed in full would say
    /// them twice).
    #[error("{path}: {}", io_words(error))]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {error}")]
    Format { path: PathBuf, error: KeyError },
    #[error("{path}: readable by other users (mode {mode:o}); run `chmod 600 {path}`")]
    Permissions { path: PathBuf, mode: u32 },
}

/// An I/O error in words: the common ones said plainly, others as the system says them.
fn io_words(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "no such file, or its folder does not exist".into(),
        K::PermissionDenied => "permission denied (check who owns it and its mode)".into(),
        K::IsADirectory => "is a folder, not a file".into(),
        K::InvalidData => "is not text (UTF-8)".into(),
        _ => e.to_string(),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |error| KeyFileError::Io {
        path: path.to_owned(),
        error,
    }
}

/// Writes `contents` to a new file readable only by its owner. Refuses to overwrite.
pub fn write_secret(path: &Path, contents: &[u8]) -> Result<(), KeyFileError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyFileError::Exists {
                path: path.to_owned(),
            }
        } else {
            KeyFileError::Io {
                path: path.to_owned(),
                error: source,
            }
        }
    })?;
    file.write_all(contents).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

/// Refuses a secret file that group or others can read or write.
pub fn check_private(path: &Path) -> Result<(), KeyFileError> {
    let meta = fs::metadata(path).map_err(io(path))?;
    if meta.is_dir() {
        // Not a secret's mode to change: the path names the wrong thing.
        return Err(io(path)(std::io::ErrorKind::IsADirectory.into()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::Permissions {
                path: path.to_owned(),
                mode,
            });
        }
    }
    Ok(())
}

/// Reads a secret file after checking its permissions.
pub fn read_secret(path: &Path) -> Result<String, KeyFileError> {
    check_private(path)?;
    fs::read_to_string(path).map_err(io(path))
}

/// Writes a key as PKCS#8 PEM, mode 0600.
pub fn write_key(path: &Path, key: &SigningKey) -> Result<(), KeyFileError> {
    let pem = keys::to_pem(key).map_err(|error| KeyFileError::Format {
        path: path.to_owned(),
        error,
    })?;
    write_secret(path, pem.as_bytes())
}

/// Reads a PKCS#8 PEM Ed25519 key, refusing one that others can read.
pub fn read_key(path: &Path) -> Result<SigningKey, KeyFileError> {
    let text = read_secret(path)?;
    keys::from_pem(&text).map_err(|error| KeyFileError::Format {
        path: path.to_owned(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_private_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        let key = keys::generate();
        write_key(&path, &key).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_eq!(read_key(&path).unwrap().to_bytes(), key.to_bytes());
        assert!(matches!(
            write_key(&path, &key),
            Err(KeyFileError::Exists { .. })
        ));
    }

    #[test]
    fn clear_errors_for_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert!(matches!(read_key(&missing), Err(KeyFileError::Io { .. })));
        // Each said once, in words, and a folder is not told to change its mode.
        assert_eq!(
            read_key(&missing).unwrap_err().to_string(),
            format!(
                "{}: no such file, or its folder does not exist",
                missing.display()
            )
        );
        assert_eq!(
            read_key(dir.path()).unwrap_err().to_string(),
            format!("{}: is a folder, not a file", dir.path().display())
        );
        let garbage = dir.path().join("garbage.pem");
        write_secret(&garbage, b"not a key").unwrap();
        let err = read_key(&garbage).unwrap_err();
        assert!(matches!(err, KeyFileError::Format { .. }));
        assert!(
            err.to_string()
                .ends_with("it has no \"-----BEGIN PRIVATE KEY-----\" line"),
            "{err}"
        );
        assert!(std::error::Error::source(&err).is_none(), "said once");
        assert!(err.to_string().contains("garbage.pem"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&garbage, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                read_key(&garbage),
                Err(KeyFileError::Permissions { mode: 0o644, .. })
            ));
        }
    }
}
