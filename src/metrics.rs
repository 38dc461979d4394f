//! Counters of what the scripts and the connection do, for the admin endpoint and the digest.
//!
//! Hot paths only touch relaxed atomics; a lock is taken when a script is first seen, on an
//! error, and when a snapshot is read.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::adapter::LinkEvent;
use crate::protocol::commands::{Command, COMMANDS};

/// Every counter of one bot: per script by name (surviving reloads), and the connection.
#[derive(Debug)]
pub struct Metrics {
    scripts: RwLock<BTreeMap<String, Arc<ScriptMetrics>>>,
    /// The connection to the server and the send queue.
    pub link: LinkMetrics,
    started: Instant,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            scripts: RwLock::new(BTreeMap::new()),
            link: LinkMetrics::default(),
            started: Instant::now(),
        }
    }
}

/// The slot of a command in a script's call counters; the last slot counts unknown commands.
#[must_use]
pub fn command_slot(cmd: Option<&'static Command>) -> usize {
    cmd.and_then(|c| COMMANDS.iter().position(|x| std::ptr::eq(x, c))).unwrap_or(COMMANDS.len())
}

/// The name a call slot is reported under: the Lua function name where there is one.
fn slot_name(slot: usize) -> &'static str {
    COMMANDS.get(slot).map_or("other", |c| c.lua.as_ref().map_or(c.name, |l| l.name))
}

/// The counters of one script.
#[derive(Debug)]
pub struct ScriptMetrics {
    events: AtomicU64,
    callbacks: AtomicU64,
    errors: AtomicU64,
    load_errors: AtomicU64,
    callback_us_total: AtomicU64,
    callback_us_max: AtomicU64,
    queued_events: AtomicI64,
    dropped_events: AtomicU64,
    queued_sends: AtomicI64,
    reloads: AtomicU64,
    calls: Box<[AtomicU64]>,
    last_error: Mutex<Option<String>>,
}

impl Default for ScriptMetrics {
    fn default() -> Self {
        Self {
            events: AtomicU64::new(0),
            callbacks: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            load_errors: AtomicU64::new(0),
            callback_us_total: AtomicU64::new(0),
            callback_us_max: AtomicU64::new(0),
            queued_events: AtomicI64::new(0),
            dropped_events: AtomicU64::new(0),
            queued_sends: AtomicI64::new(0),
            reloads: AtomicU64::new(0),
            calls: (0..=COMMANDS.len()).map(|_| AtomicU64::new(0)).collect(),
            last_error: Mutex::new(None),
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl ScriptMetrics {
    /// An event or lifecycle moment was queued for the script.
    pub fn queued(&self) {
        self.queued_events.fetch_add(1, Relaxed);
    }

    /// An event was dropped for the script because its queue was full; the total so far.
    pub fn dropped(&self) -> u64 {
        self.dropped_events.fetch_add(1, Relaxed) + 1
    }

    /// The script took a queued delivery to handle it: a server event or a lifecycle moment.
    pub fn taken(&self, event: bool) {
        self.queued_events.fetch_sub(1, Relaxed);
        if event {
            self.events.fetch_add(1, Relaxed);
        }
    }

    /// A callback that started at `started` ended, with the error it raised.
    pub fn callback_done(&self, started: Instant, error: Option<&mlua::Error>) {
        let us = micros(started.elapsed());
        self.callbacks.fetch_add(1, Relaxed);
        self.callback_us_total.fetch_add(us, Relaxed);
        self.callback_us_max.fetch_max(us, Relaxed);
        if let Some(e) = error {
            self.failed(crate::host::callback::describe(e));
        }
    }

    /// The script raised an error outside a callback's result (or the caller has its text).
    pub fn failed(&self, message: String) {
        self.errors.fetch_add(1, Relaxed);
        *self.last_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(message);
    }

    /// A new version of the script failed to load.
    pub fn load_failed(&self, message: String) {
        self.load_errors.fetch_add(1, Relaxed);
        *self.last_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(message);
    }

    /// The script called the server; `slot` from [`command_slot`].
    pub fn api_call(&self, slot: usize) {
        if let Some(c) = self.calls.get(slot) {
            c.fetch_add(1, Relaxed);
        }
    }

    /// A new version replaced the running one.
    pub fn reloaded(&self) {
        self.reloads.fetch_add(1, Relaxed);
    }

    /// A send of the script entered (`+1`) or left (`-1`) the send queue.
    pub fn send_queued(&self, delta: i64) {
        self.queued_sends.fetch_add(delta, Relaxed);
    }

    fn snapshot(&self, name: &str) -> ScriptSnapshot {
        let callbacks = self.callbacks.load(Relaxed);
        let total = self.callback_us_total.load(Relaxed);
        let calls = self
            .calls
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.load(Relaxed)))
            .filter(|(_, n)| *n > 0)
            .fold(BTreeMap::new(), |mut m, (i, n)| {
                *m.entry(slot_name(i).to_owned()).or_insert(0) += n;
                m
            });
        ScriptSnapshot {
            name: name.to_owned(),
            events: self.events.load(Relaxed),
            callbacks,
            errors: self.errors.load(Relaxed),
            load_errors: self.load_errors.load(Relaxed),
            callback_ms_total: ms(total),
            callback_ms_mean: mean_ms(total, callbacks),
            callback_ms_max: ms(self.callback_us_max.load(Relaxed)),
            queued_events: self.queued_events.load(Relaxed).max(0),
            dropped_events: self.dropped_events.load(Relaxed),
            queued_sends: self.queued_sends.load(Relaxed).max(0),
            reloads: self.reloads.load(Relaxed),
            calls,
            last_error: self.last_error.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        }
    }
}

fn ms(us: u64) -> f64 {
    // Counters stay far below 2^52 µs, so the conversion is exact in practice.
    #[allow(clippy::cast_precision_loss)]
    let v = us as f64 / 1e3;
    v
}

fn mean_ms(total_us: u64, n: u64) -> f64 {
    total_us.checked_div(n).map_or(0.0, ms)
}

/// Whether the link is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkState {
    /// Not connected yet.
    Starting,
    /// Connected.
    Up,
    /// Lost; reconnecting.
    Down,
}

