//! The HTTP polling adapter on its own: start-up errors, the poll, restarts.

mod common;

use std::time::Duration;

use common::{start_custom, Transport, REPORTER};
use mahua::adapter::http::{HttpAdapter, HttpOptions};
use mahua::adapter::{Adapter, Call, ConnectError, LinkEvent};
use mahua::config::Secret;
use mahua::sim::{Sim, SimConfig};
use serde_json::json;
use tokio::net::TcpListener;

fn about() -> Call {
    Call::new("about", None, json!({}))
}

#[tokio::test]
async fn a_wrong_key_or_bot_ends_start_up_with_a_clear_error() {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    let qq = sim.config().qq;
    let err =
        HttpAdapter::connect(HttpOptions::new(sim.http_url(), Secret::new("nope"), qq)).await.err();
    assert!(matches!(err, Some(ConnectError::WrongVerifyKey { .. })), "{err:?}");
    let key = Secret::new(sim.config().verify_key.clone());
    let err = HttpAdapter::connect(HttpOptions::new(sim.http_url(), key, 1)).await.err();
    assert!(matches!(err, Some(ConnectError::BotNotFound { qq: 1 })), "{err:?}");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let err =
        HttpAdapter::connect(HttpOptions::new(addr.to_string(), Secret::new("k"), 1)).await.err();
    let err = err.expect("nobody there");
    assert!(matches!(err, ConnectError::Unreachable { adapter: "http", .. }), "{err}");
    assert!(err.to_string().contains("http adapter"), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_burst_larger_than_one_poll_arrives_whole_and_in_order() {
    let script = format!(
        "local n, seen = 0, {{}}\n\
         bot.on('GroupMessage', function(ev)\n\
           n = n + 1\n\
           seen[n] = ev.messageChain[2].text\n\
           if n == 350 then mirai.sendFriendMessage({REPORTER}, table.concat(seen, ',')) end\n\
         end)\n"
    );
    let cfg = SimConfig { unread_queue_max: 1000, ..SimConfig::default() };
    let bot = start_custom(Transport::Http, cfg, &[("burst.lua", &script)], |_| {}).await;
    for i in 0..350 {
        bot.sim.group_message(700_001, 800_001, json!(i.to_string()));
    }
    let report = bot.wait_reports(1).await.remove(0);
    let want: Vec<String> = (0..350).map(|i| i.to_string()).collect();
    assert_eq!(report, want.join(","));
    bot.stop().await;
}

#[tokio::test]
async fn the_link_comes_back_after_the_server_restarts() {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    let addr = sim.addr();
    let cfg = sim.config().clone();
    let mut opts = HttpOptions::new(sim.http_url(), Secret::new(cfg.verify_key.clone()), cfg.qq);
    opts.poll_interval = Duration::from_millis(5);
    opts.max_backoff = Duration::from_millis(100);
    let (adapter, mut link) = HttpAdapter::connect(opts).await.expect("connects");
    assert_eq!(link.recv().await, Some(LinkEvent::Connected { gap: None }));
    sim.shutdown().await;
    let down = tokio::time::timeout(Duration::from_secs(10), link.recv()).await.expect("notices");
    assert!(matches!(down, Some(LinkEvent::Disconnected { .. })), "{down:?}");
    // The restarted server has forgotten the session: a new one is opened.
    let sim = Sim::start_on(addr, cfg).await.expect("sim again on the same port");
    let mut connected = false;
    while !connected {
        let ev =
            tokio::time::timeout(Duration::from_secs(10), link.recv()).await.expect("reconnects");
        connected = matches!(ev, Some(LinkEvent::Connected { gap: Some(_) }));
    }
    sim.friend_message(12345, json!("after the restart"));
    loop {
        let ev =
            tokio::time::timeout(Duration::from_secs(10), link.recv()).await.expect("polls again");
        if let Some(LinkEvent::Event(e)) = ev {
            assert_eq!(e.kind(), "FriendMessage");
            break;
        }
    }
    let body = adapter.call(about()).await.expect("answers after the restart");
    assert_eq!(body["code"], json!(0));
    adapter.shutdown().await;
    assert_eq!(sim.session_count(), 0, "the session was released");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_forgotten_session_is_renewed_and_the_call_goes_through() {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    let cfg = sim.config().clone();
    let mut opts = HttpOptions::new(sim.http_url(), Secret::new(cfg.verify_key.clone()), cfg.qq);
    // Poll rarely, so the call is what finds the session gone.
    opts.poll_interval = Duration::from_secs(3600);
    let (adapter, mut link) = HttpAdapter::connect(opts).await.expect("connects");
    assert_eq!(link.recv().await, Some(LinkEvent::Connected { gap: None }));
    let bind = sim.received().into_iter().find(|r| r.command == "bind").expect("bound");
    let key = bind.content["sessionKey"].as_str().expect("session key").to_owned();
    let released: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/release", sim.http_url()))
        .json(&json!({"sessionKey": key, "qq": cfg.qq}))
        .send()
        .await
        .expect("release")
        .json()
        .await
        .expect("json");
    assert_eq!(released["code"], json!(0));
    let body = adapter.call(about_with_session()).await.expect("renewed and answered");
    assert_eq!(body["code"], json!(0), "{body}");
    assert!(matches!(link.recv().await, Some(LinkEvent::Disconnected { .. })));
    assert!(matches!(link.recv().await, Some(LinkEvent::Connected { gap: Some(_) })));
    adapter.shutdown().await;
    sim.shutdown().await;
}

/// A call that needs a session (`about` does not).
fn about_with_session() -> Call {
    Call::new("friendList", None, json!({}))
}
