//! The send queue: every outgoing message waits for a token of a global bucket and of its
//! conversation's bucket, scripts take turns, and sends that failed for a passing reason are
//! tried again.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{backoff, Adapter, BoxFuture, Call, CallError, Upload};
use crate::metrics::{Metrics, ScriptMetrics};
use crate::protocol::StatusCode;

/// The rate limits and retries of outgoing messages (`[send]` in mahua.toml).
#[derive(Debug, Clone, PartialEq)]
pub struct SendOptions {
    /// Messages per second over all conversations; 0 for no limit.
    pub rate: f64,
    /// Messages that may go at once before `rate` applies.
    pub burst: u32,
    /// Messages per second into one conversation; 0 for no limit.
    pub per_chat_rate: f64,
    /// Messages that may go into one conversation at once.
    pub per_chat_burst: u32,
    /// Up to this much random delay before each message.
    pub jitter: Duration,
    /// How many messages may wait; more are refused at once.
    pub capacity: usize,
    /// How long a message may wait for its turn before the send fails.
    pub max_wait: Duration,
    /// How often a send that failed for a passing reason is tried again.
    pub retries: u32,
}

impl Default for SendOptions {
    fn default() -> Self {
        Self {
            rate: 1.0,
            burst: 5,
            per_chat_rate: 0.5,
            per_chat_burst: 3,
            jitter: Duration::ZERO,
            capacity: 200,
            max_wait: Duration::from_secs(30),
            retries: 2,
        }
    }
}

impl SendOptions {
    /// No rate limits at all (still bounded, still retried).
    #[must_use]
    pub fn unlimited() -> Self {
        Self { rate: 0.0, per_chat_rate: 0.0, ..Self::default() }
    }

    fn limited(&self) -> bool {
        self.rate > 0.0 || self.per_chat_rate > 0.0 || !self.jitter.is_zero()
    }
}

/// A token bucket: `burst` tokens, refilled at `rate` per second; a rate of 0 never runs dry.
#[derive(Debug, Clone)]
pub struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// A full bucket.
    #[must_use]
    pub fn new(rate: f64, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        Self { rate, burst, tokens: burst, at: now }
    }

    fn refill(&mut self, now: Instant) {
        if self.rate > 0.0 {
            let gained = now.saturating_duration_since(self.at).as_secs_f64() * self.rate;
            self.tokens = (self.tokens + gained).min(self.burst);
        }
        self.at = now;
    }

    /// When the next token is there (`now` if it is).
    pub fn ready_at(&mut self, now: Instant) -> Instant {
        self.refill(now);
        if self.rate <= 0.0 || self.tokens >= 1.0 {
            return now;
        }
        let wait = Duration::from_secs_f64((1.0 - self.tokens) / self.rate);
        now + wait.max(Duration::from_millis(1))
    }

    /// Take a token; call only when [`Bucket::ready_at`] said `now`.
    pub fn take(&mut self) {
        if self.rate > 0.0 {
            self.tokens -= 1.0;
        }
    }

    fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.rate <= 0.0 || self.tokens >= self.burst
    }
}

/// The conversation a message goes to: each has its own bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Conversation {
    /// A friend chat.
    Friend(i64),
    /// A group.
    Group(i64),
    /// A temp chat with a member, through a group.
    Temp {
        /// The group.
        group: i64,
        /// The member.
        qq: i64,
    },
    /// Another client of the bot account.
    Client(i64),
    /// A friend or a group the server decides between (`sendImageMessage`).
    Target(i64),
}

