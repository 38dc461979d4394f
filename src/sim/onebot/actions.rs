//! OneBot actions, carried out as the matching mirai-api-http commands on the world and
//! answered in NapCat's shapes.

use serde_json::{json, Map, Value};

use super::convert::{self, loose_i64};
use super::events::{self, Ctx};
use crate::protocol::commands::{Command, COMMANDS};
use crate::sim::content::Content;
use crate::sim::handlers::{self, FilePart, Form};
use crate::sim::world::{now, Group, Member, Permission, RequestKind, World, ROOT_FOLDER};
use crate::sim::{lock, Inner};

/// The session name commands run under.
const SESSION: &str = "onebot";

/// How many members a simulated group may have.
const MAX_MEMBERS: i64 = 200;

/// Why an action failed, as a OneBot retcode.
#[derive(Debug)]
enum Failed {
    /// 1400: the frame or its params cannot be read.
    Bad(String),
    /// 1404: no such action.
    Unknown(String),
    /// 1200: the world refused (NapCat's code for any failure inside an action).
    World(String),
}

impl Failed {
    fn retcode(&self) -> i64 {
        match self {
            Self::Bad(_) => 1400,
            Self::Unknown(_) => 1404,
            Self::World(_) => 1200,
        }
    }

    fn text(&self) -> &str {
        match self {
            Self::Bad(t) | Self::Unknown(t) | Self::World(t) => t,
        }
    }
}

type Answer = Result<Value, Failed>;

/// The answer frame for one text frame, and the action's name if one was read.
pub(super) fn handle(inner: &Inner, text: &str) -> (String, Option<String>) {
    let Ok(Value::Object(mut frame)) = serde_json::from_str::<Value>(text) else {
        return (reply(&Value::Null, Err(Failed::Bad("json解析失败".to_owned()))), None);
    };
    let echo = frame.remove("echo").unwrap_or(Value::Null);
    let Some(Value::String(action)) = frame.remove("action") else {
        return (reply(&echo, Err(Failed::Bad("action 缺失".to_owned()))), None);
    };
    let params = match frame.remove("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p,
        Some(_) => {
            inner.record("onebot", &action, None, Value::Null);
            return (reply(&echo, Err(Failed::Bad("params 不是对象".to_owned()))), Some(action));
        }
    };
    inner.record("onebot", &action, None, Value::Object(params.clone()));
    let (name, queued) =
        match action.strip_suffix("_async").or_else(|| action.strip_suffix("_rate_limited")) {
            Some(base) => (base, true),
            None => (action.as_str(), false),
        };
    let result = run(inner, name, &params);
    let text = if queued && result.is_ok() {
        json!({ "status": "async", "retcode": 1, "data": null, "message": "", "wording": "", "echo": echo })
            .to_string()
    } else {
        reply(&echo, result)
    };
    (text, Some(action))
}

/// The answer envelope.
fn reply(echo: &Value, result: Answer) -> String {
    match result {
        Ok(data) => json!({ "status": "ok", "retcode": 0, "data": data, "message": "", "wording": "", "echo": echo }),
        Err(f) => json!({
            "status": "failed", "retcode": f.retcode(), "data": null, "message": f.text(),
            "wording": f.text(), "echo": echo,
        }),
    }
    .to_string()
}

/// An integer parameter (a number or a numeric string).
fn int(p: &Map<String, Value>, k: &str) -> Option<i64> {
    p.get(k).and_then(loose_i64)
}

fn need(p: &Map<String, Value>, k: &str) -> Result<i64, Failed> {
    int(p, k).ok_or_else(|| Failed::Bad(format!("参数 {k} 缺失或不是数字")))
}

/// A boolean parameter: `true`/`false`, 0/1, `"yes"`/`"no"` and their string forms.
fn boolean(p: &Map<String, Value>, k: &str, default: bool) -> bool {
    match p.get(k) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() != Some(0),
        Some(Value::String(s)) => !matches!(s.as_str(), "false" | "0" | "no" | ""),
        _ => default,
    }
}

