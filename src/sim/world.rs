//! The in-memory world the simulated bot lives in: contacts, groups, files, messages, requests.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// The id of the root folder of every group's files.
pub const ROOT_FOLDER: &str = "/";

/// The friend every fresh world starts with.
pub const DEFAULT_FRIEND: i64 = 12345;

/// The group every fresh world starts with (the bot is its administrator).
pub const DEFAULT_GROUP: i64 = 100_000;

/// Seconds since the Unix epoch.
#[must_use]
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A member's rank in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// An ordinary member.
    Member,
    /// An administrator.
    Administrator,
    /// The group's owner.
    Owner,
}

impl Permission {
    /// The name on the wire: `OWNER`, `ADMINISTRATOR` or `MEMBER`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "OWNER",
            Self::Administrator => "ADMINISTRATOR",
            Self::Member => "MEMBER",
        }
    }

    /// The permission named on the wire.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "OWNER" => Some(Self::Owner),
            "ADMINISTRATOR" => Some(Self::Administrator),
            "MEMBER" => Some(Self::Member),
            _ => None,
        }
    }

    /// Whether this is administrator or owner.
    #[must_use]
    pub fn is_operator(self) -> bool {
        self >= Self::Administrator
    }
}

impl serde::Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A QQ user as a friend, a stranger or the bot itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Friend {
    /// QQ number.
    pub id: i64,
    /// Nickname.
    pub nickname: String,
    /// The bot's remark for them.
    pub remark: String,
}

impl Friend {
    /// The wire object `{id, nickname, remark}`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({ "id": self.id, "nickname": self.nickname, "remark": self.remark })
    }
}

/// Another client (device) logged into the bot's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherClient {
    /// Client id.
    pub id: i64,
    /// Platform name, e.g. `MOBILE`.
    pub platform: String,
}

impl OtherClient {
    /// The wire object `{id, platform}`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({ "id": self.id, "platform": self.platform })
    }
}

/// A user's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Nickname.
    pub nickname: String,
    /// E-mail address.
    pub email: String,
    /// Age.
    pub age: i64,
    /// QQ level.
    pub level: i64,
    /// Signature.
    pub sign: String,
    /// `UNKNOWN`, `MALE` or `FEMALE`.
    pub sex: String,
}

impl Profile {
    /// A plain profile with only a nickname.
    #[must_use]
    pub fn named(nickname: &str) -> Self {
        Self {
            nickname: nickname.to_owned(),
            email: String::new(),
            age: 0,
            level: 1,
            sign: String::new(),
            sex: "UNKNOWN".to_owned(),
        }
    }

    /// The wire object.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "nickname": self.nickname, "email": self.email, "age": self.age,
            "level": self.level, "sign": self.sign, "sex": self.sex,
        })
    }
}

/// A group member's activity, as `memberInfo` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberActive {
    /// Rank 1–6.
    pub rank: i64,
    /// Activity points.
    pub point: i64,
    /// Honours held.
    pub honors: Vec<String>,
    /// Temperature 1–100.
    pub temperature: i64,
}

/// A member of a group (never the bot itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// QQ number.
    pub id: i64,
    /// Card name, or nickname when the card is empty.
    pub name: String,
    /// Special title.
    pub special_title: String,
    /// Rank in the group.
    pub permission: Permission,
    /// When they joined (epoch s).
    pub join_timestamp: i64,
    /// When they last spoke (epoch s).
    pub last_speak_timestamp: i64,
    /// Seconds of mute left.
    pub mute_time_remaining: i64,
    /// Activity.
    pub active: MemberActive,
}

impl Member {
    /// A member who joined now.
    #[must_use]
    pub fn new(id: i64, name: &str, permission: Permission) -> Self {
        let t = now();
        Self {
            id,
            name: name.to_owned(),
            special_title: String::new(),
            permission,
            join_timestamp: t,
            last_speak_timestamp: t,
            mute_time_remaining: 0,
            active: MemberActive { rank: 1, point: 0, honors: Vec::new(), temperature: 1 },
        }
    }
}

/// Group settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupConfig {
    /// Members may invite others.
    pub allow_member_invite: bool,
    /// Join requests are approved automatically.
    pub auto_approve: bool,
    /// Anonymous chat is on.
    pub anonymous_chat: bool,
    /// Everyone but operators is muted.
    pub mute_all: bool,
}

