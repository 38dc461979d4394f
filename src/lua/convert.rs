//! Lua values to JSON and back, keeping integers integers and `nil` for JSON null.

use mlua::{ffi, Lua, LuaSerdeExt, Table, Value};
use serde_json::{Map, Number, Value as Json};

/// How deep a table may nest before conversion gives up (cycles end here too).
const MAX_DEPTH: usize = 64;

/// What in a Lua value has no JSON form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A function, thread or userdata.
    #[error("a {0} has no JSON form")]
    Unsupported(&'static str),
    /// NaN or an infinity.
    #[error("the number {0} has no JSON form")]
    BadNumber(String),
    /// A table key that is neither a string nor an integer.
    #[error("table keys must be strings or integers, found a {0}")]
    BadKey(&'static str),
    /// Too deep.
    #[error("tables nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// A table that contains itself.
    #[error("a table that contains itself")]
    Cycle,
}

/// Why a Lua value has no JSON form, and where inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    /// What was wrong.
    pub problem: Problem,
    /// Where, as a path from the top: `.name`, `[2]`; empty for the value itself.
    pub at: String,
}

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.at.is_empty() {
            write!(f, "{}", self.problem)
        } else {
            write!(f, "{} at {}", self.problem, self.at)
        }
    }
}

impl std::error::Error for ConvertError {}

impl From<Problem> for ConvertError {
    fn from(problem: Problem) -> Self {
        Self { problem, at: String::new() }
    }
}

impl ConvertError {
    /// The same error, one step further from the top.
    fn inside(mut self, step: &str) -> Self {
        self.at.insert_str(0, step);
        self
    }
}

/// The path step of a table key: `.name` for names, `[…]` for the rest.
fn step(key: &Value) -> String {
    match key {
        Value::String(s) => {
            let s = s.to_string_lossy();
            let name = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if name {
                format!(".{s}")
            } else {
                format!("[{s:?}]")
            }
        }
        Value::Integer(i) => format!("[{i}]"),
        other => format!("[{}]", other.type_name()),
    }
}

/// A JSON value as a Lua value: objects and arrays become tables (arrays carrying the
/// array metatable, so they encode back as arrays), and null becomes nil, so a missing
/// field reads as missing.
pub fn to_lua(lua: &Lua, v: &Json) -> mlua::Result<Value> {
    match v {
        Json::Null => Ok(Value::Nil),
        Json::Bool(b) => Ok(Value::Boolean(*b)),
        Json::Number(n) => Ok(number(n).map_or_else(Value::Number, Value::Integer)),
        Json::String(s) => lua.create_string(s).map(Value::String),
        Json::Array(_) | Json::Object(_) => {
            let array_mt = lua.array_metatable();
            // SAFETY: `push` only uses the stack slots it checks for, leaves exactly the new
            // table above the metatable argument, and owns nothing that a Lua error (a
            // longjmp out of the protected call) would leak.
            unsafe {
                lua.exec_raw(array_mt, |state| {
                    push(state, v);
                    ffi::lua_replace(state, 1);
                })
            }
        }
    }
}

/// A JSON number as a Lua integer where it is one, else as a float.
fn number(n: &Number) -> Result<i64, f64> {
    n.as_i64().ok_or_else(|| n.as_f64().unwrap_or(f64::NAN))
}

/// Push `v` onto the stack of `state`, whose slot 1 holds the array metatable.
///
/// One walk with the C API inside one protected call: converting through serde costs a
/// protected call per table field, and this runs once per event for every subscribed script.
unsafe fn push(state: *mut ffi::lua_State, v: &Json) {
    match v {
        Json::Null => ffi::lua_pushnil(state),
        Json::Bool(b) => ffi::lua_pushboolean(state, i32::from(*b)),
        Json::Number(n) => match number(n) {
            Ok(i) => ffi::lua_pushinteger(state, i),
            Err(f) => ffi::lua_pushnumber(state, f),
        },
        Json::String(s) => {
            ffi::lua_pushlstring(state, s.as_ptr().cast(), s.len());
        }
        Json::Array(items) => {
            ffi::luaL_checkstack(state, 3, std::ptr::null());
            ffi::lua_createtable(state, c_int(items.len()), 0);
            ffi::lua_pushvalue(state, 1);
            ffi::lua_setmetatable(state, -2);
            for (i, item) in (1..).zip(items) {
                if !item.is_null() {
                    push(state, item);
                    ffi::lua_rawseti(state, -2, i);
                }
            }
        }
        Json::Object(map) => {
            ffi::luaL_checkstack(state, 3, std::ptr::null());
            ffi::lua_createtable(state, 0, c_int(map.len()));
            for (k, item) in map {
                if !item.is_null() {
                    ffi::lua_pushlstring(state, k.as_ptr().cast(), k.len());
                    push(state, item);
                    ffi::lua_rawset(state, -3);
                }
            }
        }
    }
}

