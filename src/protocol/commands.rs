//! The command table: every mirai-api-http 2.x command, how it travels and how Lua calls it.
//!
//! This table is the single source of truth for the API. The simulator routes
//! from it, the adapters encode from it, and the Lua `mirai` module, the docs
//! and the editor annotations are generated from it.

/// HTTP method of a command on the http adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// Read-only query, parameters in the URL query.
    Get,
    /// Mutation or send, parameters in a JSON or multipart body.
    Post,
}

/// How a command's content is encoded over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// URL query parameters (lists repeat the key).
    Query,
    /// An `application/json` body.
    Json,
    /// A `multipart/form-data` body.
    Multipart,
}

/// The JSON type of one content key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// Signed 64-bit integer (QQ ids, group ids).
    Long,
    /// Signed 32-bit integer (message ids, counts, seconds).
    Int,
    /// `true` or `false`.
    Bool,
    /// A string.
    String,
    /// A JSON object (config, info).
    Object,
    /// A message chain: an array of message elements.
    Chain,
    /// An array of 64-bit integers.
    LongList,
    /// An array of strings.
    StringList,
    /// A file part of a multipart body.
    File,
}

impl ValueType {
    /// The name used in error messages and docs.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Long | Self::Int => "integer",
            Self::Bool => "boolean",
            Self::String => "string",
            Self::Object => "table",
            Self::Chain => "message chain",
            Self::LongList => "list of integers",
            Self::StringList => "list of strings",
            Self::File => "file",
        }
    }

    /// Whether a JSON value has this type (null never does).
    #[must_use]
    pub fn accepts(self, v: &serde_json::Value) -> bool {
        use serde_json::Value as V;
        match self {
            Self::Long => v.as_i64().is_some(),
            Self::Int => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            Self::Bool => v.is_boolean(),
            Self::String => v.is_string(),
            Self::Object => v.is_object(),
            Self::Chain => {
                matches!(v, V::Array(a) if a.iter().all(|e| e.get("type").is_some_and(V::is_string)))
            }
            Self::LongList => matches!(v, V::Array(a) if a.iter().all(|e| e.as_i64().is_some())),
            Self::StringList => matches!(v, V::Array(a) if a.iter().all(V::is_string)),
            Self::File => false,
        }
    }
}

/// Whether a content key must be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Must be present and not null.
    Required,
    /// May be left out; the server has a default.
    Optional,
    /// Must be present but may be null (nullable DTO fields without a default).
    Nullable,
}

/// One key of a command's content.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// The key as the server names it.
    pub key: &'static str,
    /// Its JSON type.
    pub ty: ValueType,
    /// Whether it must be sent.
    pub need: Need,
}

/// What a successful response carries back to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A state code `{code, msg}`: nothing to return.
    Status,
    /// A restful wrapper `{code, msg, data}`: the `data`.
    Data,
    /// A send result `{code, msg, messageId}`: the message id.
    MessageId,
    /// A bare object with no code: the object itself.
    Bare,
    /// `{code, session}`: the session key.
    Session,
}

/// Where a command is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Both adapters: an http route and a ws command.
    Both,
    /// Only the http adapter (session set-up and the unread queue).
    HttpOnly,
    /// A multipart upload: http, and since 2.10 an http route on the ws port too.
    Upload,
}

/// A default for an optional Lua argument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Default {
    /// An integer.
    Int(i64),
    /// A string.
    Str(&'static str),
    /// A boolean.
    Bool(bool),
}

/// How a Lua argument becomes content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Converted as it is, checked against the key's type.
    Value,
    /// A string, one element or a list of elements and strings, made a chain.
    Chain,
    /// A conversation id; when left out it is looked up by the message id.
    CacheTarget,
    /// A table whose fields are merged into the content.
    Merge,
    /// A file: a name in the script's data folder, `{path = …}`, `{bytes = …, name = …}`,
    /// or `{url = …}` where the server fetches it.
    File,
}