/// One file or folder of a group's files (the root folder is implicit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileNode {
    /// Id, starting with `/`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Id of the containing folder (`/` for the root).
    pub parent: String,
    /// A file (true) or a folder.
    pub is_file: bool,
    /// Size in bytes.
    pub size: i64,
    /// Hex digest standing in for SHA-1.
    pub sha1: String,
    /// Hex digest standing in for MD5.
    pub md5: String,
    /// Who uploaded it.
    pub uploader_id: i64,
    /// When it was uploaded (epoch s).
    pub upload_time: i64,
    /// When it last changed (epoch s).
    pub last_modify_time: i64,
}

/// A group announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Unique id.
    pub fid: String,
    /// Text.
    pub content: String,
    /// Who published it.
    pub sender_id: i64,
    /// Whether everyone confirmed it.
    pub all_confirmed: bool,
    /// How many members confirmed it.
    pub confirmed_members_count: i64,
    /// When it was published (epoch s).
    pub publication_time: i64,
}

/// A group the bot is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Group number.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The bot's own rank here.
    pub permission: Permission,
    /// Seconds of mute the bot has left here.
    pub bot_mute_remaining: i64,
    /// Members other than the bot, in joining order.
    pub members: Vec<Member>,
    /// Settings.
    pub config: GroupConfig,
    /// Files and folders.
    pub files: Vec<FileNode>,
    /// Announcements, newest last.
    pub announcements: Vec<Announcement>,
}

impl Group {
    /// The wire object `{id, name, permission}`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({ "id": self.id, "name": self.name, "permission": self.permission })
    }

    /// A member by QQ number.
    #[must_use]
    pub fn member(&self, id: i64) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    /// A member by QQ number, to change.
    pub fn member_mut(&mut self, id: i64) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.id == id)
    }

    /// The wire Member object (`active` null).
    #[must_use]
    pub fn member_json(&self, m: &Member) -> Value {
        json!({
            "id": m.id,
            "memberName": m.name,
            "specialTitle": m.special_title,
            "permission": m.permission,
            "joinTimestamp": m.join_timestamp,
            "lastSpeakTimestamp": m.last_speak_timestamp,
            "muteTimeRemaining": m.mute_time_remaining,
            "group": self.to_json(),
            "active": null,
        })
    }

    /// Whether the bot may not speak here.
    #[must_use]
    pub fn bot_is_muted(&self) -> bool {
        self.bot_mute_remaining > 0 || (self.config.mute_all && !self.permission.is_operator())
    }

    /// A file or folder by id (`/` or `""` is the root, which has no node).
    #[must_use]
    pub fn file(&self, id: &str) -> Option<&FileNode> {
        self.files.iter().find(|f| f.id == id)
    }

    /// The name path of a node, `/` for the root.
    #[must_use]
    pub fn file_path(&self, id: &str) -> String {
        let mut parts = Vec::new();
        let mut cur = self.file(id);
        while let Some(node) = cur {
            parts.push(node.name.as_str());
            if parts.len() > self.files.len() {
                break;
            }
            cur = self.file(&node.parent);
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }

    /// The folder id a name path leads to (`""` or `/` is the root).
    #[must_use]
    pub fn resolve_path(&self, path: &str, want_file: Option<bool>) -> Option<String> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut cur = ROOT_FOLDER.to_owned();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let node = self.files.iter().find(|f| {
                f.parent == cur
                    && f.name == *part
                    && (if last { want_file.map_or(true, |w| w == f.is_file) } else { !f.is_file })
            })?;
            cur = node.id.clone();
        }
        if parts.is_empty() && want_file == Some(true) {
            return None;
        }
        Some(cur)
    }

    /// The wire RemoteFile object of a node, or of the root for `/`.
    #[must_use]
    pub fn file_json(&self, id: &str, with_download_info: bool) -> Value {
        let Some(node) = self.file(id) else {
            return json!({
                "name": ROOT_FOLDER, "id": ROOT_FOLDER, "path": ROOT_FOLDER, "parent": null,
                "contact": self.to_json(), "isFile": false, "isDictionary": true, "isDirectory": true,
                "size": 0, "sha1": null, "md5": null, "uploaderId": null, "uploadTime": null,
                "lastModifyTime": null, "downloadInfo": null,
            });
        };
        let parent = self.file_json(&node.parent, false);
        if node.is_file {
            let download = if with_download_info {
                json!({
                    "sha1": node.sha1, "md5": node.md5, "downloadTimes": 0, "uploaderId": node.uploader_id,
                    "uploadTime": node.upload_time, "lastModifyTime": node.last_modify_time,
                    "url": format!("https://sim.invalid/file/{}/{}", self.id, node.id.trim_start_matches('/')),
                })
            } else {
                Value::Null
            };
            json!({
                "name": node.name, "id": node.id, "path": self.file_path(id), "parent": parent,
                "contact": self.to_json(), "isFile": true, "isDictionary": false, "isDirectory": false,
                "size": node.size, "sha1": node.sha1, "md5": node.md5, "uploaderId": node.uploader_id,
                "uploadTime": node.upload_time, "lastModifyTime": node.last_modify_time, "downloadInfo": download,
            })
        } else {
            json!({
                "name": node.name, "id": node.id, "path": self.file_path(id), "parent": parent,
                "contact": self.to_json(), "isFile": false, "isDictionary": true, "isDirectory": true,
                "size": 0, "sha1": null, "md5": null, "uploaderId": null,
                "uploadTime": null, "lastModifyTime": null, "downloadInfo": null,
            })
        }
    }

    /// The wire Announcement object.
    #[must_use]
    pub fn announcement_json(&self, a: &Announcement) -> Value {
        json!({
            "group": self.to_json(), "content": a.content, "senderId": a.sender_id, "fid": a.fid,
            "allConfirmed": a.all_confirmed, "confirmedMembersCount": a.confirmed_members_count,
            "publicationTime": a.publication_time,
        })
    }
}

