//! Transports to the server behind one trait: WebSocket now, HTTP polling next.

pub mod ws;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::Value;

use crate::protocol::Event;

/// A boxed future that can cross threads.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One call to the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The command name.
    pub command: String,
    /// The subCommand, where there is one.
    pub sub_command: Option<String>,
    /// The content object.
    pub content: Value,
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
    /// The adapter has shut down.
    #[error("{command}: not connected to a server")]
    NotConnected {
        /// The command.
        command: String,
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
            | Self::Disconnected { command }
            | Self::NotConnected { command }
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

    /// Stop the link; pending and later calls fail.
    fn shutdown(&self);
}

/// An adapter with no server: every call fails (used by `mahua check`).
#[derive(Debug, Default)]
pub struct Offline;

impl Adapter for Offline {
    fn call(&self, call: Call) -> BoxFuture<Result<Value, CallError>> {
        Box::pin(async move { Err(CallError::NotConnected { command: call.command }) })
    }

    fn shutdown(&self) {}
}
