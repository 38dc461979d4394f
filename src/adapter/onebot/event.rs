//! OneBot events into mirai-api-http events and message packets.
//!
//! Scripts see exactly the shapes mirai-api-http 2.x pushes: every key present, members with
//! `"active": null`, message packets whose chain starts with `Source`. What a OneBot event
//! does not carry (a member's join time, the bot's role, a group's old name) comes from the
//! contact cache, which each event also keeps fresh. Events with no mirai-api-http
//! counterpart are handed on as extensions under a `OneBot.…` type name.

use std::time::Instant;

use serde_json::{json, Value};

use super::cache::{self, as_i64, Contacts, Member, Request, RequestKind, Role};
use super::message::{segments_of, to_chain, Scene};

/// What one OneBot event becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Translated {
    /// A mirai-api-http event or message packet, in the fixtures' shape.
    Mirai(Value),
    /// An event with no mirai-api-http counterpart: its OneBot object as is, plus `type` = `extension_type(ev)`.
    Extension(Value),
    /// A heartbeat meta event, with its interval in milliseconds when given and status.online (true when absent).
    Heartbeat {
        /// The `interval` field, in milliseconds.
        interval_ms: Option<u64>,
        /// `status.online`; true when absent.
        online: bool,
    },
    /// A lifecycle meta event, with its sub_type.
    Lifecycle(String),
    /// Nothing for scripts, with why (for a debug log): e.g. a group system tip message.
    Dropped(String),
}

/// Something that must be fetched from the server before `translate` can fill an event in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    /// `get_msg` of this id, for a quote or a recall's time.
    Message(i64),
    /// `get_forward_msg` of this id.
    Forward(String),
}

/// NapCat's placeholder `group_id` for a temp message whose group it could not find.
const NAPCAT_TEMP_FALLBACK_GROUP: i64 = 284_840_486;

/// A `time` above this is in milliseconds (NapCat's `Date.now()` fallback).
const MILLIS_ABOVE: i64 = 100_000_000_000;

/// What `translate` will need that the cache does not have yet.
#[must_use]
pub fn fetches(ev: &Value, contacts: &Contacts) -> Vec<Fetch> {
    let mut out = Vec::new();
    let mut push = |f: Fetch| {
        if !out.contains(&f) {
            out.push(f);
        }
    };
    match text(ev, "post_type") {
        "message" | "message_sent" => {
            let segs = segments_of(ev.get("message").unwrap_or(&Value::Null));
            for seg in segs.iter() {
                let data = seg.get("data").unwrap_or(&Value::Null);
                match text(seg, "type") {
                    "reply" => {
                        if let Some(id) = data.get("id").and_then(as_i64) {
                            if contacts.message(id).is_none() {
                                push(Fetch::Message(id));
                            }
                        }
                    }
                    "forward" => {
                        let inline = data.get("content").is_some_and(|c| !c.is_null());
                        let id = string_of(data.get("id"));
                        if !inline && !id.is_empty() && contacts.forward(&id).is_none() {
                            push(Fetch::Forward(id));
                        }
                    }
                    _ => {}
                }
            }
        }
        "notice" if matches!(text(ev, "notice_type"), "friend_recall" | "group_recall") => {
            if let Some(id) = int(ev, "message_id") {
                if contacts.message(id).is_none() {
                    push(Fetch::Message(id));
                }
            }
        }
        _ => {}
    }
    out
}

/// Translate one OneBot event (updating the cache from it: members, names, roles, mutes, messages, requests).
pub fn translate(ev: &Value, contacts: &mut Contacts) -> Translated {
    match ev.get("post_type").and_then(Value::as_str) {
        None => Translated::Dropped("an event without post_type".into()),
        Some("message" | "message_sent") => translate_message(ev, contacts),
        Some("notice") => translate_notice(ev, contacts),
        Some("request") => translate_request(ev, contacts),
        Some("meta_event") => translate_meta(ev),
        Some(_) => extension(ev),
    }
}

/// A message as `get_msg` answers it (or a message event) as a cached message with its mirai-api-http packet; None if it makes no sense.
#[must_use]
pub fn message_from(data: &Value, contacts: &Contacts) -> Option<cache::Message> {
    build_message(data, contacts).ok().map(|b| b.to_message())
}

