//! The mirai-api-http 1.x dialect: which commands it has, its session routes, and the
//! translation between its shapes and the 2.x shapes scripts see.
//!
//! Calls go out through [`request`], which refuses what 1.x cannot honour rather
//! than dropping it; answers and pushed events come back through [`answer`] and
//! [`event`], which rename the 1.x keys (`nickName`, a `Source`'s `uid`) and fill
//! the keys 1.x never sent with their 2.x defaults.
//!
//! A 1.x message packet may come without a `Source` (the 1.x docs say only group
//! messages carry one). Scripts still find a `Source` first in every chain: its
//! `id` is [`NO_ID`] (0), the same for every such message, and its `time` is when
//! the packet was read. Recalling, quoting or fetching message 0 over 1.x is refused.

use serde_json::{json, Map, Value};

use super::event::is_message_type;

/// The id scripts see in the `Source` of a 1.x message that came without one.
pub const NO_ID: i64 = 0;

/// Message element types 2.x added; a 1.x server has none of them.
const TWO_X_ONLY_ELEMENTS: &[&str] =
    &["MiraiCode", "Dice", "MarketFace", "MusicShare", "Forward", "File", "ShortVideo"];

/// The keys of an event that hold a friend or a group member.
const PARTIES: &[&str] = &["sender", "subject", "member", "operator", "invitor", "friend"];

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

/// Seconds since the Unix epoch, for the `time` of a synthesized `Source`.
#[must_use]
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A 2.x call's content as a 1.x server takes it, or why 1.x cannot carry it.
///
/// A parameter 1.x would drop or misread is refused, not sent: `kick` with
/// `block`, `groupConfig` update with `muteAll`, message elements 2.x added, an
/// image or voice given only as `base64`, and message id [`NO_ID`].
pub fn request(command: &str, content: Value) -> Result<Value, String> {
    if !has(command) {
        return Err("is not available on a mirai-api-http 1.x server".into());
    }
    let mut content = content;
    match command {
        // 1.x names the message by id alone.
        "recall" => content = json!({ "target": message_id(&content, "messageId")? }),
        "messageFromId" => content = json!({ "id": message_id(&content, "messageId")? }),
        "kick" => {
            if let Some(map) = content.as_object_mut() {
                if !matches!(map.remove("block"), None | Some(Value::Null | Value::Bool(false))) {
                    return Err("`block` cannot be honoured: a mirai-api-http 1.x server cannot \
                                block a kicked member, so nobody was kicked"
                        .into());
                }
            }
        }
        "groupConfig" => {
            let mute_all = content.get("config").and_then(|c| c.get("muteAll"));
            if mute_all.is_some_and(|v| !v.is_null()) {
                return Err("`config.muteAll` cannot be honoured: a mirai-api-http 1.x server \
                            ignores it in groupConfig; use muteAll or unmuteAll"
                    .into());
            }
        }
        "sendFriendMessage" | "sendGroupMessage" | "sendTempMessage" => {
            message_id(&content, "quote")?;
            if let Some(chain) = content.get("messageChain").and_then(Value::as_array) {
                chain.iter().try_for_each(sendable)?;
            }
        }
        _ => {}
    }
    Ok(content)
}

/// The message id under `key`, refused when it is [`NO_ID`]: 1.x gave that message no id.
fn message_id(content: &Value, key: &str) -> Result<Value, String> {
    let id = content.get(key).cloned().unwrap_or(Value::Null);
    if id.as_i64() == Some(NO_ID) {
        return Err(format!(
            "`{key}` is {NO_ID}: the mirai-api-http 1.x server sent that message without a \
             Source, so it has no id to name it by"
        ));
    }
    Ok(id)
}

/// Whether a 1.x server can send one outgoing message element as it is meant.
fn sendable(el: &Value) -> Result<(), String> {
    let ty = el.get("type").and_then(Value::as_str).unwrap_or_default();
    if TWO_X_ONLY_ELEMENTS.contains(&ty) {
        return Err(format!(
            "`messageChain` has a {ty} element, which a mirai-api-http 1.x server does not have"
        ));
    }
    let given = |k: &str| el.get(k).is_some_and(|v| !v.is_null());
    let id_key = if ty == "Voice" { "voiceId" } else { "imageId" };
    if matches!(ty, "Image" | "FlashImage" | "Voice")
        && given("base64")
        && ![id_key, "url", "path"].into_iter().any(given)
    {
        return Err(format!(
            "`base64` in a {ty} element cannot be honoured: a mirai-api-http 1.x server takes \
             only `{id_key}`, `url` or `path`; upload it first"
        ));
    }
    Ok(())
}

