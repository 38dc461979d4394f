//! The `http` adapter: every command at its path, the session endpoints, the unread queue, uploads.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Query, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::content::{self, Content, Style};
use super::error::Fail;
use super::handlers::{self, data, ok, FilePart, Form};
use super::session::WsPath;
use super::{control, ws, Inner};
use crate::protocol::commands::{Command, HttpMethod, Transport, COMMANDS};
use crate::protocol::StatusCode;

/// Largest request body accepted (uploads included).
pub(super) const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Every route of the server: commands from the table, the ws paths, the control API.
pub fn router(inner: Arc<Inner>) -> Router {
    let mut routes: BTreeMap<&'static str, MethodRouter<Arc<Inner>>> = BTreeMap::new();
    for cmd in COMMANDS {
        let route: MethodRouter<Arc<Inner>> = match (cmd.transport, cmd.method) {
            (Transport::Upload, _) => {
                post(move |State(i): State<Arc<Inner>>, req: Request| upload(i, cmd, req))
            }
            (_, HttpMethod::Get) => {
                get(move |State(i): State<Arc<Inner>>, headers: HeaderMap, uri: Uri| async move {
                    let answer = get_command(&i, cmd, &headers, &uri);
                    respond(&i, cmd, answer).await
                })
            }
            (_, HttpMethod::Post) => post(
                move |State(i): State<Arc<Inner>>, headers: HeaderMap, body: Bytes| async move {
                    let answer = post_command(&i, cmd, &headers, &body);
                    respond(&i, cmd, answer).await
                },
            ),
        };
        let merged = match routes.remove(cmd.path) {
            Some(existing) => existing.merge(route),
            None => route,
        };
        routes.insert(cmd.path, merged);
    }
    let mut app = Router::new();
    for (path, route) in routes {
        app = app.route(path, route);
    }
    for path in [WsPath::All, WsPath::Message, WsPath::Event] {
        app = app.route(
            path.as_str(),
            get(
                move |s: State<Arc<Inner>>,
                      headers: HeaderMap,
                      uri: Uri,
                      up: axum::extract::WebSocketUpgrade| {
                    ws::upgrade(s, path, headers, uri, up)
                },
            ),
        );
    }
    control::routes(app).layer(DefaultBodyLimit::max(BODY_LIMIT)).with_state(inner)
}

/// Send an answer, as late and as garbled as the faults in force say.
async fn respond(inner: &Inner, cmd: &Command, answer: Value) -> Response {
    let (delay, raw) = inner.faults().plan_http(cmd.name);
    if !delay.is_zero() {
        // A server going down does not finish its stalled answers.
        let stop = super::lock(&inner.server).as_ref().map(|l| l.stop.subscribe());
        let stopped = async move {
            match stop {
                Some(mut stop) => drop(stop.wait_for(|s| *s).await),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = stopped => {}
        }
    }
    match raw {
        Some(text) => ([(CONTENT_TYPE, "application/json")], text).into_response(),
        None => Json(answer).into_response(),
    }
}

/// The session key from the `sessionKey` header or `Authorization: session <key>`.
fn header_key(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("sessionKey").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_owned());
    }
    let auth = headers.get("Authorization").and_then(|v| v.to_str().ok())?;
    let (scheme, key) = auth.trim().split_once(char::is_whitespace)?;
    (scheme.eq_ignore_ascii_case("session") || scheme.eq_ignore_ascii_case("sessionKey"))
        .then(|| key.trim().to_owned())
}

fn get_command(inner: &Arc<Inner>, cmd: &'static Command, headers: &HeaderMap, uri: &Uri) -> Value {
    let pairs: Vec<(String, String)> = match Query::try_from_uri(uri) {
        Ok(Query(p)) => p,
        Err(_) => {
            inner.record("http", cmd.name, cmd.sub, Value::Null);
            return Fail::invalid().body();
        }
    };
    match content::decode_query(cmd, &pairs) {
        Ok((content, query_key)) => {
            inner.record("http", cmd.name, cmd.sub, Value::Object(content.clone()));
            let key = header_key(headers).or(query_key);
            dispatch(inner, cmd, &content, key.as_deref()).unwrap_or_else(|f| f.body())
        }
        Err(fail) => {
            let raw: serde_json::Map<String, Value> =
                pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            inner.record("http", cmd.name, cmd.sub, Value::Object(raw));
            fail.body()
        }
    }
}

fn post_command(
    inner: &Arc<Inner>,
    cmd: &'static Command,
    headers: &HeaderMap,
    body: &Bytes,
) -> Value {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    inner.record("http", cmd.name, cmd.sub, parsed.clone().unwrap_or(Value::Null));
    let Some(Value::Object(content)) = parsed else {
        return Fail::invalid().body();
    };
    let run = || {
        content::check(cmd, &content, Style::Json)?;
        let body_key = content.get("sessionKey").and_then(Value::as_str).map(str::to_owned);
        let key = match cmd.name {
            // For these the body's sessionKey is the subject of the call.
            "bind" | "release" => body_key.or_else(|| header_key(headers)),
            _ => header_key(headers).or(body_key),
        };
        dispatch(inner, cmd, &content, key.as_deref())
    };
    run().unwrap_or_else(|f| f.body())
}

