//! The load generator: plays a mirai-api-http server over ws or http, pushes
//! `GroupMessage` events ("ping N") and times the `sendGroupMessage` replies ("pong N").

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Message;

use crate::process::Client;

/// The group every event comes from and every reply goes to.
pub const GROUP: i64 = 100_000;

/// How the events are offered.
#[derive(Debug, Clone, Copy)]
pub enum Load {
    /// `total` events, at most `window` unanswered.
    Closed { total: u64, window: u64 },
    /// `total` events at `rate` per second, whatever the answers do.
    Open { total: u64, rate: u64 },
}

/// What one run measured, from the server's side.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// From the client process starting (or the listener opening) to its session.
    pub connected: Duration,
    /// From the client process starting to the first reply.
    pub first_reply: Duration,
    /// From the first event of the load to its last reply.
    pub took: Duration,
    /// Push-to-reply time of every event of the load.
    pub latencies: Vec<Duration>,
    /// The client's CPU time spent on the load: (user, system).
    pub cpu: (Duration, Duration),
}

/// A `GroupMessage` push frame's data for event `n`.
fn event(n: u64) -> Value {
    json!({
        "type": "GroupMessage",
        "messageChain": [{"type": "Source", "id": n, "time": 0}, {"type": "Plain", "text": format!("ping {n}")}],
        "sender": {"id": 42, "memberName": "m", "specialTitle": "", "permission": "MEMBER",
                   "joinTimestamp": 0, "lastSpeakTimestamp": 0, "muteTimeRemaining": 0,
                   "group": {"id": GROUP, "name": "g", "permission": "MEMBER"}, "active": null}
    })
}

/// The N of a "pong N" reply, if `content` is one.
fn pong(content: &Value) -> Option<u64> {
    content["messageChain"][0]["text"].as_str()?.strip_prefix("pong ")?.parse().ok()
}

/// The transport-neutral half of the generator: a clock of pushes and replies.
struct Clock {
    started: Instant,
    pushed: Vec<Option<Instant>>,
    latencies: Vec<Duration>,
    first_reply: Option<Duration>,
    answered: u64,
}

impl Clock {
    fn new(started: Instant, total: u64) -> Self {
        let slots = usize::try_from(total + 1).expect("fits");
        Self {
            started,
            pushed: vec![None; slots],
            latencies: Vec::with_capacity(slots),
            first_reply: None,
            answered: 0,
        }
    }

    fn push(&mut self, n: u64) {
        self.pushed[usize::try_from(n).expect("fits")] = Some(Instant::now());
    }

    /// The reply to event `n` arrived at `at`.
    fn reply(&mut self, n: u64, at: Instant) {
        self.first_reply.get_or_insert_with(|| at - self.started);
        if let Some(Some(pushed)) = self.pushed.get(usize::try_from(n).expect("fits")) {
            if n > 0 {
                self.latencies.push(at - *pushed);
                self.answered += 1;
            }
        }
    }
}

/// Event 0 is the start-up probe; the load's events are 1..=total.
pub fn load_total(load: Load) -> u64 {
    match load {
        Load::Closed { total, .. } | Load::Open { total, .. } => total,
    }
}

/// Serve one ws client: the session frame, the start-up probe, then the load.
pub async fn play_ws(listener: TcpListener, client: Client, load: Load) -> Measured {
    let started = client.started;
    let (tcp, _) = listener.accept().await.expect("accept");
    tcp.set_nodelay(true).expect("nodelay");
    let mut ws = tokio_tungstenite::accept_async(tcp).await.expect("handshake");
    let session = json!({"syncId": "", "data": {"code": 0, "session": "BENCH000"}});
    ws.send(Message::text(session.to_string())).await.expect("session");
    let connected = started.elapsed();
    let (mut sink, mut stream) = ws.split();
    let total = load_total(load);
    let mut clock = Clock::new(started, total);
    let push = |n: u64| Message::text(json!({"syncId": "-1", "data": event(n)}).to_string());
    // Replies are read on their own task, so an open-loop schedule is never held up by them.
    let (replies_tx, mut replies) = mpsc::unbounded_channel::<(Value, Instant)>();
    let reader = tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            if let Message::Text(text) = msg {
                let v: Value = serde_json::from_str(&text).expect("json");
                if replies_tx.send((v, Instant::now())).is_err() {
                    return;
                }
            }
        }
    });
    let answer = |v: &Value, clock: &mut Clock, at: Instant| -> Option<Message> {
        if v["command"] != "sendGroupMessage" {
            return None;
        }
        let n = pong(&v["content"])?;
        clock.reply(n, at);
        let reply =
            json!({"syncId": v["syncId"], "data": {"code": 0, "msg": "success", "messageId": n}});
        Some(Message::text(reply.to_string()))
    };
    // The start-up probe.
    clock.push(0);
    sink.send(push(0)).await.expect("push");
    loop {
        let (v, at) = replies.recv().await.expect("a reply to the probe");
        if let Some(m) = answer(&v, &mut clock, at) {
            sink.send(m).await.expect("answer");
            break;
        }
    }
    let (load_started, cpu_before) = (Instant::now(), client.cpu());
    match load {
        Load::Closed { total, window } => {
            let mut sent = 0u64;
            while clock.answered < total {
                while sent < total && sent - clock.answered < window {
                    sent += 1;
                    clock.push(sent);
                    sink.feed(push(sent)).await.expect("push");
                }
                sink.flush().await.expect("flush");
                let Some((v, at)) = replies.recv().await else { break };
                if let Some(m) = answer(&v, &mut clock, at) {
                    sink.feed(m).await.expect("answer");
                }
                while let Ok((v, at)) = replies.try_recv() {
                    if let Some(m) = answer(&v, &mut clock, at) {
                        sink.feed(m).await.expect("answer");
                    }
                }
            }
        }
        Load::Open { total, rate } => {
            let every = Duration::from_secs(1) / u32::try_from(rate).expect("rate");
            let mut tick = tokio::time::interval(every);
            let mut sent = 0u64;
            while clock.answered < total {
                tokio::select! {
                    _ = tick.tick(), if sent < total => {
                        sent += 1;
                        clock.push(sent);
                        sink.send(push(sent)).await.expect("push");
                    }
                    r = replies.recv() => {
                        let Some((v, at)) = r else { break };
                        if let Some(m) = answer(&v, &mut clock, at) {
                            sink.send(m).await.expect("answer");
                        }
                    }
                }
            }
        }
    }
    let took = load_started.elapsed();
    let cpu_after = client.cpu();
    let cpu = (cpu_after.0.saturating_sub(cpu_before.0), cpu_after.1.saturating_sub(cpu_before.1));
    reader.abort();
    Measured {
        connected,
        first_reply: clock.first_reply.unwrap_or_default(),
        took,
        latencies: clock.latencies,
        cpu,
    }
}

