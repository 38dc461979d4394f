//! A bot for tests: the simulator on 127.0.0.1:0, an adapter, and a host running given scripts.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use mahua::adapter::http::{HttpAdapter, HttpOptions};
use mahua::adapter::onebot::{Mode, OneBotAdapter, OneBotOptions};
use mahua::adapter::sendq::{SendOptions, SendQueue};
use mahua::adapter::ws::{WsAdapter, WsOptions};
use mahua::adapter::{Adapter, LinkEvent};
use mahua::config::Secret;
use mahua::host::{HostEvent, HostOptions, RunningHost};
use mahua::metrics::Metrics;
use mahua::sim::{Sim, SimConfig};
use serde_json::Value;
use tokio::sync::mpsc;

/// The friend that test scripts report to.
pub const REPORTER: i64 = 424_242;

/// How long a test waits for anything.
pub const WITHIN: Duration = Duration::from_secs(10);

/// Answers a friend's message with "got <text>" to the reporter, and raises an error on "boom".
pub const GOT_OR_BOOM: &str = r#"
bot.on("FriendMessage", function(ev)
  local t = ev.messageChain[2].text
  if t == "boom" then error("boom goes the script") end
  mirai.sendFriendMessage(424242, "got " .. t)
end)
"#;

/// Which adapter a test bot uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// WebSocket.
    Ws,
    /// HTTP polling.
    Http,
    /// HTTP polling in the 1.x dialect (the simulator must be in 1.x mode).
    HttpV1,
    /// OneBot v11, mahua dialling the simulator's WebSocket (the simulator is put in OneBot mode).
    OneBot,
    /// OneBot v11, the simulator dialling mahua's listener (reverse WebSocket).
    OneBotReverse,
}

impl Transport {
    /// The adapter name the simulator records.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ws => "ws",
            Self::Http | Self::HttpV1 => "http",
            Self::OneBot | Self::OneBotReverse => "onebot",
        }
    }

    /// Whether it speaks OneBot.
    pub fn is_onebot(self) -> bool {
        matches!(self, Self::OneBot | Self::OneBotReverse)
    }
}

/// The access token the OneBot transports use.
pub const ONEBOT_TOKEN: &str = "onebot-test-token";

/// Connect to `sim` over `t` (polling fast over http, so tests stay quick).
pub async fn connect(t: Transport, sim: &Sim) -> (Arc<dyn Adapter>, mpsc::Receiver<LinkEvent>) {
    let key = Secret::new(sim.config().verify_key.clone());
    let qq = sim.config().qq;
    match t {
        Transport::Ws => {
            let (a, link) =
                WsAdapter::connect(WsOptions::new(sim.ws_url(), key, qq)).await.expect("connects");
            (a as Arc<dyn Adapter>, link)
        }
        Transport::Http | Transport::HttpV1 => {
            let mut opts = HttpOptions::new(sim.http_url(), key, qq);
            opts.poll_interval = Duration::from_millis(5);
            if t == Transport::HttpV1 {
                opts.protocol = mahua::config::ProtocolVersion::V1;
            }
            let (a, link) = HttpAdapter::connect(opts).await.expect("connects");
            (a as Arc<dyn Adapter>, link)
        }
        Transport::OneBot => {
            let mode = Mode::Forward { url: sim.onebot_url() };
            let opts = OneBotOptions::new(mode, Some(Secret::new(ONEBOT_TOKEN)));
            let (a, link) = OneBotAdapter::connect(opts).await.expect("connects");
            (a as Arc<dyn Adapter>, link)
        }
        Transport::OneBotReverse => {
            let listen = "127.0.0.1:0".parse().expect("address");
            let opts =
                OneBotOptions::new(Mode::Reverse { listen }, Some(Secret::new(ONEBOT_TOKEN)));
            let (a, link) = OneBotAdapter::connect(opts).await.expect("listens");
            let addr = a.listening().expect("bound");
            let url = format!("ws://{addr}/onebot/v11/ws");
            sim.connect_reverse(&url, Some(ONEBOT_TOKEN.into()), Duration::from_millis(50));
            // Events pushed before the server's socket is up would reach nobody, as on a real
            // server: wait for it, as the forward transport's connect does.
            sim.wait_for(WITHIN, "the reverse socket", |s| s.socket_count() == 1)
                .await
                .expect("the simulator dials mahua");
            (a as Arc<dyn Adapter>, link)
        }
    }
}

/// A simulator configuration for `t`: OneBot mode with the test token for the OneBot transports.
pub fn sim_config_for(t: Transport, mut cfg: SimConfig) -> SimConfig {
    if t.is_onebot() {
        cfg.protocol = mahua::sim::SimProtocol::OneBot;
        cfg.access_token = Some(ONEBOT_TOKEN.into());
    }
    cfg
}

/// A running bot with its simulator.
pub struct Bot {
    pub sim: Sim,
    /// The send queue in front of the link, as the scripts see it.
    pub adapter: Arc<dyn Adapter>,
    /// The bot's counters.
    pub metrics: Arc<Metrics>,
    host: Option<RunningHost>,
    pub dir: tempfile::TempDir,
    pub scripts: Vec<String>,
    /// Every host event seen so far.
    pub host_log: Vec<HostEvent>,
}

