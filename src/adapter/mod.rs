//! Transports to the server behind one trait: WebSocket now, HTTP polling next.

pub mod http;
pub mod local;
pub mod multipart;
pub mod onebot;
pub mod sendq;
pub mod ws;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::protocol::{Event, StatusCode};

/// A boxed future that can cross threads.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One call to the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The command name.
    pub command: String,
    /// The subCommand, where there is one.
    pub sub_command: Option<String>,
    /// The content object; shared, so a copy kept for a retry costs nothing.
    pub content: Arc<Value>,
    /// The script that made the call, for fair queuing and metrics; `None` for mahua itself.
    pub origin: Option<Arc<str>>,
}

impl Call {
    /// A call made by mahua itself, not by a script.
    #[must_use]
    pub fn new(command: impl Into<String>, sub_command: Option<&str>, content: Value) -> Self {
        Self {
            command: command.into(),
            sub_command: sub_command.map(str::to_owned),
            content: Arc::new(content),
            origin: None,
        }
    }
}

/// A multipart upload: `uploadImage`, `uploadVoice`, `uploadShortVideo`, `file_upload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The command name.
    pub command: String,
    /// Plain form fields (`type`, `target`, `path`, `url`).
    pub fields: Vec<(String, String)>,
    /// File parts.
    pub files: Vec<FilePart>,
}

/// One file of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePart {
    /// The form field (`img`, `voice`, `video`, `thumbnail`, `file`).
    pub field: String,
    /// The file name the server sees.
    pub name: String,
    /// The content.
    pub bytes: Vec<u8>,
}

/// A configured server address, taken apart.
pub(crate) struct Address<'a> {
    /// `wss` or `https`.
    pub secure: bool,
    /// `host:port`.
    pub host: &'a str,
    /// The path, without a trailing `/`; empty for none.
    pub path: &'a str,
}

/// Split `ws://…`, `wss://…`, `http://…`, `https://…` or `host:port`.
pub(crate) fn parse_address(url: &str) -> Result<Address<'_>, ConnectError> {
    let bad = |reason: String| ConnectError::BadUrl { url: url.to_owned(), reason };
    let trimmed = url.trim();
    let (secure, rest) = match trimmed.split_once("://") {
        Some(("ws" | "http", rest)) => (false, rest),
        Some(("wss" | "https", rest)) => (true, rest),
        Some((other, _)) => {
            return Err(bad(format!(
                "unknown scheme {other:?}, expected ws://, wss://, http:// or https://"
            )))
        }
        None => (false, trimmed),
    };
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    if host.is_empty() {
        return Err(bad("no host".into()));
    }
    Ok(Address { secure, host, path })
}

/// Exponential backoff from 250 ms up to `max`, with up to 50% jitter.
#[must_use]
pub fn backoff(attempt: u32, max: Duration) -> Duration {
    let base = Duration::from_millis(250).saturating_mul(1u32 << attempt.min(16));
    let base = base.min(max);
    base + base.mul_f64(fastrand::f64() * 0.5)
}

/// Why a call got no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// No answer came in time.
    #[error("{command}: no answer from the server within {after:?}")]
    Timeout {
        /// The command.
        command: String,
        /// How long it waited.
        after: Duration,
    },
    /// The link dropped while the call was on the wire.
    #[error("{command}: the connection to the server was lost before it answered")]
    Disconnected {
        /// The command.
        command: String,
    },
    /// The server could not be reached before the call's time ran out; it was not sent.
    #[error("{command}: the server could not be reached for {after:?}, so the call was not sent")]
    Offline {
        /// The command.
        command: String,
        /// How long it waited for the link.
        after: Duration,
    },
    /// The adapter has shut down.
    #[error("{command}: not connected to a server")]
    NotConnected {
        /// The command.
        command: String,
    },
    /// The send queue is full: too many messages wait for their turn.
    #[error("{command}: the send queue is full ({waiting} messages waiting); the bot is sending faster than its rate limits allow")]
    QueueFull {
        /// The command.
        command: String,
        /// How many sends were waiting.
        waiting: usize,
    },
    /// The send waited for its turn longer than it may.
    #[error("{command}: waited {after:?} in the send queue without its turn; the bot is sending faster than its rate limits allow")]
    QueueTimeout {
        /// The command.
        command: String,
        /// How long it waited.
        after: Duration,
    },
    /// The request could not be sent or its answer read.
    #[error("{command}: {reason}")]
    Transport {
        /// The command.
        command: String,
        /// What went wrong.
        reason: String,
    },
    /// The transport cannot carry this command.
    #[error("{command}: {reason}")]
    Unsupported {
        /// The command.
        command: String,
        /// Why.
        reason: String,
    },
}

impl CallError {
    /// The command that failed.
    #[must_use]
    pub fn command(&self) -> &str {
        match self {
            Self::Timeout { command, .. }
            | Self::Offline { command, .. }
            | Self::Disconnected { command }
            | Self::NotConnected { command }
            | Self::QueueFull { command, .. }
            | Self::QueueTimeout { command, .. }
            | Self::Transport { command, .. }
            | Self::Unsupported { command, .. } => command,
        }
    }

