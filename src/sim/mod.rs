//! A mirai-api-http 2.x server with an in-memory world, for tests and for trying clients.
//!
//! It serves the `ws` adapter (`/all`, `/message`, `/event`), the `http`
//! adapter (every command at its path, the unread queue, multipart uploads)
//! and a small control API (`POST /_sim/event`, `GET /_sim/sent`,
//! `GET /_sim/received`, `POST /_sim/fault`) on one port. It can be told to
//! misbehave (see the `faults` module): restart, drop links, stall, reorder. Commands act on a [`World`] and answer
//! with the real server's shapes and status codes.
//!
//! With [`SimProtocol::V1`] the http routes speak the older 1.x dialect instead
//! (see the `v1` module); the world and the command effects are the same.
//!
//! With [`SimProtocol::OneBot`] it serves OneBot v11 forward WebSocket instead, and it can
//! dial reverse-WebSocket listeners in any mode (see the `onebot` module): the same world,
//! with events translated and actions run as the matching commands.

mod content;
mod control;
mod error;
pub mod faults;
mod handlers;
mod http;
pub mod local;
mod onebot;
mod session;
mod socket;
mod v1;
pub mod world;
mod ws;

use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use error::Fail;
pub use handlers::VERSION;
pub use session::SINGLE_SESSION;
pub use world::{
    Announcement, Answer, CachedMessage, ConsoleCommand, FileNode, Friend, Group, GroupConfig,
    Member, MemberActive, Nudge, OtherClient, Permission, Profile, Request, RequestKind, Upload,
    World, DEFAULT_FRIEND, DEFAULT_GROUP, ROOT_FOLDER,
};

use crate::protocol::chain;
use crate::protocol::commands::Command;
use crate::protocol::Event;
use content::Content;
use session::Sessions;

/// How the simulated server is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// The verify key clients must present.
    pub verify_key: String,
    /// The bot's QQ number.
    pub qq: i64,
    /// Whether the verify key is checked at all.
    pub enable_verify: bool,
    /// One implicit session (`SINGLE_SESSION`) for everyone.
    pub single_mode: bool,
    /// Size limit of an http session's unread queue (0 disables queuing).
    pub unread_queue_max: usize,
    /// How long an unbound http session lives.
    pub session_expiry: Duration,
    /// Which mirai-api-http dialect the http routes speak.
    pub protocol: SimProtocol,
    /// OneBot: the token clients must send (`None`: no check).
    pub access_token: Option<String>,
    /// OneBot: how often each socket gets a heartbeat (zero: never).
    pub heartbeat: Duration,
    /// OneBot: message events carry `message` as a CQ-code string instead of segments.
    pub cq_strings: bool,
}

/// The mirai-api-http dialect the simulator speaks.
///
/// In 1.x mode only the 1.x http routes (and the control API) are served:
/// there is no ws adapter, `single_mode` and `enable_verify` do not exist
/// (the `authKey` is always checked against `verify_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SimProtocol {
    /// mirai-api-http 2.x: the ws and http adapters.
    #[default]
    V2,
    /// mirai-api-http 1.x over http: `/auth` + `/verify`, bare lists and bare upload ids.
    V1 {
        /// Whether the unread-queue routes wrap their answer as `{"code":0,"data":…}`
        /// (later 1.x) instead of answering the bare array (early 1.x).
        wrapped_fetch: bool,
    },
    /// OneBot v11 forward WebSocket on any path (universal role), plus the control API.
    OneBot,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            verify_key: "INITKEYmahua".to_owned(),
            qq: 10000,
            enable_verify: true,
            single_mode: false,
            unread_queue_max: 100,
            session_expiry: Duration::from_secs(180),
            protocol: SimProtocol::V2,
            access_token: None,
            heartbeat: Duration::from_secs(30),
            cq_strings: false,
        }
    }
}

/// A command that reached the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// `"ws"`, `"http"` or `"onebot"`.
    pub adapter: &'static str,
    /// The command name.
    pub command: String,
    /// The subCommand, where one was sent.
    pub sub_command: Option<String>,
    /// The content as sent (a decoded query for GET, the form fields for uploads).
    pub content: Value,
}

