//! The HTTP polling adapter: a session by verify and bind, events by `fetchMessage`,
//! every command at its path. Speaks 2.x, and the 1.x dialect when asked.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tokio::sync::{mpsc, Notify};

use super::{
    backoff, multipart, parse_address, Adapter, BoxFuture, Call, CallError, ConnectError,
    LinkEvent, Upload,
};
use crate::config::{ProtocolVersion, Secret};
use crate::protocol::commands::{self, Encoding, HttpMethod};
use crate::protocol::{frame, v1};
use crate::protocol::{Event, StatusCode};

/// How to reach and poll the server.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// `http://host:port`, `https://…`, or `host:port`.
    pub url: String,
    /// The server's verify key (the auth key on 1.x).
    pub verify_key: Secret,
    /// The bot account.
    pub qq: i64,
    /// 2.x, or the 1.x dialect.
    pub protocol: ProtocolVersion,
    /// How long a call waits for its answer.
    pub call_timeout: Duration,
    /// The pause between polls that came back short.
    pub poll_interval: Duration,
    /// How many events one poll asks for.
    pub poll_count: usize,
    /// The longest wait between retries of a failed poll.
    pub max_backoff: Duration,
}

impl HttpOptions {
    /// Options with the usual timings.
    #[must_use]
    pub fn new(url: impl Into<String>, verify_key: Secret, qq: i64) -> Self {
        Self {
            url: url.into(),
            verify_key,
            qq,
            protocol: ProtocolVersion::V2,
            call_timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(200),
            poll_count: 100,
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// How many full polls in a row make a warning that the poll is too slow.
const FULL_POLLS_WARNING: u32 = 10;

/// Make a configured URL a base `http://host:port`.
pub fn base_url(url: &str) -> Result<String, ConnectError> {
    let a = parse_address(url)?;
    let scheme = if a.secure { "https" } else { "http" };
    Ok(format!("{scheme}://{}{}", a.host, a.path))
}

struct Inner {
    opts: HttpOptions,
    base: String,
    client: reqwest::Client,
    session: RwLock<String>,
    renewing: tokio::sync::Mutex<()>,
    events: mpsc::Sender<LinkEvent>,
    closed: AtomicBool,
    stop: Notify,
    /// Since when the link is down, `None` while it is up; held while the news is sent.
    down_since: tokio::sync::Mutex<Option<Instant>>,
    /// Answers and queued items from the server that were unreadable or made no sense.
    rejected: AtomicU64,
}

/// An HTTP polling link to a mirai-api-http server.
pub struct HttpAdapter {
    inner: Arc<Inner>,
}

/// Why a request failed before a status code could be read.
fn transport(command: &str, e: impl std::fmt::Display) -> CallError {
    CallError::Transport { command: command.to_owned(), reason: e.to_string() }
}

impl HttpAdapter {
    /// Open and bind a session, then poll for events in the background.
    ///
    /// A wrong URL, key or account fails here; later failures are retried.
    pub async fn connect(
        opts: HttpOptions,
    ) -> Result<(Arc<Self>, mpsc::Receiver<LinkEvent>), ConnectError> {
        super::ws::install_crypto_provider();
        let base = base_url(&opts.url)?;
        let client = reqwest::Client::builder()
            .timeout(opts.call_timeout)
            .build()
            .map_err(|e| ConnectError::BadUrl { url: opts.url.clone(), reason: e.to_string() })?;
        let session = open_session(&client, &base, &opts).await?;
        tracing::info!(url = %base, session = %session, "connected to mirai-api-http over http");
        let (events, rx) = mpsc::channel(4096);
        let inner = Arc::new(Inner {
            opts,
            base,
            client,
            session: RwLock::new(session),
            renewing: tokio::sync::Mutex::new(()),
            events,
            closed: AtomicBool::new(false),
            stop: Notify::new(),
            down_since: tokio::sync::Mutex::new(None),
            rejected: AtomicU64::new(0),
        });
        let _ = inner.events.send(LinkEvent::Connected { gap: None }).await;
        tokio::spawn(poll(inner.clone()));
        Ok((Arc::new(Self { inner }), rx))
    }
}

impl Drop for HttpAdapter {
    fn drop(&mut self) {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.stop.notify_waiters();
    }
}

/// POST a JSON body and read the JSON answer.
async fn post(client: &reqwest::Client, url: &str, body: &Value) -> Result<Value, String> {
    let resp = client.post(url).json(body).send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("HTTP {status} from {url}"));
    }
    Ok(multipart::parse_body(&text))
}

/// Verify (or auth, on 1.x) and bind: a session key ready for calls.
async fn open_session(
    client: &reqwest::Client,
    base: &str,
    opts: &HttpOptions,
) -> Result<String, ConnectError> {
    let unreachable = |reason: String| ConnectError::Unreachable {
        url: base.to_owned(),
        adapter: "http",
        reason,
    };
    let (verify_path, key_field, bind_path) = match opts.protocol {
        ProtocolVersion::V2 => ("/verify", "verifyKey", "/bind"),
        ProtocolVersion::V1 => ("/auth", "authKey", "/verify"),
    };
    let body = json!({ key_field: opts.verify_key.expose() });
    let answer = post(client, &format!("{base}{verify_path}"), &body).await.map_err(unreachable)?;
    let code = answer.get("code").and_then(Value::as_i64).unwrap_or(-1);
    let msg = answer.get("msg").and_then(Value::as_str).unwrap_or_default().to_owned();
    let session = match StatusCode::from_code(code) {
        StatusCode::Success => answer
            .get("session")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ConnectError::Handshake(answer.to_string()))?,
        StatusCode::WrongVerifyKey => {
            return Err(ConnectError::WrongVerifyKey { url: base.to_owned() })
        }
        StatusCode::Other(-1) => return Err(ConnectError::Handshake(answer.to_string())),
        status => return Err(ConnectError::Refused { status, msg }),
    };
    let bind = json!({ "sessionKey": session, "qq": opts.qq });
    let answer = post(client, &format!("{base}{bind_path}"), &bind).await.map_err(unreachable)?;
    match answer.get("code").and_then(Value::as_i64).map(StatusCode::from_code) {
        Some(StatusCode::Success) => Ok(session),
        Some(StatusCode::BotNotFound) => Err(ConnectError::BotNotFound { qq: opts.qq }),
        Some(status) => Err(ConnectError::Refused {
            status,
            msg: answer.get("msg").and_then(Value::as_str).unwrap_or_default().to_owned(),
        }),
        None => Err(ConnectError::Handshake(answer.to_string())),
    }
}