/// The type name an event with no counterpart gets: "OneBot." + post_type + "." + (notice_type|request_type|message_type|meta_event_type|"unknown") and, when a `sub_type` is present for notify notices, "." + sub_type. E.g. "OneBot.notice.group_upload", "OneBot.notice.notify.lucky_king", "OneBot.notice.essence".
#[must_use]
pub fn extension_type(ev: &Value) -> String {
    let post = ev.get("post_type").and_then(Value::as_str).unwrap_or("unknown");
    let kind = ["notice_type", "request_type", "message_type", "meta_event_type"]
        .iter()
        .find_map(|k| ev.get(*k).and_then(Value::as_str))
        .unwrap_or("unknown");
    let mut name = format!("OneBot.{post}.{kind}");
    if kind == "notify" {
        if let Some(sub) = ev.get("sub_type").and_then(Value::as_str) {
            name.push('.');
            name.push_str(sub);
        }
    }
    name
}

// ---------------------------------------------------------------------------------------
// Field readers

fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(as_i64)
}

fn int0(v: &Value, key: &str) -> i64 {
    int(v, key).unwrap_or(0)
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A string field that may also arrive as a number (`flag`, forward ids).
fn string_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// A OneBot boolean: `true`/`false`, `1`/`0`, `"yes"`/`"no"`.
fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The bot's id for this event: its `self_id`, else the cache's.
fn bot_id(ev: &Value, contacts: &Contacts) -> i64 {
    int(ev, "self_id").filter(|id| *id != 0).unwrap_or(contacts.bot)
}

/// The event's `time` in seconds; milliseconds are scaled down, a missing time is now.
fn event_time(ev: &Value) -> i64 {
    match int(ev, "time") {
        Some(t) if t > MILLIS_ABOVE => t / 1000,
        Some(t) if t > 0 => t,
        _ => cache::now(),
    }
}

// ---------------------------------------------------------------------------------------
// Contact shapes

/// A member as mirai-api-http gives it inside events, `active` included, with its `group`.
fn render_member(id: i64, m: MemberView<'_>, group: Value) -> Value {
    object! {
        "id": id,
        "memberName": m.name,
        "specialTitle": m.title,
        "permission": m.role.as_mirai(),
        "joinTimestamp": m.join_time,
        "lastSpeakTimestamp": m.last_sent_time,
        "muteTimeRemaining": (m.mute_until - cache::now()).max(0),
        "group": group,
        "active": Value::Null,
    }
}

/// What a member shows, borrowed from the cache and the event.
#[derive(Clone, Copy)]
struct MemberView<'a> {
    name: &'a str,
    title: &'a str,
    role: Role,
    join_time: i64,
    last_sent_time: i64,
    mute_until: i64,
}

impl<'a> MemberView<'a> {
    fn of(m: &'a Member) -> Self {
        Self {
            name: m.display_name(),
            title: &m.title,
            role: m.role,
            join_time: m.join_time,
            last_sent_time: m.last_sent_time,
            mute_until: m.mute_until,
        }
    }
}

/// An unknown member.
static NO_MEMBER: Member = Member {
    nickname: String::new(),
    card: String::new(),
    title: String::new(),
    role: Role::Member,
    join_time: 0,
    last_sent_time: 0,
    mute_until: 0,
};

/// The cached member `id` of `group`.
fn member(contacts: &Contacts, group: i64, id: i64) -> Value {
    let m = contacts.member(group, id).unwrap_or(&NO_MEMBER);
    render_member(id, MemberView::of(m), contacts.group_json(group))
}

/// The member `id` of `group`, or null when there is none or it is the bot.
fn member_or_null(contacts: &Contacts, group: i64, id: Option<i64>, bot: i64) -> Value {
    match id {
        Some(id) if id != 0 && id != bot => member(contacts, group, id),
        _ => Value::Null,
    }
}

/// The member `id` of `group` with what a OneBot member object (a `sender`) says laid over
/// the cache, without changing the cache; `group` is its `group`.
fn member_with(contacts: &Contacts, group: Value, g: i64, id: i64, v: &Value) -> Value {
    let m = contacts.member(g, id).unwrap_or(&NO_MEMBER);
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    let nickname = s("nickname").unwrap_or(&m.nickname);
    let card = s("card").unwrap_or(&m.card);
    let view = MemberView {
        name: if card.is_empty() { nickname } else { card },
        title: s("title").unwrap_or(&m.title),
        role: s("role").map_or(m.role, Role::from_onebot),
        ..MemberView::of(m)
    };
    render_member(id, view, group)
}

