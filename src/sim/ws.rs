//! The `ws` adapter: handshake, command frames, pushes.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::content::{self, Content, Style};
use super::error::Fail;
use super::session::{Outbound, WsPath, SINGLE_SESSION};
use super::Inner;
use crate::protocol::commands::COMMANDS;
use crate::protocol::StatusCode;

/// Commands that run without any `content` over ws; every other command needs at least `{}`.
const CONTENT_FREE: &[&str] = &["about", "botList", "friendList", "groupList", "botProfile"];

/// The handshake parameters, each from a header or else the query.
#[derive(Debug, Default, Clone)]
struct Handshake {
    verify_key: Option<String>,
    qq: Option<String>,
    session_key: Option<String>,
}

fn handshake(headers: &HeaderMap, uri: &Uri) -> Handshake {
    let query: Vec<(String, String)> =
        Query::try_from_uri(uri).map(|Query(q)| q).unwrap_or_default();
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    };
    Handshake { verify_key: get("verifyKey"), qq: get("qq"), session_key: get("sessionKey") }
}

/// Accept an upgrade on one of the three paths.
pub async fn upgrade(
    inner: State<Arc<Inner>>,
    path: WsPath,
    headers: HeaderMap,
    uri: Uri,
    ws: WebSocketUpgrade,
) -> Response {
    let params = handshake(&headers, &uri);
    let State(inner) = inner;
    ws.on_upgrade(move |socket| run(inner, path, params, socket))
}

/// The session a handshake gets: its key, following the real decision order.
fn decide(inner: &Inner, params: &Handshake) -> Result<String, Fail> {
    let cfg = &inner.cfg;
    if cfg.enable_verify && params.verify_key.as_deref() != Some(cfg.verify_key.as_str()) {
        return Err(StatusCode::WrongVerifyKey.into());
    }
    let mut sessions = inner.sessions();
    if cfg.single_mode {
        sessions.create_unbound(cfg.qq);
        return Ok(SINGLE_SESSION.to_owned());
    }
    match (&params.session_key, &params.qq) {
        (None, Some(qq)) => {
            let qq: i64 = qq.trim().parse().map_err(|_| Fail::invalid())?;
            if qq != cfg.qq {
                return Err(StatusCode::BotNotFound.into());
            }
            Ok(sessions.create_bound(qq))
        }
        (None, None) => Err(Fail::invalid()),
        (Some(key), _) => {
            sessions.bound(Some(key))?;
            Ok(key.clone())
        }
    }
}

async fn run(inner: Arc<Inner>, path: WsPath, params: Handshake, mut socket: WebSocket) {
    if inner.faults().down {
        // The listener is closing; this socket is not served any more.
        let _ = socket.send(Message::Close(None)).await;
        return;
    }
    let key = match decide(&inner, &params) {
        Ok(key) => key,
        Err(fail) => {
            let frame = json!({ "syncId": "", "data": fail.body() }).to_string();
            // The client may already be gone; there is nobody to tell then.
            let _ = socket.send(Message::Text(frame.into())).await;
            let close = CloseFrame { code: 1000, reason: fail.to_string().into() };
            let _ = socket.send(Message::Close(Some(close))).await;
            return;
        }
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let hello = json!({ "syncId": "", "data": { "code": 0, "session": key } }).to_string();
    // The channel is ours and open, so this send cannot fail.
    let _ = tx.send(Outbound::Text(hello));
    let Some(socket_id) = inner.sessions().attach(&key, path, tx.clone()) else {
        return;
    };
    inner.bump();
    tracing::debug!(target: "mahua::sim", path = path.as_str(), session = %key, "socket attached");

    let (sink, mut stream) = socket.split();
    // Pushes it cannot write, or that are still queued when it ends, count as lost.
    let writer = tokio::spawn(super::socket::write(Arc::clone(&inner), rx, sink));
    let mut stop = inner.shutdown.subscribe();
    let mut writer = writer;
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let (reply, command) = handle_frame(&inner, &key, text.as_str());
                    super::faults::send_answer(&inner, command.as_deref(), reply, &tx);
                }
                Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            _ = &mut writer => break,
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    // Flush what is queued (e.g. the close frame) and end the writer.
    let _ = tx.send(Outbound::Close);
    drop(tx);
    if !writer.is_finished() {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), &mut writer).await;
        writer.abort();
    }
    inner.sessions().detach(&key, socket_id);
    inner.bump();
    tracing::debug!(target: "mahua::sim", path = path.as_str(), session = %key, "socket closed");
}

/// A command frame, as far as it could be read.
struct Frame {
    sync_id: Value,
    command: String,
    sub_command: Option<String>,
    content: Option<Value>,
}

fn parse_frame(text: &str) -> Option<Frame> {
    let Value::Object(mut o) = serde_json::from_str::<Value>(text).ok()? else {
        return None;
    };
    let sync_id = match o.remove("syncId")? {
        Value::String(s) => Value::String(s),
        Value::Number(n) => Value::String(n.to_string()),
        Value::Null => Value::Null,
        _ => return None,
    };
    let command = match o.remove("command")? {
        Value::String(s) => s,
        _ => return None,
    };
    let sub_command = match o.remove("subCommand") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return None,
    };
    Some(Frame { sync_id, command, sub_command, content: o.remove("content") })
}

/// Answer one text frame of a socket bound to `key`; the answer and the command, if one was read.
fn handle_frame(inner: &Inner, key: &str, text: &str) -> (String, Option<String>) {
    let Some(frame) = parse_frame(text) else {
        return (StatusCode::InvalidArgument.state().to_string(), None);
    };
    inner.record(
        "ws",
        &frame.command,
        frame.sub_command.as_deref(),
        frame.content.clone().unwrap_or(Value::Null),
    );
    let data = answer(inner, key, &frame).unwrap_or_else(|f| f.body());
    (json!({ "syncId": frame.sync_id, "data": data }).to_string(), Some(frame.command))
}

fn answer(inner: &Inner, key: &str, frame: &Frame) -> Result<Value, Fail> {
    let named: Vec<_> = COMMANDS.iter().filter(|c| c.name == frame.command).collect();
    let has_subs = named.iter().any(|c| c.sub.is_some());
    let cmd = named
        .into_iter()
        .find(|c| !has_subs || c.sub == frame.sub_command.as_deref())
        .filter(|c| c.on_ws())
        .ok_or_else(Fail::unsupported)?;
    let content: Content = match &frame.content {
        Some(Value::Object(o)) => o.clone(),
        None | Some(Value::Null) if CONTENT_FREE.contains(&cmd.name) => Content::new(),
        _ if CONTENT_FREE.contains(&cmd.name) => Content::new(),
        _ => return Err(Fail::invalid()),
    };
    content::check(cmd, &content, Style::Ws)?;
    if cmd.session {
        inner.sessions().bound(Some(key))?;
    }
    Ok(inner.execute(cmd, &content, key))
}