fn string<'a>(p: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    p.get(k).and_then(Value::as_str)
}

/// A mirai-api-http command by name and subcommand.
fn command(name: &str, sub: Option<&str>) -> Result<&'static Command, Failed> {
    COMMANDS
        .iter()
        .find(|c| c.name == name && (c.sub.is_none() || c.sub == sub))
        .ok_or_else(|| Failed::Unknown(format!("不支持的API {name}")))
}

/// Run a mirai-api-http command on the world; its answer, or its failure's text.
fn mah(inner: &Inner, name: &str, sub: Option<&str>, content: Value) -> Answer {
    let cmd = command(name, sub)?;
    let content: Content = match content {
        Value::Object(o) => o,
        _ => Content::new(),
    };
    inner.try_execute(cmd, &content, SESSION).map_err(|f| Failed::World(f.to_string()))
}

fn not_found(what: &str) -> Failed {
    Failed::World(format!("{what}不存在"))
}

/// Where a message goes.
#[derive(Debug, Clone, Copy)]
enum To {
    Friend(i64),
    Group(i64),
    Temp { group: i64, user: i64 },
}

impl To {
    fn conversation(self) -> i64 {
        match self {
            Self::Friend(id) | Self::Group(id) | Self::Temp { user: id, .. } => id,
        }
    }
}

