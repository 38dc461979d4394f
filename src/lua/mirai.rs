//! The `mirai` module: one function per command of the command table, plus `mirai.call`.

use mlua::{Function, Lua, MultiValue, Table, Value};
use serde_json::{Map, Value as Json};

use super::{context, convert};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::adapter::{Call, FilePart, Upload};
use crate::host::paths;
use crate::metrics;
use crate::protocol::chain;
use crate::protocol::commands::{
    self, Command, Default as ArgDefault, Encoding, Fill, LuaArg, LuaCall, Need, Reply, ValueType,
};
use crate::protocol::frame::{self, Failure};
use crate::protocol::StatusCode;

/// Wraps a raw `(ok, result)` function so failures raise an error table.
const WRAP: &str = r#"
local setmetatable, error = setmetatable, error
return function(raw, mt)
  return function(...)
    local ok, r = raw(...)
    if ok then return r end
    return error(setmetatable(r, mt), 0)
  end
end
"#;

/// A bad argument error naming the function and the argument.
#[allow(clippy::arc_with_non_send_sync)] // mlua's error type holds an Arc by design.
fn bad_arg(func: &str, pos: usize, name: &str, why: String) -> mlua::Error {
    mlua::Error::BadArgument {
        to: Some(format!("mirai.{func}")),
        pos,
        name: Some(name.to_owned()),
        cause: std::sync::Arc::new(mlua::Error::runtime(why)),
    }
}

fn default_json(d: ArgDefault) -> Json {
    match d {
        ArgDefault::Int(i) => Json::from(i),
        ArgDefault::Str(s) => Json::from(s),
        ArgDefault::Bool(b) => Json::from(b),
    }
}

/// Check a value against a content key's type; an empty table is an empty list where a list is wanted.
fn typed(ty: ValueType, v: Json) -> Result<Json, String> {
    let v = match (ty, v) {
        (ValueType::LongList | ValueType::StringList | ValueType::Chain, Json::Object(o))
            if o.is_empty() =>
        {
            Json::Array(Vec::new())
        }
        (_, v) => v,
    };
    if ty.accepts(&v) {
        Ok(v)
    } else {
        Err(format!("expected {}, got {}", ty.name(), chain::kind_name(&v)))
    }
}

/// A call's content, and its files for an upload.
struct Built {
    content: Map<String, Json>,
    files: Vec<FilePart>,
}

/// The content of a call from its Lua arguments.
fn build(lua: &Lua, cmd: &Command, call: &LuaCall, args: &MultiValue) -> mlua::Result<Built> {
    let func = call.name;
    if args.len() > call.args.len() {
        let names: Vec<_> = call.args.iter().map(|a| a.name).collect();
        return Err(mlua::Error::runtime(format!(
            "mirai.{func} takes at most {} arguments ({}), got {}",
            call.args.len(),
            names.join(", "),
            args.len()
        )));
    }
    let mut content = Map::new();
    let mut files = Vec::new();
    for (i, arg) in call.args.iter().enumerate() {
        let pos = i + 1;
        let v = args.get(i).cloned().unwrap_or(Value::Nil);
        if v.is_nil() || v.is_null() {
            if let Some(d) = arg.default {
                content.insert(arg.key.to_owned(), default_json(d));
            } else if !arg.optional {
                return Err(bad_arg(func, pos, arg.name, "missing".into()));
            }
            continue;
        }
        if arg.fill == Fill::File {
            match file_arg(lua, &v).map_err(|why| bad_arg(func, pos, arg.name, why))? {
                FileArg::Part(name, bytes) => {
                    files.push(FilePart { field: arg.key.to_owned(), name, bytes })
                }
                FileArg::Url(url) if cmd.param("url").is_some() => {
                    content.insert("url".to_owned(), Json::String(url));
                }
                FileArg::Url(_) => {
                    return Err(bad_arg(
                        func,
                        pos,
                        arg.name,
                        "the server cannot fetch this one from a url".into(),
                    ))
                }
            }
            continue;
        }
        let json =
            convert::to_json(lua, &v).map_err(|e| bad_arg(func, pos, arg.name, e.to_string()))?;
        fill(cmd, func, pos, arg, json, &mut content)?;
    }
    resolve_target(lua, cmd, call, &mut content)?;
    for p in cmd.params {
        if p.need == Need::Nullable && !content.contains_key(p.key) {
            content.insert(p.key.to_owned(), Json::Null);
        }
    }
    Ok(Built { content, files })
}

/// What a file argument names.
enum FileArg {
    /// Content with a file name.
    Part(String, Vec<u8>),
    /// A URL the server fetches itself.
    Url(String),
}

