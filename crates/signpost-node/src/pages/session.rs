//! Signing in to the node's pages: the admin token, a passphrase the charity sets (argon2id),
//! or a one-time link printed by `signpost node init`; then a session cookie (HttpOnly,
//! SameSite=Strict, Secure under HTTPS, 12 hours), a CSRF token on every form, and failed
//! sign-ins throttled per client address.
//!
//! Sessions live in memory: a restart signs everyone out, which is the safe direction.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use signpost_store::keyfile;
use subtle::ConstantTimeEq as _;

/// The session cookie's name.
pub const COOKIE: &str = "signpost-session";
/// The sign-in form's own anti-forgery cookie (before there is a session).
pub const SIGN_IN_COOKIE: &str = "signpost-sign-in";
/// How long a session lasts.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Where the passphrase's argon2id hash is kept (0600).
pub const PASSPHRASE_FILE: &str = "passphrase.argon2";
/// Where the one-time sign-in link's hash and expiry are kept (0600).
pub const ONE_TIME_FILE: &str = "sign-in-link";
/// How long a one-time link works.
pub const ONE_TIME_LIFETIME: chrono::Duration = chrono::Duration::hours(72);
/// Shortest passphrase accepted.
pub const MIN_PASSPHRASE: usize = 12;

/// Failed sign-ins allowed from one address before it must wait.
const FREE_FAILURES: u32 = 5;
/// Failures are forgotten after this long without one.
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A random secret, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// One signed-in browser.
#[derive(Clone)]
pub struct Session {
    pub csrf: String,
    expires: Instant,
}

struct Failures {
    count: u32,
    last: Instant,
}

/// Sessions, throttling and the sign-in secrets of one node.
pub struct Auth {
    dir: PathBuf,
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Why a sign-in was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SignInError {
    /// Wrong passphrase or token.
    Wrong,
    /// Too many failures from this address: wait this long.
    Throttled(Duration),
}

impl Auth {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
            sessions: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a session; returns the cookie value.
    pub fn start(&self) -> (String, Session) {
        let id = random_token();
        let session = Session {
            csrf: random_token(),
            expires: Instant::now() + LIFETIME,
        };
        let mut sessions = lock(&self.sessions);
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(digest(&id), session.clone());
        (id, session)
    }

    /// The session a cookie value names, if it is current.
    pub fn session(&self, cookie: &str) -> Option<Session> {
        let sessions = lock(&self.sessions);
        sessions
            .get(&digest(cookie))
            .filter(|s| s.expires > Instant::now())
            .cloned()
    }

    pub fn end(&self, cookie: &str) {
        lock(&self.sessions).remove(&digest(cookie));
    }

    /// Ends every session (after the passphrase or token changes).
    pub fn end_all_but(&self, keep: &str) {
        let keep = digest(keep);
        lock(&self.sessions).retain(|k, _| *k == keep);
    }

    /// How long `client` must still wait before trying again, if at all.
    pub fn throttled(&self, client: IpAddr) -> Option<Duration> {
        let failures = lock(&self.failures);
        let f = failures.get(&client)?;
        if f.count < FREE_FAILURES {
            return None;
        }
        // 1, 2, 4, ... minutes after the fifth failure, at most an hour.
        let wait = Duration::from_secs(60) * 2u32.saturating_pow((f.count - FREE_FAILURES).min(6));
        let wait = wait.min(Duration::from_secs(3600));
        let since = f.last.elapsed();
        (since < wait).then(|| wait - since)
    }

    fn failed(&self, client: IpAddr) {
        let mut failures = lock(&self.failures);
        let now = Instant::now();
        failures.retain(|_, f| {
            now.duration_since(f.last) < FAILURE_WINDOW.max(Duration::from_secs(3600))
        });
        let f = failures.entry(client).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.duration_since(f.last) > FAILURE_WINDOW {
            f.count = 0;
        }
        f.count += 1;
        f.last = now;
    }

    fn succeeded(&self, client: IpAddr) {
        lock(&self.failures).remove(&client);
    }

    /// Checks a passphrase or the admin token. Throttled per client address.
    pub fn sign_in(
        &self,
        client: IpAddr,
        secret: &str,
        admin_token_sha256: &[u8; 32],
    ) -> Result<(), SignInError> {
        if let Some(wait) = self.throttled(client) {
            return Err(SignInError::Throttled(wait));
        }
        let secret = secret.trim();
        let token_ok = bool::from(digest(secret).ct_eq(admin_token_sha256));
        if token_ok || (!secret.is_empty() && self.passphrase_matches(secret)) {
            self.succeeded(client);
            Ok(())
        } else {
            self.failed(client);
            Err(SignInError::Wrong)
        }
    }