fn run(inner: &Inner, action: &str, p: &Map<String, Value>) -> Answer {
    let bot = inner.cfg.qq;
    match action {
        "get_login_info" => {
            let w = inner.world();
            Ok(json!({ "user_id": w.bot.id, "nickname": w.bot.nickname }))
        }
        "get_version_info" => Ok(json!({
            "app_name": "mahua-sim", "app_version": env!("CARGO_PKG_VERSION"), "protocol_version": "v11",
        })),
        "get_status" => Ok(json!({ "online": true, "good": true, "stat": {} })),
        "can_send_image" | "can_send_record" => Ok(json!({ "yes": true })),
        "get_friend_list" => {
            let w = inner.world();
            Ok(w.friends
                .iter()
                .map(|f| json!({ "user_id": f.id, "nickname": f.nickname, "remark": f.remark }))
                .collect())
        }
        "get_group_list" => Ok(inner.world().groups.iter().map(group_json).collect()),
        "get_group_info" => {
            let w = inner.world();
            Ok(group_json(w.group(need(p, "group_id")?).ok_or_else(|| not_found("群"))?))
        }
        "get_group_member_list" => {
            let w = inner.world();
            let g = w.group(need(p, "group_id")?).ok_or_else(|| not_found("群"))?;
            let me = bot_member(&w, g);
            Ok(std::iter::once(&me).chain(&g.members).map(|m| member_json(g, m)).collect())
        }
        "get_group_member_info" => {
            let w = inner.world();
            let g = w.group(need(p, "group_id")?).ok_or_else(|| not_found("群"))?;
            let user = need(p, "user_id")?;
            if user == w.bot.id {
                return Ok(member_json(g, &bot_member(&w, g)));
            }
            Ok(member_json(g, g.member(user).ok_or_else(|| not_found("群成员"))?))
        }
        "get_stranger_info" => {
            let user = need(p, "user_id")?;
            let profile = inner.world().profile(user);
            Ok(json!({
                "user_id": user, "nickname": profile.nickname, "sex": profile.sex.to_lowercase(),
                "age": profile.age, "level": profile.level, "qqLevel": profile.level,
                "long_nick": profile.sign, "sign": profile.sign, "email": profile.email, "remark": "",
            }))
        }
        "send_private_msg" => {
            let user = need(p, "user_id")?;
            let to = match int(p, "group_id") {
                Some(group) if group > 0 => To::Temp { group, user },
                _ => To::Friend(user),
            };
            send(inner, to, p)
        }
        "send_group_msg" => send(inner, To::Group(need(p, "group_id")?), p),
        "send_msg" => {
            let group = int(p, "group_id");
            let to = match (string(p, "message_type"), group) {
                (Some("group"), _) | (None, Some(_)) => To::Group(need(p, "group_id")?),
                _ => To::Friend(need(p, "user_id")?),
            };
            send(inner, to, p)
        }
        "send_group_forward_msg" => send(inner, To::Group(need(p, "group_id")?), p),
        "send_private_forward_msg" => send(inner, To::Friend(need(p, "user_id")?), p),
        "get_forward_msg" => {
            let id = p.get("id").or_else(|| p.get("message_id")).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let handles = lock(&inner.onebot.handles);
            let nodes = id.and_then(|id| handles.forward(&id).cloned());
            Ok(json!({ "messages": nodes.ok_or_else(|| not_found("合并转发消息"))? }))
        }
        "delete_msg" => {
            let (conv, id) = local(inner, p)?;
            mah(inner, "recall", None, json!({ "target": conv, "messageId": id }))
                .map(|_| Value::Null)
        }
        "get_msg" => {
            let (conv, id) = local(inner, p)?;
            let cached =
                inner.world().message(conv, id).cloned().ok_or_else(|| not_found("消息"))?;
            let mut handles = lock(&inner.onebot.handles);
            let mut cx = Ctx { bot, handles: &mut handles };
            events::message(&cached.packet, conv, cached.from_bot, &mut cx)
                .ok_or_else(|| not_found("消息"))
        }
        "get_group_msg_history" => history(inner, need(p, "group_id")?, "GroupMessage", p),
        "get_friend_msg_history" => history(inner, need(p, "user_id")?, "FriendMessage", p),
        "set_group_ban" => {
            let (group, user) = (need(p, "group_id")?, need(p, "user_id")?);
            let duration = int(p, "duration").unwrap_or(0);
            if duration > 0 {
                let content = json!({ "target": group, "memberId": user, "time": duration });
                mah(inner, "mute", None, content).map(|_| Value::Null)
            } else {
                let content = json!({ "target": group, "memberId": user });
                mah(inner, "unmute", None, content).map(|_| Value::Null)
            }
        }
        "set_group_whole_ban" => {
            let name = if boolean(p, "enable", true) { "muteAll" } else { "unmuteAll" };
            mah(inner, name, None, json!({ "target": need(p, "group_id")? })).map(|_| Value::Null)
        }
        "set_group_kick" => {
            let content = json!({
                "target": need(p, "group_id")?, "memberId": need(p, "user_id")?,
                "block": boolean(p, "reject_add_request", false), "msg": "",
            });
            mah(inner, "kick", None, content).map(|_| Value::Null)
        }
        "set_group_leave" => {
            mah(inner, "quit", None, json!({ "target": need(p, "group_id")? })).map(|_| Value::Null)
        }
        "set_group_card" | "set_group_special_title" => {
            let info = if action == "set_group_card" {
                json!({ "name": string(p, "card").unwrap_or_default() })
            } else {
                json!({ "specialTitle": string(p, "special_title").unwrap_or_default() })
            };
            let content = json!({ "target": need(p, "group_id")?, "memberId": need(p, "user_id")?, "info": info });
            mah(inner, "memberInfo", Some("update"), content).map(|_| Value::Null)
        }
        "set_group_name" => {
            let name = string(p, "group_name")
                .ok_or_else(|| Failed::Bad("参数 group_name 缺失".to_owned()))?;
            let content = json!({ "target": need(p, "group_id")?, "config": { "name": name } });
            mah(inner, "groupConfig", Some("update"), content).map(|_| Value::Null)
        }
        "set_group_admin" => {
            let content = json!({
                "target": need(p, "group_id")?, "memberId": need(p, "user_id")?, "assign": boolean(p, "enable", true),
            });
            mah(inner, "memberAdmin", None, content).map(|_| Value::Null)
        }
        "set_essence_msg" => {
            let (conv, id) = local(inner, p)?;
            mah(inner, "setEssence", None, json!({ "target": conv, "messageId": id }))
                .map(|_| Value::Null)
        }
        "delete_friend" => {
            let user = int(p, "user_id").or_else(|| int(p, "friend_id"));
            let user = user.ok_or_else(|| Failed::Bad("参数 user_id 缺失".to_owned()))?;
            mah(inner, "deleteFriend", None, json!({ "target": user })).map(|_| Value::Null)
        }
        "set_friend_add_request" | "set_group_add_request" => answer_request(inner, action, p),
        "group_poke" => nudge(inner, need(p, "user_id")?, need(p, "group_id")?, "Group"),
        "friend_poke" => {
            let user = need(p, "user_id")?;
            nudge(inner, int(p, "target_id").unwrap_or(user), user, "Friend")
        }
        "send_poke" => match int(p, "group_id") {
            Some(group) => nudge(inner, need(p, "user_id")?, group, "Group"),
            None => {
                let user = need(p, "user_id")?;
                nudge(inner, int(p, "target_id").unwrap_or(user), user, "Friend")
            }
        },
        "upload_group_file" => upload_file(inner, p),
        "get_group_root_files" => list_files(inner, need(p, "group_id")?, ROOT_FOLDER),
        "get_group_files_by_folder" => {
            let folder =
                string(p, "folder_id").or_else(|| string(p, "folder")).unwrap_or(ROOT_FOLDER);
            list_files(inner, need(p, "group_id")?, folder)
        }
        "create_group_file_folder" => {
            let name = string(p, "name").or_else(|| string(p, "folder_name"));
            let name = name.ok_or_else(|| Failed::Bad("参数 name 缺失".to_owned()))?;
            let parent = string(p, "parent_id").filter(|s| !s.is_empty()).unwrap_or(ROOT_FOLDER);
            let content =
                json!({ "target": need(p, "group_id")?, "id": parent, "directoryName": name });
            let made = mah(inner, "file_mkdir", None, content)?;
            Ok(json!({ "folder_id": made["data"]["id"], "folder_name": name }))
        }
        "delete_group_file" | "delete_group_folder" => {
            let key = if action == "delete_group_file" { "file_id" } else { "folder_id" };
            let id = string(p, key).ok_or_else(|| Failed::Bad(format!("参数 {key} 缺失")))?;
            mah(inner, "file_delete", None, json!({ "target": need(p, "group_id")?, "id": id }))
                .map(|_| Value::Null)
        }
        "_get_group_notice" => {
            let list = mah(inner, "anno_list", None, json!({ "id": need(p, "group_id")? }))?;
            Ok(list["data"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| {
                    json!({
                        "notice_id": a["fid"], "sender_id": a["senderId"], "publish_time": a["publicationTime"],
                        "message": { "text": a["content"], "images": [] },
                    })
                })
                .collect())
        }
        "_send_group_notice" => {
            let content =
                string(p, "content").ok_or_else(|| Failed::Bad("参数 content 缺失".to_owned()))?;
            let content = json!({ "target": need(p, "group_id")?, "content": content });
            mah(inner, "anno_publish", None, content).map(|_| Value::Null)
        }
        "_del_group_notice" => {
            let fid = string(p, "notice_id")
                .ok_or_else(|| Failed::Bad("参数 notice_id 缺失".to_owned()))?;
            mah(inner, "anno_delete", None, json!({ "id": need(p, "group_id")?, "fid": fid }))
                .map(|_| Value::Null)
        }
        other => Err(Failed::Unknown(format!("不支持的API {other}"))),
    }
}

