//! The counters match what happened: events, errors, calls, callbacks, reloads, the link.

mod common;

use common::{start_on, wait_until, Transport, GOT_OR_BOOM, REPORTER};
use mahua::host::HostEvent;
use mahua::metrics::LinkState;
use serde_json::json;

const IDLE: &str = r#"bot.on("GroupMessage", function() end)"#;

#[tokio::test]
async fn the_counters_match_what_happened() {
    for t in [Transport::Ws, Transport::Http] {
        let mut bot = start_on(t, &[("counter.lua", GOT_OR_BOOM), ("idle.lua", IDLE)]).await;
        for text in ["a", "boom", "b", "c"] {
            bot.sim.friend_message(REPORTER, json!(text));
        }
        bot.wait_reports(3).await;
        let m = bot.metrics.clone();
        let script = move |name: &str| {
            m.snapshot().scripts.into_iter().find(|s| s.name == name).expect("script counted")
        };
        wait_until("4 callbacks", || script("counter.lua").callbacks == 4).await;
        let s = script("counter.lua");
        assert_eq!((s.events, s.errors, s.load_errors, s.reloads), (4, 1, 0, 0), "{t:?}: {s:?}");
        assert_eq!(s.calls.get("sendFriendMessage"), Some(&3), "{t:?}: {s:?}");
        assert_eq!(s.calls.values().sum::<u64>(), 3, "{t:?}: {s:?}");
        assert!(s.last_error.as_deref().is_some_and(|e| e.contains("boom goes the script")));
        assert!(s.callback_ms_max >= s.callback_ms_mean && s.callback_ms_mean > 0.0);
        assert_eq!((s.queued_events, s.queued_sends), (0, 0));
        // Friend messages are not for a script that only listens to groups.
        assert_eq!(script("idle.lua").events, 0);

        let c = bot.metrics.snapshot().connection;
        assert_eq!(c.state, LinkState::Up, "{t:?}");
        assert_eq!((c.connects, c.reconnects, c.disconnects), (1, 0, 0), "{t:?}");
        assert_eq!(c.sends, 3, "{t:?}");
        assert!(c.frames_out >= 3 && c.frames_in >= 4 + 3, "{t:?}: {c:?}");

        // A reload keeps the counts and adds one; a refused version counts as a load error.
        bot.write("counter.lua", &format!("{GOT_OR_BOOM}\n-- v2\n"));
        bot.wait_host(HostEvent::Reloaded("counter.lua".into())).await;
        bot.write("counter.lua", "this is not lua");
        bot.wait_host(HostEvent::Refused("counter.lua".into())).await;
        bot.sim.friend_message(REPORTER, json!("d"));
        bot.wait_reports(4).await;
        wait_until("5 events", || script("counter.lua").events == 5).await;
        let s = script("counter.lua");
        assert_eq!((s.reloads, s.load_errors, s.errors), (1, 1, 1), "{t:?}: {s:?}");
        assert_eq!(s.calls.get("sendFriendMessage"), Some(&4), "{t:?}");
        bot.stop().await;
    }
}
