//! Sessions: keys, binding, reference counts, unread queues, and the sockets events go to.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::error::Fail;
use crate::protocol::event::is_message_type;
use crate::protocol::frame::PUSH_SYNC_ID;
use crate::protocol::StatusCode;

/// The key of the one session in single mode.
pub const SINGLE_SESSION: &str = "SINGLE_SESSION";

/// One of the three WebSocket paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WsPath {
    /// `/all`: messages and events.
    All,
    /// `/message`: message packets only.
    Message,
    /// `/event`: everything else.
    Event,
}

impl WsPath {
    /// Whether a push of this kind goes to this path.
    #[must_use]
    pub fn wants(self, is_message: bool) -> bool {
        match self {
            Self::All => true,
            Self::Message => is_message,
            Self::Event => !is_message,
        }
    }

    /// The URL path.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "/all",
            Self::Message => "/message",
            Self::Event => "/event",
        }
    }
}

/// What a socket's writer is told to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// Send a text frame.
    Text(String),
    /// Send a pushed event; one the socket could not send counts as undelivered.
    Push(String),
    /// Close the socket (normal closure).
    Close,
    /// Close the socket with this code and reason.
    CloseWith(u16, String),
    /// Drop the connection without a closing handshake.
    Abort,
}

/// A WebSocket attached to a session.
#[derive(Debug)]
pub struct Socket {
    /// Unique per server.
    pub id: u64,
    /// The path it connected to.
    pub path: WsPath,
    /// Its writer.
    pub tx: mpsc::UnboundedSender<Outbound>,
}

/// A OneBot socket: it belongs to no session (OneBot authenticates once per connection)
/// and gets every event translated.
#[derive(Debug)]
pub struct OneBotSocket {
    /// Unique per server.
    pub id: u64,
    /// Its writer.
    pub tx: mpsc::UnboundedSender<Outbound>,
}

/// One session.
#[derive(Debug)]
pub struct Session {
    /// The bound bot, or `None` while unbound.
    pub bot: Option<i64>,
    /// References: one per `/bind`, one per attached socket.
    pub refs: usize,
    /// The unread queue (http-bound and single sessions only).
    pub queue: Option<VecDeque<Value>>,
    /// When it was created.
    pub created: Instant,
    /// Attached sockets.
    pub sockets: Vec<Socket>,
    /// The single-mode session, never destroyed.
    pub permanent: bool,
}

impl Session {
    fn new(bot: Option<i64>) -> Self {
        Self {
            bot,
            refs: 0,
            queue: None,
            created: Instant::now(),
            sockets: Vec::new(),
            permanent: false,
        }
    }
}

/// Every session of the server.
#[derive(Debug)]
pub struct Sessions {
    map: HashMap<String, Session>,
    onebot: Vec<OneBotSocket>,
    next_socket: u64,
    single: bool,
    expiry: Duration,
    queue_max: usize,
}

impl Sessions {
    /// No sessions yet (in single mode, the single one, bound when `bound_bot` is given).
    #[must_use]
    pub fn new(single: bool, bound_bot: Option<i64>, expiry: Duration, queue_max: usize) -> Self {
        let mut s = Self {
            map: HashMap::new(),
            onebot: Vec::new(),
            next_socket: 1,
            single,
            expiry,
            queue_max,
        };
        if single {
            let mut session = Session::new(bound_bot);
            session.permanent = true;
            session.queue = Some(VecDeque::new());
            s.map.insert(SINGLE_SESSION.to_owned(), session);
        }
        s
    }

    /// How many sessions exist.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// How many sessions are bound to a bot.
    #[must_use]
    pub fn bound_count(&self) -> usize {
        self.map.values().filter(|s| s.bot.is_some()).count()
    }

    /// How many sockets are attached (OneBot sockets included).
    #[must_use]
    pub fn socket_count(&self) -> usize {
        self.map.values().map(|s| s.sockets.len()).sum::<usize>() + self.onebot.len()
    }

    /// Attach a OneBot socket; its id.
    pub fn attach_onebot(&mut self, tx: mpsc::UnboundedSender<Outbound>) -> u64 {
        let id = self.next_socket;
        self.next_socket += 1;
        self.onebot.push(OneBotSocket { id, tx });
        id
    }

    /// A OneBot socket ended.
    pub fn detach_onebot(&mut self, id: u64) {
        self.onebot.retain(|s| s.id != id);
    }

