//! Golden tests: OneBot v11 events (NapCat shapes, Lagrange variants where they differ) → the
//! exact mirai-api-http JSON scripts receive, with the key sets of the wire fixtures.

use std::collections::BTreeSet;
use std::path::Path;

use mahua::adapter::onebot::cache::{
    self, Contacts, Friend, Group, Implementation, Member, RequestKind, Role,
};
use mahua::adapter::onebot::event::{self, Fetch, Translated};
use mahua::adapter::onebot::message;
use serde_json::{json, Value};

const BOT: i64 = 10001;
const G: i64 = 20002;
const G2: i64 = 20003;
const ALICE: i64 = 30001;
const BOB: i64 = 30002;
const CAROL: i64 = 30003;
const DAVE: i64 = 30004;
const STRANGER: i64 = 40004;
const T: i64 = 1_700_000_000;

/// The bot (admin of G, member of G2); Alice a friend and member of G, Bob G's owner, Carol
/// a friend only, Dave a plain member of G.
fn world() -> Contacts {
    let mut c = Contacts::new(BOT);
    c.implementation = Implementation::NapCat;
    c.friends.insert(ALICE, Friend { nickname: "Alice".into(), remark: "Al".into() });
    c.friends.insert(CAROL, Friend { nickname: "Carol".into(), remark: String::new() });
    let mut g = Group { name: "测试群".into(), bot_role: Some(Role::Admin), ..Group::default() };
    g.members.insert(
        BOT,
        Member {
            nickname: "bot".into(),
            role: Role::Admin,
            join_time: 1_400_000_000,
            ..Member::default()
        },
    );
    g.members.insert(
        ALICE,
        Member {
            nickname: "Alice".into(),
            card: "阿丽丝".into(),
            title: "头衔".into(),
            role: Role::Member,
            join_time: 1_600_000_000,
            last_sent_time: 1_650_000_000,
            mute_until: 0,
        },
    );
    g.members.insert(
        BOB,
        Member {
            nickname: "Bob".into(),
            role: Role::Owner,
            join_time: 1_500_000_000,
            ..Member::default()
        },
    );
    g.members.insert(
        DAVE,
        Member { nickname: "Dave".into(), join_time: 1_610_000_000, ..Member::default() },
    );
    c.groups.insert(G, g);
    c.groups.insert(
        G2,
        Group { name: "别的群".into(), bot_role: Some(Role::Member), ..Group::default() },
    );
    c
}

fn group() -> Value {
    json!({"id": G, "name": "测试群", "permission": "ADMINISTRATOR"})
}

fn member(id: i64, name: &str, title: &str, permission: &str, join: i64, last: i64) -> Value {
    json!({
        "id": id, "memberName": name, "specialTitle": title, "permission": permission,
        "joinTimestamp": join, "lastSpeakTimestamp": last, "muteTimeRemaining": 0,
        "group": group(), "active": null,
    })
}

fn alice() -> Value {
    member(ALICE, "阿丽丝", "头衔", "MEMBER", 1_600_000_000, 1_650_000_000)
}

fn bob() -> Value {
    member(BOB, "Bob", "", "OWNER", 1_500_000_000, 0)
}

fn dave() -> Value {
    member(DAVE, "Dave", "", "MEMBER", 1_610_000_000, 0)
}

fn text(s: &str) -> Value {
    json!([{"type": "text", "data": {"text": s}}])
}

fn chain(id: i64, time: i64, rest: Value) -> Value {
    let mut v = vec![json!({"type": "Source", "id": id, "time": time})];
    v.extend(rest.as_array().cloned().unwrap_or_default());
    Value::Array(v)
}

fn plain(s: &str) -> Value {
    json!([{"type": "Plain", "text": s}])
}

/// A NapCat message event.
fn msg(kind: &str, sub: &str, id: i64, user: i64, message: Value, extra: Value) -> Value {
    let mut ev = json!({
        "self_id": BOT, "user_id": user, "time": T, "message_id": id, "message_seq": id,
        "real_id": id, "real_seq": "1001", "message_type": kind, "sub_type": sub,
        "sender": {"user_id": user, "nickname": "nick", "card": ""},
        "raw_message": "", "font": 14, "message": message, "message_format": "array",
        "post_type": "message",
    });
    merge(&mut ev, extra);
    ev
}

/// A notice (or request) event.
fn notice(notice_type: &str, extra: Value) -> Value {
    let mut ev =
        json!({"time": T, "self_id": BOT, "post_type": "notice", "notice_type": notice_type});
    merge(&mut ev, extra);
    ev
}

fn notify(sub_type: &str, extra: Value) -> Value {
    let mut ev = notice("notify", json!({"sub_type": sub_type}));
    merge(&mut ev, extra);
    ev
}

fn merge(into: &mut Value, extra: Value) {
    if let (Some(o), Value::Object(extra)) = (into.as_object_mut(), extra) {
        o.extend(extra);
    }
}

fn fixture(dir: &str, ty: &str) -> Option<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wire")
        .join(dir)
        .join(format!("{ty}.json"));
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).expect("fixture is JSON"))
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

/// `actual` has exactly the keys of `expected`, recursively; nulls on either side are not
/// compared further, chain elements are compared with the element fixtures.
fn same_shape(actual: &Value, expected: &Value, path: &str) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            assert_eq!(keys(actual), keys(expected), "keys at {path}: {actual}");
            for (k, v) in a {
                same_shape(v, &e[k], &format!("{path}.{k}"));
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            for (i, item) in a.iter().enumerate() {
                let ty = item["type"].as_str().unwrap_or_default();
                let like = e
                    .iter()
                    .find(|x| x["type"] == item["type"] && !ty.is_empty())
                    .cloned()
                    .or_else(|| fixture("messages", ty))
                    .or_else(|| e.first().cloned());
                if let Some(like) = like {
                    same_shape(item, &like, &format!("{path}[{i}]"));
                }
            }
        }
        _ => {}
    }
}

/// The mirai-api-http JSON `ev` becomes.
fn mirai(ev: &Value, c: &mut Contacts) -> Value {
    match event::translate(ev, c) {
        Translated::Mirai(v) => v,
        other => panic!("{ev} gave {other:?}"),
    }
}

