//! What the connector remembers between events: contacts, recent messages and request handles.
//!
//! OneBot events carry less than mirai-api-http's: a member's join time, the bot's own role
//! in a group or a friend's remark are not in them. The cache is loaded at connect, kept
//! fresh from events, and read when an event or a call is translated.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Which OneBot implementation is on the other end; quirks are keyed on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Implementation {
    /// NapCatQQ.
    NapCat,
    /// Lagrange.OneBot (Lagrange v1).
    Lagrange,
    /// LLOneBot / LuckyLilliaBot.
    LLOneBot,
    /// go-cqhttp and its forks.
    GoCqhttp,
    /// Anything else: the spec only.
    #[default]
    Other,
}

impl Implementation {
    /// The implementation named by `get_version_info`'s `app_name`.
    #[must_use]
    pub fn from_app_name(name: &str) -> Self {
        let n = name.to_ascii_lowercase();
        if n.contains("napcat") {
            Self::NapCat
        } else if n.contains("lagrange") {
            Self::Lagrange
        } else if n.contains("llonebot") || n.contains("lucky") || n.contains("llbot") {
            Self::LLOneBot
        } else if n.contains("go-cqhttp") || n.contains("gocq") {
            Self::GoCqhttp
        } else {
            Self::Other
        }
    }
}

/// A member's or the bot's role in a group, as mirai-api-http names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// The group's owner.
    Owner,
    /// An administrator.
    Admin,
    /// Everyone else.
    #[default]
    Member,
}

impl Role {
    /// From OneBot's `owner` / `admin` / `member`.
    #[must_use]
    pub fn from_onebot(role: &str) -> Self {
        match role {
            "owner" => Self::Owner,
            "admin" => Self::Admin,
            _ => Self::Member,
        }
    }

    /// mirai-api-http's `OWNER` / `ADMINISTRATOR` / `MEMBER`.
    #[must_use]
    pub fn as_mirai(self) -> &'static str {
        match self {
            Self::Owner => "OWNER",
            Self::Admin => "ADMINISTRATOR",
            Self::Member => "MEMBER",
        }
    }

    /// OneBot's `owner` / `admin` / `member`.
    #[must_use]
    pub fn as_onebot(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    /// Whether this role may manage members.
    #[must_use]
    pub fn is_operator(self) -> bool {
        self != Self::Member
    }
}

/// A friend of the bot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Friend {
    /// The friend's nickname.
    pub nickname: String,
    /// The bot's remark for the friend.
    pub remark: String,
}

/// A member of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    /// The member's nickname.
    pub nickname: String,
    /// The group card; empty when unset.
    pub card: String,
    /// The special title.
    pub title: String,
    /// The member's role.
    pub role: Role,
    /// When the member joined, in seconds.
    pub join_time: i64,
    /// When the member last spoke, in seconds.
    pub last_sent_time: i64,
    /// Until when the member is muted, in seconds; 0 for not muted.
    pub mute_until: i64,
}

impl Member {
    /// The name mirai-api-http shows: the card, or else the nickname.
    #[must_use]
    pub fn display_name(&self) -> &str {
        if self.card.is_empty() {
            &self.nickname
        } else {
            &self.card
        }
    }
}

/// A group the bot is in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// The group's name.
    pub name: String,
    /// The bot's role in it; `None` until known.
    pub bot_role: Option<Role>,
    /// Until when the bot is muted there, in seconds; 0 for not muted.
    pub bot_mute_until: i64,
    /// Whether everyone is muted.
    pub mute_all: bool,
    /// The members seen so far.
    pub members: HashMap<i64, Member>,
}

/// A message the bot has seen or sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The OneBot `message_id`, which is also the mirai-api-http `messageId`.
    pub id: i64,
    /// The conversation: the group, or the friend or member for private messages.
    pub conversation: i64,
    /// The group, for group and temp messages.
    pub group: Option<i64>,
    /// Who wrote it.
    pub author: i64,
    /// When it was sent, in seconds.
    pub time: i64,
    /// The message as mirai-api-http would give it (`messageFromId`'s answer).
    packet: Packet,
}