/// The group with the event's `group_name` (NapCat) laid over the cached name.
fn group_with(contacts: &Contacts, group: i64, ev: &Value) -> Value {
    let g = contacts.groups.get(&group);
    let name = match text(ev, "group_name") {
        "" => g.map_or("", |g| g.name.as_str()),
        given => given,
    };
    object! {
        "id": group,
        "name": name,
        "permission": g.and_then(|g| g.bot_role).unwrap_or_default().as_mirai(),
    }
}

/// Whether `id` is known not to be a friend (the friend list is loaded and lacks it).
fn is_stranger(contacts: &Contacts, id: i64) -> bool {
    !contacts.friends.is_empty() && !contacts.friends.contains_key(&id)
}

/// `{id, nickname, remark: ""}` for someone who is not a friend.
fn stranger(id: i64, nickname: &str) -> Value {
    json!({ "id": id, "nickname": nickname, "remark": "" })
}

/// A nickname for `user` from the event, else from the friend or member cache, else `""`.
fn nick(ev: &Value, contacts: &Contacts, user: i64) -> String {
    let given = text(ev, "nickname");
    if !given.is_empty() {
        return given.to_owned();
    }
    if let Some(f) = contacts.friends.get(&user).filter(|f| !f.nickname.is_empty()) {
        return f.nickname.clone();
    }
    let mut groups: Vec<_> = contacts.groups.iter().collect();
    groups.sort_by_key(|(id, _)| **id);
    groups
        .into_iter()
        .filter_map(|(_, g)| g.members.get(&user))
        .map(|m| m.nickname.clone())
        .find(|n| !n.is_empty())
        .unwrap_or_default()
}

fn extension(ev: &Value) -> Translated {
    let mut v = ev.clone();
    match v.as_object_mut() {
        Some(o) => {
            o.insert("type".into(), json!(extension_type(ev)));
            Translated::Extension(v)
        }
        None => Translated::Dropped("an event that is not an object".into()),
    }
}

// ---------------------------------------------------------------------------------------
// Messages

fn translate_message(ev: &Value, contacts: &mut Contacts) -> Translated {
    learn_from_message(ev, contacts);
    match build_message(ev, contacts) {
        Ok(built) => {
            contacts.remember_message(built.to_message());
            Translated::Mirai(built.packet)
        }
        Err(other) => other,
    }
}

/// What a message event tells about its sender and group.
fn learn_from_message(ev: &Value, contacts: &mut Contacts) {
    let sender = ev.get("sender").unwrap_or(&Value::Null);
    let user = int(ev, "user_id").or_else(|| int(sender, "user_id")).unwrap_or(0);
    if user == 0 {
        return;
    }
    let sender = if sender.is_object() { sender } else { &Value::Null };
    let time = event_time(ev);
    match text(ev, "message_type") {
        "group" => {
            let Some(g) = int(ev, "group_id").filter(|g| *g != 0) else { return };
            let name = text(ev, "group_name");
            if !name.is_empty() {
                contacts.group_mut(g).name = name.to_owned();
            }
            if text(ev, "sub_type") == "anonymous" || text(ev, "sub_type") == "notice" {
                return;
            }
            contacts.learn_member_as(g, user, sender);
            contacts.member_mut(g, user).last_sent_time = time;
        }
        "private" if text(ev, "post_type") != "message_sent" && user != bot_id(ev, contacts) => {
            if let Some(g) = temp_group(ev, contacts) {
                contacts.learn_member_as(g, user, sender);
            } else if let Some(f) = contacts.friends.get_mut(&user) {
                let n = text(sender, "nickname");
                if !n.is_empty() {
                    n.clone_into(&mut f.nickname);
                }
            }
        }
        _ => {}
    }
}

/// The group of a temp message, when it names a usable one.
fn temp_group(ev: &Value, contacts: &Contacts) -> Option<i64> {
    if text(ev, "sub_type") != "group" {
        return None;
    }
    let g = int(ev, "group_id").filter(|g| *g > 0)?;
    if g == NAPCAT_TEMP_FALLBACK_GROUP && !contacts.groups.contains_key(&g) {
        return None;
    }
    Some(g)
}

