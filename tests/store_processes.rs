//! The store across real `mahua run` processes: a returned write survives `kill -9`, and
//! two processes on one store lose no increment.

mod common;
mod redis_support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{REPORTER, WITHIN};
use mahua::config::Secret;
use mahua::sim::{Sim, SimConfig};
use mahua::store::{Backend, Store, StoreConfig, SHARED};
use redis_support::RedisServer;

/// `mahua run` on the scripts in `dir`, against `sim`, with `env` on top.
fn mahua(sim: &Sim, dir: &Path, env: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mahua"));
    cmd.args(["run", "--config"])
        .arg(dir.join("no-such-mahua.toml"))
        .env("MAHUA_ADAPTER", "http")
        .env("MAHUA_URL", sim.http_url())
        .env("MAHUA_VERIFY_KEY", &sim.config().verify_key)
        .env("MAHUA_QQ", sim.config().qq.to_string())
        .env("MAHUA_SCRIPTS_DIR", dir)
        .env("MAHUA_DATA_DIR", dir.join("data"))
        .env("MAHUA_HOT_RELOAD", "false")
        .env("MAHUA_POLL_INTERVAL_MS", "10")
        .env("MAHUA_RUN_TIME_MS", "600000")
        .env("MAHUA_SEND_RATE", "0")
        .env("MAHUA_SEND_PER_CHAT_RATE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("mahua starts")
}

/// The numbers in the reports "stored N" so far.
fn stored(sim: &Sim) -> Vec<i64> {
    sim.sent()
        .iter()
        .filter(|m| m.target == REPORTER)
        .filter_map(|m| common::text(&m.chain).strip_prefix("stored ")?.parse().ok())
        .collect()
}

#[tokio::test]
async fn a_returned_set_survives_kill_9() {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    sim.world(|w| w.add_friend(REPORTER, "reporter"));
    let dir = common::script_dir(&[(
        "writer.lua",
        "local store = require('store')\n\
         bot.on('load', function()\n\
           for i = 1, 1000000 do\n\
             store.set('k' .. i, {n = i})\n\
             if i % 25 == 0 then mirai.sendFriendMessage(424242, 'stored ' .. i) end\n\
           end\n\
         end)\n",
    )]);
    let mut child = mahua(&sim, dir.path(), &[]);
    sim.wait_for(WITHIN, "200 keys stored", |s| stored(s).iter().any(|&n| n >= 200))
        .await
        .expect("the script writes");
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    let last = stored(&sim).into_iter().max().expect("a report");
    let store = Store::open(&StoreConfig::default(), &dir.path().join("data")).expect("open");
    let mut c = store.connect().expect("the database opens after the kill");
    for i in 1..=last {
        let v = c.get("writer", &format!("k{i}")).expect("read");
        assert_eq!(v, Some(format!("{{\"n\":{i}}}")), "k{i} was reported stored (up to {last})");
    }
    sim.shutdown().await;
}

/// Two `mahua run` processes each add 1 to one shared key 10 000 times.
async fn two_processes_count_to_20000(cfg: StoreConfig, env: &[(&str, String)]) {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    sim.world(|w| w.add_friend(REPORTER, "reporter"));
    let dir = common::script_dir(&[(
        "count.lua",
        "local store = require('store')\n\
         bot.on('load', function()\n\
           for i = 1, 10000 do store.shared.incr('hits') end\n\
           mirai.sendFriendMessage(424242, 'counted')\n\
         end)\n",
    )]);
    let mut a = mahua(&sim, dir.path(), env);
    let mut b = mahua(&sim, dir.path(), env);
    let done = |s: &Sim| s.count_sent(|m| common::text(&m.chain) == "counted") == 2;
    sim.wait_for(Duration::from_secs(120), "both processes to count", done)
        .await
        .expect("both count");
    for child in [&mut a, &mut b] {
        child.kill().expect("stop");
        child.wait().expect("reaped");
    }
    let store = Store::open(&cfg, &dir.path().join("data")).expect("open");
    let hits = store.connect().expect("connect").get(SHARED, "hits").expect("read");
    assert_eq!(hits.as_deref(), Some("20000"));
    sim.shutdown().await;
}

#[tokio::test]
async fn two_processes_on_redis_lose_no_increment() {
    let server = RedisServer::start();
    let cfg = StoreConfig {
        backend: Backend::Redis,
        url: Some(Secret::new(server.url())),
        ..StoreConfig::default()
    };
    let env = [("MAHUA_STORE_BACKEND", "redis".to_owned()), ("MAHUA_STORE_URL", server.url())];
    two_processes_count_to_20000(cfg, &env).await;
}

#[tokio::test]
async fn two_processes_on_one_sqlite_file_lose_no_increment() {
    two_processes_count_to_20000(StoreConfig::default(), &[]).await;
}

/// `mahua store …` with the data folder `data` and `env` on top; (success, stderr).
fn store_cmd(args: &[&str], data: &Path, env: &[(&str, String)]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mahua"))
        .arg("store")
        .args(args)
        .arg("--config")
        .arg(data.join("no-such-mahua.toml"))
        .env("MAHUA_DATA_DIR", data)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("mahua store runs");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn store_dump_and_load_move_the_data_from_sqlite_to_redis() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let sqlite = Store::open(&StoreConfig::default(), &data).expect("open");
    let mut c = sqlite.connect().expect("connect");
    c.set("echo", "count", "7", mahua::store::Ttl::Forever).expect("set");
    c.set(SHARED, "motd", "\"hi\"", mahua::store::Ttl::Forever).expect("set");
    let dump = dir.path().join("dump.jsonl");
    let (ok, err) = store_cmd(&["dump", "--out", &dump.display().to_string()], &data, &[]);
    assert!(ok, "{err}");
    assert!(err.contains("dumped 2 keys"), "{err}");

    let server = RedisServer::start();
    let env = [("MAHUA_STORE_BACKEND", "redis".to_owned()), ("MAHUA_STORE_URL", server.url())];
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"ns\":\"a\",\"key\":\"k\",\"value\":1}\n{\"ns\":\"a\"}\n")
        .expect("bad");
    let (ok, err) = store_cmd(&["load", &bad.display().to_string()], &data, &env);
    assert!(!ok, "a bad line fails the load");
    assert!(err.contains(&format!("{}:2:", bad.display())), "names the file and line: {err}");

    let (ok, err) = store_cmd(&["load", &dump.display().to_string()], &data, &env);
    assert!(ok, "{err}");
    assert!(err.contains("loaded 2 keys"), "{err}");
    let cfg = StoreConfig {
        backend: Backend::Redis,
        url: Some(Secret::new(server.url())),
        ..StoreConfig::default()
    };
    let redis = Store::open(&cfg, &data).expect("open");
    let mut r = redis.connect().expect("connect");
    assert_eq!(r.get("echo", "count").expect("get").as_deref(), Some("7"));
    assert_eq!(r.get(SHARED, "motd").expect("get").as_deref(), Some("\"hi\""));
    assert_eq!(r.get("a", "k").expect("get"), None, "nothing of the bad file was loaded");
}