/// A 1.x answer in the 2.x shape: bare lists and ids wrapped as `{code, data}`, and
/// friends, members and message packets as 2.x has them.
///
/// `content` is the call's content as sent; `now` the time for synthesized sources.
#[must_use]
pub fn answer(command: &str, content: &Value, body: Value, now: i64) -> Value {
    let mut body = match (command, body) {
        ("uploadImage", Value::String(id)) => return json!({ "imageId": id }),
        (_, Value::Array(items)) => json!({ "code": 0, "msg": "", "data": items }),
        ("messageFromId", packet) if packet.get("messageChain").is_some() => {
            json!({ "code": 0, "msg": "", "data": packet })
        }
        (_, other) => other,
    };
    if command == "memberInfo" && body.get("code").is_none() {
        return member_info(content, body);
    }
    let data = body.get_mut("data");
    match command {
        "fetchMessage" | "fetchLatestMessage" | "peekMessage" | "peekLatestMessage" => {
            for ev in data.and_then(Value::as_array_mut).into_iter().flatten() {
                *ev = event(ev.take(), now);
            }
        }
        "messageFromId" => {
            if let Some(ev) = data {
                *ev = event(ev.take(), now);
            }
        }
        "friendList" | "memberList" => {
            data.and_then(Value::as_array_mut).into_iter().flatten().for_each(party);
        }
        _ => {}
    }
    body
}

/// A 1.x `memberInfo` get answer (`{name, specialTitle}`) as the 2.x member it stands for.
///
/// 1.x does not say the member's permission or group, so those stay out.
fn member_info(content: &Value, body: Value) -> Value {
    let Value::Object(mut info) = body else { return body };
    let mut out = Map::new();
    out.insert("id".into(), content.get("memberId").cloned().unwrap_or(Value::Null));
    out.insert("memberName".into(), info.remove("name").unwrap_or_else(|| "".into()));
    // The 1.x docs show the title under `announcement`.
    let title = info.remove("specialTitle").or_else(|| info.remove("announcement"));
    out.insert("specialTitle".into(), title.unwrap_or_else(|| "".into()));
    for (k, v) in [("joinTimestamp", 0), ("lastSpeakTimestamp", 0), ("muteTimeRemaining", 0)] {
        out.insert(k.into(), v.into());
    }
    out.insert("active".into(), Value::Null);
    out.extend(info);
    Value::Object(out)
}

/// A 1.x event or message packet in the 2.x shape of the same type.
///
/// Friends get `nickname` for `nickName`, members the 2.x keys 1.x lacked, the
/// chain a leading `Source` with an `id` (see [`NO_ID`]) and a `time` (`now` when
/// 1.x sent none), and the event the keys 2.x added, at their 2.x defaults.
/// A packet already in the 2.x shape comes back unchanged.
#[must_use]
pub fn event(ev: Value, now: i64) -> Value {
    let Value::Object(mut ev) = ev else { return ev };
    let kind = ev.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
    for key in PARTIES {
        if let Some(p) = ev.get_mut(*key) {
            party(p);
        }
    }
    if is_message_type(&kind) {
        if let Some(Value::Array(chain)) = ev.get_mut("messageChain") {
            message_chain(chain, now);
        }
    }
    fill(&mut ev, event_defaults(&kind));
    Value::Object(ev)
}

/// The keys 2.x added to an event type, at their 2.x defaults.
fn event_defaults(kind: &str) -> Value {
    match kind {
        "BotJoinGroupEvent" | "MemberJoinEvent" => json!({ "invitor": null }),
        "BotLeaveEventKick" | "BotLeaveEventDisband" => json!({ "operator": null }),
        "FriendAddEvent" => json!({ "stranger": false }),
        "BotOfflineEventForce" => json!({ "title": "", "message": "" }),
        "GroupAllowConfessTalkEvent" => json!({ "isByBot": false }),
        "NewFriendRequestEvent" => json!({ "message": "", "groupId": 0, "nick": "" }),
        "MemberJoinRequestEvent" => {
            json!({ "message": "", "groupName": "", "nick": "", "invitorId": null })
        }
        "BotInvitedJoinGroupRequestEvent" => json!({ "message": "", "groupName": "", "nick": "" }),
        "CommandExecutedEvent" => json!({ "friend": null, "member": null, "args": [] }),
        _ => Value::Null,
    }
}

