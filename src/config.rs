//! `mahua.toml` and its `MAHUA_*` environment overrides, validated with clear errors.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::store::StoreConfig;

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

/// The `[onebot]` section: how to reach a OneBot v11 server instead of mirai-api-http.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneBotConfig {
    /// Forward WebSocket: the server's address, `ws://host:port`.
    #[serde(default)]
    pub url: Option<String>,
    /// Reverse WebSocket: where mahua listens for the server, `127.0.0.1:8081`.
    #[serde(default)]
    pub listen: Option<String>,
    /// The access token set in the server.
    #[serde(default)]
    pub access_token: Option<Secret>,
    /// How long a call waits for its answer, in milliseconds.
    #[serde(default = "default_call_timeout")]
    pub call_timeout_ms: u64,
}

/// Which server the configuration connects to.
#[derive(Debug, Clone, Copy)]
pub enum Connection<'a> {
    /// A mirai-api-http server (`[mirai]`).
    Mirai(&'a MiraiConfig),
    /// A OneBot v11 server (`[onebot]`).
    OneBot(&'a OneBotConfig),
}

impl OneBotConfig {
    /// How to reach the server, as the connector takes it.
    pub fn options(
        &self,
        path: &Path,
    ) -> Result<crate::adapter::onebot::OneBotOptions, ConfigError> {
        use crate::adapter::onebot::{Mode, OneBotOptions};
        let invalid = |message: String| ConfigError::Invalid { path: path.to_owned(), message };
        let given = |v: &Option<String>| {
            v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
        };
        let mode = match (given(&self.url), given(&self.listen)) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "[onebot] has both `url` (mahua connects to the server) and `listen` (the server connects to mahua): keep one".into(),
                ))
            }
            (None, None) => {
                return Err(invalid(
                    "[onebot] needs `url = \"ws://host:port\"` (mahua connects to the server's WebSocket server) or `listen = \"127.0.0.1:8081\"` (the server's reverse WebSocket connects to mahua); or set MAHUA_ONEBOT_URL or MAHUA_ONEBOT_LISTEN".into(),
                ))
            }
            (Some(url), None) => {
                crate::adapter::onebot::link::endpoint(&url)
                    .map_err(|e| invalid(format!("`url` in [onebot]: {e}")))?;
                Mode::Forward { url }
            }
            (None, Some(listen)) => Mode::Reverse {
                listen: listen.parse().map_err(|_| {
                    invalid(format!(
                        "`listen` in [onebot] must be an address and port like \"127.0.0.1:8081\", not {listen:?}"
                    ))
                })?,
            },
        };
        let mut o = OneBotOptions::new(mode, self.access_token.clone());
        o.call_timeout = Duration::from_millis(self.call_timeout_ms);
        Ok(o)
    }
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
    #[serde(default = "default_script_queue")]
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

/// The `[send]` section: how fast the bot may speak.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendConfig {
    /// Messages per second over all conversations; 0 for no limit.
    #[serde(default = "default_rate")]
    pub rate: f64,
    /// Messages that may go at once before `rate` applies.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// Messages per second into one friend chat or group; 0 for no limit.
    #[serde(default = "default_per_chat_rate")]
    pub per_chat_rate: f64,
    /// Messages that may go into one conversation at once.
    #[serde(default = "default_per_chat_burst")]
    pub per_chat_burst: u32,
    /// Up to this many milliseconds of random delay before each message.
    #[serde(default)]
    pub jitter_ms: u64,
    /// How many messages may wait for their turn; more are refused.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// How long a message may wait for its turn before the send fails, in milliseconds.
    #[serde(default = "default_wait")]
    pub wait_ms: u64,
    /// How often a send that failed for a passing reason is tried again.
    #[serde(default = "default_retries")]
    pub retries: u32,
}

