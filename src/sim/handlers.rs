//! What each command does to the world, and what it answers.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::content::Content;
use super::error::Fail;
use super::world::{
    now, Answer, CachedMessage, ConsoleCommand, Group, Nudge, Permission, RequestKind, Upload,
    World, ROOT_FOLDER,
};
use super::SentMessage;
use crate::protocol::commands::Command;
use crate::protocol::StatusCode;

/// The plugin version the simulator reports.
pub const VERSION: &str = "2.10.0";

/// The most seconds a member can be muted (30 days).
const MAX_MUTE: i64 = 30 * 24 * 3600;

/// Who is calling.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The session key.
    pub session: &'a str,
}

/// What a command caused besides its answer.
#[derive(Debug, Default)]
pub struct Effects {
    /// Events to push to every session.
    pub events: Vec<Value>,
    /// Messages the bot sent.
    pub sent: Vec<SentMessage>,
}

/// `{"code":0,"msg":"success"}`.
#[must_use]
pub fn ok() -> Value {
    StatusCode::Success.state()
}

/// `{"code":0,"msg":"","data":v}`.
#[must_use]
pub fn data(v: Value) -> Value {
    json!({ "code": 0, "msg": "", "data": v })
}

fn long(c: &Content, k: &str) -> Option<i64> {
    c.get(k).and_then(Value::as_i64)
}

fn text<'a>(c: &'a Content, k: &str) -> Option<&'a str> {
    c.get(k).and_then(Value::as_str)
}

fn flag(c: &Content, k: &str) -> Option<bool> {
    c.get(k).and_then(Value::as_bool)
}

fn need_long(c: &Content, k: &str) -> Result<i64, Fail> {
    long(c, k).ok_or_else(Fail::invalid)
}

fn need_text<'a>(c: &'a Content, k: &str) -> Result<&'a str, Fail> {
    text(c, k).ok_or_else(Fail::invalid)
}

fn group_of(w: &World, id: i64) -> Result<&Group, Fail> {
    w.group(id).ok_or_else(Fail::not_found)
}

fn group_mut_of(w: &mut World, id: i64) -> Result<&mut Group, Fail> {
    w.group_mut(id).ok_or_else(Fail::not_found)
}

