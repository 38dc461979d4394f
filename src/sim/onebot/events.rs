//! mirai-api-http events and message packets as the OneBot v11 events a NapCat-like
//! server would send for them.

use serde_json::{json, Map, Value};

use super::convert;
use super::ids::Handles;
use crate::protocol::Event;
use crate::sim::world::now;

/// What a translation needs besides the event: the bot and the id handles.
pub struct Ctx<'a> {
    /// The bot's QQ number (`self_id`).
    pub bot: i64,
    /// Global message ids and forwarded contents.
    pub handles: &'a mut Handles,
}

/// `{"time", "self_id", "post_type"}` plus `fields`.
fn envelope(bot: i64, time: i64, post_type: &str, fields: Value) -> Value {
    let mut o = Map::new();
    o.insert("time".into(), json!(time));
    o.insert("self_id".into(), json!(bot));
    o.insert("post_type".into(), json!(post_type));
    if let Value::Object(f) = fields {
        o.extend(f);
    }
    Value::Object(o)
}

/// A meta event (`lifecycle`/`connect` or `heartbeat`).
#[must_use]
pub fn meta(bot: i64, heartbeat_ms: Option<u128>) -> Value {
    match heartbeat_ms {
        None => envelope(
            bot,
            now(),
            "meta_event",
            json!({ "meta_event_type": "lifecycle", "sub_type": "connect" }),
        ),
        Some(ms) => envelope(
            bot,
            now(),
            "meta_event",
            json!({ "meta_event_type": "heartbeat", "status": { "online": true, "good": true }, "interval": ms }),
        ),
    }
}

/// Give a message event its CQ-string form (`message` = `raw_message`) when asked for.
pub fn format(event: &mut Value, cq_strings: bool) {
    if cq_strings {
        if let Some(raw) = event.get("raw_message").cloned() {
            event["message"] = raw;
            event["message_format"] = json!("string");
        }
    }
}

fn role(permission: &Value) -> &'static str {
    match permission.as_str() {
        Some("OWNER") => "owner",
        Some("ADMINISTRATOR") => "admin",
        _ => "member",
    }
}

fn id_at(v: &Value, path: &[&str]) -> Option<i64> {
    path.iter().try_fold(v, |cur, k| cur.get(*k)).and_then(Value::as_i64)
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter().try_fold(v, |cur, k| cur.get(*k)).and_then(Value::as_str).unwrap_or_default()
}

/// The segments of a chain: a `Quote` becomes a leading `reply`, a `Forward` a kept
/// `forward{id}`, the rest goes through the converter.
pub fn segments(chain: &[Value], conversation: i64, cx: &mut Ctx<'_>) -> Vec<Value> {
    let quote = chain
        .iter()
        .find(|e| e["type"] == "Quote")
        .and_then(|q| q["id"].as_i64())
        .map(|id| i64::from(cx.handles.global(conversation, id)));
    let mut out = convert::chain_to_segments(&[], quote);
    for e in chain {
        match e["type"].as_str() {
            Some("Source" | "Quote") => {}
            Some("Forward") => {
                let nodes: Vec<Value> = e["nodeList"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|n| {
                        let chain =
                            n["messageChain"].as_array().map(Vec::as_slice).unwrap_or_default();
                        let message = segments(chain, conversation, cx);
                        json!({
                            "user_id": n["senderId"], "time": n["time"],
                            "sender": { "user_id": n["senderId"], "nickname": n["senderName"] },
                            "raw_message": convert::cq(&message), "message": message,
                        })
                    })
                    .collect();
                let id = cx.handles.keep_forward(Value::Array(nodes));
                out.push(json!({ "type": "forward", "data": { "id": id } }));
            }
            _ => out.extend(convert::chain_to_segments(std::slice::from_ref(e), None)),
        }
    }
    out
}