/// The counters of the connection and the send queue.
#[derive(Debug, Default)]
pub struct LinkMetrics {
    state: AtomicU8,
    connects: AtomicU64,
    disconnects: AtomicU64,
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    sends: AtomicU64,
    send_wait_us_total: AtomicU64,
    send_wait_us_max: AtomicU64,
    send_queued: AtomicI64,
    send_retries: AtomicU64,
    send_refused: AtomicU64,
    last_disconnect: Mutex<Option<String>>,
    server: Mutex<Option<String>>,
}

impl LinkMetrics {
    /// Something came from the link: an event is a frame in; connects and drops set the state.
    pub fn on_link(&self, ev: &LinkEvent) {
        match ev {
            LinkEvent::Event(_) => {
                self.frames_in.fetch_add(1, Relaxed);
            }
            LinkEvent::Connected { .. } => {
                self.state.store(1, Relaxed);
                self.connects.fetch_add(1, Relaxed);
            }
            LinkEvent::Disconnected { reason } => {
                self.state.store(2, Relaxed);
                self.disconnects.fetch_add(1, Relaxed);
                *self.last_disconnect.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(reason.clone());
            }
        }
    }

    /// The server's implementation and version, as the connector learnt it.
    pub fn set_server(&self, server: Option<String>) {
        *self.server.lock().unwrap_or_else(PoisonError::into_inner) = server;
    }

    /// A request went out; `answered` when its answer came back.
    pub fn request(&self, answered: bool) {
        self.frames_out.fetch_add(1, Relaxed);
        if answered {
            self.frames_in.fetch_add(1, Relaxed);
        }
    }

    /// A send got its turn after waiting `waited`.
    pub fn send_granted(&self, waited: Duration) {
        let us = micros(waited);
        self.sends.fetch_add(1, Relaxed);
        self.send_wait_us_total.fetch_add(us, Relaxed);
        self.send_wait_us_max.fetch_max(us, Relaxed);
    }

    /// A send entered (`+1`) or left (`-1`) the send queue.
    pub fn send_queued(&self, delta: i64) {
        self.send_queued.fetch_add(delta, Relaxed);
    }

    /// A failed send is tried again.
    pub fn send_retried(&self) {
        self.send_retries.fetch_add(1, Relaxed);
    }

    /// A send was refused: the queue was full or its wait too long.
    pub fn send_refused(&self) {
        self.send_refused.fetch_add(1, Relaxed);
    }

    fn snapshot(&self) -> LinkSnapshot {
        let sends = self.sends.load(Relaxed);
        let connects = self.connects.load(Relaxed);
        LinkSnapshot {
            state: match self.state.load(Relaxed) {
                0 => LinkState::Starting,
                1 => LinkState::Up,
                _ => LinkState::Down,
            },
            connects,
            reconnects: connects.saturating_sub(1),
            disconnects: self.disconnects.load(Relaxed),
            frames_in: self.frames_in.load(Relaxed),
            frames_out: self.frames_out.load(Relaxed),
            sends,
            send_wait_ms_mean: mean_ms(self.send_wait_us_total.load(Relaxed), sends),
            send_wait_ms_max: ms(self.send_wait_us_max.load(Relaxed)),
            send_queued: self.send_queued.load(Relaxed).max(0),
            send_retries: self.send_retries.load(Relaxed),
            send_refused: self.send_refused.load(Relaxed),
            last_disconnect: self
                .last_disconnect
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            server: self.server.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        }
    }
}