/// The world message a `message_id` parameter names.
fn local(inner: &Inner, p: &Map<String, Value>) -> Result<(i64, i64), Failed> {
    let id = need(p, "message_id")?;
    lock(&inner.onebot.handles).local(id).ok_or_else(|| not_found("消息"))
}

fn group_json(g: &Group) -> Value {
    json!({
        "group_id": g.id, "group_name": g.name, "group_remark": "",
        "member_count": i64::try_from(g.members.len()).unwrap_or(i64::MAX).saturating_add(1),
        "max_member_count": MAX_MEMBERS, "group_all_shut": if g.config.mute_all { -1 } else { 0 },
    })
}

/// The bot as a member of one of its groups.
fn bot_member(w: &World, g: &Group) -> Member {
    let mut me = Member::new(w.bot.id, &w.bot.nickname, g.permission);
    me.mute_time_remaining = g.bot_mute_remaining;
    me
}

fn member_json(g: &Group, m: &Member) -> Value {
    let role = match m.permission {
        Permission::Owner => "owner",
        Permission::Administrator => "admin",
        Permission::Member => "member",
    };
    let shut_up = if m.mute_time_remaining > 0 { now() + m.mute_time_remaining } else { 0 };
    json!({
        "group_id": g.id, "user_id": m.id, "nickname": m.name, "card": m.name, "sex": "unknown",
        "age": 0, "area": "", "level": m.active.rank.to_string(), "qq_level": 0, "join_time": m.join_timestamp,
        "last_sent_time": m.last_speak_timestamp, "title_expire_time": 0, "unfriendly": false,
        "card_changeable": g.permission.is_operator(), "is_robot": false, "shut_up_timestamp": shut_up,
        "role": role, "title": m.special_title,
    })
}

