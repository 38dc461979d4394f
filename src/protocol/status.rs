//! The server's status codes and what they mean.

use std::fmt;

/// A mirai-api-http status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    /// 0: success.
    Success,
    /// 1: wrong verify key.
    WrongVerifyKey,
    /// 2: the bot account is not logged in on the server.
    BotNotFound,
    /// 3: the session is unknown or expired.
    SessionInvalid,
    /// 4: the session is not bound to a bot.
    SessionNotVerified,
    /// 5: the target friend, group, member, file or message does not exist.
    TargetNotFound,
    /// 6: unsupported operation, or a local file that does not exist.
    Unsupported,
    /// 10: the bot lacks the permission.
    PermissionDenied,
    /// 20: the bot is muted in that group.
    BotMuted,
    /// 30: the message is too long.
    MessageTooLong,
    /// 400: bad or missing parameters.
    InvalidArgument,
    /// 500: any other server exception.
    ServerError,
    /// Any code this table does not know.
    Other(i64),
}

impl StatusCode {
    /// The code for a number.
    #[must_use]
    pub fn from_code(code: i64) -> Self {
        match code {
            0 => Self::Success,
            1 => Self::WrongVerifyKey,
            2 => Self::BotNotFound,
            3 => Self::SessionInvalid,
            4 => Self::SessionNotVerified,
            5 => Self::TargetNotFound,
            6 => Self::Unsupported,
            10 => Self::PermissionDenied,
            20 => Self::BotMuted,
            30 => Self::MessageTooLong,
            400 => Self::InvalidArgument,
            500 => Self::ServerError,
            n => Self::Other(n),
        }
    }

    /// The number on the wire.
    #[must_use]
    pub fn code(self) -> i64 {
        match self {
            Self::Success => 0,
            Self::WrongVerifyKey => 1,
            Self::BotNotFound => 2,
            Self::SessionInvalid => 3,
            Self::SessionNotVerified => 4,
            Self::TargetNotFound => 5,
            Self::Unsupported => 6,
            Self::PermissionDenied => 10,
            Self::BotMuted => 20,
            Self::MessageTooLong => 30,
            Self::InvalidArgument => 400,
            Self::ServerError => 500,
            Self::Other(n) => n,
        }
    }

    /// The `msg` the real server sends with this code.
    #[must_use]
    pub fn server_msg(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::WrongVerifyKey => "Auth Key错误",
            Self::BotNotFound => "指定Bot不存在",
            Self::SessionInvalid => "Session失效或不存在",
            Self::SessionNotVerified => "Session未认证",
            Self::TargetNotFound => "指定对象不存在",
            Self::Unsupported => "指定操作不支持",
            Self::PermissionDenied => "无操作权限",
            Self::BotMuted => "Bot被禁言",
            Self::MessageTooLong => "消息过长",
            Self::InvalidArgument => "无效参数",
            Self::ServerError | Self::Other(_) => "error",
        }
    }

    /// What the code means, in English, for error messages.
    #[must_use]
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::WrongVerifyKey => "wrong verify key",
            Self::BotNotFound => "bot account not logged in on the server",
            Self::SessionInvalid => "session unknown or expired",
            Self::SessionNotVerified => "session not bound",
            Self::TargetNotFound => "target not found",
            Self::Unsupported => "operation not supported, or file not found",
            Self::PermissionDenied => "no permission",
            Self::BotMuted => "bot is muted",
            Self::MessageTooLong => "message too long",
            Self::InvalidArgument => "invalid argument",
            Self::ServerError => "server error",
            Self::Other(_) => "unknown status",
        }
    }

    /// The `{code, msg}` state object for this code with the server's own text.
    #[must_use]
    pub fn state(self) -> serde_json::Value {
        self.state_with(self.server_msg())
    }

    /// The `{code, msg}` state object with a given text.
    #[must_use]
    pub fn state_with(self, msg: &str) -> serde_json::Value {
        serde_json::json!({ "code": self.code(), "msg": msg })
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "code {}, {}", self.code(), self.meaning())
    }
}
