//! The error digest: script errors and connection trouble, sent to the bot's owner as one
//! friend message per interval at most.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::adapter::{Adapter, Call};
use crate::metrics::{Metrics, Snapshot};

/// The most scripts one digest names.
const MAX_SCRIPTS: usize = 10;
/// The most characters of one error a digest quotes.
const MAX_ERROR: usize = 200;

/// What went wrong between two snapshots, as a message for the owner; `None` if nothing did.
#[must_use]
pub fn summarize(before: &Snapshot, now: &Snapshot) -> Option<String> {
    let mut lines = Vec::new();
    let mut troubled = now.scripts.iter().filter_map(|s| {
        let old = before.scripts.iter().find(|o| o.name == s.name);
        let errors = s.errors - old.map_or(0, |o| o.errors);
        let loads = s.load_errors - old.map_or(0, |o| o.load_errors);
        (errors + loads > 0).then_some((s, errors, loads))
    });
    for (s, errors, loads) in troubled.by_ref().take(MAX_SCRIPTS) {
        let mut line = format!("{}:", s.name);
        if errors > 0 {
            let _ = write!(line, " {errors} error{}", plural(errors));
        }
        if loads > 0 {
            let sep = if errors > 0 { "," } else { "" };
            let _ = write!(line, "{sep} {loads} failed load{}", plural(loads));
        }
        if let Some(e) = &s.last_error {
            let first = e.lines().next().unwrap_or_default();
            let short: String = first.chars().take(MAX_ERROR).collect();
            let more = if short.len() < e.len() { "…" } else { "" };
            let _ = write!(line, "; last: {short}{more}");
        }
        lines.push(line);
    }
    let rest = troubled.count();
    if rest > 0 {
        lines.push(format!("and {rest} more script{}", plural(rest as u64)));
    }
    let drops = now.connection.disconnects - before.connection.disconnects;
    if drops > 0 {
        let mut line = format!("connection lost {drops} time{}", plural(drops));
        if let Some(r) = &now.connection.last_disconnect {
            let _ = write!(line, "; last: {r}");
        }
        lines.push(line);
    }
    let refused = now.connection.send_refused - before.connection.send_refused;
    if refused > 0 {
        lines.push(format!(
            "{refused} message{} refused by the send queue (sending faster than [send] allows)",
            plural(refused)
        ));
    }
    if lines.is_empty() {
        return None;
    }
    let span = now.uptime_s - before.uptime_s;
    Some(format!("mahua, last {}:\n- {}", span_text(span), lines.join("\n- ")))
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn span_text(s: f64) -> String {
    if s >= 90.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{s:.0} s")
    }
}

/// Whether a send's answer says it went out.
fn delivered(result: &Result<Value, crate::adapter::CallError>) -> bool {
    result.as_ref().is_ok_and(|b| b.get("code").and_then(Value::as_i64).unwrap_or(0) == 0)
}

/// Every `interval`, tell `owner` what went wrong since the last digest, if anything did.
///
/// A digest that could not be sent is folded into the next one.
pub fn spawn(
    owner: i64,
    interval: Duration,
    metrics: Arc<Metrics>,
    adapter: Arc<dyn Adapter>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut before = metrics.snapshot();
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = metrics.snapshot();
            let Some(text) = summarize(&before, &now) else {
                before = now;
                continue;
            };
            let content =
                json!({ "target": owner, "messageChain": [{ "type": "Plain", "text": text }] });
            let result = adapter.call(Call::new("sendFriendMessage", None, content)).await;
            if delivered(&result) {
                before = now;
            } else {
                tracing::warn!(
                    owner,
                    ?result,
                    "could not send the error digest to the owner; it goes with the next one"
                );
            }
        }
    })
}
