//! Echo throughput, latency, CPU and memory: a load generator plays the server, pushes
//! group message events ("ping N") and times the replies ("pong N") of mahua (the release
//! binary, running Lua echo scripts) and of a bare Rust client with no Lua (the ceiling),
//! each in its own process. Three transports: mirai-api-http over ws (`GroupMessage`
//! pushes, `sendGroupMessage` replies), OneBot v11 over forward WebSocket (the generator
//! plays a NapCat-like server: `post_type` events, `send_group_msg` actions), and
//! mirai-api-http over http polling.
//!
//! `cargo bench --bench echo` prints the figures as text and one JSON line. The closed-loop
//! rounds of ws and OneBot are interleaved, so that the two can be compared.
//! Under `cargo test` it runs a few hundred events only, to prove it works.
//!
//! For profiling: `ECHO_ONLY=ws` (or `onebot`, `http`, or a list: `ws,onebot`) runs those
//! transports only, `ECHO_EVENTS=N` sets the closed loop's length, `ECHO_SCRIPTS=N` runs
//! mahua with N subscribed scripts only, and `ECHO_WRAP="valgrind --tool=callgrind"` starts
//! mahua under that command.

mod bare;
mod process;
mod server;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::net::TcpListener;

use server::{Dialect, Load, Measured};

const ECHO: &str = "bot.on('GroupMessage', function(ev)\n  \
    mirai.sendGroupMessage(ev.sender.group.id, 'pong ' .. ev.messageChain[2].text:sub(6))\nend)\n";
const SUBSCRIBED: &str = "bot.on('GroupMessage', function(ev) end)\n";
const UNSUBSCRIBED: &str = "bot.on('FriendMessage', function(ev) end)\n";

/// mahua's default poll: the bare http client polls the same way.
const POLL_COUNT: usize = 100;
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// How mahua (or the bare client) reaches the load generator.
#[derive(Clone, Copy, PartialEq)]
enum Transport {
    /// mirai-api-http over ws.
    Ws,
    /// OneBot v11 over forward WebSocket.
    OneBot,
    /// mirai-api-http over http polling.
    Http,
}

impl Transport {
    /// Every transport, in the order they are reported.
    const ALL: [Self; 3] = [Self::Ws, Self::OneBot, Self::Http];

    /// Its name in `ECHO_ONLY`, the JSON line and the bare client's arguments.
    fn name(self) -> &'static str {
        match self {
            Self::Ws => "ws",
            Self::OneBot => "onebot",
            Self::Http => "http",
        }
    }

    /// The server the ws generator plays; `None` over http.
    fn dialect(self) -> Option<Dialect> {
        match self {
            Self::Ws => Some(Dialect::Mirai),
            Self::OneBot => Some(Dialect::OneBot),
            Self::Http => None,
        }
    }
}

/// Who answers: the bare client, or mahua with the echo script, `subscribed - 1` silent
/// scripts on `GroupMessage`, and `unsubscribed` scripts that listen to something else.
#[derive(Clone, Copy)]
enum Subject {
    Bare,
    Mahua { subscribed: usize, unsubscribed: usize },
}

impl Subject {
    fn label(self) -> String {
        match self {
            Self::Bare => "bare Rust client".into(),
            Self::Mahua { subscribed, unsubscribed: 0 } => {
                format!("mahua, {subscribed} subscribed")
            }
            Self::Mahua { subscribed, unsubscribed } => {
                format!("mahua, {subscribed} subscribed + {unsubscribed} not")
            }
        }
    }
}

/// A folder with `mahua.toml` and the scripts for `subject`. The send limits are off: the
/// bench measures the host, and the default limit (one message a second) would measure only
/// the limiter.
fn mahua_dir(t: Transport, url: &str, subscribed: usize, unsubscribed: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    let scripts = dir.path().join("scripts");
    std::fs::create_dir(&scripts).expect("scripts");
    std::fs::write(scripts.join("echo.lua"), ECHO).expect("write");
    for i in 1..subscribed {
        std::fs::write(scripts.join(format!("quiet{i}.lua")), SUBSCRIBED).expect("write");
    }
    for i in 0..unsubscribed {
        std::fs::write(scripts.join(format!("other{i}.lua")), UNSUBSCRIBED).expect("write");
    }
    let server = match t {
        Transport::OneBot => format!("[onebot]\nurl = \"{url}\"\n"),
        Transport::Ws | Transport::Http => format!(
            "[mirai]\nadapter = \"{}\"\nurl = \"{url}\"\nverify_key = \"k\"\nqq = 1\n\
             poll_count = {POLL_COUNT}\npoll_interval_ms = {}\n",
            t.name(),
            POLL_INTERVAL.as_millis()
        ),
    };
    let config = format!(
        "{server}\n[scripts]\ndir = \"scripts\"\nhot_reload = false\ndata_dir = \"data\"\n\n\
         [send]\nrate = 0\nper_chat_rate = 0\n"
    );
    std::fs::write(dir.path().join("mahua.toml"), config).expect("config");
    dir
}