/// A message the bot sent.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    /// The command that sent it (`sendGroupMessage`, …).
    pub command: String,
    /// The conversation: friend, group, member (temp) or client id.
    pub target: i64,
    /// For temp messages, the group the member was reached through.
    pub group: Option<i64>,
    /// The chain as the client sent it.
    pub chain: Value,
    /// The message id it quoted, if any.
    pub quote: Option<i64>,
    /// Its message id in the conversation.
    pub message_id: i64,
}

impl SentMessage {
    /// The JSON form `GET /_sim/sent` lists.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "command": self.command, "target": self.target, "group": self.group,
            "chain": self.chain, "quote": self.quote, "messageId": self.message_id,
        })
    }
}

/// A condition did not come true in time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("timed out after {within:?} waiting for {what}")]
pub struct WaitTimeout {
    /// What was waited for.
    pub what: String,
    /// How long.
    pub within: Duration,
}

#[derive(Debug, Default)]
struct Log {
    received: Vec<Received>,
    sent: Vec<SentMessage>,
}

/// The shared state behind a [`Sim`].
#[derive(Debug)]
struct Inner {
    cfg: SimConfig,
    addr: SocketAddr,
    world: Mutex<World>,
    sessions: Mutex<Sessions>,
    log: Mutex<Log>,
    changed: watch::Sender<u64>,
    shutdown: watch::Sender<bool>,
    server: Mutex<Option<Listening>>,
    faults: Mutex<faults::State>,
    /// Pushed events that reached no client (see [`Sim::undelivered`]).
    undelivered: AtomicU64,
    /// What the OneBot face remembers.
    onebot: onebot::Face,
}

/// The task accepting connections, and how to stop it.
#[derive(Debug)]
struct Listening {
    task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

thread_local! {
    /// Set while a `wait_for` condition runs: what it looks at is not a change.
    static IN_CONDITION: Cell<bool> = const { Cell::new(false) };
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Inner {
    fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    fn sessions(&self) -> MutexGuard<'_, Sessions> {
        lock(&self.sessions)
    }

    fn faults(&self) -> MutexGuard<'_, faults::State> {
        lock(&self.faults)
    }