/// How a cached message keeps its packet. Nearly every message is only ever recalled by
/// time or not looked at again, so the packet is kept as one block of JSON text (one
/// allocation to make and to free, where a `Value` takes one per key and string) and read
/// back when a quote or `messageFromId` asks. A packet with a fractional number stays a
/// `Value`: reading such numbers back from text need not give the very same `f64`.
#[derive(Debug, Clone, PartialEq)]
enum Packet {
    Json(Box<[u8]>),
    Value(Value),
}

impl Message {
    /// A message with its mirai-api-http packet.
    #[must_use]
    pub fn new(
        id: i64,
        conversation: i64,
        group: Option<i64>,
        author: i64,
        time: i64,
        packet: &Value,
    ) -> Self {
        let packet = if has_float(packet) {
            Packet::Value(packet.clone())
        } else {
            match serde_json::to_vec(packet) {
                Ok(json) => Packet::Json(json.into_boxed_slice()),
                Err(_) => Packet::Value(packet.clone()),
            }
        };
        Self { id, conversation, group, author, time, packet }
    }

    /// A message whose packet was written as JSON text by the caller (with no fractional
    /// number in it; see [`has_float`]).
    #[must_use]
    pub fn from_json(
        id: i64,
        conversation: i64,
        group: Option<i64>,
        author: i64,
        time: i64,
        json: Vec<u8>,
    ) -> Self {
        Self { id, conversation, group, author, time, packet: Packet::Json(json.into()) }
    }

    /// The message as mirai-api-http would give it (`messageFromId`'s answer).
    #[must_use]
    pub fn packet(&self) -> Value {
        match &self.packet {
            Packet::Json(json) => serde_json::from_slice(json).unwrap_or(Value::Null),
            Packet::Value(v) => v.clone(),
        }
    }

    /// The packet's `messageChain`.
    #[must_use]
    pub fn chain(&self) -> Vec<Value> {
        match self.packet() {
            Value::Object(mut o) => match o.remove("messageChain") {
                Some(Value::Array(chain)) => chain,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

/// Whether `v` holds a number that is neither an `i64` nor a `u64`.
#[must_use]
pub fn has_float(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_f64(),
        Value::Array(a) => a.iter().any(has_float),
        Value::Object(o) => o.values().any(has_float),
        _ => false,
    }
}

/// The kind of a pending request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Someone asks to be the bot's friend.
    Friend,
    /// Someone asks to join a group the bot manages.
    MemberJoin,
    /// Someone invites the bot into a group.
    BotInvited,
}

/// A request the server reported, waiting for the bot's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Its kind.
    pub kind: RequestKind,
    /// OneBot's handle for it.
    pub flag: String,
    /// OneBot's `sub_type` (`add` / `invite` for group requests).
    pub sub_type: String,
    /// The group, for group requests; 0 otherwise.
    pub group_id: i64,
    /// Who asked, or who invited.
    pub user_id: i64,
    /// When it arrived.
    pub created: Instant,
}

/// Why a request handle cannot be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// No request has that id (or it is of another kind).
    #[error("no pending request has eventId {0}")]
    Unknown(i64),
    /// The request is too old to answer.
    #[error("the request with eventId {0} has expired")]
    Expired(i64),
    /// The request was answered already.
    #[error("the request with eventId {0} was answered already")]
    Answered(i64),
}

/// How many recent messages are kept for `recall`, `quote` and `messageFromId` (as many as
/// mirai-api-http keeps per bot).
pub const MESSAGES_KEPT: usize = 1024;

/// How many forwarded-message contents are kept.
const FORWARDS_KEPT: usize = 64;

/// How long a request handle may be answered.
pub const REQUEST_TTL: Duration = Duration::from_secs(24 * 3600);