/// `Some(conversation)` when `call` sends a message (`Some(None)` if its conversation is
/// unclear); `None` for every other command.
#[must_use]
pub fn conversation(call: &Call) -> Option<Option<Conversation>> {
    let id = |k: &str| call.content.get(k).and_then(Value::as_i64);
    let temp = || Some(Conversation::Temp { group: id("group")?, qq: id("qq")? });
    Some(match call.command.as_str() {
        "sendFriendMessage" => id("target").or_else(|| id("qq")).map(Conversation::Friend),
        "sendGroupMessage" => id("target").or_else(|| id("group")).map(Conversation::Group),
        "sendTempMessage" => temp(),
        "sendOtherClientMessage" => id("target").map(Conversation::Client),
        "sendImageMessage" => id("target").map(Conversation::Target).or_else(temp).or_else(|| {
            id("qq").map(Conversation::Friend).or_else(|| id("group").map(Conversation::Group))
        }),
        "sendNudge" => {
            let subject = id("subject").or_else(|| id("target"));
            match call.content.get("kind").and_then(Value::as_str) {
                Some("Group") => subject.map(Conversation::Group),
                _ => subject.map(Conversation::Friend),
            }
        }
        _ => return None,
    })
}

/// Whether a failed send is worth trying again.
///
/// Only failures where the message surely did not go out, and might next time:
/// - the server could not be reached at all ([`CallError::Offline`]);
/// - code 500 saying the bot is offline (Mirai is reconnecting to QQ), checked before sending.
///
/// Not retried: every other status code, as it will not change by trying again (10 no
/// permission, 20 muted, 30 too long, 5 no such target, 400 bad argument); other 500s, which
/// include QQ refusing the message for risk control (trying again makes it worse) and timeouts
/// after which the message may have arrived; and a timeout or a dropped link while the
/// request was on the wire, which may have been delivered: trying again could say it twice.
#[must_use]
pub fn retryable(result: &Result<Value, CallError>) -> bool {
    match result {
        Err(CallError::Offline { .. }) => true,
        Err(_) => false,
        Ok(body) => {
            let code = body.get("code").and_then(Value::as_i64).unwrap_or(0);
            let msg = body.get("msg").and_then(Value::as_str).unwrap_or_default();
            StatusCode::from_code(code) == StatusCode::ServerError && says_offline(msg)
        }
    }
}

fn says_offline(msg: &str) -> bool {
    let msg = msg.to_lowercase();
    ["offline", "not online", "离线", "掉线"].iter().any(|w| msg.contains(w))
}

/// One message waiting for its turn.
struct Entry {
    id: u64,
    conversation: Option<Conversation>,
    script: Option<Arc<ScriptMetrics>>,
    turn: oneshot::Sender<Instant>,
}

/// The messages of one script (or of mahua itself), in order.
struct Lane {
    origin: Option<Arc<str>>,
    entries: VecDeque<Entry>,
}

/// A conversation's bucket and when its last message was let go.
struct Chat {
    bucket: Bucket,
    last: Instant,
}

struct State {
    lanes: Vec<Lane>,
    /// The lane whose turn is next.
    cursor: usize,
    waiting: usize,
    next_id: u64,
    global: Bucket,
    chats: HashMap<Conversation, Chat>,
}

struct Shared {
    opts: SendOptions,
    /// Set by `shutdown`: no more turns are given.
    closed: std::sync::atomic::AtomicBool,
    metrics: Arc<Metrics>,
    state: Mutex<State>,
    wake: Notify,
}

/// An [`Adapter`] that lets messages go at the configured rates, fairly across scripts.
pub struct SendQueue {
    inner: Arc<dyn Adapter>,
    shared: Arc<Shared>,
    dispatcher: Mutex<Option<JoinHandle<()>>>,
}

impl SendQueue {
    /// Put a send queue in front of `inner`; needs a tokio runtime.
    #[must_use]
    pub fn new(inner: Arc<dyn Adapter>, opts: SendOptions, metrics: Arc<Metrics>) -> Arc<Self> {
        let now = Instant::now();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                lanes: Vec::new(),
                cursor: 0,
                waiting: 0,
                next_id: 0,
                global: Bucket::new(opts.rate, opts.burst, now),
                chats: HashMap::new(),
            }),
            opts,
            closed: std::sync::atomic::AtomicBool::new(false),
            metrics,
            wake: Notify::new(),
        });
        let dispatcher = shared.opts.limited().then(|| tokio::spawn(dispatch(shared.clone())));
        Arc::new(Self { inner, shared, dispatcher: Mutex::new(dispatcher) })
    }

    /// The adapter behind the queue.
    #[must_use]
    pub fn inner(&self) -> &Arc<dyn Adapter> {
        &self.inner
    }
}

