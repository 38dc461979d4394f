//! Latency from an event the server pushes to the script's reply reaching the server,
//! over WebSocket and over HTTP polling at the default poll interval.
//!
//! `cargo bench --bench latency` prints the figures as text and one JSON line.
//! Under `cargo test` it runs a couple of rounds only, to prove it works.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mahua::adapter::http::{HttpAdapter, HttpOptions};
use mahua::adapter::ws::{WsAdapter, WsOptions};
use mahua::adapter::{Adapter, LinkEvent};
use mahua::config::Secret;
use mahua::host::{HostOptions, RunningHost};
use mahua::sim::{Sim, SimConfig};
use serde_json::json;
use tokio::sync::mpsc;

const ECHO: &str =
    "bot.on('FriendMessage', function(ev) mirai.sendFriendMessage(ev.sender.id, 'pong') end)\n";

async fn connect(http: bool, sim: &Sim) -> (Arc<dyn Adapter>, mpsc::Receiver<LinkEvent>) {
    let key = Secret::new(sim.config().verify_key.clone());
    let qq = sim.config().qq;
    if http {
        let (a, l) =
            HttpAdapter::connect(HttpOptions::new(sim.http_url(), key, qq)).await.expect("connect");
        (a as Arc<dyn Adapter>, l)
    } else {
        let (a, l) =
            WsAdapter::connect(WsOptions::new(sim.ws_url(), key, qq)).await.expect("connect");
        (a as Arc<dyn Adapter>, l)
    }
}

async fn latencies(http: bool, rounds: usize) -> Vec<Duration> {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("echo.lua"), ECHO).expect("write");
    let (adapter, link) = connect(http, &sim).await;
    let mut opts = HostOptions::new(dir.path());
    opts.data_dir = dir.path().join("data");
    opts.hot_reload = false;
    let (host, ready) = RunningHost::spawn(opts, adapter.clone(), link);
    ready.await.expect("ready");
    let mut out = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let before = sim.sent().len();
        let started = Instant::now();
        sim.friend_message(12345, json!(format!("ping {i}")));
        sim.wait_for(Duration::from_secs(5), "the reply", |s| s.sent().len() > before)
            .await
            .expect("reply");
        out.push(started.elapsed());
        // Spread the events over a whole poll cycle instead of locking onto its phase.
        tokio::time::sleep(Duration::from_millis(fastrand::u64(0..250))).await;
    }
    host.stop().await;
    adapter.shutdown().await;
    sim.shutdown().await;
    out
}

fn summary(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let p = |q: f64| ms(v[((v.len() - 1) as f64 * q).round() as usize]);
    (p(0.5), p(0.99), ms(v[v.len() - 1]))
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { 200 } else { 3 };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let (ws50, ws99, wsmax) = summary(rt.block_on(latencies(false, rounds)));
    let (h50, h99, hmax) = summary(rt.block_on(latencies(true, rounds)));
    println!("event pushed to reply received, {rounds} events each (echo script):");
    println!("  ws:                   p50 {ws50:.2} ms, p99 {ws99:.2} ms, max {wsmax:.2} ms");
    println!("  http (poll 200 ms):   p50 {h50:.2} ms, p99 {h99:.2} ms, max {hmax:.2} ms");
    println!(
        "{}",
        json!({"bench": "latency", "events": rounds,
               "ws": {"p50_ms": ws50, "p99_ms": ws99, "max_ms": wsmax},
               "http_poll_200ms": {"p50_ms": h50, "p99_ms": h99, "max_ms": hmax}})
    );
}