/// `ev` gives exactly `expected`, shaped like the wire fixture of its type.
fn golden(ev: Value, c: &mut Contacts, expected: Value) -> Value {
    let got = mirai(&ev, c);
    assert_eq!(got, expected, "from {ev}");
    let ty = got["type"].as_str().unwrap_or_default().to_owned();
    let fx = fixture("events", &ty).unwrap_or_else(|| panic!("no fixture for {ty}"));
    same_shape(&got, &fx, &ty);
    got
}

// ---------------------------------------------------------------------------------------
// 2.1 Message packets

#[test]
fn friend_message() {
    let mut c = world();
    let ev = msg("private", "friend", 501, ALICE, text("hi"), json!({"target_id": ALICE}));
    assert!(event::fetches(&ev, &c).is_empty());
    let packet = golden(
        ev,
        &mut c,
        json!({
            "type": "FriendMessage",
            "messageChain": chain(501, T, plain("hi")),
            // The nickname as the sender gives it now, the remark from the friend list.
            "sender": {"id": ALICE, "nickname": "nick", "remark": "Al"},
        }),
    );
    assert_eq!(c.friends[&ALICE].nickname, "nick");
    let kept = c.message(501).expect("remembered");
    assert_eq!((kept.conversation, kept.group, kept.author, kept.time), (ALICE, None, ALICE, T));
    assert_eq!(kept.packet(), packet);
}

#[test]
fn a_non_friend_private_friend_message_is_a_stranger_message() {
    let mut c = world();
    let ev = msg("private", "friend", 502, STRANGER, text("hello"), json!({"target_id": STRANGER}));
    golden(
        ev,
        &mut c,
        json!({
            "type": "StrangerMessage",
            "messageChain": chain(502, T, plain("hello")),
            "sender": {"id": STRANGER, "nickname": "nick", "remark": ""},
        }),
    );
}

#[test]
fn without_a_friend_list_private_friend_is_a_friend_message() {
    let mut c = Contacts::new(BOT);
    let ev = msg("private", "friend", 503, STRANGER, text("x"), json!({}));
    golden(
        ev,
        &mut c,
        json!({
            "type": "FriendMessage",
            "messageChain": chain(503, T, plain("x")),
            "sender": {"id": STRANGER, "nickname": "nick", "remark": ""},
        }),
    );
}

#[test]
fn private_other_is_a_stranger_message() {
    let mut c = world();
    let ev = msg("private", "other", 504, STRANGER, text("x"), json!({}));
    golden(
        ev,
        &mut c,
        json!({
            "type": "StrangerMessage",
            "messageChain": chain(504, T, plain("x")),
            "sender": {"id": STRANGER, "nickname": "nick", "remark": ""},
        }),
    );
}

#[test]
fn napcat_temp_message_with_group_id() {
    let mut c = world();
    let ev =
        msg("private", "group", 505, DAVE, text("psst"), json!({"group_id": G, "temp_source": 0}));
    golden(
        ev,
        &mut c,
        json!({
            "type": "TempMessage",
            "messageChain": chain(505, T, plain("psst")),
            // NapCat's temp sender has the nickname and an empty card.
            "sender": member(DAVE, "nick", "", "MEMBER", 1_610_000_000, 0),
        }),
    );
    let kept = c.message(505).expect("remembered");
    assert_eq!((kept.conversation, kept.group), (DAVE, Some(G)));
}

#[test]
fn napcat_temp_message_with_the_fallback_group_is_a_stranger_message() {
    let mut c = world();
    let ev = msg(
        "private",
        "group",
        506,
        STRANGER,
        text("?"),
        json!({"group_id": 284_840_486, "temp_source": 0}),
    );
    golden(
        ev,
        &mut c,
        json!({
            "type": "StrangerMessage",
            "messageChain": chain(506, T, plain("?")),
            "sender": {"id": STRANGER, "nickname": "nick", "remark": ""},
        }),
    );
    assert!(!c.groups.contains_key(&284_840_486));
}

#[test]
fn group_message_from_the_cache_and_the_sender() {
    let mut c = world();
    let ev = msg(
        "group",
        "normal",
        507,
        ALICE,
        text("大家好"),
        json!({
            "group_id": G, "group_name": "测试群",
            "sender": {"user_id": ALICE, "nickname": "Alice", "card": "阿丽丝", "role": "member"},
        }),
    );
    golden(
        ev,
        &mut c,
        json!({
            "type": "GroupMessage",
            "messageChain": chain(507, T, plain("大家好")),
            "sender": member(ALICE, "阿丽丝", "头衔", "MEMBER", 1_600_000_000, T),
        }),
    );
    assert_eq!(c.member(G, ALICE).map(|m| m.last_sent_time), Some(T));
    let kept = c.message(507).expect("remembered");
    assert_eq!((kept.conversation, kept.group, kept.author), (G, Some(G), ALICE));
}

#[test]
fn group_message_from_an_unknown_member_learns_it() {
    let mut c = world();
    let ev = msg(
        "group",
        "normal",
        508,
        STRANGER,
        text("new here"),
        json!({"group_id": G2, "group_name": "改名的群",
            "sender": {"user_id": STRANGER, "nickname": "Eve", "card": "", "role": "admin", "title": "t"}}),
    );
    let g2 = json!({"id": G2, "name": "改名的群", "permission": "MEMBER"});
    golden(
        ev,
        &mut c,
        json!({
            "type": "GroupMessage",
            "messageChain": chain(508, T, plain("new here")),
            "sender": {
                "id": STRANGER, "memberName": "Eve", "specialTitle": "t", "permission": "ADMINISTRATOR",
                "joinTimestamp": 0, "lastSpeakTimestamp": T, "muteTimeRemaining": 0,
                "group": g2, "active": null,
            },
        }),
    );
    let m = c.member(G2, STRANGER).expect("learnt");
    assert_eq!((m.nickname.as_str(), m.role), ("Eve", Role::Admin));
    assert_eq!(c.groups[&G2].name, "改名的群");
}

#[test]
fn anonymous_group_message() {
    let mut c = world();
    let ev = msg(
        "group",
        "anonymous",
        509,
        80_000_000,
        text("boo"),
        json!({"group_id": G, "anonymous": {"id": 5, "name": "匿名者", "flag": "f"},
            "sender": {"user_id": 80_000_000, "nickname": "匿名消息"}}),
    );
    golden(
        ev,
        &mut c,
        json!({
            "type": "GroupMessage",
            "messageChain": chain(509, T, plain("boo")),
            "sender": member(80_000_000, "匿名者", "", "MEMBER", 0, 0),
        }),
    );
    assert!(c.member(G, 80_000_000).is_none());
}

