//! The OneBot link: one universal WebSocket, dialled (forward) or accepted (reverse), calls
//! matched to answers by `echo`, the server's heartbeats watched, and reconnects.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode as HttpStatus};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{ActionError, Actions};
use crate::adapter::{backoff, parse_address, BoxFuture, CallError, ConnectError};
use crate::config::Secret;
use crate::protocol::frame;

/// One socket to the server, whichever side opened it.
pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Which side opens the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// mahua dials the server's universal endpoint (`ws://host:port`).
    Forward {
        /// The server's address.
        url: String,
    },
    /// The server dials mahua, which listens here.
    Reverse {
        /// Where mahua listens.
        listen: SocketAddr,
    },
}

/// How to reach and keep a OneBot server.
#[derive(Debug, Clone)]
pub struct OneBotOptions {
    /// Forward or reverse WebSocket.
    pub mode: Mode,
    /// The access token: sent when dialling, required from a server that dials in.
    pub access_token: Option<Secret>,
    /// How long a call waits for its answer.
    pub call_timeout: Duration,
    /// How often the link is pinged while the server sends no heartbeats.
    pub ping_interval: Duration,
    /// The longest wait between reconnect attempts (forward).
    pub max_backoff: Duration,
}

impl OneBotOptions {
    /// Options with the usual timings.
    #[must_use]
    pub fn new(mode: Mode, access_token: Option<Secret>) -> Self {
        Self {
            mode,
            access_token: access_token.filter(|t| !t.expose().is_empty()),
            call_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(30),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// How many heartbeat intervals of silence mean a dead link.
const SILENT_INTERVALS: u32 = 3;

/// What the link tells the translator, in order.
#[derive(Debug)]
pub(crate) enum Raw {
    /// A socket is up; `gap` is how long the link was down, `None` the first time.
    Up {
        /// Time since the link dropped.
        gap: Option<Duration>,
    },
    /// An event pushed by the server.
    Event(Value),
    /// The socket is gone.
    Down(String),
}

/// A call frame as it goes on the wire, written straight from borrowed parts.
#[derive(serde::Serialize)]
struct Frame<'a> {
    action: &'a str,
    params: &'a Value,
    echo: &'a str,
}

/// Where the link hands what it hears, in order.
pub(crate) trait RawSink: Send + Sync + 'static {
    /// Take one item; false once nobody listens any more.
    fn deliver(&self, raw: Raw) -> impl std::future::Future<Output = bool> + Send;
}

/// A call on its way to the socket.
struct Outgoing {
    echo: String,
    text: String,
}

/// The socket side of the connector: calls out, answers and events in.
pub(crate) struct Link {
    opts: OneBotOptions,
    pending: Mutex<HashMap<String, oneshot::Sender<Value>>>,
    next_echo: AtomicU64,
    outgoing: mpsc::UnboundedSender<Outgoing>,
    closed: AtomicBool,
    stop: Notify,
    down: AtomicBool,
    rejected: AtomicU64,
    /// The server's heartbeat interval in milliseconds; 0 until one arrived.
    heartbeat_ms: AtomicU64,
    /// The server refused the access token on the last socket.
    refused: AtomicBool,
}

/// The receiving ends the link's task needs.
pub(crate) struct Ends {
    outgoing: mpsc::UnboundedReceiver<Outgoing>,
    accepted: Option<mpsc::Receiver<Socket>>,
}

impl Link {
    /// A link with no socket yet.
    pub(crate) fn new(opts: OneBotOptions) -> (Arc<Self>, Ends) {
        let (tx, rx) = mpsc::unbounded_channel();
        let link = Arc::new(Self {
            opts,
            pending: Mutex::new(HashMap::new()),
            next_echo: AtomicU64::new(1),
            outgoing: tx,
            closed: AtomicBool::new(false),
            stop: Notify::new(),
            down: AtomicBool::new(true),
            rejected: AtomicU64::new(0),
            heartbeat_ms: AtomicU64::new(0),
            refused: AtomicBool::new(false),
        });
        (link, Ends { outgoing: rx, accepted: None })
    }

    /// The options it runs with.
    pub(crate) fn options(&self) -> &OneBotOptions {
        &self.opts
    }

