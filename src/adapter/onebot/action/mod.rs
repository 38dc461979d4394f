//! mirai-api-http calls into OneBot actions, and their answers back.
//!
//! Every call a script makes (a mirai-api-http command with its content) becomes the OneBot
//! action(s) that do the same, and the OneBot answer becomes the body the real
//! mirai-api-http server would give. What OneBot cannot do answers code 6 and says so; a
//! failure the server reports becomes a code ≠ 0 body; only a call that got no answer at all
//! is an `Err`. Checks that need no server (an unknown request handle, the bot muted or the
//! owner leaving its own group) answer from the contact cache without any action.

use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{json, Value};

use super::cache::{self, as_i64, Contacts, Request, RequestKind, Role};
use super::message as msg;
use super::{event, ActionError, Actions, UNKNOWN_ACTION};
use crate::adapter::{Call, CallError, Upload};
use crate::protocol::StatusCode;

/// What a call needs besides its content.
pub struct Ctx<'a> {
    /// Carries out OneBot actions.
    pub api: &'a dyn Actions,
    /// The contact cache.
    pub contacts: &'a Mutex<Contacts>,
    /// Hands a synthesized mirai-api-http event to the scripts (BotLeaveEventActive after quit).
    pub emit: &'a (dyn Fn(Value) + Send + Sync),
}

