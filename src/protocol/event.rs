//! Events and message packets as the server pushes them, kept whole.

use serde_json::Value;

/// The nine message packet types (`bot.on("Message")` matches all of them).
pub const MESSAGE_TYPES: &[&str] = &[
    "FriendMessage",
    "GroupMessage",
    "TempMessage",
    "StrangerMessage",
    "OtherClientMessage",
    "FriendSyncMessage",
    "GroupSyncMessage",
    "TempSyncMessage",
    "StrangerSyncMessage",
];

/// Every non-message event type of mirai-api-http 2.10.
pub const EVENT_TYPES: &[&str] = &[
    "BotOnlineEvent",
    "BotOfflineEventActive",
    "BotOfflineEventForce",
    "BotOfflineEventDropped",
    "BotReloginEvent",
    "FriendInputStatusChangedEvent",
    "FriendNickChangedEvent",
    "FriendAddEvent",
    "FriendDeleteEvent",
    "FriendRecallEvent",
    "BotGroupPermissionChangeEvent",
    "BotMuteEvent",
    "BotUnmuteEvent",
    "BotJoinGroupEvent",
    "BotLeaveEventActive",
    "BotLeaveEventKick",
    "BotLeaveEventDisband",
    "GroupRecallEvent",
    "NudgeEvent",
    "GroupNameChangeEvent",
    "GroupMuteAllEvent",
    "GroupAllowAnonymousChatEvent",
    "GroupAllowConfessTalkEvent",
    "GroupAllowMemberInviteEvent",
    "MemberJoinEvent",
    "MemberLeaveEventKick",
    "MemberLeaveEventQuit",
    "MemberCardChangeEvent",
    "MemberSpecialTitleChangeEvent",
    "MemberPermissionChangeEvent",
    "MemberMuteEvent",
    "MemberUnmuteEvent",
    "MemberHonorChangeEvent",
    "NewFriendRequestEvent",
    "MemberJoinRequestEvent",
    "BotInvitedJoinGroupRequestEvent",
    "OtherClientOnlineEvent",
    "OtherClientOfflineEvent",
    "CommandExecutedEvent",
];

/// Whether an event type is a message packet.
#[must_use]
pub fn is_message_type(ty: &str) -> bool {
    MESSAGE_TYPES.contains(&ty)
}

/// An event or message packet; every field the server sent is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Event(pub Value);

impl Event {
    /// The `type` field, or `""` when it is missing.
    #[must_use]
    pub fn kind(&self) -> &str {
        self.0.get("type").and_then(Value::as_str).unwrap_or("")
    }

    /// Whether it is a message packet.
    #[must_use]
    pub fn is_message(&self) -> bool {
        is_message_type(self.kind())
    }

    /// The message id from the chain's `Source`, for message packets.
    #[must_use]
    pub fn message_id(&self) -> Option<i64> {
        let chain = self.0.get("messageChain")?.as_array()?;
        chain
            .iter()
            .find(|e| e.get("type").and_then(Value::as_str) == Some("Source"))?
            .get("id")?
            .as_i64()
    }

    /// The id of the conversation a message packet belongs to: the `target`
    /// that `recall`, `messageFromId` and `setEssence` need.
    #[must_use]
    pub fn conversation(&self) -> Option<i64> {
        let v = &self.0;
        let id = |path: &[&str]| {
            path.iter()
                .try_fold(v, |cur, k| cur.get(*k))
                .and_then(Value::as_i64)
        };
        match self.kind() {
            "GroupMessage" => id(&["sender", "group", "id"]),
            "FriendMessage" | "TempMessage" | "StrangerMessage" | "OtherClientMessage" => {
                id(&["sender", "id"])
            }
            "GroupSyncMessage"
            | "FriendSyncMessage"
            | "TempSyncMessage"
            | "StrangerSyncMessage" => id(&["subject", "id"]),
            _ => None,
        }
    }
}