/// A message packet with what the cache keeps beside it.
struct Built {
    id: i64,
    conversation: i64,
    group: Option<i64>,
    author: i64,
    time: i64,
    packet: Value,
}

impl Built {
    fn to_message(&self) -> cache::Message {
        let Self { id, conversation, group, author, time, ref packet } = *self;
        cache::Message::new(id, conversation, group, author, time, packet)
    }
}

/// The message packet for a message event or a `get_msg` answer; `Err` is what the event
/// becomes instead.
fn build_message(ev: &Value, contacts: &Contacts) -> Result<Built, Translated> {
    let kind = text(ev, "message_type");
    if !matches!(kind, "group" | "private") {
        return Err(extension(ev));
    }
    let Some(id) = int(ev, "message_id").or_else(|| int(ev, "real_id")) else {
        return Err(Translated::Dropped("a message without message_id".into()));
    };
    let bot = bot_id(ev, contacts);
    let null = Value::Null;
    let sender = ev.get("sender").unwrap_or(&null);
    let user = int(ev, "user_id").or_else(|| int(sender, "user_id")).unwrap_or(0);
    let sent = text(ev, "post_type") == "message_sent" || (user != 0 && user == bot);
    let time = event_time(ev);
    let segs = segments_of(ev.get("message").unwrap_or(&null));
    let chain = |scene: Scene| {
        let mut chain = vec![object! { "type": "Source", "id": id, "time": time }];
        chain.extend(to_chain(&segs, scene, contacts));
        Value::Array(chain)
    };
    let message = |conversation: i64, group: Option<i64>, packet: Value| Built {
        id,
        conversation,
        group,
        author: if sent { bot } else { user },
        time,
        packet,
    };
    if kind == "group" {
        let Some(g) = int(ev, "group_id").filter(|g| *g != 0) else {
            return Err(Translated::Dropped("a group message without group_id".into()));
        };
        if text(ev, "sub_type") == "notice" {
            return Err(Translated::Dropped("a group system tip message".into()));
        }
        let chain = chain(Scene { group: Some(g), peer: g });
        let packet = if sent {
            object! {
                "type": "GroupSyncMessage",
                "messageChain": chain,
                "subject": group_with(contacts, g, ev),
            }
        } else {
            let group = group_with(contacts, g, ev);
            let who = match ev.get("anonymous").filter(|a| a.is_object()) {
                Some(anon) => anonymous(user, anon, group),
                None => member_with(contacts, group, g, user, sender),
            };
            object! { "type": "GroupMessage", "messageChain": chain, "sender": who }
        };
        return Ok(message(g, Some(g), packet));
    }
    if sent {
        let Some(peer) = int(ev, "target_id").filter(|p| *p != 0 && *p != bot) else {
            return Err(Translated::Dropped(
                "the bot's own private message without target_id".into(),
            ));
        };
        if let Some(g) = temp_group(ev, contacts) {
            let chain = chain(Scene { group: Some(g), peer });
            let packet = object! {
                "type": "TempSyncMessage",
                "messageChain": chain,
                "subject": member(contacts, g, peer),
            };
            return Ok(message(peer, Some(g), packet));
        }
        let chain = chain(Scene { group: None, peer });
        let packet = if is_stranger(contacts, peer) {
            object! {
                "type": "StrangerSyncMessage",
                "messageChain": chain,
                "subject": stranger(peer, ""),
            }
        } else {
            object! {
                "type": "FriendSyncMessage",
                "messageChain": chain,
                "subject": contacts.friend_json(peer, ""),
            }
        };
        return Ok(message(peer, None, packet));
    }
    let nickname = text(sender, "nickname");
    if let Some(g) = temp_group(ev, contacts) {
        let chain = chain(Scene { group: Some(g), peer: user });
        let packet = object! {
            "type": "TempMessage",
            "messageChain": chain,
            "sender": member_with(contacts, contacts.group_json(g), g, user, sender),
        };
        return Ok(message(user, Some(g), packet));
    }
    let chain = chain(Scene { group: None, peer: user });
    let as_stranger = match text(ev, "sub_type") {
        "other" | "group" => true,
        _ => is_stranger(contacts, user),
    };
    let packet = if as_stranger {
        object! {
            "type": "StrangerMessage",
            "messageChain": chain,
            "sender": stranger(user, nickname),
        }
    } else {
        object! {
            "type": "FriendMessage",
            "messageChain": chain,
            "sender": contacts.friend_json(user, nickname),
        }
    };
    Ok(message(user, None, packet))
}

