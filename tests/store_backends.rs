//! The store's backends, SQLite and a real Redis server, held to the same meaning.

mod redis_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mahua::config::Secret;
use mahua::store::{
    lines, Backend, Conn, Entry, Number, Store, StoreConfig, StoreError, Ttl, SHARED,
};
use redis_support::RedisServer;
use serde_json::json;

/// A store of each kind, with what keeps it alive.
struct Fixture {
    store: Arc<Store>,
    _dir: tempfile::TempDir,
    _redis: Option<RedisServer>,
}

fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&StoreConfig::default(), dir.path()).expect("open");
    Fixture { store, _dir: dir, _redis: None }
}

fn redis() -> Fixture {
    let server = RedisServer::start();
    let cfg = StoreConfig {
        backend: Backend::Redis,
        url: Some(Secret::new(server.url())),
        prefix: "test:".into(),
        ..StoreConfig::default()
    };
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&cfg, dir.path()).expect("open");
    Fixture { store, _dir: dir, _redis: Some(server) }
}

/// Run each test over both backends.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite { $( #[test] fn $name() { super::$name(&super::sqlite().store) } )* }
        mod on_redis { $( #[test] fn $name() { super::$name(&super::redis().store) } )* }
    };
}

both!(
    values_round_trip_per_namespace,
    a_ttl_expires_and_keep_keeps_it,
    incr_is_whole_until_it_is_not,
    incr_refuses_a_value_that_is_not_a_number,
    swap_writes_only_over_what_was_read,
    ranges_are_sorted_and_cut_by_prefix_limit_and_cursor,
    dump_and_load_round_trip,
    two_writers_lose_no_increment,
);

fn conn(store: &Store) -> Box<dyn Conn> {
    store.connect().expect("connect")
}

