//! The control API: push events and read what the bot did, over plain HTTP.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{lock, Inner};
use crate::protocol::Event;

/// Add the control routes to a router.
pub fn routes(app: Router<Arc<Inner>>) -> Router<Arc<Inner>> {
    app.route("/_sim/event", post(push_event))
        .route("/_sim/sent", get(sent))
        .route("/_sim/received", get(received))
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
