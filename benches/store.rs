//! `cargo bench --bench store`: how long `get`, `set` and `incr` take, p50 and p99, as the
//! store grows from a thousand keys to a million, on SQLite and, where `redis-server` is
//! installed, on Redis.
//!
//! Each call is timed as a script's call is served: the value is encoded to JSON text or
//! decoded from it, and the call goes through the store's connection. Knobs:
//! `STORE_SIZES=1000,100000` (keys), `STORE_OPS=20000` (calls timed per figure),
//! `STORE_BACKENDS=sqlite,redis`. Under `cargo test` it runs a small round as a smoke test.
//! The figures end with one JSON line.

#[path = "../tests/redis_support/mod.rs"]
mod redis_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mahua::config::Secret;
use mahua::store::{Backend, Conn, Entry, Number, Store, StoreConfig, Synchronous, Ttl};
use serde_json::json;

/// The namespace the keys live in, as one script's.
const NS: &str = "bench";

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A user's record, as bots keep them.
fn record(i: usize) -> serde_json::Value {
    json!({"name": format!("member {i}"), "points": i % 1000, "last": 1_700_000_000 + i})
}

/// Fill the store with `n` records (in big transactions, which is not what is timed).
fn fill(conn: &mut dyn Conn, from: usize, to: usize) {
    let mut chunk = Vec::with_capacity(10_000);
    for i in from..to {
        chunk.push(Entry {
            ns: NS.into(),
            key: format!("user:{i}"),
            value: record(i),
            expires_ms: None,
        });
        if chunk.len() == 10_000 {
            conn.import(&chunk).expect("fill");
            chunk.clear();
        }
    }
    conn.import(&chunk).expect("fill");
}

/// p50 and p99 of `times`.
fn percentiles(times: &mut [Duration]) -> (f64, f64) {
    times.sort_unstable();
    let at = |q: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((times.len() as f64 - 1.0) * q).round() as usize;
        times[i].as_secs_f64() * 1e6
    };
    (at(0.50), at(0.99))
}

/// Time `ops` calls of `f`, each with a random key index below `keys`.
fn time(ops: usize, keys: usize, mut f: impl FnMut(usize)) -> (f64, f64) {
    let mut times = Vec::with_capacity(ops);
    for _ in 0..ops {
        let i = fastrand::usize(..keys);
        let t = Instant::now();
        f(i);
        times.push(t.elapsed());
    }
    percentiles(&mut times)
}

/// One row per operation for a store holding `keys` records.
fn measure(conn: &mut dyn Conn, keys: usize, ops: usize) -> Vec<(&'static str, (f64, f64))> {
    let get = time(ops, keys, |i| {
        let text = conn.get(NS, &format!("user:{i}")).expect("get").expect("present");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        std::hint::black_box(v);
    });
    let set = time(ops, keys, |i| {
        let text = record(i + 1).to_string();
        conn.set(NS, &format!("user:{i}"), &text, Ttl::Forever).expect("set");
    });
    let incr = time(ops, keys, |i| {
        std::hint::black_box(conn.incr(NS, &format!("score:{i}"), Number::Int(1)).expect("incr"));
    });
    vec![("get", get), ("set", set), ("incr", incr)]
}

fn open(cfg: &StoreConfig, dir: &std::path::Path) -> Arc<Store> {
    Store::open(cfg, dir).expect("open the store")
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (sizes, ops) = if full { ("1000,100000,1000000", 20_000) } else { ("1000,3000", 300) };
    let sizes: Vec<usize> =
        env_list("STORE_SIZES", sizes).iter().map(|s| s.parse().expect("a size")).collect();
    let ops: usize = std::env::var("STORE_OPS").ok().and_then(|s| s.parse().ok()).unwrap_or(ops);
    let mut figures = Vec::new();
    let backends = env_list("STORE_BACKENDS", "sqlite,redis");
    let redis_installed = std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());

    println!("store bench: {ops} timed calls per figure, random keys, µs per call");
    println!("{:<8} {:>9} {:<5} {:>8} {:>8}", "backend", "keys", "call", "p50", "p99");
    for backend in &backends {
        let dir = tempfile::tempdir().expect("dir");
        let (_server, cfg) = match backend.as_str() {
            "sqlite" => (None, StoreConfig::default()),
            "redis" if redis_installed => {
                let server = redis_support::RedisServer::start();
                let cfg = StoreConfig {
                    backend: Backend::Redis,
                    url: Some(Secret::new(server.url())),
                    ..StoreConfig::default()
                };
                (Some(server), cfg)
            }
            "redis" => {
                println!("redis    (redis-server is not installed: tools/test-deps installs it)");
                continue;
            }
            other => panic!("unknown backend {other:?}: sqlite or redis"),
        };
        let store = open(&cfg, dir.path());
        let mut conn = store.connect().expect("connect");
        let mut filled = 0;
        let mut first: Option<Vec<(&str, (f64, f64))>> = None;
        for &keys in &sizes {
            fill(conn.as_mut(), filled, keys);
            filled = keys;
            let rows = measure(conn.as_mut(), keys, ops);
            for (call, (p50, p99)) in &rows {
                println!("{backend:<8} {keys:>9} {call:<5} {p50:>8.1} {p99:>8.1}");
                figures.push(json!({"backend": backend, "keys": keys, "call": call,
                                    "p50_us": p50, "p99_us": p99}));
            }
            if let Some(base) = &first {
                for ((call, (p50, _)), (_, (b50, _))) in rows.iter().zip(base) {
                    println!(
                        "{backend:<8} {keys:>9} {call:<5} p50 is {:.2}x the {}-key figure",
                        p50 / b50,
                        sizes[0]
                    );
                }
            } else {
                first = Some(rows);
            }
        }
        if backend == "sqlite" {
            let dir = tempfile::tempdir().expect("dir");
            let full = StoreConfig { synchronous: Synchronous::Full, ..StoreConfig::default() };
            let store = open(&full, dir.path());
            let mut conn = store.connect().expect("connect");
            fill(conn.as_mut(), 0, 1000);
            let (p50, p99) = time(ops.min(2000), 1000, |i| {
                conn.set(NS, &format!("user:{i}"), &record(i).to_string(), Ttl::Forever)
                    .expect("set");
            });
            println!(
                "{backend:<8} {:>9} {:<5} {p50:>8.1} {p99:>8.1}  (synchronous = \"full\")",
                1000, "set"
            );
            figures.push(json!({"backend": "sqlite, synchronous = full", "keys": 1000,
                                "call": "set", "p50_us": p50, "p99_us": p99}));
        }
    }
    println!("{}", json!({"bench": "store", "ops": ops, "figures": figures}));
}
