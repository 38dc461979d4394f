//! The ceiling: minimal Rust clients with no Lua that answer every ping with a pong,
//! run in a child process as mahua is.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::server::GROUP;

/// The pong for a pushed event, if it is a ping.
fn pong_chain(event: &Value) -> Option<Value> {
    let n = event["messageChain"][1]["text"].as_str()?.strip_prefix("ping ")?;
    Some(json!([{"type": "Plain", "text": format!("pong {n}")}]))
}

/// Echo over ws until the server goes away.
pub async fn ws(url: String) {
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(url, None, true).await.expect("connect");
    let _session = ws.next().await;
    let mut sync = 0u64;
    while let Some(Ok(msg)) = ws.next().await {
        let Message::Text(text) = msg else { continue };
        let v: Value = serde_json::from_str(&text).expect("json");
        if v["syncId"] != "-1" {
            continue;
        }
        let Some(chain) = pong_chain(&v["data"]) else { continue };
        sync += 1;
        let frame = json!({"syncId": sync.to_string(), "command": "sendGroupMessage", "subCommand": null,
            "content": {"target": GROUP, "messageChain": chain}});
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
