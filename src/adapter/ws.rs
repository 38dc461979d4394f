//! The WebSocket adapter: one socket to `/all`, calls matched by `syncId`, reconnects.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{
    backoff, multipart, parse_address, Adapter, BoxFuture, Call, CallError, ConnectError,
    LinkEvent, Upload,
};
use crate::config::Secret;
use crate::protocol::frame::{self, Incoming};
use crate::protocol::{Event, StatusCode};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How to reach and keep the server.
#[derive(Debug, Clone)]
pub struct WsOptions {
    /// `ws://host:port`, `wss://…`, or `host:port`; a path other than `/` is kept.
    pub url: String,
    /// The server's verify key.
    pub verify_key: Secret,
    /// The bot account.
    pub qq: i64,
    /// How long a call waits for its answer.
    pub call_timeout: Duration,
    /// How often the link is pinged; two silent intervals mean a dead link.
    pub ping_interval: Duration,
    /// The longest wait between reconnect attempts.
    pub max_backoff: Duration,
}

impl WsOptions {
    /// Options with the usual timings.
    #[must_use]
    pub fn new(url: impl Into<String>, verify_key: Secret, qq: i64) -> Self {
        Self {
            url: url.into(),
            verify_key,
            qq,
            call_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(30),
            max_backoff: Duration::from_secs(30),
        }
    }
}

struct Inner {
    opts: WsOptions,
    url: String,
    pending: Mutex<HashMap<String, oneshot::Sender<Value>>>,
    /// The session key of the current socket, for uploads over http.
    session: RwLock<String>,
    http: reqwest::Client,
    next_sync_id: AtomicU64,
    outgoing: mpsc::UnboundedSender<Outgoing>,
    closed: AtomicBool,
    stop: Notify,
    /// Whether the link is down and being reconnected.
    down: AtomicBool,
    /// Frames from the server that were unreadable or made no sense.
    rejected: AtomicU64,
}

/// A WebSocket link to a mirai-api-http server.
pub struct WsAdapter {
    inner: Arc<Inner>,
}

/// Make a configured URL a full `ws://…/all` URL.
pub fn endpoint(url: &str) -> Result<String, ConnectError> {
    let a = parse_address(url)?;
    let scheme = if a.secure { "wss" } else { "ws" };
    let path = if a.path.is_empty() { "/all" } else { a.path };
    Ok(format!("{scheme}://{}{path}", a.host))
}

impl WsAdapter {
    /// Connect, check the session, and keep the link up in the background.
    ///
    /// A wrong URL, key or account fails here; later drops are reconnected.
    pub async fn connect(
        opts: WsOptions,
    ) -> Result<(Arc<Self>, mpsc::Receiver<LinkEvent>), ConnectError> {
        install_crypto_provider();
        let url = endpoint(&opts.url)?;
        let (socket, session) = open(&url, &opts).await?;
        tracing::info!(url = %url, session = %session, "connected to mirai-api-http");
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::channel(4096);
        let inner = Arc::new(Inner {
            opts,
            url,
            pending: Mutex::new(HashMap::new()),
            session: RwLock::new(session),
            http: reqwest::Client::new(),
            next_sync_id: AtomicU64::new(1),
            outgoing: out_tx,
            closed: AtomicBool::new(false),
            stop: Notify::new(),
            down: AtomicBool::new(false),
            rejected: AtomicU64::new(0),
        });
        let _ = ev_tx.send(LinkEvent::Connected { gap: None }).await;
        tokio::spawn(run(inner.clone(), socket, out_rx, ev_tx));
        Ok((Arc::new(Self { inner }), ev_rx))
    }
}

impl WsAdapter {
    /// Stop the link; pending and later calls fail.
    fn close(&self) {
        if !self.inner.closed.swap(true, Ordering::AcqRel) {
            self.inner.stop.notify_waiters();
            self.inner.stop.notify_one();
        }
    }
}

