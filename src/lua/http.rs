//! The `http` module: `http.get` and `http.post` from scripts, waiting without blocking.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mlua::{Lua, LuaString, Table, Value};

use super::convert;

/// How long a request may take unless the script says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response body read unless the script says otherwise.
const DEFAULT_MAX_BYTES: usize = 1 << 20;

/// What a script asked for in `options`.
struct Options {
    headers: Vec<(String, String)>,
    timeout: Duration,
    max_bytes: usize,
    json: Option<serde_json::Value>,
}

fn err(func: &str, e: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::runtime(format!("http.{func}: {e}"))
}

fn options(lua: &Lua, func: &str, t: Option<Table>) -> mlua::Result<Options> {
    let mut o = Options {
        headers: Vec::new(),
        timeout: DEFAULT_TIMEOUT,
        max_bytes: DEFAULT_MAX_BYTES,
        json: None,
    };
    let Some(t) = t else { return Ok(o) };
    if let Some(h) = t.get::<Option<Table>>("headers")? {
        for pair in h.pairs::<String, String>() {
            o.headers.push(pair.map_err(|e| err(func, format!("headers: {e}")))?);
        }
    }
    if let Some(s) = t.get::<Option<f64>>("timeout")? {
        o.timeout = Duration::try_from_secs_f64(s)
            .map_err(|_| err(func, format!("timeout must be seconds >= 0, got {s}")))?;
    }
    if let Some(n) = t.get::<Option<i64>>("max_bytes")? {
        o.max_bytes = usize::try_from(n)
            .map_err(|_| err(func, format!("max_bytes must be >= 0, got {n}")))?;
    }
    if let Some(v) = t.get::<Option<Value>>("json")? {
        o.json = Some(convert::to_json(lua, &v).map_err(|e| err(func, format!("json: {e}")))?);
    }
    Ok(o)
}

/// Send a request and give back `{status, body, headers}`.
async fn fetch(
    lua: Lua,
    func: &'static str,
    req: reqwest::RequestBuilder,
    o: Options,
) -> mlua::Result<Table> {
    let mut req = req.timeout(o.timeout);
    for (k, v) in &o.headers {
        req = req.header(k, v);
    }
    if let Some(j) = &o.json {
        req = req.json(j);
    }
    let mut resp = req.send().await.map_err(|e| err(func, e))?;
    let status = resp.status().as_u16();
    let headers = lua.create_table()?;
    for (k, v) in resp.headers() {
        headers.set(k.as_str(), String::from_utf8_lossy(v.as_bytes()).into_owned())?;
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| err(func, e))? {
        if body.len() + chunk.len() > o.max_bytes {
            return Err(err(
                func,
                format!("the response is larger than {} bytes (options.max_bytes)", o.max_bytes),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let out = lua.create_table()?;
    out.set("status", status)?;
    out.set("body", lua.create_string(&body)?)?;
    out.set("headers", headers)?;
    Ok(out)
}

/// A response given instead of the web's, as `mahua test` gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canned {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: String,
}

/// Responses by URL prefix; when set, no request leaves the process.
pub type CannedResponses = Arc<Mutex<Vec<(String, Canned)>>>;

/// The canned response for `url`, or an error saying how to give one.
fn canned(lua: &Lua, func: &str, all: &CannedResponses, url: &str) -> mlua::Result<Table> {
    let found = all
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .rev()
        .find(|(prefix, _)| url.starts_with(prefix.as_str()))
        .map(|(_, c)| c.clone());
    let Some(c) = found else {
        return Err(err(
            func,
            format!("{url}: tests reach no network; give a response with t:answer_http(url, {{status = 200, body = …}})"),
        ));
    };
    let out = lua.create_table()?;
    out.set("status", c.status)?;
    out.set("body", c.body)?;
    out.set("headers", lua.create_table()?)?;
    Ok(out)
}

/// Build the `http` table.
pub fn register(lua: &Lua) -> mlua::Result<Table> {
    let client = reqwest::Client::new();
    let canned_responses = super::context(lua)?.http_canned.clone();
    let m = lua.create_table()?;
    let c = client.clone();
    let stub = canned_responses.clone();
    m.set(
        "get",
        lua.create_async_function(move |lua, (url, opts): (String, Option<Table>)| {
            let built = options(&lua, "get", opts).map(|o| (c.get(&url), o));
            let given = stub.as_ref().map(|s| canned(&lua, "get", s, &url));
            async move {
                if let Some(r) = given {
                    return r;
                }
                let (req, o) = built?;
                fetch(lua, "get", req, o).await
            }
        })?,
    )?;
    m.set(
        "post",
        lua.create_async_function(
            move |lua, (url, body, opts): (String, Option<LuaString>, Option<Table>)| {
                let given = canned_responses.as_ref().map(|s| canned(&lua, "post", s, &url));
                let built = options(&lua, "post", opts).map(|o| {
                    let req = client.post(&url);
                    let req = match body {
                        Some(b) => req.body(b.as_bytes().to_vec()),
                        None => req,
                    };
                    (req, o)
                });
                async move {
                    if let Some(r) = given {
                        return r;
                    }
                    let (req, o) = built?;
                    fetch(lua, "post", req, o).await
                }
            },
        )?,
    )?;
    Ok(m)
}
