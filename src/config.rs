//! `mahua.toml` and its `MAHUA_*` environment overrides, validated with clear errors.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a bad key or value.
    #[error("invalid config {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What was wrong, with the key and line.
        message: String,
    },
    /// An environment override has a value of the wrong type.
    #[error("invalid environment variable {var}={value:?}: expected {expected}")]
    Env {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What it should have been.
        expected: &'static str,
    },
    /// A required key is missing.
    #[error("missing `{key}` in [{section}] of {path} (or set {var})")]
    Missing {
        /// The section.
        section: &'static str,
        /// The key.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// The environment variable that can give it.
        var: &'static str,
    },
}

/// A value that must never reach a log.
#[derive(Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// A secret holding `s`.
    #[must_use]
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself, for the wire only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// Which transport talks to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AdapterKind {
    /// WebSocket.
    #[default]
    Ws,
    /// HTTP polling.
    Http,
}

/// Which dialect of mirai-api-http the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ProtocolVersion {
    /// 2.x.
    #[default]
    V2,
    /// 1.x (http adapter only).
    V1,
}

/// The `[mirai]` section: how to reach the server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MiraiConfig {
    /// Transport.
    #[serde(default)]
    pub adapter: AdapterKind,
    /// Server address: `ws://…`, `wss://…`, `http://…` or `host:port`.
    #[serde(default = "default_url")]
    pub url: String,
    /// The server's verify key.
    #[serde(default)]
    pub verify_key: Secret,
    /// The bot's QQ number.
    #[serde(default)]
    pub qq: i64,
    /// Protocol dialect.
    #[serde(default)]
    pub protocol: ProtocolVersion,
    /// Poll interval of the http adapter, in milliseconds.
    #[serde(default = "default_poll_interval")]
    pub poll_interval_ms: u64,
    /// How long a call waits for its answer, in milliseconds.
    #[serde(default = "default_call_timeout")]
    pub call_timeout_ms: u64,
    /// How many events one poll of the http adapter asks for.
    #[serde(default = "default_poll_count")]
    pub poll_count: usize,
}

/// The `[scripts]` section: where the bot's scripts live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptsConfig {
    /// The scripts folder.
    #[serde(default = "default_scripts_dir")]
    pub dir: PathBuf,
    /// Reload scripts when they change on disk.
    #[serde(default = "default_true")]
    pub hot_reload: bool,
    /// How long file changes settle before a reload, in milliseconds.
    #[serde(default = "default_debounce")]
    pub debounce_ms: u64,
    /// The folder holding each script's own data folder.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Scripts (by file name) given the whole standard library: files, processes, debug.
    #[serde(default)]
    pub trusted: Vec<String>,
    /// How many events may wait for one script; past that, new ones are dropped for it.
    #[serde(default = "default_queue")]
    pub queue: usize,
}

/// The `[limits]` section: what one script may use.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Memory per script, in MiB.
    #[serde(default = "default_memory_mb")]
    pub memory_mb: u64,
    /// How long a callback may run without yielding, in milliseconds.
    #[serde(default = "default_run_time")]
    pub run_time_ms: u64,
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How to reach the server.
    pub mirai: MiraiConfig,
    /// Where the scripts are.
    #[serde(default)]
    pub scripts: ScriptsConfig,
    /// What one script may use.
    #[serde(default)]
    pub limits: LimitsConfig,
}

fn default_url() -> String {
    "ws://127.0.0.1:8080".to_owned()
}
fn default_poll_interval() -> u64 {
    200
}
fn default_poll_count() -> usize {
    100
}
fn default_call_timeout() -> u64 {
    10_000
}
fn default_scripts_dir() -> PathBuf {
    PathBuf::from("scripts")
}
fn default_true() -> bool {
    true
}
fn default_queue() -> usize {
    crate::host::queue::DEFAULT_CAPACITY
}