impl Drop for WsAdapter {
    fn drop(&mut self) {
        self.close();
    }
}

pub(crate) fn install_crypto_provider() {
    // Only one provider is compiled in; a second install is a harmless no-op error.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Open a socket and read the session frame.
async fn open(url: &str, opts: &WsOptions) -> Result<(Socket, String), ConnectError> {
    let bad = |reason: String| ConnectError::BadUrl { url: url.to_owned(), reason };
    let mut request = url.into_client_request().map_err(|e| bad(e.to_string()))?;
    let header = |v: &str| HeaderValue::from_str(v).map_err(|e| bad(e.to_string()));
    request.headers_mut().insert("verifyKey", header(opts.verify_key.expose())?);
    request.headers_mut().insert("qq", header(&opts.qq.to_string())?);
    // Frames are small and answered at once: do not let Nagle hold them back. The read
    // buffer is zeroed up to its size before every read, so keep it to a burst of events.
    let config = WebSocketConfig::default().read_buffer_size(16 * 1024);
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
        .await
        .map_err(|e| ConnectError::Unreachable {
            url: url.to_owned(),
            adapter: "ws",
            reason: e.to_string(),
        })?;
    let first = loop {
        match socket.next().await {
            Some(Ok(Message::Text(t))) => break t.to_string(),
            Some(Ok(Message::Close(_))) | None => {
                return Err(ConnectError::Handshake("the server closed the socket".into()))
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(ConnectError::Handshake(e.to_string())),
        }
    };
    let v: Value =
        serde_json::from_str(&first).map_err(|_| ConnectError::Handshake(first.clone()))?;
    let data = v.get("data").unwrap_or(&v);
    let code = data.get("code").and_then(Value::as_i64).unwrap_or(-1);
    let msg = data.get("msg").and_then(Value::as_str).unwrap_or_default().to_owned();
    match StatusCode::from_code(code) {
        StatusCode::Success => data
            .get("session")
            .and_then(Value::as_str)
            .map(|s| (socket, s.to_owned()))
            .ok_or(ConnectError::Handshake(first)),
        StatusCode::WrongVerifyKey => Err(ConnectError::WrongVerifyKey { url: url.to_owned() }),
        StatusCode::BotNotFound => Err(ConnectError::BotNotFound { qq: opts.qq }),
        StatusCode::Other(-1) => Err(ConnectError::Handshake(first)),
        status => Err(ConnectError::Refused { status, msg }),
    }
}

/// A call on its way to the socket.
struct Outgoing {
    sync_id: String,
    call: Call,
}

impl Outgoing {
    /// The frame's text.
    fn text(&self) -> String {
        let c = &self.call;
        frame::request(&self.sync_id, &c.command, c.sub_command.as_deref(), &c.content)
    }
}

/// Why one connection ended.
enum End {
    Stopped,
    Lost(String),
}

/// Serve connections until shut down, reconnecting with backoff and jitter.
async fn run(
    inner: Arc<Inner>,
    mut socket: Socket,
    mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
    events: mpsc::Sender<LinkEvent>,
) {
    loop {
        let reason = match serve(&inner, socket, &mut outgoing, &events).await {
            End::Stopped => break,
            End::Lost(reason) => reason,
        };
        let down_since = Instant::now();
        inner.down.store(true, Ordering::Release);
        fail_pending(&inner, &mut outgoing);
        tracing::warn!(%reason, "lost the connection to mirai-api-http; reconnecting");
        if events.send(LinkEvent::Disconnected { reason }).await.is_err() {
            break;
        }
        let mut attempt = 0u32;
        socket = loop {
            let delay = backoff(attempt, inner.opts.max_backoff);
            tokio::select! {
                () = inner.stop.notified() => return,
                () = tokio::time::sleep(delay) => {}
            }
            if inner.closed.load(Ordering::Acquire) {
                return;
            }
            match open(&inner.url, &inner.opts).await {
                Ok((s, session)) => {
                    tracing::info!(session = %session, after = ?down_since.elapsed(), "reconnected");
                    if let Ok(mut k) = inner.session.write() {
                        *k = session;
                    }
                    break send_waiting(&inner, s, &mut outgoing).await;
                }
                Err(e) => {
                    attempt = attempt.saturating_add(1);
                    tracing::warn!(error = %e, attempt, "reconnect failed");
                }
            }
        };
        inner.down.store(false, Ordering::Release);
        let gap = Some(down_since.elapsed());
        if events.send(LinkEvent::Connected { gap }).await.is_err() {
            break;
        }
    }
    fail_pending(&inner, &mut outgoing);
}

/// Pump one socket: calls out, answers and pushes in, pings.
async fn serve(
    inner: &Inner,
    socket: Socket,
    outgoing: &mut mpsc::UnboundedReceiver<Outgoing>,
    events: &mpsc::Sender<LinkEvent>,
) -> End {
    let (mut sink, mut stream) = socket.split();
    let mut ping = tokio::time::interval(inner.opts.ping_interval);
    ping.tick().await;
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            () = inner.stop.notified() => {
                let _ = sink.send(Message::Close(None)).await;
                return End::Stopped;
            }
            out = outgoing.recv() => {
                let Some(out) = out else { return End::Stopped };
                // Write every frame already queued, then flush once: one write for a burst.
                let mut written = sink.feed(Message::text(out.text())).await;
                while written.is_ok() {
                    let Ok(out) = outgoing.try_recv() else { break };
                    written = sink.feed(Message::text(out.text())).await;
                }
                let flushed = match written {
                    Ok(()) => sink.flush().await,
                    Err(e) => Err(e),
                };
                if let Err(e) = flushed {
                    return End::Lost(e.to_string());
                }
            }
            frame = stream.next() => {
                last_heard = Instant::now();
                match frame {
                    Some(Ok(Message::Text(text))) => {
                        if let Some(ev) = handle_text(inner, &text) {
                            if events.send(LinkEvent::Event(ev)).await.is_err() {
                                return End::Stopped;
                            }
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
            _ = ping.tick() => {
                if last_heard.elapsed() > inner.opts.ping_interval * 2 {
                    return End::Lost("no answer to pings".into());
                }
                if let Err(e) = sink.send(Message::Ping(Vec::new().into())).await {
                    return End::Lost(e.to_string());
                }
            }
        }
    }
}

/// Send the calls made while the link was down, on a fresh socket; those whose callers
/// gave up are dropped, so a call that failed never reaches the server late.
async fn send_waiting(
    inner: &Inner,
    mut socket: Socket,
    outgoing: &mut mpsc::UnboundedReceiver<Outgoing>,
) -> Socket {
    let waiting: Vec<Outgoing> = match inner.pending.lock() {
        Ok(pending) => std::iter::from_fn(|| outgoing.try_recv().ok())
            .filter(|out| pending.contains_key(&out.sync_id))
            .collect(),
        Err(_) => Vec::new(),
    };
    for out in waiting {
        // A failed send shows up as a lost link on the first read.
        if socket.send(Message::text(out.text())).await.is_err() {
            break;
        }
    }
    socket
}

/// How much of a bad frame a log line shows.
const LOGGED_BYTES: usize = 200;

/// Route one text frame; returns a pushed event.
fn handle_text(inner: &Inner, text: &str) -> Option<Event> {
    let rejected = |what: &dyn std::fmt::Display| {
        inner.rejected.fetch_add(1, Ordering::Relaxed);
        let frame = frame::excerpt(text, LOGGED_BYTES);
        tracing::warn!(%frame, "ignored a frame from the server: {what}");
    };
    match frame::parse_incoming(text) {
        Ok(Incoming::Push(v)) => Some(Event(v)),
        Ok(Incoming::Reply { sync_id, data }) => {
            let waiter = inner.pending.lock().ok()?.remove(&sync_id);
            match waiter {
                Some(tx) => {
                    let _ = tx.send(data);
                }
                None => rejected(&format_args!(
                    "no call waits for syncId {sync_id:?} (answered twice, or after the call gave up)"
                )),
            }
            None
        }
        Ok(Incoming::Bare(_)) => {
            rejected(&"no syncId (the server's answer to a frame it could not read)");
            None
        }
        Err(e) => {
            rejected(&e);
            None
        }
    }
}

/// Fail every call on the wire, and drop the frames of calls not yet written: their callers
/// hear of the disconnect, so none of them may still reach the server later.
fn fail_pending(inner: &Inner, outgoing: &mut mpsc::UnboundedReceiver<Outgoing>) {
    if let Ok(mut pending) = inner.pending.lock() {
        while outgoing.try_recv().is_ok() {}
        // Dropping the senders wakes every waiter with a disconnect.
        pending.clear();
    }
}

impl Adapter for WsAdapter {
    fn call(&self, call: Call) -> BoxFuture<Result<Value, CallError>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let command = call.command.clone();
            if inner.closed.load(Ordering::Acquire) {
                return Err(CallError::NotConnected { command });
            }
            let sync_id = inner.next_sync_id.fetch_add(1, Ordering::Relaxed).to_string();
            let (tx, rx) = oneshot::channel();
            // The writer turns it into text: that work stays off the calling script's thread.
            let out = Outgoing { sync_id: sync_id.clone(), call };
            // Register and queue under one lock, so a disconnect drops both or neither.
            let queued = inner.pending.lock().is_ok_and(|mut pending| {
                pending.insert(sync_id.clone(), tx);
                inner.outgoing.send(out).is_ok()
            });
            if !queued {
                inner.pending.lock().ok().map(|mut p| p.remove(&sync_id));
                return Err(CallError::NotConnected { command });
            }
            let after = inner.opts.call_timeout;
            match tokio::time::timeout(after, rx).await {
                Ok(Ok(body)) => Ok(body),
                Ok(Err(_)) => Err(CallError::Disconnected { command }),
                Err(_) => {
                    inner.pending.lock().ok().map(|mut p| p.remove(&sync_id));
                    if inner.down.load(Ordering::Acquire) {
                        Err(CallError::Offline { command, after })
                    } else {
                        Err(CallError::Timeout { command, after })
                    }
                }
            }
        })
    }

    fn upload(&self, upload: Upload) -> BoxFuture<Result<Value, CallError>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let session = inner.session.read().map(|s| s.clone()).unwrap_or_default();
            let base = http_base(&inner.url);
            multipart::send(&inner.http, &base, &session, false, upload, inner.opts.call_timeout)
                .await
        })
    }

    fn shutdown(&self) -> BoxFuture<()> {
        self.close();
        Box::pin(async {})
    }

    fn rejected_frames(&self) -> u64 {
        self.inner.rejected.load(Ordering::Relaxed)
    }
}

/// The http address of the same server: uploads go there, as 2.10 serves them on the ws port.
fn http_base(ws_url: &str) -> String {
    match parse_address(ws_url) {
        Ok(a) => format!("{}://{}", if a.secure { "https" } else { "http" }, a.host),
        Err(_) => ws_url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_completed() {
        assert_eq!(endpoint("127.0.0.1:8080").unwrap(), "ws://127.0.0.1:8080/all");
        assert_eq!(endpoint("ws://h:1/").unwrap(), "ws://h:1/all");
        assert_eq!(endpoint("wss://h:1/message").unwrap(), "wss://h:1/message");
        assert_eq!(endpoint("http://h:1").unwrap(), "ws://h:1/all");
        assert!(endpoint("ftp://h").is_err());
        assert!(endpoint("ws://").is_err());
        assert_eq!(http_base("wss://h:1/all"), "https://h:1");
        assert_eq!(http_base("ws://h:1/all"), "http://h:1");
    }
}
