//! The admin endpoint: `/status` and `/metrics` for loopback peers or token holders only,
//! `mahua status`, and the error digest for the owner.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::connect_info::MockConnectInfo;
use common::{start, Bot, GOT_OR_BOOM, REPORTER, WITHIN};
use mahua::admin::{self, AdminError};
use mahua::config::Secret;
use mahua::metrics::Snapshot;
use serde_json::json;

async fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    (resp.status().as_u16(), resp.text().await.expect("body"))
}

async fn busy_bot() -> Bot {
    let bot = start(&[("echo.lua", GOT_OR_BOOM)]).await;
    bot.sim.friend_message(REPORTER, json!("hi"));
    bot.wait_report("got hi").await;
    bot
}

#[tokio::test]
async fn loopback_peers_read_status_and_metrics() {
    let bot = busy_bot().await;
    let server = admin::serve("127.0.0.1:0".parse().unwrap(), None, bot.metrics.clone())
        .await
        .expect("serves");
    let base = format!("http://{}", server.addr());
    let (code, body) = get(&format!("{base}/status"), None).await;
    assert_eq!(code, 200, "{body}");
    let snap: Snapshot = serde_json::from_str(&body).expect("a status");
    let echo = snap.scripts.iter().find(|s| s.name == "echo.lua").expect("echo.lua listed");
    assert_eq!(echo.events, 1);
    let (code, text) = get(&format!("{base}/metrics"), None).await;
    assert_eq!(code, 200);
    assert!(text.contains("mahua_script_events_total{script=\"echo.lua\"} 1"), "{text}");
    assert!(text.contains("mahua_connection_up 1"), "{text}");
    assert!(text.contains("# TYPE mahua_send_wait_seconds_sum counter"), "{text}");

    // `mahua status` prints it as a table.
    let url = base.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mahua"))
            .args(["status", "--config", "/nonexistent/mahua.toml", "--url", &url])
            .output()
            .expect("runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("echo.lua") && stdout.contains("connection  up"), "{stdout}");
    assert!(stdout.contains("sendFriendMessage 1"), "{stdout}");
    bot.stop().await;
}

/// Serve the admin routes as if every request came from `peer`.
async fn serve_as(peer: &str, token: Option<&str>, bot: &Bot) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    let app =
        admin::router(bot.metrics.clone(), token.map(Secret::new)).layer(MockConnectInfo(peer));
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn others_are_refused_without_the_token() {
    let bot = busy_bot().await;
    let open = serve_as("192.0.2.7:40000", None, &bot).await;
    let (code, body) = get(&format!("{open}/status"), None).await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(get(&format!("{open}/metrics"), Some("guess")).await.0, 403);

    let guarded = serve_as("192.0.2.7:40000", Some("s3cret"), &bot).await;
    assert_eq!(get(&format!("{guarded}/status"), None).await.0, 401);
    assert_eq!(get(&format!("{guarded}/status"), Some("wrong")).await.0, 401);
    let (code, body) = get(&format!("{guarded}/status"), Some("s3cret")).await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("echo.lua"));

    // Listening where others can reach it needs a token.
    let e = admin::serve("0.0.0.0:0".parse().unwrap(), None, bot.metrics.clone()).await;
    assert!(matches!(e, Err(AdminError::OpenWithoutToken { .. })), "{e:?}");
    assert!(e.unwrap_err().to_string().contains("token"));
    bot.stop().await;
}

#[tokio::test]
async fn the_owner_gets_a_batched_digest_of_errors() {
    const OWNER: i64 = 515_151;
    let bot = busy_bot().await;
    bot.sim.world(|w| w.add_friend(OWNER, "owner"));
    let interval = Duration::from_millis(500);
    let started = std::time::Instant::now();
    let digest = admin::digest::spawn(OWNER, interval, bot.metrics.clone(), bot.adapter.clone());
    for _ in 0..5 {
        bot.sim.friend_message(REPORTER, json!("boom"));
    }
    let to_owner = |s: &mahua::sim::Sim| {
        s.sent()
            .into_iter()
            .filter(|m| m.target == OWNER)
            .map(|m| common::text(&m.chain))
            .collect::<Vec<_>>()
    };
    let count = |digests: &[String]| -> u64 {
        digests
            .iter()
            .filter_map(|d| {
                let rest = &d[d.find("echo.lua: ")? + "echo.lua: ".len()..];
                rest.split(' ').next()?.parse::<u64>().ok()
            })
            .sum()
    };
    bot.sim
        .wait_for(WITHIN, "a digest of 5 errors", |s| count(&to_owner(s)) >= 5)
        .await
        .unwrap_or_else(|e| panic!("{e}: {:?}", to_owner(&bot.sim)));
    let digests = to_owner(&bot.sim);
    assert_eq!(count(&digests), 5, "{digests:?}");
    assert!(digests.iter().all(|d| d.contains("boom goes the script")), "{digests:?}");
    // At most one digest per interval.
    let intervals = started.elapsed().as_millis() / interval.as_millis() + 1;
    assert!(
        digests.len() as u128 <= intervals,
        "{} digests in {intervals} intervals",
        digests.len()
    );
    digest.abort();
    bot.stop().await;
}