impl Metrics {
    /// A fresh registry.
    #[must_use]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The counters of the script `name`, created on first use.
    pub fn script(&self, name: &str) -> Arc<ScriptMetrics> {
        if let Some(m) = self.scripts.read().unwrap_or_else(PoisonError::into_inner).get(name) {
            return m.clone();
        }
        self.scripts
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(name.to_owned())
            .or_default()
            .clone()
    }

    /// Every counter as it is now.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        let scripts = self.scripts.read().unwrap_or_else(PoisonError::into_inner);
        Snapshot {
            uptime_s: self.started.elapsed().as_secs_f64(),
            connection: self.link.snapshot(),
            scripts: scripts.iter().map(|(name, m)| m.snapshot(name)).collect(),
        }
    }

    /// Every counter in the Prometheus text format.
    #[must_use]
    pub fn prometheus(&self) -> String {
        self.snapshot().prometheus()
    }
}

/// Every counter at one moment; what `/status` serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Seconds since the bot started.
    pub uptime_s: f64,
    /// The connection and the send queue.
    pub connection: LinkSnapshot,
    /// Every script seen since start, by name.
    pub scripts: Vec<ScriptSnapshot>,
}

/// One script's counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptSnapshot {
    /// The file name.
    pub name: String,
    /// Server events handed to it.
    pub events: u64,
    /// Callbacks that ended.
    pub callbacks: u64,
    /// Callbacks that raised an error.
    pub errors: u64,
    /// New versions that failed to load.
    pub load_errors: u64,
    /// Time from callbacks' start to their end, waits included, summed.
    pub callback_ms_total: f64,
    /// Mean time from a callback's start to its end, waits included.
    pub callback_ms_mean: f64,
    /// The longest callback.
    pub callback_ms_max: f64,
    /// Deliveries waiting in its queue.
    pub queued_events: i64,
    /// Events dropped for it because it fell too far behind.
    pub dropped_events: u64,
    /// Its messages waiting in the send queue.
    pub queued_sends: i64,
    /// Times a new version replaced the running one.
    pub reloads: u64,
    /// Server calls by command.
    pub calls: BTreeMap<String, u64>,
    /// The last error it raised.
    pub last_error: Option<String>,
}

/// The connection's counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkSnapshot {
    /// Up, down or starting.
    pub state: LinkState,
    /// Times the link came up.
    pub connects: u64,
    /// Times it came up again after a drop.
    pub reconnects: u64,
    /// Times it dropped.
    pub disconnects: u64,
    /// Messages from the server: pushed events and answers.
    pub frames_in: u64,
    /// Requests to the server.
    pub frames_out: u64,
    /// Messages that passed the send queue.
    pub sends: u64,
    /// Mean wait in the send queue.
    pub send_wait_ms_mean: f64,
    /// Longest wait in the send queue.
    pub send_wait_ms_max: f64,
    /// Messages waiting in the send queue now.
    pub send_queued: i64,
    /// Failed sends tried again.
    pub send_retries: u64,
    /// Sends refused: queue full or waited too long.
    pub send_refused: u64,
    /// Why the link last dropped.
    pub last_disconnect: Option<String>,
    /// The server's implementation, where the connector names it (OneBot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