/// The http side's shared state: events waiting to be fetched, and the clock.
struct HttpState {
    queue: Mutex<VecDeque<Value>>,
    clock: Mutex<Clock>,
    session: Mutex<Option<Duration>>,
    /// Woken on every reply and on the bind.
    changed: Notify,
}

#[derive(serde::Deserialize)]
struct FetchQuery {
    count: Option<usize>,
}

/// Serve one http-polling client: verify, bind, fetchMessage, sendGroupMessage, release.
pub async fn play_http(listener: TcpListener, client: Client, load: Load) -> Measured {
    let started = client.started;
    let total = load_total(load);
    let state = Arc::new(HttpState {
        queue: Mutex::new(VecDeque::new()),
        clock: Mutex::new(Clock::new(started, total)),
        session: Mutex::new(None),
        changed: Notify::new(),
    });
    let app = Router::new()
        .route("/verify", post(|| async { Json(json!({"code": 0, "session": "BENCH000"})) }))
        .route(
            "/bind",
            post(|State(s): State<Arc<HttpState>>| async move {
                let mut session = s.session.lock().expect("lock");
                if session.is_none() {
                    *session = Some(s.clock.lock().expect("lock").started.elapsed());
                    // The start-up probe waits for the first fetch.
                    s.clock.lock().expect("lock").push(0);
                    s.queue.lock().expect("lock").push_back(event(0));
                }
                s.changed.notify_waiters();
                Json(json!({"code": 0, "msg": "success"}))
            }),
        )
        .route(
            "/fetchMessage",
            get(|State(s): State<Arc<HttpState>>, Query(q): Query<FetchQuery>| async move {
                let mut queue = s.queue.lock().expect("lock");
                let n = q.count.unwrap_or(10).min(queue.len());
                let data: Vec<Value> = queue.drain(..n).collect();
                Json(json!({"code": 0, "msg": "", "data": data}))
            }),
        )
        .route(
            "/sendGroupMessage",
            post(|State(s): State<Arc<HttpState>>, Json(body): Json<Value>| async move {
                let n = pong(&body);
                if let Some(n) = n {
                    s.clock.lock().expect("lock").reply(n, Instant::now());
                    s.changed.notify_waiters();
                }
                Json(json!({"code": 0, "msg": "success", "messageId": n.unwrap_or(0)}))
            }),
        )
        .route("/release", post(|| async { Json(json!({"code": 0, "msg": "success"})) }))
        .with_state(state.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let answered = |s: &HttpState| {
        let c = s.clock.lock().expect("lock");
        (c.first_reply.is_some(), c.answered)
    };
    // Wait for the start-up probe's reply.
    loop {
        let notified = state.changed.notified();
        if answered(&state).0 {
            break;
        }
        notified.await;
    }
    let push = |n: u64| {
        state.clock.lock().expect("lock").push(n);
        state.queue.lock().expect("lock").push_back(event(n));
    };
    let (load_started, cpu_before) = (Instant::now(), client.cpu());
    match load {
        Load::Closed { total, window } => {
            let mut sent = 0u64;
            loop {
                let notified = state.changed.notified();
                let done = answered(&state).1;
                if done >= total {
                    break;
                }
                while sent < total && sent - done < window {
                    sent += 1;
                    push(sent);
                }
                notified.await;
            }
        }
        Load::Open { total, rate } => {
            let every = Duration::from_secs(1) / u32::try_from(rate).expect("rate");
            let mut tick = tokio::time::interval(every);
            for n in 1..=total {
                tick.tick().await;
                push(n);
            }
            loop {
                let notified = state.changed.notified();
                if answered(&state).1 >= total {
                    break;
                }
                notified.await;
            }
        }
    }
    let took = load_started.elapsed();
    let cpu_after = client.cpu();
    let cpu = (cpu_after.0.saturating_sub(cpu_before.0), cpu_after.1.saturating_sub(cpu_before.1));
    server.abort();
    let connected = state.session.lock().expect("lock").unwrap_or_default();
    let mut clock = state.clock.lock().expect("lock");
    Measured {
        connected,
        first_reply: clock.first_reply.unwrap_or_default(),
        took,
        latencies: std::mem::take(&mut clock.latencies),
        cpu,
    }
}