/// Run one command against the world.
pub fn run(
    w: &mut World,
    cmd: &Command,
    c: &Content,
    ctx: Ctx<'_>,
    fx: &mut Effects,
) -> Result<Value, Fail> {
    match (cmd.name, cmd.sub) {
        ("about", _) => Ok(data(json!({ "version": VERSION }))),
        ("botList", _) => Ok(data(json!([w.bot.id]))),
        ("sessionInfo", _) => Ok(data(json!({ "sessionKey": ctx.session, "qq": w.bot.to_json() }))),
        ("messageFromId", _) => {
            let m = w
                .message(need_long(c, "target")?, need_long(c, "messageId")?)
                .ok_or_else(Fail::not_found)?;
            Ok(data(m.packet.clone()))
        }
        ("friendList", _) => {
            Ok(data(w.friends.iter().map(super::world::Friend::to_json).collect()))
        }
        ("groupList", _) => Ok(data(w.groups.iter().map(Group::to_json).collect())),
        ("memberList", _) => member_list(w, c, false),
        ("latestMemberList", _) => member_list(w, c, true),
        ("botProfile", _) => Ok(w.bot_profile.to_json()),
        ("friendProfile", _) => {
            let id = need_long(c, "target")?;
            w.friend(id).ok_or_else(Fail::not_found)?;
            Ok(w.profile(id).to_json())
        }
        ("memberProfile", _) => {
            let id = need_long(c, "memberId")?;
            group_of(w, need_long(c, "target")?)?.member(id).ok_or_else(Fail::not_found)?;
            Ok(w.profile(id).to_json())
        }
        ("userProfile", _) => Ok(w.profile(need_long(c, "target")?).to_json()),
        ("sendFriendMessage", _) => {
            let id = long(c, "target").or_else(|| long(c, "qq")).ok_or_else(Fail::invalid)?;
            let to = if w.friend(id).is_some() {
                To::Friend(id)
            } else if w.stranger(id).is_some() {
                To::Stranger(id)
            } else {
                return Err(Fail::not_found());
            };
            send_chain(w, fx, cmd.name, to, c)
        }
        ("sendGroupMessage", _) => {
            let id = long(c, "target").or_else(|| long(c, "group")).ok_or_else(Fail::invalid)?;
            group_of(w, id)?;
            send_chain(w, fx, cmd.name, To::Group(id), c)
        }
        ("sendTempMessage", _) => {
            let (Some(qq), Some(group)) = (long(c, "qq"), long(c, "group")) else {
                return Err(Fail::not_found());
            };
            group_of(w, group)?.member(qq).ok_or_else(Fail::not_found)?;
            send_chain(w, fx, cmd.name, To::Temp { group, qq }, c)
        }
        ("sendOtherClientMessage", _) => {
            let id = need_long(c, "target")?;
            w.other_client(id).ok_or_else(Fail::not_found)?;
            send_chain(w, fx, cmd.name, To::Client(id), c)
        }
        ("sendImageMessage", _) => send_images(w, fx, cmd.name, c),
        ("sendNudge", _) => nudge(w, c),
        ("recall", _) => recall(w, c, fx),
        ("roamingMessages", _) => roaming(w, c),
        ("file_list", _) => file_list(w, c),
        ("file_info", _) => {
            let g = group_of(w, file_group(c)?)?;
            let id = locate(g, c, None)?;
            if id == ROOT_FOLDER {
                return Err(Fail::not_found());
            }
            Ok(data(g.file_json(&id, flag(c, "withDownloadInfo").unwrap_or(false))))
        }
        ("file_mkdir", _) => file_mkdir(w, c),
        ("file_delete", _) => file_change(w, c, FileOp::Delete),
        ("file_move", _) => file_change(w, c, FileOp::Move),
        ("file_rename", _) => file_change(w, c, FileOp::Rename),
        ("deleteFriend", _) => {
            let id = need_long(c, "target")?;
            let friend = w.friend(id).ok_or_else(Fail::not_found)?.to_json();
            w.remove_friend(id);
            fx.events.push(json!({ "type": "FriendDeleteEvent", "friend": friend }));
            Ok(ok())
        }
        ("mute", _) | ("unmute", _) | ("kick", _) => member_action(w, cmd.name, c, fx),
        ("quit", _) => {
            let g = group_of(w, need_long(c, "target")?)?;
            if g.permission == Permission::Owner {
                return Err(Fail::denied());
            }
            let (id, group) = (g.id, g.to_json());
            w.remove_group(id);
            fx.events.push(json!({ "type": "BotLeaveEventActive", "group": group }));
            Ok(ok())
        }
        ("muteAll", _) | ("unmuteAll", _) => {
            let g = group_mut_of(w, need_long(c, "target")?)?;
            if !g.permission.is_operator() {
                return Err(Fail::denied());
            }
            let current = cmd.name == "muteAll";
            let origin = std::mem::replace(&mut g.config.mute_all, current);
            if origin != current {
                fx.events.push(json!({
                    "type": "GroupMuteAllEvent", "origin": origin, "current": current,
                    "group": g.to_json(), "operator": null,
                }));
            }
            Ok(ok())
        }
        ("setEssence", _) => {
            let (group, id) = (need_long(c, "target")?, need_long(c, "messageId")?);
            let g = group_of(w, group)?;
            let is_group_message =
                w.message(group, id).is_some_and(|m| m.packet["type"] == "GroupMessage");
            if !is_group_message {
                return Err(Fail::not_found());
            }
            if !g.permission.is_operator() {
                return Err(Fail::denied());
            }
            w.essences.push((group, id));
            Ok(ok())
        }
        ("groupConfig", Some("get")) => {
            let g = group_of(w, need_long(c, "target")?)?;
            Ok(json!({
                "name": g.name, "confessTalk": false, "allowMemberInvite": g.config.allow_member_invite,
                "autoApprove": g.config.auto_approve, "anonymousChat": g.config.anonymous_chat,
                "muteAll": g.config.mute_all,
            }))
        }
        ("groupConfig", Some("update")) => group_config_update(w, c, fx),
        ("memberInfo", Some("get")) => {
            let g = group_of(w, need_long(c, "target")?)?;
            let m = g.member(need_long(c, "memberId")?).ok_or_else(Fail::not_found)?;
            let mut v = g.member_json(m);
            v["active"] = json!({
                "rank": m.active.rank, "point": m.active.point, "honors": m.active.honors,
                "temperature": m.active.temperature,
            });
            Ok(v)
        }
        ("memberInfo", Some("update")) => member_info_update(w, c, fx),
        ("memberAdmin", _) => {
            let g = group_mut_of(w, need_long(c, "target")?)?;
            let id = need_long(c, "memberId")?;
            g.member(id).ok_or_else(Fail::not_found)?;
            if g.permission != Permission::Owner {
                return Err(Fail::denied());
            }
            let current = if flag(c, "assign").unwrap_or(false) {
                Permission::Administrator
            } else {
                Permission::Member
            };
            let origin = g.member(id).map_or(current, |m| m.permission);
            if let Some(m) = g.member_mut(id) {
                m.permission = current;
            }
            if origin != current {
                let member = g.member(id).map(|m| g.member_json(m)).unwrap_or(Value::Null);
                fx.events.push(json!({
                    "type": "MemberPermissionChangeEvent", "origin": origin, "current": current, "member": member,
                }));
            }
            Ok(ok())
        }
        ("anno_list", _) => {
            let g = group_of(w, need_long(c, "id")?)?;
            let offset = usize::try_from(long(c, "offset").unwrap_or(0)).unwrap_or(0);
            let size = long(c, "size").map_or(usize::MAX, |s| usize::try_from(s).unwrap_or(0));
            let list = g
                .announcements
                .iter()
                .rev()
                .skip(offset)
                .take(size)
                .map(|a| g.announcement_json(a));
            Ok(data(list.collect()))
        }
        ("anno_publish", _) => {
            let group = need_long(c, "target")?;
            if !group_of(w, group)?.permission.is_operator() {
                return Err(Fail::denied());
            }
            if let Some(path) = text(c, "imagePath").filter(|_| text(c, "imageUrl").is_none()) {
                let p = std::path::Path::new(path);
                if !p.is_file() {
                    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
                    return Err(Fail::Text(
                        StatusCode::Unsupported,
                        format!("文件不存在：{}", abs.display()),
                    ));
                }
            }
            let bot = w.bot.id;
            let fid = w
                .add_announcement(group, bot, need_text(c, "content")?)
                .ok_or_else(Fail::not_found)?;
            let g = group_of(w, group)?;
            let a = g.announcements.iter().find(|a| a.fid == fid).ok_or_else(Fail::not_found)?;
            Ok(data(g.announcement_json(a)))
        }
        ("anno_delete", _) => {
            let g = group_mut_of(w, need_long(c, "id")?)?;
            let fid = need_text(c, "fid")?;
            let pos =
                g.announcements.iter().position(|a| a.fid == fid).ok_or_else(Fail::not_found)?;
            if !g.permission.is_operator() {
                return Err(Fail::denied());
            }
            g.announcements.remove(pos);
            Ok(ok())
        }
        ("resp_newFriendRequestEvent", _) => answer(w, c, RequestKind::NewFriend, fx),
        ("resp_memberJoinRequestEvent", _) => answer(w, c, RequestKind::MemberJoin, fx),
        ("resp_botInvitedJoinGroupRequestEvent", _) => answer(w, c, RequestKind::BotInvited, fx),
        ("cmd_register", _) => {
            let name = need_text(c, "name")?.trim_start_matches('/').to_owned();
            if name.is_empty() {
                return Err(Fail::invalid());
            }
            let strings = |k: &str| -> Vec<String> {
                c.get(k)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            };
            let command = ConsoleCommand {
                alias: strings("alias"),
                usage: text(c, "usage").unwrap_or_default().to_owned(),
                description: text(c, "description").unwrap_or_default().to_owned(),
                name,
            };
            w.console_commands.retain(|x| x.name != command.name);
            w.console_commands.push(command);
            Ok(ok())
        }
        ("cmd_execute", _) => cmd_execute(w, c, fx),
        _ => Err(Fail::unsupported()),
    }
}

