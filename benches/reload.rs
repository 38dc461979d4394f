//! Reload latency and the memory an idle script costs.
//!
//! `cargo bench --bench reload` prints the figures as text and one JSON line.
//! Under `cargo test` it runs a couple of rounds only, to prove it works.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mahua::adapter::ws::{WsAdapter, WsOptions};
use mahua::adapter::Adapter;
use mahua::config::Secret;
use mahua::host::{HostEvent, HostOptions, RunningHost};
use mahua::sim::{Sim, SimConfig};
use serde_json::json;

const FRIEND: i64 = 4242;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn script(v: usize) -> String {
    format!("bot.on('FriendMessage', function(ev) mirai.sendFriendMessage({FRIEND}, 'v{v}') end)\n")
}

async fn connect(sim: &Sim, dir: &std::path::Path) -> (RunningHost, Arc<WsAdapter>) {
    let cfg = sim.config();
    let opts = WsOptions::new(sim.ws_url(), Secret::new(cfg.verify_key.clone()), cfg.qq);
    let (adapter, link) = WsAdapter::connect(opts).await.expect("connect");
    let dyn_adapter: Arc<dyn Adapter> = adapter.clone();
    let mut o = HostOptions::new(dir);
    o.data_dir = dir.join("data");
    let (host, ready) = RunningHost::spawn(o, dyn_adapter, link);
    ready.await.expect("ready");
    (host, adapter)
}

/// From a file's write to the first event the new version answers.
async fn reload_latencies(rounds: usize) -> Vec<Duration> {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    sim.world(|w| w.add_friend(FRIEND, "f"));
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("r.lua");
    std::fs::write(&file, script(0)).expect("write");
    let (host, adapter) = connect(&sim, dir.path()).await;
    let mut out = Vec::new();
    for v in 1..=rounds {
        let want = format!("v{v}");
        let started = Instant::now();
        std::fs::write(&file, script(v)).expect("write");
        loop {
            let before = sim.sent().len();
            sim.friend_message(FRIEND, json!("ping"));
            let answered = sim
                .wait_for(Duration::from_secs(5), "an answer", |s| s.sent().len() > before)
                .await;
            answered.expect("the script answers");
            let sent = sim.sent();
            if sent[before..].iter().any(|m| mahua::protocol::chain::text(&m.chain) == want) {
                out.push(started.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    host.stop().await;
    adapter.shutdown().await;
    sim.shutdown().await;
    out
}

/// RSS growth per loaded, idle script.
async fn idle_cost(scripts: usize) -> (u64, u64) {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    let empty = tempfile::tempdir().expect("dir");
    let (host, adapter) = connect(&sim, empty.path()).await;
    host.stop().await;
    adapter.shutdown().await;
    let base = rss_kib();
    let dir = tempfile::tempdir().expect("dir");
    for i in 0..scripts {
        std::fs::write(dir.path().join(format!("s{i}.lua")), script(i)).expect("write");
    }
    let (mut host, adapter) = connect(&sim, dir.path()).await;
    let loaded = rss_kib();
    while host.events.try_recv().is_ok_and(|e| matches!(e, HostEvent::Loaded(_))) {}
    host.stop().await;
    adapter.shutdown().await;
    sim.shutdown().await;
    (base, loaded)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let rounds = if full { 20 } else { 2 };
    let scripts = if full { 50 } else { 3 };
    let mut lat = rt.block_on(reload_latencies(rounds));
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = ms(lat[lat.len() / 2]);
    let worst = ms(lat[lat.len() - 1]);
    let (base, loaded) = rt.block_on(idle_cost(scripts));
    let per_script = loaded.saturating_sub(base) as f64 / scripts as f64;
    println!("reload latency (write to first event answered by the new version, {rounds} rounds, 50 ms debounce):");
    println!("  median {median:.1} ms, worst {worst:.1} ms");
    println!("idle scripts: RSS {base} KiB with none, {loaded} KiB with {scripts}: {per_script:.0} KiB per script");
    println!(
        "{}",
        json!({"bench": "reload", "rounds": rounds, "median_ms": median, "worst_ms": worst,
               "scripts": scripts, "rss_base_kib": base, "rss_loaded_kib": loaded, "kib_per_script": per_script})
    );
}