/// Read a file argument: a name in the data folder, `{path}`, `{bytes, name}` or `{url}`.
fn file_arg(lua: &Lua, v: &Value) -> Result<FileArg, String> {
    let path = match v {
        Value::String(s) => s.to_string_lossy(),
        Value::Table(t) => {
            let field = |k: &str| t.get::<Option<mlua::LuaString>>(k).map_err(|e| e.to_string());
            if let Some(bytes) = field("bytes")? {
                let name =
                    field("name")?.map_or_else(|| "file".to_owned(), |n| n.to_string_lossy());
                return Ok(FileArg::Part(name, bytes.as_bytes().to_vec()));
            }
            if let Some(url) = field("url")? {
                return Ok(FileArg::Url(url.to_string_lossy()));
            }
            field("path")?
                .ok_or("expected a file name, {path = …}, {bytes = …, name = …} or {url = …}")?
                .to_string_lossy()
        }
        other => return Err(format!("expected a file name or a table, got {}", other.type_name())),
    };
    let ctx = context(lua).map_err(|e| e.to_string())?;
    let rel = Path::new(&path);
    let (full, file) = if ctx.trusted {
        (PathBuf::from(&path), std::fs::File::open(&path))
    } else {
        let full = ctx.data_dir.join(rel);
        match paths::open_beneath(&ctx.data_dir, rel, paths::Mode::Read) {
            Ok(file) => (full, Ok(file)),
            Err(e) if e.open_error().is_some() => return Err(format!("cannot read {e}")),
            Err(e) => return Err(e.to_string()),
        }
    };
    let mut bytes = Vec::new();
    file.and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {}: {e}", full.display()))?;
    let name =
        full.file_name().map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned());
    Ok(FileArg::Part(name, bytes))
}

/// Put one argument into the content.
fn fill(
    cmd: &Command,
    func: &str,
    pos: usize,
    arg: &LuaArg,
    json: Json,
    content: &mut Map<String, Json>,
) -> mlua::Result<()> {
    let bad = |why: String| bad_arg(func, pos, arg.name, why);
    match arg.fill {
        Fill::Value | Fill::CacheTarget | Fill::File => {
            let ty = cmd.param(arg.key).map_or(ValueType::Object, |p| p.ty);
            content.insert(arg.key.to_owned(), typed(ty, json).map_err(bad)?);
        }
        Fill::Chain => {
            content.insert(
                arg.key.to_owned(),
                chain::normalize(json).map_err(|e| bad(e.to_string()))?,
            );
        }
        Fill::Merge => {
            let Json::Object(options) = json else {
                return Err(bad(format!(
                    "expected a table of options, got {}",
                    chain::kind_name(&json)
                )));
            };
            for (key, v) in options {
                let Some(p) = cmd.param(&key).filter(|p| !content.contains_key(p.key)) else {
                    let known: Vec<_> = cmd
                        .params
                        .iter()
                        .map(|p| p.key)
                        .filter(|k| !content.contains_key(*k))
                        .collect();
                    return Err(bad(format!(
                        "unknown option `{key}` (known: {})",
                        known.join(", ")
                    )));
                };
                let v = typed(p.ty, v).map_err(|why| bad(format!("option `{key}`: {why}")))?;
                content.insert(key, v);
            }
        }
    }
    Ok(())
}

/// Fill a left-out conversation from the message-id cache.
fn resolve_target(
    lua: &Lua,
    cmd: &Command,
    call: &LuaCall,
    content: &mut Map<String, Json>,
) -> mlua::Result<()> {
    let Some((pos, arg)) = call.args.iter().enumerate().find(|(_, a)| a.fill == Fill::CacheTarget)
    else {
        return Ok(());
    };
    if content.contains_key(arg.key) {
        return Ok(());
    }
    let id = content.get("messageId").and_then(Json::as_i64).unwrap_or_default();
    let target = context(lua)?.targets.lock().ok().and_then(|t| t.get(id));
    match target {
        Some(t) => {
            content.insert(arg.key.to_owned(), Json::from(t));
            Ok(())
        }
        None => Err(bad_arg(
            cmd.lua.map_or(cmd.name, |l| l.name),
            pos + 1,
            arg.name,
            format!("message {id} was not seen recently, so its conversation is unknown; pass the friend or group id"),
        )),
    }
}

/// The conversation a send went to: `target`, else `qq`, else `group`.
fn send_conversation(content: &Map<String, Json>) -> Option<i64> {
    ["target", "qq", "group"].iter().find_map(|k| content.get(*k).and_then(Json::as_i64))
}

