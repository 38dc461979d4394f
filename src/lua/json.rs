//! The `json` module: `json.encode`, `json.decode`, `json.null`, `json.array`.

use mlua::{Lua, Table, Value};

use super::convert;

/// Build the `json` table.
pub fn register(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "encode",
        lua.create_function(|lua, v: Value| {
            let json = convert::to_json(lua, &v)
                .map_err(|e| mlua::Error::runtime(format!("json.encode: {e}")))?;
            Ok(json.to_string())
        })?,
    )?;
    m.set(
        "decode",
        lua.create_function(|lua, s: mlua::LuaString| {
            let json: serde_json::Value = serde_json::from_slice(&s.as_bytes())
                .map_err(|e| mlua::Error::runtime(format!("json.decode: {e}")))?;
            convert::to_lua(lua, &json)
        })?,
    )?;
    m.set("null", Value::NULL)?;
    m.set("array", lua.create_function(|lua, ()| convert::empty_array(lua))?)?;
    Ok(m)
}