/// The `[admin]` section: the status endpoint and the error digest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Where `/metrics` and `/status` are served, e.g. `127.0.0.1:9180`; off when absent.
    #[serde(default)]
    pub listen: Option<String>,
    /// The bearer token requests must carry; needed to listen beyond loopback.
    #[serde(default)]
    pub token: Option<Secret>,
    /// The QQ number (a friend of the bot) that gets a digest of errors.
    #[serde(default)]
    pub owner: Option<i64>,
    /// At most one digest per this many milliseconds.
    #[serde(default = "default_digest_interval")]
    pub digest_interval_ms: u64,
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How to reach a mirai-api-http server.
    pub mirai: MiraiConfig,
    /// How to reach a OneBot v11 server, instead of `mirai`.
    #[serde(default)]
    pub onebot: Option<OneBotConfig>,
    /// Where the scripts are.
    #[serde(default)]
    pub scripts: ScriptsConfig,
    /// What one script may use.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// How fast the bot may speak.
    #[serde(default)]
    pub send: SendConfig,
    /// The status endpoint and the error digest.
    #[serde(default)]
    pub admin: AdminConfig,
    /// Where the scripts' `store` keeps its data.
    #[serde(default)]
    pub store: StoreConfig,
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
fn default_script_queue() -> usize {
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
fn default_rate() -> f64 {
    1.0
}
fn default_burst() -> u32 {
    5
}
fn default_per_chat_rate() -> f64 {
    0.5
}
fn default_per_chat_burst() -> u32 {
    3
}
fn default_queue() -> usize {
    200
}
fn default_wait() -> u64 {
    30_000
}
fn default_retries() -> u32 {
    2
}
fn default_digest_interval() -> u64 {
    60_000
}

impl Default for SendConfig {
    fn default() -> Self {
        Self {
            rate: default_rate(),
            burst: default_burst(),
            per_chat_rate: default_per_chat_rate(),
            per_chat_burst: default_per_chat_burst(),
            jitter_ms: 0,
            queue: default_queue(),
            wait_ms: default_wait(),
            retries: default_retries(),
        }
    }
}

impl SendConfig {
    /// The send queue's options.
    #[must_use]
    pub fn options(&self) -> crate::adapter::sendq::SendOptions {
        crate::adapter::sendq::SendOptions {
            rate: self.rate,
            burst: self.burst,
            per_chat_rate: self.per_chat_rate,
            per_chat_burst: self.per_chat_burst,
            jitter: Duration::from_millis(self.jitter_ms),
            capacity: self.queue,
            max_wait: Duration::from_millis(self.wait_ms),
            retries: self.retries,
        }
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: None,
            token: None,
            owner: None,
            digest_interval_ms: default_digest_interval(),
        }
    }
}

impl AdminConfig {
    /// The token, unless it is empty.
    #[must_use]
    pub fn token(&self) -> Option<&Secret> {
        self.token.as_ref().filter(|t| !t.expose().is_empty())
    }

    /// The address to serve on, if any.
    pub fn listen_addr(&self, path: &Path) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        let Some(listen) = self.listen.as_deref().map(str::trim).filter(|l| !l.is_empty()) else {
            return Ok(None);
        };
        listen.parse().map(Some).map_err(|_| ConfigError::Invalid {
            path: path.to_owned(),
            message: format!(
                "`listen` in [admin] must be an address and port like \"127.0.0.1:9180\", not {listen:?}"
            ),
        })
    }
}