/// Everything the connector knows about the account's world.
#[derive(Debug, Default)]
pub struct Contacts {
    /// The bot's QQ number; 0 until `get_login_info` answered.
    pub bot: i64,
    /// The bot's nickname.
    pub nickname: String,
    /// The implementation on the other end.
    pub implementation: Implementation,
    /// `app_name` and `app_version` as the server gave them, for the log and `/status`.
    pub app: String,
    /// The bot's friends.
    pub friends: HashMap<i64, Friend>,
    /// The bot's groups.
    pub groups: HashMap<i64, Group>,
    messages: HashMap<i64, Message>,
    message_order: VecDeque<i64>,
    forwards: HashMap<String, Value>,
    forward_order: VecDeque<String>,
    requests: HashMap<i64, Request>,
    answered: VecDeque<i64>,
    next_event_id: i64,
    missing_actions: HashSet<String>,
}

/// Now, in seconds since the epoch.
#[must_use]
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Contacts {
    /// An empty cache for the bot `bot` (0 when not yet known).
    #[must_use]
    pub fn new(bot: i64) -> Self {
        Self { bot, next_event_id: 1, ..Self::default() }
    }

    /// A friend as mirai-api-http gives it: `{id, nickname, remark}`; `nickname` is used
    /// when the friend is not known.
    #[must_use]
    pub fn friend_json(&self, id: i64, nickname: &str) -> Value {
        let (nickname, remark) = match self.friends.get(&id) {
            Some(f) => (f.nickname.as_str(), f.remark.as_str()),
            None => (nickname, ""),
        };
        object! { "id": id, "nickname": nickname, "remark": remark }
    }

    /// A group as mirai-api-http gives it: `{id, name, permission}` (the bot's role).
    #[must_use]
    pub fn group_json(&self, id: i64) -> Value {
        let g = self.groups.get(&id);
        object! {
            "id": id,
            "name": g.map(|g| g.name.as_str()).unwrap_or_default(),
            "permission": g.and_then(|g| g.bot_role).unwrap_or_default().as_mirai(),
        }
    }

    /// A member as mirai-api-http gives it, with its `group`.
    #[must_use]
    pub fn member_json(&self, group: i64, id: i64) -> Value {
        let m = self.groups.get(&group).and_then(|g| g.members.get(&id));
        let none = Member::default();
        let m = m.unwrap_or(&none);
        let remaining = (m.mute_until - now()).max(0);
        object! {
            "id": id,
            "memberName": m.display_name(),
            "specialTitle": m.title.as_str(),
            "permission": m.role.as_mirai(),
            "joinTimestamp": m.join_time,
            "lastSpeakTimestamp": m.last_sent_time,
            "muteTimeRemaining": remaining,
            "group": self.group_json(group),
        }
    }

    /// The group `id`, made known if it was not.
    pub fn group_mut(&mut self, id: i64) -> &mut Group {
        self.groups.entry(id).or_default()
    }

    /// The member `id` of `group`, made known if it was not.
    pub fn member_mut(&mut self, group: i64, id: i64) -> &mut Member {
        self.group_mut(group).members.entry(id).or_default()
    }

    /// The member `id` of `group`, if known.
    #[must_use]
    pub fn member(&self, group: i64, id: i64) -> Option<&Member> {
        self.groups.get(&group)?.members.get(&id)
    }

    /// The bot's role in `group`, if known.
    #[must_use]
    pub fn bot_role(&self, group: i64) -> Option<Role> {
        self.groups.get(&group)?.bot_role
    }

    /// Whether the bot is muted in `group` right now.
    #[must_use]
    pub fn bot_muted(&self, group: i64) -> bool {
        self.groups.get(&group).is_some_and(|g| g.bot_mute_until > now())
    }

    /// Learn a member from a OneBot member object (`sender` of a group message, or an item
    /// of `get_group_member_list`): only the fields it carries are changed.
    pub fn learn_member(&mut self, group: i64, v: &Value) {
        let Some(id) = v.get("user_id").and_then(as_i64) else { return };
        self.learn_member_as(group, id, v);
    }

    /// [`Contacts::learn_member`] for the member `id`, whatever `v`'s `user_id` says.
    pub fn learn_member_as(&mut self, group: i64, id: i64, v: &Value) {
        let bot = self.bot;
        let m = self.member_mut(group, id);
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        if let Some(s) = text("nickname") {
            m.nickname = s;
        }
        if let Some(s) = text("card") {
            m.card = s;
        }
        if let Some(s) = text("title") {
            m.title = s;
        }
        if let Some(r) = text("role") {
            m.role = Role::from_onebot(&r);
        }
        if let Some(t) = v.get("join_time").and_then(as_i64) {
            m.join_time = t;
        }
        if let Some(t) = v.get("last_sent_time").and_then(as_i64) {
            m.last_sent_time = t;
        }
        if let Some(t) = v.get("shut_up_timestamp").and_then(as_i64) {
            m.mute_until = t;
        }
        let role = m.role;
        let mute_until = m.mute_until;
        if id == bot && v.get("role").is_some() {
            let g = self.group_mut(group);
            g.bot_role = Some(role);
            if v.get("shut_up_timestamp").is_some() {
                g.bot_mute_until = mute_until;
            }
        }
    }

    /// Remember a message for `recall`, quotes and `messageFromId`; the oldest go first.
    pub fn remember_message(&mut self, message: Message) {
        let id = message.id;
        if self.messages.insert(id, message).is_none() {
            self.message_order.push_back(id);
        }
        while self.message_order.len() > MESSAGES_KEPT {
            if let Some(old) = self.message_order.pop_front() {
                self.messages.remove(&old);
            }
        }
    }

    /// A message seen or sent recently.
    #[must_use]
    pub fn message(&self, id: i64) -> Option<&Message> {
        self.messages.get(&id)
    }

    /// Remember the content of a forwarded message (`get_forward_msg`'s `data`).
    pub fn remember_forward(&mut self, id: &str, content: Value) {
        if self.forwards.insert(id.to_owned(), content).is_none() {
            self.forward_order.push_back(id.to_owned());
        }
        while self.forward_order.len() > FORWARDS_KEPT {
            if let Some(old) = self.forward_order.pop_front() {
                self.forwards.remove(&old);
            }
        }
    }

    /// The content of a forwarded message fetched earlier.
    #[must_use]
    pub fn forward(&self, id: &str) -> Option<&Value> {
        self.forwards.get(id)
    }

    /// Note a request and give it a fresh `eventId`, unique across kinds.
    pub fn add_request(&mut self, request: Request) -> i64 {
        self.expire_requests();
        let id = self.next_event_id.max(1);
        self.next_event_id = id + 1;
        self.requests.insert(id, request);
        id
    }

    /// Take the request `event_id` of `kind` to answer it; it cannot be answered twice.
    pub fn take_request(
        &mut self,
        event_id: i64,
        kind: RequestKind,
    ) -> Result<Request, RequestError> {
        if self.answered.contains(&event_id) {
            return Err(RequestError::Answered(event_id));
        }
        match self.requests.get(&event_id) {
            None => return Err(RequestError::Unknown(event_id)),
            Some(r) if r.kind != kind => return Err(RequestError::Unknown(event_id)),
            Some(r) if r.created.elapsed() > REQUEST_TTL => {
                self.requests.remove(&event_id);
                return Err(RequestError::Expired(event_id));
            }
            Some(_) => {}
        }
        let r = self.requests.remove(&event_id).ok_or(RequestError::Unknown(event_id))?;
        self.answered.push_back(event_id);
        while self.answered.len() > MESSAGES_KEPT {
            self.answered.pop_front();
        }
        Ok(r)
    }

    /// Put back a request whose answer did not reach the server, so it can be answered again.
    pub fn restore_request(&mut self, event_id: i64, request: Request) {
        self.answered.retain(|id| *id != event_id);
        self.requests.insert(event_id, request);
    }

    /// Note that the server answered `action` with "unknown action" (1404) on this connection.
    pub fn note_missing_action(&mut self, action: &str) {
        self.missing_actions.insert(action.to_owned());
    }

    /// Whether the server said on this connection that it has no `action`.
    #[must_use]
    pub fn action_missing(&self, action: &str) -> bool {
        self.missing_actions.contains(action)
    }

    /// Forget which actions the server lacks (a new connection may reach another server).
    pub fn forget_missing_actions(&mut self) {
        self.missing_actions.clear();
    }

    fn expire_requests(&mut self) {
        self.requests.retain(|_, r| r.created.elapsed() <= REQUEST_TTL);
    }
}

