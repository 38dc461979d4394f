//! `mahua sandbox`: the scripts against the built-in simulator, with a chat in the terminal.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::adapter::ws::{WsAdapter, WsOptions};
use crate::adapter::Adapter;
use crate::config::Secret;
use crate::host::{HostOptions, RunningHost};
use crate::sim::{Sim, SimConfig, DEFAULT_FRIEND, DEFAULT_GROUP};

/// The member the user speaks as in the group.
const YOU_IN_GROUP: i64 = 20_002;

/// A chain as one readable line.
#[must_use]
pub fn render(chain: &Value) -> String {
    let mut out = String::new();
    for e in chain.as_array().into_iter().flatten() {
        let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        match e.get("type").and_then(Value::as_str).unwrap_or_default() {
            "Source" => {}
            "Plain" => out.push_str(&s("text")),
            "At" => out.push_str(&format!("@{}", e.get("target").unwrap_or(&Value::Null))),
            "AtAll" => out.push_str("@all"),
            "Face" => out.push_str(&format!("[face {}]", e.get("faceId").unwrap_or(&Value::Null))),
            "Image" | "FlashImage" => {
                out.push_str(&format!("[image: {}]", s("url").max(s("imageId"))))
            }
            "Voice" => out.push_str("[voice]"),
            other => out.push_str(&format!("[{other}]")),
        }
    }
    out
}

/// Run the sandbox until the input ends or Ctrl-C.
pub async fn run(scripts: HostOptions) -> anyhow::Result<()> {
    let sim = Sim::start(SimConfig::default()).await?;
    let cfg = sim.config().clone();
    let opts = WsOptions::new(sim.ws_url(), Secret::new(cfg.verify_key.clone()), cfg.qq);
    let (adapter, link) = WsAdapter::connect(opts).await?;
    let dyn_adapter: Arc<dyn Adapter> = adapter.clone();
    let dir = scripts.scripts_dir.clone();
    let (host, ready) = RunningHost::spawn(scripts, dyn_adapter, link);
    let names = ready.await.unwrap_or_default();
    println!(
        "mahua sandbox: {} script(s) from {}: {}",
        names.len(),
        dir.display(),
        names.join(", ")
    );
    println!("Type a message as your friend alice ({DEFAULT_FRIEND}); \"/g text\" says it in the group {DEFAULT_GROUP}.");
    println!(
        "The simulator listens on {} (key {}); Ctrl-D or Ctrl-C ends.",
        sim.ws_url(),
        cfg.verify_key
    );

    let printer = tokio::spawn(print_replies(sim.clone()));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            () = super::shutdown_signal() => break,
            line = lines.next_line() => match line {
                Ok(Some(line)) => say(&sim, line.trim_end()),
                Ok(None) | Err(_) => break,
            },
        }
    }
    printer.abort();
    host.stop().await;
    adapter.shutdown().await;
    sim.shutdown().await;
    Ok(())
}

fn say(sim: &Sim, line: &str) {
    if line.is_empty() {
        return;
    }
    match line.strip_prefix("/g ") {
        Some(text) => sim.group_message(DEFAULT_GROUP, YOU_IN_GROUP, Value::from(text)),
        None => sim.friend_message(DEFAULT_FRIEND, Value::from(line)),
    };
}

/// Print every message the bot sends, as it sends it.
async fn print_replies(sim: Sim) {
    let mut shown = 0;
    loop {
        let wait =
            sim.wait_for(Duration::from_secs(3600), "a reply", |s| s.sent().len() > shown).await;
        if wait.is_err() {
            continue;
        }
        let sent = sim.sent();
        for m in &sent[shown..] {
            let to = if m.command == "sendGroupMessage" {
                format!("group {}", m.target)
            } else {
                m.target.to_string()
            };
            println!("bot → {to}: {}", render(&m.chain));
        }
        shown = sent.len();
    }
}