fn member_list(w: &World, c: &Content, latest: bool) -> Result<Value, Fail> {
    let g = group_of(w, need_long(c, "target")?)?;
    let ids: Vec<i64> = c
        .get("memberIds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_i64)
        .collect();
    let list = g
        .members
        .iter()
        .filter(|m| !latest || ids.is_empty() || ids.contains(&m.id))
        .map(|m| {
            let mut v = g.member_json(m);
            if latest {
                v["lastSpeakTimestamp"] = json!(m.join_timestamp);
            }
            v
        })
        .collect();
    Ok(data(list))
}

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum To {
    Friend(i64),
    Stranger(i64),
    Group(i64),
    Temp { group: i64, qq: i64 },
    Client(i64),
}

impl To {
    fn conversation(self) -> i64 {
        match self {
            Self::Friend(id) | Self::Stranger(id) | Self::Group(id) | Self::Client(id) => id,
            Self::Temp { qq, .. } => qq,
        }
    }
}

fn send_chain(
    w: &mut World,
    fx: &mut Effects,
    command: &str,
    to: To,
    c: &Content,
) -> Result<Value, Fail> {
    let chain = c.get("messageChain").and_then(Value::as_array).cloned().unwrap_or_default();
    let id = send(w, fx, command, to, long(c, "quote"), chain)?;
    Ok(json!({ "code": 0, "msg": "success", "messageId": id }))
}

/// The elements of a chain as the server sends them, dropping what cannot be sent here.
fn outgoing(w: &World, to: To, chain: &[Value]) -> Vec<Value> {
    chain
        .iter()
        .filter_map(|e| {
            let ty = e.get("type").and_then(Value::as_str)?;
            match ty {
                "Source" | "Quote" | "MarketFace" | "File" => None,
                "FlashImage" => {
                    let mut e = e.clone();
                    e["type"] = json!("Image");
                    Some(e)
                }
                "At" => match to {
                    To::Group(g) => {
                        let target = e.get("target").and_then(Value::as_i64)?;
                        let known = target == w.bot.id || w.member(g, target).is_some();
                        known.then(|| json!({ "type": "At", "target": target, "display": "" }))
                    }
                    _ => None,
                },
                "AtAll" => {
                    matches!(to, To::Group(_)).then(|| json!({ "type": "AtAll", "target": 0 }))
                }
                "Voice" | "ShortVideo" => {
                    matches!(to, To::Group(_) | To::Friend(_)).then(|| e.clone())
                }
                _ => Some(e.clone()),
            }
        })
        .collect()
}

fn send(
    w: &mut World,
    fx: &mut Effects,
    command: &str,
    to: To,
    quote: Option<i64>,
    chain: Vec<Value>,
) -> Result<i64, Fail> {
    let conv = to.conversation();
    if let To::Group(g) = to {
        if group_of(w, g)?.bot_is_muted() {
            return Err(StatusCode::BotMuted.into());
        }
    }
    let quoted = match quote {
        Some(q) => Some(w.message(conv, q).ok_or_else(Fail::not_found)?.clone()),
        None => None,
    };
    let elements = outgoing(w, to, &chain);
    if elements.is_empty() {
        return Err(Fail::Text(StatusCode::ServerError, "message is empty".to_owned()));
    }
    let id = w.next_message_id(conv);
    let time = now();
    let mut message_chain = vec![json!({ "type": "Source", "id": id, "time": time })];
    if let Some(q) = &quoted {
        let origin: Vec<Value> = q.packet["messageChain"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["type"] != "Source" && e["type"] != "Quote")
            .cloned()
            .collect();
        let (target_id, group_id) = match to {
            To::Group(g) => (g, g),
            _ if q.from_bot => (conv, 0),
            _ => (w.bot.id, 0),
        };
        message_chain.push(json!({
            "type": "Quote", "id": q.id, "senderId": q.author, "targetId": target_id, "groupId": group_id, "origin": origin,
        }));
    }
    message_chain.extend(elements);
    let (kind, who_key, who) = match to {
        To::Friend(_) => ("FriendMessage", "sender", w.bot.to_json()),
        To::Stranger(s) => (
            "StrangerMessage",
            "sender",
            w.stranger(s).map(super::world::Friend::to_json).unwrap_or_default(),
        ),
        To::Group(g) => ("GroupMessage", "sender", w.bot_member_json(group_of(w, g)?)),
        To::Temp { group, qq } => {
            ("TempMessage", "sender", w.member_json(group, qq).unwrap_or_default())
        }
        To::Client(cid) => (
            "OtherClientMessage",
            "sender",
            w.other_client(cid).map(|c| c.to_json()).unwrap_or_default(),
        ),
    };
    let packet = json!({ "type": kind, "messageChain": message_chain, who_key: who });
    let author = w.bot.id;
    w.cache_message(CachedMessage { conversation: conv, id, time, from_bot: true, author, packet });
    fx.sent.push(SentMessage {
        command: command.to_owned(),
        target: conv,
        group: match to {
            To::Temp { group, .. } => Some(group),
            _ => None,
        },
        chain: Value::Array(chain),
        quote,
        message_id: id,
    });
    Ok(id)
}

fn random_image_id() -> String {
    format!(
        "{{{:08X}-{:04X}-{:04X}-{:04X}-{:012X}}}.mirai",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..),
        fastrand::u16(..),
        fastrand::u64(..) & 0xFFFF_FFFF_FFFF
    )
}

