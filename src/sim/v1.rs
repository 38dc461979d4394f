//! The http routes of mirai-api-http 1.x, over the same world and commands as 2.x.
//!
//! Only the edges differ from 2.x: `POST /auth {authKey}` opens a session and
//! `POST /verify {sessionKey, qq}` binds it; the session key travels only in the
//! query, the JSON body or a multipart field; lists, `sendImageMessage` and
//! (in early 1.x) `fetchMessage` answer bare arrays; `uploadImage` answers the
//! bare image id as `text/plain`; `recall {target}` and `messageFromId?id=` name
//! a message by its id alone. Every other path answers 404, as does a known path
//! with the wrong method.
//!
//! Friends, members and message packets leave in the 1.x shape of the 1.x docs:
//! a friend's `nickName`; a member's `id`, `memberName`, `permission` and `group`
//! only; a group message's chain led by `{"type":"Source","uid":…}` (the docs'
//! `fetchMessage` example) and every other packet's chain with no `Source` at all
//! (the docs say only group messages carry one).
//!
//! `received()` records each request under the 2.x command it amounts to:
//! `/auth` as `verify`, `/verify` as `bind`, `GET /groupConfig` as
//! `groupConfig`/`get`, and so on. The content is the JSON body as sent, the
//! query without `sessionKey` (numbers as numbers, the rest as strings), or the
//! form fields of an upload.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::content::{self, Content, Style};
use super::error::Fail;
use super::handlers::{self, ok};
use super::{control, http, Inner, SimProtocol};
use crate::protocol::commands::{self, Command, Encoding, HttpMethod};
use crate::protocol::v1;
use crate::protocol::StatusCode;

/// The plugin version the simulator stands for in 1.x mode.
pub const VERSION: &str = "1.12.0";

/// Every 1.x route and the control API; anything else is 404.
pub fn router(inner: Arc<Inner>) -> Router {
    let mut routes: BTreeMap<&'static str, MethodRouter<Arc<Inner>>> = BTreeMap::new();
    let mut add = |path: &'static str, route: MethodRouter<Arc<Inner>>| {
        let merged = match routes.remove(path) {
            Some(existing) => existing.merge(route),
            None => route,
        };
        routes.insert(path, merged);
    };
    for &(name, sub) in v1::COMMANDS {
        let Some(cmd) = commands::find(name, sub).filter(|c| c.encoding != Encoding::Multipart)
        else {
            continue;
        };
        let route = match cmd.method {
            HttpMethod::Get => get(move |State(i): State<Arc<Inner>>, uri: Uri| async move {
                get_route(&i, name, sub, &uri)
            }),
            HttpMethod::Post => post(move |State(i): State<Arc<Inner>>, body: Bytes| async move {
                Json(post_route(&i, name, sub, &body))
            }),
        };
        add(cmd.path, route);
    }
    for &(path, name) in v1::SESSION {
        add(
            path,
            post(move |State(i): State<Arc<Inner>>, body: Bytes| async move {
                Json(post_route(&i, name, None, &body))
            }),
        );
    }
    add("/uploadImage", post(|State(i): State<Arc<Inner>>, req: Request| upload_image(i, req)));
    let mut app = Router::new();
    for (path, route) in routes {
        app = app.route(path, route.fallback(not_found));
    }
    control::routes(app).layer(DefaultBodyLimit::max(http::BODY_LIMIT)).with_state(inner)
}

async fn not_found() -> axum::http::StatusCode {
    axum::http::StatusCode::NOT_FOUND
}

/// The 2.x command a 1.x route runs.
fn command(name: &str, sub: Option<&str>) -> Result<&'static Command, Fail> {
    commands::find(name, sub).ok_or_else(Fail::unsupported)
}

/// Whether the unread-queue routes answer `{"code":0,"data":…}`.
fn wrapped_fetch(inner: &Inner) -> bool {
    matches!(inner.cfg.protocol, SimProtocol::V1 { wrapped_fetch: true })
}

/// The `data` of a 2.x `{code, msg, data}` answer (the answer itself if it has none).
fn take_data(v: Value) -> Value {
    match v {
        Value::Object(mut o) => o.remove("data").unwrap_or(Value::Object(o)),
        other => other,
    }
}

/// A query value as recorded: a number when it parses as one.
fn query_value(raw: &str) -> Value {
    raw.trim().parse::<i64>().map_or_else(|_| Value::String(raw.to_owned()), Value::from)
}

