//! The send queue against the simulator: rates hold under a flood from several scripts, a
//! flooding script cannot starve a quiet one, passing failures are retried and lasting ones
//! are not.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{start_limited, start_wrapped, Bot, Transport, REPORTER, WITHIN};
use mahua::adapter::sendq::SendOptions;
use mahua::adapter::{Adapter, BoxFuture, Call, CallError, Upload};
use mahua::sim::world::Permission;
use mahua::sim::SimConfig;
use serde_json::{json, Value};

const GROUP: i64 = 700_001;

fn opts(rate: f64, burst: u32, per_chat_rate: f64, per_chat_burst: u32) -> SendOptions {
    SendOptions {
        rate,
        burst,
        per_chat_rate,
        per_chat_burst,
        max_wait: Duration::from_secs(60),
        capacity: 1000,
        ..SendOptions::default()
    }
}

/// A script that, on "go" from the reporter, sends `n` messages at once to groups from `first`.
fn flooder(n: u32, first: i64, same_group: bool) -> String {
    format!(
        r#"
bot.on("FriendMessage", function(ev)
  if ev.messageChain[2].text ~= "go" then return end
  for i = 1, {n} do
    bot.after(0, function()
      mirai.sendGroupMessage({first} + ({same} and 0 or i), "flood " .. i)
    end)
  end
end)
"#,
        same = if same_group { "true" } else { "false" }
    )
}

async fn with_groups(bot: &Bot, first: i64, n: i64) {
    bot.sim.world(|w| {
        for g in first..=first + n {
            w.add_group(g, "g", Permission::Member);
        }
    });
}