/// MAH forward nodes for OneBot `node` segments: `{id}` copies a known message, others
/// carry `user_id`/`uin`, `nickname`/`name` and `content`.
fn nodes(inner: &Inner, segments: &[Value]) -> Result<Vec<Value>, Failed> {
    let mut out = Vec::new();
    for s in segments.iter().filter(|s| s["type"] == "node") {
        let d = s["data"].as_object().cloned().unwrap_or_default();
        if let Some(id) = int(&d, "id") {
            let (conv, mid) =
                lock(&inner.onebot.handles).local(id).ok_or_else(|| not_found("消息"))?;
            let w = inner.world();
            let m = w.message(conv, mid).ok_or_else(|| not_found("消息"))?;
            let chain: Vec<Value> = m.packet["messageChain"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| e["type"] != "Source")
                .cloned()
                .collect();
            let name = m.packet["sender"]["memberName"]
                .as_str()
                .or_else(|| m.packet["sender"]["nickname"].as_str())
                .unwrap_or_default();
            out.push(json!({ "senderId": m.author, "senderName": name, "time": m.time, "messageChain": chain }));
            continue;
        }
        let user = int(&d, "user_id").or_else(|| int(&d, "uin")).unwrap_or(inner.cfg.qq);
        let name = string(&d, "nickname").or_else(|| string(&d, "name")).unwrap_or_default();
        let content = convert::parse_message(d.get("content").unwrap_or(&Value::Null), false);
        let chain = if content.iter().any(|s| s["type"] == "node") {
            vec![json!({ "type": "Forward", "display": null, "nodeList": nodes(inner, &content)? })]
        } else {
            convert::segments_to_chain(&content).0
        };
        out.push(
            json!({ "senderId": user, "senderName": name, "time": now(), "messageChain": chain }),
        );
    }
    Ok(out)
}