    /// Whether any OneBot socket is attached.
    #[must_use]
    pub fn has_onebot(&self) -> bool {
        !self.onebot.is_empty()
    }

    /// Push a OneBot frame to every OneBot socket; whether one took it, and how many are gone.
    fn push_onebot_frame(&self, frame: &str) -> (bool, u64) {
        let (mut reached, mut lost) = (false, 0);
        for socket in &self.onebot {
            if socket.tx.send(Outbound::Push(frame.to_owned())).is_ok() {
                reached = true;
            } else {
                lost += 1;
            }
        }
        (reached, lost)
    }

    /// Push a raw OneBot event to every OneBot socket; how many times it was lost (once
    /// when there is no socket at all).
    pub fn push_onebot(&self, frame: &str) -> u64 {
        match self.push_onebot_frame(frame) {
            (false, 0) => 1,
            (_, lost) => lost,
        }
    }

    fn fresh_key(&self) -> String {
        loop {
            let key: String = std::iter::repeat_with(fastrand::alphanumeric).take(8).collect();
            if !self.map.contains_key(&key) && key != SINGLE_SESSION {
                return key;
            }
        }
    }

    /// Open an unbound session (http `/verify`); in single mode, bind the single one.
    pub fn create_unbound(&mut self, bot: i64) -> String {
        if self.single {
            if let Some(s) = self.map.get_mut(SINGLE_SESSION) {
                s.bot = Some(bot);
            }
            return SINGLE_SESSION.to_owned();
        }
        let key = self.fresh_key();
        self.map.insert(key.clone(), Session::new(None));
        key
    }

    /// Open a bound session for a new socket.
    pub fn create_bound(&mut self, bot: i64) -> String {
        let key = self.fresh_key();
        self.map.insert(key.clone(), Session::new(Some(bot)));
        key
    }

    /// Drop an unbound session that outlived the expiry; whether one was dropped.
    pub fn expire(&mut self, key: &str) -> bool {
        let expired = self
            .map
            .get(key)
            .is_some_and(|s| !s.permanent && s.bot.is_none() && s.created.elapsed() >= self.expiry);
        if expired {
            self.map.remove(key);
        }
        expired
    }

    /// The session a key names (single mode: the single session), failing with code 3.
    pub fn get(&mut self, key: Option<&str>) -> Result<&mut Session, Fail> {
        let key = if self.single {
            SINGLE_SESSION
        } else {
            key.ok_or(Fail::Status(StatusCode::SessionInvalid))?
        };
        self.expire(key);
        self.map.get_mut(key).ok_or(Fail::Status(StatusCode::SessionInvalid))
    }

    /// The bot of a bound session, failing with code 3 or 4.
    pub fn bound(&mut self, key: Option<&str>) -> Result<i64, Fail> {
        self.get(key)?.bot.ok_or(Fail::Status(StatusCode::SessionNotVerified))
    }