/// Insert each key of `defaults` that `obj` lacks.
fn fill(obj: &mut Map<String, Value>, defaults: Value) {
    if let Value::Object(defaults) = defaults {
        for (k, v) in defaults {
            obj.entry(k).or_insert(v);
        }
    }
}

/// A friend (`nickName`, `remark`) or a group member (with a `group`) in the 2.x shape.
fn party(p: &mut Value) {
    let Value::Object(p) = p else { return };
    if p.get("group").is_some_and(Value::is_object) {
        fill(
            p,
            json!({
                "memberName": "", "specialTitle": "", "permission": "MEMBER",
                "joinTimestamp": 0, "lastSpeakTimestamp": 0, "muteTimeRemaining": 0,
                "active": null,
            }),
        );
        if let Some(Value::Object(g)) = p.get_mut("group") {
            fill(g, json!({ "name": "", "permission": "MEMBER" }));
        }
    } else if ["nickName", "nickname", "remark"].iter().any(|k| p.contains_key(*k)) {
        if let Some(nick) = p.remove("nickName") {
            p.entry("nickname").or_insert(nick);
        }
        fill(p, json!({ "nickname": "", "remark": "" }));
    }
}

/// A received chain in the 2.x shape, with its `Source` first.
fn message_chain(chain: &mut Vec<Value>, now: i64) {
    for el in chain.iter_mut() {
        element(el, now);
    }
    let is_source = |e: &Value| e.get("type").and_then(Value::as_str) == Some("Source");
    match chain.iter().position(is_source) {
        Some(0) => {}
        Some(i) => {
            let source = chain.remove(i);
            chain.insert(0, source);
        }
        None => chain.insert(0, json!({ "type": "Source", "id": NO_ID, "time": now })),
    }
}