/// Send `message` (or `messages` for the forward actions) to `to`: `{message_id}`, plus
/// `forward_id` for a forward.
fn send(inner: &Inner, to: To, p: &Map<String, Value>) -> Answer {
    let conv = to.conversation();
    let message = p.get("message").or_else(|| p.get("messages")).unwrap_or(&Value::Null);
    let segments = convert::parse_message(message, boolean(p, "auto_escape", false));
    let is_forward = segments.iter().any(|s| s["type"] == "node");
    let (chain, quote) = if is_forward {
        let list = nodes(inner, &segments)?;
        (vec![json!({ "type": "Forward", "display": null, "nodeList": list })], None)
    } else {
        convert::segments_to_chain(&segments)
    };
    if chain.is_empty() {
        return Err(Failed::World("消息体无法解析, 请检查是否发送了不支持的消息类型".to_owned()));
    }
    let quote = match quote {
        Some(q) => match lock(&inner.onebot.handles).local(q) {
            Some((c, id)) if c == conv => Some(id),
            _ => return Err(not_found("回复的消息")),
        },
        None => None,
    };
    let (name, mut content) = match to {
        To::Friend(user) => ("sendFriendMessage", json!({ "target": user })),
        To::Group(group) => ("sendGroupMessage", json!({ "target": group })),
        To::Temp { group, user } => ("sendTempMessage", json!({ "qq": user, "group": group })),
    };
    content["messageChain"] = Value::Array(chain.clone());
    if let Some(q) = quote {
        content["quote"] = json!(q);
    }
    let sent = mah(inner, name, None, content)?;
    let id = sent["messageId"].as_i64().ok_or_else(|| Failed::World("发送失败".to_owned()))?;
    let mut handles = lock(&inner.onebot.handles);
    let message_id = handles.global(conv, id);
    if !is_forward {
        return Ok(json!({ "message_id": message_id }));
    }
    let mut cx = Ctx { bot: inner.cfg.qq, handles: &mut handles };
    let forward = events::segments(&chain, conv, &mut cx);
    let forward_id = forward.first().map(|f| f["data"]["id"].clone()).unwrap_or(Value::Null);
    Ok(json!({ "message_id": message_id, "forward_id": forward_id, "res_id": forward_id }))
}

/// The last `count` messages of a conversation up to `message_seq` (a message id; default
/// the newest), oldest first.
fn history(inner: &Inner, conv: i64, kind: &str, p: &Map<String, Value>) -> Answer {
    let upto = match int(p, "message_seq").or_else(|| int(p, "message_id")).filter(|s| *s > 0) {
        Some(seq) => match lock(&inner.onebot.handles).local(seq) {
            Some((c, id)) if c == conv => Some(id),
            _ => return Err(not_found("消息")),
        },
        None => None,
    };
    let count = usize::try_from(int(p, "count").unwrap_or(20)).unwrap_or(0);
    let picked: Vec<_> = {
        let w = inner.world();
        if kind == "GroupMessage" && w.group(conv).is_none() {
            return Err(not_found("群"));
        }
        let all: Vec<_> = w
            .messages_of(conv)
            .filter(|m| m.packet["type"] == kind && !upto.is_some_and(|u| m.id > u))
            .cloned()
            .collect();
        let skip = all.len().saturating_sub(count);
        all.into_iter().skip(skip).collect()
    };
    let mut handles = lock(&inner.onebot.handles);
    let mut cx = Ctx { bot: inner.cfg.qq, handles: &mut handles };
    let messages: Vec<Value> = picked
        .iter()
        .filter_map(|m| events::message(&m.packet, conv, m.from_bot, &mut cx))
        .collect();
    Ok(json!({ "messages": messages }))
}

/// Answer a friend, join or invitation request by its `flag` (the world's eventId).
fn answer_request(inner: &Inner, action: &str, p: &Map<String, Value>) -> Answer {
    let flag = p.get("flag").and_then(loose_i64).ok_or_else(|| not_found("请求"))?;
    let req = inner.world().request(flag).cloned().ok_or_else(|| not_found("请求"))?;
    let approve = boolean(p, "approve", true);
    let name = match (action, req.kind) {
        ("set_friend_add_request", RequestKind::NewFriend) => "resp_newFriendRequestEvent",
        ("set_group_add_request", RequestKind::MemberJoin) => "resp_memberJoinRequestEvent",
        ("set_group_add_request", RequestKind::BotInvited) => {
            "resp_botInvitedJoinGroupRequestEvent"
        }
        _ => return Err(not_found("请求")),
    };
    let content = json!({
        "eventId": flag, "fromId": req.from, "groupId": req.group, "operate": if approve { 0 } else { 1 },
        "message": string(p, "reason").unwrap_or_default(),
    });
    mah(inner, name, None, content).map(|_| Value::Null)
}

fn nudge(inner: &Inner, target: i64, subject: i64, kind: &str) -> Answer {
    let content = json!({ "target": target, "subject": subject, "kind": kind });
    mah(inner, "sendNudge", None, content).map(|_| Value::Null)
}

