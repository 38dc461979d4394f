//! Soak: many events to ten scripts while the server restarts three times.
//!
//! Every event must reach every script exactly once, unless the protocol lost it: an event
//! the server generated while it had no session to give it to (the server was down, or
//! the bot had not yet reconnected) is counted by the simulator and may be missing. Memory
//! after the run must not have grown past warm-up plus a margin.
//!
//! `MAHUA_SOAK_EVENTS` sets the number of events (default [`CI_EVENTS`]); the long run is
//! `MAHUA_SOAK_EVENTS=100000 cargo test --release --test soak -- --nocapture`.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{start_custom, Bot, Transport, REPORTER};
use mahua::sim::SimConfig;
use serde_json::json;

/// Events in a CI run: enough for three restarts with traffic around each.
const CI_EVENTS: u64 = 3000;

/// Scripts, each subscribed to `GroupMessage`.
const SCRIPTS: usize = 10;

/// The group the counted events come from.
const GROUP: i64 = 600_001;

/// The group the test's markers come from.
const MARK: i64 = 600_002;

/// Who speaks in both groups.
const SPEAKER: i64 = 700_001;

/// Events between two markers: how far the scripts may fall behind the simulator.
const CHUNK: u64 = 500;

/// Events pushed while the server is down, at each restart.
const WHILE_DOWN: u64 = 50;

/// How much the process may grow from warm-up to the end. Generous: the allocator keeps
/// freed pages, and the simulator lives in the same process; a leak of a few hundred bytes
/// per event still shows at 100 000 events.
const RSS_MARGIN_KB: u64 = 48 * 1024;

/// How much one script's Lua heap may grow from warm-up to the end (it holds four numbers).
const LUA_MARGIN_KB: u64 = 256;

/// How long the run may take before the test gives up.
const DEADLINE: Duration = Duration::from_secs(600);

fn script(i: usize) -> String {
    format!(
        r"
local NAME, R = 'soak{i}', {REPORTER}
local count, dups, sum, last = 0, 0, 0, 0
bot.on('GroupMessage', function(ev)
  local g, text = ev.sender.group.id, ev.messageChain[2].text
  if g == {GROUP} then
    local n = math.tointeger(tonumber(text))
    if n <= last then dups = dups + 1 else count, sum, last = count + 1, sum + n, n end
  elseif g == {MARK} then
    if text:sub(1, 3) == 'mem' then collectgarbage('collect') end
    local kb = math.floor(collectgarbage('count'))
    mirai.sendFriendMessage(R, string.format('%s|%s|%d|%d|%d|%d', NAME, text, count, dups, sum, kb))
  end
end)
"
    )
}

/// What one script said about itself at a marker.
#[derive(Debug, Clone, Copy)]
struct Report {
    count: u64,
    dups: u64,
    sum: u64,
    lua_kb: u64,
}

/// The process's resident memory, in KiB.
fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Soak {
    bot: Bot,
    next: u64,
    generated: u64,
    lost: u64,
    expected_sum: u64,
    markers: u64,
    lost_from_queues: u64,
}

impl Soak {
    /// Push one counted event; note whether the server had anybody to give it to.
    fn push(&mut self) {
        self.next += 1;
        self.generated += 1;
        let before = self.bot.sim.undelivered();
        self.bot.sim.group_message(GROUP, SPEAKER, json!(self.next.to_string()));
        if self.bot.sim.undelivered() > before {
            self.lost += 1;
        } else {
            self.expected_sum += self.next;
        }
    }

    /// The newest `k` events were lost after all (an unread queue the server dropped).
    fn lose_newest(&mut self, k: u64) {
        self.lost += k;
        self.expected_sum -= (self.next + 1 - k..=self.next).sum::<u64>();
        self.lost_from_queues += k;
    }

    /// Send a marker; every script answers it with its figures. Returns when the first
    /// answer came and all of them, by script.
    async fn marker(&mut self, tag: &str) -> (Instant, BTreeMap<String, Report>) {
        self.markers += 1;
        let tag = format!("{tag}#{}", self.markers);
        self.bot.sim.group_message(MARK, SPEAKER, json!(tag));
        let needle = format!("|{tag}|");
        let matches = |n: &str| {
            let n = n.to_owned();
            move |s: &mahua::sim::Sim| {
                s.count_sent(|m| m.target == REPORTER && common::text(&m.chain).contains(&n))
            }
        };
        let first = matches(&needle);
        self.bot
            .sim
            .wait_for(DEADLINE, &format!("a first answer to {tag}"), move |s| first(s) >= 1)
            .await
            .expect("a script answers");
        let first_at = Instant::now();
        let all = matches(&needle);
        self.bot
            .sim
            .wait_for(DEADLINE, &format!("every answer to {tag}"), move |s| all(s) >= SCRIPTS)
            .await
            .expect("every script answers");
        let mut reports = BTreeMap::new();
        for m in self.bot.sim.sent() {
            let text = common::text(&m.chain);
            let parts: Vec<&str> = text.split('|').collect();
            if let [name, t, count, dups, sum, kb] = parts[..] {
                if t == tag {
                    let n = |s: &str| s.parse::<u64>().expect("a number");
                    let r = Report { count: n(count), dups: n(dups), sum: n(sum), lua_kb: n(kb) };
                    reports.insert(name.to_owned(), r);
                }
            }
        }
        // Long runs keep the simulator's log short.
        self.bot.sim.clear_log();
        assert_eq!(reports.len(), SCRIPTS, "{reports:?}");
        (first_at, reports)
    }

