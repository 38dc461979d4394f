//! The data behind the scripts' `store`: a key-value namespace per script plus a shared
//! one, on SQLite in the data folder (the default) or on a Redis server shared by
//! several mahua processes.

pub mod config;
pub mod legacy;
pub mod lines;
pub mod number;
pub mod redis;
pub mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub use config::{Backend, StoreConfig, Synchronous};
pub use number::Number;

/// The namespace every script reaches as `store.shared`.
pub const SHARED: &str = "";

/// How many times `update` reads again when another writer changed the key meanwhile.
pub const UPDATE_TRIES: usize = 64;

/// How long a written key lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// Until it is deleted: any earlier expiry is cleared.
    Forever,
    /// As long as the key was going to live anyway.
    Keep,
    /// This long from now.
    For(Duration),
}

/// One stored key, as `mahua store dump` writes it and `mahua store load` reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The script's name without `.lua`, or `""` for the shared namespace.
    pub ns: String,
    /// The key.
    pub key: String,
    /// The value.
    pub value: serde_json::Value,
    /// When the key expires, in milliseconds since 1970; absent for never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<i64>,
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The SQLite database refused the call (corrupt, locked, unwritable, …).
    #[error("{path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The Redis server refused the call or could not be reached.
    #[error("redis at {server}: {source}")]
    Redis {
        /// The server, without credentials.
        server: String,
        /// What the client said.
        source: ::redis::RedisError,
    },
    /// The Redis server did not answer in time.
    #[error("redis at {server}: no answer within {timeout:?}")]
    Timeout {
        /// The server, without credentials.
        server: String,
        /// How long mahua waited.
        timeout: Duration,
    },
    /// A file next to the store could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A stored value is not valid JSON (written by something other than mahua).
    #[error("{path}: {reason}")]
    Corrupt {
        /// Where the value was.
        path: String,
        /// What the parser said.
        reason: String,
    },
    /// `incr` on a key whose value is not a number.
    #[error("{key:?} holds {found}, not a number")]
    NotANumber {
        /// The key.
        key: String,
        /// The value found there.
        found: String,
    },
    /// `update` on a key that other writers kept changing.
    #[error("{key:?} changed under every one of {UPDATE_TRIES} tries; try again later")]
    Contended {
        /// The key.
        key: String,
    },
}

/// One connection to the store, owned by one script (or one command).
///
/// Values cross it as JSON text; every call is atomic on its own.
pub trait Conn {
    /// The value of `key`, unless it is missing or expired.
    fn get(&mut self, ns: &str, key: &str) -> Result<Option<String>, StoreError>;
    /// Write `value` to `key`.
    fn set(&mut self, ns: &str, key: &str, value: &str, ttl: Ttl) -> Result<(), StoreError>;
    /// Remove `key`; whether it had a value.
    fn delete(&mut self, ns: &str, key: &str) -> Result<bool, StoreError>;
    /// Add `by` to the number at `key` (missing counts as 0), keeping its expiry.
    fn incr(&mut self, ns: &str, key: &str, by: Number) -> Result<Number, StoreError>;
    /// Write `new` (or remove the key for `None`) only if `key` still holds `old`
    /// (`None`: missing); whether it did.
    fn swap(
        &mut self,
        ns: &str,
        key: &str,
        old: Option<&str>,
        new: Option<&str>,
        ttl: Ttl,
    ) -> Result<bool, StoreError>;
    /// Up to `limit` keys starting with `prefix` and sorting after `after`, in order, with
    /// their values when `values` is set.
    fn range(
        &mut self,
        ns: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
        values: bool,
    ) -> Result<Vec<(String, Option<String>)>, StoreError>;
    /// Every namespace that holds a key.
    fn namespaces(&mut self) -> Result<Vec<String>, StoreError>;
    /// Up to `limit` entries of `ns` sorting after `after`, with their expiry.
    fn export(
        &mut self,
        ns: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError>;
    /// Write every entry, all or none where the backend allows.
    fn import(&mut self, entries: &[Entry]) -> Result<(), StoreError>;
}

/// An opened store, shared by every script of the process.
pub enum Store {
    /// SQLite in one file.
    Sqlite(sqlite::Db),
    /// A Redis server.
    Redis(redis::Db),
}

impl Store {
    /// The store that `cfg` asks for; SQLite's file defaults to `data_dir/store.sqlite3`.
    pub fn open(cfg: &StoreConfig, data_dir: &std::path::Path) -> Result<Arc<Self>, StoreError> {
        Ok(Arc::new(match cfg.backend {
            Backend::Sqlite => Self::Sqlite(sqlite::Db::new(cfg.sqlite_file(data_dir), cfg)),
            Backend::Redis => Self::Redis(redis::Db::new(cfg)?),
        }))
    }

    /// A new connection for one script or command.
    pub fn connect(&self) -> Result<Box<dyn Conn>, StoreError> {
        match self {
            Self::Sqlite(db) => Ok(Box::new(db.connect()?)),
            Self::Redis(db) => Ok(Box::new(db.connect())),
        }
    }

    /// Where the data lives, for logs and messages.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(db) => format!("SQLite at {}", db.path().display()),
            Self::Redis(db) => db.describe(),
        }
    }
}

/// Milliseconds since 1970, now.
#[must_use]
pub fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// The expiry, in milliseconds since 1970, of a key written now for `d`.
#[must_use]
pub fn expiry(d: Duration) -> i64 {
    now_ms().saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}
