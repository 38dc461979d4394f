//! Faults: the server drops, restarts, stalls, reorders, repeats and talks nonsense, and the
//! bot keeps running, tells its scripts, and answers afterwards.

mod common;
mod sim_support;

use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use common::{start_custom, start_on, Bot, Transport, REPORTER, WITHIN};
use mahua::adapter::http::{HttpAdapter, HttpOptions};
use mahua::adapter::onebot::{Mode, OneBotAdapter, OneBotOptions};
use mahua::adapter::ws::{WsAdapter, WsOptions};
use mahua::adapter::{Adapter, Call, CallError, LinkEvent};
use mahua::config::Secret;
use mahua::sim::{Sim, SimConfig};
use serde_json::json;
use sim_support::{Got, Ws};
use tokio::sync::mpsc;

/// A script that reports the link's ups and downs and answers every friend message.
const PING: &str = r"
local msg = require('msg')
local R = 424242
bot.on('connect', function(e) mirai.sendFriendMessage(R, e.gap and 'connect again' or 'connect first') end)
bot.on('disconnect', function() mirai.sendFriendMessage(R, 'disconnect') end)
bot.on('FriendMessage', function(ev)
  if ev.sender.id ~= R then mirai.sendFriendMessage(R, 'pong ' .. msg.text(ev.messageChain)) end
end)
bot.on('*', function(ev)
  if ev.type ~= 'FriendMessage' then mirai.sendFriendMessage(R, 'saw ' .. tostring(ev.type)) end
end)
";

const FRIEND: i64 = 12345;

/// Wait until `cond` holds, checking it every few milliseconds, for at most [`WITHIN`].
async fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + WITHIN;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How many reports equal `text`.
fn count(bot: &Bot, text: &str) -> usize {
    bot.reports().iter().filter(|r| *r == text).count()
}

/// Wait until `text` was reported at least `n` times.
async fn wait_count(bot: &Bot, text: &str, n: usize) {
    let want = text.to_owned();
    bot.sim
        .wait_for(WITHIN, &format!("{n} × {text:?}"), move |s| {
            s.count_sent(|m| m.target == REPORTER && common::text(&m.chain) == want) >= n
        })
        .await
        .unwrap_or_else(|e| panic!("{e}; reports: {:?}", bot.reports()));
}

/// Send a friend message and wait for the bot's pong.
async fn ping(bot: &Bot, text: &str) {
    bot.sim.friend_message(FRIEND, json!(text));
    bot.wait_report(&format!("pong {text}")).await;
}

async fn ping_bot(t: Transport) -> Bot {
    let bot = start_on(t, &[("ping.lua", PING)]).await;
    bot.wait_report("connect first").await;
    bot
}

fn about() -> Call {
    Call::new("about", None, json!({}))
}

/// An adapter to `sim` whose calls give up after `timeout`, with its link.
async fn adapter(
    t: Transport,
    sim: &Sim,
    timeout: Duration,
) -> (Arc<dyn Adapter>, mpsc::Receiver<LinkEvent>) {
    let key = Secret::new(sim.config().verify_key.clone());
    let qq = sim.config().qq;
    match t {
        Transport::Ws => {
            let mut opts = WsOptions::new(sim.ws_url(), key, qq);
            opts.call_timeout = timeout;
            opts.max_backoff = Duration::from_millis(200);
            let (a, link) = WsAdapter::connect(opts).await.expect("connects");
            (a as Arc<dyn Adapter>, link)
        }
        Transport::Http | Transport::HttpV1 => {
            let mut opts = HttpOptions::new(sim.http_url(), key, qq);
            opts.call_timeout = timeout;
            opts.poll_interval = Duration::from_millis(5);
            opts.max_backoff = Duration::from_millis(200);
            let (a, link) = HttpAdapter::connect(opts).await.expect("connects");
            (a as Arc<dyn Adapter>, link)
        }
        Transport::OneBot => {
            let mode = Mode::Forward { url: sim.onebot_url() };
            let mut opts = OneBotOptions::new(mode, Some(Secret::new(common::ONEBOT_TOKEN)));
            opts.call_timeout = timeout;
            opts.max_backoff = Duration::from_millis(200);
            let (a, link) = OneBotAdapter::connect(opts).await.expect("connects");
            (a as Arc<dyn Adapter>, link)
        }
        Transport::OneBotReverse => {
            let listen = "127.0.0.1:0".parse().expect("address");
            let mode = Mode::Reverse { listen };
            let mut opts = OneBotOptions::new(mode, Some(Secret::new(common::ONEBOT_TOKEN)));
            opts.call_timeout = timeout;
            let (a, link) = OneBotAdapter::connect(opts).await.expect("listens");
            let url = format!("ws://{}/", a.listening().expect("bound"));
            sim.connect_reverse(&url, Some(common::ONEBOT_TOKEN.into()), Duration::from_millis(50));
            (a as Arc<dyn Adapter>, link)
        }
    }
}