    /// Wait until the bot has a session again after a restart.
    async fn wait_linked(&self, t: Transport) {
        self.bot
            .sim
            .wait_for(DEADLINE, "the bot to come back", move |s| match t {
                Transport::Ws | Transport::OneBot | Transport::OneBotReverse => {
                    s.socket_count() == 1
                }
                _ => s.bound_sessions() == 1,
            })
            .await
            .expect("the bot comes back");
    }
}

async fn soak(t: Transport) {
    let events: u64 =
        std::env::var("MAHUA_SOAK_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(CI_EVENTS);
    let names: Vec<String> = (0..SCRIPTS).map(|i| format!("soak{i}.lua")).collect();
    let sources: Vec<String> = (0..SCRIPTS).map(script).collect();
    let scripts: Vec<(&str, &str)> =
        names.iter().map(String::as_str).zip(sources.iter().map(String::as_str)).collect();
    // The server's default queue (mirai's cacheSize) holds more than a chunk.
    let cfg = SimConfig { unread_queue_max: 4096, ..SimConfig::default() };
    let bot = start_custom(t, cfg, &scripts, |o| o.hot_reload = false).await;
    assert_eq!(bot.scripts.len(), SCRIPTS);
    let mut s = Soak {
        bot,
        next: 0,
        generated: 0,
        lost: 0,
        expected_sum: 0,
        markers: 0,
        lost_from_queues: 0,
    };
    let started = Instant::now();

    // Warm up: the scripts, the link and the allocator reach their working size.
    let warm = (events / 10).clamp(CHUNK, 5000);
    for _ in 0..warm {
        s.push();
    }
    s.marker("sync").await;
    let (_, warm_reports) = s.marker("mem").await;
    let rss_warm = rss_kb();
    let (warm_generated, warm_lost) = (s.generated, s.lost);

    let restarts_at = [events / 4, events / 2, events * 3 / 4];
    let mut returns = Vec::new();
    let mut since_marker = 0;
    for i in 0..events {
        if restarts_at.contains(&i) {
            // Events the server had queued but not yet handed over die with it.
            let before = s.bot.sim.undelivered();
            s.bot.sim.go_down().await;
            let dropped = s.bot.sim.undelivered() - before;
            s.lose_newest(dropped);
            for _ in 0..WHILE_DOWN {
                s.push();
            }
            s.bot.sim.come_up().await.expect("the server comes back");
            let back = Instant::now();
            s.wait_linked(t).await;
            let (first, _) = s.marker("back").await;
            returns.push(first - back);
        }
        s.push();
        since_marker += 1;
        if since_marker == CHUNK {
            s.marker("sync").await;
            since_marker = 0;
        }
    }
    let (_, end) = s.marker("end").await;
    let (_, mem_reports) = s.marker("mem").await;
    let rss_end = rss_kb();
    let took = started.elapsed();

    let delivered = s.generated - s.lost;
    let undelivered = s.bot.sim.undelivered();
    println!(
        "soak over {t:?}: {} events ({} warm-up) to {SCRIPTS} scripts, 3 restarts, in {took:.1?}",
        s.generated, warm_generated
    );
    println!(
        "  delivered {delivered} to each script; lost by the protocol {} ({} pushed while the server was down, {} in its unread queue when it went down, {} during warm-up)",
        s.lost,
        s.lost - s.lost_from_queues,
        s.lost_from_queues,
        warm_lost
    );
    println!("  server return → first event handled: {returns:.1?}");
    let lua_warm: u64 = warm_reports.values().map(|r| r.lua_kb).sum();
    let lua_end: u64 = mem_reports.values().map(|r| r.lua_kb).sum();
    println!(
        "  memory: process {} KiB after warm-up, {} KiB after the run; Lua {} KiB → {} KiB over {SCRIPTS} scripts",
        rss_warm, rss_end, lua_warm, lua_end
    );

    assert_eq!(undelivered, s.lost, "the simulator's count of lost events matches the test's");
    assert_eq!(
        s.lost - s.lost_from_queues,
        3 * WHILE_DOWN,
        "only events the server had while it was down, or still queued when it went, are lost"
    );
    if t == Transport::Ws {
        assert_eq!(s.lost_from_queues, 0, "a closing server flushes its sockets");
    }
    for (name, r) in &end {
        assert_eq!(r.dups, 0, "{name} saw an event twice (or out of order)");
        assert_eq!(r.count, delivered, "{name} missed events");
        assert_eq!(r.sum, s.expected_sum, "{name} saw other events than were delivered");
    }
    for (name, r) in &mem_reports {
        let before = warm_reports[name].lua_kb;
        assert!(r.lua_kb <= before + LUA_MARGIN_KB, "{name}: Lua heap {before} → {} KiB", r.lua_kb);
    }
    assert!(rss_end <= rss_warm + RSS_MARGIN_KB, "process grew from {rss_warm} to {rss_end} KiB");
    s.bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_over_ws_loses_only_what_the_server_could_not_push() {
    soak(Transport::Ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_over_http_loses_only_what_the_server_could_not_queue() {
    soak(Transport::Http).await;
}