    /// The key requests should use (single mode ignores the one given).
    #[must_use]
    pub fn effective_key<'a>(&self, key: Option<&'a str>) -> Option<&'a str> {
        if self.single {
            Some(SINGLE_SESSION)
        } else {
            key
        }
    }

    /// http `/bind`: bind and give the session an unread queue.
    pub fn bind(&mut self, key: &str, bot: i64) -> Result<(), Fail> {
        let s = self.get(Some(key))?;
        if s.bot.is_some() && s.queue.is_some() {
            return Ok(());
        }
        s.bot = Some(bot);
        s.refs += 1;
        s.queue = Some(VecDeque::new());
        Ok(())
    }

    /// http `/release`: drop one reference; the session closes at none.
    pub fn release(&mut self, key: &str, qq: i64) -> Result<(), Fail> {
        let s = self.get(Some(key))?;
        match s.bot {
            None => return Err(StatusCode::SessionNotVerified.into()),
            Some(bot) if bot != qq => return Err(StatusCode::TargetNotFound.into()),
            Some(_) => {}
        }
        s.refs = s.refs.saturating_sub(1);
        if s.refs == 0 && !s.permanent {
            for socket in &s.sockets {
                // Nothing to do if the socket is already gone.
                let _ = socket.tx.send(Outbound::Close);
            }
            self.map.remove(key);
        }
        Ok(())
    }

    /// Attach a socket to a bound session; an older socket on the same path is told to close.
    pub fn attach(
        &mut self,
        key: &str,
        path: WsPath,
        tx: mpsc::UnboundedSender<Outbound>,
    ) -> Option<u64> {
        let id = self.next_socket;
        self.next_socket += 1;
        let s = self.map.get_mut(key)?;
        for old in s.sockets.iter().filter(|old| old.path == path) {
            // The old socket may already be closing; then there is nothing to tell it.
            let _ = old.tx.send(Outbound::Close);
        }
        s.sockets.retain(|old| old.path != path);
        s.sockets.push(Socket { id, path, tx });
        s.refs += 1;
        Some(id)
    }

    /// A socket ended: drop its reference; the session closes at none.
    pub fn detach(&mut self, key: &str, socket: u64) {
        let Some(s) = self.map.get_mut(key) else {
            return;
        };
        s.sockets.retain(|x| x.id != socket);
        s.refs = s.refs.saturating_sub(1);
        if s.refs == 0 && !s.permanent {
            self.map.remove(key);
        }
    }

    /// Push an event to every bound session (its sockets by path and its unread queue) and
    /// `onebot`, the event as OneBot has it if it has it, to every OneBot socket.
    ///
    /// Returns how many times it was lost: once for each full queue and each socket that
    /// is gone, or once when no session or socket wanted it at all.
    pub fn deliver(&mut self, event: &Value, onebot: Option<&str>) -> u64 {
        let is_message = event.get("type").and_then(Value::as_str).is_some_and(is_message_type);
        let frame = json!({ "syncId": PUSH_SYNC_ID, "data": event }).to_string();
        let (mut reached, mut lost) = (false, 0);
        for s in self.map.values_mut().filter(|s| s.bot.is_some()) {
            if let Some(q) = &mut s.queue {
                // The real queue checks its size before adding, so it holds up to max + 1.
                if self.queue_max > 0 && q.len() <= self.queue_max {
                    q.push_back(event.clone());
                    reached = true;
                } else {
                    lost += 1;
                }
            }
            for socket in s.sockets.iter().filter(|x| x.path.wants(is_message)) {
                // A socket that is going away misses the event, as on the real server.
                if socket.tx.send(Outbound::Push(frame.clone())).is_ok() {
                    reached = true;
                } else {
                    lost += 1;
                }
            }
        }
        if let Some(frame) = onebot {
            let (got, gone) = self.push_onebot_frame(frame);
            reached |= got;
            lost += gone;
        }
        if !reached && lost == 0 {
            lost = 1;
        }
        lost
    }

    /// Tell every socket to do `what` (close it, cut it).
    pub fn tell_sockets(&self, what: &Outbound) {
        let mirai = self.map.values().flat_map(|s| s.sockets.iter().map(|x| &x.tx));
        for tx in mirai.chain(self.onebot.iter().map(|x| &x.tx)) {
            // A socket that is already gone needs no telling.
            let _ = tx.send(what.clone());
        }
    }

    /// Send a raw text frame to every socket of a bound session and every OneBot socket;
    /// how many took it.
    pub fn send_raw(&self, text: &str) -> usize {
        let mirai = self.map.values().filter(|s| s.bot.is_some()).flat_map(|s| &s.sockets);
        mirai
            .map(|x| &x.tx)
            .chain(self.onebot.iter().map(|x| &x.tx))
            .filter(|tx| tx.send(Outbound::Text(text.to_owned())).is_ok())
            .count()
    }

    /// Put a raw item into every unread queue of a bound session; how many took it.
    pub fn queue_raw(&mut self, item: &Value) -> usize {
        self.map
            .values_mut()
            .filter(|s| s.bot.is_some())
            .filter_map(|s| s.queue.as_mut())
            .map(|q| q.push_back(item.clone()))
            .count()
    }

    /// Forget every session but the permanent one (its queue emptied); the sockets are cut.
    pub fn forget_all(&mut self) {
        self.tell_sockets(&Outbound::Abort);
        self.onebot.clear();
        self.map.retain(|_, s| s.permanent);
        for s in self.map.values_mut() {
            s.sockets.clear();
            s.refs = 0;
            if let Some(q) = &mut s.queue {
                q.clear();
            }
        }
    }

    /// How many events wait in unread queues.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.map.values().filter_map(|s| s.queue.as_ref()).map(VecDeque::len).sum()
    }

    /// Close every socket (server shutdown).
    pub fn close_all(&mut self) {
        self.tell_sockets(&Outbound::Close);
    }
}
