//! Messages already said: checking recall and essence targets, messageFromId, roamingMessages.

use serde_json::{json, Value};

use super::{act, data, int, items, lock, Content, Ctx, Outcome, Stop};
use crate::adapter::onebot::cache;
use crate::adapter::onebot::{event, ActionError, UNKNOWN_ACTION};
use crate::protocol::StatusCode;

/// The `messageId` of a recall or essence call, checked against the cache: a cached message
/// of another conversation (or, for essence, not of a group) is code 5.
pub(super) fn checked_message(
    c: Content<'_>,
    ctx: &Ctx<'_>,
    group_only: bool,
) -> Result<i64, Stop> {
    let (target, id) = (c.need("target")?, c.need("messageId")?);
    let contacts = lock(ctx.contacts);
    if let Some(m) = contacts.message(id) {
        if m.conversation != target || (group_only && m.group != Some(target)) {
            return Err(Stop::not_found());
        }
    }
    Ok(id)
}

pub(super) async fn message_from_id(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
    let (target, id) = (c.need("target")?, c.need("messageId")?);
    let cached = lock(ctx.contacts).message(id).cloned();
    if let Some(m) = cached {
        return if m.conversation == target {
            Ok(data(m.packet()))
        } else {
            Err(Stop::not_found())
        };
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
    let packet = m.packet();
    contacts.remember_message(m);
    Ok(data(packet))
}

/// How many messages one history page asks for.
const HISTORY_PAGE: i64 = 100;

/// At most this many history pages per `roamingMessages`.
const HISTORY_PAGES: usize = 20;

pub(super) async fn roaming(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
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
    Ok(data(found.into_iter().map(|m| m.packet()).collect()))
}