    /// Frames from the server that were unreadable or made no sense.
    pub(crate) fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Whether the server refused the access token on the last socket.
    pub(crate) fn was_refused(&self) -> bool {
        self.refused.load(Ordering::Acquire)
    }

    /// Stop the link; pending and later calls fail.
    pub(crate) fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            self.stop.notify_waiters();
            self.stop.notify_one();
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Value>>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Send one action and wait for the whole answer frame.
    async fn request(&self, action: &str, params: Value) -> Result<Value, CallError> {
        let command = action.to_owned();
        if self.closed.load(Ordering::Acquire) {
            return Err(CallError::NotConnected { command });
        }
        let echo = self.next_echo.fetch_add(1, Ordering::Relaxed).to_string();
        let text = serde_json::to_string(&Frame { action, params: &params, echo: &echo })
            .unwrap_or_default();
        let (tx, rx) = oneshot::channel();
        let queued = {
            let mut pending = self.pending();
            pending.insert(echo.clone(), tx);
            self.outgoing.send(Outgoing { echo: echo.clone(), text }).is_ok()
        };
        if !queued {
            self.pending().remove(&echo);
            return Err(CallError::NotConnected { command });
        }
        let after = self.opts.call_timeout;
        match tokio::time::timeout(after, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(CallError::Disconnected { command }),
            Err(_) => {
                self.pending().remove(&echo);
                if self.down.load(Ordering::Acquire) {
                    Err(CallError::Offline { command, after })
                } else {
                    Err(CallError::Timeout { command, after })
                }
            }
        }
    }
}

/// The `data` of an answer frame, or why the action failed.
fn answer_data(action: &str, mut answer: Value) -> Result<Value, ActionError> {
    let status = answer.get("status").and_then(Value::as_str).unwrap_or("ok");
    let retcode = answer.get("retcode").and_then(super::cache::as_i64).unwrap_or(0);
    if status == "failed" || (retcode != 0 && status != "async") {
        let text = |k: &str| answer.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
        let msg = text("wording").or_else(|| text("message")).or_else(|| text("msg"));
        return Err(ActionError::Failed {
            action: action.to_owned(),
            retcode,
            msg: msg.unwrap_or_default().to_owned(),
        });
    }
    Ok(answer.get_mut("data").map(Value::take).unwrap_or(Value::Null))
}

/// Carries out actions over the link.
pub(crate) struct LinkActions(pub(crate) Arc<Link>);

impl Actions for LinkActions {
    fn action(&self, action: &str, params: Value) -> BoxFuture<Result<Value, ActionError>> {
        let link = self.0.clone();
        let action = action.to_owned();
        Box::pin(async move {
            let answer = link.request(&action, params).await?;
            answer_data(&action, answer)
        })
    }
}

/// `ws://…` for a configured forward address (a bare `host:port` gets `ws://`).
pub fn endpoint(url: &str) -> Result<String, ConnectError> {
    let a = parse_address(url)?;
    let scheme = if a.secure { "wss" } else { "ws" };
    Ok(format!("{scheme}://{}{}", a.host, if a.path.is_empty() { "/" } else { a.path }))
}

/// The socket's settings. The read buffer is zeroed before every read, up to its size, and a
/// OneBot frame is a few hundred bytes: a small buffer saves that work on every frame.
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4 * 1024)
}

/// Dial the server's universal endpoint.
pub(crate) async fn dial(url: &str, token: Option<&Secret>) -> Result<Socket, ConnectError> {
    crate::adapter::ws::install_crypto_provider();
    let bad = |reason: String| ConnectError::BadUrl { url: url.to_owned(), reason };
    let mut request = url.into_client_request().map_err(|e| bad(e.to_string()))?;
    if let Some(t) = token {
        let value = HeaderValue::from_str(&format!("Bearer {}", t.expose()))
            .map_err(|_| bad("the access token cannot go in a header".into()))?;
        request.headers_mut().insert("Authorization", value);
    }
    let config = socket_config();
    match tokio_tungstenite::connect_async_with_config(request, Some(config), true).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp))
            if matches!(resp.status(), HttpStatus::UNAUTHORIZED | HttpStatus::FORBIDDEN) =>
        {
            Err(ConnectError::WrongToken { url: url.to_owned() })
        }
        Err(e) => Err(ConnectError::NoOneBotServer { url: url.to_owned(), reason: e.to_string() }),
    }
}