    /// Uses a one-time sign-in link: valid once, before it expires.
    pub fn use_one_time(&self, client: IpAddr, token: &str) -> Result<(), SignInError> {
        if let Some(wait) = self.throttled(client) {
            return Err(SignInError::Throttled(wait));
        }
        let path = self.dir.join(ONE_TIME_FILE);
        let held = std::fs::read_to_string(&path).unwrap_or_default();
        let mut parts = held.split_whitespace();
        let (Some(hash), Some(expires)) = (parts.next(), parts.next()) else {
            self.failed(client);
            return Err(SignInError::Wrong);
        };
        let matches = hex::decode(hash)
            .ok()
            .is_some_and(|h| bool::from(h.as_slice().ct_eq(&digest(token))));
        let current =
            DateTime::parse_from_rfc3339(expires).is_ok_and(|e| e.with_timezone(&Utc) > Utc::now());
        if matches && current && std::fs::remove_file(&path).is_ok() {
            self.succeeded(client);
            Ok(())
        } else {
            self.failed(client);
            Err(SignInError::Wrong)
        }
    }

    pub fn has_passphrase(&self) -> bool {
        self.dir.join(PASSPHRASE_FILE).exists()
    }

    fn passphrase_matches(&self, secret: &str) -> bool {
        let Ok(stored) = std::fs::read_to_string(self.dir.join(PASSPHRASE_FILE)) else {
            return false;
        };
        PasswordHash::new(stored.trim()).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &hash)
                .is_ok()
        })
    }

    /// Sets the passphrase (argon2id, in a 0600 file).
    pub fn set_passphrase(&self, passphrase: &str) -> Result<(), String> {
        set_passphrase(&self.dir, passphrase)
    }
}

/// Checks a new passphrase; the problem in words, or `None`.
pub fn passphrase_problem(passphrase: &str) -> Option<String> {
    let n = passphrase.chars().count();
    if n < MIN_PASSPHRASE {
        Some(format!(
            "The passphrase must be at least {MIN_PASSPHRASE} characters (it has {n}); a few \
             words you will remember works well"
        ))
    } else if n > 200 {
        Some("The passphrase must be 200 characters or fewer".into())
    } else {
        None
    }
}

/// Sets a node's passphrase (argon2id, in a 0600 file).
pub fn set_passphrase(dir: &Path, passphrase: &str) -> Result<(), String> {
    if let Some(problem) = passphrase_problem(passphrase) {
        return Err(problem);
    }
    let salt = SaltString::generate(&mut rand_core::OsRng);
    let hash = Argon2::default()
        .hash_password(passphrase.as_bytes(), &salt)
        .map_err(|_| "the passphrase could not be stored".to_owned())?;
    let path = dir.join(PASSPHRASE_FILE);
    let fresh = dir.join(format!("{PASSPHRASE_FILE}.new"));
    let _ = std::fs::remove_file(&fresh);
    keyfile::write_secret(&fresh, format!("{hash}\n").as_bytes()).map_err(|e| e.to_string())?;
    std::fs::rename(&fresh, &path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Makes a new one-time sign-in link token (valid 72 hours), replacing any earlier one.
pub fn new_one_time_link(dir: &Path) -> Result<String, String> {
    let token = random_token();
    let expires = Utc::now() + ONE_TIME_LIFETIME;
    let path = dir.join(ONE_TIME_FILE);
    let _ = std::fs::remove_file(&path);
    keyfile::write_secret(
        &path,
        format!("{} {}\n", hex::encode(digest(&token)), expires.to_rfc3339()).as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    Ok(token)
}

/// Constant-time comparison of two CSRF tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip() -> IpAddr {
        IpAddr::from([192, 0, 2, 7])
    }

    #[test]
    fn passphrase_and_token_sign_in_and_failures_are_throttled() {
        let dir = tempfile::tempdir().unwrap();
        let auth = Auth::new(dir.path());
        let token = "secret-token";
        let hash = digest(token);
        assert_eq!(auth.sign_in(ip(), token, &hash), Ok(()));
        assert!(set_passphrase(dir.path(), "short").is_err());
        set_passphrase(dir.path(), "correct horse battery").unwrap();
        assert_eq!(auth.sign_in(ip(), "correct horse battery", &hash), Ok(()));
        for _ in 0..FREE_FAILURES {
            assert_eq!(auth.sign_in(ip(), "wrong", &hash), Err(SignInError::Wrong));
        }
        // Now even the right passphrase waits.
        assert!(matches!(
            auth.sign_in(ip(), "correct horse battery", &hash),
            Err(SignInError::Throttled(_))
        ));
        // Another address is not affected.
        assert_eq!(
            auth.sign_in(IpAddr::from([192, 0, 2, 8]), token, &hash),
            Ok(())
        );
    }

    #[test]
    fn a_one_time_link_works_once() {
        let dir = tempfile::tempdir().unwrap();
        let auth = Auth::new(dir.path());
        let token = new_one_time_link(dir.path()).unwrap();
        assert_eq!(auth.use_one_time(ip(), "nope"), Err(SignInError::Wrong));
        assert_eq!(auth.use_one_time(ip(), &token), Ok(()));
        assert_eq!(auth.use_one_time(ip(), &token), Err(SignInError::Wrong));
    }

    #[test]
    fn sessions_are_found_by_cookie_and_end() {
        let dir = tempfile::tempdir().unwrap();
        let auth = Auth::new(dir.path());
        let (cookie, session) = auth.start();
        assert_eq!(auth.session(&cookie).map(|s| s.csrf), Some(session.csrf));
        auth.end(&cookie);
        assert!(auth.session(&cookie).is_none());
    }
}