impl Drop for SendQueue {
    fn drop(&mut self) {
        if let Some(d) = self.dispatcher.lock().unwrap_or_else(PoisonError::into_inner).take() {
            d.abort();
        }
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The bucket of a conversation, made on first use.
    fn chat<'a>(
        &self,
        chats: &'a mut HashMap<Conversation, Chat>,
        c: Conversation,
        now: Instant,
    ) -> &'a mut Chat {
        if chats.len() > 4096 {
            // A full bucket is the same as none: forget those.
            chats.retain(|_, chat| !chat.bucket.is_full(now));
        }
        let (rate, burst) = (self.opts.per_chat_rate, self.opts.per_chat_burst);
        chats.entry(c).or_insert_with(|| Chat { bucket: Bucket::new(rate, burst, now), last: now })
    }

    /// Take the tokens of a message and say when it may go.
    fn let_go(&self, st: &mut State, c: Option<Conversation>, now: Instant) -> Instant {
        st.global.take();
        let jitter = self.opts.jitter;
        let mut at = now;
        if !jitter.is_zero() {
            at += jitter.mul_f64(fastrand::f64());
        }
        if let Some(c) = c {
            let chat = self.chat(&mut st.chats, c, now);
            chat.bucket.take();
            // Messages of one conversation keep their order, jitter or not.
            if !jitter.is_zero() {
                at = at.max(chat.last + Duration::from_millis(1));
            }
            chat.last = at;
        }
        at
    }

    /// When a message to `c` could go, were it its turn.
    fn ready_at(&self, st: &mut State, c: Option<Conversation>, now: Instant) -> Instant {
        let global = st.global.ready_at(now);
        match c {
            Some(c) => global.max(self.chat(&mut st.chats, c, now).bucket.ready_at(now)),
            None => global,
        }
    }

    /// Give turns while tokens last; when the next one could be given.
    fn grant(&self, now: Instant) -> Option<Instant> {
        let mut guard = self.state();
        let st = &mut *guard;
        loop {
            if st.lanes.is_empty() {
                return None;
            }
            let global = st.global.ready_at(now);
            if global > now {
                return Some(global);
            }
            let n = st.lanes.len();
            let mut earliest: Option<Instant> = None;
            let mut found = None;
            'lanes: for k in 0..n {
                let li = (st.cursor + k) % n;
                for ei in 0..st.lanes[li].entries.len() {
                    let c = st.lanes[li].entries[ei].conversation;
                    let at = match c {
                        Some(c) => self.chat(&mut st.chats, c, now).bucket.ready_at(now),
                        None => now,
                    };
                    if at <= now {
                        found = Some((li, ei));
                        break 'lanes;
                    }
                    earliest = Some(earliest.map_or(at, |e| e.min(at)));
                }
            }
            let Some((li, ei)) = found else {
                return earliest;
            };
            let entry = st.lanes[li].entries.remove(ei).expect("entry exists");
            let at = self.let_go(st, entry.conversation, now);
            self.left(st, &entry);
            let _ = entry.turn.send(at);
            if st.lanes[li].entries.is_empty() {
                st.lanes.remove(li);
                st.cursor = if li < st.lanes.len() { li } else { 0 };
            } else {
                st.cursor = (li + 1) % st.lanes.len();
            }
        }
    }

    /// Book-keeping for a message that left the queue.
    fn left(&self, st: &mut State, entry: &Entry) {
        st.waiting -= 1;
        self.metrics.link.send_queued(-1);
        if let Some(s) = &entry.script {
            s.send_queued(-1);
        }
    }

    /// Remove a message that gave up waiting.
    fn cancel(&self, id: u64) {
        let mut guard = self.state();
        let st = &mut *guard;
        let Some(li) = st.lanes.iter().position(|l| l.entries.iter().any(|e| e.id == id)) else {
            return;
        };
        let lane = &mut st.lanes[li].entries;
        let Some(ei) = lane.iter().position(|e| e.id == id) else { return };
        let entry = lane.remove(ei).expect("entry exists");
        self.left(st, &entry);
        if st.lanes[li].entries.is_empty() {
            st.lanes.remove(li);
            if st.cursor > li {
                st.cursor -= 1;
            }
            if st.cursor >= st.lanes.len() {
                st.cursor = 0;
            }
        }
    }

    /// Wait for the turn of a message to `c` from `origin`.
    async fn wait_turn(
        self: &Arc<Self>,
        origin: Option<&Arc<str>>,
        c: Option<Conversation>,
        command: &str,
    ) -> Result<(), CallError> {
        let started = Instant::now();
        let (tx, rx) = oneshot::channel();
        let id = match self.enqueue(origin, c, started, tx) {
            Enqueued::Go(at) => {
                self.metrics.link.send_granted(Duration::ZERO);
                tokio::time::sleep_until(at).await;
                return Ok(());
            }
            Enqueued::Full(waiting) => {
                self.metrics.link.send_refused();
                return Err(CallError::QueueFull { command: command.to_owned(), waiting });
            }
            Enqueued::Waiting(id) => id,
            Enqueued::Closed => {
                return Err(CallError::NotConnected { command: command.to_owned() })
            }
        };
        self.wake.notify_one();
        let ticket = Ticket { shared: self, id };
        let turn = tokio::time::timeout(self.opts.max_wait, rx).await;
        drop(ticket);
        match turn {
            Ok(Ok(at)) => {
                self.metrics.link.send_granted(started.elapsed());
                tokio::time::sleep_until(at).await;
                Ok(())
            }
            Ok(Err(_)) => Err(CallError::NotConnected { command: command.to_owned() }),
            Err(_) => {
                self.metrics.link.send_refused();
                Err(CallError::QueueTimeout {
                    command: command.to_owned(),
                    after: self.opts.max_wait,
                })
            }
        }
    }

    /// Let a message go at once if nothing waits and tokens are there, else queue it.
    fn enqueue(
        &self,
        origin: Option<&Arc<str>>,
        c: Option<Conversation>,
        now: Instant,
        tx: oneshot::Sender<Instant>,
    ) -> Enqueued {
        let mut guard = self.state();
        let st = &mut *guard;
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return Enqueued::Closed;
        }
        if st.waiting == 0 && self.ready_at(st, c, now) <= now {
            return Enqueued::Go(self.let_go(st, c, now));
        }
        if st.waiting >= self.opts.capacity {
            return Enqueued::Full(st.waiting);
        }
        {
            let script = origin.map(|o| self.metrics.script(o));
            if let Some(s) = &script {
                s.send_queued(1);
            }
            self.metrics.link.send_queued(1);
            st.waiting += 1;
            st.next_id += 1;
            let id = st.next_id;
            let entry = Entry { id, conversation: c, script, turn: tx };
            match st.lanes.iter_mut().find(|l| l.origin.as_ref() == origin) {
                Some(lane) => lane.entries.push_back(entry),
                None => st.lanes.push(Lane { origin: origin.cloned(), entries: [entry].into() }),
            }
            Enqueued::Waiting(id)
        }
    }
}

