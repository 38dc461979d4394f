//! The `store` module as scripts use it, over SQLite and over a real Redis server.

mod common;
mod redis_support;

use common::{start, start_custom, Bot, Transport, REPORTER};
use mahua::config::Secret;
use mahua::sim::SimConfig;
use mahua::store::{Backend, Store, StoreConfig};
use redis_support::RedisServer;

/// A script that runs `body` at load and reports each `say(...)` to the reporter.
fn script(body: &str) -> String {
    format!(
        "local store = require('store')\n\
         local function say(...) local t = {{}} for i = 1, select('#', ...) do t[i] = tostring(select(i, ...)) end\n\
           mirai.sendFriendMessage({REPORTER}, table.concat(t, ' ')) end\n\
         bot.on('load', function()\n{body}\nend)\n"
    )
}

/// The whole API, in one script: reports what a bot owner would check by hand.
const API: &str = r#"
  store.set("visits", 1, {ttl = 3600})
  say("incr", store.incr("visits"), store.incr("visits", 10), store.incr("ratio", 0.5))
  store.set("user:2", {name = "bo"})
  store.set("user:1", {name = "al"})
  store.set("user:10", {name = "cy"})
  store.set("other", true)
  say("keys", table.concat(store.keys(), ","))
  say("prefix", table.concat(store.keys("user:"), ","), table.concat(store.keys("user:", 2), ","), #store.keys(1), #store.keys(nil, 2))
  local names = {}
  for k, v in store.scan("user:") do names[#names + 1] = k .. "=" .. v.name end
  say("scan", table.concat(names, ","))
  say("update", store.update("visits", function(old) return old * 2 end), store.get("visits"))
  local ok, err = pcall(store.update, "visits", function(old) error("no thanks") end)
  say("failed update", ok, tostring(err):find("no thanks") ~= nil, store.get("visits"))
  say("update nil", store.update("new", function(old) return (old or 0) + 1 end))
  say("delete", store.delete("other"), store.delete("other"), store.get("other", "gone"))
  store.set("user:1", nil)
  say("set nil", store.get("user:1"))
  local ok2, e2 = pcall(store.incr, "user:2")
  say("incr refused", ok2, e2)
  local ok3, e3 = pcall(store.set, "k", 1, {ttl = 0})
  say("bad ttl", ok3, e3)
"#;

async fn api_on(bot: Bot) {
    let reports = bot.wait_reports(12).await;
    let want = [
        "incr 2 12 0.5",
        "keys other,ratio,user:1,user:10,user:2,visits",
        "prefix user:1,user:10,user:2 user:1,user:10 1 2",
        "scan user:1=al,user:10=cy,user:2=bo",
        "update 24 24",
        "failed update false true 24",
        "update nil 1",
        "delete true false gone",
        "set nil nil",
    ];
    for (got, want) in reports.iter().zip(want) {
        assert_eq!(got, want);
    }
    assert!(reports[9].starts_with("incr refused false"), "{}", reports[9]);
    assert!(reports[9].contains("store.incr: \"user:2\" holds {"), "{}", reports[9]);
    assert!(reports[10].contains("ttl must be a number of seconds > 0, got 0"), "{}", reports[10]);
    bot.stop().await;
}

#[tokio::test]
async fn the_api_works_on_sqlite() {
    let src = script(&format!("{API}\n say('done')"));
    api_on(start(&[("api.lua", &src)]).await).await;
}

#[tokio::test]
async fn the_api_works_on_redis() {
    let server = RedisServer::start();
    let src = script(&format!("{API}\n say('done')"));
    let url = server.url();
    let bot = start_custom(Transport::Ws, SimConfig::default(), &[("api.lua", &src)], |o| {
        let cfg = StoreConfig {
            backend: Backend::Redis,
            url: Some(Secret::new(url)),
            ..StoreConfig::default()
        };
        o.store = Some(Store::open(&cfg, &o.data_dir).expect("open"));
    })
    .await;
    api_on(bot).await;
}

#[tokio::test]
async fn scripts_share_only_the_shared_namespace() {
    let a = script(
        "store.set('mine', 'a') store.shared.set('common', 'from a') store.shared.incr('n')\n\
         say('a wrote')",
    );
    let b = script(
        "bot.wait('FriendMessage', nil, 10)\n\
         store.shared.incr('n')\n\
         say('b sees', store.get('mine', 'nothing'), store.shared.get('common'), store.shared.get('n'),\n\
             table.concat(store.shared.keys(), ','))",
    );
    let bot = start(&[("a.lua", &a), ("b.lua", &b)]).await;
    bot.wait_report("a wrote").await;
    bot.sim.friend_message(REPORTER, serde_json::json!("go"));
    bot.wait_report("b sees nothing from a 2 common,n").await;
    bot.stop().await;
}

#[tokio::test]
async fn values_json_cannot_hold_are_refused_naming_the_key_and_the_place() {
    let src = script(
        r#"
  local ok, e = pcall(store.set, "cfg", {a = {list = {1, print}}})
  say(e)
  local t = {name = "loop"}
  t.inner = {back = t}
  ok, e = pcall(store.set, "loop", t)
  say(e)
  ok, e = pcall(store.update, "cfg", function() return {f = coroutine.create(print)} end)
  say(e)
  say("cfg", store.get("cfg", "untouched"))
"#,
    );
    let bot = start(&[("bad.lua", &src)]).await;
    let r = bot.wait_reports(4).await;
    assert!(
        r[0].contains(
            r#"store.set: cannot store "cfg": a function has no JSON form at .a.list[2]"#
        ),
        "{}",
        r[0]
    );
    assert!(
        r[1].contains(
            r#"store.set: cannot store "loop": a table that contains itself at .inner.back"#
        ),
        "{}",
        r[1]
    );
    assert!(
        r[2].contains(r#"store.update: cannot store "cfg": a thread has no JSON form at .f"#),
        "{}",
        r[2]
    );
    assert_eq!(r[3], "cfg untouched");
    bot.stop().await;
}

#[tokio::test]
async fn an_old_store_json_is_imported_once_and_kept_beside() {
    let src = script(
        "say('old', store.get('count'), store.get('who').name, table.concat(store.keys(), ','))",
    );
    let dir = common::script_dir(&[]);
    let data = dir.path().join("data").join("legacy");
    std::fs::create_dir_all(&data).expect("data folder");
    std::fs::write(data.join("store.json"), r#"{"count": 41, "who": {"name": "ann"}}"#)
        .expect("old file");
    let data_dir = dir.path().join("data");
    let bot = start_custom(Transport::Ws, SimConfig::default(), &[("legacy.lua", &src)], |o| {
        o.data_dir = data_dir;
    })
    .await;
    bot.wait_report("old 41 ann count,who").await;
    assert!(!data.join("store.json").exists(), "moved aside");
    assert!(data.join("store.json.bak").is_file(), "kept as a backup");
    bot.stop().await;
}

#[tokio::test]
async fn a_corrupt_database_is_an_error_naming_the_file_and_the_script_keeps_running() {
    let src = script(
        "bot.on('FriendMessage', function() say('still here') end)\n\
         local ok, e = pcall(store.set, 'k', 1)\n\
         say('set', ok, e)",
    );
    let dir = common::script_dir(&[]);
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir).expect("data");
    std::fs::write(data_dir.join("store.sqlite3"), vec![b'x'; 8192]).expect("garbage");
    let file = data_dir.join("store.sqlite3").display().to_string();
    let bot = start_custom(Transport::Ws, SimConfig::default(), &[("c.lua", &src)], |o| {
        o.data_dir = data_dir;
    })
    .await;
    let r = bot.wait_reports(1).await;
    assert!(r[0].starts_with("set false"), "{}", r[0]);
    assert!(r[0].contains("store.set: "), "{}", r[0]);
    assert!(r[0].contains(&file), "{} names {file}", r[0]);
    bot.sim.friend_message(REPORTER, serde_json::json!("hello"));
    bot.wait_report("still here").await;
    bot.stop().await;
}

#[tokio::test]
async fn a_script_waiting_on_a_locked_database_holds_up_no_other_script() {
    let a = script(
        "bot.on('FriendMessage', function() store.set('k', 1) say('a stored') end)\n\
         store.set('ready', true)\n\
         say('a ready')",
    );
    let b = script("bot.on('FriendMessage', function() say('b answered') end) say('b ready')");
    let dir = common::script_dir(&[]);
    let data_dir = dir.path().join("data");
    let file = data_dir.join("store.sqlite3");
    let bot =
        start_custom(Transport::Ws, SimConfig::default(), &[("a.lua", &a), ("b.lua", &b)], |o| {
            o.data_dir = data_dir.clone();
            let cfg = StoreConfig { timeout_ms: 30_000, ..StoreConfig::default() };
            o.store = Some(Store::open(&cfg, &data_dir).expect("open"));
        })
        .await;
    bot.wait_report("a ready").await;
    bot.wait_report("b ready").await;
    let holder = rusqlite::Connection::open(&file).expect("open");
    holder.execute_batch("BEGIN EXCLUSIVE").expect("lock the database");
    bot.sim.friend_message(REPORTER, serde_json::json!("hi"));
    bot.wait_report("b answered").await;
    assert!(!bot.reports().contains(&"a stored".to_owned()), "a waits for the lock");
    holder.execute_batch("ROLLBACK").expect("unlock");
    bot.wait_report("a stored").await;
    bot.stop().await;
}