#[test]
fn group_system_tip_is_dropped() {
    let mut c = world();
    let ev = msg("group", "notice", 510, 0, text("tip"), json!({"group_id": G}));
    assert!(matches!(event::translate(&ev, &mut c), Translated::Dropped(_)));
    assert!(c.message(510).is_none());
}

#[test]
fn message_sent_group_is_a_group_sync_message() {
    let mut c = world();
    let mut ev = msg(
        "group",
        "normal",
        511,
        BOT,
        text("mine"),
        json!({"group_id": G, "sender": {"user_id": BOT, "nickname": "bot", "card": "", "role": "admin"}}),
    );
    ev["post_type"] = json!("message_sent");
    let expected = json!({
        "type": "GroupSyncMessage",
        "messageChain": chain(511, T, plain("mine")),
        "subject": group(),
    });
    golden(ev.clone(), &mut c, expected.clone());
    assert_eq!(c.message(511).map(|m| m.author), Some(BOT));
    // The same with post_type message and user_id == self_id.
    ev["post_type"] = json!("message");
    golden(ev, &mut world(), expected);
}

#[test]
fn message_sent_private_is_a_friend_sync_message() {
    let mut c = world();
    let mut ev = msg("private", "friend", 512, BOT, text("to alice"), json!({"target_id": ALICE}));
    ev["post_type"] = json!("message_sent");
    golden(
        ev.clone(),
        &mut c,
        json!({
            "type": "FriendSyncMessage",
            "messageChain": chain(512, T, plain("to alice")),
            "subject": {"id": ALICE, "nickname": "Alice", "remark": "Al"},
        }),
    );
    let kept = c.message(512).expect("remembered");
    assert_eq!((kept.conversation, kept.author), (ALICE, BOT));
    // user_id == self_id without message_sent is a sync message too.
    ev["post_type"] = json!("message");
    ev["message_id"] = json!(513);
    assert_eq!(mirai(&ev, &mut c)["type"], "FriendSyncMessage");
    // To someone who is not a friend.
    ev["target_id"] = json!(STRANGER);
    golden(
        ev,
        &mut c,
        json!({
            "type": "StrangerSyncMessage",
            "messageChain": chain(513, T, plain("to alice")),
            "subject": {"id": STRANGER, "nickname": "", "remark": ""},
        }),
    );
}

#[test]
fn message_ids_pass_through_negative_and_near_i32_max() {
    for id in [-12_345_i64, i64::from(i32::MAX), i64::from(i32::MIN), 0] {
        let mut c = world();
        let ev = msg("private", "friend", id, ALICE, text("x"), json!({}));
        let got = mirai(&ev, &mut c);
        assert_eq!(got["messageChain"][0], json!({"type": "Source", "id": id, "time": T}));
        assert!(c.message(id).is_some());
    }
    // As a string, too.
    let mut c = world();
    let ev = msg("private", "friend", 0, ALICE, text("x"), json!({"message_id": "-7"}));
    assert_eq!(mirai(&ev, &mut c)["messageChain"][0]["id"], -7);
}

#[test]
fn millisecond_time_is_scaled_to_seconds() {
    let mut c = world();
    let ev = msg("private", "friend", 514, ALICE, text("x"), json!({"time": T * 1000 + 123}));
    assert_eq!(mirai(&ev, &mut c)["messageChain"][0]["time"], T);
    assert_eq!(c.message(514).map(|m| m.time), Some(T));
}

#[test]
fn cq_string_and_array_give_the_same_packet() {
    let array = json!([
        {"type": "text", "data": {"text": "a [b] & c, d "}},
        {"type": "at", "data": {"qq": "30001"}},
        {"type": "face", "data": {"id": "14"}},
        {"type": "at", "data": {"qq": "all"}},
    ]);
    let cq = json!("a &#91;b&#93; &amp; c, d [CQ:at,qq=30001][CQ:face,id=14][CQ:at,qq=all]");
    let ev = |m: Value| msg("group", "normal", 515, BOB, m, json!({"group_id": G}));
    let from_array = mirai(&ev(array), &mut world());
    let from_cq = mirai(&ev(cq), &mut world());
    assert_eq!(from_array, from_cq);
    let elements = &from_array["messageChain"];
    assert_eq!(elements[1], json!({"type": "Plain", "text": "a [b] & c, d "}));
    assert_eq!(elements[2], json!({"type": "At", "target": ALICE, "display": ""}));
    assert_eq!(elements[4], json!({"type": "AtAll", "target": 0}));
    same_shape(&from_array, &fixture("events", "GroupMessage").unwrap_or_default(), "GroupMessage");
}

#[test]
fn a_reply_to_a_known_message_is_a_full_quote() {
    let mut c = world();
    mirai(&msg("group", "normal", 600, ALICE, text("question"), json!({"group_id": G})), &mut c);
    let ev = msg(
        "group",
        "normal",
        601,
        BOB,
        json!([{"type": "reply", "data": {"id": "600"}}, {"type": "text", "data": {"text": "answer"}}]),
        json!({"group_id": G}),
    );
    assert!(event::fetches(&ev, &c).is_empty());
    let quote = json!({"type": "Quote", "id": 600, "groupId": G, "senderId": ALICE, "targetId": G,
        "origin": [{"type": "Plain", "text": "question"}]});
    let got = mirai(&ev, &mut c);
    assert_eq!(
        got["messageChain"],
        json!([{"type": "Source", "id": 601, "time": T}, quote, {"type": "Plain", "text": "answer"}])
    );
    same_shape(&got, &fixture("events", "GroupMessage").unwrap_or_default(), "GroupMessage");
}