/// One positional argument of a Lua call.
#[derive(Debug, Clone, Copy)]
pub struct LuaArg {
    /// The argument's name in docs and errors.
    pub name: &'static str,
    /// The content key it fills.
    pub key: &'static str,
    /// Whether it may be left out.
    pub optional: bool,
    /// The value used when it is left out.
    pub default: Option<Default>,
    /// How it is converted.
    pub fill: Fill,
}

/// The Lua face of a command: `mirai.<name>(args...)`.
#[derive(Debug, Clone, Copy)]
pub struct LuaCall {
    /// The function name in the `mirai` module.
    pub name: &'static str,
    /// Positional arguments in order.
    pub args: &'static [LuaArg],
}

/// One (command, subCommand) of the server.
#[derive(Debug, Clone, Copy)]
pub struct Command {
    /// The command name as sent over ws.
    pub name: &'static str,
    /// The subCommand (`get`/`update`) where there is one.
    pub sub: Option<&'static str>,
    /// HTTP method.
    pub method: HttpMethod,
    /// HTTP path.
    pub path: &'static str,
    /// HTTP body encoding.
    pub encoding: Encoding,
    /// Whether a bound session is needed.
    pub session: bool,
    /// Which adapters serve it.
    pub transport: Transport,
    /// Content keys.
    pub params: &'static [Param],
    /// What a success returns.
    pub reply: Reply,
    /// The Lua call, where scripts get one.
    pub lua: Option<LuaCall>,
    /// One line saying what it does.
    pub doc: &'static str,
}

impl Command {
    /// The content key named `key`.
    #[must_use]
    pub fn param(&self, key: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.key == key)
    }

    /// Whether ws frames may carry this command.
    #[must_use]
    pub fn on_ws(&self) -> bool {
        self.transport == Transport::Both
    }

    /// `name` or `name.sub`, for messages.
    #[must_use]
    pub fn label(&self) -> String {
        match self.sub {
            Some(s) => format!("{}.{s}", self.name),
            None => self.name.to_owned(),
        }
    }
}

/// The command table.
pub static COMMANDS: &[Command] = &TABLE;

/// The command called `name` with sub-command `sub`.
#[must_use]
pub fn find(name: &str, sub: Option<&str>) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name && c.sub == sub)
}

/// The command served at an HTTP method and path.
#[must_use]
pub fn by_route(method: HttpMethod, path: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.method == method && c.path == path)
}

/// The command behind the Lua function `name`.
#[must_use]
pub fn by_lua_name(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.lua.is_some_and(|l| l.name == name))
}

const fn req(key: &'static str, ty: ValueType) -> Param {
    Param { key, ty, need: Need::Required }
}
const fn opt(key: &'static str, ty: ValueType) -> Param {
    Param { key, ty, need: Need::Optional }
}
const fn nul(key: &'static str, ty: ValueType) -> Param {
    Param { key, ty, need: Need::Nullable }
}
const fn a(name: &'static str, key: &'static str) -> LuaArg {
    LuaArg { name, key, optional: false, default: None, fill: Fill::Value }
}
const fn o(name: &'static str, key: &'static str) -> LuaArg {
    LuaArg { name, key, optional: true, default: None, fill: Fill::Value }
}
const fn d(name: &'static str, key: &'static str, default: Default) -> LuaArg {
    LuaArg { name, key, optional: true, default: Some(default), fill: Fill::Value }
}
const fn chain(name: &'static str, key: &'static str) -> LuaArg {
    LuaArg { name, key, optional: false, default: None, fill: Fill::Chain }
}
const fn cached_target() -> LuaArg {
    LuaArg { name: "target", key: "target", optional: true, default: None, fill: Fill::CacheTarget }
}
const fn file(name: &'static str, key: &'static str) -> LuaArg {
    LuaArg { name, key, optional: false, default: None, fill: Fill::File }
}
const fn merge(name: &'static str) -> LuaArg {
    LuaArg { name, key: "", optional: true, default: None, fill: Fill::Merge }
}
const fn lua(name: &'static str, args: &'static [LuaArg]) -> Option<LuaCall> {
    Some(LuaCall { name, args })
}