/// The OneBot message object of a message packet of `conversation`; `from_bot` for ones
/// the bot sent (as NapCat reports them, with `target_id` the peer).
pub fn message(
    packet: &Value,
    conversation: i64,
    from_bot: bool,
    cx: &mut Ctx<'_>,
) -> Option<Value> {
    let ev = Event(packet.clone());
    let chain = packet["messageChain"].as_array().map(Vec::as_slice).unwrap_or_default();
    let id = ev.message_id()?;
    let time = chain
        .iter()
        .find(|e| e["type"] == "Source")
        .and_then(|s| s["time"].as_i64())
        .unwrap_or_else(now);
    let message_id = cx.handles.global(conversation, id);
    let message = segments(chain, conversation, cx);
    let raw = convert::cq(&message);
    let sender = &packet["sender"];
    let bot = cx.bot;
    let sync = ev.kind().ends_with("SyncMessage");
    let post_type = if sync { "message_sent" } else { "message" };
    let common = json!({
        "message_id": message_id, "real_id": message_id, "message_seq": message_id,
        "message": message, "raw_message": raw, "font": 0, "message_format": "array",
    });
    let mut v = match ev.kind() {
        "GroupMessage" | "GroupSyncMessage" => {
            let group = if sync {
                id_at(packet, &["subject", "id"])
            } else {
                id_at(sender, &["group", "id"])
            }?;
            let (user, nickname, card, role, title) = if sync || from_bot {
                (bot, str_at(sender, &["memberName"]), "", role(&sender["permission"]), "")
            } else {
                let name = str_at(sender, &["memberName"]);
                (
                    id_at(sender, &["id"])?,
                    name,
                    name,
                    role(&sender["permission"]),
                    str_at(sender, &["specialTitle"]),
                )
            };
            let group_name = if sync {
                str_at(packet, &["subject", "name"])
            } else {
                str_at(sender, &["group", "name"])
            };
            envelope(
                bot,
                time,
                post_type,
                json!({
                    "message_type": "group", "sub_type": "normal", "group_id": group, "group_name": group_name,
                    "user_id": user, "anonymous": null,
                    "sender": { "user_id": user, "nickname": nickname, "card": card, "role": role, "title": title, "sex": "unknown", "age": 0, "area": "", "level": "" },
                }),
            )
        }
        "FriendMessage" | "StrangerMessage" | "FriendSyncMessage" | "StrangerSyncMessage" => {
            let (user, nickname, target) = if sync || from_bot {
                (bot, "", if sync { id_at(packet, &["subject", "id"])? } else { conversation })
            } else {
                (id_at(sender, &["id"])?, str_at(sender, &["nickname"]), bot)
            };
            envelope(
                bot,
                time,
                post_type,
                json!({
                    "message_type": "private", "sub_type": "friend", "user_id": user, "target_id": target,
                    "sender": { "user_id": user, "nickname": nickname, "sex": "unknown", "age": 0 },
                }),
            )
        }
        "TempMessage" | "TempSyncMessage" => {
            let (user, nickname, group, target) = if sync {
                let subject = &packet["subject"];
                (bot, "", id_at(subject, &["group", "id"])?, id_at(subject, &["id"])?)
            } else if from_bot {
                (bot, "", id_at(sender, &["group", "id"])?, conversation)
            } else {
                (
                    id_at(sender, &["id"])?,
                    str_at(sender, &["memberName"]),
                    id_at(sender, &["group", "id"])?,
                    bot,
                )
            };
            envelope(
                bot,
                time,
                post_type,
                json!({
                    "message_type": "private", "sub_type": "group", "user_id": user, "target_id": target,
                    "group_id": group, "temp_source": 0,
                    "sender": { "user_id": user, "nickname": nickname, "group_id": group, "sex": "unknown", "age": 0 },
                }),
            )
        }
        _ => return None,
    };
    if let (Value::Object(o), Value::Object(c)) = (&mut v, common) {
        o.extend(c);
    }
    Some(v)
}

fn notice(bot: i64, fields: Value) -> Option<Value> {
    Some(envelope(bot, now(), "notice", fields))
}

fn request(bot: i64, fields: Value) -> Option<Value> {
    Some(envelope(bot, now(), "request", fields))
}

/// The raw-info items NapCat sends with a poke, which carry its action and suffix.
fn poke_info(from: i64, target: i64, event: &Value) -> Value {
    json!([
        { "type": "qq", "uid": "", "col": "1", "nm": "", "tp": "0", "qq": from.to_string() },
        { "type": "nor", "txt": str_at(event, &["action"]) },
        { "type": "qq", "uid": "", "col": "1", "nm": "", "tp": "0", "qq": target.to_string() },
        { "type": "nor", "txt": str_at(event, &["suffix"]) },
    ])
}