/// An anonymous group member, as mirai-api-http shows one: its name, no role, no history.
fn anonymous(id: i64, anon: &Value, group: Value) -> Value {
    let view = MemberView { name: text(anon, "name"), ..MemberView::of(&NO_MEMBER) };
    render_member(id, view, group)
}

// ---------------------------------------------------------------------------------------
// Notices

fn translate_notice(ev: &Value, contacts: &mut Contacts) -> Translated {
    let bot = bot_id(ev, contacts);
    let g = int0(ev, "group_id");
    let user = int0(ev, "user_id");
    let operator = int(ev, "operator_id");
    let time = event_time(ev);
    let mirai = Translated::Mirai;
    match text(ev, "notice_type") {
        "friend_recall" => {
            let id = int0(ev, "message_id");
            let time = contacts.message(id).map_or(time, |m| m.time);
            mirai(json!({
                "type": "FriendRecallEvent",
                "authorId": user,
                "messageId": id,
                "time": time,
                "operator": operator.filter(|o| *o != 0).unwrap_or(user),
            }))
        }
        "group_recall" => {
            let id = int0(ev, "message_id");
            let time = contacts.message(id).map_or(time, |m| m.time);
            let by = operator.filter(|o| *o != 0).unwrap_or(user);
            mirai(json!({
                "type": "GroupRecallEvent",
                "authorId": user,
                "messageId": id,
                "time": time,
                "group": contacts.group_json(g),
                "operator": member_or_null(contacts, g, Some(by), bot),
            }))
        }
        "group_increase" => {
            let invitor = if text(ev, "sub_type") == "invite" { operator } else { None };
            if user == bot {
                let group = contacts.group_mut(g);
                group.bot_role.get_or_insert(Role::Member);
                mirai(json!({
                    "type": "BotJoinGroupEvent",
                    "group": contacts.group_json(g),
                    "invitor": member_or_null(contacts, g, invitor, bot),
                }))
            } else {
                let m = contacts.member_mut(g, user);
                if m.join_time == 0 {
                    m.join_time = time;
                }
                mirai(json!({
                    "type": "MemberJoinEvent",
                    "member": member(contacts, g, user),
                    "invitor": member_or_null(contacts, g, invitor.filter(|i| *i != user), bot),
                }))
            }
        }
        "group_decrease" => group_decrease(ev, contacts, bot),
        "group_admin" => {
            let set = text(ev, "sub_type") == "set";
            let (origin, current) =
                if set { (Role::Member, Role::Admin) } else { (Role::Admin, Role::Member) };
            if user == bot {
                contacts.group_mut(g).bot_role = Some(current);
                contacts.member_mut(g, bot).role = current;
                mirai(json!({
                    "type": "BotGroupPermissionChangeEvent",
                    "origin": origin.as_mirai(),
                    "current": current.as_mirai(),
                    "group": contacts.group_json(g),
                }))
            } else {
                contacts.member_mut(g, user).role = current;
                mirai(json!({
                    "type": "MemberPermissionChangeEvent",
                    "origin": origin.as_mirai(),
                    "current": current.as_mirai(),
                    "member": member(contacts, g, user),
                }))
            }
        }
        "group_ban" => group_ban(ev, contacts, bot, time),
        "friend_add" => {
            let nickname = nick(ev, contacts, user);
            let friend = contacts.friends.entry(user).or_default();
            if friend.nickname.is_empty() {
                friend.nickname = nickname;
            }
            mirai(json!({
                "type": "FriendAddEvent",
                "friend": contacts.friend_json(user, ""),
                "stranger": false,
            }))
        }
        "group_card" => {
            let old = text(ev, "card_old").to_owned();
            let new = text(ev, "card_new").to_owned();
            contacts.member_mut(g, user).card.clone_from(&new);
            mirai(json!({
                "type": "MemberCardChangeEvent",
                "origin": old,
                "current": new,
                "member": member(contacts, g, user),
            }))
        }
        "group_name_change" => {
            let name = text(ev, "name");
            let by = operator.or_else(|| int(ev, "user_id"));
            group_name(contacts, g, name, by, bot)
        }
        "notify" => notify(ev, contacts, bot),
        "bot_offline" => mirai(json!({
            "type": "BotOfflineEventForce",
            "qq": if user != 0 { user } else { bot },
            "title": text(ev, "tag"),
            "message": text(ev, "message"),
        })),
        _ => extension(ev),
    }
}