/// Listen for the server's reverse connections; sockets that pass the token check arrive on
/// the channel, newest last.
pub(crate) async fn listen(
    addr: SocketAddr,
    token: Option<Secret>,
) -> Result<(SocketAddr, mpsc::Receiver<Socket>, tokio::task::JoinHandle<()>), ConnectError> {
    let listener = TcpListener::bind(addr).await.map_err(|e| ConnectError::NoOneBotServer {
        url: addr.to_string(),
        reason: format!("mahua cannot listen there for the server: {e}"),
    })?;
    let bound = listener.local_addr().unwrap_or(addr);
    let (tx, rx) = mpsc::channel(4);
    let warned = Arc::new(AtomicBool::new(false));
    let task = tokio::spawn(async move {
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: give the system a moment.
                    tracing::warn!(error = %e, "cannot accept a connection from the OneBot server");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let tx = tx.clone();
            let token = token.clone();
            let warned = warned.clone();
            tokio::spawn(async move {
                // The handshake's callback type is the library's; its error is a whole response.
                #[allow(clippy::result_large_err)]
                let check = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
                    if authorized(req, token.as_ref()) {
                        return Ok(resp);
                    }
                    if !warned.swap(true, Ordering::AcqRel) {
                        tracing::warn!(%peer, "refused a OneBot server: its access token is missing or wrong (check `access_token` in [onebot] and in the server's reverse WebSocket settings)");
                    } else {
                        tracing::debug!(%peer, "refused a OneBot server: wrong access token");
                    }
                    let mut refusal =
                        ErrorResponse::new(Some("wrong or missing access token".into()));
                    *refusal.status_mut() = HttpStatus::UNAUTHORIZED;
                    Err(refusal)
                };
                let config = socket_config();
                match tokio_tungstenite::accept_hdr_async_with_config(
                    MaybeTlsStream::Plain(tcp),
                    check,
                    Some(config),
                )
                .await
                {
                    Ok(socket) => {
                        tracing::debug!(%peer, "a OneBot server connected");
                        let _ = tx.send(socket).await;
                    }
                    Err(e) => {
                        tracing::debug!(%peer, error = %e, "a reverse connection failed its handshake")
                    }
                }
            });
        }
    });
    Ok((bound, rx, task))
}

/// Whether a dialling server carries the token, in the header or the `access_token` query.
fn authorized(req: &Request, token: Option<&Secret>) -> bool {
    let Some(token) = token else { return true };
    let want = token.expose();
    let header = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim())
        .map(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("Token ")).unwrap_or(v));
    if header.is_some_and(|h| h.trim() == want) {
        return true;
    }
    req.uri().query().is_some_and(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .any(|(k, v)| k == "access_token" && percent_decode(v) == want)
    })
}

/// Undo `%XX` escapes (and `+` as a space) in a query value.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| char::from(b).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why one socket ended.
enum End {
    Stopped,
    Lost(String),
    /// The server connected again (reverse): serve the new socket.
    Replaced(Box<Socket>),
}

/// Serve sockets until shut down: dial again with backoff (forward) or wait for the server to
/// connect again (reverse).
pub(crate) async fn run(
    link: Arc<Link>,
    mut ends: Ends,
    mut next: Option<Socket>,
    raw: Arc<impl RawSink>,
) {
    let mut down_since: Option<Instant> = None;
    let mut attempt = 0u32;
    loop {
        let socket = match next.take() {
            Some(s) => s,
            None => match reconnect(&link, &mut ends, &mut attempt, down_since.is_some()).await {
                Some(s) => s,
                None => break,
            },
        };
        attempt = 0;
        link.refused.store(false, Ordering::Release);
        link.heartbeat_ms.store(0, Ordering::Relaxed);
        link.down.store(false, Ordering::Release);
        if !raw.deliver(Raw::Up { gap: down_since.map(|d| d.elapsed()) }).await {
            break;
        }
        let reason = match serve(&link, socket, &mut ends, &*raw).await {
            End::Stopped => break,
            End::Lost(reason) => reason,
            End::Replaced(s) => {
                next = Some(*s);
                "the server connected again".to_owned()
            }
        };
        down_since = Some(Instant::now());
        link.down.store(true, Ordering::Release);
        fail_pending(&link, &mut ends.outgoing);
        tracing::warn!(%reason, "lost the connection to the OneBot server");
        if !raw.deliver(Raw::Down(reason)).await {
            break;
        }
    }
    link.down.store(true, Ordering::Release);
    fail_pending(&link, &mut ends.outgoing);
}