/// Run a decoded http command.
fn dispatch(
    inner: &Arc<Inner>,
    cmd: &'static Command,
    content: &Content,
    key: Option<&str>,
) -> Result<Value, Fail> {
    let cfg = &inner.cfg;
    match cmd.name {
        "verify" => {
            let given = content.get("verifyKey").and_then(Value::as_str).unwrap_or_default();
            if cfg.enable_verify && given != cfg.verify_key {
                return Err(StatusCode::WrongVerifyKey.into());
            }
            let session = inner.sessions().create_unbound(cfg.qq);
            if !cfg.single_mode {
                inner.expire_later(session.clone());
            }
            inner.bump();
            Ok(json!({ "code": 0, "session": session }))
        }
        "bind" => {
            if cfg.single_mode {
                return Err(Fail::unsupported());
            }
            let qq = content.get("qq").and_then(Value::as_i64).ok_or_else(Fail::invalid)?;
            let key = key.ok_or(Fail::Status(StatusCode::SessionInvalid))?;
            let mut sessions = inner.sessions();
            sessions.get(Some(key))?;
            if qq != cfg.qq {
                return Err(StatusCode::BotNotFound.into());
            }
            sessions.bind(key, qq)?;
            drop(sessions);
            inner.bump();
            Ok(ok())
        }
        "release" => {
            let qq = content.get("qq").and_then(Value::as_i64).ok_or_else(Fail::invalid)?;
            if qq != cfg.qq {
                return Err(StatusCode::BotNotFound.into());
            }
            let key = key.ok_or(Fail::Status(StatusCode::SessionInvalid))?;
            inner.sessions().release(key, qq)?;
            inner.bump();
            Ok(ok())
        }
        _ if cmd.transport == Transport::HttpOnly => queue(inner, cmd.name, content, key),
        _ => {
            let key = inner.sessions().effective_key(key).map(str::to_owned);
            if cmd.session {
                inner.sessions().bound(key.as_deref())?;
            }
            Ok(inner.execute(cmd, content, key.as_deref().unwrap_or_default()))
        }
    }
}

/// The unread-queue endpoints.
pub(super) fn queue(
    inner: &Inner,
    name: &str,
    content: &Content,
    key: Option<&str>,
) -> Result<Value, Fail> {
    let count = content.get("count").and_then(Value::as_i64).unwrap_or(10);
    let count = usize::try_from(count).unwrap_or(0);
    let mut sessions = inner.sessions();
    let session = sessions.get(key)?;
    if session.bot.is_none() {
        return Err(StatusCode::SessionNotVerified.into());
    }
    let Some(q) = session.queue.as_mut() else {
        return Err(Fail::Text(StatusCode::ServerError, "Not a http session".to_owned()));
    };
    let n = count.min(q.len());
    let result = match name {
        "countMessage" => json!(q.len()),
        "fetchMessage" => Value::Array(q.drain(..n).collect()),
        "fetchLatestMessage" => Value::Array(q.drain(q.len() - n..).rev().collect()),
        "peekMessage" | "peakMessage" => Value::Array(q.iter().take(n).cloned().collect()),
        "peekLatestMessage" => Value::Array(q.iter().rev().take(n).cloned().collect()),
        _ => return Err(Fail::unsupported()),
    };
    drop(sessions);
    inner.bump();
    Ok(data(result))
}

pub(super) async fn read_form(req: Request) -> Result<Form, Fail> {
    let mut multipart = Multipart::from_request(req, &()).await.map_err(|_| Fail::invalid())?;
    let mut form = Form::default();
    while let Some(field) = multipart.next_field().await.map_err(|_| Fail::invalid())? {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|_| Fail::invalid())?;
        if file_name.is_some()
            || matches!(name.as_str(), "img" | "voice" | "video" | "thumbnail" | "file")
        {
            form.files.insert(name, FilePart { file_name, size: bytes.len() });
        } else {
            let text = String::from_utf8(bytes.to_vec()).map_err(|_| Fail::invalid())?;
            form.text.insert(name, text);
        }
    }
    Ok(form)
}

pub(super) fn form_json(form: &Form) -> Value {
    let mut o = serde_json::Map::new();
    for (k, v) in &form.text {
        o.insert(k.clone(), Value::String(v.clone()));
    }
    for (k, f) in &form.files {
        o.insert(k.clone(), json!({ "fileName": f.file_name, "size": f.size }));
    }
    Value::Object(o)
}

async fn upload(inner: Arc<Inner>, cmd: &'static Command, req: Request) -> Json<Value> {
    let headers = req.headers().clone();
    let form = match read_form(req).await {
        Ok(form) => form,
        Err(fail) => {
            inner.record("http", cmd.name, cmd.sub, Value::Null);
            return Json(fail.body());
        }
    };
    inner.record("http", cmd.name, cmd.sub, form_json(&form));
    let run = || {
        let key = header_key(&headers).or_else(|| form.text.get("sessionKey").cloned());
        inner.sessions().bound(key.as_deref())?;
        let result = handlers::upload(&mut inner.world(), cmd, &form);
        inner.bump();
        result
    };
    Json(run().unwrap_or_else(|f| f.body()))
}