/// What kind of request an event id stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Someone wants to be the bot's friend.
    NewFriend,
    /// Someone wants to join a group the bot manages.
    MemberJoin,
    /// Someone invites the bot into a group.
    BotInvited,
}

/// A request waiting for the bot's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The event id.
    pub event_id: i64,
    /// Its kind.
    pub kind: RequestKind,
    /// Who asks.
    pub from: i64,
    /// The group concerned (0 for friend requests not via a group).
    pub group: i64,
    /// The group's name.
    pub group_name: String,
    /// The asker's nickname.
    pub nick: String,
    /// The attached message.
    pub message: String,
}

/// The bot's answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The request answered.
    pub request: Request,
    /// The `operate` code sent.
    pub operate: i64,
    /// The `message` sent.
    pub message: String,
}

/// A console command registered with `cmd_register`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleCommand {
    /// Primary name.
    pub name: String,
    /// Other names.
    pub alias: Vec<String>,
    /// Usage text.
    pub usage: String,
    /// Description.
    pub description: String,
}

/// A file uploaded with one of the upload routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// `image`, `voice`, `video` or `file`.
    pub kind: &'static str,
    /// The id handed back.
    pub id: String,
    /// The upload's `type` field.
    pub target_type: String,
    /// The file name sent, if any.
    pub file_name: Option<String>,
    /// Bytes received.
    pub size: usize,
}

/// A nudge the bot sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nudge {
    /// Who was nudged.
    pub target: i64,
    /// Where it shows.
    pub subject: i64,
    /// `Friend`, `Group` or `Stranger`.
    pub kind: String,
}

/// A cached message: its conversation, id and full packet.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedMessage {
    /// Friend, group, member or client id of the conversation.
    pub conversation: i64,
    /// Message id (unique within the conversation).
    pub id: i64,
    /// When it was sent (epoch s).
    pub time: i64,
    /// Whether the bot sent it.
    pub from_bot: bool,
    /// QQ number of whoever wrote it.
    pub author: i64,
    /// The message packet as `messageFromId` returns it.
    pub packet: Value,
}

/// Everything the simulated bot can see and change.
#[derive(Debug, Clone)]
pub struct World {
    /// The bot account itself.
    pub bot: Friend,
    /// The bot's profile.
    pub bot_profile: Profile,
    /// Friends, in the order they were added.
    pub friends: Vec<Friend>,
    /// Strangers the bot has talked to.
    pub strangers: Vec<Friend>,
    /// Other clients of the bot's account.
    pub other_clients: Vec<OtherClient>,
    /// Groups, in the order they were added.
    pub groups: Vec<Group>,
    /// Profiles by QQ number, for anyone who has one set.
    pub profiles: HashMap<i64, Profile>,
    /// Requests waiting for an answer, by event id.
    pub requests: HashMap<i64, Request>,
    /// Requests answered, in order.
    pub answers: Vec<Answer>,
    /// QQ numbers the bot blocked (friend requests, join requests, kicks).
    pub blacklist: Vec<i64>,
    /// Registered console commands.
    pub console_commands: Vec<ConsoleCommand>,
    /// Uploads, in order.
    pub uploads: Vec<Upload>,
    /// Nudges the bot sent.
    pub nudges: Vec<Nudge>,
    /// Group messages set as essence: (group, message id).
    pub essences: Vec<(i64, i64)>,
    /// Messages recalled by the bot: (conversation, message id).
    pub recalled: Vec<(i64, i64)>,
    messages: Vec<CachedMessage>,
    next_message_id: HashMap<i64, i64>,
    next_event_id: i64,
    next_serial: u64,
}

