//! Friends and groups: deleting a friend, roles, mutes, leaving, group and member settings.

use serde_json::json;

use super::info::bot_id;
use super::{act, int, items, lock, ok, text, Content, Ctx, Outcome, Stop};
use crate::adapter::onebot::cache::{as_i64, Role};
use crate::adapter::onebot::{ActionError, UNKNOWN_ACTION};
use crate::protocol::StatusCode;

pub(super) async fn delete_friend(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
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
pub(super) enum Needs {
    /// An administrator or the owner.
    Operator,
    /// The owner.
    Owner,
}

/// Refuse with code 10 before any action when the bot's role in `group` is too low, as
/// mirai-api-http does; with code 5 when the bot is not in the group. A role the cache does
/// not know is asked for once; a server that cannot say leaves the decision to the action.
pub(super) async fn require_role(
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

pub(super) async fn ban(ctx: &Ctx<'_>, group: i64, user: i64, duration: i64) -> Outcome {
    require_role(ctx, group, Needs::Operator, Some(user)).await?;
    let params = json!({ "group_id": group, "user_id": user, "duration": duration });
    act(ctx, "set_group_ban", params).await?;
    Ok(ok())
}

pub(super) async fn quit(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
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

pub(super) async fn group_config(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
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

pub(super) async fn group_config_update(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
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

pub(super) async fn member_info(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
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

pub(super) async fn member_info_update(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
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
