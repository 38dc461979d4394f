//! The `store` and `http` modules, from scripts.

mod common;

use axum::routing::{get, post};
use axum::Router;
use common::{start, Bot, REPORTER};
use mahua::host::HostEvent;

#[tokio::test]
async fn the_store_keeps_values_across_reloads() {
    let v1 = format!(
        "local store = require('store')\n\
         bot.on('load', function()\n\
           store.set('count', 41)\n\
           store.set('who', {{name = 'ann', ids = {{1, 2}}}})\n\
           store.set('gone', true)\n\
           store.delete('gone')\n\
           mirai.sendFriendMessage({REPORTER}, 'v1 stored')\n\
         end)\n"
    );
    let v2 = format!(
        "local store = require('store')\n\
         bot.on('load', function()\n\
           store.set('count', store.get('count') + 1)\n\
           local who = store.get('who')\n\
           mirai.sendFriendMessage({REPORTER}, table.concat({{store.get('count'), who.name, who.ids[2],\n\
             tostring(store.get('gone')), store.get('missing', 'dflt'), table.concat(store.keys(), ',')}}, ' '))\n\
         end)\n"
    );
    let mut bot: Bot = start(&[("keep.lua", &v1)]).await;
    bot.wait_report("v1 stored").await;
    bot.write("keep.lua", &v2);
    bot.wait_host(HostEvent::Reloaded("keep.lua".into())).await;
    bot.wait_report("42 ann 2 nil dflt count,who").await;
    let data = bot.dir.path().join("data");
    let store =
        mahua::store::Store::open(&mahua::store::StoreConfig::default(), &data).expect("open");
    let saved = store.connect().expect("connect").get("keep", "count").expect("read");
    assert_eq!(saved.as_deref(), Some("42"));
    assert!(data.join("store.sqlite3").is_file(), "one database in the data folder");
    bot.stop().await;
}

/// A small web server for scripts to call.
async fn web() -> String {
    let app = Router::new()
        .route("/hello", get(|| async { "hello from the web" }))
        .route("/echo", post(|body: String| async move { format!("got {body}") }))
        .route("/big", get(|| async { "x".repeat(2 << 20) }))
        .route("/slow", get(std::future::pending::<String>));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn http_calls_wait_without_blocking_and_fail_clearly() {
    let base = web().await;
    let script = format!(
        "local http = require('http')\n\
         bot.on('load', function()\n\
           local r = http.get('{base}/hello')\n\
           mirai.sendFriendMessage({REPORTER}, r.status .. ' ' .. r.body .. ' ' .. r.headers['content-type'])\n\
           local p = http.post('{base}/echo', 'ping', {{headers = {{['x-test'] = '1'}}}})\n\
           mirai.sendFriendMessage({REPORTER}, p.body)\n\
           local j = http.post('{base}/echo', nil, {{json = {{a = 1}}}})\n\
           mirai.sendFriendMessage({REPORTER}, j.body)\n\
           local ok, e = pcall(http.get, '{base}/big')\n\
           mirai.sendFriendMessage({REPORTER}, 'big ' .. tostring(e))\n\
           local ok2, e2 = pcall(http.get, '{base}/slow', {{timeout = 0.2}})\n\
           mirai.sendFriendMessage({REPORTER}, 'slow ' .. tostring(e2))\n\
         end)\n\
         bot.on('FriendMessage', function(ev) mirai.sendFriendMessage({REPORTER}, 'still answering') end)\n"
    );
    let bot = start(&[("web.lua", &script)]).await;
    bot.wait_report("200 hello from the web text/plain; charset=utf-8").await;
    bot.wait_report("got ping").await;
    bot.wait_report("got {\"a\":1}").await;
    // While the slow call waits, the script's other callbacks still run.
    bot.sim.friend_message(12345, serde_json::json!("hi"));
    bot.wait_report("still answering").await;
    let reports = bot.wait_reports(6).await;
    let big = reports.iter().find(|r| r.starts_with("big ")).expect("big");
    assert!(big.contains("larger than 1048576 bytes"), "{big}");
    let slow = reports.iter().find(|r| r.starts_with("slow ")).expect("slow");
    assert!(slow.starts_with("slow ") && slow.contains("http.get"), "{slow}");
    bot.stop().await;
}
