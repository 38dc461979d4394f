//! Answering friend, join and invitation requests.

use serde_json::json;

use super::{act, lock, ok, Content, Ctx, Outcome, Stop};
use crate::adapter::onebot::cache::{Request, RequestKind};
use crate::protocol::StatusCode;

pub(super) async fn respond(c: Content<'_>, ctx: &Ctx<'_>, kind: RequestKind) -> Outcome {
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