/// What became of a message offered to the queue.
enum Enqueued {
    /// It may go at this instant.
    Go(Instant),
    /// The queue is full with this many.
    Full(usize),
    /// It waits under this id.
    Waiting(u64),
    /// The queue has shut down.
    Closed,
}

/// Takes a waiting message out of the queue if its caller stops waiting.
struct Ticket<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.shared.cancel(self.id);
    }
}

/// Give turns as tokens come; the queue aborts it when it goes.
async fn dispatch(s: Arc<Shared>) {
    loop {
        let notified = s.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let next = s.grant(Instant::now());
        match next {
            Some(at) => {
                tokio::select! {
                    () = notified => {}
                    () = tokio::time::sleep_until(at) => {}
                }
            }
            None => notified.await,
        }
    }
}

impl SendQueue {
    async fn send(
        inner: Arc<dyn Adapter>,
        shared: Arc<Shared>,
        call: Call,
        c: Option<Conversation>,
    ) -> Result<Value, CallError> {
        if shared.opts.limited() {
            shared.wait_turn(call.origin.as_ref(), c, &call.command).await?;
        } else {
            shared.metrics.link.send_granted(Duration::ZERO);
        }
        let mut attempt = 0;
        let mut call = call;
        loop {
            // A copy is kept only while a retry may still need it.
            let spare = (attempt < shared.opts.retries).then(|| call.clone());
            let result = inner.call(call).await;
            shared.metrics.link.request(result.is_ok());
            match spare {
                Some(next) if retryable(&result) => {
                    shared.metrics.link.send_retried();
                    let delay = backoff(attempt, Duration::from_secs(5));
                    tracing::warn!(command = %next.command, attempt = attempt + 1, ?delay, "send failed for a passing reason; trying again");
                    attempt += 1;
                    tokio::time::sleep(delay).await;
                    call = next;
                }
                _ => return result,
            }
        }
    }
}