/// Whether a command works over OneBot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// It works as on mirai-api-http.
    Yes,
    /// It works, but this is missing.
    Partly(&'static str),
    /// It answers code 6, for this reason.
    No(&'static str),
}

/// Whether a command (name, subCommand) works over OneBot: one source of truth for `run` and the docs.
#[must_use]
pub fn availability(command: &str, sub_command: Option<&str>) -> Availability {
    use Availability::{No, Partly, Yes};
    match (command, sub_command) {
        ("about" | "botList" | "sessionInfo" | "friendList" | "groupList" | "memberList", None)
        | ("latestMemberList" | "sendImageMessage" | "recall" | "uploadImage", None)
        | ("uploadVoice" | "deleteFriend" | "unmute" | "quit", None)
        | ("mute" | "muteAll" | "unmuteAll" | "memberAdmin" | "anno_delete", None)
        | ("resp_botInvitedJoinGroupRequestEvent", None)
        | ("memberInfo", Some("update")) => Yes,
        ("sendFriendMessage" | "sendGroupMessage" | "sendTempMessage", None) => Partly(
            "MiraiCode, MarketFace and File elements cannot be sent, and NapCat drops Xml and \
             Poke elements",
        ),
        ("uploadShortVideo", None) => Partly("the thumbnail is not used; the server makes one"),
        ("botProfile" | "friendProfile" | "memberProfile" | "userProfile", None) => {
            Partly("email, level and sign only where the server reports them (NapCat)")
        }
        ("messageFromId", None) => Partly(
            "only messages still in mahua's cache or in the server's memory (NapCat keeps ~5000)",
        ),
        ("setEssence", None) => Partly("needs set_essence_msg (NapCat, Lagrange, go-cqhttp)"),
        ("sendNudge", None) => Partly(
            "needs group_poke/friend_poke or NapCat's send_poke; kinds other than Friend, Group \
             and Stranger answer code 400",
        ),
        ("roamingMessages", None) => {
            Partly("needs get_group_msg_history/get_friend_msg_history (NapCat, Lagrange)")
        }
        ("kick", None) => Partly("the message to the kicked member is not sent"),
        ("groupConfig", Some("get")) => {
            Partly("only name and muteAll are reported; the other settings read false")
        }
        ("groupConfig", Some("update")) => Partly(
            "only name, and allowMemberInvite through NapCat's set_group_member_invite_policy",
        ),
        ("memberInfo", Some("get")) => Partly("active.rank and active.point are unknown (0)"),
        ("file_list" | "file_info" | "file_delete" | "file_move" | "file_rename", None) => {
            Partly("group files of the root and one folder level; sha1 and md5 are unknown (null)")
        }
        ("file_mkdir", None) => Partly("folders can be made in the root only"),
        ("file_upload", None) => Partly("the file travels as base64 (NapCat)"),
        ("anno_list", None) => {
            Partly("allConfirmed and confirmedMembersCount are unknown (false, 0)")
        }
        ("anno_publish", None) => Partly("NapCat only; sendToNewMember is not available"),
        ("resp_newFriendRequestEvent", None) => {
            Partly("operate 2 rejects without blacklisting: OneBot has no blacklist")
        }
        ("resp_memberJoinRequestEvent", None) => {
            Partly("operate 3 rejects and 4 ignores without blacklisting: OneBot has no blacklist")
        }
        ("sendOtherClientMessage", None) => No("OneBot cannot reach the account's other clients"),
        ("cmd_execute" | "cmd_register", None) => {
            No("console commands belong to mirai-console, which a OneBot server does not have")
        }
        (
            "verify" | "bind" | "release" | "countMessage" | "fetchMessage" | "fetchLatestMessage"
            | "peekMessage" | "peakMessage" | "peekLatestMessage",
            None,
        ) => No("a session command of the http adapter; a OneBot link has no session"),
        _ => No("no such mirai-api-http command"),
    }
}

/// Why a call stopped before its success body.
#[derive(Debug)]
enum Stop {
    /// A mirai-api-http failure decided here, before or instead of an action.
    Refuse(StatusCode, String),
    /// An action failed.
    Action(ActionError),
}

impl From<ActionError> for Stop {
    fn from(e: ActionError) -> Self {
        Self::Action(e)
    }
}

impl Stop {
    /// A failure with the server's usual text for the code.
    fn code(code: StatusCode) -> Self {
        Self::Refuse(code, code.server_msg().to_owned())
    }

    /// Code 5: the target does not exist.
    fn not_found() -> Self {
        Self::code(StatusCode::TargetNotFound)
    }

    /// Code 400 for a key that must be sent.
    fn missing(key: &str) -> Self {
        Self::Refuse(StatusCode::InvalidArgument, format!("参数错误，缺少字段: {key}"))
    }

    /// Code 6 with a reason.
    fn unsupported(reason: impl Into<String>) -> Self {
        Self::Refuse(StatusCode::Unsupported, reason.into())
    }
}

type Outcome = Result<Value, Stop>;

/// The body for a command OneBot cannot carry.
fn unavailable(label: &str) -> Value {
    StatusCode::Unsupported.state_with(&format!("{label} is not available over OneBot"))
}

/// Carry out one mirai-api-http call over OneBot; Ok is the mirai-api-http response body (also for failures the server reports, which become code ≠ 0 bodies); Err only when the call got no answer.
pub async fn run(call: &Call, ctx: &Ctx<'_>) -> Result<Value, CallError> {
    let command = call.command.as_str();
    let sub = call.sub_command.as_deref();
    let label = match sub {
        Some(s) => format!("{command}.{s}"),
        None => command.to_owned(),
    };
    if let Availability::No(_) = availability(command, sub) {
        return Ok(unavailable(&label));
    }
    let c = Content(&call.content);
    match dispatch(command, sub, c, ctx).await {
        Ok(v) => Ok(v),
        Err(Stop::Refuse(code, text)) => Ok(code.state_with(&text)),
        Err(Stop::Action(e)) => failure(&label, e),
    }
}

async fn dispatch(command: &str, sub: Option<&str>, c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    match (command, sub) {
        ("about", _) => Ok(about(ctx)),
        ("botList", _) => {
            let me = login(ctx).await?;
            Ok(data(json!([me.0])))
        }
        ("sessionInfo", _) => {
            let (id, nickname) = login(ctx).await?;
            let qq = json!({ "id": id, "nickname": nickname, "remark": "" });
            Ok(data(json!({ "sessionKey": SESSION_KEY, "qq": qq })))
        }
        ("messageFromId", _) => message_from_id(c, ctx).await,
        ("friendList", _) => friend_list(ctx).await,
        ("groupList", _) => group_list(ctx).await,
        ("memberList", _) => member_list(c, ctx, false).await,
        ("latestMemberList", _) => member_list(c, ctx, true).await,
        ("botProfile", _) => {
            let id = bot_id(ctx).await?;
            profile(ctx, id).await
        }
        ("friendProfile" | "userProfile", _) => profile(ctx, c.need("target")?).await,
        ("memberProfile", _) => {
            c.need("target")?;
            profile(ctx, c.need("memberId")?).await
        }
        ("sendFriendMessage", _) => {
            let user = c.long("target").or_else(|| c.long("qq")).ok_or(Stop::missing("target"))?;
            send_chain(c, ctx, To::Friend(user)).await
        }
        ("sendGroupMessage", _) => {
            let group =
                c.long("target").or_else(|| c.long("group")).ok_or(Stop::missing("target"))?;
            send_chain(c, ctx, To::Group(group)).await
        }
        ("sendTempMessage", _) => {
            let (Some(qq), Some(group)) = (c.long("qq"), c.long("group")) else {
                return Err(Stop::not_found());
            };
            send_chain(c, ctx, To::Temp { group, qq }).await
        }
        ("sendImageMessage", _) => send_images(c, ctx).await,
        ("sendNudge", _) => nudge(c, ctx).await,
        ("recall", _) => {
            let id = checked_message(c, ctx, false)?;
            act(ctx, "delete_msg", json!({ "message_id": id })).await?;
            Ok(ok())
        }
        ("setEssence", _) => {
            let id = checked_message(c, ctx, true)?;
            act(ctx, "set_essence_msg", json!({ "message_id": id })).await?;
            Ok(ok())
        }
        ("roamingMessages", _) => roaming(c, ctx).await,
        ("file_list", _) => files::list(c, ctx).await,
        ("file_info", _) => files::info(c, ctx).await,
        ("file_mkdir", _) => files::mkdir(c, ctx).await,
        ("file_delete", _) => files::delete(c, ctx).await,
        ("file_move", _) => files::move_to(c, ctx).await,
        ("file_rename", _) => files::rename(c, ctx).await,
        ("deleteFriend", _) => delete_friend(c, ctx).await,
        ("mute", _) => {
            let (group, user) = (c.need("target")?, c.long("memberId").unwrap_or(0));
            let time = c.long("time").unwrap_or(0);
            if !(1..=MAX_MUTE).contains(&time) {
                return Err(Stop::Refuse(
                    StatusCode::InvalidArgument,
                    format!("time must be 1 to {MAX_MUTE} seconds, not {time}"),
                ));
            }
            ban(ctx, group, user, time).await
        }
        ("unmute", _) => ban(ctx, c.need("target")?, c.need("memberId")?, 0).await,
        ("kick", _) => {
            let (group, user) = (c.need("target")?, c.need("memberId")?);
            require_role(ctx, group, Needs::Operator, Some(user)).await?;
            let params = json!({
                "group_id": group,
                "user_id": user,
                "reject_add_request": c.flag("block").unwrap_or(false),
            });
            act(ctx, "set_group_kick", params).await?;
            Ok(ok())
        }
        ("quit", _) => quit(c, ctx).await,
        ("muteAll" | "unmuteAll", _) => {
            let group = c.need("target")?;
            require_role(ctx, group, Needs::Operator, None).await?;
            let params = json!({ "group_id": group, "enable": command == "muteAll" });
            act(ctx, "set_group_whole_ban", params).await?;
            Ok(ok())
        }
        ("groupConfig", Some("get")) => group_config(c, ctx).await,
        ("groupConfig", Some("update")) => group_config_update(c, ctx).await,
        ("memberInfo", Some("get")) => member_info(c, ctx).await,
        ("memberInfo", Some("update")) => member_info_update(c, ctx).await,
        ("memberAdmin", _) => {
            let group = c.need("target")?;
            require_role(ctx, group, Needs::Owner, None).await?;
            let params = json!({
                "group_id": group,
                "user_id": c.need("memberId")?,
                "enable": c.flag("assign").ok_or(Stop::missing("assign"))?,
            });
            act(ctx, "set_group_admin", params).await?;
            Ok(ok())
        }
        ("anno_list", _) => anno_list(c, ctx).await,
        ("anno_publish", _) => anno_publish(c, ctx).await,
        ("anno_delete", _) => {
            let params = json!({ "group_id": c.need("id")?, "notice_id": c.need_text("fid")? });
            act(ctx, "_del_group_notice", params).await?;
            Ok(ok())
        }
        ("resp_newFriendRequestEvent", _) => respond(c, ctx, RequestKind::Friend).await,
        ("resp_memberJoinRequestEvent", _) => respond(c, ctx, RequestKind::MemberJoin).await,
        ("resp_botInvitedJoinGroupRequestEvent", _) => {
            respond(c, ctx, RequestKind::BotInvited).await
        }
        // The uploads travel through `upload`, as on mirai-api-http's ws adapter.
        _ => Err(Stop::unsupported(format!(
            "{command} is not available over OneBot as a command; it is a multipart upload"
        ))),
    }
}

/// The session key a OneBot link reports: it has one implicit session, like single mode.
const SESSION_KEY: &str = "SINGLE_SESSION";

/// The most seconds a member can be muted (30 days).
const MAX_MUTE: i64 = 30 * 24 * 3600;

/// The body for a failed action: 1404 → code 6 "<command> is not available over OneBot (the server has no action <action>)", 1400 → 400, anything else → 500 with the server's message; Err for a call that got no answer.
pub fn failure(command: &str, err: ActionError) -> Result<Value, CallError> {
    match err {
        ActionError::Failed { action, retcode, msg } => Ok(match retcode {
            UNKNOWN_ACTION => StatusCode::Unsupported.state_with(&format!(
                "{command} is not available over OneBot (the server has no action {action})"
            )),
            1400 => {
                let text =
                    if msg.is_empty() { StatusCode::InvalidArgument.server_msg() } else { &msg };
                StatusCode::InvalidArgument.state_with(text)
            }
            _ if msg.is_empty() => StatusCode::ServerError
                .state_with(&format!("{action}: the server answered retcode {retcode}")),
            _ => StatusCode::ServerError.state_with(&msg),
        }),
        ActionError::Call(e) => Err(renamed(e, command)),
    }
}

/// The same error, told under the mirai-api-http command's name.
fn renamed(e: CallError, command: &str) -> CallError {
    let command = command.to_owned();
    match e {
        CallError::Timeout { after, .. } => CallError::Timeout { command, after },
        CallError::Disconnected { .. } => CallError::Disconnected { command },
        CallError::Offline { after, .. } => CallError::Offline { command, after },
        CallError::NotConnected { .. } => CallError::NotConnected { command },
        CallError::QueueFull { waiting, .. } => CallError::QueueFull { command, waiting },
        CallError::QueueTimeout { after, .. } => CallError::QueueTimeout { command, after },
        CallError::Transport { reason, .. } => CallError::Transport { command, reason },
        CallError::Unsupported { reason, .. } => CallError::Unsupported { command, reason },
    }
}

// ---------------------------------------------------------------------------------------------
// Plumbing.

/// The cache, also after a panic elsewhere poisoned its lock (its data stays usable).
fn lock(contacts: &Mutex<Contacts>) -> MutexGuard<'_, Contacts> {
    contacts.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Call one action, answering "unknown action" at once for one the server already said it
/// lacks on this connection, and remembering such an answer.
async fn call_action(
    api: &dyn Actions,
    contacts: &Mutex<Contacts>,
    action: &str,
    params: Value,
) -> Result<Value, ActionError> {
    let missing = lock(contacts).action_missing(action);
    if missing {
        return Err(ActionError::Failed {
            action: action.to_owned(),
            retcode: UNKNOWN_ACTION,
            msg: format!("the server has no action {action}"),
        });
    }
    let answer = api.action(action, params).await;
    if answer.as_ref().is_err_and(ActionError::is_unknown_action) {
        lock(contacts).note_missing_action(action);
    }
    answer
}

async fn act(ctx: &Ctx<'_>, action: &str, params: Value) -> Result<Value, ActionError> {
    call_action(ctx.api, ctx.contacts, action, params).await
}

/// Call `action`, and `fallback` instead when the server does not know `action`.
async fn act_or(
    ctx: &Ctx<'_>,
    (action, params): (&str, Value),
    (fallback, fallback_params): (&str, Value),
) -> Result<Value, ActionError> {
    match act(ctx, action, params).await {
        Err(e) if e.is_unknown_action() => act(ctx, fallback, fallback_params).await,
        other => other,
    }
}

/// A call's content.
#[derive(Clone, Copy)]
struct Content<'a>(&'a Value);

impl<'a> Content<'a> {
    fn get(self, k: &str) -> Option<&'a Value> {
        self.0.get(k).filter(|v| !v.is_null())
    }

    fn long(self, k: &str) -> Option<i64> {
        self.get(k).and_then(as_i64)
    }

    fn need(self, k: &str) -> Result<i64, Stop> {
        self.long(k).ok_or_else(|| Stop::missing(k))
    }

    fn text(self, k: &str) -> Option<&'a str> {
        self.get(k).and_then(Value::as_str)
    }

    fn need_text(self, k: &str) -> Result<&'a str, Stop> {
        self.text(k).ok_or_else(|| Stop::missing(k))
    }

    fn flag(self, k: &str) -> Option<bool> {
        self.get(k).and_then(Value::as_bool)
    }
}

/// An integer field of a OneBot object, 0 when absent.
fn int(v: &Value, k: &str) -> i64 {
    v.get(k).and_then(as_i64).unwrap_or(0)
}