/// Read the link until `want` says yes.
async fn wait_link(link: &mut mpsc::Receiver<LinkEvent>, what: &str, want: fn(&LinkEvent) -> bool) {
    loop {
        let ev = tokio::time::timeout(WITHIN, link.recv())
            .await
            .unwrap_or_else(|_| panic!("no {what} on the link"))
            .expect("link open");
        if want(&ev) {
            return;
        }
    }
}

fn is_down(ev: &LinkEvent) -> bool {
    matches!(ev, LinkEvent::Disconnected { .. })
}

fn is_up(ev: &LinkEvent) -> bool {
    matches!(ev, LinkEvent::Connected { gap: Some(_) })
}

// --- links dropped and servers restarted ---

async fn dropped_links_come_back(t: Transport) {
    let bot = ping_bot(t).await;
    for round in 1..=3 {
        match t {
            Transport::Ws => bot.sim.drop_connections(),
            _ => bot.sim.forget_sessions(),
        }
        wait_count(&bot, "disconnect", round).await;
        wait_count(&bot, "connect again", round).await;
        ping(&bot, &format!("after drop {round}")).await;
    }
    // One disconnect and one connect per drop: the scripts are not told twice.
    assert_eq!(count(&bot, "disconnect"), 3, "{:?}", bot.reports());
    assert_eq!(count(&bot, "connect again"), 3, "{:?}", bot.reports());
    bot.stop().await;
}

#[tokio::test]
async fn a_dropped_ws_link_comes_back_and_the_scripts_hear_of_it() {
    dropped_links_come_back(Transport::Ws).await;
}

#[tokio::test]
async fn a_forgotten_http_session_is_renewed_and_the_scripts_hear_of_it() {
    dropped_links_come_back(Transport::Http).await;
}

async fn restarts_give_new_sessions(t: Transport) {
    let bot = ping_bot(t).await;
    let key = |sim: &Sim| -> Vec<String> {
        sim.received()
            .iter()
            .filter(|r| r.command == "bind")
            .filter_map(|r| r.content["sessionKey"].as_str().map(str::to_owned))
            .collect()
    };
    for round in 1..=2 {
        if round == 1 {
            bot.sim.restart().await.expect("restarts");
        } else {
            // The same through the control API.
            let url = format!("{}/_sim/fault", bot.sim.http_url());
            let posted = reqwest::Client::new().post(url).json(&json!({"fault": "restart"}));
            assert!(posted.send().await.expect("posted").status().is_success());
        }
        wait_count(&bot, "connect again", round).await;
        ping(&bot, &format!("after restart {round}")).await;
    }
    assert_eq!(count(&bot, "disconnect"), 2, "{:?}", bot.reports());
    if t == Transport::Http {
        let keys = key(&bot.sim);
        assert_eq!(keys.len(), 3, "one session per start: {keys:?}");
        assert!(keys[0] != keys[1] && keys[1] != keys[2], "{keys:?}");
    }
    bot.stop().await;
}