fn send_images(w: &mut World, fx: &mut Effects, command: &str, c: &Content) -> Result<Value, Fail> {
    let to = match (long(c, "target"), long(c, "qq"), long(c, "group")) {
        (Some(t), _, _) if w.friend(t).is_some() => To::Friend(t),
        (Some(t), _, _) if w.group(t).is_some() => To::Group(t),
        (Some(_), _, _) => return Err(Fail::not_found()),
        (None, Some(qq), Some(group)) => {
            group_of(w, group)?.member(qq).ok_or_else(Fail::not_found)?;
            To::Temp { group, qq }
        }
        (None, Some(qq), None) if w.friend(qq).is_some() => To::Friend(qq),
        (None, Some(qq), None) if w.stranger(qq).is_some() => To::Stranger(qq),
        (None, None, Some(group)) if w.group(group).is_some() => To::Group(group),
        _ => return Err(Fail::not_found()),
    };
    let urls =
        c.get("urls").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str);
    let images: Vec<Value> =
        urls.map(|u| json!({ "type": "Image", "imageId": random_image_id(), "url": u })).collect();
    let ids: Vec<Value> = images.iter().map(|i| i["imageId"].clone()).collect();
    send(w, fx, command, to, None, images)?;
    Ok(data(Value::Array(ids)))
}

