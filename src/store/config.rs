//! The `[store]` section of `mahua.toml`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::config::Secret;

/// Where the data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// One SQLite file in the data folder.
    #[default]
    Sqlite,
    /// A Redis server, shared by several mahua processes.
    Redis,
}

/// How hard SQLite makes each write reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// A returned write survives the process being killed; a power cut may lose the latest.
    #[default]
    Normal,
    /// A returned write survives a power cut too; each write waits for the disk.
    Full,
}

/// The `[store]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `"sqlite"` (the default) or `"redis"`.
    #[serde(default)]
    pub backend: Backend,
    /// The Redis server, `redis://host:port/db` or `redis+unix:///path/to/socket`.
    #[serde(default)]
    pub url: Option<Secret>,
    /// What every Redis key of mahua's starts with.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// The SQLite file; `store.sqlite3` in the data folder when absent.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// SQLite's durability: `"normal"` or `"full"`.
    #[serde(default)]
    pub synchronous: Synchronous,
    /// How long a call waits for a locked database or for Redis's answer, in milliseconds.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

fn default_prefix() -> String {
    "mahua:".to_owned()
}

fn default_timeout() -> u64 {
    5000
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            backend: Backend::default(),
            url: None,
            prefix: default_prefix(),
            file: None,
            synchronous: Synchronous::default(),
            timeout_ms: default_timeout(),
        }
    }
}

impl StoreConfig {
    /// The SQLite file for the data folder `data_dir`.
    #[must_use]
    pub fn sqlite_file(&self, data_dir: &Path) -> PathBuf {
        self.file.clone().unwrap_or_else(|| data_dir.join("store.sqlite3"))
    }

    /// How long a call may wait.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// What is wrong with the section, naming the key.
    pub fn problem(&self) -> Option<String> {
        let url = self.url.as_ref().map(|u| u.expose().trim()).filter(|u| !u.is_empty());
        match (self.backend, url) {
            (Backend::Redis, None) => Some(
                "[store] backend = \"redis\" needs `url = \"redis://host:port\"` (or set MAHUA_STORE_URL)"
                    .into(),
            ),
            (Backend::Redis, Some(u)) => ::redis::Client::open(u).err().map(|e| {
                format!("`url` in [store] is not a Redis address ({e}); write redis://host:port or redis+unix:///path")
            }),
            (Backend::Sqlite, Some(_)) => Some(
                "`url` in [store] is for backend = \"redis\"; the default backend is SQLite in the data folder"
                    .into(),
            ),
            (Backend::Sqlite, None) => None,
        }
    }
}