/// Wait until `cond` holds, for at most a few seconds.
fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn values_round_trip_per_namespace(store: &Store) {
    let mut c = conn(store);
    assert_eq!(c.get("a", "k").expect("get"), None);
    c.set("a", "k", r#"{"x":[1,2]}"#, Ttl::Forever).expect("set");
    c.set("b", "k", "2", Ttl::Forever).expect("set");
    c.set(SHARED, "k", "\"shared\"", Ttl::Forever).expect("set");
    assert_eq!(c.get("a", "k").expect("get").as_deref(), Some(r#"{"x":[1,2]}"#));
    assert_eq!(c.get("b", "k").expect("get").as_deref(), Some("2"));
    assert_eq!(c.get(SHARED, "k").expect("get").as_deref(), Some("\"shared\""));
    let mut other = conn(store);
    assert_eq!(other.get("a", "k").expect("get").as_deref(), Some(r#"{"x":[1,2]}"#));
    assert!(c.delete("a", "k").expect("delete"));
    assert!(!c.delete("a", "k").expect("delete again"));
    assert_eq!(other.get("a", "k").expect("get"), None);
    assert_eq!(c.namespaces().expect("namespaces"), vec![SHARED.to_owned(), "b".to_owned()]);
}

fn a_ttl_expires_and_keep_keeps_it(store: &Store) {
    let mut c = conn(store);
    c.set("t", "short", "1", Ttl::For(Duration::from_millis(30))).expect("set");
    c.set("t", "long", "1", Ttl::For(Duration::from_secs(600))).expect("set");
    c.incr("t", "long", Number::Int(1)).expect("incr keeps the ttl");
    c.swap("t", "long", Some("2"), Some("3"), Ttl::Keep).expect("swap keeps the ttl");
    let long = c.export("t", None, 10).expect("export");
    let left = long.iter().find(|e| e.key == "long").and_then(|e| e.expires_ms).expect("expiry");
    assert!(left > mahua::store::now_ms() + 590_000, "the ttl was kept");
    until("the short key to expire", || c.get("t", "short").expect("get").is_none());
    let keys: Vec<String> =
        c.range("t", "", None, 10, false).expect("range").into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, vec!["long"]);
    c.set("t", "long", "4", Ttl::Forever).expect("set clears the ttl");
    let e = c.export("t", None, 10).expect("export");
    assert_eq!(e[0].expires_ms, None);
}

fn incr_is_whole_until_it_is_not(store: &Store) {
    let mut c = conn(store);
    assert_eq!(c.incr("n", "k", Number::Int(1)).expect("incr"), Number::Int(1));
    assert_eq!(c.incr("n", "k", Number::Int(41)).expect("incr"), Number::Int(42));
    assert_eq!(c.incr("n", "k", Number::Int(-2)).expect("incr"), Number::Int(40));
    assert_eq!(c.incr("n", "k", Number::Float(0.5)).expect("incr"), Number::Float(40.5));
    assert_eq!(c.get("n", "k").expect("get").as_deref(), Some("40.5"));
    assert_eq!(c.incr("n", "f", Number::Float(1.25)).expect("incr"), Number::Float(1.25));
}

fn incr_refuses_a_value_that_is_not_a_number(store: &Store) {
    let mut c = conn(store);
    c.set("n", "s", "\"12\"", Ttl::Forever).expect("set");
    match c.incr("n", "s", Number::Int(1)) {
        Err(StoreError::NotANumber { key, found }) => {
            assert_eq!(key, "s");
            assert_eq!(found, "\"12\"");
        }
        other => panic!("expected NotANumber, got {other:?}"),
    }
    assert_eq!(c.get("n", "s").expect("get").as_deref(), Some("\"12\""), "left as it was");
}

fn swap_writes_only_over_what_was_read(store: &Store) {
    let mut c = conn(store);
    assert!(c.swap("s", "k", None, Some("1"), Ttl::Keep).expect("create"));
    assert!(!c.swap("s", "k", None, Some("2"), Ttl::Keep).expect("stale create"));
    assert!(!c.swap("s", "k", Some("0"), Some("2"), Ttl::Keep).expect("stale"));
    assert!(c.swap("s", "k", Some("1"), Some("2"), Ttl::Keep).expect("fresh"));
    assert_eq!(c.get("s", "k").expect("get").as_deref(), Some("2"));
    assert!(c.swap("s", "k", Some("2"), None, Ttl::Keep).expect("delete"));
    assert_eq!(c.get("s", "k").expect("get"), None);
    assert!(c.range("s", "", None, 10, false).expect("range").is_empty());
}

fn ranges_are_sorted_and_cut_by_prefix_limit_and_cursor(store: &Store) {
    let mut c = conn(store);
    for k in ["user:3", "user:1", "user:10", "usex", "team:1", "user:2"] {
        c.set("r", k, &format!("\"{k}\""), Ttl::Forever).expect("set");
    }
    c.set("r", "user:9", "1", Ttl::For(Duration::from_millis(1))).expect("set");
    until("user:9 to expire", || c.get("r", "user:9").expect("get").is_none());
    let keys = |c: &mut Box<dyn Conn>, p: &str, after: Option<&str>, n: usize| -> Vec<String> {
        c.range("r", p, after, n, false).expect("range").into_iter().map(|(k, _)| k).collect()
    };
    assert_eq!(keys(&mut c, "user:", None, 100), ["user:1", "user:10", "user:2", "user:3"]);
    assert_eq!(keys(&mut c, "user:", None, 2), ["user:1", "user:10"]);
    assert_eq!(keys(&mut c, "user:", Some("user:10"), 100), ["user:2", "user:3"]);
    assert_eq!(keys(&mut c, "", Some("user:3"), 100), ["usex"]);
    assert_eq!(keys(&mut c, "nobody", None, 100), Vec::<String>::new());
    let with = c.range("r", "team", None, 10, true).expect("range");
    assert_eq!(with, vec![("team:1".to_owned(), Some("\"team:1\"".to_owned()))]);
}

fn dump_and_load_round_trip(store: &Store) {
    let mut c = conn(store);
    c.set("a", "x", r#"{"deep":{"list":[1,"two",null,true]}}"#, Ttl::Forever).expect("set");
    c.set("a", "y", "1.5", Ttl::For(Duration::from_secs(3600))).expect("set");
    c.set(SHARED, "z", "\"z\"", Ttl::Forever).expect("set");
    let mut out = Vec::new();
    assert_eq!(lines::dump(c.as_mut(), &mut out).expect("dump"), 3);
    let text = String::from_utf8(out).expect("utf-8");
    let entries: Vec<Entry> =
        text.lines().map(|l| serde_json::from_str(l).expect("an entry per line")).collect();
    assert_eq!(
        entries[0],
        Entry { ns: String::new(), key: "z".into(), value: json!("z"), expires_ms: None }
    );
    assert_eq!(entries[1].value, json!({"deep": {"list": [1, "two", null, true]}}));
    assert!(entries[2].expires_ms.is_some());

    let target = sqlite();
    let mut t = conn(&target.store);
    let bad = format!("{}\nnot json\n", text.lines().next().expect("a line"));
    match lines::load(t.as_mut(), &mut bad.as_bytes(), "dump.jsonl") {
        Err(e @ lines::LinesError::Bad { line: 2, .. }) => {
            assert!(e.to_string().starts_with("dump.jsonl:2:"), "{e}");
        }
        other => panic!("expected a bad line 2, got {other:?}"),
    }
    assert!(t.namespaces().expect("namespaces").is_empty(), "a bad line loads nothing");
    assert_eq!(lines::load(t.as_mut(), &mut text.as_bytes(), "dump.jsonl").expect("load"), 3);
    let mut again = Vec::new();
    lines::dump(t.as_mut(), &mut again).expect("dump again");
    let back: Vec<Entry> = String::from_utf8(again)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("entry"))
        .collect();
    assert_eq!(back.len(), 3);
    assert_eq!(back[1], entries[1]);
    let drift = (back[2].expires_ms.expect("kept") - entries[2].expires_ms.expect("had")).abs();
    assert!(drift < 1000, "expiry kept within a second, drifted {drift} ms");
}

fn two_writers_lose_no_increment(store: &Store) {
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut c = conn(store);
                for _ in 0..500 {
                    c.incr(SHARED, "hits", Number::Int(1)).expect("incr");
                }
            });
        }
    });
    assert_eq!(conn(store).get(SHARED, "hits").expect("get").as_deref(), Some("1000"));
}