fn group_decrease(ev: &Value, contacts: &mut Contacts, bot: i64) -> Translated {
    let g = int0(ev, "group_id");
    let user = int0(ev, "user_id");
    let operator = int(ev, "operator_id");
    let sub = text(ev, "sub_type");
    let group = contacts.group_json(g);
    let event = match sub {
        "disband" => json!({
            "type": "BotLeaveEventDisband",
            "group": group,
            "operator": member_or_null(contacts, g, operator, bot),
        }),
        "kick_me" => json!({
            "type": "BotLeaveEventKick",
            "group": group,
            "operator": member_or_null(contacts, g, operator, bot),
        }),
        "kick" if user == bot => json!({
            "type": "BotLeaveEventKick",
            "group": group,
            "operator": member_or_null(contacts, g, operator, bot),
        }),
        _ if user == bot => json!({ "type": "BotLeaveEventActive", "group": group }),
        "kick" => json!({
            "type": "MemberLeaveEventKick",
            "member": member(contacts, g, user),
            "operator": member_or_null(contacts, g, operator, bot),
        }),
        _ => json!({ "type": "MemberLeaveEventQuit", "member": member(contacts, g, user) }),
    };
    if user == bot || matches!(sub, "disband" | "kick_me") {
        contacts.groups.remove(&g);
    } else if let Some(group) = contacts.groups.get_mut(&g) {
        group.members.remove(&user);
    }
    Translated::Mirai(event)
}

fn group_ban(ev: &Value, contacts: &mut Contacts, bot: i64, time: i64) -> Translated {
    let g = int0(ev, "group_id");
    let user = int0(ev, "user_id");
    let operator = int(ev, "operator_id");
    let duration = int0(ev, "duration");
    let on = text(ev, "sub_type") == "ban" && duration != 0;
    if user == 0 {
        // Such events come only on a change, so the old state is the opposite one.
        contacts.group_mut(g).mute_all = on;
        return Translated::Mirai(json!({
            "type": "GroupMuteAllEvent",
            "origin": !on,
            "current": on,
            "group": contacts.group_json(g),
            "operator": member_or_null(contacts, g, operator, bot),
        }));
    }
    let until = if on { time.saturating_add(duration.max(0)) } else { 0 };
    contacts.member_mut(g, user).mute_until = until;
    let by = member_or_null(contacts, g, operator, bot);
    if user == bot {
        contacts.group_mut(g).bot_mute_until = until;
        let event = if on {
            json!({ "type": "BotMuteEvent", "durationSeconds": duration, "operator": by })
        } else {
            json!({ "type": "BotUnmuteEvent", "operator": by })
        };
        return Translated::Mirai(event);
    }
    let who = member(contacts, g, user);
    Translated::Mirai(if on {
        json!({
            "type": "MemberMuteEvent",
            "durationSeconds": duration,
            "member": who,
            "operator": by,
        })
    } else {
        json!({ "type": "MemberUnmuteEvent", "member": who, "operator": by })
    })
}

fn group_name(
    contacts: &mut Contacts,
    g: i64,
    name: &str,
    by: Option<i64>,
    bot: i64,
) -> Translated {
    let origin = contacts.groups.get(&g).map(|x| x.name.clone()).unwrap_or_default();
    let operator = member_or_null(contacts, g, by, bot);
    name.clone_into(&mut contacts.group_mut(g).name);
    Translated::Mirai(json!({
        "type": "GroupNameChangeEvent",
        "origin": origin,
        "current": name,
        "group": contacts.group_json(g),
        "operator": operator,
    }))
}

