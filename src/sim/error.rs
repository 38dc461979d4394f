//! A command's failure: a status code and the text the server sends with it.

use serde_json::Value;

use crate::protocol::StatusCode;

/// Why a command failed, as the server reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fail {
    /// A status code with the server's usual text.
    #[error("{}", .0.server_msg())]
    Status(StatusCode),
    /// A status code with a specific text.
    #[error("{1}")]
    Text(StatusCode, String),
}

impl Fail {
    /// The `{code, msg}` body for this failure.
    #[must_use]
    pub fn body(&self) -> Value {
        match self {
            Self::Status(code) => code.state(),
            Self::Text(code, msg) => code.state_with(msg),
        }
    }

    /// The status code.
    #[must_use]
    pub fn code(&self) -> StatusCode {
        match self {
            Self::Status(code) | Self::Text(code, _) => *code,
        }
    }

    /// Code 400 `无效参数`.
    #[must_use]
    pub fn invalid() -> Self {
        Self::Status(StatusCode::InvalidArgument)
    }

    /// Code 5: the target does not exist.
    #[must_use]
    pub fn not_found() -> Self {
        Self::Status(StatusCode::TargetNotFound)
    }

    /// Code 10: the bot lacks the permission.
    #[must_use]
    pub fn denied() -> Self {
        Self::Status(StatusCode::PermissionDenied)
    }

    /// Code 6: the operation is not supported.
    #[must_use]
    pub fn unsupported() -> Self {
        Self::Status(StatusCode::Unsupported)
    }
}

impl From<StatusCode> for Fail {
    fn from(code: StatusCode) -> Self {
        Self::Status(code)
    }
}