/// The OneBot event for a MAH event or message packet, or `None` when OneBot has none.
pub fn translate(event: &Value, cx: &mut Ctx<'_>) -> Option<Value> {
    let ev = Event(event.clone());
    if ev.is_message() {
        let conversation = ev.conversation()?;
        return message(event, conversation, false, cx);
    }
    let bot = cx.bot;
    let member_group = |k: &str| id_at(event, &[k, "group", "id"]);
    let member_id = |k: &str| id_at(event, &[k, "id"]);
    // The operator of a member event: a member, or null for the bot.
    let operator = member_id("operator").unwrap_or(bot);
    match ev.kind() {
        "GroupRecallEvent" => {
            let group = id_at(event, &["group", "id"])?;
            let id = cx.handles.global(group, event["messageId"].as_i64()?);
            notice(
                bot,
                json!({ "notice_type": "group_recall", "group_id": group, "user_id": event["authorId"], "operator_id": operator, "message_id": id }),
            )
        }
        "FriendRecallEvent" => {
            let author = event["authorId"].as_i64()?;
            let peer = if author == bot { event["operator"].as_i64()? } else { author };
            let id = cx.handles.global(peer, event["messageId"].as_i64()?);
            notice(
                bot,
                json!({ "notice_type": "friend_recall", "user_id": author, "operator_id": event["operator"], "message_id": id }),
            )
        }
        "MemberJoinEvent" => {
            let invitor = member_id("invitor");
            notice(
                bot,
                json!({
                    "notice_type": "group_increase", "sub_type": if invitor.is_some() { "invite" } else { "approve" },
                    "group_id": member_group("member")?, "user_id": member_id("member")?, "operator_id": invitor.unwrap_or(0),
                }),
            )
        }
        "BotJoinGroupEvent" => {
            let invitor = member_id("invitor");
            notice(
                bot,
                json!({
                    "notice_type": "group_increase", "sub_type": if invitor.is_some() { "invite" } else { "approve" },
                    "group_id": id_at(event, &["group", "id"])?, "user_id": bot, "operator_id": invitor.unwrap_or(0),
                }),
            )
        }
        "MemberLeaveEventKick" | "MemberLeaveEventQuit" => {
            let user = member_id("member")?;
            let (sub, op) = if ev.kind() == "MemberLeaveEventKick" {
                ("kick", operator)
            } else {
                ("leave", user)
            };
            notice(
                bot,
                json!({ "notice_type": "group_decrease", "sub_type": sub, "group_id": member_group("member")?, "user_id": user, "operator_id": op }),
            )
        }
        "BotLeaveEventKick" | "BotLeaveEventDisband" => {
            let sub = if ev.kind() == "BotLeaveEventKick" { "kick_me" } else { "disband" };
            notice(
                bot,
                json!({ "notice_type": "group_decrease", "sub_type": sub, "group_id": id_at(event, &["group", "id"])?, "user_id": bot, "operator_id": operator }),
            )
        }
        "MemberMuteEvent" | "MemberUnmuteEvent" => {
            let mute = ev.kind() == "MemberMuteEvent";
            notice(
                bot,
                json!({
                    "notice_type": "group_ban", "sub_type": if mute { "ban" } else { "lift_ban" },
                    "group_id": member_group("member")?, "user_id": member_id("member")?, "operator_id": operator,
                    "duration": if mute { event["durationSeconds"].as_i64().unwrap_or(0) } else { 0 },
                }),
            )
        }
        "BotMuteEvent" | "BotUnmuteEvent" => {
            let mute = ev.kind() == "BotMuteEvent";
            notice(
                bot,
                json!({
                    "notice_type": "group_ban", "sub_type": if mute { "ban" } else { "lift_ban" },
                    "group_id": member_group("operator")?, "user_id": bot, "operator_id": operator,
                    "duration": if mute { event["durationSeconds"].as_i64().unwrap_or(0) } else { 0 },
                }),
            )
        }
        "GroupMuteAllEvent" => {
            let on = event["current"].as_bool()?;
            notice(
                bot,
                json!({
                    "notice_type": "group_ban", "sub_type": if on { "ban" } else { "lift_ban" },
                    "group_id": id_at(event, &["group", "id"])?, "user_id": 0, "operator_id": operator,
                    "duration": if on { -1 } else { 0 },
                }),
            )
        }
        "MemberPermissionChangeEvent" | "BotGroupPermissionChangeEvent" => {
            let (origin, current) = (event["origin"].as_str()?, event["current"].as_str()?);
            let sub = match (origin, current) {
                ("MEMBER", "ADMINISTRATOR") => "set",
                ("ADMINISTRATOR", "MEMBER") => "unset",
                _ => return None,
            };
            let (group, user) = if ev.kind() == "BotGroupPermissionChangeEvent" {
                (id_at(event, &["group", "id"])?, bot)
            } else {
                (member_group("member")?, member_id("member")?)
            };
            notice(
                bot,
                json!({ "notice_type": "group_admin", "sub_type": sub, "group_id": group, "user_id": user }),
            )
        }
        "MemberCardChangeEvent" => notice(
            bot,
            json!({
                "notice_type": "group_card", "group_id": member_group("member")?, "user_id": member_id("member")?,
                "card_new": event["current"], "card_old": event["origin"],
            }),
        ),
        "MemberSpecialTitleChangeEvent" => notice(
            bot,
            json!({
                "notice_type": "notify", "sub_type": "title", "group_id": member_group("member")?,
                "user_id": member_id("member")?, "title": event["current"],
            }),
        ),
        "GroupNameChangeEvent" => notice(
            bot,
            json!({
                "notice_type": "notify", "sub_type": "group_name", "group_id": id_at(event, &["group", "id"])?,
                "user_id": operator, "name_new": event["current"],
            }),
        ),
        "NudgeEvent" => {
            let (from, target) = (event["fromId"].as_i64()?, event["target"].as_i64()?);
            let subject = id_at(event, &["subject", "id"])?;
            let info = poke_info(from, target, event);
            match str_at(event, &["subject", "kind"]) {
                "Group" => notice(
                    bot,
                    json!({ "notice_type": "notify", "sub_type": "poke", "group_id": subject, "user_id": from, "target_id": target, "raw_info": info }),
                ),
                "Friend" | "Stranger" => notice(
                    bot,
                    json!({ "notice_type": "notify", "sub_type": "poke", "user_id": subject, "sender_id": from, "target_id": target, "raw_info": info }),
                ),
                _ => None,
            }
        }
        "FriendAddEvent" => notice(
            bot,
            json!({ "notice_type": "friend_add", "user_id": id_at(event, &["friend", "id"])? }),
        ),
        "FriendInputStatusChangedEvent" => {
            let typing = event["inputting"].as_bool().unwrap_or(false);
            notice(
                bot,
                json!({
                    "notice_type": "notify", "sub_type": "input_status", "user_id": id_at(event, &["friend", "id"])?,
                    "group_id": 0, "event_type": if typing { 1 } else { 2 },
                    "status_text": if typing { "对方正在输入..." } else { "" },
                }),
            )
        }
        "MemberHonorChangeEvent" => {
            let honor = match event["honor"].as_str()? {
                "龙王" => "talkative",
                "群聊之火" => "performer",
                "快乐源泉" => "emotion",
                _ => return None,
            };
            if event["action"] != "achieve" {
                return None;
            }
            notice(
                bot,
                json!({ "notice_type": "notify", "sub_type": "honor", "honor_type": honor, "group_id": member_group("member")?, "user_id": member_id("member")? }),
            )
        }
        "BotOfflineEventForce" => notice(
            bot,
            json!({ "notice_type": "bot_offline", "user_id": bot, "tag": event["title"], "message": event["message"] }),
        ),
        "NewFriendRequestEvent" => request(
            bot,
            json!({
                "request_type": "friend", "user_id": event["fromId"], "comment": event["message"],
                "flag": event["eventId"].as_i64()?.to_string(),
            }),
        ),
        "MemberJoinRequestEvent" => request(
            bot,
            json!({
                "request_type": "group", "sub_type": "add", "group_id": event["groupId"], "user_id": event["fromId"],
                "comment": event["message"], "flag": event["eventId"].as_i64()?.to_string(),
                "invitor_id": event["invitorId"].as_i64().unwrap_or(0),
            }),
        ),
        "BotInvitedJoinGroupRequestEvent" => request(
            bot,
            json!({
                "request_type": "group", "sub_type": "invite", "group_id": event["groupId"], "user_id": event["fromId"],
                "comment": event["message"], "flag": event["eventId"].as_i64()?.to_string(),
            }),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(event: Value) -> Option<Value> {
        let mut handles = Handles::default();
        translate(&event, &mut Ctx { bot: 1, handles: &mut handles })
    }

    #[test]
    fn group_message_carries_the_sender_and_segments() {
        let v = tr(json!({
            "type": "GroupMessage",
            "sender": { "id": 2, "memberName": "bob", "specialTitle": "t", "permission": "OWNER", "group": { "id": 9, "name": "g", "permission": "MEMBER" } },
            "messageChain": [{ "type": "Source", "id": 4, "time": 77 }, { "type": "Plain", "text": "hi" }],
        }))
        .unwrap();
        assert_eq!(v["post_type"], "message");
        assert_eq!(v["message_type"], "group");
        assert_eq!(v["group_id"], 9);
        assert_eq!(v["time"], 77);
        assert_eq!(v["sender"]["role"], "owner");
        assert_eq!(v["sender"]["title"], "t");
        assert_eq!(v["message"], json!([{ "type": "text", "data": { "text": "hi" } }]));
        assert_eq!(v["raw_message"], "hi");
        assert_eq!(v["message_id"], 1);
    }

    #[test]
    fn mute_all_is_user_zero_and_unknown_events_are_dropped() {
        let v = tr(json!({ "type": "GroupMuteAllEvent", "origin": false, "current": true, "group": { "id": 9 }, "operator": null })).unwrap();
        assert_eq!(
            (v["user_id"].clone(), v["duration"].clone(), v["operator_id"].clone()),
            (json!(0), json!(-1), json!(1))
        );
        assert!(tr(json!({ "type": "BotOnlineEvent", "qq": 1 })).is_none());
    }
}