/// How many messages the cache keeps (the real server keeps 1024 per bot).
pub const MESSAGE_CACHE_SIZE: usize = 1024;

impl World {
    /// A world with the bot, one friend and one group where the bot is administrator.
    #[must_use]
    pub fn new(bot_qq: i64) -> Self {
        let mut w = Self::empty(bot_qq);
        w.add_friend(DEFAULT_FRIEND, "alice");
        w.add_group(DEFAULT_GROUP, "mahua playground", Permission::Administrator);
        w.add_member(DEFAULT_GROUP, 20001, "bob", Permission::Owner);
        w.add_member(DEFAULT_GROUP, 20002, "carol", Permission::Administrator);
        w.add_member(DEFAULT_GROUP, DEFAULT_FRIEND, "alice", Permission::Member);
        w.add_member(DEFAULT_GROUP, 20003, "dave", Permission::Member);
        w
    }

    /// A world with only the bot: no friends, no groups.
    #[must_use]
    pub fn empty(bot_qq: i64) -> Self {
        Self {
            bot: Friend { id: bot_qq, nickname: "mahua".to_owned(), remark: String::new() },
            bot_profile: Profile {
                sign: "a mahua simulator bot".to_owned(),
                ..Profile::named("mahua")
            },
            friends: Vec::new(),
            strangers: Vec::new(),
            other_clients: Vec::new(),
            groups: Vec::new(),
            profiles: HashMap::new(),
            requests: HashMap::new(),
            answers: Vec::new(),
            blacklist: Vec::new(),
            console_commands: Vec::new(),
            uploads: Vec::new(),
            nudges: Vec::new(),
            essences: Vec::new(),
            recalled: Vec::new(),
            messages: Vec::new(),
            next_message_id: HashMap::new(),
            next_event_id: 1,
            next_serial: 1,
        }
    }

    /// Remove every friend, stranger, client and group (keeps the bot and the message cache).
    pub fn clear_contacts(&mut self) {
        self.friends.clear();
        self.strangers.clear();
        self.other_clients.clear();
        self.groups.clear();
    }

    /// Add a friend, or rename an existing one.
    pub fn add_friend(&mut self, id: i64, nickname: &str) {
        match self.friends.iter_mut().find(|f| f.id == id) {
            Some(f) => nickname.clone_into(&mut f.nickname),
            None => self.friends.push(Friend {
                id,
                nickname: nickname.to_owned(),
                remark: String::new(),
            }),
        }
    }

    /// Remove a friend; whether there was one.
    pub fn remove_friend(&mut self, id: i64) -> bool {
        let before = self.friends.len();
        self.friends.retain(|f| f.id != id);
        before != self.friends.len()
    }

    /// Add a stranger the bot can talk to.
    pub fn add_stranger(&mut self, id: i64, nickname: &str) {
        if !self.strangers.iter().any(|f| f.id == id) {
            self.strangers.push(Friend {
                id,
                nickname: nickname.to_owned(),
                remark: String::new(),
            });
        }
    }

    /// Add another client of the bot's account.
    pub fn add_other_client(&mut self, id: i64, platform: &str) {
        if !self.other_clients.iter().any(|c| c.id == id) {
            self.other_clients.push(OtherClient { id, platform: platform.to_owned() });
        }
    }

    /// Add a group (or update its name and the bot's permission).
    pub fn add_group(&mut self, id: i64, name: &str, bot_permission: Permission) {
        match self.group_mut(id) {
            Some(g) => {
                name.clone_into(&mut g.name);
                g.permission = bot_permission;
            }
            None => self.groups.push(Group {
                id,
                name: name.to_owned(),
                permission: bot_permission,
                bot_mute_remaining: 0,
                members: Vec::new(),
                config: GroupConfig { allow_member_invite: true, ..GroupConfig::default() },
                files: Vec::new(),
                announcements: Vec::new(),
            }),
        }
    }