fn default_debounce() -> u64 {
    50
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_memory_mb() -> u64 {
    64
}
fn default_run_time() -> u64 {
    1000
}

impl Default for ScriptsConfig {
    fn default() -> Self {
        Self {
            dir: default_scripts_dir(),
            hot_reload: true,
            debounce_ms: default_debounce(),
            queue: default_queue(),
            data_dir: default_data_dir(),
            trusted: Vec::new(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self { memory_mb: default_memory_mb(), run_time_ms: default_run_time() }
    }
}

impl Config {
    /// The host options this configuration asks for.
    #[must_use]
    pub fn host_options(&self) -> crate::host::HostOptions {
        let mut o = crate::host::HostOptions::new(&self.scripts.dir);
        o.data_dir = self.scripts.data_dir.clone();
        o.trusted = self.scripts.trusted.clone();
        o.hot_reload = self.scripts.hot_reload;
        o.debounce = Duration::from_millis(self.scripts.debounce_ms);
        o.queue_capacity = self.scripts.queue;
        o.limits.memory =
            usize::try_from(self.limits.memory_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        o.limits.run_time = Duration::from_millis(self.limits.run_time_ms);
        o
    }
}

impl MiraiConfig {
    /// How long a call waits for its answer.
    #[must_use]
    pub fn call_timeout(&self) -> Duration {
        Duration::from_millis(self.call_timeout_ms)
    }
}

/// The type an environment override must parse as.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    Bool,
}

/// Every environment override: variable, section, key, type.
const OVERRIDES: &[(&str, &str, &str, Kind)] = &[
    ("MAHUA_ADAPTER", "mirai", "adapter", Kind::Str),
    ("MAHUA_URL", "mirai", "url", Kind::Str),
    ("MAHUA_VERIFY_KEY", "mirai", "verify_key", Kind::Str),
    ("MAHUA_QQ", "mirai", "qq", Kind::Int),
    ("MAHUA_PROTOCOL", "mirai", "protocol", Kind::Str),
    ("MAHUA_POLL_INTERVAL_MS", "mirai", "poll_interval_ms", Kind::Int),
    ("MAHUA_CALL_TIMEOUT_MS", "mirai", "call_timeout_ms", Kind::Int),
    ("MAHUA_POLL_COUNT", "mirai", "poll_count", Kind::Int),
    ("MAHUA_SCRIPTS_DIR", "scripts", "dir", Kind::Str),
    ("MAHUA_HOT_RELOAD", "scripts", "hot_reload", Kind::Bool),
    ("MAHUA_DATA_DIR", "scripts", "data_dir", Kind::Str),
    ("MAHUA_SCRIPT_QUEUE", "scripts", "queue", Kind::Int),
    ("MAHUA_MEMORY_MB", "limits", "memory_mb", Kind::Int),
    ("MAHUA_RUN_TIME_MS", "limits", "run_time_ms", Kind::Int),
];

impl Config {
    /// Load `path` (which may be missing) and apply the environment.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(ConfigError::Read { path: path.to_owned(), source }),
        };
        Self::parse(&text, path, |var| std::env::var(var).ok())
    }

    /// Parse `text` (read from `path`) with overrides from `env`.
    pub fn parse(
        text: &str,
        path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.to_owned(), message };
        let mut doc: toml::Table =
            text.parse().map_err(|e: toml::de::Error| invalid(e.to_string()))?;
        for &(var, section, key, kind) in OVERRIDES {
            let Some(raw) = env(var) else { continue };
            let value =
                match kind {
                    Kind::Str => toml::Value::String(raw),
                    Kind::Int => raw.trim().parse().map(toml::Value::Integer).map_err(|_| {
                        ConfigError::Env { var, value: raw, expected: "an integer" }
                    })?,
                    Kind::Bool => raw.trim().parse().map(toml::Value::Boolean).map_err(|_| {
                        ConfigError::Env { var, value: raw, expected: "true or false" }
                    })?,
                };
            let table =
                doc.entry(section).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let toml::Value::Table(table) = table else {
                return Err(invalid(format!("`{section}` must be a table")));
            };
            table.insert(key.to_owned(), value);
        }
        doc.entry("mirai").or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let config: Config = toml::Value::Table(doc)
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let missing =
            |key, var| ConfigError::Missing { section: "mirai", key, path: path.to_owned(), var };
        if self.mirai.verify_key.expose().is_empty() {
            return Err(missing("verify_key", "MAHUA_VERIFY_KEY"));
        }
        if self.mirai.qq <= 0 {
            return Err(missing("qq", "MAHUA_QQ"));
        }
        let invalid = |message: String| ConfigError::Invalid { path: path.to_owned(), message };
        if self.mirai.call_timeout_ms == 0 {
            return Err(invalid("`call_timeout_ms` in [mirai] must be more than 0".into()));
        }
        if self.limits.memory_mb == 0 || self.limits.run_time_ms == 0 {
            return Err(invalid(
                "`memory_mb` and `run_time_ms` in [limits] must be more than 0".into(),
            ));
        }
        if self.mirai.poll_count == 0 {
            return Err(invalid("`poll_count` in [mirai] must be more than 0".into()));
        }
        if self.mirai.poll_interval_ms == 0 {
            return Err(invalid("`poll_interval_ms` in [mirai] must be more than 0".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("mahua.toml"), |v| {
            env.iter().find(|(k, _)| *k == v).map(|(_, x)| (*x).to_owned())
        })
    }

    #[test]
    fn a_minimal_file_gets_defaults() {
        let c = parse("[mirai]\nverify_key = \"k\"\nqq = 5\n", &[]).unwrap();
        assert_eq!(c.mirai.url, "ws://127.0.0.1:8080");
        assert_eq!(c.mirai.adapter, AdapterKind::Ws);
        assert_eq!(c.scripts.dir, PathBuf::from("scripts"));
        assert_eq!(c.mirai.call_timeout(), Duration::from_secs(10));
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let env = [("MAHUA_QQ", "77"), ("MAHUA_VERIFY_KEY", "env"), ("MAHUA_ADAPTER", "http")];
        let c = parse("[mirai]\nverify_key = \"k\"\nqq = 5\n", &env).unwrap();
        assert_eq!(c.mirai.qq, 77);
        assert_eq!(c.mirai.verify_key.expose(), "env");
        assert_eq!(c.mirai.adapter, AdapterKind::Http);
        let c = parse("", &env).unwrap();
        assert_eq!(c.mirai.qq, 77);
    }

    #[test]
    fn errors_name_the_key_and_the_file() {
        let e = parse("[mirai]\nverify_key = \"k\"\nqq = \"x\"\n", &[]).unwrap_err().to_string();
        assert!(e.contains("mahua.toml") && e.contains("qq"), "{e}");
        let e =
            parse("[mirai]\nverify_key = \"k\"\nqq = 1\nurll = 1\n", &[]).unwrap_err().to_string();
        assert!(e.contains("urll"), "{e}");
        let e = parse("[mirai]\nqq = 1\n", &[]).unwrap_err().to_string();
        assert!(e.contains("verify_key") && e.contains("MAHUA_VERIFY_KEY"), "{e}");
        let e = parse("", &[("MAHUA_QQ", "abc")]).unwrap_err().to_string();
        assert!(e.contains("MAHUA_QQ"), "{e}");
    }

    #[test]
    fn the_verify_key_is_not_printed() {
        let c = parse("[mirai]\nverify_key = \"hunter2\"\nqq = 5\n", &[]).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