/// One run: a fresh client process under one load.
async fn run(t: Transport, subject: Subject, load: Load) -> (Measured, u64) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let url = match t {
        Transport::Ws | Transport::OneBot => format!("ws://{addr}"),
        Transport::Http => format!("http://{addr}"),
    };
    let dir = match subject {
        Subject::Bare => tempfile::tempdir().expect("dir"),
        Subject::Mahua { subscribed, unsubscribed } => mahua_dir(t, &url, subscribed, unsubscribed),
    };
    let me = std::env::current_exe().expect("exe");
    let mahua = PathBuf::from(env!("CARGO_BIN_EXE_mahua"));
    let count = POLL_COUNT.to_string();
    let interval = POLL_INTERVAL.as_millis().to_string();
    let (child, client) = match subject {
        Subject::Bare => {
            process::spawn(&me, &["bare", t.name(), &url, &count, &interval], dir.path())
        }
        Subject::Mahua { .. } => {
            process::spawn_wrapped(&mahua, &["run", "--config", "mahua.toml"], dir.path())
        }
    };
    let pid_client = client;
    let measured = match t.dialect() {
        Some(d) => server::play_ws(listener, pid_client.clone(), load, d).await,
        None => server::play_http(listener, pid_client.clone(), load).await,
    };
    let rss = pid_client.peak_rss_kib();
    process::stop(child);
    (measured, rss)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The bare client's entry point, when this binary is started as one.
