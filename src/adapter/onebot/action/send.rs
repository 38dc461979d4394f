//! Sending messages: chains, image urls and nudges, and the sent message kept in the cache.

use serde_json::{json, Value};

use super::{act, act_or, data, lock, member, ok, Content, Ctx, Outcome, Stop};
use crate::adapter::onebot::cache::{self, as_i64, Contacts, Role};
use crate::adapter::onebot::message as msg;
use crate::protocol::StatusCode;

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum To {
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

pub(super) async fn send_chain(c: Content<'_>, ctx: &Ctx<'_>, to: To) -> Outcome {
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
                ("send_private_forward_msg", object! { "user_id": user, "messages": nodes })
            }
            To::Group(group) => {
                ("send_group_forward_msg", object! { "group_id": group, "messages": nodes })
            }
            To::Temp { group, qq } => (
                "send_private_forward_msg",
                object! { "user_id": qq, "group_id": group, "messages": nodes },
            ),
        }
    } else {
        let segments = msg::from_chain(chain, quote).map_err(unsendable)?;
        if segments.iter().all(|s| s["type"] == "reply") {
            return Err(Stop::Refuse(StatusCode::ServerError, "message is empty".to_owned()));
        }
        match to {
            To::Friend(user) => {
                ("send_private_msg", object! { "user_id": user, "message": segments })
            }
            To::Group(group) => {
                ("send_group_msg", object! { "group_id": group, "message": segments })
            }
            To::Temp { group, qq } => (
                "send_private_msg",
                object! { "user_id": qq, "group_id": group, "message": segments },
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

/// A message the bot sent, as the cache keeps it: a `…SyncMessage` packet with the chain,
/// written straight as JSON text from the borrowed chain (no packet is built for a send).
fn sent_message(
    contacts: &Contacts,
    to: To,
    id: i64,
    chain: &[Value],
    quoted: Option<&cache::Message>,
) -> cache::Message {
    let time = cache::now();
    let quote = quoted.map(|q| {
        let mut origin = q.chain();
        origin.retain(|e| e["type"] != "Source" && e["type"] != "Quote");
        let (target, group) = match to {
            To::Group(g) => (g, g),
            _ => (to.conversation(), 0),
        };
        object! {
            "type": "Quote", "id": q.id, "senderId": q.author, "targetId": target,
            "groupId": group, "origin": origin,
        }
    });
    let kept = || chain.iter().filter(|e| e["type"] != "Source" && e["type"] != "Quote");
    let (kind, subject) = match to {
        To::Friend(user) => ("FriendSyncMessage", contacts.friend_json(user, "")),
        To::Group(group) => ("GroupSyncMessage", contacts.group_json(group)),
        To::Temp { group, qq } => ("TempSyncMessage", member(contacts, group, qq)),
    };
    let (conversation, group, bot) = (to.conversation(), to.group(), contacts.bot);
    let floats = quote.as_ref().is_some_and(cache::has_float) || kept().any(cache::has_float);
    if !floats {
        use std::io::Write as _;
        let mut json = Vec::with_capacity(256);
        let head = write!(
            json,
            r#"{{"type":"{kind}","subject":{subject},"messageChain":[{{"type":"Source","id":{id},"time":{time}}}"#
        );
        let mut element = |e: &Value| {
            json.push(b',');
            serde_json::to_writer(&mut json, e).is_ok()
        };
        let written = head.is_ok() && quote.iter().all(&mut element) && kept().all(element);
        if written {
            json.extend_from_slice(b"]}");
            return cache::Message::from_json(id, conversation, group, bot, time, json);
        }
    }
    let mut message_chain = vec![json!({ "type": "Source", "id": id, "time": time })];
    message_chain.extend(quote);
    message_chain.extend(kept().cloned());
    let packet = object! { "type": kind, "messageChain": message_chain, "subject": subject };
    cache::Message::new(id, conversation, group, bot, time, &packet)
}

pub(super) async fn send_images(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
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

pub(super) async fn nudge(c: Content<'_>, ctx: &Ctx<'_>) -> Outcome {
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
