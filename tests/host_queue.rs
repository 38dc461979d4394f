//! A script that falls behind has events dropped for it alone, counted, while the others
//! get every event.

mod common;

use common::{start_custom, wait_until, Transport, REPORTER};
use mahua::sim::{SimConfig, DEFAULT_GROUP};
use serde_json::json;

/// Busy for 50 ms on every group message; says how many it handled when asked.
const SLOW: &str = r#"
local handled = 0
bot.on("GroupMessage", function()
  handled = handled + 1
  local until_ = os.clock() + 0.05
  while os.clock() < until_ do end
end)
bot.on("FriendMessage", function(ev)
  if ev.messageChain[2].text == "count" then
    mirai.sendFriendMessage(424242, "slow " .. handled)
  end
end)
"#;

/// Acknowledges every group message at once.
const FAST: &str = r#"
local seen = 0
bot.on("GroupMessage", function()
  seen = seen + 1
  mirai.sendFriendMessage(424242, "fast " .. seen)
end)
"#;

#[tokio::test]
async fn a_slow_script_drops_its_own_events_and_counts_them() {
    let bot = start_custom(
        Transport::Ws,
        SimConfig::default(),
        &[("slow.lua", SLOW), ("fast.lua", FAST)],
        |o| o.queue_capacity = 4,
    )
    .await;
    // One event at a time, each once the fast script has answered the one before: the fast
    // script never has more than one waiting, while the slow one falls behind.
    for i in 1..=40 {
        bot.sim.group_message(DEFAULT_GROUP, REPORTER, json!(format!("m{i}")));
        bot.wait_report(&format!("fast {i}")).await;
    }
    let m = bot.metrics.clone();
    let slow = move || {
        m.snapshot().scripts.into_iter().find(|s| s.name == "slow.lua").expect("slow counted")
    };
    wait_until("the slow script to catch up", || slow().queued_events == 0).await;
    let dropped = slow().dropped_events;
    assert!(dropped > 0, "nothing was dropped for the slow script");
    bot.sim.friend_message(REPORTER, json!("count"));
    let reports = bot.wait_reports(41).await;
    let handled: u64 = reports
        .iter()
        .find_map(|r| r.strip_prefix("slow "))
        .and_then(|n| n.parse().ok())
        .expect("the slow script's count");
    assert_eq!(handled + dropped, 40, "every event is either handled or counted as dropped");
    let fast = bot.metrics.snapshot().scripts.into_iter().find(|s| s.name == "fast.lua");
    assert_eq!(fast.map(|s| s.dropped_events), Some(0));
    bot.stop().await;
}