use Encoding::{Json, Multipart, Query};
use HttpMethod::{Get, Post};
use ValueType::{Bool, Chain, File, Int, Long, LongList, Object, StringList};
const STR: ValueType = ValueType::String;

#[allow(clippy::too_many_arguments)]
const fn cmd(
    name: &'static str,
    sub: Option<&'static str>,
    method: HttpMethod,
    path: &'static str,
    params: &'static [Param],
    reply: Reply,
    lua: Option<LuaCall>,
    doc: &'static str,
) -> Command {
    let encoding = match method {
        Get => Query,
        Post => Json,
    };
    Command {
        name,
        sub,
        method,
        path,
        encoding,
        session: true,
        transport: Transport::Both,
        params,
        reply,
        lua,
        doc,
    }
}

const fn http_only(mut c: Command) -> Command {
    c.transport = Transport::HttpOnly;
    c
}
const fn upload(mut c: Command) -> Command {
    c.transport = Transport::Upload;
    c.encoding = Multipart;
    c
}
const fn sessionless(mut c: Command) -> Command {
    c.session = false;
    c
}

const QUEUE: &[Param] = &[opt("count", Int)];
const FILE_LOC: [Param; 5] =
    [opt("id", STR), opt("path", STR), opt("target", Long), opt("group", Long), opt("qq", Long)];
const RESP: &[Param] = &[
    req("eventId", Long),
    req("fromId", Long),
    req("groupId", Long),
    req("operate", Int),
    req("message", STR),
];
const RESP_ARGS: &[LuaArg] = &[
    a("event_id", "eventId"),
    a("from_id", "fromId"),
    a("group_id", "groupId"),
    a("operate", "operate"),
    d("msg", "message", Default::Str("")),
];
const SEND_RESULT: Reply = Reply::MessageId;

macro_rules! file_params {
    ($($extra:expr),* $(,)?) => {
        &[FILE_LOC[0], FILE_LOC[1], FILE_LOC[2], FILE_LOC[3], FILE_LOC[4], $($extra),*]
    };
}