/// The query string of a GET: scalars as text, lists by repeating the key, nulls left out.
fn query_pairs(command: &str, content: &Value) -> Result<Vec<(String, String)>, CallError> {
    let mut out = Vec::new();
    let Some(map) = content.as_object() else { return Ok(out) };
    let scalar = |k: &str, v: &Value| -> Result<String, CallError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(CallError::Unsupported {
                command: command.to_owned(),
                reason: format!("`{k}` cannot be sent in a URL query"),
            }),
        }
    };
    for (k, v) in map {
        match v {
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    out.push((k.clone(), scalar(k, item)?));
                }
            }
            v => out.push((k.clone(), scalar(k, v)?)),
        }
    }
    Ok(out)
}

/// A request in the server's dialect: method, path and content.
struct Request {
    method: HttpMethod,
    path: String,
    content: Value,
}

/// Where and how a call goes, per the command table (and the 1.x differences).
fn request_for(call: &Call, protocol: ProtocolVersion) -> Result<Request, CallError> {
    let found = commands::find(&call.command, call.sub_command.as_deref());
    let (method, path) = match found {
        Some(c) if c.encoding == Encoding::Multipart => {
            return Err(CallError::Unsupported {
                command: call.command.clone(),
                reason: "is an upload; scripts send it with its own function".into(),
            })
        }
        Some(c) => (c.method, c.path.to_owned()),
        None => {
            let method = if call.sub_command.as_deref() == Some("get") {
                HttpMethod::Get
            } else {
                HttpMethod::Post
            };
            (method, format!("/{}", call.command.replace('_', "/")))
        }
    };
    let mut content = Value::clone(&call.content);
    if protocol == ProtocolVersion::V1 {
        content = v1::request(&call.command, content)
            .map_err(|reason| CallError::Unsupported { command: call.command.clone(), reason })?;
    }
    Ok(Request { method, path, content })
}

impl Inner {
    fn session_key(&self) -> String {
        self.session.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Send one request with the current session; the raw answer.
    async fn send(&self, command: &str, req: &Request, session: &str) -> Result<Value, CallError> {
        let url = format!("{}{}", self.base, req.path);
        let v1 = self.opts.protocol == ProtocolVersion::V1;
        let builder = match req.method {
            HttpMethod::Get => {
                let mut pairs = query_pairs(command, &req.content)?;
                if v1 {
                    pairs.push(("sessionKey".into(), session.to_owned()));
                }
                self.client.get(&url).query(&pairs)
            }
            HttpMethod::Post => {
                let mut body = match &req.content {
                    Value::Object(m) => m.clone(),
                    Value::Null => Map::new(),
                    other => {
                        return Err(CallError::Unsupported {
                            command: command.to_owned(),
                            reason: format!("content must be an object, not {other}"),
                        })
                    }
                };
                if v1 {
                    body.insert("sessionKey".into(), Value::from(session));
                }
                self.client.post(&url).json(&body)
            }
        };
        let builder = if v1 { builder } else { builder.header("sessionKey", session) };
        let resp = builder.send().await.map_err(|e| {
            if e.is_timeout() {
                CallError::Timeout { command: command.to_owned(), after: self.opts.call_timeout }
            } else if e.is_connect() {
                CallError::Offline { command: command.to_owned(), after: Duration::ZERO }
            } else {
                transport(command, e)
            }
        })?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| transport(command, e))?;
        if !status.is_success() {
            return Err(transport(
                command,
                format!("the server answered HTTP {status} for {}", req.path),
            ));
        }
        let body = multipart::parse_body(&text);
        // On 1.x this is also where fetched events take their 2.x shapes.
        Ok(if v1 { v1::answer(command, &req.content, body, v1::unix_now()) } else { body })
    }

