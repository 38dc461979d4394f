//! The load generator: plays a mirai-api-http server (over ws or http) or a OneBot v11
//! server (forward WebSocket), pushes group message events ("ping N") and times the
//! replies ("pong N").

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

/// The member every event comes from.
const SENDER: i64 = 42;

/// The bot's QQ number, as the OneBot server reports it.
const BOT: i64 = 10_000;

/// Added to N for the message id of the reply to event N, so that the OneBot server's ids
/// of received and sent messages never meet.
const SENT_IDS: u64 = 1_000_000_000;

/// How events are offered.
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
    /// From the client process starting (or the listener opening) to its session: the
    /// session frame sent (mirai-api-http), or the last call before the first reply answered
    /// (OneBot, whose client asks who the bot is and loads its contacts).
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
        "sender": {"id": SENDER, "memberName": "m", "specialTitle": "", "permission": "MEMBER",
                   "joinTimestamp": 0, "lastSpeakTimestamp": 0, "muteTimeRemaining": 0,
                   "group": {"id": GROUP, "name": "g", "permission": "MEMBER"}, "active": null}
    })
}

/// A OneBot group message event for event `n`, as NapCat pushes one.
fn onebot_event(n: u64) -> Value {
    let text = format!("ping {n}");
    json!({
        "post_type": "message", "message_type": "group", "sub_type": "normal",
        "message_id": n, "group_id": GROUP, "user_id": SENDER,
        "sender": {"user_id": SENDER, "nickname": "n", "card": "", "role": "member"},
        "message": [{"type": "text", "data": {"text": text}}], "raw_message": text,
        "font": 0, "time": unix_time(), "self_id": BOT,
    })
}

/// Seconds since the epoch, as OneBot stamps events.
fn unix_time() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The N of a "pong N" text.
fn pong_text(text: &str) -> Option<u64> {
    text.strip_prefix("pong ")?.parse().ok()
}

/// The N of a "pong N" reply, if `content` is one.
fn pong(content: &Value) -> Option<u64> {
    pong_text(content["messageChain"][0]["text"].as_str()?)
}

/// The N of a OneBot `send_group_msg` whose first text is "pong N": `message` is an array
/// of segments, or a plain string.
fn onebot_pong(params: &Value) -> Option<u64> {
    let text = match &params["message"] {
        Value::String(s) => s.as_str(),
        segments => {
            let text = segments.as_array()?.iter().find(|s| s["type"] == "text")?;
            text["data"]["text"].as_str()?
        }
    };
    pong_text(text)
}

/// Which server the ws generator plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// mirai-api-http: a session frame, `syncId`-tagged pushes, `sendGroupMessage` commands.
    Mirai,
    /// OneBot v11 like NapCat: connect-time actions, `post_type` events, `send_group_msg`.
    OneBot,
}

impl Dialect {
    /// The frame sent as soon as the socket is up.
    fn greeting(self) -> Value {
        match self {
            Self::Mirai => json!({"syncId": "", "data": {"code": 0, "session": "BENCH000"}}),
            Self::OneBot => json!({
                "post_type": "meta_event", "meta_event_type": "lifecycle", "sub_type": "connect",
                "time": unix_time(), "self_id": BOT,
            }),
        }
    }

    /// The push frame of event `n`.
    fn push(self, n: u64) -> Message {
        let frame = match self {
            Self::Mirai => json!({"syncId": "-1", "data": event(n)}),
            Self::OneBot => onebot_event(n),
        };
        Message::text(frame.to_string())
    }

    /// What a frame from the client is: the N of a "pong N" it sends, and the frame that
    /// answers it, if any.
    fn answer(self, v: &Value) -> (Option<u64>, Option<Value>) {
        match self {
            Self::Mirai => {
                if v["command"] != "sendGroupMessage" {
                    return (None, None);
                }
                let n = pong(&v["content"]);
                let data = json!({"code": 0, "msg": "success", "messageId": n.unwrap_or(0)});
                (n, Some(json!({"syncId": v["syncId"], "data": data})))
            }
            Self::OneBot => {
                let (n, data) = onebot_action(v["action"].as_str().unwrap_or(""), &v["params"]);
                let answer = match data {
                    Some(data) => {
                        json!({"status": "ok", "retcode": 0, "data": data, "echo": v["echo"]})
                    }
                    None => json!({"status": "failed", "retcode": 1404, "data": null,
                                   "message": "unknown action", "wording": "unknown action", "echo": v["echo"]}),
                };
                (n, Some(answer))
            }
        }
    }
}