fn nudge(w: &mut World, c: &Content) -> Result<Value, Fail> {
    let (target, subject, kind) =
        (need_long(c, "target")?, need_long(c, "subject")?, need_text(c, "kind")?);
    let bot = w.bot.id;
    let found = match kind {
        "Friend" | "friend" => {
            w.friend(subject).is_some() && (target == bot || w.friend(target).is_some())
        }
        "Group" | "group" => {
            w.group(subject).is_some() && (target == bot || w.member(subject, target).is_some())
        }
        "Stranger" | "stranger" => {
            w.stranger(subject).is_some() && (target == bot || w.stranger(target).is_some())
        }
        // The real server reports success for any other kind and does nothing.
        _ => return Ok(ok()),
    };
    if !found {
        return Err(Fail::not_found());
    }
    w.nudges.push(Nudge { target, subject, kind: kind.to_owned() });
    Ok(ok())
}

fn recall(w: &mut World, c: &Content, fx: &mut Effects) -> Result<Value, Fail> {
    let (conv, id) = (need_long(c, "target")?, need_long(c, "messageId")?);
    let m = w.message(conv, id).ok_or_else(Fail::not_found)?.clone();
    let is_group = m.packet["type"] == "GroupMessage";
    if !m.from_bot {
        let allowed = is_group
            && w.group(conv).is_some_and(|g| {
                g.permission.is_operator()
                    && g.member(m.author).map_or(Permission::Member, |a| a.permission)
                        < g.permission
            });
        if !allowed {
            return Err(Fail::denied());
        }
    }
    w.forget_message(conv, id);
    w.recalled.push((conv, id));
    if is_group {
        if let Some(g) = w.group(conv) {
            fx.events.push(json!({
                "type": "GroupRecallEvent", "authorId": m.author, "messageId": id, "time": m.time,
                "group": g.to_json(), "operator": null,
            }));
        }
    } else if m.packet["type"] == "FriendMessage" {
        fx.events.push(json!({
            "type": "FriendRecallEvent", "authorId": m.author, "messageId": id, "time": m.time, "operator": w.bot.id,
        }));
    }
    Ok(ok())
}

fn roaming(w: &World, c: &Content) -> Result<Value, Fail> {
    let start = long(c, "timeStart").unwrap_or(0);
    let end = long(c, "timeEnd").unwrap_or(i64::MAX);
    let conv = match (long(c, "target"), long(c, "qq"), long(c, "group")) {
        (Some(t), _, _) if w.friend(t).is_some() || w.group(t).is_some() => t,
        (None, Some(q), _) if w.friend(q).is_some() => q,
        (None, None, Some(g)) if w.group(g).is_some() => g,
        _ => return Err(Fail::not_found()),
    };
    let list = w
        .messages_of(conv)
        .filter(|m| matches!(m.packet["type"].as_str(), Some("FriendMessage" | "GroupMessage")))
        .filter(|m| (start <= 0 || m.time >= start) && m.time <= end)
        .map(|m| m.packet.clone())
        .collect();
    Ok(data(list))
}

fn file_group(c: &Content) -> Result<i64, Fail> {
    long(c, "target").or_else(|| long(c, "group")).ok_or_else(Fail::not_found)
}

/// The node `id`/`path` names (`/` for the root).
fn locate(g: &Group, c: &Content, want_file: Option<bool>) -> Result<String, Fail> {
    if let Some(path) = text(c, "path") {
        return g.resolve_path(path, want_file).ok_or_else(Fail::not_found);
    }
    match text(c, "id").unwrap_or_default() {
        "" | ROOT_FOLDER => Ok(ROOT_FOLDER.to_owned()),
        id => {
            let node = g.file(id).ok_or_else(Fail::not_found)?;
            if want_file.is_some_and(|f| f != node.is_file) {
                return Err(Fail::not_found());
            }
            Ok(id.to_owned())
        }
    }
}

fn file_list(w: &World, c: &Content) -> Result<Value, Fail> {
    let g = group_of(w, file_group(c)?)?;
    let folder = locate(g, c, Some(false))?;
    let with_dl = flag(c, "withDownloadInfo").unwrap_or(false);
    let offset = usize::try_from(long(c, "offset").unwrap_or(0)).unwrap_or(0);
    let size = long(c, "size").map_or(usize::MAX, |s| usize::try_from(s).unwrap_or(0));
    let children = g.files.iter().filter(|f| f.parent == folder);
    let ordered = children.clone().filter(|f| !f.is_file).chain(children.filter(|f| f.is_file));
    Ok(data(ordered.skip(offset).take(size).map(|f| g.file_json(&f.id, with_dl)).collect()))
}