#[rustfmt::skip]
const TABLE: [Command; 60] = [
    // Session and the unread queue (http adapter only).
    sessionless(http_only(cmd("verify", None, Post, "/verify", &[req("verifyKey", STR)], Reply::Session, None,
        "Open an unbound session with the verify key."))),
    http_only(cmd("bind", None, Post, "/bind", &[req("sessionKey", STR), req("qq", Long)], Reply::Status, None,
        "Bind a session to a bot account.")),
    http_only(cmd("release", None, Post, "/release", &[req("sessionKey", STR), req("qq", Long)], Reply::Status, None,
        "Release a session.")),
    http_only(cmd("countMessage", None, Get, "/countMessage", &[], Reply::Data, None,
        "Count the events waiting in the session's queue.")),
    http_only(cmd("fetchMessage", None, Get, "/fetchMessage", QUEUE, Reply::Data, None,
        "Take the oldest queued events.")),
    http_only(cmd("fetchLatestMessage", None, Get, "/fetchLatestMessage", QUEUE, Reply::Data, None,
        "Take the newest queued events, newest first.")),
    http_only(cmd("peekMessage", None, Get, "/peekMessage", QUEUE, Reply::Data, None,
        "Read the oldest queued events without taking them.")),
    http_only(cmd("peakMessage", None, Get, "/peakMessage", QUEUE, Reply::Data, None,
        "Legacy spelling of peekMessage.")),
    http_only(cmd("peekLatestMessage", None, Get, "/peekLatestMessage", QUEUE, Reply::Data, None,
        "Read the newest queued events without taking them.")),
    // Information.
    sessionless(cmd("about", None, Get, "/about", &[], Reply::Data, lua("about", &[]),
        "The plugin's version.")),
    sessionless(cmd("botList", None, Get, "/botList", &[], Reply::Data, lua("botList", &[]),
        "The QQ numbers of the logged-in bots.")),
    cmd("sessionInfo", None, Get, "/sessionInfo", &[], Reply::Data, lua("sessionInfo", &[]),
        "The session key and the bound bot."),
    cmd("messageFromId", None, Get, "/messageFromId", &[req("messageId", Int), req("target", Long)], Reply::Data,
        lua("messageFromId", &[a("id", "messageId"), cached_target()]),
        "A cached message by its id in a conversation."),
    cmd("friendList", None, Get, "/friendList", &[], Reply::Data, lua("friendList", &[]),
        "The bot's friends."),
    cmd("groupList", None, Get, "/groupList", &[], Reply::Data, lua("groupList", &[]),
        "The bot's groups."),
    cmd("memberList", None, Get, "/memberList", &[req("target", Long)], Reply::Data,
        lua("memberList", &[a("group", "target")]),
        "The members of a group."),
    cmd("latestMemberList", None, Get, "/latestMemberList", &[req("target", Long), nul("memberIds", LongList)], Reply::Data,
        lua("latestMemberList", &[a("group", "target"), o("member_ids", "memberIds")]),
        "The members of a group, fetched afresh (all of them, or the ids given)."),
    cmd("botProfile", None, Get, "/botProfile", &[], Reply::Bare, lua("botProfile", &[]),
        "The bot's own profile."),
    cmd("friendProfile", None, Get, "/friendProfile", &[req("target", Long)], Reply::Bare,
        lua("friendProfile", &[a("qq", "target")]),
        "A friend's profile."),
    cmd("memberProfile", None, Get, "/memberProfile", &[req("target", Long), req("memberId", Long)], Reply::Bare,
        lua("memberProfile", &[a("group", "target"), a("qq", "memberId")]),
        "A group member's profile."),
    cmd("userProfile", None, Get, "/userProfile", &[req("target", Long)], Reply::Bare,
        lua("userProfile", &[a("qq", "target")]),
        "Any QQ user's profile."),
    // Sending.
    cmd("sendFriendMessage", None, Post, "/sendFriendMessage",
        &[opt("target", Long), opt("qq", Long), opt("quote", Int), req("messageChain", Chain)], SEND_RESULT,
        lua("sendFriendMessage", &[a("qq", "target"), chain("chain", "messageChain"), o("quote", "quote")]),
        "Send a message to a friend; returns its message id."),
    cmd("sendGroupMessage", None, Post, "/sendGroupMessage",
        &[opt("target", Long), opt("group", Long), opt("quote", Int), req("messageChain", Chain)], SEND_RESULT,
        lua("sendGroupMessage", &[a("group", "target"), chain("chain", "messageChain"), o("quote", "quote")]),
        "Send a message to a group; returns its message id."),
    cmd("sendTempMessage", None, Post, "/sendTempMessage",
        // The server takes both as optional and answers code 5 when either is missing.
        &[opt("qq", Long), opt("group", Long), opt("quote", Int), req("messageChain", Chain)], SEND_RESULT,
        lua("sendTempMessage", &[a("qq", "qq"), a("group", "group"), chain("chain", "messageChain"), o("quote", "quote")]),
        "Send a temporary message to a group member; returns its message id."),
    cmd("sendOtherClientMessage", None, Post, "/sendOtherClientMessage",
        &[req("target", Long), opt("quote", Int), req("messageChain", Chain)], SEND_RESULT,
        lua("sendOtherClientMessage", &[a("client", "target"), chain("chain", "messageChain"), o("quote", "quote")]),
        "Send a message to another client of the bot's account; returns its message id."),
    cmd("sendImageMessage", None, Post, "/sendImageMessage",
        &[opt("target", Long), opt("qq", Long), opt("group", Long), req("urls", StringList)], Reply::Data,
        lua("sendImageMessage", &[a("target", "target"), a("urls", "urls")]),
        "Send images by URL to a friend (or else a group); returns their image ids."),
    cmd("sendNudge", None, Post, "/sendNudge", &[req("target", Long), req("subject", Long), req("kind", STR)], Reply::Status,
        lua("sendNudge", &[a("target", "target"), a("subject", "subject"), a("kind", "kind")]),
        "Nudge someone in a friend chat or a group (kind: Friend, Group or Stranger)."),
    cmd("recall", None, Post, "/recall", &[req("target", Long), req("messageId", Int)], Reply::Status,
        lua("recall", &[a("id", "messageId"), cached_target()]),
        "Recall a message."),
    cmd("roamingMessages", None, Post, "/roamingMessages",
        &[req("timeStart", Long), req("timeEnd", Long), nul("target", Long), nul("qq", Long), nul("group", Long)], Reply::Data,
        lua("roamingMessages", &[a("target", "target"), d("time_start", "timeStart", Default::Int(0)),
            d("time_end", "timeEnd", Default::Int(i64::MAX))]),
        "Messages of a conversation from the server's roaming history."),
    // Group files.
    cmd("file_list", None, Get, "/file/list",
        file_params![opt("withDownloadInfo", Bool), opt("offset", Int), opt("size", Int)], Reply::Data,
        lua("file_list", &[a("group", "target"), d("path_id", "id", Default::Str(""))]),
        "List a folder of a group's files."),
    cmd("file_info", None, Get, "/file/info", file_params![opt("withDownloadInfo", Bool)], Reply::Data,
        lua("file_info", &[a("group", "target"), a("path_id", "id")]),
        "Details of one group file or folder."),
    cmd("file_mkdir", None, Post, "/file/mkdir", file_params![req("directoryName", STR)], Reply::Data,
        lua("file_mkdir", &[a("group", "target"), a("path_id", "id"), d("name", "directoryName", Default::Str("New Folder"))]),
        "Make a folder in a group's files."),
    upload(cmd("file_upload", None, Post, "/file/upload",
        &[req("type", STR), req("target", Long), req("path", STR), req("file", File)], Reply::Data,
        lua("file_upload", &[a("group", "target"), d("path", "path", Default::Str("")), file("file", "file"),
            d("type", "type", Default::Str("group"))]),
        "Upload a file into a folder of a group's files (path \"\" is the root); returns the new file.")),
    cmd("file_delete", None, Post, "/file/delete", file_params![], Reply::Status,
        lua("file_delete", &[a("group", "target"), a("path_id", "id")]),
        "Delete a group file or folder."),
    cmd("file_move", None, Post, "/file/move", file_params![opt("moveTo", STR), opt("moveToPath", STR)], Reply::Status,
        lua("file_move", &[a("group", "target"), a("path_id", "id"), a("move_to_id", "moveTo")]),
        "Move a group file into another folder."),
    cmd("file_rename", None, Post, "/file/rename", file_params![req("renameTo", STR)], Reply::Status,
        lua("file_rename", &[a("group", "target"), a("path_id", "id"), a("name", "renameTo")]),
        "Rename a group file or folder."),
    // Uploads.
    upload(cmd("uploadImage", None, Post, "/uploadImage", &[req("type", STR), opt("url", STR), opt("img", File)], Reply::Bare,
        lua("uploadImage", &[a("kind", "type"), file("image", "img")]),
        "Upload an image (kind: friend, group or temp); returns its imageId and url.")),
    upload(cmd("uploadVoice", None, Post, "/uploadVoice", &[req("type", STR), opt("url", STR), opt("voice", File)], Reply::Bare,
        lua("uploadVoice", &[a("kind", "type"), file("voice", "voice")]),
        "Upload a voice clip (kind: friend or group); returns its voiceId.")),
    upload(cmd("uploadShortVideo", None, Post, "/uploadShortVideo",
        &[req("type", STR), req("video", File), req("thumbnail", File)], Reply::Bare,
        lua("uploadShortVideo", &[a("kind", "type"), file("video", "video"), file("thumbnail", "thumbnail")]),
        "Upload a short video with its thumbnail (kind: friend or group); returns its videoId.")),
    // Friends and groups.
    cmd("deleteFriend", None, Post, "/deleteFriend", &[req("target", Long)], Reply::Status,
        lua("deleteFriend", &[a("qq", "target")]),
        "Delete a friend."),
    cmd("mute", None, Post, "/mute", &[req("target", Long), opt("memberId", Long), opt("time", Int)], Reply::Status,
        lua("mute", &[a("group", "target"), a("qq", "memberId"), d("seconds", "time", Default::Int(600))]),
        "Mute a group member (needs admin)."),
    cmd("unmute", None, Post, "/unmute", &[req("target", Long), req("memberId", Long)], Reply::Status,
        lua("unmute", &[a("group", "target"), a("qq", "memberId")]),
        "Unmute a group member (needs admin)."),
    cmd("kick", None, Post, "/kick", &[req("target", Long), req("memberId", Long), opt("block", Bool), opt("msg", STR)], Reply::Status,
        lua("kick", &[a("group", "target"), a("qq", "memberId"), d("msg", "msg", Default::Str("您已被移出群聊")),
            d("block", "block", Default::Bool(false))]),
        "Remove a member from a group (needs admin); block forbids re-joining."),
    cmd("quit", None, Post, "/quit", &[req("target", Long)], Reply::Status,
        lua("quit", &[a("group", "target")]),
        "Leave a group."),
    cmd("muteAll", None, Post, "/muteAll", &[req("target", Long)], Reply::Status,
        lua("muteAll", &[a("group", "target")]),
        "Mute everyone in a group (needs admin)."),
    cmd("unmuteAll", None, Post, "/unmuteAll", &[req("target", Long)], Reply::Status,
        lua("unmuteAll", &[a("group", "target")]),
        "End a group's mute-all (needs admin)."),
    cmd("setEssence", None, Post, "/setEssence", &[req("target", Long), req("messageId", Int)], Reply::Status,
        lua("setEssence", &[a("id", "messageId"), cached_target()]),
        "Mark a group message as essence (needs admin)."),
    cmd("groupConfig", Some("get"), Get, "/groupConfig", &[req("target", Long)], Reply::Bare,
        lua("groupConfig_get", &[a("group", "target")]),
        "A group's settings."),
    cmd("groupConfig", Some("update"), Post, "/groupConfig", &[req("target", Long), req("config", Object)], Reply::Status,
        lua("groupConfig_update", &[a("group", "target"), a("config", "config")]),
        "Change a group's settings (name, allowMemberInvite, …)."),
    cmd("memberInfo", Some("get"), Get, "/memberInfo", &[req("target", Long), req("memberId", Long)], Reply::Bare,
        lua("memberInfo_get", &[a("group", "target"), a("qq", "memberId")]),
        "A member's details, with activity."),
    cmd("memberInfo", Some("update"), Post, "/memberInfo",
        &[req("target", Long), req("memberId", Long), req("info", Object)], Reply::Status,
        lua("memberInfo_update", &[a("group", "target"), a("qq", "memberId"), a("info", "info")]),
        "Change a member's card name or special title."),
    cmd("memberAdmin", None, Post, "/memberAdmin", &[req("target", Long), req("memberId", Long), req("assign", Bool)], Reply::Status,
        lua("memberAdmin", &[a("group", "target"), a("qq", "memberId"), a("is_admin", "assign")]),
        "Make a member an admin or take it back (needs owner)."),
    // Announcements.
    cmd("anno_list", None, Get, "/anno/list", &[req("id", Long), opt("offset", Int), opt("size", Int)], Reply::Data,
        lua("anno_list", &[a("group", "id"), o("offset", "offset"), o("size", "size")]),
        "A group's announcements."),
    cmd("anno_publish", None, Post, "/anno/publish",
        &[req("target", Long), req("content", STR), opt("sendToNewMember", Bool), opt("pinned", Bool),
          opt("showEditCard", Bool), opt("showPopup", Bool), opt("requireConfirmation", Bool),
          opt("imageUrl", STR), opt("imagePath", STR), opt("imageBase64", STR)], Reply::Data,
        lua("anno_publish", &[a("group", "target"), a("content", "content"), merge("options")]),
        "Publish an announcement; options: pinned, sendToNewMember, showPopup, requireConfirmation, imageUrl, …"),
    cmd("anno_delete", None, Post, "/anno/delete", &[req("id", Long), req("fid", STR)], Reply::Status,
        lua("anno_delete", &[a("group", "id"), a("fid", "fid")]),
        "Delete an announcement."),
    // Requests.
    cmd("resp_newFriendRequestEvent", None, Post, "/resp/newFriendRequestEvent", RESP, Reply::Status,
        lua("resp_newFriendRequestEvent", RESP_ARGS),
        "Answer a friend request (operate: 0 accept, 1 reject, 2 reject and block)."),
    cmd("resp_memberJoinRequestEvent", None, Post, "/resp/memberJoinRequestEvent", RESP, Reply::Status,
        lua("resp_memberJoinRequestEvent", RESP_ARGS),
        "Answer a join request (operate: 0 accept, 1 reject, 2 ignore, 3 reject and block, 4 ignore and block)."),
    cmd("resp_botInvitedJoinGroupRequestEvent", None, Post, "/resp/botInvitedJoinGroupRequestEvent", RESP, Reply::Status,
        lua("resp_botInvitedJoinGroupRequestEvent", RESP_ARGS),
        "Answer an invitation into a group (operate: 0 accept, 1 reject)."),
    // Console commands.
    cmd("cmd_execute", None, Post, "/cmd/execute", &[req("command", Chain)], Reply::Status,
        lua("cmd_execute", &[chain("command", "command")]),
        "Run a console command (the chain's first element is its name)."),
    cmd("cmd_register", None, Post, "/cmd/register",
        &[req("name", STR), opt("alias", StringList), opt("usage", STR), opt("description", STR)], Reply::Status,
        lua("cmd_register", &[a("name", "name"), o("alias", "alias"), o("usage", "usage"), o("description", "description")]),
        "Register a console command; its use arrives as CommandExecutedEvent."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_unique() {
        for (i, c) in COMMANDS.iter().enumerate() {
            for other in &COMMANDS[i + 1..] {
                assert!(!(c.name == other.name && c.sub == other.sub), "{} twice", c.label());
                assert!(
                    !(c.path == other.path && c.method == other.method),
                    "{} {} twice",
                    c.path,
                    c.name
                );
            }
        }
    }

    #[test]
    fn lua_arguments_name_real_keys() {
        for c in COMMANDS {
            let Some(l) = c.lua else { continue };
            for arg in l.args {
                if arg.fill != Fill::Merge {
                    assert!(
                        c.param(arg.key).is_some(),
                        "{}: {} fills unknown key {}",
                        l.name,
                        arg.name,
                        arg.key
                    );
                }
            }
            assert!(by_lua_name(l.name).is_some());
        }
    }

    #[test]
    fn path_follows_the_name() {
        for c in COMMANDS {
            assert_eq!(c.path, format!("/{}", c.name.replace('_', "/")), "{}", c.name);
        }
    }
}
