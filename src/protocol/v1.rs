//! The mirai-api-http 1.x dialect: which commands it has, and its session routes.

/// The commands a 1.x server has, by their 2.x names: (command, subCommand).
/// They sit at the same paths as in 2.x; only session set-up differs.
pub const COMMANDS: &[(&str, Option<&str>)] = &[
    ("fetchMessage", None),
    ("fetchLatestMessage", None),
    ("peekMessage", None),
    ("peekLatestMessage", None),
    ("countMessage", None),
    ("friendList", None),
    ("groupList", None),
    ("memberList", None),
    ("messageFromId", None),
    ("sendFriendMessage", None),
    ("sendGroupMessage", None),
    ("sendTempMessage", None),
    ("sendImageMessage", None),
    ("uploadImage", None),
    ("recall", None),
    ("mute", None),
    ("unmute", None),
    ("kick", None),
    ("muteAll", None),
    ("unmuteAll", None),
    ("quit", None),
    ("groupConfig", Some("get")),
    ("groupConfig", Some("update")),
    ("memberInfo", Some("get")),
    ("memberInfo", Some("update")),
];

/// The 1.x session routes (all POST): (path, the 2.x command it amounts to).
pub const SESSION: &[(&str, &str)] =
    &[("/auth", "verify"), ("/verify", "bind"), ("/release", "release")];

/// Whether a 1.x server has `command` (under any subCommand).
#[must_use]
pub fn has(command: &str) -> bool {
    COMMANDS.iter().any(|(c, _)| *c == command)
}