impl Default for ScriptsConfig {
    fn default() -> Self {
        Self {
            dir: default_scripts_dir(),
            hot_reload: true,
            debounce_ms: default_debounce(),
            queue: default_script_queue(),
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
    Float,
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
    ("MAHUA_ONEBOT_URL", "onebot", "url", Kind::Str),
    ("MAHUA_ONEBOT_LISTEN", "onebot", "listen", Kind::Str),
    ("MAHUA_ONEBOT_ACCESS_TOKEN", "onebot", "access_token", Kind::Str),
    ("MAHUA_SCRIPTS_DIR", "scripts", "dir", Kind::Str),
    ("MAHUA_HOT_RELOAD", "scripts", "hot_reload", Kind::Bool),
    ("MAHUA_DATA_DIR", "scripts", "data_dir", Kind::Str),
    ("MAHUA_SCRIPT_QUEUE", "scripts", "queue", Kind::Int),
    ("MAHUA_MEMORY_MB", "limits", "memory_mb", Kind::Int),
    ("MAHUA_RUN_TIME_MS", "limits", "run_time_ms", Kind::Int),
    ("MAHUA_SEND_RATE", "send", "rate", Kind::Float),
    ("MAHUA_SEND_BURST", "send", "burst", Kind::Int),
    ("MAHUA_SEND_PER_CHAT_RATE", "send", "per_chat_rate", Kind::Float),
    ("MAHUA_SEND_PER_CHAT_BURST", "send", "per_chat_burst", Kind::Int),
    ("MAHUA_SEND_JITTER_MS", "send", "jitter_ms", Kind::Int),
    ("MAHUA_SEND_QUEUE", "send", "queue", Kind::Int),
    ("MAHUA_SEND_WAIT_MS", "send", "wait_ms", Kind::Int),
    ("MAHUA_SEND_RETRIES", "send", "retries", Kind::Int),
    ("MAHUA_ADMIN_LISTEN", "admin", "listen", Kind::Str),
    ("MAHUA_ADMIN_TOKEN", "admin", "token", Kind::Str),
    ("MAHUA_ADMIN_OWNER", "admin", "owner", Kind::Int),
    ("MAHUA_STORE_BACKEND", "store", "backend", Kind::Str),
    ("MAHUA_STORE_URL", "store", "url", Kind::Str),
    ("MAHUA_STORE_PREFIX", "store", "prefix", Kind::Str),
    ("MAHUA_STORE_FILE", "store", "file", Kind::Str),
];

/// Put the `MAHUA_*` overrides of `only` (every section when empty) into `doc`.
fn apply_env(
    doc: &mut toml::Table,
    path: &Path,
    env: impl Fn(&str) -> Option<String>,
    only: &str,
) -> Result<(), ConfigError> {
    for &(var, section, key, kind) in OVERRIDES {
        if !only.is_empty() && section != only {
            continue;
        }
        let Some(raw) = env(var) else { continue };
        let value = match kind {
            Kind::Str => toml::Value::String(raw),
            Kind::Int => raw
                .trim()
                .parse()
                .map(toml::Value::Integer)
                .map_err(|_| ConfigError::Env { var, value: raw, expected: "an integer" })?,
            Kind::Float => raw
                .trim()
                .parse()
                .map(toml::Value::Float)
                .map_err(|_| ConfigError::Env { var, value: raw, expected: "a number" })?,
            Kind::Bool => raw
                .trim()
                .parse()
                .map(toml::Value::Boolean)
                .map_err(|_| ConfigError::Env { var, value: raw, expected: "true or false" })?,
        };
        let table = doc.entry(section).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(table) = table else {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                message: format!("`{section}` must be a table"),
            });
        };
        table.insert(key.to_owned(), value);
    }
    Ok(())
}

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

    /// Only the sections `names` of `path` (which may be missing), with their overrides.
    fn load_sections(path: &Path, names: &[&str]) -> Result<toml::Table, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(ConfigError::Read { path: path.to_owned(), source }),
        };
        let mut doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            ConfigError::Invalid { path: path.to_owned(), message: e.to_string() }
        })?;
        doc.retain(|k, _| names.contains(&k));
        for name in names {
            apply_env(&mut doc, path, |var| std::env::var(var).ok(), name)?;
        }
        Ok(doc)
    }

    /// Take the section `name` out of `doc`, or its default.
    fn section<T: Default + serde::de::DeserializeOwned>(
        doc: &mut toml::Table,
        name: &str,
        path: &Path,
    ) -> Result<T, ConfigError> {
        match doc.remove(name) {
            Some(v) => v.try_into().map_err(|e: toml::de::Error| ConfigError::Invalid {
                path: path.to_owned(),
                message: e.to_string(),
            }),
            None => Ok(T::default()),
        }
    }

    /// Only the `[admin]` section of `path` (which may be missing), with its overrides: what
    /// `mahua status` needs, without the server's keys.
    pub fn load_admin(path: &Path) -> Result<AdminConfig, ConfigError> {
        let mut doc = Self::load_sections(path, &["admin"])?;
        Self::section(&mut doc, "admin", path)
    }

    /// Only `[store]` and `[scripts]` of `path` (which may be missing), with their
    /// overrides: what `mahua store` needs, without the server's keys.
    pub fn load_store(path: &Path) -> Result<(StoreConfig, ScriptsConfig), ConfigError> {
        let mut doc = Self::load_sections(path, &["store", "scripts"])?;
        let store: StoreConfig = Self::section(&mut doc, "store", path)?;
        let scripts = Self::section(&mut doc, "scripts", path)?;
        if let Some(message) = store.problem() {
            return Err(ConfigError::Invalid { path: path.to_owned(), message });
        }
        Ok((store, scripts))
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
        let had_mirai = doc.contains_key("mirai");
        let had_onebot = doc.contains_key("onebot");
        apply_env(&mut doc, path, env, "")?;
        if doc.contains_key("onebot") {
            if had_mirai {
                let onebot = if had_onebot {
                    "[onebot]"
                } else {
                    "[onebot] (through a MAHUA_ONEBOT_* environment variable)"
                };
                return Err(invalid(format!(
                    "both [mirai] and {onebot} are set: one mahua connects to one server, so keep the table of the server the bot runs on"
                )));
            }
            // Overrides meant for a mirai-api-http server do not apply.
            doc.remove("mirai");
        }
        doc.entry("mirai").or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let config: Config = toml::Value::Table(doc)
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
        config.validate(path)?;
        Ok(config)
    }

    /// The server this configuration connects to.
    #[must_use]
    pub fn connection(&self) -> Connection<'_> {
        match &self.onebot {
            Some(o) => Connection::OneBot(o),
            None => Connection::Mirai(&self.mirai),
        }
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        if let Some(o) = &self.onebot {
            o.options(path)?;
            if o.call_timeout_ms == 0 {
                return Err(ConfigError::Invalid {
                    path: path.to_owned(),
                    message: "`call_timeout_ms` in [onebot] must be more than 0".into(),
                });
            }
            return self.validate_rest(path);
        }
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
        if self.mirai.poll_count == 0 {
            return Err(invalid("`poll_count` in [mirai] must be more than 0".into()));
        }
        if self.mirai.poll_interval_ms == 0 {
            return Err(invalid("`poll_interval_ms` in [mirai] must be more than 0".into()));
        }
        self.validate_rest(path)
    }

    /// The sections that do not depend on the server.
    fn validate_rest(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.to_owned(), message };
        if self.limits.memory_mb == 0 || self.limits.run_time_ms == 0 {
            return Err(invalid(
                "`memory_mb` and `run_time_ms` in [limits] must be more than 0".into(),
            ));
        }
        if let Some(problem) = self.store.problem() {
            return Err(invalid(problem));
        }
        if self.store.timeout_ms == 0 {
            return Err(invalid("`timeout_ms` in [store] must be more than 0".into()));
        }
        self.validate_send(path)?;
        self.validate_admin(path)
    }

    /// Open the store this configuration asks for.
    pub fn open_store(
        &self,
    ) -> Result<std::sync::Arc<crate::store::Store>, crate::store::StoreError> {
        crate::store::Store::open(&self.store, &self.scripts.data_dir)
    }

    fn validate_send(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.to_owned(), message };
        let s = &self.send;
        for (key, rate) in [("rate", s.rate), ("per_chat_rate", s.per_chat_rate)] {
            if !rate.is_finite() || rate < 0.0 {
                return Err(invalid(format!(
                    "`{key}` in [send] must be messages per second, 0 or more (0 for no limit), not {rate}"
                )));
            }
        }
        for (key, n) in [("burst", s.burst), ("per_chat_burst", s.per_chat_burst)] {
            if n == 0 {
                return Err(invalid(format!("`{key}` in [send] must be 1 or more")));
            }
        }
        if s.queue == 0 || s.wait_ms == 0 {
            return Err(invalid("`queue` and `wait_ms` in [send] must be more than 0".into()));
        }
        if s.retries > 10 {
            return Err(invalid(format!(
                "`retries` in [send] must be 10 or less, not {}",
                s.retries
            )));
        }
        Ok(())
    }

    fn validate_admin(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.to_owned(), message };
        let a = &self.admin;
        if let Some(addr) = a.listen_addr(path)? {
            if !addr.ip().is_loopback() && a.token().is_none() {
                return Err(invalid(format!(
                    "`listen` in [admin] is {addr}, which others can reach: set `token` in [admin] (or MAHUA_ADMIN_TOKEN) too, or listen on 127.0.0.1"
                )));
            }
        }
        if a.owner.is_some_and(|o| o <= 0) {
            return Err(invalid("`owner` in [admin] must be a QQ number".into()));
        }
        if a.digest_interval_ms < 1000 {
            return Err(invalid("`digest_interval_ms` in [admin] must be 1000 or more".into()));
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
    fn send_and_admin_have_careful_defaults_and_checks() {
        let base = "[mirai]\nverify_key = \"k\"\nqq = 5\n";
        let c = parse(base, &[]).unwrap();
        assert!(c.send.rate > 0.0 && c.send.per_chat_rate > 0.0);
        assert_eq!(c.admin.listen_addr(Path::new("x")).unwrap(), None);
        let c = parse(base, &[("MAHUA_SEND_RATE", "2.5")]).unwrap();
        assert!((c.send.rate - 2.5).abs() < f64::EPSILON);
        let e = parse(&format!("{base}[send]\nrate = -1\n"), &[]).unwrap_err().to_string();
        assert!(e.contains("`rate` in [send]") && e.contains("mahua.toml"), "{e}");
        let e = parse(&format!("{base}[send]\nburst = 0\n"), &[]).unwrap_err().to_string();
        assert!(e.contains("`burst`"), "{e}");
        let open = format!("{base}[admin]\nlisten = \"0.0.0.0:9180\"\n");
        let e = parse(&open, &[]).unwrap_err().to_string();
        assert!(e.contains("token") && e.contains("[admin]") && e.contains("mahua.toml"), "{e}");
        assert!(parse(&open, &[("MAHUA_ADMIN_TOKEN", "t")]).is_ok());
        let e = parse(&format!("{base}[admin]\nlisten = \"nope\"\n"), &[]).unwrap_err();
        assert!(e.to_string().contains("`listen`"), "{e}");
        let c = parse(&format!("{base}[admin]\ntoken = \"hunter3\"\n"), &[]).unwrap();
        assert!(!format!("{c:?}").contains("hunter3"));
    }

    #[test]
    fn an_onebot_table_replaces_mirai() {
        let c = parse("[onebot]\nurl = \"ws://127.0.0.1:3001\"\naccess_token = \"hunter4\"\n", &[])
            .unwrap();
        assert!(matches!(c.connection(), Connection::OneBot(_)));
        assert!(!format!("{c:?}").contains("hunter4"));
        let c = parse("", &[("MAHUA_ONEBOT_LISTEN", "127.0.0.1:8081"), ("MAHUA_QQ", "5")]).unwrap();
        let o = c.onebot.as_ref().unwrap().options(Path::new("x")).unwrap();
        assert_eq!(
            o.mode,
            crate::adapter::onebot::Mode::Reverse { listen: "127.0.0.1:8081".parse().unwrap() }
        );
        let both = "[mirai]\nverify_key = \"k\"\nqq = 5\n[onebot]\nurl = \"ws://h:1\"\n";
        let e = parse(both, &[]).unwrap_err().to_string();
        assert!(e.contains("[mirai]") && e.contains("[onebot]") && e.contains("mahua.toml"), "{e}");
        let e = parse("[mirai]\nqq = 1\n", &[("MAHUA_ONEBOT_URL", "ws://h:1")]).unwrap_err();
        assert!(e.to_string().contains("MAHUA_ONEBOT_"), "{e}");
        let e = parse("[onebot]\n", &[]).unwrap_err().to_string();
        assert!(
            e.contains("`url =") && e.contains("`listen =") && e.contains("MAHUA_ONEBOT_URL"),
            "{e}"
        );
        let e = parse("[onebot]\nurl = \"ws://h:1\"\nlisten = \"127.0.0.1:1\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("both `url`"), "{e}");
        let e = parse("[onebot]\nlisten = \"nowhere\"\n", &[]).unwrap_err().to_string();
        assert!(e.contains("`listen` in [onebot]") && e.contains("nowhere"), "{e}");
        let e = parse("[onebot]\nurl = \"ftp://h\"\n", &[]).unwrap_err().to_string();
        assert!(e.contains("`url` in [onebot]"), "{e}");
        let e = parse("[onebot]\nurl = \"ws://h:1\"\ntoken = 1\n", &[]).unwrap_err().to_string();
        assert!(e.contains("token"), "{e}");
    }

    #[test]
    fn the_verify_key_is_not_printed() {
        let c = parse("[mirai]\nverify_key = \"hunter2\"\nqq = 5\n", &[]).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