#[test]
fn a_reply_to_an_unknown_message_is_fetched_first_and_defaults_without_it() {
    let ev = msg(
        "private",
        "friend",
        602,
        ALICE,
        json!([{"type": "reply", "data": {"id": "590"}}, {"type": "text", "data": {"text": "re"}}]),
        json!({}),
    );
    // The fetch fails: defaults.
    let mut c = world();
    assert_eq!(event::fetches(&ev, &c), vec![Fetch::Message(590)]);
    let got = mirai(&ev, &mut c);
    assert_eq!(
        got["messageChain"][1],
        json!({"type": "Quote", "id": 590, "groupId": 0, "senderId": 0, "targetId": ALICE, "origin": []})
    );
    // The fetch works: get_msg's answer is remembered and the quote is full.
    let mut c = world();
    let data = json!({
        "self_id": BOT, "user_id": BOT, "time": T - 60, "message_id": 590, "real_id": 590,
        "message_type": "private", "sub_type": "friend", "target_id": ALICE,
        "sender": {"user_id": BOT, "nickname": "bot"}, "message": [{"type": "text", "data": {"text": "earlier"}}],
        "post_type": "message_sent",
    });
    let m = event::message_from(&data, &c).expect("a message");
    assert_eq!((m.id, m.conversation, m.group, m.author, m.time), (590, ALICE, None, BOT, T - 60));
    assert_eq!(m.packet()["type"], "FriendSyncMessage");
    c.remember_message(m);
    assert!(event::fetches(&ev, &c).is_empty());
    let got = mirai(&ev, &mut c);
    assert_eq!(
        got["messageChain"][1],
        json!({"type": "Quote", "id": 590, "groupId": 0, "senderId": BOT, "targetId": ALICE,
            "origin": [{"type": "Plain", "text": "earlier"}]})
    );
}