fn bare_main(args: &[String]) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    match args {
        [t, url, ..] if t == "ws" => rt.block_on(bare::ws(format!("{url}/all"), Dialect::Mirai)),
        [t, url, ..] if t == "onebot" => rt.block_on(bare::ws(url.clone(), Dialect::OneBot)),
        [t, url, count, interval] if t == "http" => {
            let count = count.parse().expect("count");
            let interval = Duration::from_millis(interval.parse().expect("interval"));
            rt.block_on(bare::http(url.clone(), count, interval));
        }
        _ => panic!("usage: echo bare ws|onebot|http URL COUNT INTERVAL_MS"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "bare") {
        return bare_main(&args[1..]);
    }
    let full = args.iter().any(|a| a == "--bench");
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let only_scripts: Option<usize> = env("ECHO_SCRIPTS").map(|v| v.parse().expect("ECHO_SCRIPTS"));
    let events: Option<u64> = env("ECHO_EVENTS").map(|v| v.parse().expect("ECHO_EVENTS"));
    let subjects: Vec<Subject> = if let Some(n) = only_scripts {
        vec![Subject::Mahua { subscribed: n, unsubscribed: 0 }]
    } else if full {
        vec![
            Subject::Bare,
            Subject::Mahua { subscribed: 1, unsubscribed: 0 },
            Subject::Mahua { subscribed: 10, unsubscribed: 0 },
            Subject::Mahua { subscribed: 50, unsubscribed: 0 },
            Subject::Mahua { subscribed: 1, unsubscribed: 49 },
        ]
    } else {
        vec![Subject::Bare, Subject::Mahua { subscribed: 2, unsubscribed: 1 }]
    };
    let closed = |t: Transport| match (full, t, events) {
        (_, _, Some(total)) => Load::Closed { total, window: 64 },
        (true, Transport::Http, None) => Load::Closed { total: 2_000, window: 64 },
        (true, _, None) => Load::Closed { total: 50_000, window: 64 },
        (false, _, None) => Load::Closed { total: 200, window: 16 },
    };
    // Over http the poll interval sets the pace, so one round tells as much as three.
    let rounds = |t: Transport| if full && t != Transport::Http { 3 } else { 1 };
    let open = if full {
        Load::Open { total: 1_000, rate: 200 }
    } else {
        Load::Open { total: 20, rate: 200 }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let only = env("ECHO_ONLY");
    let wanted = |t: &Transport| match only.as_deref() {
        None => true,
        Some(o) => o.split(',').any(|name| name.trim() == t.name()),
    };
    let transports: Vec<Transport> = Transport::ALL.into_iter().filter(wanted).collect();
    // Cell `ti * subjects.len() + si` is transport `ti` with subject `si`.
    let cells: Vec<(Transport, Subject)> =
        transports.iter().flat_map(|&t| subjects.iter().map(move |&s| (t, s))).collect();
    // Closed-loop rounds go round every transport and subject in turn, so a machine that
    // speeds up or slows down during the run weighs on all of them alike; each takes its
    // median round. The open-loop runs go round the same way, each subject over every
    // transport in turn.
    let mut closed_runs: Vec<Vec<(Measured, u64)>> = vec![Vec::new(); cells.len()];
    let most = transports.iter().map(|&t| rounds(t)).max().unwrap_or(0);
    for round in 0..most {
        if full {
            eprintln!("echo: closed-loop round {} of {most}", round + 1);
        }
        for (i, &(t, subject)) in cells.iter().enumerate() {
            if round < rounds(t) {
                closed_runs[i].push(rt.block_on(run(t, subject, closed(t))));
            }
        }
    }
    if full {
        eprintln!("echo: open loops");
    }
    let mut open_runs: Vec<(Measured, u64)> = vec![(Measured::default(), 0); cells.len()];
    for si in 0..subjects.len() {
        for ti in 0..transports.len() {
            let i = ti * subjects.len() + si;
            let (t, subject) = cells[i];
            open_runs[i] = rt.block_on(run(t, subject, open));
        }
    }
    // Each cell's median closed round, the rate of every round, and the peak RSS of all.
    let medians: Vec<(Measured, Vec<f64>, u64)> = cells
        .iter()
        .zip(closed_runs)
        .map(|(&(t, _), mut runs)| {
            let total = server::load_total(closed(t)) as f64;
            runs.sort_by_key(|r| r.0.took);
            let round_rates: Vec<f64> =
                runs.iter().map(|r| (total / r.0.took.as_secs_f64()).round()).collect();
            let rss = runs.iter().map(|r| r.1).max().unwrap_or(0);
            (runs.swap_remove(runs.len() / 2).0, round_rates, rss)
        })
        .collect();
    let rate_of =
        |i: usize| server::load_total(closed(cells[i].0)) as f64 / medians[i].0.took.as_secs_f64();
    let ws_at = transports.iter().position(|&t| t == Transport::Ws);
    let mut rows = Vec::new();
    for (ti, &t) in transports.iter().enumerate() {
        let Load::Closed { total, window } = closed(t) else { unreachable!() };
        println!("{} — closed loop: {total} events, {window} in flight at most, median of {} round(s); open loop: {} events at 200/s", t.name(), rounds(t), server::load_total(open));
        let base = rate_of(ti * subjects.len());
        for (si, &subject) in subjects.iter().enumerate() {
            let i = ti * subjects.len() + si;
            let (c, round_rates, rss_closed) = &medians[i];
            let (o, rss_open) = &open_runs[i];
            let rate = rate_of(i);
            // Over OneBot, the same subject's rate over mirai-api-http ws is the yardstick.
            let of_ws = ws_at.filter(|_| t == Transport::OneBot).map(|w| {
                let ws_rate = rate_of(w * subjects.len() + si);
                (rate / ws_rate * 1000.0).round() / 1000.0
            });
            let per_event = |d: Duration| d.as_secs_f64() * 1e6 / total as f64;
            let (cpu_user, cpu_sys) = (per_event(c.cpu.0), per_event(c.cpu.1));
            let cpu_us = cpu_user + cpu_sys;
            let mut lat = o.latencies.clone();
            lat.sort();
            let (p50, p99, max) = (
                percentile(&lat, 0.5),
                percentile(&lat, 0.99),
                lat.last().copied().unwrap_or_default(),
            );
            let rss = (*rss_closed).max(*rss_open);
            let of_ws_text =
                of_ws.map(|r| format!(", {:.0}% of ws", r * 100.0)).unwrap_or_default();
            println!(
                "  {:<32} {rate:>8.0} events/s ({:>3.0}% of bare{of_ws_text}; rounds {round_rates:?}), {cpu_us:>5.1} µs CPU/event ({cpu_sys:.0} in the kernel); open p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; peak RSS {:.1} MiB; start-up {:.0} ms to the first event handled ({:.0} ms to connect)",
                subject.label(),
                rate / base * 100.0,
                ms(p50), ms(p99), ms(max),
                rss as f64 / 1024.0,
                ms(o.first_reply), ms(o.connected),
            );
            let (subscribed, unsubscribed) = match subject {
                Subject::Bare => (0, 0),
                Subject::Mahua { subscribed, unsubscribed } => (subscribed, unsubscribed),
            };
            let mut row = json!({
                "transport": t.name(), "client": if matches!(subject, Subject::Bare) { "bare" } else { "mahua" },
                "subscribed": subscribed, "unsubscribed": unsubscribed,
                "events_per_s": rate.round(), "rounds_events_per_s": round_rates, "ratio_to_bare": (rate / base * 1000.0).round() / 1000.0,
                "cpu_us_per_event": (cpu_us * 10.0).round() / 10.0,
                "kernel_cpu_us_per_event": (cpu_sys * 10.0).round() / 10.0,
                "open_p50_ms": ms(p50), "open_p99_ms": ms(p99), "open_max_ms": ms(max),
                "peak_rss_kib": rss, "startup_ms": ms(o.first_reply), "connect_ms": ms(o.connected),
            });
            if let Some(r) = of_ws {
                row["ratio_to_ws"] = json!(r);
            }
            rows.push(row);
        }
    }
    let summary: Value = json!({"bench": "echo", "rows": rows});
    println!("{summary}");
}