/// `file:line` of the innermost script code on the stack: the line that made the call.
fn caller_place(lua: &Lua) -> Option<String> {
    (1..16).find_map(|level| {
        lua.inspect_stack(level, |d| {
            let src = d.source();
            let file = src.source.filter(|s| s.starts_with('@'))?;
            let line = d.current_line()?;
            Some(format!("{}:{line}", &file[1..]))
        })
        .flatten()
    })
}

/// An error table with `command`, `code`, `msg` and `where`.
fn error_table(
    lua: &Lua,
    command: &str,
    code: Option<i64>,
    msg: &str,
    place: Option<String>,
) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("command", command)?;
    t.set("code", code)?;
    t.set("msg", msg)?;
    t.set("where", place)?;
    Ok(t)
}

/// `tostring` of an error table: "sendGroupMessage: code 10, no permission".
fn error_text(t: &Table) -> mlua::Result<String> {
    let command: String = t.get::<Option<String>>("command")?.unwrap_or_default();
    let msg: String = t.get::<Option<String>>("msg")?.unwrap_or_default();
    Ok(match t.get::<Option<i64>>("code")? {
        Some(code) => {
            let status = StatusCode::from_code(code);
            if msg.is_empty() || msg == status.server_msg() {
                format!("{command}: {status}")
            } else {
                format!("{command}: {status}: {msg}")
            }
        }
        None => format!("{command}: {msg}"),
    })
}

/// A call or an upload, ready for the adapter.
pub(super) enum Request {
    /// A mirai-api-http command.
    Call(Call),
    /// A multipart upload.
    Upload(Upload),
    /// An action of the connector's own protocol (`onebot.call`).
    Direct(Call),
}

/// Perform a request and give Lua `(true, result)` or `(false, error table)`.
pub(super) async fn perform(
    lua: Lua,
    request: Request,
    reply: Option<Reply>,
    label: String,
    slot: usize,
) -> mlua::Result<(bool, Value)> {
    let (adapter, origin) = {
        let ctx = context(&lua)?;
        ctx.metrics.api_call(slot);
        (ctx.adapter.clone(), ctx.origin.clone())
    };
    let (conversation, sent) = match request {
        Request::Call(mut call) => {
            call.origin = Some(origin);
            (call.content.as_object().and_then(send_conversation), adapter.call(call))
        }
        Request::Upload(upload) => (None, adapter.upload(upload)),
        Request::Direct(mut call) => {
            call.origin = Some(origin);
            (None, adapter.direct(call))
        }
    };
    let outcome = match sent.await {
        Ok(body) => frame::outcome(reply, body),
        Err(e) => return failed(&lua, &label, None, &e.reason()),
    };
    match outcome {
        Ok(v) => {
            if let (Some(id), Some(conv)) =
                (v.as_i64().filter(|_| reply == Some(Reply::MessageId)), conversation)
            {
                if let Ok(mut t) = context(&lua)?.targets.lock() {
                    t.record(id, conv);
                }
            }
            Ok((true, convert::to_lua(&lua, &v)?))
        }
        Err(Failure { code, msg }) => failed(&lua, &label, Some(code), &msg),
    }
}

/// The error table of a failed call. Its `where` is looked up only now, as few calls fail:
/// the calling coroutine is still suspended at the line that made the call.
fn failed(lua: &Lua, label: &str, code: Option<i64>, msg: &str) -> mlua::Result<(bool, Value)> {
    let place = caller_place(lua);
    Ok((false, Value::Table(error_table(lua, label, code, msg, place)?)))
}