    /// Count pushed events that reached no client.
    fn lost(&self, n: u64) {
        if n > 0 {
            self.undelivered.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// A session table as the server has it when it starts.
    fn fresh_sessions(cfg: &SimConfig) -> Sessions {
        let bound = (!cfg.enable_verify).then_some(cfg.qq);
        // 1.x has no single mode.
        let single = cfg.single_mode && cfg.protocol == SimProtocol::V2;
        Sessions::new(single, bound, cfg.session_expiry, cfg.unread_queue_max)
    }

    /// Serve the routes on `listener` until told to stop.
    fn listen(self: &Arc<Self>, listener: TcpListener) {
        let app = match self.cfg.protocol {
            SimProtocol::V2 => http::router(Arc::clone(self)),
            SimProtocol::V1 { .. } => v1::router(Arc::clone(self)),
            SimProtocol::OneBot => onebot::router(Arc::clone(self)),
        };
        let (stop_tx, mut stop) = watch::channel(false);
        let task = tokio::spawn(async move {
            let stopped = async move {
                // An error means the sender is gone, which also means stop.
                let _ = stop.wait_for(|s| *s).await;
            };
            // Frames are small and answered at once: do not let Nagle hold them back.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stopped).await {
                tracing::error!(target: "mahua::sim", "server stopped: {e}");
            }
        });
        *lock(&self.server) = Some(Listening { task, stop: stop_tx });
    }

    /// Stop accepting connections and wait (briefly) for the open ones to end.
    async fn stop_listening(&self) {
        let listening = lock(&self.server).take();
        if let Some(Listening { mut task, stop }) = listening {
            stop.send_replace(true);
            if tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err() {
                task.abort();
            }
        }
    }

    /// Wake everyone waiting for a change.
    fn bump(&self) {
        if IN_CONDITION.with(Cell::get) {
            return;
        }
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn record(
        &self,
        adapter: &'static str,
        command: &str,
        sub_command: Option<&str>,
        content: Value,
    ) {
        let mut shown = content.clone();
        for secret in ["verifyKey", "authKey"] {
            if let Some(key) = shown.get_mut(secret) {
                *key = json!("<hidden>");
            }
        }
        if matches!(
            command,
            "countMessage"
                | "fetchMessage"
                | "fetchLatestMessage"
                | "peekMessage"
                | "peakMessage"
                | "peekLatestMessage"
        ) {
            tracing::debug!(target: "mahua::sim", adapter, command, sub = sub_command, content = %shown, "command");
        } else {
            tracing::info!(target: "mahua::sim", adapter, command, sub = sub_command, content = %shown, "command");
        }
        lock(&self.log).received.push(Received {
            adapter,
            command: command.to_owned(),
            sub_command: sub_command.map(str::to_owned),
            content,
        });
        self.bump();
    }

    /// Run a command for a bound session and apply what it caused.
    fn execute(&self, cmd: &Command, content: &Content, session: &str) -> Value {
        self.try_execute(cmd, content, session).unwrap_or_else(|f| f.body())
    }

    /// Run a command for a bound session and apply what it caused; the failure as it is.
    fn try_execute(&self, cmd: &Command, content: &Content, session: &str) -> Result<Value, Fail> {
        let mut fx = handlers::Effects::default();
        let result =
            handlers::run(&mut self.world(), cmd, content, handlers::Ctx { session }, &mut fx);
        self.apply(fx);
        result
    }

    fn apply(&self, fx: handlers::Effects) {
        if !fx.sent.is_empty() {
            let mut log = lock(&self.log);
            for s in fx.sent {
                tracing::info!(target: "mahua::sim", command = %s.command, target = s.target, id = s.message_id, chain = %s.chain, "bot sent");
                log.sent.push(s);
            }
        }
        for e in &fx.events {
            self.spread(e);
        }
        self.bump();
    }

    fn deliver(&self, event: &Value) {
        self.spread(event);
        self.bump();
    }

    /// Push an event to every session and, translated, to every OneBot socket.
    fn spread(&self, event: &Value) {
        let onebot =
            if self.sessions().has_onebot() { self.onebot.frame(self, event) } else { None };
        let lost = self.sessions().deliver(event, onebot.as_deref());
        self.lost(lost);
    }

    /// Remember what a pushed event means for later commands: cache a message, note a request.
    fn note(w: &mut World, event: &Value) {
        let ev = Event(event.clone());
        if ev.is_message() {
            if let (Some(conversation), Some(id)) = (ev.conversation(), ev.message_id()) {
                let chain = &event["messageChain"];
                let time = chain
                    .get(0)
                    .and_then(|s| s.get("time"))
                    .and_then(Value::as_i64)
                    .unwrap_or_else(world::now);
                let is_sync = ev.kind().ends_with("SyncMessage");
                let author = if is_sync {
                    w.bot.id
                } else {
                    event["sender"]["id"].as_i64().unwrap_or_default()
                };
                w.cache_message(CachedMessage {
                    conversation,
                    id,
                    time,
                    from_bot: is_sync,
                    author,
                    packet: event.clone(),
                });
            }
        } else if matches!(
            ev.kind(),
            "NewFriendRequestEvent" | "MemberJoinRequestEvent" | "BotInvitedJoinGroupRequestEvent"
        ) {
            w.learn(event);
        }
    }

    /// Learn the contacts of an event, give a message packet a Source, cache and push it.
    fn inject(&self, mut event: Value) -> Option<i64> {
        let result = {
            let mut w = self.world();
            w.learn(&event);
            let ev = Event(event.clone());
            let mut result = event.get("eventId").and_then(Value::as_i64);
            if ev.is_message() {
                if let Some(conversation) = ev.conversation() {
                    let id = match ev.message_id() {
                        Some(id) => id,
                        None => {
                            let id = w.next_message_id(conversation);
                            let source =
                                json!({ "type": "Source", "id": id, "time": world::now() });
                            match event.get_mut("messageChain") {
                                Some(Value::Array(chain)) => chain.insert(0, source),
                                _ => event["messageChain"] = json!([source]),
                            }
                            id
                        }
                    };
                    if ev.kind() == "GroupMessage" {
                        let sender = event["sender"]["id"].as_i64().unwrap_or_default();
                        if let Some(m) = w.member_mut(conversation, sender) {
                            m.last_speak_timestamp = world::now();
                        }
                    }
                    result = Some(id);
                }
            }
            Self::note(&mut w, &event);
            result
        };
        self.deliver(&event);
        result
    }

    /// Stop the server after this timer if the session is still unbound.
    fn expire_later(self: &Arc<Self>, key: String) {
        let weak: Weak<Self> = Arc::downgrade(self);
        let expiry = self.cfg.session_expiry;
        tokio::spawn(async move {
            tokio::time::sleep(expiry).await;
            if let Some(inner) = weak.upgrade() {
                if inner.sessions().expire(&key) {
                    inner.bump();
                }
            }
        });
    }
}

/// A running simulated server; clones share it.
#[derive(Debug, Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

fn chain_of(v: Value) -> Vec<Value> {
    let text = match &v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match chain::normalize(v) {
        Ok(Value::Array(items)) => items,
        _ => vec![chain::plain(&text)],
    }
}

impl Sim {
    /// Start on `127.0.0.1` with a port the system picks.
    pub async fn start(cfg: SimConfig) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), cfg).await
    }

    /// Start on the given address.
    pub async fn start_on(addr: SocketAddr, cfg: SimConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            world: Mutex::new(World::new(cfg.qq)),
            sessions: Mutex::new(Inner::fresh_sessions(&cfg)),
            log: Mutex::new(Log::default()),
            changed: watch::Sender::new(0),
            shutdown: watch::Sender::new(false),
            server: Mutex::new(None),
            faults: Mutex::new(faults::State::default()),
            undelivered: AtomicU64::new(0),
            onebot: onebot::Face::default(),
            addr,
            cfg,
        });
        inner.listen(listener);
        Ok(Self { inner })
    }

    /// The address it listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `ws://127.0.0.1:PORT`.
    #[must_use]
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.inner.addr)
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn http_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// The configuration it runs with.
    #[must_use]
    pub fn config(&self) -> &SimConfig {
        &self.inner.cfg
    }

    /// Look at or change the world.
    pub fn world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let r = f(&mut self.inner.world());
        self.inner.bump();
        r
    }

    /// Push any event as it is to every bound session (sockets by path, http queues).
    ///
    /// Message packets with a `Source` are also cached, and request events
    /// remembered, so later commands can refer to them; contacts are not learnt.
    pub fn push(&self, event: Value) {
        Inner::note(&mut self.inner.world(), &event);
        self.inner.deliver(&event);
    }

    /// Push an event after learning its contacts; a message packet without a `Source` gets one.
    ///
    /// Returns the message id of a message packet or the `eventId` of a request.
    pub fn inject(&self, event: Value) -> Option<i64> {
        self.inner.inject(event)
    }

    fn ensure_member(w: &mut World, group: i64, member: i64) -> Option<Value> {
        if w.group(group).is_none() {
            w.add_group(group, &format!("group{group}"), Permission::Member);
        }
        if w.member(group, member).is_none() {
            w.add_member(group, member, &format!("user{member}"), Permission::Member);
        }
        w.member_json(group, member)
    }

    fn packet(&self, kind: &str, sender: Value, chain: Value) -> i64 {
        let event = json!({ "type": kind, "messageChain": chain_of(chain), "sender": sender });
        self.inner.inject(event).unwrap_or_default()
    }

    /// A group member says something in a group; returns the message id.
    pub fn group_message(&self, group: i64, sender: i64, chain: Value) -> i64 {
        let who = Self::ensure_member(&mut self.inner.world(), group, sender).unwrap_or_default();
        self.packet("GroupMessage", who, chain)
    }

    /// A friend says something to the bot; returns the message id.
    pub fn friend_message(&self, friend: i64, chain: Value) -> i64 {
        let who = {
            let mut w = self.inner.world();
            if w.friend(friend).is_none() {
                w.add_friend(friend, &format!("user{friend}"));
            }
            w.friend(friend).map(Friend::to_json).unwrap_or_default()
        };
        self.packet("FriendMessage", who, chain)
    }

    /// A group member writes to the bot privately; returns the message id.
    pub fn temp_message(&self, group: i64, sender: i64, chain: Value) -> i64 {
        let who = Self::ensure_member(&mut self.inner.world(), group, sender).unwrap_or_default();
        self.packet("TempMessage", who, chain)
    }

    /// Someone joins a group.
    pub fn member_join(&self, group: i64, member: i64) {
        let event = {
            let mut w = self.inner.world();
            let m = Self::ensure_member(&mut w, group, member);
            json!({ "type": "MemberJoinEvent", "member": m, "invitor": null })
        };
        self.inner.deliver(&event);
    }

    /// `from` nudges `target`, in a group or else in a friend chat.
    pub fn nudge(&self, from: i64, target: i64, subject_group: Option<i64>) {
        let event = {
            let mut w = self.inner.world();
            let bot = w.bot.id;
            let subject = if let Some(g) = subject_group {
                for who in [from, target].into_iter().filter(|id| *id != bot) {
                    Self::ensure_member(&mut w, g, who);
                }
                let g = w.group(g).map(Group::to_json).unwrap_or_default();
                json!({ "kind": "Group", "id": g["id"], "name": g["name"], "permission": g["permission"] })
            } else {
                let friend = if from == bot { target } else { from };
                if w.friend(friend).is_none() {
                    w.add_friend(friend, &format!("user{friend}"));
                }
                let f = w.friend(friend).map(Friend::to_json).unwrap_or_default();
                json!({ "kind": "Friend", "id": f["id"], "nickname": f["nickname"], "remark": f["remark"] })
            };
            json!({ "type": "NudgeEvent", "fromId": from, "target": target, "subject": subject, "action": "戳了戳", "suffix": "" })
        };
        self.inner.deliver(&event);
    }

    fn request(&self, build: impl FnOnce(&mut World, i64) -> Value) -> i64 {
        let (event, id) = {
            let mut w = self.inner.world();
            let id = w.next_event_id();
            let event = build(&mut w, id);
            w.learn(&event);
            (event, id)
        };
        self.inner.deliver(&event);
        id
    }

    /// Someone asks to be the bot's friend; returns the eventId.
    pub fn new_friend_request(&self, from: i64, message: &str) -> i64 {
        self.request(|_, id| {
            json!({
                "type": "NewFriendRequestEvent", "eventId": id, "message": message, "fromId": from,
                "groupId": 0, "nick": format!("user{from}"),
            })
        })
    }

    /// Someone asks to join a group; returns the eventId.
    pub fn member_join_request(&self, group: i64, from: i64, message: &str) -> i64 {
        self.request(|w, id| {
            if w.group(group).is_none() {
                w.add_group(group, &format!("group{group}"), Permission::Administrator);
            }
            let name = w.group(group).map(|g| g.name.clone()).unwrap_or_default();
            json!({
                "type": "MemberJoinRequestEvent", "eventId": id, "message": message, "fromId": from,
                "groupId": group, "groupName": name, "nick": format!("user{from}"), "invitorId": null,
            })
        })
    }

    /// Someone invites the bot into a group; returns the eventId.
    pub fn bot_invited(&self, group: i64, from: i64) -> i64 {
        self.request(|w, id| {
            let name = w.group(group).map_or_else(|| format!("group{group}"), |g| g.name.clone());
            let nick = w.friend(from).map_or_else(|| format!("user{from}"), |f| f.nickname.clone());
            json!({
                "type": "BotInvitedJoinGroupRequestEvent", "eventId": id, "message": "", "fromId": from,
                "groupId": group, "groupName": name, "nick": nick,
            })
        })
    }

    /// Every command that arrived, in order.
    #[must_use]
    pub fn received(&self) -> Vec<Received> {
        lock(&self.inner.log).received.clone()
    }

    /// Every message the bot sent, in order.
    #[must_use]
    pub fn sent(&self) -> Vec<SentMessage> {
        lock(&self.inner.log).sent.clone()
    }

    /// How many messages the bot sent that match `pred`, without copying the log.
    pub fn count_sent(&self, pred: impl Fn(&SentMessage) -> bool) -> usize {
        lock(&self.inner.log).sent.iter().filter(|m| pred(m)).count()
    }

    /// Forget the commands received and the messages sent so far (long runs keep memory flat).
    pub fn clear_log(&self) {
        let mut log = lock(&self.inner.log);
        log.received = Vec::new();
        log.sent = Vec::new();
    }

    /// How many sessions exist (unbound ones included).
    #[must_use]
    pub fn session_count(&self) -> usize {
        self.inner.sessions().len()
    }

    /// How many WebSockets are attached to sessions.
    #[must_use]
    pub fn socket_count(&self) -> usize {
        self.inner.sessions().socket_count()
    }

    /// Wait until `cond` holds, re-checking on every change, for at most `within`.
    ///
    /// `cond` may look at the world with [`Sim::world`]; that does not count as a change.
    pub async fn wait_for(
        &self,
        within: Duration,
        what: &str,
        cond: impl Fn(&Self) -> bool,
    ) -> Result<(), WaitTimeout> {
        let deadline = tokio::time::Instant::now() + within;
        let mut rx = self.inner.changed.subscribe();
        loop {
            rx.borrow_and_update();
            if self.holds(&cond) {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => {
                    return if self.holds(&cond) {
                        Ok(())
                    } else {
                        Err(WaitTimeout { what: what.to_owned(), within })
                    };
                }
            }
        }
    }

    fn holds(&self, cond: &impl Fn(&Self) -> bool) -> bool {
        struct Looking;
        impl Drop for Looking {
            fn drop(&mut self) {
                IN_CONDITION.with(|c| c.set(false));
            }
        }
        IN_CONDITION.with(|c| c.set(true));
        let _looking = Looking;
        cond(self)
    }

    /// Stop serving: close every socket and wait for the server to end.
    pub async fn shutdown(self) {
        self.inner.shutdown.send_replace(true);
        self.inner.sessions().close_all();
        self.inner.stop_listening().await;
    }
}