/// The bytes a `file` parameter names, as far as their size can be told.
fn file_size(file: &str) -> usize {
    if let Some(b64) = file.strip_prefix("base64://") {
        return b64.trim_end_matches('=').len() * 3 / 4;
    }
    let path = file.strip_prefix("file://").unwrap_or(file);
    std::fs::metadata(path).ok().and_then(|m| usize::try_from(m.len()).ok()).unwrap_or(0)
}

fn upload_file(inner: &Inner, p: &Map<String, Value>) -> Answer {
    let group = need(p, "group_id")?;
    let file = string(p, "file").ok_or_else(|| Failed::Bad("参数 file 缺失".to_owned()))?;
    let name = string(p, "name").map_or_else(
        || file.rsplit(['/', '\\']).next().unwrap_or("file").to_owned(),
        str::to_owned,
    );
    let folder = string(p, "folder").or_else(|| string(p, "folder_id")).unwrap_or_default();
    let cmd = command("file_upload", None)?;
    let result = {
        let mut w = inner.world();
        let g = w.group(group).ok_or_else(|| not_found("群"))?;
        // A folder id names its path; anything else is taken as a path.
        let path = if g.file(folder).is_some() { g.file_path(folder) } else { folder.to_owned() };
        let mut form = Form::default();
        form.text.insert("type".to_owned(), "group".to_owned());
        form.text.insert("target".to_owned(), group.to_string());
        form.text.insert("path".to_owned(), path);
        form.files
            .insert("file".to_owned(), FilePart { file_name: Some(name), size: file_size(file) });
        handlers::upload(&mut w, cmd, &form)
    };
    inner.bump();
    let v = result.map_err(|f| Failed::World(f.to_string()))?;
    Ok(json!({ "file_id": v["data"]["id"] }))
}

fn list_files(inner: &Inner, group: i64, folder: &str) -> Answer {
    let w = inner.world();
    let g = w.group(group).ok_or_else(|| not_found("群"))?;
    if folder != ROOT_FOLDER && !folder.is_empty() && !g.file(folder).is_some_and(|f| !f.is_file) {
        return Err(not_found("文件夹"));
    }
    let folder = if folder.is_empty() { ROOT_FOLDER } else { folder };
    let name_of = |id: i64| {
        if id == w.bot.id {
            w.bot.nickname.clone()
        } else {
            g.member(id).map(|m| m.name.clone()).unwrap_or_default()
        }
    };
    let children = g.files.iter().filter(|f| f.parent == folder);
    let files: Vec<Value> = children
        .clone()
        .filter(|f| f.is_file)
        .map(|f| {
            json!({
                "group_id": group, "file_id": f.id, "file_name": f.name, "busid": 102, "size": f.size,
                "file_size": f.size, "upload_time": f.upload_time, "dead_time": 0, "modify_time": f.last_modify_time,
                "download_times": 0, "uploader": f.uploader_id, "uploader_name": name_of(f.uploader_id),
            })
        })
        .collect();
    let folders: Vec<Value> = children
        .filter(|f| !f.is_file)
        .map(|f| {
            let count = g.files.iter().filter(|c| c.parent == f.id && c.is_file).count();
            json!({
                "group_id": group, "folder_id": f.id, "folder": f.id, "folder_name": f.name,
                "create_time": f.upload_time, "creator": f.uploader_id, "creator_name": name_of(f.uploader_id),
                "total_file_count": count,
            })
        })
        .collect();
    Ok(json!({ "files": files, "folders": folders }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_are_read_loosely() {
        let p = json!({ "a": 0, "b": "yes", "c": false, "d": "false" });
        let p = p.as_object().unwrap();
        assert!(!boolean(p, "a", true));
        assert!(boolean(p, "b", false));
        assert!(!boolean(p, "c", true));
        assert!(!boolean(p, "d", true));
        assert!(boolean(p, "e", true));
    }
}