fn get_route(
    inner: &Arc<Inner>,
    name: &'static str,
    sub: Option<&'static str>,
    uri: &Uri,
) -> Response {
    let Ok(Query(pairs)) = Query::<Vec<(String, String)>>::try_from_uri(uri) else {
        inner.record("http", name, sub, Value::Null);
        return Json(Fail::invalid().body()).into_response();
    };
    let shown: Map<String, Value> = pairs
        .iter()
        .filter(|(k, _)| k != "sessionKey")
        .map(|(k, v)| (k.clone(), query_value(v)))
        .collect();
    inner.record("http", name, sub, Value::Object(shown));
    let key = pairs.iter().find(|(k, _)| k == "sessionKey").map(|(_, v)| v.clone());
    Json(get_answer(inner, name, sub, &pairs, key.as_deref()).unwrap_or_else(|f| f.body()))
        .into_response()
}

fn get_answer(
    inner: &Arc<Inner>,
    name: &'static str,
    sub: Option<&'static str>,
    pairs: &[(String, String)],
    key: Option<&str>,
) -> Result<Value, Fail> {
    if name == "messageFromId" {
        return message_from_id(inner, pairs, key);
    }
    let cmd = command(name, sub)?;
    let (content, _) = content::decode_query(cmd, pairs)?;
    match name {
        "fetchMessage" | "fetchLatestMessage" | "peekMessage" | "peekLatestMessage"
        | "countMessage" => {
            let events = one_x_list(take_data(http::queue(inner, name, &content, key)?), event);
            Ok(if wrapped_fetch(inner) { json!({ "code": 0, "data": events }) } else { events })
        }
        "groupConfig" | "memberInfo" => {
            inner.sessions().bound(key)?;
            let w = inner.world();
            let g = w.group(need_long(&content, "target")?).ok_or_else(Fail::not_found)?;
            if name == "groupConfig" {
                let announcement = g.announcements.last().map(|a| a.content.clone());
                Ok(json!({
                    "name": g.name, "announcement": announcement.unwrap_or_default(),
                    "confessTalk": false, "allowMemberInvite": g.config.allow_member_invite,
                    "autoApprove": g.config.auto_approve, "anonymousChat": g.config.anonymous_chat,
                }))
            } else {
                let m = g.member(need_long(&content, "memberId")?).ok_or_else(Fail::not_found)?;
                Ok(json!({ "name": m.name, "specialTitle": m.special_title }))
            }
        }
        // The lists: bare arrays.
        _ => {
            inner.sessions().bound(key)?;
            let list = take_data(inner.try_execute(cmd, &content, key.unwrap_or_default())?);
            Ok(one_x_list(list, party))
        }
    }
}

fn need_long(c: &Content, k: &str) -> Result<i64, Fail> {
    c.get(k).and_then(Value::as_i64).ok_or_else(Fail::invalid)
}

/// `GET /messageFromId?id=`: the most recent cached message with that id, wrapped as 2.x does.
fn message_from_id(
    inner: &Arc<Inner>,
    pairs: &[(String, String)],
    key: Option<&str>,
) -> Result<Value, Fail> {
    let raw = pairs.iter().find(|(k, _)| k == "id").map(|(_, v)| v.trim());
    let id = raw.ok_or_else(Fail::invalid)?.parse::<i64>().map_err(|_| Fail::invalid())?;
    inner.sessions().bound(key)?;
    let conversation = inner
        .world()
        .latest_message_with_id(id)
        .map(|m| m.conversation)
        .ok_or_else(Fail::not_found)?;
    let cmd = command("messageFromId", None)?;
    let content = as_content(json!({ "target": conversation, "messageId": id }));
    let mut answer = inner.try_execute(cmd, &content, key.unwrap_or_default())?;
    if let Some(packet) = answer.get_mut("data") {
        *packet = event(packet.take());
    }
    Ok(answer)
}

/// Each item of a list in its 1.x shape; anything else as it is.
fn one_x_list(v: Value, one: fn(Value) -> Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.into_iter().map(one).collect()),
        other => other,
    }
}

/// A friend (`nickName`) or member (no 2.x-only keys) as 1.x has it.
fn party(v: Value) -> Value {
    let Value::Object(mut p) = v else { return v };
    if p.get("group").is_some_and(Value::is_object) {
        p.retain(|k, _| matches!(k.as_str(), "id" | "memberName" | "permission" | "group"));
    } else if let Some(nick) = p.remove("nickname") {
        p.insert("nickName".into(), nick);
    }
    Value::Object(p)
}