/// An integer that OneBot may send as a number or as a numeric string.
#[must_use]
pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(kind: RequestKind) -> Request {
        Request {
            kind,
            flag: "f".into(),
            sub_type: "add".into(),
            group_id: 1,
            user_id: 2,
            created: Instant::now(),
        }
    }

    #[test]
    fn request_ids_are_unique_across_kinds_and_answered_once() {
        let mut c = Contacts::new(1);
        let a = c.add_request(request(RequestKind::Friend));
        let b = c.add_request(request(RequestKind::MemberJoin));
        assert_ne!(a, b);
        assert_eq!(c.take_request(a, RequestKind::MemberJoin), Err(RequestError::Unknown(a)));
        assert!(c.take_request(a, RequestKind::Friend).is_ok());
        assert_eq!(c.take_request(a, RequestKind::Friend), Err(RequestError::Answered(a)));
        assert_eq!(c.take_request(99, RequestKind::Friend), Err(RequestError::Unknown(99)));
    }

    #[test]
    fn members_are_learnt_field_by_field_and_the_bot_role_kept() {
        let mut c = Contacts::new(10);
        c.learn_member(5, &json!({"user_id": 7, "nickname": "n", "card": "", "role": "admin"}));
        c.learn_member(5, &json!({"user_id": "7", "card": "c"}));
        let m = c.member_json(5, 7);
        assert_eq!(m["memberName"], "c");
        assert_eq!(m["permission"], "ADMINISTRATOR");
        c.learn_member(5, &json!({"user_id": 10, "role": "owner"}));
        assert_eq!(c.bot_role(5), Some(Role::Owner));
        assert_eq!(c.group_json(5)["permission"], "OWNER");
    }

    #[test]
    fn old_messages_make_room() {
        let mut c = Contacts::new(1);
        for id in 0..(MESSAGES_KEPT as i64 + 10) {
            c.remember_message(Message::new(id, 1, None, 2, 0, &Value::Null));
        }
        assert!(c.message(0).is_none());
        assert!(c.message(MESSAGES_KEPT as i64 + 9).is_some());
    }

    #[test]
    fn packets_read_back_as_they_were_kept() {
        let packet = json!({"type": "FriendMessage", "messageChain": [
            {"type": "Source", "id": 5, "time": 1},
            {"type": "Plain", "text": "a \"quoted\" line\n"},
        ], "sender": {"id": u64::MAX, "nickname": "n", "remark": ""}});
        let m = Message::new(5, 2, None, 2, 1, &packet);
        assert!(matches!(m.packet, Packet::Json(_)));
        assert_eq!(m.packet(), packet);
        assert_eq!(m.chain(), packet["messageChain"].as_array().unwrap().clone());
        let odd =
            json!({"type": "FriendMessage", "messageChain": [{"type": "Dice", "value": 0.1}]});
        let m = Message::new(6, 2, None, 2, 1, &odd);
        assert!(matches!(m.packet, Packet::Value(_)));
        assert_eq!(m.packet(), odd);
    }
}