    /// The link went down: tell the scripts, unless they know already.
    async fn link_down(&self, reason: String) {
        let mut since = self.down_since.lock().await;
        if since.is_none() {
            *since = Some(Instant::now());
            tracing::warn!(%reason, "lost the server; retrying");
            let _ = self.events.send(LinkEvent::Disconnected { reason }).await;
        }
    }

    /// The link is up again: tell the scripts how long it was down, if it was.
    async fn link_up(&self) {
        let mut since = self.down_since.lock().await;
        if let Some(t) = since.take() {
            tracing::info!(after = ?t.elapsed(), "the server is back");
            let _ = self.events.send(LinkEvent::Connected { gap: Some(t.elapsed()) }).await;
        }
    }

    /// Open a new session after the server forgot `old`; the scripts see a disconnect and a connect.
    async fn renew(&self, old: &str) -> bool {
        let _guard = self.renewing.lock().await;
        if self.session_key() != old {
            return true;
        }
        self.link_down("the server forgot the session".into()).await;
        match open_session(&self.client, &self.base, &self.opts).await {
            Ok(key) => {
                tracing::info!(session = %key, "opened a new session");
                if let Ok(mut s) = self.session.write() {
                    *s = key;
                }
                self.link_up().await;
                true
            }
            Err(e) => {
                tracing::warn!("cannot open a new session: {e}");
                false
            }
        }
    }

    /// Send a request, waiting up to the call timeout while the server cannot be reached.
    async fn send_patiently(
        &self,
        command: &str,
        req: &Request,
        session: &str,
        patient: bool,
    ) -> Result<Value, CallError> {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            match self.send(command, req, session).await {
                Err(CallError::Offline { command, .. }) => {
                    let waited = started.elapsed();
                    let left = self.opts.call_timeout.saturating_sub(waited);
                    if !patient || left.is_zero() || self.closed.load(Ordering::Acquire) {
                        return Err(CallError::Offline { command, after: waited });
                    }
                    let pause = backoff(attempt, Duration::from_secs(1)).min(left);
                    attempt += 1;
                    if !self.sleep_or_stop(pause).await {
                        return Err(CallError::NotConnected { command });
                    }
                }
                other => return other,
            }
        }
    }

    /// Send a call; an expired session is renewed and the call tried once more.
    ///
    /// A `patient` call waits up to the call timeout for an unreachable server.
    async fn call(&self, call: &Call, patient: bool) -> Result<Value, CallError> {
        let req = request_for(call, self.opts.protocol)?;
        let session = self.session_key();
        let body = self.send_patiently(&call.command, &req, &session, patient).await?;
        let expired = matches!(
            body.get("code").and_then(Value::as_i64).map(StatusCode::from_code),
            Some(StatusCode::SessionInvalid | StatusCode::SessionNotVerified)
        );
        if expired && self.renew(&session).await {
            return self.send_patiently(&call.command, &req, &self.session_key(), patient).await;
        }
        Ok(body)
    }

    /// Count and log an answer or queued item that makes no sense.
    fn reject(&self, what: &dyn std::fmt::Display, item: &Value) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        let text = item.to_string();
        let item = frame::excerpt(&text, 200);
        tracing::warn!(%item, "ignored an answer from the server: {what}");
    }

    async fn sleep_or_stop(&self, d: Duration) -> bool {
        tokio::select! {
            () = self.stop.notified() => false,
            () = tokio::time::sleep(d) => !self.closed.load(Ordering::Acquire),
        }
    }
}