    /// Remove a group; whether there was one.
    pub fn remove_group(&mut self, id: i64) -> bool {
        let before = self.groups.len();
        self.groups.retain(|g| g.id != id);
        before != self.groups.len()
    }

    /// Add a member to a known group (or update their name and permission); false if the group is unknown.
    pub fn add_member(&mut self, group: i64, id: i64, name: &str, permission: Permission) -> bool {
        let Some(g) = self.group_mut(group) else {
            return false;
        };
        match g.member_mut(id) {
            Some(m) => {
                name.clone_into(&mut m.name);
                m.permission = permission;
            }
            None => g.members.push(Member::new(id, name, permission)),
        }
        true
    }

    /// Remove a member from a group; whether there was one.
    pub fn remove_member(&mut self, group: i64, id: i64) -> bool {
        let Some(g) = self.group_mut(group) else {
            return false;
        };
        let before = g.members.len();
        g.members.retain(|m| m.id != id);
        before != g.members.len()
    }

    /// Mute the bot in a group for some seconds (0 lifts it); false if the group is unknown.
    pub fn set_bot_muted(&mut self, group: i64, seconds: i64) -> bool {
        let Some(g) = self.group_mut(group) else {
            return false;
        };
        g.bot_mute_remaining = seconds.max(0);
        true
    }

    /// A friend by QQ number.
    #[must_use]
    pub fn friend(&self, id: i64) -> Option<&Friend> {
        self.friends.iter().find(|f| f.id == id)
    }

    /// A stranger by QQ number.
    #[must_use]
    pub fn stranger(&self, id: i64) -> Option<&Friend> {
        self.strangers.iter().find(|f| f.id == id)
    }

    /// Another client by id.
    #[must_use]
    pub fn other_client(&self, id: i64) -> Option<&OtherClient> {
        self.other_clients.iter().find(|c| c.id == id)
    }

    /// A group by number.
    #[must_use]
    pub fn group(&self, id: i64) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// A group by number, to change.
    pub fn group_mut(&mut self, id: i64) -> Option<&mut Group> {
        self.groups.iter_mut().find(|g| g.id == id)
    }

    /// A member of a group.
    #[must_use]
    pub fn member(&self, group: i64, id: i64) -> Option<&Member> {
        self.group(group)?.member(id)
    }

    /// A member of a group, to change.
    pub fn member_mut(&mut self, group: i64, id: i64) -> Option<&mut Member> {
        self.group_mut(group)?.member_mut(id)
    }

    /// The wire Member object of a group member (`active` null).
    #[must_use]
    pub fn member_json(&self, group: i64, id: i64) -> Option<Value> {
        let g = self.group(group)?;
        Some(g.member_json(g.member(id)?))
    }

    /// The bot as a member of one of its groups.
    #[must_use]
    pub fn bot_member_json(&self, group: &Group) -> Value {
        let mut me = Member::new(self.bot.id, &self.bot.nickname, group.permission);
        me.mute_time_remaining = group.bot_mute_remaining;
        group.member_json(&me)
    }

    /// Someone's profile: set explicitly, or made from what the world knows of them.
    #[must_use]
    pub fn profile(&self, id: i64) -> Profile {
        if id == self.bot.id {
            return self.bot_profile.clone();
        }
        if let Some(p) = self.profiles.get(&id) {
            return p.clone();
        }
        let name = self
            .friend(id)
            .or_else(|| self.stranger(id))
            .map(|f| f.nickname.clone())
            .or_else(|| self.groups.iter().find_map(|g| g.member(id).map(|m| m.name.clone())))
            .unwrap_or_default();
        Profile::named(&name)
    }

    /// A fresh message id for a conversation.
    pub fn next_message_id(&mut self, conversation: i64) -> i64 {
        let next = self.next_message_id.entry(conversation).or_insert(1);
        let id = *next;
        *next = next.saturating_add(1);
        id
    }

    /// A fresh event id for a request.
    pub fn next_event_id(&mut self) -> i64 {
        let id = self.next_event_id;
        self.next_event_id = self.next_event_id.saturating_add(1);
        id
    }

    /// A fresh number for ids of files, announcements and uploads.
    pub fn next_serial(&mut self) -> u64 {
        let n = self.next_serial;
        self.next_serial = self.next_serial.wrapping_add(1);
        n
    }

