//! The control API: push events and read what the bot did, over plain HTTP.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{lock, Inner, Sim};
use crate::protocol::Event;

/// Add the control routes to a router.
pub fn routes(app: Router<Arc<Inner>>) -> Router<Arc<Inner>> {
    app.route("/_sim/event", post(push_event))
        .route("/_sim/sent", get(sent))
        .route("/_sim/received", get(received))
        .route("/_sim/fault", post(fault))
}

/// `POST /_sim/fault`: make a fault, e.g. `{"fault": "restart"}`; see [`super::faults`].
///
/// Faults: `drop`, `forget`, `restart`, `close` (`code`, `reason`), `stall` (`command`,
/// `ms`), `raw` (`text`), `out_of_order` (`n`), `duplicate` (`on`), `clear`.
async fn fault(State(inner): State<Arc<Inner>>, body: Bytes) -> Json<Value> {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return Json(json!({ "code": 400, "msg": "not JSON" }));
    };
    let sim = Sim { inner };
    let str_of = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let int_of = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or_default();
    match v.get("fault").and_then(Value::as_str).unwrap_or_default() {
        "drop" => sim.drop_connections(),
        "forget" => sim.forget_sessions(),
        // This request is one the stopping server waits for: restart after answering it.
        "restart" => drop(tokio::spawn(async move {
            if let Err(e) = sim.restart().await {
                tracing::error!(target: "mahua::sim", "cannot listen again: {e}");
            }
        })),
        "close" => {
            let code = u16::try_from(int_of("code")).unwrap_or(1000);
            sim.close_sockets(code, &str_of("reason"));
        }
        "stall" => sim.stall(&str_of("command"), Duration::from_millis(int_of("ms"))),
        "raw" => {
            let n = sim.push_raw(&str_of("text"));
            return Json(json!({ "code": 0, "msg": "success", "sockets": n }));
        }
        "out_of_order" => sim.answer_out_of_order(usize::try_from(int_of("n")).unwrap_or(0)),
        "duplicate" => sim.duplicate_answers(v.get("on").and_then(Value::as_bool).unwrap_or(true)),
        "clear" => sim.clear_faults(),
        other => return Json(json!({ "code": 400, "msg": format!("unknown fault {other:?}") })),
    }
    Json(json!({ "code": 0, "msg": "success" }))
}

/// `POST /_sim/event`: push one event (or a list of them) to every session.
async fn push_event(State(inner): State<Arc<Inner>>, body: Bytes) -> Json<Value> {
    let Ok(parsed) = serde_json::from_slice::<Value>(&body) else {
        return Json(json!({ "code": 400, "msg": "not JSON" }));
    };
    let events = match parsed {
        Value::Array(items) => items,
        one => vec![one],
    };
    if events.iter().any(|e| !e.get("type").is_some_and(Value::is_string)) {
        return Json(json!({ "code": 400, "msg": "an event needs a string `type`" }));
    }
    let mut ids = Vec::new();
    for event in events {
        let is_message = Event(event.clone()).is_message();
        let id = inner.inject(event);
        ids.push(match (is_message, id) {
            (true, Some(id)) => json!({ "messageId": id }),
            (false, Some(id)) => json!({ "eventId": id }),
            _ => json!({}),
        });
    }
    let mut answer = json!({ "code": 0, "msg": "success" });
    if let [one] = ids.as_slice() {
        if let Some(o) = one.as_object() {
            for (k, v) in o {
                answer[k] = v.clone();
            }
        }
    } else {
        answer["results"] = Value::Array(ids);
    }
    Json(answer)
}

/// `GET /_sim/sent`: every message the bot sent.
async fn sent(State(inner): State<Arc<Inner>>) -> Json<Value> {
    Json(lock(&inner.log).sent.iter().map(super::SentMessage::to_json).collect())
}

/// `GET /_sim/received`: every command that arrived.
async fn received(State(inner): State<Arc<Inner>>) -> Json<Value> {
    let log = lock(&inner.log);
    Json(
        log.received
            .iter()
            .map(|r| json!({ "adapter": r.adapter, "command": r.command, "subCommand": r.sub_command, "content": r.content }))
            .collect(),
    )
}