fn notify(ev: &Value, contacts: &mut Contacts, bot: i64) -> Translated {
    let g = int0(ev, "group_id");
    let user = int0(ev, "user_id");
    match text(ev, "sub_type") {
        "poke" => Translated::Mirai(nudge(ev, contacts, bot)),
        "title" => {
            let title = text(ev, "title");
            let m = contacts.member_mut(g, user);
            let origin = std::mem::replace(&mut m.title, title.to_owned());
            Translated::Mirai(json!({
                "type": "MemberSpecialTitleChangeEvent",
                "origin": origin,
                "current": title,
                "member": member(contacts, g, user),
            }))
        }
        "group_name" => {
            let name = ev.get("name_new").or_else(|| ev.get("name")).and_then(Value::as_str);
            let by = int(ev, "operator_id").or(Some(user));
            group_name(contacts, g, name.unwrap_or(""), by, bot)
        }
        "honor" => {
            let honor = match text(ev, "honor_type") {
                "talkative" => "龙王",
                "performer" => "群聊之火",
                "legend" => "群聊炽焰",
                "strong_newbie" => "冒尖小春笋",
                "emotion" => "快乐源泉",
                _ => "未知群荣誉",
            };
            contacts.member_mut(g, user);
            Translated::Mirai(json!({
                "type": "MemberHonorChangeEvent",
                "member": member(contacts, g, user),
                "action": "achieve",
                "honor": honor,
            }))
        }
        "input_status" => {
            // NapCat's event_type 1 is "typing"; the other values are not documented.
            let inputting = match int(ev, "event_type") {
                Some(t) => t == 1,
                None => !text(ev, "status_text").is_empty(),
            };
            Translated::Mirai(json!({
                "type": "FriendInputStatusChangedEvent",
                "friend": contacts.friend_json(user, ""),
                "inputting": inputting,
            }))
        }
        _ => extension(ev),
    }
}

/// A poke: group (spec), friend (NapCat: `user_id` = peer, `sender_id` = poker) or friend
/// (Lagrange: `user_id` = poker, with `action` / `suffix`).
fn nudge(ev: &Value, contacts: &Contacts, bot: i64) -> Value {
    let user = int0(ev, "user_id");
    let target = int0(ev, "target_id");
    let from = int(ev, "sender_id").filter(|s| *s != 0).unwrap_or(user);
    let subject = match int(ev, "group_id").filter(|g| *g != 0) {
        Some(g) => with_kind("Group", contacts.group_json(g)),
        None => {
            let peer = if user == bot || user == 0 { target } else { user };
            if is_stranger(contacts, peer) {
                with_kind("Stranger", stranger(peer, ""))
            } else {
                with_kind("Friend", contacts.friend_json(peer, ""))
            }
        }
    };
    let (mut action, mut suffix) = (String::new(), String::new());
    if let Some(a) = ev.get("action").and_then(Value::as_str) {
        action = a.to_owned();
        suffix = text(ev, "suffix").to_owned();
    } else if let Some(items) = ev.get("raw_info").and_then(Value::as_array) {
        let mut texts = items
            .iter()
            .filter(|i| matches!(i.get("type").and_then(Value::as_str), None | Some("nor")))
            .filter_map(|i| i.get("txt").and_then(Value::as_str));
        action = texts.next().unwrap_or_default().to_owned();
        suffix = texts.next().unwrap_or_default().to_owned();
    }
    if action.is_empty() {
        "戳了戳".clone_into(&mut action);
    }
    json!({
        "type": "NudgeEvent",
        "fromId": from,
        "target": target,
        "subject": subject,
        "action": action,
        "suffix": suffix,
    })
}

fn with_kind(kind: &str, mut contact: Value) -> Value {
    if let Some(o) = contact.as_object_mut() {
        o.insert("kind".into(), json!(kind));
    }
    contact
}

// ---------------------------------------------------------------------------------------
// Requests and meta events

