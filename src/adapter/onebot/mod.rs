//! The OneBot v11 connector: NapCat, LLOneBot and Lagrange.OneBot under mirai-api-http-shaped
//! scripts.
//!
//! Events are translated into the mirai-api-http shapes (`event`), calls into OneBot actions
//! (`action`), message chains into segments and back (`message`); what OneBot does not carry
//! comes from the contact cache (`cache`). The link (`link`) speaks forward or reverse
//! WebSocket and matches answers to calls by `echo`.

/// A JSON object from `"key": value` pairs, moving each value in (`json!` would copy a
/// `Value` it is given by serializing it again, which the event path cannot afford).
macro_rules! object {
    ($($key:literal : $value:expr),* $(,)?) => {{
        let mut map = serde_json::Map::new();
        $(map.insert(String::from($key), serde_json::Value::from($value));)*
        serde_json::Value::Object(map)
    }};
}

pub mod action;
pub mod cache;
mod connector;
pub mod event;
pub mod link;
pub mod message;

pub use connector::OneBotAdapter;
pub use link::{Mode, OneBotOptions};

use serde_json::Value;

use super::{BoxFuture, CallError};

/// The retcode OneBot answers for an action the server does not know.
pub const UNKNOWN_ACTION: i64 = 1404;

/// Why a OneBot action did not succeed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ActionError {
    /// The server answered with `status: failed`.
    #[error("{action}: the server answered retcode {retcode}: {msg}")]
    Failed {
        /// The action.
        action: String,
        /// OneBot's `retcode`.
        retcode: i64,
        /// The server's `message` or `wording`, or `""`.
        msg: String,
    },
    /// The action got no answer.
    #[error(transparent)]
    Call(#[from] CallError),
}

impl ActionError {
    /// Whether the server does not know the action at all.
    #[must_use]
    pub fn is_unknown_action(&self) -> bool {
        matches!(self, Self::Failed { retcode, .. } if *retcode == UNKNOWN_ACTION)
    }
}

/// Something that carries out OneBot actions: the link, or a fake in tests.
pub trait Actions: Send + Sync {
    /// Call `action` with `params` and wait for its `data`.
    fn action(&self, action: &str, params: Value) -> BoxFuture<Result<Value, ActionError>>;
}