/// An event or message packet as a 1.x server pushes it.
fn event(v: Value) -> Value {
    let Value::Object(mut ev) = v else { return v };
    for key in ["sender", "subject", "member", "operator", "invitor", "friend"] {
        if let Some(p) = ev.get_mut(key) {
            *p = party(p.take());
        }
    }
    let group = ev.get("type").and_then(Value::as_str) == Some("GroupMessage");
    if let Some(Value::Array(chain)) = ev.get_mut("messageChain") {
        let is_source = |e: &Value| e.get("type").and_then(Value::as_str) == Some("Source");
        if let Some(i) = chain.iter().position(is_source) {
            let source = chain.remove(i);
            if group {
                chain.insert(0, json!({ "type": "Source", "uid": source.get("id") }));
            }
        }
    }
    Value::Object(ev)
}

fn as_content(v: Value) -> Content {
    match v {
        Value::Object(o) => o,
        _ => Content::new(),
    }
}

fn post_route(
    inner: &Arc<Inner>,
    name: &'static str,
    sub: Option<&'static str>,
    body: &Bytes,
) -> Value {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    inner.record("http", name, sub, parsed.clone().unwrap_or(Value::Null));
    let Some(Value::Object(content)) = parsed else {
        return Fail::invalid().body();
    };
    post_answer(inner, name, sub, &content).unwrap_or_else(|f| f.body())
}

fn post_answer(
    inner: &Arc<Inner>,
    name: &'static str,
    sub: Option<&'static str>,
    content: &Content,
) -> Result<Value, Fail> {
    let cfg = &inner.cfg;
    let key = content.get("sessionKey").and_then(Value::as_str);
    match name {
        "verify" => {
            let given = content.get("authKey").and_then(Value::as_str);
            if given != Some(cfg.verify_key.as_str()) {
                return Err(StatusCode::WrongVerifyKey.into());
            }
            let session = inner.sessions().create_unbound(cfg.qq);
            inner.expire_later(session.clone());
            inner.bump();
            Ok(json!({ "code": 0, "session": session }))
        }
        "bind" | "release" => {
            let qq = content.get("qq").and_then(Value::as_i64).ok_or_else(Fail::invalid)?;
            let key = key.ok_or(Fail::Status(StatusCode::SessionInvalid))?;
            let mut sessions = inner.sessions();
            if name == "bind" {
                sessions.get(Some(key))?;
                if qq != cfg.qq {
                    return Err(StatusCode::BotNotFound.into());
                }
                sessions.bind(key, qq)?;
            } else {
                // 1.x: a session that is not this bot's is "target not found".
                sessions.release(key, qq)?;
            }
            drop(sessions);
            inner.bump();
            Ok(ok())
        }
        "recall" => {
            let id = need_long(content, "target")?;
            inner.sessions().bound(key)?;
            let conversation = inner
                .world()
                .latest_message_with_id(id)
                .map(|m| m.conversation)
                .ok_or_else(Fail::not_found)?;
            let content = as_content(json!({ "target": conversation, "messageId": id }));
            inner.try_execute(command("recall", None)?, &content, key.unwrap_or_default())
        }
        _ => {
            let cmd = command(name, sub)?;
            content::check(cmd, content, Style::Json)?;
            inner.sessions().bound(key)?;
            let answer = inner.try_execute(cmd, content, key.unwrap_or_default())?;
            Ok(if name == "sendImageMessage" { take_data(answer) } else { answer })
        }
    }
}

/// `POST /uploadImage`: the image id as a `text/plain` body, or a JSON state code.
async fn upload_image(inner: Arc<Inner>, req: Request) -> Response {
    let form = match http::read_form(req).await {
        Ok(form) => form,
        Err(fail) => {
            inner.record("http", "uploadImage", None, Value::Null);
            return Json(fail.body()).into_response();
        }
    };
    inner.record("http", "uploadImage", None, http::form_json(&form));
    let run = || {
        let cmd = command("uploadImage", None)?;
        inner.sessions().bound(form.text.get("sessionKey").map(String::as_str))?;
        let result = handlers::upload(&mut inner.world(), cmd, &form);
        inner.bump();
        let id = result?.get("imageId").and_then(Value::as_str).map(str::to_owned);
        id.ok_or_else(|| Fail::Text(StatusCode::ServerError, "no image id".to_owned()))
    };
    match run() {
        Ok(id) => id.into_response(),
        Err(fail) => Json(fail.body()).into_response(),
    }
}