/// The next socket after a drop; `None` once shut down.
async fn reconnect(link: &Link, ends: &mut Ends, attempt: &mut u32, again: bool) -> Option<Socket> {
    loop {
        if link.closed.load(Ordering::Acquire) {
            return None;
        }
        match (&link.opts.mode, ends.accepted.as_mut()) {
            (Mode::Reverse { .. }, Some(accepted)) => {
                if again {
                    tracing::info!("waiting for the OneBot server to connect again");
                }
                tokio::select! {
                    () = link.stop.notified() => return None,
                    s = accepted.recv() => return s,
                }
            }
            (Mode::Forward { url }, _) => {
                let delay = backoff(*attempt, link.opts.max_backoff);
                tokio::select! {
                    () = link.stop.notified() => return None,
                    () = tokio::time::sleep(delay) => {}
                }
                match dial(url, link.opts.access_token.as_ref()).await {
                    Ok(s) => return Some(s),
                    Err(e) => {
                        *attempt = attempt.saturating_add(1);
                        tracing::warn!(error = %e, attempt = *attempt, "reconnect failed");
                    }
                }
            }
            (Mode::Reverse { .. }, None) => return None,
        }
    }
}

impl Ends {
    /// Serve reverse connections from `accepted`.
    pub(crate) fn accept_from(&mut self, accepted: mpsc::Receiver<Socket>) {
        self.accepted = Some(accepted);
    }
}