    /// What went wrong, without the command's name.
    #[must_use]
    pub fn reason(&self) -> String {
        let full = self.to_string();
        full.strip_prefix(self.command())
            .and_then(|r| r.strip_prefix(": "))
            .map_or_else(|| full.clone(), str::to_owned)
    }
}

/// Why the first connection failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL cannot be used.
    #[error("bad server url {url:?}: {reason} (check `url` in [mirai] of mahua.toml)")]
    BadUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Nothing answered at that address.
    #[error("cannot reach the server at {url}: {reason} (is mirai-api-http running with the {adapter} adapter, and is `url` in mahua.toml right?)")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// The adapter that tried, `ws` or `http`.
        adapter: &'static str,
        /// The transport error.
        reason: String,
    },
    /// The OneBot server refused the access token.
    #[error("the OneBot server at {url} refused the access token (check `access_token` in [onebot] of mahua.toml or MAHUA_ONEBOT_ACCESS_TOKEN, and the token set in the server)")]
    WrongToken {
        /// The URL tried.
        url: String,
    },
    /// Nothing answered at a OneBot server's address, or mahua cannot listen for one.
    #[error("cannot reach the OneBot server at {url}: {reason} (is its WebSocket server turned on, and is `url` in [onebot] of mahua.toml right?)")]
    NoOneBotServer {
        /// The URL tried, or the address to listen on.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The OneBot server did not answer `get_login_info`.
    #[error("the OneBot server did not say which QQ account it serves ({0}); is the account logged in on it?")]
    NoLogin(String),
    /// The server refused the verify key.
    #[error("the server at {url} refused the verify key (check `verify_key` in [mirai] of mahua.toml or MAHUA_VERIFY_KEY)")]
    WrongVerifyKey {
        /// The URL tried.
        url: String,
    },
    /// The bot account is not logged in on the server.
    #[error("the server has no bot {qq} logged in (check `qq` in [mirai] of mahua.toml or MAHUA_QQ, and that the account is logged in on Mirai)")]
    BotNotFound {
        /// The account asked for.
        qq: i64,
    },
    /// The server answered the handshake with another code.
    #[error("the server refused the session: {status} ({msg})")]
    Refused {
        /// The status code.
        status: StatusCode,
        /// The server's message.
        msg: String,
    },
    /// The first frame was not a session frame.
    #[error("unexpected first frame from the server: {0}")]
    Handshake(String),
}

/// What an adapter tells the host about the link.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkEvent {
    /// An event or message pushed by the server.
    Event(Event),
    /// The link is up; `gap` is how long it was down, for a reconnect.
    Connected {
        /// Time since the link dropped, `None` on the first connect.
        gap: Option<Duration>,
    },
    /// The link went down; the adapter is reconnecting.
    Disconnected {
        /// Why, for the log and the scripts.
        reason: String,
    },
}

/// A transport to a mirai-api-http server.
pub trait Adapter: Send + Sync {
    /// Send one command and wait for the server's response body.
    fn call(&self, call: Call) -> BoxFuture<Result<Value, CallError>>;

    /// Send one multipart upload and wait for the server's response body.
    fn upload(&self, upload: Upload) -> BoxFuture<Result<Value, CallError>>;

    /// The connector's own protocol when it is not mirai-api-http (`"onebot"`), which gets
    /// its own Lua module for direct calls.
    fn dialect(&self) -> Option<&'static str> {
        None
    }

    /// Call one action of the connector's own protocol as it is (`onebot.call`); the answer
    /// is a mirai-api-http body with the action's `data`.
    fn direct(&self, call: Call) -> BoxFuture<Result<Value, CallError>> {
        Box::pin(async move {
            Err(CallError::Unsupported {
                command: call.command,
                reason: "direct calls need a OneBot connector".into(),
            })
        })
    }

    /// The server's implementation and version, once known (for the log and `/status`).
    fn server(&self) -> Option<String> {
        None
    }

    /// Stop the link (releasing the session where there is one); later calls fail.
    fn shutdown(&self) -> BoxFuture<()>;

    /// How many frames from the server were unreadable or made no sense, so far.
    fn rejected_frames(&self) -> u64 {
        0
    }
}

/// An adapter with no server: every call fails (used by `mahua check`).
#[derive(Debug, Default)]
pub struct Offline;

impl Adapter for Offline {
    fn call(&self, call: Call) -> BoxFuture<Result<Value, CallError>> {
        Box::pin(async move { Err(CallError::NotConnected { command: call.command }) })
    }

    fn upload(&self, upload: Upload) -> BoxFuture<Result<Value, CallError>> {
        Box::pin(async move { Err(CallError::NotConnected { command: upload.command }) })
    }

    fn shutdown(&self) -> BoxFuture<()> {
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let max = Duration::from_secs(30);
        assert!(backoff(0, max) >= Duration::from_millis(250));
        assert!(backoff(0, max) <= Duration::from_millis(375));
        assert!(backoff(40, max) <= Duration::from_secs(45));
        assert!(backoff(40, max) >= Duration::from_secs(30));
    }
}