impl Adapter for SendQueue {
    fn call(&self, call: Call) -> BoxFuture<Result<Value, CallError>> {
        let inner = self.inner.clone();
        let shared = self.shared.clone();
        match conversation(&call) {
            Some(c) => Box::pin(Self::send(inner, shared, call, c)),
            None => Box::pin(async move {
                let result = inner.call(call).await;
                shared.metrics.link.request(result.is_ok());
                result
            }),
        }
    }

    fn upload(&self, upload: Upload) -> BoxFuture<Result<Value, CallError>> {
        let inner = self.inner.clone();
        let shared = self.shared.clone();
        Box::pin(async move {
            let result = inner.upload(upload).await;
            shared.metrics.link.request(result.is_ok());
            result
        })
    }

    fn rejected_frames(&self) -> u64 {
        self.inner.rejected_frames()
    }

    fn dialect(&self) -> Option<&'static str> {
        self.inner.dialect()
    }

    fn direct(&self, call: Call) -> BoxFuture<Result<Value, CallError>> {
        let inner = self.inner.clone();
        let shared = self.shared.clone();
        Box::pin(async move {
            let result = inner.direct(call).await;
            shared.metrics.link.request(result.is_ok());
            result
        })
    }

    fn server(&self) -> Option<String> {
        self.inner.server()
    }

    fn shutdown(&self) -> BoxFuture<()> {
        if let Some(d) = self.dispatcher.lock().unwrap_or_else(PoisonError::into_inner).take() {
            d.abort();
        }
        {
            // Waiting senders hear that the link is gone.
            let mut st = self.shared.state();
            self.shared.closed.store(true, std::sync::atomic::Ordering::Release);
            let lanes = std::mem::take(&mut st.lanes);
            for e in lanes.iter().flat_map(|l| &l.entries) {
                self.shared.left(&mut st, e);
            }
        }
        self.inner.shutdown()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Answers every call at once and notes when it came.
    #[derive(Default)]
    struct Clock {
        calls: Mutex<Vec<(Instant, Call)>>,
    }

    impl Adapter for Clock {
        fn call(&self, call: Call) -> BoxFuture<Result<Value, CallError>> {
            self.calls.lock().unwrap().push((Instant::now(), call));
            Box::pin(async { Ok(json!({"code": 0, "msg": "success", "messageId": 1})) })
        }
        fn upload(&self, upload: Upload) -> BoxFuture<Result<Value, CallError>> {
            Box::pin(async move { Err(CallError::NotConnected { command: upload.command }) })
        }
        fn shutdown(&self) -> BoxFuture<()> {
            Box::pin(async {})
        }
    }

    fn group_send(origin: &str, group: i64, text: &str) -> Call {
        let mut c = Call::new(
            "sendGroupMessage",
            None,
            json!({"target": group, "messageChain": [{"type": "Plain", "text": text}]}),
        );
        c.origin = Some(Arc::from(origin));
        c
    }

    fn queue(opts: SendOptions) -> (Arc<Clock>, Arc<SendQueue>) {
        let clock = Arc::new(Clock::default());
        let q = SendQueue::new(clock.clone(), opts, Metrics::new());
        (clock, q)
    }

    fn patient(rate: f64, burst: u32) -> SendOptions {
        SendOptions {
            rate,
            burst,
            per_chat_rate: 0.0,
            capacity: 1000,
            max_wait: Duration::from_secs(3600),
            ..SendOptions::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_global_rate_holds_under_a_flood_from_several_scripts() {
        let (clock, q) = queue(patient(2.0, 3));
        let t0 = Instant::now();
        let mut sends = tokio::task::JoinSet::new();
        for script in ["a.lua", "b.lua", "c.lua"] {
            for i in 0..20 {
                sends.spawn(q.call(group_send(script, 100 + i, "x")));
            }
        }
        while let Some(r) = sends.join_next().await {
            r.unwrap().unwrap();
        }
        let times: Vec<Duration> =
            clock.calls.lock().unwrap().iter().map(|(t, _)| *t - t0).collect();
        assert_eq!(times.len(), 60);
        // In any window of length w at most burst + rate * w messages went out.
        for (i, start) in times.iter().enumerate() {
            for (j, end) in times.iter().enumerate().skip(i) {
                let w = (*end - *start).as_secs_f64();
                assert!((j - i + 1) as f64 <= 3.0 + 2.0 * w + 1e-6, "{} in {w} s", j - i + 1);
            }
        }
        assert!(times[59] >= Duration::from_millis(28_500), "{:?}", times[59]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_flooding_script_cannot_starve_a_quiet_one() {
        let (clock, q) = queue(patient(1.0, 1));
        let mut flood = tokio::task::JoinSet::new();
        for i in 0..50 {
            flood.spawn(q.call(group_send("flood.lua", 1, &format!("flood {i}"))));
        }
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let quiet_from = Instant::now();
        q.call(group_send("quiet.lua", 2, "quiet")).await.unwrap();
        assert!(quiet_from.elapsed() <= Duration::from_secs(2), "{:?}", quiet_from.elapsed());
        let sent = clock.calls.lock().unwrap().len();
        assert!(sent < 10, "the quiet reply came after {sent} floods");
        while flood.join_next().await.is_some() {}
        assert_eq!(clock.calls.lock().unwrap().len(), 51);
    }

    #[tokio::test(start_paused = true)]
    async fn each_conversation_has_its_own_bucket_and_keeps_its_order() {
        let opts = SendOptions { per_chat_rate: 1.0, per_chat_burst: 2, ..patient(0.0, 1) };
        let (clock, q) = queue(opts);
        let t0 = Instant::now();
        let mut sends = tokio::task::JoinSet::new();
        for i in 0..5 {
            sends.spawn(q.call(group_send("a.lua", 1, &format!("one {i}"))));
            sends.spawn(q.call(group_send("a.lua", 2, &format!("two {i}"))));
        }
        while sends.join_next().await.is_some() {}
        let calls = clock.calls.lock().unwrap();
        for group in [1, 2] {
            let mine: Vec<_> = calls.iter().filter(|(_, c)| c.content["target"] == group).collect();
            let texts: Vec<_> =
                mine.iter().map(|(_, c)| c.content["messageChain"][0]["text"].clone()).collect();
            let mut sorted = texts.clone();
            sorted.sort_by_key(|t| t.to_string());
            assert_eq!(texts, sorted, "group {group} kept its order");
            let last = mine.last().unwrap().0 - t0;
            assert_eq!(last, Duration::from_secs(3), "group {group}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_and_a_long_wait_are_errors() {
        let opts = SendOptions { capacity: 2, max_wait: Duration::from_secs(5), ..patient(0.1, 1) };
        let (_clock, q) = queue(opts);
        q.call(group_send("a.lua", 1, "first")).await.unwrap();
        let second = tokio::spawn(q.call(group_send("a.lua", 1, "second")));
        let third = tokio::spawn(q.call(group_send("a.lua", 1, "third")));
        tokio::task::yield_now().await;
        let full = q.call(group_send("a.lua", 1, "fourth")).await.unwrap_err();
        assert!(matches!(full, CallError::QueueFull { waiting: 2, .. }), "{full}");
        let late = second.await.unwrap().unwrap_err();
        assert!(matches!(late, CallError::QueueTimeout { .. }), "{late}");
        assert!(third.await.unwrap().is_err());
        let snap = q.shared.metrics.snapshot();
        assert_eq!(snap.connection.send_refused, 3);
        assert_eq!(snap.connection.send_queued, 0);
        // Other commands never wait.
        q.call(Call::new("memberList", None, json!({"target": 1}))).await.unwrap();
        // After shutdown a send fails at once instead of waiting for a turn that never comes.
        q.shutdown().await;
        let gone = q.call(group_send("a.lua", 1, "late")).await.unwrap_err();
        assert!(matches!(gone, CallError::NotConnected { .. }), "{gone}");
    }

    #[test]
    fn a_bucket_gives_its_burst_then_its_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(2.0, 3, t0);
        for _ in 0..3 {
            assert_eq!(b.ready_at(t0), t0);
            b.take();
        }
        let next = b.ready_at(t0);
        assert_eq!(next - t0, Duration::from_millis(500));
        assert_eq!(b.ready_at(t0 + Duration::from_secs(10)), t0 + Duration::from_secs(10));
        let mut free = Bucket::new(0.0, 1, t0);
        for _ in 0..100 {
            free.take();
        }
        assert_eq!(free.ready_at(t0), t0);
    }

    #[test]
    fn sends_are_told_apart_by_conversation() {
        let call = |cmd: &str, content: Value| Call::new(cmd, None, content);
        assert_eq!(
            conversation(&call("sendGroupMessage", json!({"target": 5}))),
            Some(Some(Conversation::Group(5)))
        );
        assert_eq!(
            conversation(&call("sendTempMessage", json!({"qq": 1, "group": 2}))),
            Some(Some(Conversation::Temp { group: 2, qq: 1 }))
        );
        assert_eq!(
            conversation(&call("sendNudge", json!({"target": 1, "subject": 2, "kind": "Group"}))),
            Some(Some(Conversation::Group(2)))
        );
        assert_eq!(conversation(&call("memberList", json!({"target": 5}))), None);
    }

    #[test]
    fn only_passing_failures_are_retried() {
        let body = |code: i64, msg: &str| Ok(json!({"code": code, "msg": msg}));
        assert!(retryable(&body(500, "Bot is offline")));
        assert!(!retryable(&body(500, "send message failed: result 46")));
        for code in [0, 5, 10, 20, 30, 400] {
            assert!(!retryable(&body(code, "offline")), "{code}");
        }
        let unreachable = CallError::Offline { command: "x".into(), after: Duration::ZERO };
        assert!(retryable(&Err(unreachable)));
        let lost = CallError::Disconnected { command: "x".into() };
        assert!(!retryable(&Err(lost)));
    }
}