#[test]
fn a_corrupt_database_names_its_file() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("store.sqlite3");
    std::fs::write(&file, vec![b'x'; 8192]).expect("garbage");
    let store = Store::open(&StoreConfig::default(), dir.path()).expect("open");
    let e = store.connect().err().expect("refused");
    assert!(matches!(e, StoreError::Sqlite { .. }), "{e:?}");
    assert!(e.to_string().contains(&file.display().to_string()), "{e}");
}

#[test]
fn a_locked_database_names_its_file_after_the_timeout() {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = StoreConfig { timeout_ms: 50, ..StoreConfig::default() };
    let store = Store::open(&cfg, dir.path()).expect("open");
    let mut c = store.connect().expect("connect");
    c.set("a", "k", "1", Ttl::Forever).expect("set");
    let file = dir.path().join("store.sqlite3");
    let holder = rusqlite::Connection::open(&file).expect("open");
    holder.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let e = c.set("a", "k", "2", Ttl::Forever).expect_err("locked");
    assert!(e.to_string().contains(&file.display().to_string()), "{e}");
    assert!(e.to_string().contains("locked"), "{e}");
    holder.execute_batch("ROLLBACK").expect("unlock");
    c.set("a", "k", "2", Ttl::Forever).expect("works again");
}

#[test]
fn redis_keys_sit_under_the_prefix() {
    let server = RedisServer::start();
    let cfg = StoreConfig {
        backend: Backend::Redis,
        url: Some(Secret::new(server.url())),
        prefix: "bots:one:".into(),
        ..StoreConfig::default()
    };
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&cfg, dir.path()).expect("open");
    store.connect().expect("connect").set("echo", "count", "1", Ttl::Forever).expect("set");
    let client = redis::Client::open(server.url()).expect("client");
    let mut raw = client.get_connection().expect("raw connection");
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut raw).expect("keys");
    keys.sort();
    assert_eq!(keys, ["bots:one:echo", "bots:one:echo/count"]);
}

#[test]
fn redis_down_is_an_error_that_names_redis() {
    let server = RedisServer::start();
    let url = server.url();
    let cfg = StoreConfig {
        backend: Backend::Redis,
        url: Some(Secret::new(url.clone())),
        timeout_ms: 500,
        ..StoreConfig::default()
    };
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&cfg, dir.path()).expect("open");
    let mut c = store.connect().expect("connect");
    c.set("a", "k", "1", Ttl::Forever).expect("set");
    drop(server);
    let e = c.get("a", "k").expect_err("down");
    assert!(e.to_string().contains("redis"), "{e}");
}
