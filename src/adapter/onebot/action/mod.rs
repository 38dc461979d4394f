//! mirai-api-http calls into OneBot actions, and their answers back.
//!
//! Every call a script makes (a mirai-api-http command with its content) becomes the OneBot
//! action(s) that do the same, and the OneBot answer becomes the body the real
//! mirai-api-http server would give. What OneBot cannot do answers code 6 and says so; a
//! failure the server reports becomes a code ≠ 0 body; only a call that got no answer at all
//! is an `Err`. Checks that need no server (an unknown request handle, the bot muted or the
//! owner leaving its own group) answer from the contact cache without any action.

mod announcements;
mod files;
mod groups;
mod history;
mod info;
mod requests;
mod send;
mod uploads;

use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{json, Value};

use super::cache::{as_i64, Contacts, RequestKind};
use super::{ActionError, Actions, UNKNOWN_ACTION};
use crate::adapter::{Call, CallError, Upload};
use crate::protocol::StatusCode;
use announcements::{anno_list, anno_publish};
use groups::{
    ban, delete_friend, group_config, group_config_update, member_info, member_info_update, quit,
    require_role, Needs,
};
use history::{checked_message, message_from_id, roaming};
use info::{
    about, bot_id, friend_list, group_list, learn_friends, learn_groups, learn_roles, login,
    member_list, profile,
};
use requests::respond;
use send::{nudge, send_chain, send_images, To};
use uploads::upload_inner;

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

/// An upload (uploadImage/uploadVoice/uploadShortVideo → a local answer whose id is "base64://…" of the bytes (or the url field when given), so sending that id back works; file_upload → upload_group_file with file "base64://…", name, folder).
pub async fn upload(upload: &Upload, ctx: &Ctx<'_>) -> Result<Value, CallError> {
    let command = upload.command.as_str();
    match upload_inner(upload, ctx).await {
        Ok(v) => Ok(v),
        Err(Stop::Refuse(code, text)) => Ok(code.state_with(&text)),
        Err(Stop::Action(e)) => failure(command, e),
    }
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