    /// Put a message packet into the cache (the oldest falls out beyond the cache size).
    pub fn cache_message(&mut self, msg: CachedMessage) {
        let next = self.next_message_id.entry(msg.conversation).or_insert(1);
        if msg.id >= *next {
            *next = msg.id.saturating_add(1);
        }
        self.messages.retain(|m| !(m.conversation == msg.conversation && m.id == msg.id));
        self.messages.push(msg);
        if self.messages.len() > MESSAGE_CACHE_SIZE {
            let excess = self.messages.len() - MESSAGE_CACHE_SIZE;
            self.messages.drain(..excess);
        }
    }

    /// A cached message by conversation and id.
    #[must_use]
    pub fn message(&self, conversation: i64, id: i64) -> Option<&CachedMessage> {
        self.messages.iter().find(|m| m.conversation == conversation && m.id == id)
    }

    /// The most recently cached message with this id, in any conversation (1.x ids carry no conversation).
    #[must_use]
    pub fn latest_message_with_id(&self, id: i64) -> Option<&CachedMessage> {
        self.messages.iter().rev().find(|m| m.id == id)
    }

    /// Drop a message from the cache; whether it was there.
    pub fn forget_message(&mut self, conversation: i64, id: i64) -> bool {
        let before = self.messages.len();
        self.messages.retain(|m| !(m.conversation == conversation && m.id == id));
        before != self.messages.len()
    }

    /// Every cached message of a conversation, oldest first.
    pub fn messages_of(&self, conversation: i64) -> impl Iterator<Item = &CachedMessage> {
        self.messages.iter().filter(move |m| m.conversation == conversation)
    }

    /// Add a file to a group's files; its id, or `None` if the group or folder is unknown.
    pub fn add_file(
        &mut self,
        group: i64,
        folder: &str,
        name: &str,
        size: i64,
        uploader: i64,
    ) -> Option<String> {
        self.add_node(group, folder, name, size, uploader, true)
    }

    /// Add a folder to a group's files; its id, or `None` if the group or parent is unknown.
    pub fn add_folder(&mut self, group: i64, parent: &str, name: &str) -> Option<String> {
        let bot = self.bot.id;
        self.add_node(group, parent, name, 0, bot, false)
    }