/// Poll `fetchMessage` until shut down; back off while the server is away.
async fn poll(inner: Arc<Inner>) {
    let fetch = Call::new("fetchMessage", None, json!({ "count": inner.opts.poll_count }));
    let mut attempt = 0u32;
    let mut full_polls = 0u32;
    while !inner.closed.load(Ordering::Acquire) {
        let result = inner.call(&fetch, false).await;
        let events = match result {
            Ok(mut body) => match body.get_mut("data").map(Value::take) {
                Some(Value::Array(items)) => Ok(items),
                _ if frame::failure(&body).is_some() => {
                    Err(format!("fetchMessage answered {body}"))
                }
                _ => {
                    inner.reject(&"fetchMessage answered without a `data` list", &body);
                    if !inner.sleep_or_stop(inner.opts.poll_interval).await {
                        return;
                    }
                    continue;
                }
            },
            Err(e) => Err(e.reason()),
        };
        match events {
            Ok(items) => {
                attempt = 0;
                inner.link_up().await;
                let full = items.len() >= inner.opts.poll_count;
                for ev in items {
                    if let Err(e) = frame::check_event(&ev) {
                        inner.reject(&e, &ev);
                        continue;
                    }
                    if inner.events.send(LinkEvent::Event(Event(ev))).await.is_err() {
                        return;
                    }
                }
                if full {
                    full_polls += 1;
                    if full_polls == FULL_POLLS_WARNING {
                        tracing::warn!(
                            "{FULL_POLLS_WARNING} polls in a row came back full: the server's queue may be \
                             dropping events; lower poll_interval_ms in mahua.toml"
                        );
                    }
                    continue;
                }
                full_polls = 0;
                if !inner.sleep_or_stop(inner.opts.poll_interval).await {
                    return;
                }
            }
            Err(reason) => {
                inner.link_down(reason).await;
                let delay = backoff(attempt, inner.opts.max_backoff);
                attempt = attempt.saturating_add(1);
                if !inner.sleep_or_stop(delay).await {
                    return;
                }
            }
        }
    }
}

impl Adapter for HttpAdapter {
    fn call(&self, call: Call) -> BoxFuture<Result<Value, CallError>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            if inner.closed.load(Ordering::Acquire) {
                return Err(CallError::NotConnected { command: call.command });
            }
            inner.call(&call, true).await
        })
    }

    fn upload(&self, upload: Upload) -> BoxFuture<Result<Value, CallError>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let v1 = inner.opts.protocol == ProtocolVersion::V1;
            if v1 && !v1::has(&upload.command) {
                return Err(CallError::Unsupported {
                    command: upload.command,
                    reason: "is not available on a mirai-api-http 1.x server".into(),
                });
            }
            let command = upload.command.clone();
            let session = inner.session_key();
            let timeout = inner.opts.call_timeout;
            let body =
                multipart::send(&inner.client, &inner.base, &session, v1, upload, timeout).await?;
            Ok(if v1 { v1::answer(&command, &Value::Null, body, v1::unix_now()) } else { body })
        })
    }

    fn shutdown(&self) -> BoxFuture<()> {
        let inner = self.inner.clone();
        Box::pin(async move {
            if inner.closed.swap(true, Ordering::AcqRel) {
                return;
            }
            inner.stop.notify_waiters();
            let release = json!({ "sessionKey": inner.session_key(), "qq": inner.opts.qq });
            match post(&inner.client, &format!("{}/release", inner.base), &release).await {
                Ok(_) => tracing::info!("released the session"),
                Err(e) => tracing::warn!("could not release the session: {e}"),
            }
        })
    }

    fn rejected_frames(&self) -> u64 {
        self.inner.rejected.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_completed() {
        assert_eq!(base_url("127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(base_url("http://h:1/").unwrap(), "http://h:1");
        assert_eq!(base_url("ws://h:1").unwrap(), "http://h:1");
        assert!(base_url("ftp://h").is_err());
        assert!(base_url("http://").is_err());
    }

    #[test]
    fn queries_repeat_lists_and_skip_nulls() {
        let pairs =
            query_pairs("x", &json!({"target": 1, "memberIds": [2, 3], "path": null, "b": true}))
                .unwrap();
        let want: Vec<(String, String)> =
            [("b", "true"), ("memberIds", "2"), ("memberIds", "3"), ("target", "1")]
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
        assert_eq!(pairs, want);
        assert!(query_pairs("x", &json!({"config": {"a": 1}})).is_err());
    }

    #[test]
    fn one_x_requests_are_translated_or_refused() {
        let recall = Call::new("recall", None, json!({"messageId": 5, "target": 9}));
        let r = request_for(&recall, ProtocolVersion::V1).unwrap();
        assert_eq!(r.content, json!({"target": 5}));
        let anno = Call::new("anno_list", None, json!({}));
        assert!(request_for(&anno, ProtocolVersion::V1).is_err());
        let kick = Call::new("kick", None, json!({"target": 1, "memberId": 2, "block": true}));
        let Err(CallError::Unsupported { reason, .. }) = request_for(&kick, ProtocolVersion::V1)
        else {
            panic!("kick with block must be refused over 1.x");
        };
        assert!(reason.contains("`block`"), "{reason}");
        assert!(request_for(&kick, ProtocolVersion::V2).is_ok());
    }
}
