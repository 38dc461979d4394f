//! The `store` module: the script's own key-value namespace, and `store.shared`, one
//! namespace that every script reaches.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use mlua::{Function, Lua, MultiValue, Table, Value};

use super::{context, convert};
use crate::store::{Conn, Number, Store, StoreError, Ttl, SHARED, UPDATE_TRIES};

/// How many keys `scan` reads at a time.
const SCAN_PAGE: usize = 256;

/// The script's connection, made on its first store call.
struct Handle {
    store: Arc<Store>,
    conn: RefCell<Option<Box<dyn Conn>>>,
}

impl Handle {
    /// Run `f` on the connection; a failed database is opened afresh on the next call.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut slot = self.conn.borrow_mut();
        let conn = match &mut *slot {
            Some(c) => c,
            None => slot.insert(self.store.connect()?),
        };
        let r = f(conn.as_mut());
        if matches!(r, Err(StoreError::Sqlite { .. } | StoreError::Io { .. })) {
            *slot = None;
        }
        r
    }
}

/// One namespace as the functions see it.
#[derive(Clone)]
struct Space {
    handle: Rc<Handle>,
    ns: Rc<str>,
    /// `store` or `store.shared`, for errors.
    name: &'static str,
}

impl Space {
    fn err(&self, func: &str, e: impl std::fmt::Display) -> mlua::Error {
        mlua::Error::runtime(format!("{}.{func}: {e}", self.name))
    }

    fn get(&self, func: &str, key: &str) -> mlua::Result<Option<String>> {
        self.handle.with(|c| c.get(&self.ns, key)).map_err(|e| self.err(func, e))
    }

    /// JSON text as a Lua value.
    fn decode(&self, lua: &Lua, func: &str, key: &str, text: &str) -> mlua::Result<Value> {
        let json: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| self.err(func, format!("{key:?} holds a value that is not JSON: {e}")))?;
        convert::to_lua(lua, &json)
    }

    /// A Lua value as JSON text, with an error naming the key and the place inside it.
    fn encode(&self, lua: &Lua, func: &str, key: &str, v: &Value) -> mlua::Result<String> {
        let json = convert::to_json(lua, v)
            .map_err(|e| self.err(func, format!("cannot store {key:?}: {e}")))?;
        Ok(json.to_string())
    }

    /// The `ttl` of an options table.
    fn ttl(&self, func: &str, opts: Option<&Table>, default: Ttl) -> mlua::Result<Ttl> {
        let Some(secs) = opts.map(|t| t.get::<Option<f64>>("ttl")).transpose()?.flatten() else {
            return Ok(default);
        };
        match Duration::try_from_secs_f64(secs) {
            Ok(d) if !d.is_zero() => Ok(Ttl::For(d)),
            _ => Err(self.err(func, format!("ttl must be a number of seconds > 0, got {secs}"))),
        }
    }
}

/// A stored number as a Lua value.
fn number_value(n: Number) -> Value {
    match n {
        Number::Int(i) => Value::Integer(i),
        Number::Float(f) => Value::Number(f),
    }
}

/// `prefix` and `limit` from `keys([prefix] [, limit])`.
fn keys_args(space: &Space, args: &MultiValue) -> mlua::Result<(String, usize)> {
    let mut prefix = String::new();
    let mut limit = usize::MAX;
    let mut rest = args.iter();
    let mut next = rest.next();
    match next {
        Some(Value::String(s)) => {
            prefix = s.to_str()?.to_owned();
            next = rest.next();
        }
        Some(Value::Nil) => next = rest.next(),
        _ => {}
    }
    match next {
        None | Some(Value::Nil) => {}
        Some(Value::Integer(n)) if *n >= 0 => limit = usize::try_from(*n).unwrap_or(usize::MAX),
        Some(other) => {
            return Err(space.err(
                "keys",
                format!(
                    "takes ([prefix] [, limit]): a string and a count >= 0, got a {}",
                    other.type_name()
                ),
            ))
        }
    }
    Ok((prefix, limit))
}