fn translate_request(ev: &Value, contacts: &mut Contacts) -> Translated {
    let g = int0(ev, "group_id");
    let user = int0(ev, "user_id");
    let sub = text(ev, "sub_type");
    let kind = match (text(ev, "request_type"), sub) {
        ("friend", _) => RequestKind::Friend,
        ("group", "add") => RequestKind::MemberJoin,
        ("group", "invite") => RequestKind::BotInvited,
        _ => return extension(ev),
    };
    let nick = nick(ev, contacts, user);
    let group_name = match contacts.groups.get(&g).map(|x| x.name.as_str()) {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => text(ev, "group_name").to_owned(),
    };
    let comment = text(ev, "comment");
    let event_id = contacts.add_request(Request {
        kind,
        flag: string_of(ev.get("flag")),
        sub_type: sub.to_owned(),
        group_id: g,
        user_id: user,
        created: Instant::now(),
    });
    Translated::Mirai(match kind {
        RequestKind::Friend => json!({
            "type": "NewFriendRequestEvent",
            "eventId": event_id,
            "message": comment,
            "fromId": user,
            "groupId": 0,
            "nick": nick,
        }),
        RequestKind::MemberJoin => json!({
            "type": "MemberJoinRequestEvent",
            "eventId": event_id,
            "message": comment,
            "fromId": user,
            "groupId": g,
            "groupName": group_name,
            "nick": nick,
            "invitorId": int(ev, "invitor_id").filter(|i| *i != 0),
        }),
        RequestKind::BotInvited => json!({
            "type": "BotInvitedJoinGroupRequestEvent",
            "eventId": event_id,
            "message": "",
            "fromId": user,
            "groupId": g,
            "groupName": group_name,
            "nick": nick,
        }),
    })
}

fn translate_meta(ev: &Value) -> Translated {
    match text(ev, "meta_event_type") {
        "heartbeat" => Translated::Heartbeat {
            interval_ms: int(ev, "interval").and_then(|i| u64::try_from(i).ok()),
            online: ev
                .get("status")
                .and_then(|s| s.get("online"))
                .and_then(boolean)
                .unwrap_or(true),
        },
        "lifecycle" => Translated::Lifecycle(text(ev, "sub_type").to_owned()),
        _ => extension(ev),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_names() {
        let ev = json!({"post_type": "notice", "notice_type": "notify", "sub_type": "lucky_king"});
        assert_eq!(extension_type(&ev), "OneBot.notice.notify.lucky_king");
        let ev = json!({"post_type": "notice", "notice_type": "essence", "sub_type": "add"});
        assert_eq!(extension_type(&ev), "OneBot.notice.essence");
        let ev = json!({"post_type": "message", "message_type": "guild"});
        assert_eq!(extension_type(&ev), "OneBot.message.guild");
        assert_eq!(extension_type(&json!({})), "OneBot.unknown.unknown");
    }

    #[test]
    fn times_in_milliseconds_are_scaled() {
        assert_eq!(event_time(&json!({"time": 1_700_000_000_123_i64})), 1_700_000_000);
        assert_eq!(event_time(&json!({"time": "1700000000"})), 1_700_000_000);
        assert!(event_time(&json!({})) > 1_600_000_000);
    }

    #[test]
    fn odd_events_never_panic() {
        let mut c = Contacts::new(1);
        for ev in [
            json!(null),
            json!([]),
            json!({"post_type": 3}),
            json!({"post_type": "message"}),
            json!({"post_type": "message", "message_type": "group", "message_id": "x"}),
            json!({"post_type": "notice", "notice_type": "group_ban"}),
            json!({"post_type": "notice", "notice_type": "notify"}),
            json!({"post_type": "request"}),
            json!({"post_type": "meta_event", "meta_event_type": "heartbeat", "interval": -1}),
        ] {
            let _ = fetches(&ev, &c);
            let _ = translate(&ev, &mut c);
        }
    }

    #[test]
    fn heartbeat_and_lifecycle() {
        let mut c = Contacts::new(1);
        let hb = json!({"post_type": "meta_event", "meta_event_type": "heartbeat", "interval": 30000,
            "status": {"online": false, "good": true}});
        assert_eq!(
            translate(&hb, &mut c),
            Translated::Heartbeat { interval_ms: Some(30000), online: false }
        );
        let hb = json!({"post_type": "meta_event", "meta_event_type": "heartbeat"});
        assert_eq!(
            translate(&hb, &mut c),
            Translated::Heartbeat { interval_ms: None, online: true }
        );
        let lc = json!({"post_type": "meta_event", "meta_event_type": "lifecycle", "sub_type": "connect"});
        assert_eq!(translate(&lc, &mut c), Translated::Lifecycle("connect".into()));
    }
}