/// A text field of a OneBot object, `""` when absent.
fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

/// The items of a list answer: the array itself, or the array under `key`.
fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.as_array().or_else(|| v.get(key).and_then(Value::as_array)).map_or(&[], Vec::as_slice)
}

/// `{"code":0,"msg":"success"}`.
fn ok() -> Value {
    StatusCode::Success.state()
}

/// `{"code":0,"msg":"","data":v}`.
fn data(v: Value) -> Value {
    json!({ "code": 0, "msg": "", "data": v })
}

/// A Member object with `active` as mirai-api-http gives it outside `memberInfo`.
fn member(contacts: &Contacts, group: i64, id: i64) -> Value {
    let mut v = contacts.member_json(group, id);
    if let Some(o) = v.as_object_mut() {
        o.insert("active".to_owned(), Value::Null);
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Information.

fn about(ctx: &Ctx<'_>) -> Value {
    let app = lock(ctx.contacts).app.clone();
    let version = if app.is_empty() {
        format!("{} (OneBot)", env!("CARGO_PKG_VERSION"))
    } else {
        format!("{} (OneBot {app})", env!("CARGO_PKG_VERSION"))
    };
    data(json!({ "version": version }))
}

/// The bot's id and nickname, from `get_login_info`.
async fn login(ctx: &Ctx<'_>) -> Result<(i64, String), Stop> {
    let d = act(ctx, "get_login_info", json!({})).await?;
    let (id, nickname) = (int(&d, "user_id"), text(&d, "nickname").to_owned());
    let mut contacts = lock(ctx.contacts);
    if id != 0 {
        contacts.bot = id;
        contacts.nickname.clone_from(&nickname);
    }
    Ok((id, nickname))
}

/// The bot's id: from the cache, or asked.
async fn bot_id(ctx: &Ctx<'_>) -> Result<i64, Stop> {
    let known = lock(ctx.contacts).bot;
    if known != 0 {
        return Ok(known);
    }
    Ok(login(ctx).await?.0)
}

fn learn_friends(contacts: &mut Contacts, list: &[Value]) {
    contacts.friends = list
        .iter()
        .filter_map(|f| {
            let id = f.get("user_id").and_then(as_i64)?;
            let friend = cache::Friend {
                nickname: text(f, "nickname").to_owned(),
                remark: text(f, "remark").to_owned(),
            };
            Some((id, friend))
        })
        .collect();
}

fn learn_groups(contacts: &mut Contacts, list: &[Value]) -> Vec<i64> {
    let ids: Vec<i64> = list.iter().filter_map(|g| g.get("group_id").and_then(as_i64)).collect();
    contacts.groups.retain(|id, _| ids.contains(id));
    for g in list {
        let Some(id) = g.get("group_id").and_then(as_i64) else { continue };
        let name = text(g, "group_name");
        let entry = contacts.group_mut(id);
        if !name.is_empty() {
            name.clone_into(&mut entry.name);
        }
        if let Some(shut) = g.get("group_all_shut").and_then(as_i64) {
            entry.mute_all = shut != 0;
        }
    }
    ids
}

/// Learn the bot's role in the groups where it is not known yet.
/// How many groups' roles are asked for at once.
const ROLES_AT_ONCE: usize = 16;

async fn learn_roles(
    api: &dyn Actions,
    contacts: &Mutex<Contacts>,
    groups: &[i64],
) -> Result<(), ActionError> {
    let (bot, unknown): (i64, Vec<i64>) = {
        let c = lock(contacts);
        (c.bot, groups.iter().copied().filter(|g| c.bot_role(*g).is_none()).collect())
    };
    if bot == 0 {
        return Ok(());
    }
    // A few at a time: a bot in hundreds of groups is not held up group by group at connect.
    for chunk in unknown.chunks(ROLES_AT_ONCE) {
        let asked = chunk.iter().map(|&group| async move {
            let params = json!({ "group_id": group, "user_id": bot, "no_cache": false });
            (group, call_action(api, contacts, "get_group_member_info", params).await)
        });
        for (group, answer) in futures_util::future::join_all(asked).await {
            match answer {
                Ok(mut m) => {
                    if m.get("user_id").is_none() {
                        m["user_id"] = json!(bot);
                    }
                    lock(contacts).learn_member(group, &m);
                }
                // A role that cannot be read stays unknown (MEMBER); the group is still listed.
                Err(ActionError::Failed { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Load friends, groups and the bot's role in each group into the cache (at connect).
pub async fn load_contacts(
    api: &dyn Actions,
    contacts: &Mutex<Contacts>,
) -> Result<(), ActionError> {
    // A new connection may reach another server: ask it again for what the last one lacked.
    lock(contacts).forget_missing_actions();
    let known = lock(contacts).bot;
    if known == 0 {
        let me = call_action(api, contacts, "get_login_info", json!({})).await?;
        let mut c = lock(contacts);
        c.bot = int(&me, "user_id");
        text(&me, "nickname").clone_into(&mut c.nickname);
    }
    let friends = call_action(api, contacts, "get_friend_list", json!({})).await?;
    learn_friends(&mut lock(contacts), items(&friends, "friends"));
    let groups = call_action(api, contacts, "get_group_list", json!({})).await?;
    let ids = learn_groups(&mut lock(contacts), items(&groups, "groups"));
    learn_roles(api, contacts, &ids).await
}

async fn friend_list(ctx: &Ctx<'_>) -> Outcome {
    let d = act(ctx, "get_friend_list", json!({})).await?;
    let list = items(&d, "friends");
    let mut contacts = lock(ctx.contacts);
    learn_friends(&mut contacts, list);
    let out: Vec<Value> = list
        .iter()
        .filter_map(|f| f.get("user_id").and_then(as_i64))
        .map(|id| contacts.friend_json(id, ""))
        .collect();
    Ok(data(Value::Array(out)))
}

async fn group_list(ctx: &Ctx<'_>) -> Outcome {
    let d = act(ctx, "get_group_list", json!({})).await?;
    let ids = learn_groups(&mut lock(ctx.contacts), items(&d, "groups"));
    match learn_roles(ctx.api, ctx.contacts, &ids).await {
        Ok(()) | Err(ActionError::Failed { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let contacts = lock(ctx.contacts);
    Ok(data(ids.iter().map(|id| contacts.group_json(*id)).collect()))
}

async fn member_list(c: Content<'_>, ctx: &Ctx<'_>, latest: bool) -> Outcome {
    let group = c.need("target")?;
    let params = if latest {
        json!({ "group_id": group, "no_cache": true })
    } else {
        json!({ "group_id": group })
    };
    let d = match act(ctx, "get_group_member_list", params).await {
        Ok(d) => d,
        // A group the bot is not known to be in: mirai-api-http's "target not found".
        Err(ActionError::Failed { retcode, .. })
            if retcode != UNKNOWN_ACTION && !lock(ctx.contacts).groups.contains_key(&group) =>
        {
            return Err(Stop::not_found())
        }
        Err(e) => return Err(e.into()),
    };
    let wanted: Vec<i64> = c
        .get("memberIds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(as_i64)
        .collect();
    let mut contacts = lock(ctx.contacts);
    let bot = contacts.bot;
    let mut out = Vec::new();
    for m in items(&d, "members") {
        contacts.learn_member(group, m);
        let Some(id) = m.get("user_id").and_then(as_i64) else { continue };
        // mirai-api-http's member lists never hold the bot itself.
        if id == bot || (latest && !wanted.is_empty() && !wanted.contains(&id)) {
            continue;
        }
        out.push(id);
    }
    let list = out
        .into_iter()
        .map(|id| {
            let mut v = member(&contacts, group, id);
            if latest {
                // The real server reports the join time here (a quirk scripts may rely on).
                v["lastSpeakTimestamp"] = v["joinTimestamp"].clone();
            }
            v
        })
        .collect();
    Ok(data(list))
}

async fn profile(ctx: &Ctx<'_>, user: i64) -> Outcome {
    let d = act(ctx, "get_stranger_info", json!({ "user_id": user, "no_cache": false })).await?;
    let level = d.get("qqLevel").or_else(|| d.get("level")).and_then(as_i64).unwrap_or(0);
    let sign = d.get("long_nick").or_else(|| d.get("sign")).and_then(Value::as_str);
    let sex = match text(&d, "sex") {
        "male" => "MALE",
        "female" => "FEMALE",
        _ => "UNKNOWN",
    };
    Ok(json!({
        "nickname": text(&d, "nickname"), "email": text(&d, "email"), "age": int(&d, "age"),
        "level": level, "sign": sign.unwrap_or_default(), "sex": sex,
    }))
}

// ---------------------------------------------------------------------------------------------
// Messages.

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum To {
    Friend(i64),
    Group(i64),
    Temp { group: i64, qq: i64 },
}

impl To {
    /// The conversation, as mirai-api-http's `target` names it.
    fn conversation(self) -> i64 {
        match self {
            Self::Friend(id) | Self::Group(id) => id,
            Self::Temp { qq, .. } => qq,
        }
    }

    fn group(self) -> Option<i64> {
        match self {
            Self::Friend(_) => None,
            Self::Group(g) | Self::Temp { group: g, .. } => Some(g),
        }
    }
}

async fn send_chain(c: Content<'_>, ctx: &Ctx<'_>, to: To) -> Outcome {
    let chain =
        c.get("messageChain").and_then(Value::as_array).ok_or(Stop::missing("messageChain"))?;
    let id = send(ctx, to, chain, c.long("quote")).await?;
    Ok(json!({ "code": 0, "msg": "success", "messageId": id }))
}

/// Send a chain and remember it; the message id.
async fn send(ctx: &Ctx<'_>, to: To, chain: &[Value], quote: Option<i64>) -> Result<i64, Stop> {
    let quoted = {
        let contacts = lock(ctx.contacts);
        if let To::Group(g) = to {
            let muted_all = contacts.groups.get(&g).is_some_and(|x| x.mute_all)
                && contacts.bot_role(g) == Some(Role::Member);
            if contacts.bot_muted(g) || muted_all {
                return Err(Stop::code(StatusCode::BotMuted));
            }
        }
        match quote.and_then(|q| contacts.message(q)) {
            Some(m) if m.conversation != to.conversation() => return Err(Stop::not_found()),
            Some(m) => Some(m.clone()),
            None => None,
        }
    };
    let unsendable = |e: msg::Unsendable| Stop::unsupported(e.to_string());
    let (action, params) = if msg::is_forward_only(chain) {
        let forward = chain.iter().find(|e| e["type"] == "Forward").unwrap_or(&Value::Null);
        let nodes = msg::forward_nodes(forward).map_err(unsendable)?;
        match to {
            To::Friend(user) => {
                ("send_private_forward_msg", json!({ "user_id": user, "messages": nodes }))
            }
            To::Group(group) => {
                ("send_group_forward_msg", json!({ "group_id": group, "messages": nodes }))
            }
            To::Temp { group, qq } => (
                "send_private_forward_msg",
                json!({ "user_id": qq, "group_id": group, "messages": nodes }),
            ),
        }
    } else {
        let segments = msg::from_chain(chain, quote).map_err(unsendable)?;
        if segments.iter().all(|s| s["type"] == "reply") {
            return Err(Stop::Refuse(StatusCode::ServerError, "message is empty".to_owned()));
        }
        match to {
            To::Friend(user) => {
                ("send_private_msg", json!({ "user_id": user, "message": segments }))
            }
            To::Group(group) => {
                ("send_group_msg", json!({ "group_id": group, "message": segments }))
            }
            To::Temp { group, qq } => (
                "send_private_msg",
                json!({ "user_id": qq, "group_id": group, "message": segments }),
            ),
        }
    };
    let d = act(ctx, action, params).await?;
    let id = d.get("message_id").and_then(as_i64).unwrap_or(-1);
    if id != -1 {
        let mut contacts = lock(ctx.contacts);
        let message = sent_message(&contacts, to, id, chain, quoted.as_ref());
        contacts.remember_message(message);
    }
    Ok(id)
}

/// A message the bot sent, as the cache keeps it: a `…SyncMessage` packet with the chain.
fn sent_message(
    contacts: &Contacts,
    to: To,
    id: i64,
    chain: &[Value],
    quoted: Option<&cache::Message>,
) -> cache::Message {
    let time = cache::now();
    let mut message_chain = vec![json!({ "type": "Source", "id": id, "time": time })];
    if let Some(q) = quoted {
        let origin: Vec<Value> = q.packet["messageChain"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["type"] != "Source" && e["type"] != "Quote")
            .cloned()
            .collect();
        let (target, group) = match to {
            To::Group(g) => (g, g),
            _ => (to.conversation(), 0),
        };
        message_chain.push(json!({
            "type": "Quote", "id": q.id, "senderId": q.author, "targetId": target,
            "groupId": group, "origin": origin,
        }));
    }
    message_chain
        .extend(chain.iter().filter(|e| e["type"] != "Source" && e["type"] != "Quote").cloned());
    let (kind, subject) = match to {
        To::Friend(user) => ("FriendSyncMessage", contacts.friend_json(user, "")),
        To::Group(group) => ("GroupSyncMessage", contacts.group_json(group)),
        To::Temp { group, qq } => ("TempSyncMessage", member(contacts, group, qq)),
    };
    cache::Message {
        id,
        conversation: to.conversation(),
        group: to.group(),
        author: contacts.bot,
        time,
        packet: json!({ "type": kind, "messageChain": message_chain, "subject": subject }),
    }
}

async fn send_images(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let to = {
        let contacts = lock(ctx.contacts);
        match (c.long("target"), c.long("qq"), c.long("group")) {
            (Some(t), _, _)
                if contacts.groups.contains_key(&t) && !contacts.friends.contains_key(&t) =>
            {
                To::Group(t)
            }
            (Some(t), _, _) => To::Friend(t),
            (None, Some(qq), Some(group)) => To::Temp { group, qq },
            (None, Some(qq), None) => To::Friend(qq),
            (None, None, Some(group)) => To::Group(group),
            (None, None, None) => return Err(Stop::not_found()),
        }
    };
    let urls: Vec<&str> = c
        .get("urls")
        .and_then(Value::as_array)
        .ok_or(Stop::missing("urls"))?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let chain: Vec<Value> =
        urls.iter().map(|u| json!({ "type": "Image", "imageId": u, "url": u })).collect();
    send(ctx, to, &chain, None).await?;
    Ok(data(json!(urls)))
}

async fn nudge(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let (target, subject) = (c.need("target")?, c.need("subject")?);
    let kind = c.need_text("kind")?;
    let (first, napcat) = match kind {
        "Group" | "group" => (
            ("group_poke", json!({ "group_id": subject, "user_id": target })),
            ("send_poke", json!({ "group_id": subject, "user_id": target })),
        ),
        "Friend" | "friend" | "Stranger" | "stranger" => {
            if target == subject {
                (
                    ("friend_poke", json!({ "user_id": target })),
                    ("send_poke", json!({ "user_id": target })),
                )
            } else {
                (
                    ("friend_poke", json!({ "user_id": subject, "target_id": target })),
                    ("send_poke", json!({ "user_id": subject, "target_id": target })),
                )
            }
        }
        other => {
            return Err(Stop::Refuse(
                StatusCode::InvalidArgument,
                format!("unknown nudge kind {other:?} (Friend, Group or Stranger)"),
            ))
        }
    };
    act_or(ctx, first, napcat).await?;
    Ok(ok())
}

/// The `messageId` of a recall or essence call, checked against the cache: a cached message
/// of another conversation (or, for essence, not of a group) is code 5.
fn checked_message(c: Content<'_>, ctx: &Ctx<'_>, group_only: bool) -> Result<i64, Stop> {
    let (target, id) = (c.need("target")?, c.need("messageId")?);
    let contacts = lock(ctx.contacts);
    if let Some(m) = contacts.message(id) {
        if m.conversation != target || (group_only && m.group != Some(target)) {
            return Err(Stop::not_found());
        }
    }
    Ok(id)
}

async fn message_from_id(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let (target, id) = (c.need("target")?, c.need("messageId")?);
    let cached = lock(ctx.contacts).message(id).cloned();
    if let Some(m) = cached {
        return if m.conversation == target { Ok(data(m.packet)) } else { Err(Stop::not_found()) };
    }
    let d = match act(ctx, "get_msg", json!({ "message_id": id })).await {
        Ok(d) => d,
        // The server does not have it: for mirai-api-http that is a cache miss.
        Err(ActionError::Failed { retcode, msg, .. })
            if retcode != UNKNOWN_ACTION && retcode != 1400 =>
        {
            let text = if msg.is_empty() { StatusCode::TargetNotFound.server_msg() } else { &msg };
            return Err(Stop::Refuse(StatusCode::TargetNotFound, text.to_owned()));
        }
        Err(e) => return Err(e.into()),
    };
    let mut contacts = lock(ctx.contacts);
    let m = event::message_from(&d, &contacts).ok_or_else(Stop::not_found)?;
    if m.conversation != target {
        return Err(Stop::not_found());
    }
    let packet = m.packet.clone();
    contacts.remember_message(m);
    Ok(data(packet))
}

/// How many messages one history page asks for.
const HISTORY_PAGE: i64 = 100;

/// At most this many history pages per `roamingMessages`.
const HISTORY_PAGES: usize = 20;

async fn roaming(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let start = c.long("timeStart").unwrap_or(0);
    let end = c.long("timeEnd").unwrap_or(i64::MAX);
    let group = {
        let contacts = lock(ctx.contacts);
        match (c.long("target"), c.long("qq"), c.long("group")) {
            (Some(t), _, _)
                if contacts.groups.contains_key(&t) && !contacts.friends.contains_key(&t) =>
            {
                Ok(t)
            }
            (Some(t), _, _) => Err(t),
            (None, Some(q), _) => Err(q),
            (None, None, Some(g)) => Ok(g),
            (None, None, None) => return Err(Stop::not_found()),
        }
    };
    let (action, key, peer) = match group {
        Ok(g) => ("get_group_msg_history", "group_id", g),
        Err(u) => ("get_friend_msg_history", "user_id", u),
    };
    let mut seen = std::collections::HashSet::new();
    let mut found: Vec<cache::Message> = Vec::new();
    let mut seq: Option<Value> = None;
    for _ in 0..HISTORY_PAGES {
        let mut params = json!({ key: peer, "count": HISTORY_PAGE });
        if let Some(s) = &seq {
            params["message_seq"] = s.clone();
        }
        let d = act(ctx, action, params).await?;
        let page = items(&d, "messages");
        let mut oldest: Option<(i64, Value)> = None;
        let mut fresh = false;
        {
            let contacts = lock(ctx.contacts);
            for raw in page {
                let time = int(raw, "time");
                if oldest.as_ref().map_or(true, |(t, _)| time < *t) {
                    let s = raw.get("message_seq").or_else(|| raw.get("message_id"));
                    oldest = Some((time, s.cloned().unwrap_or(Value::Null)));
                }
                let Some(m) = event::message_from(raw, &contacts) else { continue };
                if seen.insert(m.id) {
                    fresh = true;
                    found.push(m);
                }
            }
        }
        match oldest {
            Some((time, s)) if fresh && !s.is_null() && (start <= 0 || time >= start) => {
                seq = Some(s);
            }
            _ => break,
        }
    }
    found.retain(|m| (start <= 0 || m.time >= start) && m.time <= end);
    found.sort_by_key(|m| (m.time, m.id));
    Ok(data(found.into_iter().map(|m| m.packet).collect()))
}

// ---------------------------------------------------------------------------------------------
// Friends and groups.

async fn delete_friend(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let user = c.need("target")?;
    act(ctx, "delete_friend", json!({ "user_id": user, "friend_id": user })).await?;
    let friend = {
        let mut contacts = lock(ctx.contacts);
        let friend = contacts.friend_json(user, "");
        contacts.friends.remove(&user);
        friend
    };
    (ctx.emit)(json!({ "type": "FriendDeleteEvent", "friend": friend }));
    Ok(ok())
}

/// What a management command needs of the bot's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// An administrator or the owner.
    Operator,
    /// The owner.
    Owner,
}

/// Refuse with code 10 before any action when the bot's role in `group` is too low, as
/// mirai-api-http does; with code 5 when the bot is not in the group. A role the cache does
/// not know is asked for once; a server that cannot say leaves the decision to the action.
async fn require_role(
    ctx: &Ctx<'_>,
    group: i64,
    needs: Needs,
    target: Option<i64>,
) -> Result<(), Stop> {
    let known = lock(ctx.contacts).bot_role(group);
    let role = match known {
        Some(r) => r,
        None => {
            let bot = bot_id(ctx).await?;
            let params = json!({ "group_id": group, "user_id": bot, "no_cache": true });
            match act(ctx, "get_group_member_info", params).await {
                Ok(info) => {
                    let mut contacts = lock(ctx.contacts);
                    contacts.learn_member(group, &info);
                    match contacts.bot_role(group) {
                        Some(r) => r,
                        None => return Ok(()),
                    }
                }
                Err(ActionError::Failed { retcode, .. }) if retcode == UNKNOWN_ACTION => {
                    return Ok(())
                }
                Err(ActionError::Failed { .. }) => return Err(Stop::not_found()),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let allowed = match needs {
        Needs::Operator => role.is_operator(),
        Needs::Owner => role == Role::Owner,
    };
    // An administrator cannot manage another administrator or the owner.
    let outranked = target.is_some_and(|t| {
        role != Role::Owner
            && lock(ctx.contacts).member(group, t).is_some_and(|m| m.role.is_operator())
    });
    if allowed && !outranked {
        Ok(())
    } else {
        Err(Stop::code(StatusCode::PermissionDenied))
    }
}

async fn ban(ctx: &Ctx<'_>, group: i64, user: i64, duration: i64) -> Outcome {
    require_role(ctx, group, Needs::Operator, Some(user)).await?;
    let params = json!({ "group_id": group, "user_id": user, "duration": duration });
    act(ctx, "set_group_ban", params).await?;
    Ok(ok())
}

async fn quit(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let group = c.need("target")?;
    if lock(ctx.contacts).bot_role(group) == Some(Role::Owner) {
        return Err(Stop::code(StatusCode::PermissionDenied));
    }
    act(ctx, "set_group_leave", json!({ "group_id": group, "is_dismiss": false })).await?;
    let json = {
        let mut contacts = lock(ctx.contacts);
        let json = contacts.group_json(group);
        contacts.groups.remove(&group);
        json
    };
    (ctx.emit)(json!({ "type": "BotLeaveEventActive", "group": json }));
    Ok(ok())
}

async fn group_config(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let group = c.need("target")?;
    let d = act(ctx, "get_group_info", json!({ "group_id": group, "no_cache": true })).await?;
    let mut contacts = lock(ctx.contacts);
    let g = contacts.group_mut(group);
    let name = text(&d, "group_name");
    if !name.is_empty() {
        name.clone_into(&mut g.name);
    }
    if let Some(shut) = d.get("group_all_shut").and_then(as_i64) {
        g.mute_all = shut != 0;
    }
    Ok(json!({
        "name": g.name, "confessTalk": false, "allowMemberInvite": false, "autoApprove": false,
        "anonymousChat": false, "muteAll": g.mute_all,
    }))
}

async fn group_config_update(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let group = c.need("target")?;
    let config = Content(c.get("config").filter(|v| v.is_object()).ok_or(Stop::missing("config"))?);
    if let Some(name) = config.text("name") {
        act(ctx, "set_group_name", json!({ "group_id": group, "group_name": name })).await?;
        name.clone_into(&mut lock(ctx.contacts).group_mut(group).name);
    }
    if let Some(allow) = config.flag("allowMemberInvite") {
        let policy = if allow { "require_approval" } else { "disabled" };
        let params = json!({ "group_id": group, "policy": policy });
        act(ctx, "set_group_member_invite_policy", params).await?;
    }
    Ok(ok())
}

/// mirai's names of the honours OneBot lists, by `get_group_honor_info` key.
const HONORS: [(&str, &str); 5] = [
    ("talkative_list", "龙王"),
    ("performer_list", "群聊之火"),
    ("legend_list", "群聊炽焰"),
    ("strong_newbie_list", "冒尖小春笋"),
    ("emotion_list", "快乐源泉"),
];

async fn member_info(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let (group, user) = (c.need("target")?, c.need("memberId")?);
    let params = json!({ "group_id": group, "user_id": user, "no_cache": true });
    let mut d = act(ctx, "get_group_member_info", params).await?;
    if d.get("user_id").is_none() {
        d["user_id"] = json!(user);
    }
    let honors: Vec<&str> =
        match act(ctx, "get_group_honor_info", json!({ "group_id": group, "type": "all" })).await {
            Ok(h) => {
                let current = h.get("current_talkative").and_then(|t| t.get("user_id"));
                let talkative = current.and_then(as_i64) == Some(user);
                HONORS
                    .iter()
                    .filter(|(key, name)| {
                        (talkative && *name == "龙王")
                            || items(&h, key)
                                .iter()
                                .any(|m| m.get("user_id").and_then(as_i64) == Some(user))
                    })
                    .map(|(_, name)| *name)
                    .collect()
            }
            // Honours are extra: a server without them still answers the member.
            Err(ActionError::Failed { .. }) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
    let mut contacts = lock(ctx.contacts);
    contacts.learn_member(group, &d);
    let mut v = contacts.member_json(group, user);
    v["active"] = json!({
        "rank": 0, "point": 0, "honors": honors, "temperature": int(&d, "level"),
    });
    Ok(v)
}

async fn member_info_update(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let (group, user) = (c.need("target")?, c.need("memberId")?);
    let info = Content(c.get("info").filter(|v| v.is_object()).ok_or(Stop::missing("info"))?);
    if let Some(card) = info.text("name") {
        let params = json!({ "group_id": group, "user_id": user, "card": card });
        act(ctx, "set_group_card", params).await?;
    }
    if let Some(title) = info.text("specialTitle") {
        let params = json!({ "group_id": group, "user_id": user, "special_title": title });
        act(ctx, "set_group_special_title", params).await?;
    }
    Ok(ok())
}

// ---------------------------------------------------------------------------------------------
// Announcements.

fn announcement(contacts: &Contacts, group: i64, n: &Value) -> Value {
    let content = n.get("message").and_then(|m| m.get("text")).and_then(Value::as_str);
    let fid = match n.get("notice_id") {
        Some(Value::String(s)) => s.clone(),
        Some(v) if !v.is_null() => v.to_string(),
        _ => String::new(),
    };
    json!({
        "group": contacts.group_json(group),
        "content": content.unwrap_or_else(|| text(n, "content")),
        "senderId": int(n, "sender_id"),
        "fid": fid,
        "allConfirmed": false,
        "confirmedMembersCount": 0,
        "publicationTime": int(n, "publish_time"),
    })
}

async fn notices(ctx: &Ctx<'_>, group: i64) -> Result<Vec<Value>, Stop> {
    let d = act(ctx, "_get_group_notice", json!({ "group_id": group })).await?;
    let contacts = lock(ctx.contacts);
    Ok(items(&d, "notices").iter().map(|n| announcement(&contacts, group, n)).collect())
}

async fn anno_list(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let group = c.need("id")?;
    let offset = usize::try_from(c.long("offset").unwrap_or(0)).unwrap_or(0);
    let size = c.long("size").map_or(usize::MAX, |s| usize::try_from(s).unwrap_or(0));
    let list = notices(ctx, group).await?;
    Ok(data(list.into_iter().skip(offset).take(size).collect()))
}

async fn anno_publish(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let group = c.need("target")?;
    let content = c.need_text("content")?;
    let on = |k: &str| i64::from(c.flag(k).unwrap_or(false));
    let mut params = json!({
        "group_id": group,
        "content": content,
        "pinned": on("pinned"),
        "confirm_required": on("requireConfirmation"),
        "is_show_edit_card": on("showEditCard"),
        "tip_window_type": i64::from(!c.flag("showPopup").unwrap_or(false)),
    });
    let image = c
        .text("imageUrl")
        .map(str::to_owned)
        .or_else(|| c.text("imagePath").map(|p| format!("file://{p}")))
        .or_else(|| c.text("imageBase64").map(|b| format!("base64://{b}")));
    if let Some(image) = image {
        params["image"] = json!(image);
    }
    act(ctx, "_send_group_notice", params).await?;
    // The server answers no id: find the new announcement in the list.
    let bot = lock(ctx.contacts).bot;
    let list = notices(ctx, group).await?;
    let mine = list
        .into_iter()
        .filter(|a| a["content"] == content && (bot == 0 || a["senderId"] == bot))
        .max_by_key(|a| a["publicationTime"].as_i64().unwrap_or(0));
    let published = mine.unwrap_or_else(|| {
        json!({
            "group": lock(ctx.contacts).group_json(group), "content": content, "senderId": bot,
            "fid": "", "allConfirmed": false, "confirmedMembersCount": 0,
            "publicationTime": cache::now(),
        })
    });
    Ok(data(published))
}

// ---------------------------------------------------------------------------------------------
// Requests.

async fn respond(c: Content<'_>, ctx: &Ctx<'_>, kind: RequestKind) -> Outcome {
    let event_id = c.need("eventId")?;
    let operate = c.need("operate")?;
    let valid = match kind {
        RequestKind::Friend => (0..=2).contains(&operate),
        RequestKind::MemberJoin => (0..=4).contains(&operate),
        RequestKind::BotInvited => true,
    };
    if !valid {
        return Err(Stop::Refuse(
            StatusCode::InvalidArgument,
            format!("operate {operate} is not an answer to this request"),
        ));
    }
    let taken = lock(ctx.contacts).take_request(event_id, kind);
    let request = taken.map_err(|e| Stop::Refuse(StatusCode::TargetNotFound, e.to_string()))?;
    let approve = operate == 0;
    let (action, params) = match kind {
        RequestKind::Friend => {
            ("set_friend_add_request", json!({ "flag": request.flag, "approve": approve }))
        }
        // Ignoring (2, or 4 with a blacklist OneBot does not have) tells the server nothing.
        RequestKind::MemberJoin if operate == 2 || operate == 4 => return Ok(ok()),
        RequestKind::MemberJoin => (
            "set_group_add_request",
            json!({
                "flag": request.flag, "sub_type": sub_type(&request, "add"),
                "type": sub_type(&request, "add"), "approve": approve,
                "reason": c.text("message").unwrap_or_default(),
            }),
        ),
        RequestKind::BotInvited => (
            "set_group_add_request",
            json!({
                "flag": request.flag, "sub_type": sub_type(&request, "invite"),
                "type": sub_type(&request, "invite"), "approve": approve,
            }),
        ),
    };
    if let Err(e) = act(ctx, action, params).await {
        lock(ctx.contacts).restore_request(event_id, request);
        return Err(e.into());
    }
    Ok(ok())
}

fn sub_type<'a>(request: &'a Request, default: &'a str) -> &'a str {
    if request.sub_type.is_empty() {
        default
    } else {
        &request.sub_type
    }
}

// ---------------------------------------------------------------------------------------------
// Group files.

mod files {
    //! Group files: the root and the folders in it, which is all QQ group files have.

    use serde_json::{json, Value};

    use super::{
        act, act_or, as_i64, data, int, items, lock, ok, text, Content, Ctx, Outcome, Stop,
    };
    use crate::protocol::StatusCode;

    /// The root folder's id and path.
    pub(super) const ROOT: &str = "/";

    /// A file or folder of a group, as OneBot lists it.
    #[derive(Debug, Clone)]
    pub(super) struct Node {
        /// The OneBot object (`file_id`… or `folder_id`…).
        pub raw: Value,
        /// Whether it is a file.
        pub is_file: bool,
        /// The folder it is in: `None` for the root, `Some((id, name))` for a folder.
        pub parent: Option<(String, String)>,
    }

    impl Node {
        pub(super) fn id(&self) -> &str {
            text(&self.raw, if self.is_file { "file_id" } else { "folder_id" })
        }

        pub(super) fn name(&self) -> &str {
            text(&self.raw, if self.is_file { "file_name" } else { "folder_name" })
        }

        fn parent_id(&self) -> &str {
            self.parent.as_ref().map_or(ROOT, |(id, _)| id.as_str())
        }
    }

    /// What `locate` found.
    pub(super) enum Place {
        Root,
        Node(Node),
    }

    /// The files and folders of one folder (`None`: the root).
    pub(super) async fn listing(
        ctx: &Ctx<'_>,
        group: i64,
        folder: Option<(&str, &str)>,
    ) -> Result<Vec<Node>, Stop> {
        let d = match folder {
            None => act(ctx, "get_group_root_files", json!({ "group_id": group })).await?,
            Some((id, _)) => {
                let params = json!({ "group_id": group, "folder_id": id });
                act(ctx, "get_group_files_by_folder", params).await?
            }
        };
        let parent = folder.map(|(id, name)| (id.to_owned(), name.to_owned()));
        let folders = items(&d, "folders").iter().map(|f| Node {
            raw: f.clone(),
            is_file: false,
            parent: parent.clone(),
        });
        let files = items(&d, "files").iter().map(|f| Node {
            raw: f.clone(),
            is_file: true,
            parent: parent.clone(),
        });
        Ok(folders.chain(files).collect())
    }

    /// The group of a file call: `target`, else `group` (`qq` alone names no group).
    pub(super) fn group_of(c: Content<'_>) -> Result<i64, Stop> {
        c.long("target").or_else(|| c.long("group")).ok_or_else(Stop::not_found)
    }

    /// The place `id`/`path` names (`path` wins when given).
    async fn locate(c: Content<'_>, ctx: &Ctx<'_>, group: i64) -> Result<Place, Stop> {
        match c.text("path") {
            Some(path) => by_path(ctx, group, path).await,
            None => by_id(ctx, group, c.text("id").unwrap_or_default()).await,
        }
    }

    pub(super) async fn by_path(ctx: &Ctx<'_>, group: i64, path: &str) -> Result<Place, Stop> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let root = match parts.as_slice() {
            [] => return Ok(Place::Root),
            [_] | [_, _] => listing(ctx, group, None).await?,
            _ => return Err(Stop::not_found()),
        };
        let first = root.into_iter().find(|n| n.name() == parts[0]).ok_or_else(Stop::not_found)?;
        let Some(second) = parts.get(1) else { return Ok(Place::Node(first)) };
        if first.is_file {
            return Err(Stop::not_found());
        }
        let inner = listing(ctx, group, Some((first.id(), first.name()))).await?;
        inner.into_iter().find(|n| n.name() == *second).map(Place::Node).ok_or_else(Stop::not_found)
    }

    async fn by_id(ctx: &Ctx<'_>, group: i64, id: &str) -> Result<Place, Stop> {
        if id.is_empty() || id == ROOT {
            return Ok(Place::Root);
        }
        let root = listing(ctx, group, None).await?;
        if let Some(n) = root.iter().find(|n| n.id() == id) {
            return Ok(Place::Node(n.clone()));
        }
        for folder in root.iter().filter(|n| !n.is_file) {
            let inner = listing(ctx, group, Some((folder.id(), folder.name()))).await?;
            if let Some(n) = inner.into_iter().find(|n| n.id() == id) {
                return Ok(Place::Node(n));
            }
        }
        Err(Stop::not_found())
    }

    /// The root folder as mirai-api-http gives it.
    fn root_json(group_json: &Value) -> Value {
        json!({
            "name": ROOT, "id": ROOT, "path": ROOT, "parent": null, "contact": group_json,
            "isFile": false, "isDictionary": true, "isDirectory": true, "size": 0, "sha1": null,
            "md5": null, "uploaderId": null, "uploadTime": null, "lastModifyTime": null,
            "downloadInfo": null,
        })
    }

    /// A folder in the root as mirai-api-http gives it.
    fn folder_json(group_json: &Value, id: &str, name: &str) -> Value {
        json!({
            "name": name, "id": id, "path": format!("/{name}"), "parent": root_json(group_json),
            "contact": group_json, "isFile": false, "isDictionary": true, "isDirectory": true,
            "size": 0, "sha1": null, "md5": null, "uploaderId": null, "uploadTime": null,
            "lastModifyTime": null, "downloadInfo": null,
        })
    }

    /// The parent folder of a node, and its path prefix.
    fn parent_json(group_json: &Value, parent: Option<&(String, String)>) -> (Value, String) {
        match parent {
            None => (root_json(group_json), String::new()),
            Some((id, name)) => (folder_json(group_json, id, name), format!("/{name}")),
        }
    }

    /// A file of the group as mirai-api-http gives it; `url` fills `downloadInfo`.
    pub(super) fn file_json(group_json: &Value, node: &Node, url: Option<&str>) -> Value {
        let (parent, prefix) = parent_json(group_json, node.parent.as_ref());
        let f = &node.raw;
        let size = f.get("file_size").or_else(|| f.get("size")).and_then(as_i64).unwrap_or(0);
        let (uploader, uploaded, modified) =
            (int(f, "uploader"), int(f, "upload_time"), int(f, "modify_time"));
        let download = url.map_or(Value::Null, |url| {
            json!({
                "sha1": null, "md5": null, "downloadTimes": 0, "uploaderId": uploader,
                "uploadTime": uploaded, "lastModifyTime": modified, "url": url,
            })
        });
        json!({
            "name": node.name(), "id": node.id(), "path": format!("{prefix}/{}", node.name()),
            "parent": parent, "contact": group_json, "isFile": true, "isDictionary": false,
            "isDirectory": false, "size": size, "sha1": null, "md5": null,
            "uploaderId": uploader, "uploadTime": uploaded, "lastModifyTime": modified,
            "downloadInfo": download,
        })
    }

    /// A node as mirai-api-http gives it, fetching its download url when asked.
    async fn node_json(ctx: &Ctx<'_>, group: i64, node: &Node, with_url: bool) -> Outcome {
        let group_json = lock(ctx.contacts).group_json(group);
        if !node.is_file {
            return Ok(folder_json(&group_json, node.id(), node.name()));
        }
        let url = if with_url {
            let mut params = json!({ "group_id": group, "file_id": node.id() });
            if let Some(busid) = node.raw.get("busid") {
                params["busid"] = busid.clone();
            }
            let d = act(ctx, "get_group_file_url", params).await?;
            Some(text(&d, "url").to_owned())
        } else {
            None
        };
        Ok(file_json(&group_json, node, url.as_deref()))
    }

    pub(super) async fn list(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
        let group = group_of(c)?;
        let folder = match locate(c, ctx, group).await? {
            Place::Root => None,
            Place::Node(n) if !n.is_file => Some(n),
            Place::Node(_) => return Err(Stop::not_found()),
        };
        let children = listing(ctx, group, folder.as_ref().map(|f| (f.id(), f.name()))).await?;
        let with_url = c.flag("withDownloadInfo").unwrap_or(false);
        let offset = usize::try_from(c.long("offset").unwrap_or(0)).unwrap_or(0);
        let size = c.long("size").map_or(usize::MAX, |s| usize::try_from(s).unwrap_or(0));
        let mut out = Vec::new();
        for node in children.iter().skip(offset).take(size) {
            out.push(node_json(ctx, group, node, with_url).await?);
        }
        Ok(data(Value::Array(out)))
    }

    pub(super) async fn info(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
        let group = group_of(c)?;
        match locate(c, ctx, group).await? {
            Place::Root => Err(Stop::not_found()),
            Place::Node(n) => {
                let with_url = c.flag("withDownloadInfo").unwrap_or(false);
                Ok(data(node_json(ctx, group, &n, with_url).await?))
            }
        }
    }

    pub(super) async fn mkdir(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
        let group = group_of(c)?;
        let name = c.need_text("directoryName")?;
        if name.is_empty() || name.contains('/') {
            return Err(Stop::code(StatusCode::InvalidArgument));
        }
        if !matches!(locate(c, ctx, group).await?, Place::Root) {
            return Err(Stop::unsupported(
                "file_mkdir: over OneBot, folders can be made in the root only",
            ));
        }
        let params =
            json!({ "group_id": group, "name": name, "folder_name": name, "parent_id": ROOT });
        act(ctx, "create_group_file_folder", params).await?;
        // The servers answer no id alike: find the new folder in the root.
        let root = listing(ctx, group, None).await?;
        let made = root.iter().rev().find(|n| !n.is_file && n.name() == name);
        let group_json = lock(ctx.contacts).group_json(group);
        match made {
            Some(n) => Ok(data(folder_json(&group_json, n.id(), name))),
            None => Err(Stop::Refuse(
                StatusCode::ServerError,
                format!("the folder {name:?} was made but does not show in the group's files"),
            )),
        }
    }

    /// The node a change names; the root cannot be changed (code 10, as mirai-api-http).
    async fn changeable(c: Content<'_>, ctx: &Ctx<'_>, group: i64) -> Result<Node, Stop> {
        match locate(c, ctx, group).await? {
            Place::Root => Err(Stop::code(StatusCode::PermissionDenied)),
            Place::Node(n) => Ok(n),
        }
    }

    pub(super) async fn delete(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
        let group = group_of(c)?;
        let node = changeable(c, ctx, group).await?;
        if node.is_file {
            let mut params = json!({ "group_id": group, "file_id": node.id() });
            if let Some(busid) = node.raw.get("busid") {
                params["busid"] = busid.clone();
            }
            act(ctx, "delete_group_file", params).await?;
        } else {
            let params = json!({ "group_id": group, "folder_id": node.id() });
            act_or(
                ctx,
                ("delete_group_folder", params.clone()),
                ("delete_group_file_folder", params),
            )
            .await?;
        }
        Ok(ok())
    }

    pub(super) async fn move_to(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
        let group = group_of(c)?;
        let node = changeable(c, ctx, group).await?;
        let dest = match (c.text("moveToPath"), c.text("moveTo")) {
            (Some(path), _) => by_path(ctx, group, path).await?,
            (None, Some(id)) => by_id(ctx, group, id).await?,
            (None, None) => return Err(Stop::not_found()),
        };
        let dest = match dest {
            Place::Root => ROOT.to_owned(),
            Place::Node(n) if !n.is_file => n.id().to_owned(),
            Place::Node(_) => return Err(Stop::not_found()),
        };
        if !node.is_file {
            return Err(Stop::code(StatusCode::PermissionDenied));
        }
        let params = json!({
            "group_id": group, "file_id": node.id(),
            "current_parent_directory": node.parent_id(), "target_parent_directory": dest,
        });
        act(ctx, "move_group_file", params).await?;
        Ok(ok())
    }

    pub(super) async fn rename(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
        let group = group_of(c)?;
        let name = c.need_text("renameTo")?;
        if name.is_empty() || name.contains('/') {
            return Err(Stop::code(StatusCode::InvalidArgument));
        }
        let node = changeable(c, ctx, group).await?;
        if node.is_file {
            let params = json!({
                "group_id": group, "file_id": node.id(),
                "current_parent_directory": node.parent_id(), "new_name": name,
            });
            act(ctx, "rename_group_file", params).await?;
        } else {
            let params =
                json!({ "group_id": group, "folder_id": node.id(), "new_folder_name": name });
            act(ctx, "rename_group_file_folder", params).await?;
        }
        Ok(ok())
    }

    /// Upload a file into the root or a folder of it; the new file as mirai-api-http gives it.
    pub(super) async fn upload(
        ctx: &Ctx<'_>,
        group: i64,
        path: &str,
        name: &str,
        bytes: &[u8],
    ) -> Outcome {
        let folder = match by_path(ctx, group, path).await? {
            Place::Root => None,
            Place::Node(n) if !n.is_file => Some((n.id().to_owned(), n.name().to_owned())),
            Place::Node(_) => return Err(Stop::not_found()),
        };
        let params = json!({
            "group_id": group,
            "file": format!("base64://{}", super::base64(bytes)),
            "name": name,
            "folder": folder.as_ref().map_or(ROOT, |(id, _)| id.as_str()),
        });
        let d = act(ctx, "upload_group_file", params).await?;
        let (group_json, bot) = {
            let contacts = lock(ctx.contacts);
            (contacts.group_json(group), contacts.bot)
        };
        let now = crate::adapter::onebot::cache::now();
        let node = Node {
            raw: json!({
                "file_id": text(&d, "file_id"), "file_name": name, "file_size": bytes.len(),
                "uploader": bot, "upload_time": now, "modify_time": now,
            }),
            is_file: true,
            parent: folder,
        };
        Ok(data(file_json(&group_json, &node, None)))
    }
}

// ---------------------------------------------------------------------------------------------
// Uploads.

/// An upload (uploadImage/uploadVoice/uploadShortVideo → a local answer whose id is "base64://…" of the bytes (or the url field when given), so sending that id back works; file_upload → upload_group_file with file "base64://…", name, folder).
pub async fn upload(upload: &Upload, ctx: &Ctx<'_>) -> Result<Value, CallError> {
    let command = upload.command.as_str();
    match upload_inner(upload, ctx).await {
        Ok(v) => Ok(v),
        Err(Stop::Refuse(code, text)) => Ok(code.state_with(&text)),
        Err(Stop::Action(e)) => failure(command, e),
    }
}

async fn upload_inner(upload: &Upload, ctx: &Ctx<'_>) -> Outcome {
    let field = |k: &str| upload.fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let part = |k: &str| upload.files.iter().find(|f| f.field == k);
    let ty = field("type").ok_or(Stop::missing("type"))?;
    let media = |part_name: &str| -> Result<String, Stop> {
        if let Some(url) = field("url").filter(|u| !u.is_empty()) {
            return Ok(url.to_owned());
        }
        let p = part(part_name).ok_or(Stop::missing(part_name))?;
        Ok(format!("base64://{}", base64(&p.bytes)))
    };
    let media_type = matches!(ty, "friend" | "Friend" | "group" | "Group" | "temp" | "Temp");
    match upload.command.as_str() {
        "uploadImage" | "uploadVoice" | "uploadShortVideo" if !media_type => {
            Err(Stop::code(StatusCode::InvalidArgument))
        }
        "uploadImage" => {
            let id = media("img")?;
            Ok(json!({ "imageId": id, "url": id }))
        }
        "uploadVoice" => Ok(json!({ "voiceId": media("voice")? })),
        "uploadShortVideo" => {
            let p = part("video").ok_or(Stop::missing("video"))?;
            Ok(json!({ "videoId": format!("base64://{}", base64(&p.bytes)) }))
        }
        "file_upload" => {
            if ty != "group" {
                return Err(Stop::code(StatusCode::Unsupported));
            }
            let target = field("target").and_then(|t| t.trim().parse::<i64>().ok());
            let target = target.ok_or(Stop::missing("target"))?;
            let p = part("file").ok_or(Stop::missing("file"))?;
            let name = if p.name.is_empty() { "file" } else { p.name.as_str() };
            files::upload(ctx, target, field("path").unwrap_or_default(), name, &p.bytes).await
        }
        other => Err(Stop::unsupported(format!("{other} is not available over OneBot"))),
    }
}

/// Standard base64 with padding, as `base64://` ids carry it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextet = |shift: u32| char::from(ALPHABET[((n >> shift) & 63) as usize]);
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::adapter::BoxFuture;

    /// A server that answers every action with `null`.
    struct Null;

    impl Actions for Null {
        fn action(&self, _: &str, _: Value) -> BoxFuture<Result<Value, ActionError>> {
            Box::pin(async { Ok(Value::Null) })
        }
    }

    fn failed(retcode: i64, msg: &str) -> ActionError {
        ActionError::Failed { action: "set_group_ban".into(), retcode, msg: msg.into() }
    }

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn failures_map_retcodes_to_mirai_codes() {
        let body = failure("mute", failed(UNKNOWN_ACTION, "")).unwrap();
        assert_eq!(
            body,
            json!({"code": 6, "msg": "mute is not available over OneBot (the server has no action set_group_ban)"})
        );
        assert_eq!(
            failure("mute", failed(1400, "")).unwrap(),
            json!({"code": 400, "msg": "无效参数"})
        );
        assert_eq!(failure("mute", failed(1400, "x")).unwrap(), json!({"code": 400, "msg": "x"}));
        assert_eq!(
            failure("mute", failed(1200, "权限不足")).unwrap(),
            json!({"code": 500, "msg": "权限不足"})
        );
        let body = failure("mute", failed(100, "")).unwrap();
        assert_eq!(
            body,
            json!({"code": 500, "msg": "set_group_ban: the server answered retcode 100"})
        );
        let lost = ActionError::Call(CallError::Timeout {
            command: "set_group_ban".into(),
            after: Duration::from_secs(10),
        });
        let err = failure("mute", lost).unwrap_err();
        assert_eq!(err.command(), "mute");
        assert!(
            matches!(err, CallError::Timeout { after, .. } if after == Duration::from_secs(10))
        );
    }

    #[test]
    fn availability_is_one_table() {
        assert_eq!(availability("recall", None), Availability::Yes);
        assert!(matches!(
            availability("resp_newFriendRequestEvent", None),
            Availability::Partly(_)
        ));
        assert!(matches!(availability("cmd_execute", None), Availability::No(_)));
        assert!(matches!(availability("fetchMessage", None), Availability::No(_)));
        assert!(matches!(availability("groupConfig", None), Availability::No(_)));
        assert!(matches!(availability("groupConfig", Some("get")), Availability::Partly(_)));
        assert!(matches!(availability("recall", Some("get")), Availability::No(_)));
    }

    #[test]
    fn content_reads_numbers_and_skips_nulls() {
        let v = json!({"a": 5, "b": "6", "c": null, "d": "x", "e": true});
        let c = Content(&v);
        assert_eq!(c.long("a"), Some(5));
        assert_eq!(c.long("b"), Some(6));
        assert_eq!(c.long("c"), None);
        assert_eq!(c.text("d"), Some("x"));
        assert_eq!(c.flag("e"), Some(true));
        assert!(
            matches!(c.need("c"), Err(Stop::Refuse(StatusCode::InvalidArgument, m)) if m.ends_with(": c"))
        );
    }

    #[test]
    fn calls_can_be_spawned() {
        fn assert_send<T: Send>(_: &T) {}
        let contacts = Mutex::new(Contacts::new(1));
        let emit = |_: Value| {};
        let ctx = Ctx { api: &Null, contacts: &contacts, emit: &emit };
        let call = Call::new("recall", None, json!({"target": 1, "messageId": 2}));
        assert_send(&run(&call, &ctx));
        let up = Upload { command: "uploadImage".into(), fields: Vec::new(), files: Vec::new() };
        assert_send(&upload(&up, &ctx));
        assert_send(&load_contacts(&Null, &contacts));
    }

    #[tokio::test]
    async fn a_missing_action_is_remembered_until_the_next_connect() {
        struct Missing(Mutex<usize>);
        impl Actions for Missing {
            fn action(&self, action: &str, _: Value) -> BoxFuture<Result<Value, ActionError>> {
                *self.0.lock().unwrap() += 1;
                let e = ActionError::Failed {
                    action: action.to_owned(),
                    retcode: UNKNOWN_ACTION,
                    msg: String::new(),
                };
                Box::pin(async move { Err(e) })
            }
        }
        let api = Missing(Mutex::new(0));
        let contacts = Mutex::new(Contacts::new(1));
        for _ in 0..3 {
            let e = call_action(&api, &contacts, "x", json!({})).await.unwrap_err();
            assert!(e.is_unknown_action());
        }
        assert_eq!(*api.0.lock().unwrap(), 1);
        assert!(load_contacts(&api, &contacts).await.is_err());
        assert!(!lock(&contacts).action_missing("x"));
    }
}
