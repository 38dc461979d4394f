//! The ceiling: minimal Rust clients with no Lua that answer every ping with a pong,
//! run in a child process as mahua is.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::server::{Dialect, GROUP};

/// The pong for a pushed event, if it is a ping.
fn pong_chain(event: &Value) -> Option<Value> {
    let n = event["messageChain"][1]["text"].as_str()?.strip_prefix("ping ")?;
    Some(json!([{"type": "Plain", "text": format!("pong {n}")}]))
}

/// The frame that answers a pushed ws frame, if it is a ping; `id` tags the call.
fn pong_frame(dialect: Dialect, pushed: &Value, id: u64) -> Option<Value> {
    match dialect {
        Dialect::Mirai => {
            if pushed["syncId"] != "-1" {
                return None;
            }
            let chain = pong_chain(&pushed["data"])?;
            Some(
                json!({"syncId": id.to_string(), "command": "sendGroupMessage", "subCommand": null,
                "content": {"target": GROUP, "messageChain": chain}}),
            )
        }
        Dialect::OneBot => {
            if pushed["post_type"] != "message" {
                return None;
            }
            let n = pushed["message"][0]["data"]["text"].as_str()?.strip_prefix("ping ")?;
            let message = json!([{"type": "text", "data": {"text": format!("pong {n}")}}]);
            Some(
                json!({"action": "send_group_msg", "params": {"group_id": GROUP, "message": message},
                "echo": id.to_string()}),
            )
        }
    }
}

/// Echo over ws, speaking `dialect`, until the server goes away.
pub async fn ws(url: String, dialect: Dialect) {
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(url, None, true).await.expect("connect");
    let mut id = 0u64;
    while let Some(Ok(msg)) = ws.next().await {
        let Message::Text(text) = msg else { continue };
        let v: Value = serde_json::from_str(&text).expect("json");
        let Some(frame) = pong_frame(dialect, &v, id + 1) else { continue };
        id += 1;
        if ws.send(Message::text(frame.to_string())).await.is_err() {
            return;
        }
    }
}

/// Echo over http polling, fetching as mahua does: at most `count` per poll, a full
/// batch fetched again at once, otherwise a pause of `interval`.
pub async fn http(base: String, count: usize, interval: Duration) {
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| client.post(format!("{base}{path}")).json(&body).send();
    let verify: Value = post("/verify", json!({"verifyKey": "k"}))
        .await
        .expect("verify")
        .json()
        .await
        .expect("json");
    let session = verify["session"].as_str().expect("session").to_owned();
    post("/bind", json!({"sessionKey": session, "qq": 1})).await.expect("bind");
    loop {
        let Ok(reply) = client
            .get(format!("{base}/fetchMessage?count={count}"))
            .header("sessionKey", &session)
            .send()
            .await
        else {
            return;
        };
        let Ok(body) = reply.json::<Value>().await else { return };
        let events = body["data"].as_array().cloned().unwrap_or_default();
        // The replies go out side by side, as mahua's callbacks send theirs.
        let sends = events.iter().filter_map(pong_chain).map(|chain| {
            let body = json!({"target": GROUP, "messageChain": chain});
            client
                .post(format!("{base}/sendGroupMessage"))
                .header("sessionKey", &session)
                .json(&body)
                .send()
        });
        if futures_util::future::join_all(sends).await.iter().any(Result::is_err) {
            return;
        }
        if events.len() < count {
            tokio::time::sleep(interval).await;
        }
    }
}