#[tokio::test]
async fn after_a_ws_server_restart_the_bot_reconnects_with_a_new_session() {
    restarts_give_new_sessions(Transport::Ws).await;
}

#[tokio::test]
async fn after_an_http_server_restart_the_bot_opens_a_new_session() {
    restarts_give_new_sessions(Transport::Http).await;
}

#[tokio::test]
async fn odd_close_codes_are_a_lost_link_and_the_bot_comes_back() {
    let bot = ping_bot(Transport::Ws).await;
    for (round, code) in [(1, 1001), (2, 1011), (3, 3000), (4, 4999)] {
        bot.sim.close_sockets(code, "odd");
        wait_count(&bot, "connect again", round).await;
        ping(&bot, &format!("after close {code}")).await;
    }
    bot.stop().await;
}

#[tokio::test]
async fn the_simulator_closes_with_the_code_it_is_given() {
    let sim = sim_support::sim().await;
    let (mut ws, _) = Ws::bound(&sim, "/all").await;
    sim.close_sockets(4321, "odd");
    assert_eq!(ws.next().await, Got::Closed(Some(4321)));
    let (mut ws, _) = Ws::bound(&sim, "/all").await;
    sim.drop_connections();
    assert_eq!(ws.next().await, Got::Closed(None), "cut without a close frame");
    // The same through the control API.
    let (mut ws, _) = Ws::bound(&sim, "/all").await;
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/_sim/fault", sim.http_url()))
        .json(&json!({"fault": "close", "code": 4100, "reason": "from the control API"}))
        .send()
        .await
        .expect("posted")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["code"], 0, "{answer}");
    assert_eq!(ws.next().await, Got::Closed(Some(4100)));
    sim.shutdown().await;
}

// --- calls during an outage ---