#[test]
fn lagrange_at_after_reply_is_dropped() {
    let mut c = world();
    c.implementation = Implementation::Lagrange;
    mirai(&msg("group", "normal", 610, ALICE, text("q"), json!({"group_id": G})), &mut c);
    let ev = msg(
        "group",
        "normal",
        611,
        BOB,
        json!([
            {"type": "reply", "data": {"id": "610"}},
            {"type": "at", "data": {"qq": "30001"}},
            {"type": "text", "data": {"text": " ok"}},
        ]),
        json!({"group_id": G}),
    );
    let got = mirai(&ev, &mut c);
    let types: Vec<&str> = got["messageChain"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(types, ["Source", "Quote", "Plain"]);
    // NapCat keeps an at after a reply: it was written by the sender.
    let mut c = world();
    let types_napcat = mirai(&ev, &mut c)["messageChain"].as_array().map(Vec::len);
    assert_eq!(types_napcat, Some(4));
}

#[test]
fn forward_segments_without_content_are_fetched() {
    let c = world();
    let ev = msg(
        "group",
        "normal",
        620,
        ALICE,
        json!([{"type": "forward", "data": {"id": "fw-1"}}, {"type": "forward", "data": {"id": "fw-2", "content": []}}]),
        json!({"group_id": G}),
    );
    assert_eq!(event::fetches(&ev, &c), vec![Fetch::Forward("fw-1".into())]);
    let mut c = world();
    c.remember_forward("fw-1", json!({"messages": []}));
    assert!(event::fetches(&ev, &c).is_empty());
}

#[test]
fn message_from_get_msg_answers() {
    let c = world();
    let data = json!({
        "self_id": BOT, "user_id": ALICE, "time": T, "message_id": 700, "real_id": 700,
        "message_type": "group", "sub_type": "normal", "group_id": G,
        "sender": {"user_id": ALICE, "nickname": "Alice", "card": "新名片", "role": "member"},
        "message": "hello [CQ:face,id=14]", "post_type": "message",
    });
    let m = event::message_from(&data, &c).expect("a message");
    assert_eq!((m.id, m.conversation, m.group, m.author, m.time), (700, G, Some(G), ALICE, T));
    assert_eq!(m.packet()["type"], "GroupMessage");
    assert_eq!(m.packet()["sender"]["memberName"], "新名片");
    assert_eq!(m.packet()["messageChain"][1], json!({"type": "Plain", "text": "hello "}));
    // The cache is not touched by message_from.
    assert_eq!(c.member(G, ALICE).map(|m| m.card.as_str()), Some("阿丽丝"));
    assert!(event::message_from(&json!({"message_type": "group"}), &c).is_none());
    assert!(event::message_from(&json!({}), &c).is_none());
}

// ---------------------------------------------------------------------------------------
// 2.2 Bot events

#[test]
fn bot_offline_is_bot_offline_event_force() {
    let mut c = world();
    golden(
        notice(
            "bot_offline",
            json!({"user_id": BOT, "tag": "被下线", "message": "你的账号在另一台设备登录"}),
        ),
        &mut c,
        json!({"type": "BotOfflineEventForce", "qq": BOT, "title": "被下线", "message": "你的账号在另一台设备登录"}),
    );
    // Lagrange sends no user_id.
    golden(
        notice("bot_offline", json!({"tag": "t", "message": "m"})),
        &mut c,
        json!({"type": "BotOfflineEventForce", "qq": BOT, "title": "t", "message": "m"}),
    );
}

// ---------------------------------------------------------------------------------------
// 2.3 Friend events

#[test]
fn input_status_is_friend_input_status_changed() {
    let mut c = world();
    let ev = |t: i64, s: &str| {
        notify(
            "input_status",
            json!({"user_id": ALICE, "group_id": 0, "event_type": t, "status_text": s}),
        )
    };
    let friend = json!({"id": ALICE, "nickname": "Alice", "remark": "Al"});
    golden(
        ev(1, "对方正在输入..."),
        &mut c,
        json!({"type": "FriendInputStatusChangedEvent", "friend": friend, "inputting": true}),
    );
    golden(
        ev(2, ""),
        &mut c,
        json!({"type": "FriendInputStatusChangedEvent", "friend": friend, "inputting": false}),
    );
}

#[test]
fn friend_add_is_friend_add_event_and_learnt() {
    let mut c = world();
    golden(
        notice("friend_add", json!({"user_id": DAVE})),
        &mut c,
        json!({"type": "FriendAddEvent", "friend": {"id": DAVE, "nickname": "Dave", "remark": ""}, "stranger": false}),
    );
    assert!(c.friends.contains_key(&DAVE));
}

#[test]
fn friend_recall_takes_the_time_from_the_message() {
    let mut c = world();
    mirai(&msg("private", "friend", 800, ALICE, text("oops"), json!({"time": T - 30})), &mut c);
    let ev = notice("friend_recall", json!({"user_id": ALICE, "message_id": 800}));
    assert!(event::fetches(&ev, &c).is_empty());
    golden(
        ev,
        &mut c,
        json!({"type": "FriendRecallEvent", "authorId": ALICE, "messageId": 800, "time": T - 30, "operator": ALICE}),
    );
    // Unknown message: fetched first; when that fails, the event's time. An operator_id wins.
    let ev =
        notice("friend_recall", json!({"user_id": ALICE, "message_id": 801, "operator_id": BOT}));
    assert_eq!(event::fetches(&ev, &c), vec![Fetch::Message(801)]);
    golden(
        ev,
        &mut c,
        json!({"type": "FriendRecallEvent", "authorId": ALICE, "messageId": 801, "time": T, "operator": BOT}),
    );
}

// ---------------------------------------------------------------------------------------
// 2.4 Group events

#[test]
fn group_recall_by_an_admin_and_by_the_bot() {
    let mut c = world();
    mirai(
        &msg("group", "normal", 900, DAVE, text("spam"), json!({"group_id": G, "time": T - 5})),
        &mut c,
    );
    let ev = notice(
        "group_recall",
        json!({"group_id": G, "user_id": DAVE, "operator_id": BOB, "message_id": 900}),
    );
    assert!(event::fetches(&ev, &c).is_empty());
    golden(
        ev,
        &mut c,
        json!({"type": "GroupRecallEvent", "authorId": DAVE, "messageId": 900, "time": T - 5, "group": group(), "operator": bob()}),
    );
    let ev = notice(
        "group_recall",
        json!({"group_id": G, "user_id": DAVE, "operator_id": BOT, "message_id": 901}),
    );
    assert_eq!(event::fetches(&ev, &c), vec![Fetch::Message(901)]);
    golden(
        ev,
        &mut c,
        json!({"type": "GroupRecallEvent", "authorId": DAVE, "messageId": 901, "time": T, "group": group(), "operator": null}),
    );
}

#[test]
fn group_admin_for_the_bot_and_for_a_member() {
    let mut c = world();
    golden(
        notice("group_admin", json!({"sub_type": "unset", "group_id": G, "user_id": BOT})),
        &mut c,
        json!({"type": "BotGroupPermissionChangeEvent", "origin": "ADMINISTRATOR", "current": "MEMBER",
            "group": {"id": G, "name": "测试群", "permission": "MEMBER"}}),
    );
    assert_eq!(c.bot_role(G), Some(Role::Member));
    golden(
        notice("group_admin", json!({"sub_type": "set", "group_id": G, "user_id": BOT})),
        &mut c,
        json!({"type": "BotGroupPermissionChangeEvent", "origin": "MEMBER", "current": "ADMINISTRATOR", "group": group()}),
    );
    golden(
        notice("group_admin", json!({"sub_type": "set", "group_id": G, "user_id": DAVE})),
        &mut c,
        json!({"type": "MemberPermissionChangeEvent", "origin": "MEMBER", "current": "ADMINISTRATOR",
            "member": member(DAVE, "Dave", "", "ADMINISTRATOR", 1_610_000_000, 0)}),
    );
    assert_eq!(c.member(G, DAVE).map(|m| m.role), Some(Role::Admin));
}

#[test]
fn group_ban_of_the_bot() {
    let mut c = world();
    let now = cache::now();
    golden(
        notice(
            "group_ban",
            json!({"sub_type": "ban", "group_id": G, "operator_id": BOB, "user_id": BOT, "duration": 600, "time": now}),
        ),
        &mut c,
        json!({"type": "BotMuteEvent", "durationSeconds": 600, "operator": bob()}),
    );
    assert!(c.bot_muted(G));
    golden(
        notice(
            "group_ban",
            json!({"sub_type": "lift_ban", "group_id": G, "operator_id": BOB, "user_id": BOT, "duration": 0}),
        ),
        &mut c,
        json!({"type": "BotUnmuteEvent", "operator": bob()}),
    );
    assert!(!c.bot_muted(G));
}

#[test]
fn group_ban_of_a_member() {
    let mut c = world();
    golden(
        notice(
            "group_ban",
            json!({"sub_type": "ban", "group_id": G, "operator_id": BOB, "user_id": DAVE, "duration": 600}),
        ),
        &mut c,
        json!({"type": "MemberMuteEvent", "durationSeconds": 600, "member": dave(), "operator": bob()}),
    );
    golden(
        notice(
            "group_ban",
            json!({"sub_type": "lift_ban", "group_id": G, "operator_id": BOT, "user_id": DAVE, "duration": 0}),
        ),
        &mut c,
        json!({"type": "MemberUnmuteEvent", "member": dave(), "operator": null}),
    );
    // A mute happening now shows in the member's muteTimeRemaining.
    let now = cache::now();
    let got = mirai(
        &notice(
            "group_ban",
            json!({"sub_type": "ban", "group_id": G, "operator_id": BOT, "user_id": DAVE, "duration": 600, "time": now}),
        ),
        &mut c,
    );
    assert_eq!(got["operator"], Value::Null);
    let remaining = got["member"]["muteTimeRemaining"].as_i64().unwrap_or_default();
    assert!((595..=600).contains(&remaining), "{remaining}");
}

#[test]
fn group_ban_of_everyone_is_group_mute_all() {
    let mut c = world();
    // NapCat: ban with duration -1 = on, lift_ban = off.
    golden(
        notice(
            "group_ban",
            json!({"sub_type": "ban", "group_id": G, "operator_id": BOB, "user_id": 0, "duration": -1}),
        ),
        &mut c,
        json!({"type": "GroupMuteAllEvent", "origin": false, "current": true, "group": group(), "operator": bob()}),
    );
    assert!(c.groups[&G].mute_all);
    golden(
        notice(
            "group_ban",
            json!({"sub_type": "lift_ban", "group_id": G, "operator_id": BOT, "user_id": 0, "duration": 0}),
        ),
        &mut c,
        json!({"type": "GroupMuteAllEvent", "origin": true, "current": false, "group": group(), "operator": null}),
    );
    assert!(!c.groups[&G].mute_all);
}

#[test]
fn group_increase_of_the_bot() {
    let mut c = world();
    let g3 = 20009;
    golden(
        notice(
            "group_increase",
            json!({"sub_type": "approve", "group_id": g3, "operator_id": 0, "user_id": BOT}),
        ),
        &mut c,
        json!({"type": "BotJoinGroupEvent", "group": {"id": g3, "name": "", "permission": "MEMBER"}, "invitor": null}),
    );
    assert_eq!(c.bot_role(g3), Some(Role::Member));
    // Invited by someone the cache knows in that group.
    let mut c = world();
    c.groups.remove(&G);
    let mut ev = notice(
        "group_increase",
        json!({"sub_type": "invite", "group_id": G, "operator_id": ALICE, "user_id": BOT}),
    );
    let got = mirai(&ev, &mut c);
    assert_eq!(got["invitor"]["id"], ALICE);
    same_shape(
        &got,
        &fixture("events", "BotJoinGroupEvent").unwrap_or_default(),
        "BotJoinGroupEvent",
    );
    ev["self_id"] = json!("10001");
    assert_eq!(mirai(&ev, &mut world())["type"], "BotJoinGroupEvent");
}

#[test]
fn group_increase_of_a_member() {
    let mut c = world();
    golden(
        notice(
            "group_increase",
            json!({"sub_type": "approve", "group_id": G, "operator_id": BOB, "user_id": STRANGER}),
        ),
        &mut c,
        json!({"type": "MemberJoinEvent", "member": member(STRANGER, "", "", "MEMBER", T, 0), "invitor": null}),
    );
    assert!(c.member(G, STRANGER).is_some());
    golden(
        notice(
            "group_increase",
            json!({"sub_type": "invite", "group_id": G, "operator_id": ALICE, "user_id": CAROL}),
        ),
        &mut c,
        json!({"type": "MemberJoinEvent", "member": member(CAROL, "", "", "MEMBER", T, 0), "invitor": alice()}),
    );
}

#[test]
fn group_decrease_leave_and_kick() {
    let mut c = world();
    golden(
        notice(
            "group_decrease",
            json!({"sub_type": "leave", "group_id": G, "operator_id": DAVE, "user_id": DAVE}),
        ),
        &mut c,
        json!({"type": "MemberLeaveEventQuit", "member": dave()}),
    );
    assert!(c.member(G, DAVE).is_none());
    golden(
        notice(
            "group_decrease",
            json!({"sub_type": "kick", "group_id": G, "operator_id": BOB, "user_id": ALICE}),
        ),
        &mut c,
        json!({"type": "MemberLeaveEventKick", "member": alice(), "operator": bob()}),
    );
    assert!(c.member(G, ALICE).is_none());
    golden(
        notice(
            "group_decrease",
            json!({"sub_type": "kick", "group_id": G, "operator_id": BOT, "user_id": BOB}),
        ),
        &mut c,
        json!({"type": "MemberLeaveEventKick", "member": bob(), "operator": null}),
    );
}

#[test]
fn group_decrease_kick_me_and_disband() {
    let mut c = world();
    golden(
        notice(
            "group_decrease",
            json!({"sub_type": "kick_me", "group_id": G, "operator_id": BOB, "user_id": BOT}),
        ),
        &mut c,
        json!({"type": "BotLeaveEventKick", "group": group(), "operator": bob()}),
    );
    assert!(!c.groups.contains_key(&G));
    let mut c = world();
    golden(
        notice(
            "group_decrease",
            json!({"sub_type": "disband", "group_id": G, "operator_id": BOB, "user_id": BOT}),
        ),
        &mut c,
        json!({"type": "BotLeaveEventDisband", "group": group(), "operator": bob()}),
    );
    assert!(!c.groups.contains_key(&G));
}

#[test]
fn group_poke_is_a_group_nudge() {
    let mut c = world();
    let raw = json!([
        {"col": "1", "nm": "", "type": "qq", "uid": "u_a"},
        {"jp": "https://zb.vip.qq.com/v2/pages/nudgeMall", "type": "img",
            "src": "http://tianquan.gtimg.cn/nudgeaction/item/0/expression.jpg"},
        {"txt": "拍了拍", "type": "nor"},
        {"col": "1", "nm": "", "tp": "0", "type": "qq", "uid": "u_b"},
        {"txt": "的肩膀", "type": "nor"},
    ]);
    golden(
        notify("poke", json!({"group_id": G, "user_id": ALICE, "target_id": BOT, "raw_info": raw})),
        &mut c,
        json!({"type": "NudgeEvent", "fromId": ALICE, "target": BOT,
            "subject": {"kind": "Group", "id": G, "name": "测试群", "permission": "ADMINISTRATOR"},
            "action": "拍了拍", "suffix": "的肩膀"}),
    );
    // The spec shape: no raw_info, default action and suffix.
    golden(
        notify("poke", json!({"group_id": G, "user_id": ALICE, "target_id": BOB})),
        &mut c,
        json!({"type": "NudgeEvent", "fromId": ALICE, "target": BOB,
            "subject": {"kind": "Group", "id": G, "name": "测试群", "permission": "ADMINISTRATOR"},
            "action": "戳了戳", "suffix": ""}),
    );
}

#[test]
fn lagrange_group_poke_has_action_and_suffix() {
    let mut c = world();
    c.implementation = Implementation::Lagrange;
    golden(
        notify(
            "poke",
            json!({"group_id": G, "user_id": BOB, "target_id": ALICE, "action": "揉了揉", "suffix": "的头"}),
        ),
        &mut c,
        json!({"type": "NudgeEvent", "fromId": BOB, "target": ALICE,
            "subject": {"kind": "Group", "id": G, "name": "测试群", "permission": "ADMINISTRATOR"},
            "action": "揉了揉", "suffix": "的头"}),
    );
}

/// The NudgeEvent fixture with a friend as subject.
fn golden_friend_nudge(ev: Value, c: &mut Contacts, expected: Value) {
    let got = mirai(&ev, c);
    assert_eq!(got, expected, "from {ev}");
    let mut fx = fixture("events", "NudgeEvent").unwrap_or_default();
    fx["subject"] = json!({"kind": "Friend", "id": 1, "nickname": "", "remark": ""});
    same_shape(&got, &fx, "NudgeEvent");
}

#[test]
fn napcat_friend_poke_uses_sender_id() {
    let mut c = world();
    let alice = json!({"kind": "Friend", "id": ALICE, "nickname": "Alice", "remark": "Al"});
    golden_friend_nudge(
        notify(
            "poke",
            json!({"user_id": ALICE, "sender_id": ALICE, "target_id": BOT,
            "raw_info": [{"type": "qq", "uid": "u_a"}, {"txt": "戳了戳", "type": "nor"}, {"type": "qq", "uid": "u_b"}]}),
        ),
        &mut c,
        json!({"type": "NudgeEvent", "fromId": ALICE, "target": BOT, "subject": alice, "action": "戳了戳", "suffix": ""}),
    );
    // The bot pokes Alice: user_id is still the peer.
    golden_friend_nudge(
        notify("poke", json!({"user_id": ALICE, "sender_id": BOT, "target_id": ALICE})),
        &mut c,
        json!({"type": "NudgeEvent", "fromId": BOT, "target": ALICE, "subject": alice, "action": "戳了戳", "suffix": ""}),
    );
}

#[test]
fn lagrange_friend_poke_has_action_and_suffix() {
    let mut c = world();
    c.implementation = Implementation::Lagrange;
    golden_friend_nudge(
        notify(
            "poke",
            json!({"user_id": CAROL, "target_id": BOT, "action": "捏了捏", "suffix": "的脸"}),
        ),
        &mut c,
        json!({"type": "NudgeEvent", "fromId": CAROL, "target": BOT,
            "subject": {"kind": "Friend", "id": CAROL, "nickname": "Carol", "remark": ""},
            "action": "捏了捏", "suffix": "的脸"}),
    );
    // From the bot: the peer is the target.
    golden_friend_nudge(
        notify(
            "poke",
            json!({"user_id": BOT, "target_id": CAROL, "action": "戳了戳", "suffix": ""}),
        ),
        &mut c,
        json!({"type": "NudgeEvent", "fromId": BOT, "target": CAROL,
            "subject": {"kind": "Friend", "id": CAROL, "nickname": "Carol", "remark": ""},
            "action": "戳了戳", "suffix": ""}),
    );
}

#[test]
fn group_name_changes_napcat_and_lagrange() {
    let mut c = world();
    golden(
        notify("group_name", json!({"group_id": G, "user_id": BOB, "name_new": "新群名"})),
        &mut c,
        json!({"type": "GroupNameChangeEvent", "origin": "测试群", "current": "新群名",
        "group": {"id": G, "name": "新群名", "permission": "ADMINISTRATOR"},
        "operator": {
            "id": BOB, "memberName": "Bob", "specialTitle": "", "permission": "OWNER",
            "joinTimestamp": 1_500_000_000, "lastSpeakTimestamp": 0, "muteTimeRemaining": 0,
            "group": {"id": G, "name": "测试群", "permission": "ADMINISTRATOR"}, "active": null,
        }}),
    );
    assert_eq!(c.groups[&G].name, "新群名");
    golden(
        notice("group_name_change", json!({"group_id": G, "name": "第三个名字"})),
        &mut c,
        json!({"type": "GroupNameChangeEvent", "origin": "新群名", "current": "第三个名字",
            "group": {"id": G, "name": "第三个名字", "permission": "ADMINISTRATOR"}, "operator": null}),
    );
}

#[test]
fn group_card_is_member_card_change() {
    let mut c = world();
    golden(
        notice(
            "group_card",
            json!({"group_id": G, "user_id": ALICE, "card_new": "新名片", "card_old": "阿丽丝"}),
        ),
        &mut c,
        json!({"type": "MemberCardChangeEvent", "origin": "阿丽丝", "current": "新名片",
            "member": member(ALICE, "新名片", "头衔", "MEMBER", 1_600_000_000, 1_650_000_000)}),
    );
    assert_eq!(c.member(G, ALICE).map(|m| m.card.as_str()), Some("新名片"));
}

#[test]
fn title_is_member_special_title_change() {
    let mut c = world();
    golden(
        notify("title", json!({"group_id": G, "user_id": ALICE, "title": "新头衔"})),
        &mut c,
        json!({"type": "MemberSpecialTitleChangeEvent", "origin": "头衔", "current": "新头衔",
            "member": member(ALICE, "阿丽丝", "新头衔", "MEMBER", 1_600_000_000, 1_650_000_000)}),
    );
}

#[test]
fn honors_are_member_honor_changes() {
    for (honor_type, honor) in
        [("talkative", "龙王"), ("performer", "群聊之火"), ("emotion", "快乐源泉")]
    {
        let mut c = world();
        golden(
            notify("honor", json!({"group_id": G, "user_id": ALICE, "honor_type": honor_type})),
            &mut c,
            json!({"type": "MemberHonorChangeEvent", "member": alice(), "action": "achieve", "honor": honor}),
        );
    }
}

// ---------------------------------------------------------------------------------------
// 2.5 Requests

#[test]
fn requests_get_unique_event_ids_across_kinds() {
    let mut c = world();
    let friend = golden(
        json!({"time": T, "self_id": BOT, "post_type": "request", "request_type": "friend",
            "user_id": STRANGER, "comment": "加个好友", "flag": "1700000000123"}),
        &mut c,
        json!({"type": "NewFriendRequestEvent", "eventId": 1, "message": "加个好友", "fromId": STRANGER, "groupId": 0, "nick": ""}),
    );
    // Lagrange / LLOneBot add invitor_id; the nick comes from the member cache.
    let join = golden(
        json!({"time": T, "self_id": BOT, "post_type": "request", "request_type": "group", "sub_type": "add",
            "group_id": G, "user_id": DAVE, "comment": "让我进去", "flag": "7-20002-1", "invitor_id": ALICE}),
        &mut c,
        json!({"type": "MemberJoinRequestEvent", "eventId": 2, "message": "让我进去", "fromId": DAVE,
            "groupId": G, "groupName": "测试群", "nick": "Dave", "invitorId": ALICE}),
    );
    let plain_join = golden(
        json!({"time": T, "self_id": BOT, "post_type": "request", "request_type": "group", "sub_type": "add",
            "group_id": G, "user_id": STRANGER, "comment": "", "flag": 8}),
        &mut c,
        json!({"type": "MemberJoinRequestEvent", "eventId": 3, "message": "", "fromId": STRANGER,
            "groupId": G, "groupName": "测试群", "nick": "", "invitorId": null}),
    );
    let invite = golden(
        json!({"time": T, "self_id": BOT, "post_type": "request", "request_type": "group", "sub_type": "invite",
            "group_id": 20099, "user_id": CAROL, "comment": "来玩", "flag": "9"}),
        &mut c,
        json!({"type": "BotInvitedJoinGroupRequestEvent", "eventId": 4, "message": "", "fromId": CAROL,
            "groupId": 20099, "groupName": "", "nick": "Carol"}),
    );
    let ids: BTreeSet<i64> = [&friend, &join, &plain_join, &invite]
        .iter()
        .filter_map(|e| e["eventId"].as_i64())
        .collect();
    assert_eq!(ids.len(), 4);
    let r = c.take_request(1, RequestKind::Friend).expect("friend request");
    assert_eq!((r.flag.as_str(), r.user_id), ("1700000000123", STRANGER));
    let r = c.take_request(2, RequestKind::MemberJoin).expect("join request");
    assert_eq!((r.flag.as_str(), r.sub_type.as_str(), r.group_id), ("7-20002-1", "add", G));
    assert_eq!(c.take_request(3, RequestKind::MemberJoin).map(|r| r.flag), Ok("8".to_owned()));
    let r = c.take_request(4, RequestKind::BotInvited).expect("invite");
    assert_eq!((r.sub_type.as_str(), r.group_id, r.user_id), ("invite", 20099, CAROL));
}

#[test]
fn a_request_nickname_in_the_event_wins() {
    let mut c = world();
    let got = mirai(
        &json!({"post_type": "request", "request_type": "friend", "user_id": ALICE, "comment": "", "flag": "x", "nickname": "Ally"}),
        &mut c,
    );
    assert_eq!(got["nick"], "Ally");
}

// ---------------------------------------------------------------------------------------
// Meta events, extensions, drops

#[test]
fn meta_events() {
    let mut c = world();
    let hb = json!({"time": T, "self_id": BOT, "post_type": "meta_event", "meta_event_type": "heartbeat",
        "status": {"online": true, "good": true}, "interval": 30000});
    assert_eq!(
        event::translate(&hb, &mut c),
        Translated::Heartbeat { interval_ms: Some(30000), online: true }
    );
    let hb = json!({"post_type": "meta_event", "meta_event_type": "heartbeat", "status": {"online": false}});
    assert_eq!(
        event::translate(&hb, &mut c),
        Translated::Heartbeat { interval_ms: None, online: false }
    );
    let lc = json!({"time": T, "self_id": BOT, "post_type": "meta_event", "meta_event_type": "lifecycle", "sub_type": "connect"});
    assert_eq!(event::translate(&lc, &mut c), Translated::Lifecycle("connect".into()));
}

#[test]
fn events_without_a_counterpart_are_extensions() {
    let cases = [
        (
            notice(
                "group_upload",
                json!({"group_id": G, "user_id": ALICE, "file": {"id": "/f", "name": "a.txt", "size": 3, "busid": 102}}),
            ),
            "OneBot.notice.group_upload",
        ),
        (
            notice(
                "essence",
                json!({"sub_type": "add", "group_id": G, "message_id": 5, "sender_id": ALICE, "operator_id": BOB}),
            ),
            "OneBot.notice.essence",
        ),
        (
            notify("lucky_king", json!({"group_id": G, "user_id": ALICE, "target_id": BOB})),
            "OneBot.notice.notify.lucky_king",
        ),
        (
            notice(
                "group_msg_emoji_like",
                json!({"group_id": G, "user_id": ALICE, "message_id": 5, "likes": [{"emoji_id": "76", "count": 1}]}),
            ),
            "OneBot.notice.group_msg_emoji_like",
        ),
        (
            notice(
                "reaction",
                json!({"group_id": G, "message_id": 5, "operator_id": ALICE, "sub_type": "add", "code": "76", "count": 1}),
            ),
            "OneBot.notice.reaction",
        ),
        (
            notify(
                "profile_like",
                json!({"operator_id": ALICE, "operator_nick": "Alice", "times": 10}),
            ),
            "OneBot.notice.notify.profile_like",
        ),
        (
            notify(
                "gray_tip",
                json!({"group_id": G, "user_id": ALICE, "message_id": 5, "busi_id": "1"}),
            ),
            "OneBot.notice.notify.gray_tip",
        ),
        (
            notice(
                "offline_file",
                json!({"user_id": ALICE, "file": {"name": "x", "size": 1, "url": "u"}}),
            ),
            "OneBot.notice.offline_file",
        ),
        (notice("something_new", json!({})), "OneBot.notice.something_new"),
        (
            json!({"post_type": "message", "message_type": "guild", "sub_type": "channel",
                "guild_id": "1", "channel_id": "2", "message_id": "3", "message": []}),
            "OneBot.message.guild",
        ),
        (
            json!({"post_type": "request", "request_type": "group", "sub_type": "weird"}),
            "OneBot.request.group",
        ),
        (
            json!({"post_type": "meta_event", "meta_event_type": "status"}),
            "OneBot.meta_event.status",
        ),
    ];
    for (ev, name) in cases {
        assert_eq!(event::extension_type(&ev), name);
        let mut expected = ev.clone();
        expected["type"] = json!(name);
        assert_eq!(event::translate(&ev, &mut world()), Translated::Extension(expected));
    }
}

#[test]
fn events_without_post_type_are_dropped() {
    let mut c = world();
    assert!(matches!(
        event::translate(&json!({"time": T, "self_id": BOT}), &mut c),
        Translated::Dropped(_)
    ));
    assert!(matches!(event::translate(&json!("nonsense"), &mut c), Translated::Dropped(_)));
}

#[test]
fn numbers_may_be_strings() {
    let mut c = world();
    let ev = json!({"time": "1700000000", "self_id": "10001", "post_type": "notice", "notice_type": "group_ban",
        "sub_type": "ban", "group_id": "20002", "operator_id": "30002", "user_id": "30004", "duration": "600"});
    let got = mirai(&ev, &mut c);
    assert_eq!(
        got,
        json!({"type": "MemberMuteEvent", "durationSeconds": 600, "member": dave(), "operator": bob()})
    );
}

#[test]
fn the_segments_used_are_the_message_modules() {
    // fetches and translate read both message forms the way `message::segments` does.
    let cq = json!("[CQ:reply,id=42]hi");
    assert_eq!(message::segments(&cq)[0]["type"], "reply");
    let ev = msg("private", "friend", 43, ALICE, cq, json!({}));
    assert_eq!(event::fetches(&ev, &world()), vec![Fetch::Message(42)]);
}
