//! Lua values to JSON and back, keeping integers integers and `nil` for JSON null.

use mlua::{ffi, Lua, LuaSerdeExt, Table, Value};
use serde_json::{Map, Number, Value as Json};

/// How deep a table may nest before conversion gives up (cycles end here too).
const MAX_DEPTH: usize = 64;

/// Why a Lua value has no JSON form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// A function, thread or userdata.
    #[error("a {0} cannot be sent as JSON")]
    Unsupported(&'static str),
    /// NaN or an infinity.
    #[error("the number {0} cannot be sent as JSON")]
    BadNumber(String),
    /// A table key that is neither a string nor an integer.
    #[error("table keys must be strings or integers, found a {0}")]
    BadKey(&'static str),
    /// Too deep, or a table that contains itself.
    #[error("tables nested deeper than {MAX_DEPTH} levels (or a table that contains itself)")]
    TooDeep,
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
    convert(v, &array_mt, 0)
}

fn convert(v: &Value, array_mt: &Table, depth: usize) -> Result<Json, ConvertError> {
    Ok(match v {
        Value::Nil => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => Json::from(*i),
        Value::Number(n) => float(*n)?,
        Value::String(s) => Json::String(s.to_string_lossy()),
        Value::Table(t) => table(t, array_mt, depth)?,
        Value::LightUserData(u) if u.0.is_null() => Json::Null,
        other => return Err(ConvertError::Unsupported(other.type_name())),
    })
}

/// An integral float becomes an integer, so `1e3` and `2^31` stay ids.
fn float(n: f64) -> Result<Json, ConvertError> {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        #[allow(clippy::cast_possible_truncation)]
        return Ok(Json::from(n as i64));
    }
    Number::from_f64(n).map(Json::Number).ok_or_else(|| ConvertError::BadNumber(n.to_string()))
}

fn table(t: &Table, array_mt: &Table, depth: usize) -> Result<Json, ConvertError> {
    if depth >= MAX_DEPTH {
        return Err(ConvertError::TooDeep);
    }
    let len = t.raw_len();
    let mut count = 0usize;
    let mut keys_ok = true;
    for pair in t.pairs::<Value, Value>() {
        let Ok((k, _)) = pair else {
            return Err(ConvertError::Unsupported("table"));
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
            let item: Value = t.raw_get(i).map_err(|_| ConvertError::Unsupported("table"))?;
            out.push(convert(&item, array_mt, depth + 1)?);
        }
        return Ok(Json::Array(out));
    }
    let mut out = Map::new();
    for pair in t.pairs::<Value, Value>() {
        let Ok((k, v)) = pair else {
            return Err(ConvertError::Unsupported("table"));
        };
        let key = match &k {
            Value::String(s) => s.to_string_lossy(),
            Value::Integer(i) => i.to_string(),
            other => return Err(ConvertError::BadKey(other.type_name())),
        };
        out.insert(key, convert(&v, array_mt, depth + 1)?);
    }
    Ok(Json::Object(out))
}

/// A Lua table that encodes as an empty JSON array.
pub fn empty_array(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set_metatable(Some(lua.array_metatable()))?;
    Ok(t)
}