/// Content as multipart form fields: strings as they are, other scalars as text.
fn form_fields(content: Map<String, Json>) -> Vec<(String, String)> {
    content
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Json::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

/// The raw function behind `mirai.<name>`.
fn command_function(
    lua: &Lua,
    cmd: &'static Command,
    call: &'static LuaCall,
) -> mlua::Result<Function> {
    let slot = metrics::command_slot(Some(cmd));
    lua.create_async_function(move |lua, args: MultiValue| {
        let built = build(&lua, cmd, call, &args);
        async move {
            let Built { content, files } = built?;
            let request = if cmd.encoding == Encoding::Multipart {
                Request::Upload(Upload {
                    command: cmd.name.to_owned(),
                    fields: form_fields(content),
                    files,
                })
            } else {
                Request::Call(Call::new(cmd.name, cmd.sub, Json::Object(content)))
            };
            perform(lua, request, Some(cmd.reply), call.name.to_owned(), slot).await
        }
    })
}

/// The raw function behind `mirai.call(command, content [, subCommand])`.
fn generic_function(lua: &Lua) -> mlua::Result<Function> {
    lua.create_async_function(
        |lua, (command, content, sub): (String, Option<Value>, Option<String>)| {
            let built = (|| {
                let content = match content {
                    None => Json::Object(Map::new()),
                    Some(v) => convert::to_json(&lua, &v)
                        .map_err(|e| bad_arg("call", 2, "content", e.to_string()))?,
                };
                let Json::Object(mut content) = content else {
                    return Err(bad_arg("call", 2, "content", "expected a table".into()));
                };
                if let Some(c) = content.remove("messageChain") {
                    let c = chain::normalize(c)
                        .map_err(|e| bad_arg("call", 2, "content", format!("messageChain: {e}")))?;
                    content.insert("messageChain".into(), c);
                }
                Ok(content)
            })();
            async move {
                let content = built?;
                let found = commands::find(&command, sub.as_deref());
                let (reply, slot) = (found.map(|c| c.reply), metrics::command_slot(found));
                let label = command.clone();
                let call = Call::new(command, sub.as_deref(), Json::Object(content));
                perform(lua, Request::Call(call), reply, label, slot).await
            }
        },
    )
}

/// What it takes to make a `mirai.<name>` function.
struct Maker {
    /// Turns a raw `(ok, value)` function into one that raises its error table.
    wrap: Function,
    /// The error tables' metatable (`tostring` gives "mute: code 10, no permission").
    errors: Table,
}

impl Maker {
    /// The function `mirai.<name>`, or `None` if there is no such command.
    fn make(&self, lua: &Lua, name: &str) -> mlua::Result<Option<Function>> {
        let raw = if name == "call" {
            generic_function(lua)?
        } else {
            let Some(cmd) = commands::by_lua_name(name) else { return Ok(None) };
            let Some(call) = cmd.lua.as_ref() else { return Ok(None) };
            command_function(lua, cmd, call)?
        };
        self.wrap.call::<Function>((raw, &self.errors)).map(Some)
    }
}

/// The error tables' metatable and the wrapper that raises them, for another module's functions.
pub(super) fn raising(lua: &Lua, raw: Function) -> mlua::Result<Function> {
    let errors = lua.create_table()?;
    errors.set("__tostring", lua.create_function(|_, t: Table| error_text(&t))?)?;
    let wrap: Function = lua.load(WRAP).set_name("=mirai").eval()?;
    wrap.call::<Function>((raw, errors))
}

/// Build the `mirai` table from the command table.
///
/// Each function is made the first time a script touches it: a script uses a handful of the
/// sixty, and making them all cost more than the rest of loading a script. `pairs(mirai)`
/// still lists every one.
pub fn register(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    let errors = lua.create_table()?;
    errors.set("__tostring", lua.create_function(|_, t: Table| error_text(&t))?)?;
    let wrap: Function = lua.load(WRAP).set_name("=mirai").eval()?;
    let maker = std::rc::Rc::new(Maker { wrap, errors });
    let meta = lua.create_table()?;
    let make = maker.clone();
    meta.set(
        "__index",
        lua.create_function(move |lua, (t, key): (Table, Value)| {
            let Value::String(name) = key else { return Ok(Value::Nil) };
            match make.make(lua, &name.to_str()?)? {
                Some(f) => {
                    t.raw_set(name, &f)?;
                    Ok(Value::Function(f))
                }
                None => Ok(Value::Nil),
            }
        })?,
    )?;
    let next: Function = lua.globals().get("next")?;
    meta.set(
        "__pairs",
        lua.create_function(move |lua, t: Table| {
            let names = commands::COMMANDS.iter().filter_map(|c| c.lua.as_ref().map(|l| l.name));
            for name in names.chain(["call"]) {
                if t.raw_get::<Value>(name)?.is_nil() {
                    if let Some(f) = maker.make(lua, name)? {
                        t.raw_set(name, f)?;
                    }
                }
            }
            Ok((next.clone(), t, Value::Nil))
        })?,
    )?;
    m.set_metatable(Some(meta))?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_are_made_on_first_use_and_pairs_lists_them_all() {
        let lua = Lua::new();
        lua.globals().set("mirai", register(&lua).unwrap()).unwrap();
        let made: bool = lua.load("return rawget(mirai, 'about') ~= nil").eval().unwrap();
        assert!(!made, "nothing is made before it is used");
        let kind: String = lua.load("return type(mirai.about)").eval().unwrap();
        assert_eq!(kind, "function");
        let same: bool = lua.load("return mirai.about == mirai.about").eval().unwrap();
        assert!(same, "a function is made once");
        let missing: bool = lua.load("return mirai.no_such_call == nil").eval().unwrap();
        assert!(missing);
        let listed: usize = lua
            .load("local n = 0; for _ in pairs(mirai) do n = n + 1 end; return n")
            .eval()
            .unwrap();
        let want = commands::COMMANDS.iter().filter(|c| c.lua.is_some()).count() + 1;
        assert_eq!(listed, want);
    }
}