/// Pump one socket: calls out, answers and events in, liveness checks.
async fn serve(link: &Link, socket: Socket, ends: &mut Ends, raw: &impl RawSink) -> End {
    let (mut sink, mut stream) = socket.split();
    let mut check = tokio::time::interval(Duration::from_millis(100));
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let mut last_ping = Instant::now();
    let Ends { outgoing, accepted } = ends;
    loop {
        tokio::select! {
            () = link.stop.notified() => {
                let _ = sink.send(Message::Close(None)).await;
                return End::Stopped;
            }
            out = outgoing.recv() => {
                let Some(out) = out else { return End::Stopped };
                // Write every frame already queued, then flush once; calls whose callers gave
                // up are not sent late.
                let mut written = Ok(());
                let mut next = Some(out);
                while let Some(out) = next.take() {
                    if link.pending().contains_key(&out.echo) {
                        written = sink.feed(Message::text(out.text)).await;
                        if written.is_err() {
                            break;
                        }
                    }
                    next = outgoing.try_recv().ok();
                }
                if let Err(e) = written.and(sink.flush().await) {
                    return End::Lost(e.to_string());
                }
            }
            socket = async { accepted.as_mut()?.recv().await }, if accepted.is_some() => {
                match socket {
                    Some(s) => {
                        let _ = sink.send(Message::Close(None)).await;
                        return End::Replaced(Box::new(s));
                    }
                    None => *accepted = None,
                }
            }
            frame = stream.next() => {
                last_heard = Instant::now();
                match frame {
                    Some(Ok(Message::Text(text))) => {
                        if let Some(end) = handle_text(link, &text, raw).await {
                            return end;
                        }
                    }
                    Some(Ok(Message::Close(c))) => {
                        return End::Lost(c.map_or_else(|| "closed by the server".to_owned(), |c| format!("closed by the server: {} {}", c.code, c.reason)));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return End::Lost(e.to_string()),
                    None => return End::Lost("the server closed the connection".into()),
                }
            }
            _ = check.tick() => {
                let heartbeat = link.heartbeat_ms.load(Ordering::Relaxed);
                if heartbeat > 0 {
                    let limit = Duration::from_millis(heartbeat) * SILENT_INTERVALS;
                    if last_heard.elapsed() > limit {
                        return End::Lost(format!("no heartbeat from the server for {limit:?} ({SILENT_INTERVALS} intervals)"));
                    }
                }
                let ping = link.opts.ping_interval;
                if last_ping.elapsed() >= ping {
                    if heartbeat == 0 && last_heard.elapsed() > ping * 2 {
                        return End::Lost("no answer to pings".into());
                    }
                    last_ping = Instant::now();
                    if let Err(e) = sink.send(Message::Ping(Vec::new().into())).await {
                        return End::Lost(e.to_string());
                    }
                }
            }
        }
    }
}

/// How much of a bad frame a log line shows.
const LOGGED_BYTES: usize = 200;

/// The retcodes a server answers a refused token with.
const REFUSED: [i64; 2] = [1401, 1403];

/// Route one text frame: an answer to its caller, an event to the translator.
async fn handle_text(link: &Link, text: &str, raw: &impl RawSink) -> Option<End> {
    let rejected = |what: &dyn std::fmt::Display| {
        link.rejected.fetch_add(1, Ordering::Relaxed);
        let frame = frame::excerpt(text, LOGGED_BYTES);
        tracing::warn!(%frame, "ignored a frame from the OneBot server: {what}");
    };
    let v: Value = match serde_json::from_str(text) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            rejected(&"not a JSON object");
            return None;
        }
        Err(e) => {
            rejected(&e);
            return None;
        }
    };
    if v.get("post_type").is_some() {
        if v["post_type"] == "meta_event" && v["meta_event_type"] == "heartbeat" {
            if let Some(ms) = v.get("interval").and_then(super::cache::as_i64) {
                link.heartbeat_ms.store(u64::try_from(ms).unwrap_or(0), Ordering::Relaxed);
            }
        }
        return (!raw.deliver(Raw::Event(v)).await).then_some(End::Stopped);
    }
    let echo = match v.get("echo") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    if let Some(echo) = echo {
        let waiter = link.pending().remove(&echo);
        match waiter {
            Some(tx) => {
                let _ = tx.send(v);
            }
            None => rejected(&format_args!(
                "no call waits for echo {echo:?} (answered twice, or after the call gave up)"
            )),
        }
        return None;
    }
    let retcode = v.get("retcode").and_then(super::cache::as_i64).unwrap_or(0);
    if REFUSED.contains(&retcode) {
        link.refused.store(true, Ordering::Release);
        return Some(End::Lost(
            "the server refused the access token (check `access_token` in [onebot])".into(),
        ));
    }
    rejected(&"no echo (the server's answer to a frame it could not read)");
    None
}

/// Fail every call on the wire and drop the frames not yet written: their callers hear of
/// the disconnect, so none of them may still reach the server later.
fn fail_pending(link: &Link, outgoing: &mut mpsc::UnboundedReceiver<Outgoing>) {
    let mut pending = link.pending();
    while outgoing.try_recv().is_ok() {}
    // Dropping the senders wakes every waiter with a disconnect.
    pending.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forward_urls_are_completed() {
        assert_eq!(endpoint("127.0.0.1:3001").unwrap(), "ws://127.0.0.1:3001/");
        assert_eq!(endpoint("ws://h:1/").unwrap(), "ws://h:1/");
        assert_eq!(endpoint("wss://h:1/onebot").unwrap(), "wss://h:1/onebot");
        assert!(endpoint("ftp://h").is_err());
    }

    #[test]
    fn answers_give_data_or_the_failure() {
        let ok = json!({"status": "ok", "retcode": 0, "data": {"a": 1}, "echo": "1"});
        assert_eq!(answer_data("x", ok).unwrap(), json!({"a": 1}));
        let failed = json!({"status": "failed", "retcode": 1200, "data": null, "message": "m", "wording": "w"});
        match answer_data("x", failed) {
            Err(ActionError::Failed { retcode: 1200, msg, .. }) => assert_eq!(msg, "w"),
            other => panic!("{other:?}"),
        }
        let unknown = json!({"status": "failed", "retcode": 1404, "data": null});
        assert!(answer_data("x", unknown).unwrap_err().is_unknown_action());
    }

    #[test]
    fn query_tokens_are_decoded() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