/// A Prometheus label value, escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Snapshot {
    /// The Prometheus text format.
    #[must_use]
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(String, f64)>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, v) in rows {
                let _ = writeln!(out, "{name}{labels} {v}");
            }
        };
        let per_script = |f: &dyn Fn(&ScriptSnapshot) -> f64| {
            self.scripts
                .iter()
                .map(|s| (format!("{{script=\"{}\"}}", label(&s.name)), f(s)))
                .collect::<Vec<_>>()
        };
        #[allow(clippy::cast_precision_loss)]
        let n = |v: u64| v as f64;
        #[allow(clippy::cast_precision_loss)]
        let i = |v: i64| v as f64;
        family(
            "mahua_script_events_total",
            "counter",
            "Server events handed to a script.",
            per_script(&|s| n(s.events)),
        );
        family(
            "mahua_script_errors_total",
            "counter",
            "Callbacks that raised an error.",
            per_script(&|s| n(s.errors)),
        );
        family(
            "mahua_script_load_errors_total",
            "counter",
            "New versions of a script that failed to load.",
            per_script(&|s| n(s.load_errors)),
        );
        family(
            "mahua_script_reloads_total",
            "counter",
            "Times a new version of a script replaced the running one.",
            per_script(&|s| n(s.reloads)),
        );
        family(
            "mahua_script_callback_seconds_sum",
            "counter",
            "Time from callbacks' start to their end, waits included.",
            per_script(&|s| s.callback_ms_total / 1e3),
        );
        family(
            "mahua_script_callback_seconds_count",
            "counter",
            "Callbacks that ended.",
            per_script(&|s| n(s.callbacks)),
        );
        family(
            "mahua_script_callback_seconds_max",
            "gauge",
            "The longest callback.",
            per_script(&|s| s.callback_ms_max / 1e3),
        );
        family(
            "mahua_script_queued_events",
            "gauge",
            "Deliveries waiting in a script's queue.",
            per_script(&|s| i(s.queued_events)),
        );
        family(
            "mahua_script_dropped_events_total",
            "counter",
            "Events dropped for a script because it fell too far behind.",
            per_script(&|s| n(s.dropped_events)),
        );
        family(
            "mahua_script_queued_sends",
            "gauge",
            "A script's messages waiting in the send queue.",
            per_script(&|s| i(s.queued_sends)),
        );
        let calls = self
            .scripts
            .iter()
            .flat_map(|s| {
                s.calls.iter().map(|(c, v)| {
                    (format!("{{script=\"{}\",command=\"{}\"}}", label(&s.name), label(c)), n(*v))
                })
            })
            .collect();
        family("mahua_script_api_calls_total", "counter", "Server calls by command.", calls);
        let c = &self.connection;
        let one = |v: f64| vec![(String::new(), v)];
        family(
            "mahua_connection_up",
            "gauge",
            "1 while connected to the server.",
            one(if c.state == LinkState::Up { 1.0 } else { 0.0 }),
        );
        family(
            "mahua_connection_reconnects_total",
            "counter",
            "Times the link came up again after a drop.",
            one(n(c.reconnects)),
        );
        family(
            "mahua_connection_disconnects_total",
            "counter",
            "Times the link dropped.",
            one(n(c.disconnects)),
        );
        family(
            "mahua_connection_frames_in_total",
            "counter",
            "Messages from the server: events and answers.",
            one(n(c.frames_in)),
        );
        family(
            "mahua_connection_frames_out_total",
            "counter",
            "Requests to the server.",
            one(n(c.frames_out)),
        );
        family(
            "mahua_send_wait_seconds_sum",
            "counter",
            "Time messages waited in the send queue.",
            one(c.send_wait_ms_mean * n(c.sends) / 1e3),
        );
        family(
            "mahua_send_wait_seconds_count",
            "counter",
            "Messages that passed the send queue.",
            one(n(c.sends)),
        );
        family(
            "mahua_send_wait_seconds_max",
            "gauge",
            "The longest wait in the send queue.",
            one(c.send_wait_ms_max / 1e3),
        );
        family(
            "mahua_send_queued",
            "gauge",
            "Messages waiting in the send queue.",
            one(i(c.send_queued)),
        );
        family(
            "mahua_send_retries_total",
            "counter",
            "Failed sends tried again.",
            one(n(c.send_retries)),
        );
        family(
            "mahua_send_refused_total",
            "counter",
            "Sends refused: the queue was full or the wait too long.",
            one(n(c.send_refused)),
        );
        family("mahua_uptime_seconds", "gauge", "Seconds since start.", one(self.uptime_s));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::commands;

    #[test]
    fn counts_survive_reloads_and_show_in_both_formats() {
        let m = Metrics::new();
        let s = m.script("a\"b.lua");
        s.queued();
        s.taken(true);
        s.api_call(command_slot(commands::find("sendGroupMessage", None)));
        s.api_call(COMMANDS.len());
        s.reloaded();
        assert!(Arc::ptr_eq(&s, &m.script("a\"b.lua")));
        let snap = m.snapshot();
        let one = &snap.scripts[0];
        assert_eq!((one.events, one.reloads, one.queued_events), (1, 1, 0));
        assert_eq!(one.calls.get("sendGroupMessage"), Some(&1));
        assert_eq!(one.calls.get("other"), Some(&1));
        let text = m.prometheus();
        assert!(text.contains("mahua_script_events_total{script=\"a\\\"b.lua\"} 1"), "{text}");
        assert!(text.contains("command=\"sendGroupMessage\"} 1"), "{text}");
    }
}