/// The table of functions over one namespace.
fn functions(lua: &Lua, space: &Space) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    let s = space.clone();
    m.set(
        "get",
        lua.create_function(move |lua, (key, default): (String, Value)| {
            match s.get("get", &key)? {
                Some(text) => s.decode(lua, "get", &key, &text),
                None => Ok(default),
            }
        })?,
    )?;
    let s = space.clone();
    m.set(
        "set",
        lua.create_function(move |lua, (key, value, opts): (String, Value, Option<Table>)| {
            if value.is_nil() {
                return s
                    .handle
                    .with(|c| c.delete(&s.ns, &key))
                    .map(drop)
                    .map_err(|e| s.err("set", e));
            }
            let text = s.encode(lua, "set", &key, &value)?;
            let ttl = s.ttl("set", opts.as_ref(), Ttl::Forever)?;
            s.handle.with(|c| c.set(&s.ns, &key, &text, ttl)).map_err(|e| s.err("set", e))
        })?,
    )?;
    let s = space.clone();
    m.set(
        "delete",
        lua.create_function(move |_, key: String| {
            s.handle.with(|c| c.delete(&s.ns, &key)).map_err(|e| s.err("delete", e))
        })?,
    )?;
    let s = space.clone();
    m.set(
        "incr",
        lua.create_function(move |_, (key, by): (String, Option<Value>)| {
            let by = match by {
                None | Some(Value::Nil) => Number::Int(1),
                Some(Value::Integer(i)) => Number::Int(i),
                Some(Value::Number(f)) if f.is_finite() => Number::Float(f),
                Some(other) => {
                    return Err(
                        s.err("incr", format!("`by` must be a number, got {}", other.to_string()?))
                    )
                }
            };
            let n = s.handle.with(|c| c.incr(&s.ns, &key, by)).map_err(|e| s.err("incr", e))?;
            Ok(number_value(n))
        })?,
    )?;
    let s = space.clone();
    m.set(
        "update",
        lua.create_function(move |lua, (key, f, opts): (String, Function, Option<Table>)| {
            let ttl = s.ttl("update", opts.as_ref(), Ttl::Keep)?;
            for _ in 0..UPDATE_TRIES {
                let old_text = s.get("update", &key)?;
                let old = match &old_text {
                    Some(t) => s.decode(lua, "update", &key, t)?,
                    None => Value::Nil,
                };
                let new: Value = f.call(old)?;
                let new_text =
                    if new.is_nil() { None } else { Some(s.encode(lua, "update", &key, &new)?) };
                let done = s
                    .handle
                    .with(|c| c.swap(&s.ns, &key, old_text.as_deref(), new_text.as_deref(), ttl))
                    .map_err(|e| s.err("update", e))?;
                if done {
                    return Ok(new);
                }
            }
            Err(s.err("update", StoreError::Contended { key }))
        })?,
    )?;
    let s = space.clone();
    m.set(
        "keys",
        lua.create_function(move |lua, args: MultiValue| {
            let (prefix, limit) = keys_args(&s, &args)?;
            let keys = s
                .handle
                .with(|c| c.range(&s.ns, &prefix, None, limit, false))
                .map_err(|e| s.err("keys", e))?;
            lua.create_sequence_from(keys.into_iter().map(|(k, _)| k))
        })?,
    )?;
    let s = space.clone();
    m.set(
        "scan",
        lua.create_function(move |lua, prefix: Option<String>| {
            let s = s.clone();
            let prefix = prefix.unwrap_or_default();
            let mut page: VecDeque<(String, Option<String>)> = VecDeque::new();
            let mut after: Option<String> = None;
            let mut done = false;
            lua.create_function_mut(move |lua, ()| {
                if page.is_empty() && !done {
                    let got = s
                        .handle
                        .with(|c| c.range(&s.ns, &prefix, after.as_deref(), SCAN_PAGE, true))
                        .map_err(|e| s.err("scan", e))?;
                    done = got.len() < SCAN_PAGE;
                    after = got.last().map(|(k, _)| k.clone());
                    page.extend(got);
                }
                let Some((key, text)) = page.pop_front() else {
                    return Ok((Value::Nil, Value::Nil));
                };
                let value = s.decode(lua, "scan", &key, text.as_deref().unwrap_or("null"))?;
                Ok((Value::String(lua.create_string(&key)?), value))
            })
        })?,
    )?;
    Ok(m)
}

/// Build the `store` table, with `store.shared`.
pub fn register(lua: &Lua) -> mlua::Result<Table> {
    let ctx = context(lua)?;
    let handle = Rc::new(Handle { store: ctx.store.clone(), conn: RefCell::new(None) });
    let ns: Rc<str> = Rc::from(ctx.name.strip_suffix(".lua").unwrap_or(&ctx.name));
    drop(ctx);
    let own = Space { handle: handle.clone(), ns, name: "store" };
    let shared = Space { handle, ns: Rc::from(SHARED), name: "store.shared" };
    let m = functions(lua, &own)?;
    m.set("shared", functions(lua, &shared)?)?;
    Ok(m)
}
