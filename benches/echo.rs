//! Echo throughput over WebSocket: a load generator plays the server, pushes
//! `GroupMessage` events ("ping N") and counts the `sendGroupMessage` replies
//! ("pong N"), against mahua running a Lua echo script and against a bare Rust
//! client with no Lua (the ceiling).
//!
//! `cargo bench --bench echo` prints the figures as text and one JSON line.
//! Under `cargo test` it runs a few hundred events only, to prove it works.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use mahua::adapter::ws::{WsAdapter, WsOptions};
use mahua::adapter::Adapter;
use mahua::config::Secret;
use mahua::host::{HostOptions, RunningHost};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

const GROUP: i64 = 100_000;
const ECHO: &str = "bot.on('GroupMessage', function(ev)\n  \
    mirai.sendGroupMessage(ev.sender.group.id, 'pong ' .. ev.messageChain[2].text:sub(6))\nend)\n";
const IDLE: &str = "bot.on('GroupMessage', function(ev) end)\n";

fn event(n: u64) -> String {
    json!({"syncId": "-1", "data": {
        "type": "GroupMessage",
        "messageChain": [{"type": "Source", "id": n, "time": 0}, {"type": "Plain", "text": format!("ping {n}")}],
        "sender": {"id": 42, "memberName": "m", "specialTitle": "", "permission": "MEMBER",
                   "joinTimestamp": 0, "lastSpeakTimestamp": 0, "muteTimeRemaining": 0,
                   "group": {"id": GROUP, "name": "g", "permission": "MEMBER"}, "active": null}
    }})
    .to_string()
}

/// Accept one client, push `total` events keeping at most `window` unanswered, answer its
/// sends, and return the time from the first push to the last reply.
async fn play_server(listener: TcpListener, total: u64, window: u64) -> Duration {
    let (tcp, _) = listener.accept().await.expect("accept");
    tcp.set_nodelay(true).expect("nodelay");
    let mut ws = tokio_tungstenite::accept_async(tcp).await.expect("handshake");
    ws.send(Message::text(
        json!({"syncId": "", "data": {"code": 0, "session": "BENCH000"}}).to_string(),
    ))
    .await
    .expect("session");
    let (mut sink, mut stream) = ws.split();
    let started = Instant::now();
    let (mut sent, mut answered) = (0u64, 0u64);
    let mut out: VecDeque<String> = VecDeque::new();
    while answered < total {
        while sent < total && sent - answered < window {
            out.push_back(event(sent));
            sent += 1;
        }
        while let Some(frame) = out.pop_front() {
            sink.feed(Message::text(frame)).await.expect("push");
        }
        sink.flush().await.expect("flush");
        let Some(Ok(Message::Text(text))) = stream.next().await else { break };
        let v: Value = serde_json::from_str(&text).expect("json");
        if v["command"] == "sendGroupMessage" {
            answered += 1;
            let reply = json!({"syncId": v["syncId"], "data": {"code": 0, "msg": "success", "messageId": answered}});
            sink.feed(Message::text(reply.to_string())).await.expect("answer");
        }
    }
    started.elapsed()
}

/// The ceiling: a Rust client that answers every ping with a pong, no Lua.
async fn bare_client(url: String) {
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
        let n = v["data"]["messageChain"][1]["text"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("ping ")
            .to_owned();
        sync += 1;
        let frame = json!({"syncId": sync.to_string(), "command": "sendGroupMessage", "subCommand": null,
            "content": {"target": GROUP, "messageChain": [{"type": "Plain", "text": format!("pong {n}")}]}});
        if ws.send(Message::text(frame.to_string())).await.is_err() {
            return;
        }
    }
}

/// Events per second for mahua with one echo script and `idle` scripts subscribed but silent.
async fn mahua_rate(total: u64, window: u64, idle: usize) -> f64 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(play_server(listener, total, window));
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("echo.lua"), ECHO).expect("write");
    for i in 0..idle {
        std::fs::write(dir.path().join(format!("idle{i}.lua")), IDLE).expect("write");
    }
    let (adapter, link) =
        WsAdapter::connect(WsOptions::new(format!("ws://{addr}"), Secret::new("k"), 1))
            .await
            .expect("connect");
    let mut opts = HostOptions::new(dir.path());
    opts.hot_reload = false;
    opts.data_dir = dir.path().join("data");
    let dyn_adapter: Arc<dyn Adapter> = adapter.clone();
    let (host, ready) = RunningHost::spawn(opts, dyn_adapter, link);
    ready.await.expect("ready");
    let took = server.await.expect("server");
    host.stop().await;
    adapter.shutdown().await;
    total as f64 / took.as_secs_f64()
}

async fn bare_rate(total: u64, window: u64) -> f64 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(play_server(listener, total, window));
    let client = tokio::spawn(bare_client(format!("ws://{addr}/all")));
    let took = server.await.expect("server");
    client.abort();
    let _ = TcpStream::connect(addr).await;
    total as f64 / took.as_secs_f64()
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (total, window) = if full { (50_000, 64) } else { (300, 16) };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let bare = rt.block_on(bare_rate(total, window));
    let mut rows = Vec::new();
    for scripts in [1usize, 10, 50] {
        let rate = rt.block_on(mahua_rate(total, window, scripts - 1));
        rows.push((scripts, rate));
    }
    println!("closed-loop echo over ws, {total} events, {window} outstanding at most:");
    println!("  bare Rust client (no Lua): {bare:.0} events/s");
    for (scripts, rate) in &rows {
        println!(
            "  mahua, {scripts:>2} script(s) subscribed: {rate:.0} events/s ({:.0}% of bare)",
            rate / bare * 100.0
        );
    }
    let mahua: Vec<Value> = rows
        .iter()
        .map(|(s, r)| json!({"scripts": s, "events_per_s": r, "ratio": r / bare}))
        .collect();
    println!(
        "{}",
        json!({"bench": "echo", "events": total, "window": window, "bare_events_per_s": bare, "mahua": mahua})
    );
}