/// A OneBot action's pong N and its `data`; `None` for an action the server does not know.
/// The bot is a member of a small group list and has a small friend list.
fn onebot_action(action: &str, params: &Value) -> (Option<u64>, Option<Value>) {
    let data = match action {
        "send_group_msg" => {
            let n = onebot_pong(params);
            return (n, Some(json!({"message_id": SENT_IDS + n.unwrap_or(0)})));
        }
        "get_login_info" => json!({"user_id": BOT, "nickname": "echo-bot"}),
        "get_version_info" => {
            json!({"app_name": "echo-bench", "app_version": "1.0.0", "protocol_version": "v11"})
        }
        "get_friend_list" => json!([
            {"user_id": SENDER, "nickname": "n", "remark": ""},
            {"user_id": SENDER + 1, "nickname": "o", "remark": "r"},
        ]),
        "get_group_list" => json!([
            {"group_id": GROUP, "group_name": "g", "member_count": 2, "max_member_count": 200},
            {"group_id": GROUP + 1, "group_name": "h", "member_count": 2, "max_member_count": 200},
        ]),
        "get_group_member_info" => json!({
            "group_id": params["group_id"], "user_id": params["user_id"], "nickname": "echo-bot",
            "card": "", "role": "member", "join_time": 0, "last_sent_time": 0, "shut_up_timestamp": 0,
        }),
        _ => return (None, None),
    };
    (None, Some(data))
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

/// Serve one ws client as `dialect`'s server: the greeting, the start-up probe (and, over
/// OneBot, the client's connect-time calls), then the load.
pub async fn play_ws(
    listener: TcpListener,
    client: Client,
    load: Load,
    dialect: Dialect,
) -> Measured {
    let started = client.started;
    let (tcp, _) = listener.accept().await.expect("accept");
    tcp.set_nodelay(true).expect("nodelay");
    let mut ws = tokio_tungstenite::accept_async(tcp).await.expect("handshake");
    ws.send(Message::text(dialect.greeting().to_string())).await.expect("greeting");
    let mut connected = started.elapsed();
    let (mut sink, mut stream) = ws.split();
    let total = load_total(load);
    let mut clock = Clock::new(started, total);
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
    // Whether the frame was a pong, and the frame that answers it.
    let answer = |v: &Value, clock: &mut Clock, at: Instant| -> (bool, Option<Message>) {
        let (n, reply) = dialect.answer(v);
        if let Some(n) = n {
            clock.reply(n, at);
        }
        (n.is_some(), reply.map(|r| Message::text(r.to_string())))
    };
    // The start-up probe.
    clock.push(0);
    sink.send(dialect.push(0)).await.expect("push");
    loop {
        let (v, at) = replies.recv().await.expect("a reply to the probe");
        let (ponged, reply) = answer(&v, &mut clock, at);
        let Some(m) = reply else { continue };
        sink.send(m).await.expect("answer");
        if ponged {
            break;
        }
        connected = started.elapsed();
    }
    let (load_started, cpu_before) = (Instant::now(), client.cpu());
    match load {
        Load::Closed { total, window } => {
            let mut sent = 0u64;
            while clock.answered < total {
                while sent < total && sent - clock.answered < window {
                    sent += 1;
                    clock.push(sent);
                    sink.feed(dialect.push(sent)).await.expect("push");
                }
                sink.flush().await.expect("flush");
                let Some((v, at)) = replies.recv().await else { break };
                if let (_, Some(m)) = answer(&v, &mut clock, at) {
                    sink.feed(m).await.expect("answer");
                }
                while let Ok((v, at)) = replies.try_recv() {
                    if let (_, Some(m)) = answer(&v, &mut clock, at) {
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
                        sink.send(dialect.push(sent)).await.expect("push");
                    }
                    r = replies.recv() => {
                        let Some((v, at)) = r else { break };
                        if let (_, Some(m)) = answer(&v, &mut clock, at) {
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