/// Write `scripts` (name, source) into a fresh folder.
pub fn script_dir(scripts: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, src) in scripts {
        std::fs::write(dir.path().join(name), src).expect("write script");
    }
    dir
}

/// Start the simulator, seed the reporter friend, connect over ws, and run `scripts`.
pub async fn start(scripts: &[(&str, &str)]) -> Bot {
    start_on(Transport::Ws, scripts).await
}

/// As `start`, over the adapter `t`.
pub async fn start_on(t: Transport, scripts: &[(&str, &str)]) -> Bot {
    start_custom(t, SimConfig::default(), scripts, |_| {}).await
}

/// As `start_on`, with a simulator configuration and host options changed by `tune`.
///
/// Sends pass a send queue without rate limits, so tests that report a lot stay quick.
pub async fn start_custom(
    t: Transport,
    cfg: SimConfig,
    scripts: &[(&str, &str)],
    tune: impl FnOnce(&mut HostOptions),
) -> Bot {
    start_limited(t, cfg, scripts, tune, SendOptions::unlimited()).await
}

/// As `start_custom`, with the send queue's limits given.
pub async fn start_limited(
    t: Transport,
    cfg: SimConfig,
    scripts: &[(&str, &str)],
    tune: impl FnOnce(&mut HostOptions),
    send: SendOptions,
) -> Bot {
    start_wrapped(t, cfg, scripts, tune, send, |a| a).await
}

/// As `start_limited`, with the link wrapped by `wrap` before the send queue.
pub async fn start_wrapped(
    t: Transport,
    cfg: SimConfig,
    scripts: &[(&str, &str)],
    tune: impl FnOnce(&mut HostOptions),
    send: SendOptions,
    wrap: impl FnOnce(Arc<dyn Adapter>) -> Arc<dyn Adapter>,
) -> Bot {
    let sim = Sim::start(sim_config_for(t, cfg)).await.expect("sim starts");
    sim.world(|w| w.add_friend(REPORTER, "reporter"));
    let dir = script_dir(scripts);
    let (raw, link) = connect(t, &sim).await;
    let mut opts = HostOptions::new(dir.path());
    opts.data_dir = dir.path().join("data");
    tune(&mut opts);
    let metrics = opts.metrics.clone();
    let adapter: Arc<dyn Adapter> = SendQueue::new(wrap(raw), send, metrics.clone());
    let (host, ready) = RunningHost::spawn(opts, adapter.clone(), link);
    let scripts = ready.await.expect("host ready");
    Bot { sim, adapter, metrics, host: Some(host), dir, scripts, host_log: Vec::new() }
}

impl Bot {
    /// The texts sent to the reporter so far.
    pub fn reports(&self) -> Vec<String> {
        reports_of(&self.sim)
    }

    /// Wait until at least `n` reports arrived and return them all.
    pub async fn wait_reports(&self, n: usize) -> Vec<String> {
        self.sim
            .wait_for(WITHIN, &format!("{n} reports"), move |s| reports_of(s).len() >= n)
            .await
            .unwrap_or_else(|e| panic!("{e}; reports so far: {:?}", self.reports()));
        self.reports()
    }

    /// Wait for a report equal to `text`.
    pub async fn wait_report(&self, text: &str) {
        let want = text.to_owned();
        self.sim
            .wait_for(WITHIN, &format!("report {text:?}"), move |s| reports_of(s).contains(&want))
            .await
            .unwrap_or_else(|e| panic!("{e}; reports so far: {:?}", self.reports()));
    }

    /// Wait for the host to report `want`; every event seen is kept in `host_log`.
    pub async fn wait_host(&mut self, want: HostEvent) {
        if self.host_log.contains(&want) {
            return;
        }
        let host = self.host.as_mut().expect("host running");
        loop {
            let ev = tokio::time::timeout(WITHIN, host.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no {want:?}; host events so far: {:?}", self.host_log))
                .expect("host running");
            let done = ev == want;
            self.host_log.push(ev);
            if done {
                return;
            }
        }
    }

    /// Whether the host has reported `want` by now, without waiting.
    pub fn try_host(&mut self, want: &HostEvent) -> bool {
        let host = self.host.as_mut().expect("host running");
        while let Ok(ev) = host.events.try_recv() {
            self.host_log.push(ev);
        }
        self.host_log.contains(want)
    }

    /// Write a script file into the scripts folder.
    pub fn write(&self, name: &str, src: &str) {
        std::fs::write(self.dir.path().join(name), src).expect("write script");
    }

    /// Stop the host and the link.
    pub async fn stop(mut self) {
        if let Some(h) = self.host.take() {
            h.stop().await;
        }
        self.adapter.shutdown().await;
    }
}

/// Wait until `cond` holds, checking every few milliseconds, for at most `WITHIN`.
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WITHIN;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The plain text of a chain.
pub fn text(chain: &Value) -> String {
    mahua::protocol::chain::text(chain)
}

fn reports_of(sim: &Sim) -> Vec<String> {
    sim.sent()
        .into_iter()
        .filter(|m| m.command == "sendFriendMessage" && m.target == REPORTER)
        .map(|m| text(&m.chain))
        .collect()
}

/// `v` without its null fields, as a Lua table encodes it again.
pub fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}