/// Serve on `127.0.0.1:port` (0 = any), print the address, log every command and sent message, run until Ctrl-C.
///
/// With `reverse`, also dial that OneBot reverse-WebSocket listener (again every 3 s while it is away).
pub async fn serve(cfg: SimConfig, port: u16, reverse: Option<String>) -> anyhow::Result<()> {
    let default_key = cfg.verify_key == SimConfig::default().verify_key;
    let sim = Sim::start_on(SocketAddr::from(([127, 0, 0, 1], port)), cfg).await?;
    let c = sim.config();
    if c.protocol == SimProtocol::OneBot {
        println!("OneBot v11 simulator (bot {}) listening on {}", c.qq, sim.onebot_url());
        match &c.access_token {
            Some(t) => println!(
                "  forward ws: {} (any path) with Authorization: Bearer {t} or ?access_token={t}",
                sim.onebot_url()
            ),
            None => println!("  forward ws: {} (any path), no access token", sim.onebot_url()),
        }
    } else if let SimProtocol::V1 { .. } = c.protocol {
        println!("mirai-api-http {} simulator listening on {}", v1::VERSION, sim.http_url());
        println!("  http: POST {}/auth, then /verify with qq {}", sim.http_url(), c.qq);
        if default_key {
            println!("  auth key: {}", c.verify_key);
        }
    } else {
        println!("mirai-api-http {VERSION} simulator listening on {}", sim.http_url());
        println!("  ws:   {}/all?verifyKey=…&qq={}", sim.ws_url(), c.qq);
        println!("  http: POST {}/verify, then /bind with qq {}", sim.http_url(), c.qq);
        if default_key {
            println!("  verify key: {}", c.verify_key);
        }
    }
    println!(
        "  control: POST {0}/_sim/event (push an event), GET {0}/_sim/sent (messages the bot sent), POST {0}/_sim/fault (e.g. {{\"fault\":\"restart\"}})",
        sim.http_url()
    );
    if let Some(url) = reverse {
        println!("  reverse ws: dialing {url} (again every 3 s while it is away)");
        sim.connect_reverse(&url, sim.config().access_token.clone(), Duration::from_secs(3));
    }
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