async fn wait_group_sends(bot: &Bot, n: usize) {
    bot.sim
        .wait_for(WITHIN * 2, &format!("{n} group messages"), move |s| {
            s.sent().iter().filter(|m| m.command == "sendGroupMessage").count() >= n
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn the_global_rate_holds_under_a_flood_from_several_scripts() {
    let scripts = [
        ("a.lua", flooder(10, 1000, false)),
        ("b.lua", flooder(10, 2000, false)),
        ("c.lua", flooder(10, 3000, false)),
    ];
    let scripts: Vec<(&str, &str)> = scripts.iter().map(|(n, s)| (*n, s.as_str())).collect();
    let bot =
        start_limited(Transport::Ws, SimConfig::default(), &scripts, |_| {}, opts(10.0, 5, 0.0, 1))
            .await;
    for first in [1000, 2000, 3000] {
        with_groups(&bot, first, 10).await;
    }
    let started = Instant::now();
    bot.sim.friend_message(REPORTER, json!("go"));
    wait_group_sends(&bot, 30).await;
    // 5 at once, then 10 a second: the other 25 cannot take less than 2.5 s.
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(2400), "30 messages in {took:?}");
    let snap = bot.metrics.snapshot();
    assert_eq!(snap.connection.sends, 30);
    assert_eq!(snap.connection.send_queued, 0);
    assert!(snap.connection.send_wait_ms_max >= 1000.0, "{:?}", snap.connection);
    bot.stop().await;
}

#[tokio::test]
async fn one_conversation_is_held_to_its_own_rate() {
    let flood = flooder(6, GROUP, true);
    let bot = start_limited(
        Transport::Http,
        SimConfig::default(),
        &[("a.lua", &flood)],
        |_| {},
        opts(0.0, 1, 5.0, 2),
    )
    .await;
    with_groups(&bot, GROUP, 0).await;
    let started = Instant::now();
    bot.sim.friend_message(REPORTER, json!("go"));
    wait_group_sends(&bot, 6).await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(750), "6 messages to one group in {took:?}");
    let mut texts: Vec<String> = bot.sim.sent().iter().map(|m| common::text(&m.chain)).collect();
    let want: Vec<String> = (1..=6).map(|i| format!("flood {i}")).collect();
    // The burst of 2 goes out at once as two requests side by side, which may reach the
    // server in either order; the messages that waited for their turn keep theirs.
    assert_eq!(texts[2..], want[2..], "one conversation keeps its order");
    texts[..2].sort();
    assert_eq!(texts[..2], want[..2]);
    bot.stop().await;
}

#[tokio::test]
async fn a_flooding_script_cannot_starve_a_quiet_one() {
    let flood = flooder(30, GROUP, true);
    let quiet = format!(
        r#"
bot.on("FriendMessage", function(ev)
  if ev.messageChain[2].text ~= "go" then return end
  bot.sleep(0.2)
  mirai.sendFriendMessage({REPORTER}, "quiet")
end)
"#
    );
    let bot = start_limited(
        Transport::Ws,
        SimConfig::default(),
        &[("flood.lua", &flood), ("quiet.lua", &quiet)],
        |_| {},
        opts(10.0, 1, 0.0, 1),
    )
    .await;
    with_groups(&bot, GROUP, 0).await;
    bot.sim.friend_message(REPORTER, json!("go"));
    bot.wait_report("quiet").await;
    let before = bot.sim.sent().iter().filter(|m| m.command == "sendGroupMessage").count();
    assert!(before < 10, "the quiet reply waited for {before} of the flood's 30 messages");
    wait_group_sends(&bot, 30).await;
    let snap = bot.metrics.snapshot();
    let flood = snap.scripts.iter().find(|s| s.name == "flood.lua").unwrap();
    assert_eq!(flood.calls.get("sendGroupMessage"), Some(&30));
    assert_eq!(flood.queued_sends, 0);
    bot.stop().await;
}

/// Answers the first `failures` group sends with `body` instead of sending them.
struct Flaky {
    inner: Arc<dyn Adapter>,
    failures: AtomicU32,
    attempts: Arc<AtomicU32>,
    body: Value,
}

impl Adapter for Flaky {
    fn call(&self, call: Call) -> BoxFuture<Result<Value, CallError>> {
        if call.command == "sendGroupMessage" {
            self.attempts.fetch_add(1, Ordering::SeqCst);
            let failing = self
                .failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if failing {
                let body = self.body.clone();
                return Box::pin(async move { Ok(body) });
            }
        }
        self.inner.call(call)
    }
    fn upload(&self, upload: Upload) -> BoxFuture<Result<Value, CallError>> {
        self.inner.upload(upload)
    }
    fn shutdown(&self) -> BoxFuture<()> {
        self.inner.shutdown()
    }
}

const SENDER: &str = r#"
bot.on("FriendMessage", function(ev)
  if ev.messageChain[2].text ~= "send" then return end
  local ok, e = pcall(mirai.sendGroupMessage, 700001, "hello")
  mirai.sendFriendMessage(424242, ok and "sent" or ("failed " .. tostring(e.code)))
end)
"#;

/// A bot whose first `failures` group sends answer `body`; returns it and the attempt count.
async fn flaky_bot(failures: u32, body: Value) -> (Bot, Arc<AtomicU32>) {
    let attempts = Arc::new(AtomicU32::new(0));
    let seen = attempts.clone();
    let bot = start_wrapped(
        Transport::Ws,
        SimConfig::default(),
        &[("sender.lua", SENDER)],
        |_| {},
        SendOptions { retries: 2, ..SendOptions::unlimited() },
        move |inner| {
            Arc::new(Flaky { inner, failures: AtomicU32::new(failures), attempts: seen, body })
        },
    )
    .await;
    with_groups(&bot, GROUP, 0).await;
    (bot, attempts)
}

#[tokio::test]
async fn a_send_that_failed_for_a_passing_reason_is_tried_again() {
    let offline = json!({"code": 500, "msg": "Bot is offline"});
    let (bot, attempts) = flaky_bot(2, offline.clone()).await;
    bot.sim.friend_message(REPORTER, json!("send"));
    bot.wait_report("sent").await;
    common::wait_until("3 attempts", || attempts.load(Ordering::SeqCst) == 3).await;
    assert_eq!(bot.metrics.snapshot().connection.send_retries, 2);
    assert_eq!(bot.sim.sent().iter().filter(|m| m.command == "sendGroupMessage").count(), 1);
    bot.stop().await;

    // Retries are bounded: the third failure is the script's.
    let (bot, attempts) = flaky_bot(5, offline).await;
    bot.sim.friend_message(REPORTER, json!("send"));
    bot.wait_report("failed 500").await;
    common::wait_until("3 attempts", || attempts.load(Ordering::SeqCst) == 3).await;
    bot.stop().await;
}

#[tokio::test]
async fn a_send_that_cannot_succeed_fails_at_once_with_its_code() {
    // QQ refusing a message (risk control) gets worse when it is tried again.
    let refused = json!({"code": 500, "msg": "send message failed: result 46"});
    let (bot, attempts) = flaky_bot(1, refused).await;
    bot.sim.friend_message(REPORTER, json!("send"));
    bot.wait_report("failed 500").await;
    common::wait_until("one attempt", || attempts.load(Ordering::SeqCst) == 1).await;
    assert_eq!(bot.metrics.snapshot().connection.send_retries, 0);
    bot.stop().await;

    // The simulator's own answer for a muted bot.
    let (bot, _) = flaky_bot(0, Value::Null).await;
    bot.sim.world(|w| w.group_mut(GROUP).unwrap().bot_mute_remaining = 600);
    bot.sim.friend_message(REPORTER, json!("send"));
    bot.wait_report("failed 20").await;
    let tries = bot.sim.received().iter().filter(|r| r.command == "sendGroupMessage").count();
    assert_eq!(tries, 1);
    assert_eq!(bot.metrics.snapshot().connection.send_retries, 0);
    bot.stop().await;
}
