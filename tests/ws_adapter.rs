//! The WebSocket adapter on its own: start-up errors, timeouts, reconnects.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mahua::adapter::ws::{WsAdapter, WsOptions};
use mahua::adapter::{Adapter, Call, CallError, ConnectError, LinkEvent};
use mahua::config::Secret;
use mahua::sim::{Sim, SimConfig};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

fn about() -> Call {
    Call::new("about", None, json!({}))
}

#[tokio::test]
async fn a_wrong_key_or_bot_ends_start_up_with_a_clear_error() {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    let qq = sim.config().qq;
    let wrong = WsAdapter::connect(WsOptions::new(sim.ws_url(), Secret::new("nope"), qq)).await;
    let err = wrong.err().expect("refused");
    assert!(matches!(err, ConnectError::WrongVerifyKey { .. }), "{err}");
    assert!(err.to_string().contains("verify_key"));

    let key = Secret::new(sim.config().verify_key.clone());
    let unknown = WsAdapter::connect(WsOptions::new(sim.ws_url(), key, 1)).await;
    let err = unknown.err().expect("refused");
    assert!(matches!(err, ConnectError::BotNotFound { qq: 1 }), "{err}");
    assert!(err.to_string().contains("qq"));

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let nobody = WsAdapter::connect(WsOptions::new(format!("{addr}"), Secret::new("k"), 1)).await;
    assert!(matches!(nobody.err(), Some(ConnectError::Unreachable { .. })));
    sim.shutdown().await;
}

/// A server that opens a session and then never answers.
async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else { return };
                let first = json!({"syncId": "", "data": {"code": 0, "session": "SILENT00"}});
                let _ = ws.send(Message::text(first.to_string())).await;
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    (format!("ws://{addr}"), task)
}

#[tokio::test]
async fn a_call_without_an_answer_times_out_naming_the_command() {
    let (url, server) = silent_server().await;
    let mut opts = WsOptions::new(url, Secret::new("k"), 1);
    opts.call_timeout = Duration::from_millis(100);
    let (adapter, _link) = WsAdapter::connect(opts).await.expect("connects");
    let err = adapter.call(about()).await.expect_err("no answer");
    assert!(matches!(err, CallError::Timeout { .. }));
    assert!(err.to_string().starts_with("about:"), "{err}");
    adapter.shutdown().await;
    server.abort();
}

#[tokio::test]
async fn the_link_comes_back_after_the_server_restarts() {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    let addr = sim.addr();
    let cfg = sim.config().clone();
    let mut opts = WsOptions::new(sim.ws_url(), Secret::new(cfg.verify_key.clone()), cfg.qq);
    opts.max_backoff = Duration::from_millis(200);
    let (adapter, mut link) = WsAdapter::connect(opts).await.expect("connects");
    assert_eq!(link.recv().await, Some(LinkEvent::Connected { gap: None }));
    sim.shutdown().await;
    let down = tokio::time::timeout(Duration::from_secs(10), link.recv()).await.expect("notices");
    assert!(matches!(down, Some(LinkEvent::Disconnected { .. })), "{down:?}");
    let sim = Sim::start_on(addr, cfg).await.expect("sim again on the same port");
    let up = tokio::time::timeout(Duration::from_secs(10), link.recv()).await.expect("reconnects");
    assert!(matches!(up, Some(LinkEvent::Connected { gap: Some(_) })), "{up:?}");
    let body = adapter.call(about()).await.expect("answers after the restart");
    assert_eq!(body["code"], json!(0));
    adapter.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn check_reports_every_broken_script_with_file_and_line() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("syntax.lua"), "bot.on('x', function()\n").expect("write");
    std::fs::write(dir.path().join("raises.lua"), "local x = 1\nerror('boom')\n").expect("write");
    std::fs::write(dir.path().join("fine.lua"), "bot.on('FriendMessage', function() end)\n")
        .expect("write");
    let (count, errors) = mahua::host::check(dir.path()).await.expect("checks");
    assert_eq!(count, 3);
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 2, "{text:?}");
    assert!(text[0].contains("raises.lua:2: boom"), "{}", text[0]);
    assert!(text[1].contains("syntax.lua:2"), "{}", text[1]);
}