/// A size hint for `lua_createtable`.
fn c_int(n: usize) -> std::ffi::c_int {
    std::ffi::c_int::try_from(n).unwrap_or(std::ffi::c_int::MAX)
}

/// A Lua value as JSON: sequences become arrays, other tables objects; an empty
/// table is an object unless it carries the array metatable (`json.array()`).
pub fn to_json(lua: &Lua, v: &Value) -> Result<Json, ConvertError> {
    let array_mt = lua.array_metatable();
    convert(v, &array_mt, &mut Vec::new())
}

/// `v` as JSON; `open` holds the tables being converted above it, to find cycles.
fn convert(
    v: &Value,
    array_mt: &Table,
    open: &mut Vec<*const std::ffi::c_void>,
) -> Result<Json, ConvertError> {
    Ok(match v {
        Value::Nil => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => Json::from(*i),
        Value::Number(n) => float(*n)?,
        Value::String(s) => Json::String(s.to_string_lossy()),
        Value::Table(t) => {
            let id = t.to_pointer();
            if open.contains(&id) {
                return Err(Problem::Cycle.into());
            }
            if open.len() >= MAX_DEPTH {
                return Err(Problem::TooDeep.into());
            }
            open.push(id);
            let r = table(t, array_mt, open);
            open.pop();
            r?
        }
        Value::LightUserData(u) if u.0.is_null() => Json::Null,
        other => return Err(Problem::Unsupported(other.type_name()).into()),
    })
}

/// An integral float becomes an integer, so `1e3` and `2^31` stay ids.
fn float(n: f64) -> Result<Json, Problem> {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        #[allow(clippy::cast_possible_truncation)]
        return Ok(Json::from(n as i64));
    }
    Number::from_f64(n).map(Json::Number).ok_or_else(|| Problem::BadNumber(n.to_string()))
}

fn table(
    t: &Table,
    array_mt: &Table,
    open: &mut Vec<*const std::ffi::c_void>,
) -> Result<Json, ConvertError> {
    let len = t.raw_len();
    let mut count = 0usize;
    let mut keys_ok = true;
    for pair in t.pairs::<Value, Value>() {
        let Ok((k, _)) = pair else {
            return Err(Problem::Unsupported("table").into());
        };
        count += 1;
        if !matches!(k, Value::Integer(i) if i >= 1 && usize::try_from(i).is_ok_and(|i| i <= len)) {
            keys_ok = false;
        }
    }
    let is_array = if count == 0 {
        t.metatable().is_some_and(|m| &m == array_mt)
    } else {
        keys_ok && count == len
    };
    if is_array {
        let mut out = Vec::with_capacity(len);
        for i in 1..=len {
            let item: Value =
                t.raw_get(i).map_err(|_| ConvertError::from(Problem::Unsupported("table")))?;
            out.push(convert(&item, array_mt, open).map_err(|e| e.inside(&format!("[{i}]")))?);
        }
        return Ok(Json::Array(out));
    }
    let mut out = Map::new();
    for pair in t.pairs::<Value, Value>() {
        let Ok((k, v)) = pair else {
            return Err(Problem::Unsupported("table").into());
        };
        let key = match &k {
            Value::String(s) => s.to_string_lossy(),
            Value::Integer(i) => i.to_string(),
            other => return Err(Problem::BadKey(other.type_name()).into()),
        };
        out.insert(key, convert(&v, array_mt, open).map_err(|e| e.inside(&step(&k)))?);
    }
    Ok(Json::Object(out))
}

/// A Lua table that encodes as an empty JSON array.
pub fn empty_array(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set_metatable(Some(lua.array_metatable()))?;
    Ok(t)
}