fn file_mkdir(w: &mut World, c: &Content) -> Result<Value, Fail> {
    let group = file_group(c)?;
    let g = group_of(w, group)?;
    let parent = locate(g, c, Some(false))?;
    let name = need_text(c, "directoryName")?;
    if name.is_empty() || name.contains('/') {
        return Err(Fail::invalid());
    }
    if !g.permission.is_operator() {
        return Err(Fail::denied());
    }
    let id = w.add_folder(group, &parent, name).ok_or_else(Fail::not_found)?;
    Ok(data(group_of(w, group)?.file_json(&id, false)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileOp {
    Delete,
    Move,
    Rename,
}

fn file_change(w: &mut World, c: &Content, op: FileOp) -> Result<Value, Fail> {
    let bot = w.bot.id;
    let g = group_mut_of(w, file_group(c)?)?;
    let id = locate(g, c, None)?;
    let node = g.file(&id).cloned();
    let may = |n: &super::world::FileNode| {
        g.permission.is_operator() || (n.is_file && n.uploader_id == bot)
    };
    let Some(node) = node.filter(|n| may(n)) else {
        // The root cannot be changed; others' files need an operator.
        return Err(Fail::denied());
    };
    match op {
        FileOp::Delete => {
            let mut doomed = vec![node.id.clone()];
            let mut i = 0;
            while let Some(cur) = doomed.get(i).cloned() {
                doomed.extend(g.files.iter().filter(|f| f.parent == cur).map(|f| f.id.clone()));
                i += 1;
                if i > g.files.len() {
                    break;
                }
            }
            g.files.retain(|f| !doomed.contains(&f.id));
        }
        FileOp::Move => {
            let dest = if let Some(path) = text(c, "moveToPath") {
                g.resolve_path(path, Some(false)).ok_or_else(Fail::not_found)?
            } else {
                match text(c, "moveTo") {
                    None => return Err(Fail::not_found()),
                    Some("" | ROOT_FOLDER) => ROOT_FOLDER.to_owned(),
                    Some(to) => {
                        g.file(to).filter(|f| !f.is_file).ok_or_else(Fail::not_found)?;
                        to.to_owned()
                    }
                }
            };
            if !node.is_file {
                return Err(Fail::denied());
            }
            if let Some(n) = g.files.iter_mut().find(|f| f.id == node.id) {
                n.parent = dest;
                n.last_modify_time = now();
            }
        }
        FileOp::Rename => {
            let name = need_text(c, "renameTo")?;
            if name.is_empty() || name.contains('/') {
                return Err(Fail::invalid());
            }
            if let Some(n) = g.files.iter_mut().find(|f| f.id == node.id) {
                name.clone_into(&mut n.name);
                n.last_modify_time = now();
            }
        }
    }
    Ok(ok())
}

fn member_action(
    w: &mut World,
    command: &str,
    c: &Content,
    fx: &mut Effects,
) -> Result<Value, Fail> {
    let group = need_long(c, "target")?;
    let id = long(c, "memberId").unwrap_or(0);
    let g = group_mut_of(w, group)?;
    let target = g.member(id).ok_or_else(Fail::not_found)?.permission;
    if !g.permission.is_operator() || target >= g.permission {
        return Err(Fail::denied());
    }
    match command {
        "mute" => {
            let time = long(c, "time").unwrap_or(0);
            if !(1..=MAX_MUTE).contains(&time) {
                return Err(Fail::invalid());
            }
            if let Some(m) = g.member_mut(id) {
                m.mute_time_remaining = time;
            }
            let member = g.member(id).map(|m| g.member_json(m));
            fx.events.push(json!({ "type": "MemberMuteEvent", "durationSeconds": time, "member": member, "operator": null }));
        }
        "unmute" => {
            if let Some(m) = g.member_mut(id) {
                m.mute_time_remaining = 0;
            }
            let member = g.member(id).map(|m| g.member_json(m));
            fx.events
                .push(json!({ "type": "MemberUnmuteEvent", "member": member, "operator": null }));
        }
        _ => {
            let member = g.member(id).map(|m| g.member_json(m));
            g.members.retain(|m| m.id != id);
            if flag(c, "block").unwrap_or(false) {
                w.blacklist.push(id);
            }
            fx.events.push(
                json!({ "type": "MemberLeaveEventKick", "member": member, "operator": null }),
            );
        }
    }
    Ok(ok())
}

fn group_config_update(w: &mut World, c: &Content, fx: &mut Effects) -> Result<Value, Fail> {
    let g = group_mut_of(w, need_long(c, "target")?)?;
    let config = c.get("config").and_then(Value::as_object).ok_or_else(Fail::invalid)?;
    let typed = |k: &str, ok: fn(&Value) -> bool| config.get(k).absent_or(ok);
    let valid = typed("name", Value::is_string)
        && typed("announcement", Value::is_string)
        && ["confessTalk", "allowMemberInvite", "autoApprove", "anonymousChat", "muteAll"]
            .iter()
            .all(|k| typed(k, Value::is_boolean));
    if !valid {
        return Err(Fail::invalid());
    }
    let name = config.get("name").and_then(Value::as_str);
    let invite = config.get("allowMemberInvite").and_then(Value::as_bool);
    if (name.is_some() || invite.is_some()) && !g.permission.is_operator() {
        return Err(Fail::denied());
    }
    if let Some(name) = name {
        let origin = std::mem::replace(&mut g.name, name.to_owned());
        if origin != name {
            fx.events.push(json!({
                "type": "GroupNameChangeEvent", "origin": origin, "current": name, "group": g.to_json(), "operator": null,
            }));
        }
    }
    if let Some(current) = invite {
        let origin = std::mem::replace(&mut g.config.allow_member_invite, current);
        if origin != current {
            fx.events.push(json!({
                "type": "GroupAllowMemberInviteEvent", "origin": origin, "current": current,
                "group": g.to_json(), "operator": null,
            }));
        }
    }
    Ok(ok())
}

trait NullOr {
    fn absent_or(self, ok: fn(&Value) -> bool) -> bool;
}

impl NullOr for Option<&Value> {
    fn absent_or(self, ok: fn(&Value) -> bool) -> bool {
        match self {
            None | Some(Value::Null) => true,
            Some(v) => ok(v),
        }
    }
}

fn member_info_update(w: &mut World, c: &Content, fx: &mut Effects) -> Result<Value, Fail> {
    let g = group_mut_of(w, need_long(c, "target")?)?;
    let id = need_long(c, "memberId")?;
    let target = g.member(id).ok_or_else(Fail::not_found)?.permission;
    let info = c.get("info").and_then(Value::as_object).ok_or_else(Fail::invalid)?;
    if !(info.get("name").absent_or(Value::is_string)
        && info.get("specialTitle").absent_or(Value::is_string))
    {
        return Err(Fail::invalid());
    }
    let name = info.get("name").and_then(Value::as_str);
    let title = info.get("specialTitle").and_then(Value::as_str);
    if name.is_some() && !(g.permission.is_operator() && target < g.permission) {
        return Err(Fail::denied());
    }
    if title.is_some() && g.permission != Permission::Owner {
        return Err(Fail::denied());
    }
    let mut changes = Vec::new();
    if let Some(m) = g.member_mut(id) {
        if let Some(name) = name {
            let origin = std::mem::replace(&mut m.name, name.to_owned());
            changes.push(("MemberCardChangeEvent", origin, name));
        }
        if let Some(title) = title {
            let origin = std::mem::replace(&mut m.special_title, title.to_owned());
            changes.push(("MemberSpecialTitleChangeEvent", origin, title));
        }
    }
    let member = g.member(id).map(|m| g.member_json(m)).unwrap_or_default();
    for (kind, origin, current) in changes {
        if origin != current {
            fx.events.push(
                json!({ "type": kind, "origin": origin, "current": current, "member": member }),
            );
        }
    }
    Ok(ok())
}

fn answer(w: &mut World, c: &Content, kind: RequestKind, fx: &mut Effects) -> Result<Value, Fail> {
    let event_id = need_long(c, "eventId")?;
    let operate = need_long(c, "operate")?;
    let req =
        w.request(event_id).filter(|r| r.kind == kind).cloned().ok_or_else(Fail::not_found)?;
    let valid = match kind {
        RequestKind::NewFriend => (0..=2).contains(&operate),
        RequestKind::MemberJoin => (0..=4).contains(&operate),
        RequestKind::BotInvited => true,
    };
    if !valid {
        return Err(Fail::invalid());
    }
    match (kind, operate) {
        (RequestKind::NewFriend, 0) => {
            w.add_friend(req.from, &req.nick);
            let friend = w.friend(req.from).map(super::world::Friend::to_json);
            fx.events
                .push(json!({ "type": "FriendAddEvent", "friend": friend, "stranger": false }));
        }
        (RequestKind::MemberJoin, 0) => {
            if !w.add_member(req.group, req.from, &req.nick, Permission::Member) {
                return Err(Fail::not_found());
            }
            let member = w.member_json(req.group, req.from);
            fx.events.push(json!({ "type": "MemberJoinEvent", "member": member, "invitor": null }));
        }
        (RequestKind::BotInvited, 0) => {
            let name = if req.group_name.is_empty() {
                format!("group{}", req.group)
            } else {
                req.group_name.clone()
            };
            w.add_group(req.group, &name, Permission::Member);
            w.add_member(req.group, req.from, &req.nick, Permission::Member);
            let group = w.group(req.group).map(Group::to_json);
            let invitor = w.member_json(req.group, req.from);
            fx.events
                .push(json!({ "type": "BotJoinGroupEvent", "group": group, "invitor": invitor }));
        }
        (RequestKind::NewFriend, 2) | (RequestKind::MemberJoin, 3 | 4) => {
            w.blacklist.push(req.from)
        }
        _ => {}
    }
    w.requests.remove(&event_id);
    w.answers.push(Answer {
        request: req,
        operate,
        message: text(c, "message").unwrap_or_default().to_owned(),
    });
    Ok(ok())
}

fn cmd_execute(w: &mut World, c: &Content, fx: &mut Effects) -> Result<Value, Fail> {
    let failed = || Fail::Text(StatusCode::InvalidArgument, "Execute command error".to_owned());
    let chain = c.get("command").and_then(Value::as_array).ok_or_else(Fail::invalid)?;
    let (first, rest) = chain.split_first().ok_or_else(failed)?;
    let head = first
        .get("text")
        .and_then(Value::as_str)
        .filter(|_| first["type"] == "Plain")
        .ok_or_else(failed)?;
    let mut words = head.split_whitespace();
    let name = words.next().ok_or_else(failed)?.trim_start_matches('/');
    let command = w
        .console_commands
        .iter()
        .find(|cmd| cmd.name == name || cmd.alias.iter().any(|a| a == name))
        .ok_or_else(failed)?;
    let mut args: Vec<Value> = words.map(|word| json!({ "type": "Plain", "text": word })).collect();
    args.extend(rest.iter().cloned());
    fx.events.push(json!({
        "type": "CommandExecutedEvent", "name": command.name, "friend": null, "member": null, "args": args,
    }));
    Ok(ok())
}

/// One part of a multipart upload that carried a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePart {
    /// The file name the client gave.
    pub file_name: Option<String>,
    /// Its size in bytes.
    pub size: usize,
}

/// A decoded multipart form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    /// Text fields.
    pub text: HashMap<String, String>,
    /// File fields.
    pub files: HashMap<String, FilePart>,
}

/// Run an upload command against the world.
pub fn upload(w: &mut World, cmd: &Command, form: &Form) -> Result<Value, Fail> {
    let ty = form.text.get("type").map(String::as_str).ok_or_else(Fail::invalid)?;
    let upload_failed =
        |what: &str| Fail::Text(StatusCode::InvalidArgument, format!("{what}上传错误"));
    let via_group = match (cmd.name, ty) {
        ("file_upload", "group") => true,
        ("file_upload", _) => return Err(Fail::unsupported()),
        (_, "group" | "Group") => true,
        (_, "friend" | "Friend" | "temp" | "Temp") => false,
        _ => return Err(Fail::invalid()),
    };
    let has_contact = if via_group { !w.groups.is_empty() } else { !w.friends.is_empty() };
    let serial = w.next_serial();
    let hex = format!("{:016X}{:016X}", fastrand::u64(..), serial);
    let (kind, id, result) = match cmd.name {
        "uploadImage" => {
            let part = form.files.get("img");
            if !form.text.contains_key("url") && part.is_none() {
                return Err(Fail::invalid());
            }
            if !has_contact {
                return Err(upload_failed("图片"));
            }
            let id = random_image_id();
            let url = format!("http://gchat.qpic.cn/gchatpic_new/{}/0-0-{hex}/0?term=2", w.bot.id);
            ("image", id.clone(), json!({ "imageId": id, "url": url }))
        }
        "uploadVoice" => {
            if !form.text.contains_key("url") && !form.files.contains_key("voice") {
                return Err(Fail::invalid());
            }
            if !has_contact {
                return Err(upload_failed("语音"));
            }
            let id = format!("{hex}.amr");
            ("voice", id.clone(), json!({ "voiceId": id }))
        }
        "uploadShortVideo" => {
            if !form.files.contains_key("video") || !form.files.contains_key("thumbnail") {
                return Err(Fail::invalid());
            }
            if !has_contact {
                return Err(upload_failed("短视频"));
            }
            let id = hex.to_ascii_lowercase();
            ("video", id.clone(), json!({ "videoId": id }))
        }
        "file_upload" => {
            let target = form
                .text
                .get("target")
                .and_then(|t| t.trim().parse::<i64>().ok())
                .ok_or_else(Fail::invalid)?;
            let path = form.text.get("path").ok_or_else(Fail::invalid)?;
            let part = form.files.get("file").ok_or_else(Fail::invalid)?;
            let g = group_of(w, target)?;
            let folder = g.resolve_path(path, Some(false)).ok_or_else(Fail::not_found)?;
            let name = part
                .file_name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "file".to_owned());
            let size = i64::try_from(part.size).unwrap_or(i64::MAX);
            let bot = w.bot.id;
            let id = w.add_file(target, &folder, &name, size, bot).ok_or_else(Fail::not_found)?;
            let v = group_of(w, target)?.file_json(&id, false);
            ("file", id, data(v))
        }
        _ => return Err(Fail::unsupported()),
    };
    let part = ["img", "voice", "video", "file"].iter().find_map(|k| form.files.get(*k));
    w.uploads.push(Upload {
        kind,
        id,
        target_type: ty.to_owned(),
        file_name: part.and_then(|p| p.file_name.clone()),
        size: part.map_or(0, |p| p.size),
    });
    Ok(result)
}
