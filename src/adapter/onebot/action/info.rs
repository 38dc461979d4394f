//! Who the bot is and whom it knows: about, login, the friend, group and member lists, profiles.

use std::sync::Mutex;

use serde_json::{json, Value};

use super::{act, call_action, data, int, items, lock, member, text, Content, Ctx, Outcome, Stop};
use crate::adapter::onebot::cache::{self, as_i64, Contacts};
use crate::adapter::onebot::{ActionError, Actions, UNKNOWN_ACTION};

pub(super) fn about(ctx: &Ctx<'_>) -> Value {
    let app = lock(ctx.contacts).app.clone();
    let version = if app.is_empty() {
        format!("{} (OneBot)", env!("CARGO_PKG_VERSION"))
    } else {
        format!("{} (OneBot {app})", env!("CARGO_PKG_VERSION"))
    };
    data(json!({ "version": version }))
}

/// The bot's id and nickname, from `get_login_info`.
pub(super) async fn login(ctx: &Ctx<'_>) -> Result<(i64, String), Stop> {
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
pub(super) async fn bot_id(ctx: &Ctx<'_>) -> Result<i64, Stop> {
    let known = lock(ctx.contacts).bot;
    if known != 0 {
        return Ok(known);
    }
    Ok(login(ctx).await?.0)
}

pub(super) fn learn_friends(contacts: &mut Contacts, list: &[Value]) {
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

pub(super) fn learn_groups(contacts: &mut Contacts, list: &[Value]) -> Vec<i64> {
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

/// How many groups' roles are asked for at once.
const ROLES_AT_ONCE: usize = 16;

/// Learn the bot's role in the groups where it is not known yet.
pub(super) async fn learn_roles(
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

pub(super) async fn friend_list(ctx: &Ctx<'_>) -> Outcome {
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

pub(super) async fn group_list(ctx: &Ctx<'_>) -> Outcome {
    let d = act(ctx, "get_group_list", json!({})).await?;
    let ids = learn_groups(&mut lock(ctx.contacts), items(&d, "groups"));
    match learn_roles(ctx.api, ctx.contacts, &ids).await {
        Ok(()) | Err(ActionError::Failed { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let contacts = lock(ctx.contacts);
    Ok(data(ids.iter().map(|id| contacts.group_json(*id)).collect()))
}

pub(super) async fn member_list(c: Content<'_>, ctx: &Ctx<'_>, latest: bool) -> Outcome {
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

pub(super) async fn profile(ctx: &Ctx<'_>, user: i64) -> Outcome {
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