    fn add_node(
        &mut self,
        group: i64,
        parent: &str,
        name: &str,
        size: i64,
        uploader: i64,
        is_file: bool,
    ) -> Option<String> {
        let serial = self.next_serial();
        let g = self.group_mut(group)?;
        let parent = if parent.is_empty() { ROOT_FOLDER } else { parent };
        if parent != ROOT_FOLDER && !g.file(parent).is_some_and(|f| !f.is_file) {
            return None;
        }
        let id = format!(
            "/{:08x}-{:04x}-{:04x}",
            serial.wrapping_mul(0x9E37_79B9) & 0xFFFF_FFFF,
            group & 0xFFFF,
            serial & 0xFFFF
        );
        let t = now();
        let digest = |len: usize| {
            let mut s = String::with_capacity(len);
            let mut x = serial.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ name.len() as u64;
            while s.len() < len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push_str(&format!("{x:016x}"));
            }
            s.truncate(len);
            s
        };
        g.files.push(FileNode {
            id: id.clone(),
            name: name.to_owned(),
            parent: parent.to_owned(),
            is_file,
            size,
            sha1: if is_file { digest(40) } else { String::new() },
            md5: if is_file { digest(32) } else { String::new() },
            uploader_id: uploader,
            upload_time: t,
            last_modify_time: t,
        });
        Some(id)
    }

    /// Add an announcement to a group; its fid, or `None` if the group is unknown.
    pub fn add_announcement(&mut self, group: i64, sender: i64, content: &str) -> Option<String> {
        let serial = self.next_serial();
        let g = self.group_mut(group)?;
        let fid = format!("sim-anno-{serial}");
        g.announcements.push(Announcement {
            fid: fid.clone(),
            content: content.to_owned(),
            sender_id: sender,
            all_confirmed: false,
            confirmed_members_count: 0,
            publication_time: now(),
        });
        Some(fid)
    }

    /// A request waiting for an answer.
    #[must_use]
    pub fn request(&self, event_id: i64) -> Option<&Request> {
        self.requests.get(&event_id)
    }

    /// Learn the contacts a pushed event names, so commands about them work.
    pub fn learn(&mut self, event: &Value) {
        let s =
            |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let kind = event.get("type").and_then(Value::as_str).unwrap_or_default();
        let sender = event.get("sender").unwrap_or(&Value::Null);
        let id = sender.get("id").and_then(Value::as_i64);
        match kind {
            "GroupMessage" | "TempMessage" => self.learn_member(sender),
            "FriendMessage" => {
                if let Some(id) = id {
                    if self.friend(id).is_none() {
                        self.add_friend(id, &s(sender, "nickname"));
                    }
                }
            }
            "StrangerMessage" => {
                if let Some(id) = id {
                    self.add_stranger(id, &s(sender, "nickname"));
                }
            }
            "OtherClientMessage" => {
                if let Some(id) = id {
                    self.add_other_client(id, &s(sender, "platform"));
                }
            }
            "MemberJoinEvent" => {
                if let Some(m) = event.get("member") {
                    self.learn_member(m);
                }
            }
            "NewFriendRequestEvent"
            | "MemberJoinRequestEvent"
            | "BotInvitedJoinGroupRequestEvent" => {
                self.learn_request(kind, event);
            }
            _ => {}
        }
    }

    fn learn_member(&mut self, member: &Value) {
        let s =
            |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let group = member.get("group").unwrap_or(&Value::Null);
        let (Some(gid), Some(mid)) =
            (group.get("id").and_then(Value::as_i64), member.get("id").and_then(Value::as_i64))
        else {
            return;
        };
        if self.group(gid).is_none() {
            let perm = group.get("permission").and_then(Value::as_str).and_then(Permission::parse);
            self.add_group(gid, &s(group, "name"), perm.unwrap_or(Permission::Member));
        }
        if self.member(gid, mid).is_none() && mid != self.bot.id {
            let perm = member.get("permission").and_then(Value::as_str).and_then(Permission::parse);
            self.add_member(gid, mid, &s(member, "memberName"), perm.unwrap_or(Permission::Member));
        }
    }

    fn learn_request(&mut self, kind: &str, event: &Value) {
        let i = |k: &str| event.get(k).and_then(Value::as_i64).unwrap_or_default();
        let s = |k: &str| event.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let Some(event_id) = event.get("eventId").and_then(Value::as_i64) else {
            return;
        };
        let kind = match kind {
            "NewFriendRequestEvent" => RequestKind::NewFriend,
            "MemberJoinRequestEvent" => RequestKind::MemberJoin,
            _ => RequestKind::BotInvited,
        };
        if event_id >= self.next_event_id {
            self.next_event_id = event_id.saturating_add(1);
        }
        self.requests.insert(
            event_id,
            Request {
                event_id,
                kind,
                from: i("fromId"),
                group: i("groupId"),
                group_name: s("groupName"),
                nick: s("nick"),
                message: s("message"),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_paths_and_lookups() {
        let mut w = World::new(1);
        let dir = w.add_folder(DEFAULT_GROUP, "", "docs").unwrap();
        let file = w.add_file(DEFAULT_GROUP, &dir, "a.txt", 3, 1).unwrap();
        let g = w.group(DEFAULT_GROUP).unwrap();
        assert_eq!(g.file_path(&file), "/docs/a.txt");
        assert_eq!(g.resolve_path("/docs/a.txt", Some(true)), Some(file.clone()));
        assert_eq!(g.resolve_path("/docs", Some(false)), Some(dir.clone()));
        assert_eq!(g.resolve_path("/", None), Some(ROOT_FOLDER.to_owned()));
        let v = g.file_json(&file, true);
        assert_eq!(v["parent"]["id"], dir.as_str());
        assert_eq!(v["parent"]["parent"]["id"], ROOT_FOLDER);
        assert!(v["parent"]["parent"]["parent"].is_null());
        assert_eq!(v["sha1"].as_str().unwrap().len(), 40);
    }

    #[test]
    fn message_ids_are_per_conversation() {
        let mut w = World::empty(1);
        assert_eq!(w.next_message_id(5), 1);
        assert_eq!(w.next_message_id(5), 2);
        assert_eq!(w.next_message_id(6), 1);
        w.cache_message(CachedMessage {
            conversation: 6,
            id: 40,
            time: 0,
            from_bot: false,
            author: 2,
            packet: Value::Null,
        });
        assert_eq!(w.next_message_id(6), 41);
    }
}