async fn a_call_in_an_outage_waits_for_the_link(t: Transport) {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    let (adapter, mut link) = adapter(t, &sim, Duration::from_secs(10)).await;
    sim.go_down().await;
    wait_link(&mut link, "disconnect", is_down).await;
    let mut call = adapter.call(about());
    let first = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
    assert!(first.is_pending(), "the server is down: nothing can answer yet");
    sim.come_up().await.expect("comes up");
    let body = call.await.expect("answered once the link is back");
    assert_eq!(body["code"], 0, "{body}");
    adapter.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_ws_call_in_an_outage_waits_for_the_link() {
    a_call_in_an_outage_waits_for_the_link(Transport::Ws).await;
}

#[tokio::test]
async fn an_http_call_in_an_outage_waits_for_the_link() {
    a_call_in_an_outage_waits_for_the_link(Transport::Http).await;
}

async fn a_call_in_a_long_outage_fails_clearly(t: Transport) {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    sim.world(|w| w.add_friend(REPORTER, "reporter"));
    let (adapter, mut link) = adapter(t, &sim, Duration::from_millis(300)).await;
    sim.go_down().await;
    wait_link(&mut link, "disconnect", is_down).await;
    let late = Call::new(
        "sendFriendMessage",
        None,
        json!({"target": REPORTER, "messageChain": [{"type": "Plain", "text": "late"}]}),
    );
    let err = adapter.call(late).await.expect_err("the server stays down");
    assert!(matches!(err, CallError::Offline { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("sendFriendMessage:"), "{text}");
    assert!(text.contains("could not be reached"), "{text}");
    sim.come_up().await.expect("comes up");
    wait_link(&mut link, "connect", is_up).await;
    let on_time = Call::new(
        "sendFriendMessage",
        None,
        json!({"target": REPORTER, "messageChain": [{"type": "Plain", "text": "on time"}]}),
    );
    adapter.call(on_time).await.expect("sent after the link is back");
    let texts: Vec<String> = sim.sent().iter().map(|m| common::text(&m.chain)).collect();
    assert_eq!(texts, ["on time"], "a call that failed never reaches the server later");
    adapter.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_ws_call_in_a_long_outage_fails_clearly_and_is_never_sent() {
    a_call_in_a_long_outage_fails_clearly(Transport::Ws).await;
}

#[tokio::test]
async fn an_http_call_in_a_long_outage_fails_clearly_and_is_never_sent() {
    a_call_in_a_long_outage_fails_clearly(Transport::Http).await;
}

// --- answers late, out of order, twice ---

async fn stalled_answers_time_out_and_the_link_stays(t: Transport) {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    let (adapter, _link) = adapter(t, &sim, Duration::from_millis(200)).await;
    sim.stall("about", Duration::from_secs(3600));
    let err = adapter.call(about()).await.expect_err("stalled");
    assert!(matches!(err, CallError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().starts_with("about: no answer"), "{err}");
    sim.stall("about", Duration::from_millis(20));
    let body = adapter.call(about()).await.expect("a short stall is waited out");
    assert_eq!(body["code"], 0);
    sim.clear_faults();
    assert_eq!(adapter.call(about()).await.expect("answers")["code"], 0);
    adapter.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn stalled_ws_answers_time_out_and_the_link_stays() {
    stalled_answers_time_out_and_the_link_stays(Transport::Ws).await;
}

#[tokio::test]
async fn stalled_http_answers_time_out_and_the_link_stays() {
    stalled_answers_time_out_and_the_link_stays(Transport::Http).await;
}

#[tokio::test]
async fn answers_out_of_order_reach_their_own_calls() {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    let (adapter, _link) = adapter(Transport::Ws, &sim, Duration::from_secs(10)).await;
    sim.answer_out_of_order(3);
    let call = |command: &str| Call::new(command, None, json!({}));
    let (a, p, f) = tokio::join!(
        adapter.call(call("about")),
        adapter.call(call("botProfile")),
        adapter.call(call("friendList")),
    );
    assert!(a.expect("about")["data"]["version"].is_string());
    assert!(p.expect("botProfile")["nickname"].is_string());
    assert!(f.expect("friendList")["data"].is_array());
    adapter.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn duplicate_answers_are_rejected_once_each_and_change_nothing() {
    let bot = ping_bot(Transport::Ws).await;
    let before = bot.adapter.rejected_frames();
    bot.sim.duplicate_answers(true);
    ping(&bot, "twice").await;
    // The pong's send was answered twice: the second answer finds no call.
    wait_until("the duplicate answer", || bot.adapter.rejected_frames() > before).await;
    bot.sim.clear_faults();
    ping(&bot, "once").await;
    assert_eq!(count(&bot, "pong twice"), 1);
    bot.stop().await;
}

// --- frames no server should send ---

#[tokio::test]
async fn bad_ws_frames_are_rejected_one_by_one_and_the_bot_keeps_answering() {
    let bot = ping_bot(Transport::Ws).await;
    let before = bot.adapter.rejected_frames();
    let huge_garbage = format!("{{\"syncId\":\"-1\",\"data\":\"{}", "x".repeat(2 << 20));
    let bad = [
        "{",
        "not json at all",
        "[1, 2, 3]",
        "42",
        r#"{"syncId":"-1"}"#,
        r#"{"syncId":"-1","data":5}"#,
        r#"{"syncId":"-1","data":{"type":7}}"#,
        r#"{"syncId":"-1","data":{"no":"type"}}"#,
        r#"{"syncId":"-1","data":[{"type":"GroupMessage"}]}"#,
        r#"{"syncId":"987654","data":{"code":0}}"#,
        r#"{"code":400,"msg":"bad frame"}"#,
        huge_garbage.as_str(),
    ];
    for frame in bad {
        assert_eq!(bot.sim.push_raw(frame), 1);
    }
    let want = before + bad.len() as u64;
    wait_until("every bad frame rejected", || bot.adapter.rejected_frames() >= want).await;
    ping(&bot, "still here").await;
    assert_eq!(bot.adapter.rejected_frames(), want, "each bad frame counted once");
    bot.stop().await;
}

#[tokio::test]
async fn strange_but_wellformed_events_reach_the_scripts() {
    for t in [Transport::Ws, Transport::Http] {
        let bot = ping_bot(t).await;
        // An event type and an element type nobody knows, passed through untouched.
        bot.sim.push(json!({"type": "BrandNewEvent", "payload": {"deep": [1, 2, 3]}}));
        bot.wait_report("saw BrandNewEvent").await;
        bot.sim.push(json!({"type": "TempMessage", "messageChain": [{"type": "Hologram", "x": 1}], "sender": {"id": "me"}}));
        bot.wait_report("saw TempMessage").await;
        // Fields of the wrong type: the handlers may fail, the bot does not.
        bot.sim.push(json!({"type": "GroupMessage", "messageChain": 5, "sender": "nobody"}));
        bot.wait_report("saw GroupMessage").await;
        bot.sim.push(json!({"type": "FriendMessage", "messageChain": {"a": null}, "sender": []}));
        bot.sim.push(json!({"type": "NudgeEvent", "fromId": "x", "subject": 3}));
        bot.wait_report("saw NudgeEvent").await;
        // A large frame (1 MiB of text) is delivered whole.
        let big = "y".repeat(1 << 20);
        bot.sim.friend_message(FRIEND, json!(big));
        bot.wait_report(&format!("pong {big}")).await;
        ping(&bot, "after the strange ones").await;
        assert_eq!(bot.adapter.rejected_frames(), 0, "{t:?}: nothing here is malformed");
        bot.stop().await;
    }
}

#[tokio::test]
async fn a_frame_over_the_size_limit_drops_the_link_which_comes_back() {
    let bot = ping_bot(Transport::Ws).await;
    let text = "z".repeat(17 << 20);
    let frame = json!({"syncId": "-1", "data": {"type": "FriendMessage", "messageChain": [{"type": "Plain", "text": text}]}});
    drop(text);
    assert_eq!(bot.sim.push_raw(&frame.to_string()), 1);
    drop(frame);
    wait_count(&bot, "connect again", 1).await;
    ping(&bot, "after the huge frame").await;
    bot.stop().await;
}

#[tokio::test]
async fn bad_http_answers_and_queue_items_are_rejected_and_polling_goes_on() {
    let bot = ping_bot(Transport::Http).await;
    let bad_items =
        [json!(5), json!("text"), json!({"type": 3}), json!({"no": "type"}), json!(null)];
    for item in &bad_items {
        assert_eq!(bot.sim.queue_raw(item), 1);
    }
    wait_until("the bad queue items", || bot.adapter.rejected_frames() >= 5).await;
    bot.sim.replace_answers("fetchMessage", 1, "<html>not json</html>");
    wait_until("the garbled answer", || bot.adapter.rejected_frames() >= 6).await;
    bot.sim.replace_answers("fetchMessage", 1, r#"{"code":0,"data":{"not":"a list"}}"#);
    wait_until("the answer without a list", || bot.adapter.rejected_frames() >= 7).await;
    ping(&bot, "still polling").await;
    assert_eq!(bot.adapter.rejected_frames(), 7);
    assert_eq!(
        count(&bot, "disconnect"),
        0,
        "a bad answer is not a lost link: {:?}",
        bot.reports()
    );
    bot.stop().await;
}

// --- shutdown ---

/// A script that says goodbye on unload and makes one slow call on request.
const SLOW: &str = r"
local msg = require('msg')
local R = 424242
bot.on('FriendMessage', function(ev)
  if msg.text(ev.messageChain) == 'slow' then
    local ok, err = pcall(mirai.botProfile)
    mirai.sendFriendMessage(R, ok and 'slow done' or ('slow failed: ' .. tostring(err)))
  end
end)
bot.on('unload', function() mirai.sendFriendMessage(R, 'bye') end)
";

#[tokio::test]
async fn on_shutdown_unload_runs_in_flight_calls_finish_and_the_session_is_released() {
    let bot = start_on(Transport::Http, &[("slow.lua", SLOW)]).await;
    let sim = bot.sim.clone();
    sim.stall("botProfile", Duration::from_millis(300));
    sim.friend_message(FRIEND, json!("slow"));
    sim.wait_for(WITHIN, "the slow call", |s| {
        s.received().iter().any(|r| r.command == "botProfile")
    })
    .await
    .expect("the call is on the wire");
    tokio::time::timeout(WITHIN, bot.stop()).await.expect("stops");
    let reports: Vec<String> = sim
        .sent()
        .iter()
        .filter(|m| m.target == REPORTER)
        .map(|m| common::text(&m.chain))
        .collect();
    assert!(reports.contains(&"slow done".to_owned()), "{reports:?}");
    assert!(reports.contains(&"bye".to_owned()), "{reports:?}");
    assert_eq!(sim.session_count(), 0, "the session was released");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_call_stalled_forever_does_not_hold_up_shutdown() {
    let bot = start_custom(Transport::Http, SimConfig::default(), &[("slow.lua", SLOW)], |o| {
        o.unload_grace = Duration::from_millis(200);
    })
    .await;
    let sim = bot.sim.clone();
    sim.stall("botProfile", Duration::from_secs(3600));
    sim.friend_message(FRIEND, json!("slow"));
    sim.wait_for(WITHIN, "the slow call", |s| {
        s.received().iter().any(|r| r.command == "botProfile")
    })
    .await
    .expect("the call is on the wire");
    tokio::time::timeout(WITHIN, bot.stop()).await.expect("stops within the grace, not the stall");
    assert_eq!(sim.session_count(), 0, "the session was released");
    sim.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_mahua_run_gracefully() {
    let sim = Sim::start(SimConfig::default()).await.expect("sim");
    sim.world(|w| w.add_friend(REPORTER, "reporter"));
    let dir = common::script_dir(&[(
        "bye.lua",
        "bot.on('connect', function() mirai.sendFriendMessage(424242, 'up') end)\n\
         bot.on('unload', function() mirai.sendFriendMessage(424242, 'bye') end)\n",
    )]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mahua"))
        .args(["run", "--config"])
        .arg(dir.path().join("no-such-mahua.toml"))
        .env("MAHUA_ADAPTER", "http")
        .env("MAHUA_URL", sim.http_url())
        .env("MAHUA_VERIFY_KEY", &sim.config().verify_key)
        .env("MAHUA_QQ", sim.config().qq.to_string())
        .env("MAHUA_SCRIPTS_DIR", dir.path())
        .env("MAHUA_DATA_DIR", dir.path().join("data"))
        .env("MAHUA_HOT_RELOAD", "false")
        .env("MAHUA_POLL_INTERVAL_MS", "10")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("mahua starts");
    let said = |text: &'static str| {
        move |s: &Sim| s.count_sent(|m| m.target == REPORTER && common::text(&m.chain) == text) > 0
    };
    sim.wait_for(WITHIN, "the script to start", said("up")).await.expect("mahua runs");
    assert_eq!(sim.session_count(), 1);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let waited = tokio::task::spawn_blocking(move || {
        let status = child.wait();
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        (status, err)
    });
    let (status, stderr) =
        tokio::time::timeout(WITHIN, waited).await.expect("exits").expect("joined");
    assert!(status.expect("status").success(), "{stderr}");
    assert!(sim.count_sent(|m| common::text(&m.chain) == "bye") == 1, "unload ran: {stderr}");
    assert_eq!(sim.session_count(), 0, "the session was released: {stderr}");
    sim.shutdown().await;
}