/// One received message element in the 2.x shape.
fn element(el: &mut Value, now: i64) {
    let Value::Object(el) = el else { return };
    let ty = el.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
    if matches!(ty.as_str(), "Source" | "Quote") {
        if let Some(uid) = el.remove("uid") {
            el.entry("id").or_insert(uid);
        }
    }
    let defaults = match ty.as_str() {
        "Source" => json!({ "id": NO_ID, "time": now }),
        "Quote" => {
            if let Some(Value::Array(origin)) = el.get_mut("origin") {
                for e in origin {
                    element(e, now);
                }
            }
            json!({ "id": NO_ID, "senderId": 0, "targetId": 0, "groupId": 0, "origin": [] })
        }
        "At" => json!({ "display": "" }),
        "AtAll" => json!({ "target": 0 }),
        "Face" => json!({ "name": "", "isSuperFace": false }),
        "Image" | "FlashImage" => json!({
            "url": "", "path": null, "base64": null, "width": 0, "height": 0, "size": 0,
            "imageType": "UNKNOWN", "isEmoji": false,
        }),
        "Voice" => json!({ "url": "", "path": null, "base64": null, "length": 0 }),
        _ => Value::Null,
    };
    fill(el, defaults);
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    /// The 2.x wire fixture of an event type.
    fn fixture(kind: &str) -> Value {
        let path = format!("{}/tests/fixtures/wire/events/{kind}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Whether two values have the same keys at every depth (values may differ).
    fn same_keys(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same_keys(v, w)))
            }
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_keys(x, y))
            }
            _ => true,
        }
    }

    fn seed_member() -> Value {
        json!({"id": 123456789, "memberName": "化腾", "permission": "MEMBER",
               "group": {"id": 1234567890, "name": "Miral Technology", "permission": "MEMBER"}})
    }

    #[test]
    fn the_seed_friend_message_gets_the_2x_shape() {
        let ev = json!({"type": "FriendMessage",
            "messageChain": [{"type": "Source", "uid": 123456}, {"type": "Plain", "text": "hi"}],
            "sender": {"id": 1234567890, "nickName": "nick", "remark": ""}});
        let out = event(ev, NOW);
        assert!(same_keys(&out, &fixture("FriendMessage")), "{out}");
        assert_eq!(out["sender"]["nickname"], "nick");
        assert_eq!(out["messageChain"][0], json!({"type": "Source", "id": 123456, "time": NOW}));
        assert_eq!(out["messageChain"][1]["text"], "hi");
    }

    #[test]
    fn a_chain_without_source_gets_one_with_id_zero() {
        let ev = json!({"type": "FriendMessage", "messageChain": [{"type": "Plain", "text": "x"}],
            "sender": {"id": 1, "nickName": "n", "remark": "r"}});
        let out = event(ev, NOW);
        assert_eq!(out["messageChain"][0], json!({"type": "Source", "id": NO_ID, "time": NOW}));
        assert_eq!(out["messageChain"][1], json!({"type": "Plain", "text": "x"}));
        // A Source that is not first is moved to the front, not doubled.
        let late = json!({"type": "GroupMessage", "sender": seed_member(), "messageChain":
            [{"type": "Plain", "text": "x"}, {"type": "Source", "id": 7, "time": 3}]});
        let chain = event(late, NOW)["messageChain"].clone();
        assert_eq!(
            chain,
            json!([{"type": "Source", "id": 7, "time": 3},
                                 {"type": "Plain", "text": "x"}])
        );
    }

    #[test]
    fn the_seed_group_message_and_mute_event_get_the_2x_shape() {
        let ev = json!({"type": "GroupMessage", "sender": seed_member(),
            "messageChain": [{"type": "Source", "uid": 5}, {"type": "Plain", "text": "t"}]});
        let out = event(ev, NOW);
        assert!(same_keys(&out, &fixture("GroupMessage")), "{out}");
        assert_eq!(out["sender"]["memberName"], "化腾");
        assert_eq!(out["sender"]["specialTitle"], "");
        assert_eq!(out["messageChain"][0]["id"], 5);
        let mute = json!({"type": "MemberMuteEvent", "durationSeconds": 600,
            "member": seed_member(), "operator": seed_member()});
        assert!(same_keys(&event(mute, NOW), &fixture("MemberMuteEvent")));
    }

    #[test]
    fn events_get_the_keys_2x_added() {
        let cases = [
            json!({"type": "BotJoinGroupEvent", "group": {"id": 1, "name": "g", "permission": "MEMBER"}}),
            json!({"type": "FriendAddEvent", "friend": {"id": 1, "nickName": "n", "remark": ""}}),
            json!({"type": "MemberJoinRequestEvent", "eventId": 1, "message": "", "fromId": 2,
                   "groupId": 3, "groupName": "g", "nick": "n"}),
            json!({"type": "BotOfflineEventForce", "qq": 1}),
            json!({"type": "GroupAllowConfessTalkEvent", "origin": false, "current": true,
                   "group": {"id": 1, "name": "g", "permission": "MEMBER"}}),
        ];
        for ev in cases {
            let kind = ev["type"].as_str().unwrap().to_owned();
            let out = event(ev, NOW);
            assert!(same_keys(&out, &fixture(&kind)), "{kind}: {out}");
        }
    }

    #[test]
    fn two_x_events_pass_unchanged() {
        let dir = format!("{}/tests/fixtures/wire/events", env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let ev: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(event(ev.clone(), NOW), ev);
        }
    }

    #[test]
    fn quotes_and_elements_get_2x_keys() {
        let ev = json!({"type": "GroupMessage", "sender": seed_member(), "messageChain": [
            {"type": "Source", "id": 1, "time": 2},
            {"type": "Quote", "uid": 9, "groupId": 3, "senderId": 4, "targetId": 3,
             "origin": [{"type": "Face", "faceId": 1}]},
            {"type": "Image", "imageId": "{X}.jpg"},
            {"type": "At", "target": 4},
        ]});
        let chain = event(ev, NOW)["messageChain"].clone();
        assert_eq!(chain[1]["id"], 9);
        assert!(chain[1].get("uid").is_none());
        assert_eq!(
            chain[1]["origin"][0],
            json!({"type": "Face", "faceId": 1, "name": "",
                                                  "isSuperFace": false})
        );
        let dir = format!("{}/tests/fixtures/wire/messages", env!("CARGO_MANIFEST_DIR"));
        let keys = |v: &Value| {
            let mut k: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        for (i, kind) in [(1, "Quote"), (2, "Image"), (3, "At")] {
            let text = std::fs::read_to_string(format!("{dir}/{kind}.json")).unwrap();
            let want: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(keys(&chain[i]), keys(&want), "{kind}");
        }
    }

    #[test]
    fn answers_are_wrapped_and_translated() {
        let none = Value::Null;
        assert_eq!(
            answer("groupList", &none, json!([1]), NOW),
            json!({"code": 0, "msg": "", "data": [1]})
        );
        assert_eq!(
            answer("uploadImage", &none, json!("{X}.jpg"), NOW),
            json!({"imageId": "{X}.jpg"})
        );
        let friends =
            answer("friendList", &none, json!([{"id": 1, "nickName": "a", "remark": ""}]), NOW);
        assert_eq!(friends["data"][0], json!({"id": 1, "nickname": "a", "remark": ""}));
        let members = answer("memberList", &none, json!([seed_member()]), NOW);
        assert_eq!(members["data"][0]["muteTimeRemaining"], 0);
        let packet = json!({"type": "FriendMessage", "messageChain": [],
                            "sender": {"id": 1, "nickName": "a", "remark": ""}});
        for wrapped in [json!({"code": 0, "data": [packet.clone()]}), json!([packet.clone()])] {
            let v = answer("fetchMessage", &none, wrapped, NOW);
            assert_eq!(v["data"][0]["sender"]["nickname"], "a");
            assert_eq!(v["data"][0]["messageChain"][0]["type"], "Source");
        }
        let v = answer("messageFromId", &none, json!({"code": 0, "data": packet.clone()}), NOW);
        assert_eq!(v["data"]["sender"]["nickname"], "a");
        let v = answer("messageFromId", &none, packet, NOW);
        assert_eq!(v["code"], 0);
        assert_eq!(v["data"]["sender"]["nickname"], "a");
        let failed = json!({"code": 5, "msg": "指定对象不存在"});
        assert_eq!(answer("fetchMessage", &none, failed.clone(), NOW), failed);
    }

    #[test]
    fn member_info_becomes_a_member() {
        let content = json!({"target": 1, "memberId": 2});
        let v = answer("memberInfo", &content, json!({"name": "card", "specialTitle": "t"}), NOW);
        assert_eq!(v["id"], 2);
        assert_eq!(v["memberName"], "card");
        assert_eq!(v["specialTitle"], "t");
        assert!(v.get("name").is_none());
        // The 1.x docs show the title as `announcement`.
        let v = answer("memberInfo", &content, json!({"name": "c", "announcement": "t"}), NOW);
        assert_eq!(v["specialTitle"], "t");
        // An update answers a status code, left alone.
        assert_eq!(answer("memberInfo", &content, json!({"code": 0, "msg": ""}), NOW)["code"], 0);
    }

    #[test]
    fn kick_with_block_is_refused() {
        let e = request("kick", json!({"target": 1, "memberId": 2, "msg": "m", "block": true}))
            .unwrap_err();
        assert!(e.contains("`block`") && e.contains("cannot block"), "{e}");
        let sent = request("kick", json!({"target": 1, "memberId": 2, "msg": "m", "block": false}));
        assert_eq!(sent.unwrap(), json!({"target": 1, "memberId": 2, "msg": "m"}));
        assert!(request("kick", json!({"target": 1, "memberId": 2})).is_ok());
    }

    #[test]
    fn other_downgrades_are_refused() {
        let muted = json!({"target": 1, "config": {"name": "n", "muteAll": true}});
        assert!(request("groupConfig", muted).unwrap_err().contains("muteAll"));
        assert!(request("groupConfig", json!({"target": 1, "config": {"name": "n"}})).is_ok());
        let dice = json!({"target": 1, "messageChain": [{"type": "Dice", "value": 1}]});
        assert!(request("sendGroupMessage", dice).unwrap_err().contains("Dice"));
        let b64 = json!({"target": 1, "messageChain": [{"type": "Image", "base64": "AA=="}]});
        assert!(request("sendFriendMessage", b64).unwrap_err().contains("`base64`"));
        let both = json!({"target": 1,
            "messageChain": [{"type": "Image", "imageId": "{X}.jpg", "base64": "AA=="}]});
        assert!(request("sendFriendMessage", both).is_ok());
        let quote0 = json!({"target": 1, "quote": 0, "messageChain": []});
        assert!(request("sendFriendMessage", quote0).unwrap_err().contains("`quote`"));
        assert!(request("recall", json!({"messageId": 0, "target": 1})).is_err());
        assert!(request("messageFromId", json!({"messageId": 0, "target": 1})).is_err());
        assert!(request("anno_list", json!({})).unwrap_err().contains("not available"));
    }

    #[test]
    fn messages_are_named_by_id_alone() {
        let r = request("recall", json!({"messageId": 5, "target": 9})).unwrap();
        assert_eq!(r, json!({"target": 5}));
        let r = request("messageFromId", json!({"messageId": 5, "target": 9})).unwrap();
        assert_eq!(r, json!({"id": 5}));
    }
}
