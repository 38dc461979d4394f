//! The Lua modules shipped inside mahua (`stdlib/*.lua`): found by `require`, loaded once per
//! state, and the hook that gives message events their methods (`ev:reply`, `ev:quote`).

use mlua::chunk::ChunkMode;
use mlua::{Function, Lua, Table, Value};

/// Every embedded module: its `require` name and its source.
const MODULES: &[(&str, &str)] =
    &[("msg", include_str!("../../stdlib/msg.lua")), ("cmd", include_str!("../../stdlib/cmd.lua"))];

/// The registry key under which a state keeps an embedded module once loaded.
fn registry_key(name: &str) -> String {
    format!("mahua.stdlib.{name}")
}

/// Whether `name` is an embedded module.
#[must_use]
pub fn has(name: &str) -> bool {
    MODULES.iter().any(|(n, _)| *n == name)
}

/// The file name an embedded module reports in errors, e.g. `stdlib/msg.lua`.
#[must_use]
pub fn origin(name: &str) -> String {
    format!("stdlib/{name}.lua")
}

/// The embedded module `name`, run once per state and cached; `None` if there is no such module.
pub fn module(lua: &Lua, name: &str) -> mlua::Result<Option<Value>> {
    let Some((_, source)) = MODULES.iter().find(|(n, _)| *n == name) else {
        return Ok(None);
    };
    let key = registry_key(name);
    let cached: Value = lua.named_registry_value(&key)?;
    if !cached.is_nil() {
        return Ok(Some(cached));
    }
    let origin = origin(name);
    let chunk = lua
        .load(*source)
        .set_name(format!("@{origin}"))
        .set_mode(ChunkMode::Text)
        .into_function()?;
    let value = match chunk.call::<Value>((name, origin))? {
        Value::Nil => Value::Boolean(true),
        v => v,
    };
    lua.set_named_registry_value(&key, &value)?;
    Ok(Some(value))
}

/// A `require` loader for the embedded module `name`: it hands out the state's one instance.
pub fn loader(lua: &Lua, name: &str) -> mlua::Result<Option<Function>> {
    if !has(name) {
        return Ok(None);
    }
    let owned = name.to_owned();
    lua.create_function(move |lua, _: mlua::MultiValue| {
        module(lua, &owned)?.ok_or_else(|| mlua::Error::runtime(format!("no module {owned}")))
    })
    .map(Some)
}

/// The `msg` module's metatables for events and chains, kept once looked up: every message
/// event a script receives needs them.
#[derive(Clone)]
struct EventMetatables {
    event: Table,
    chain: Table,
}

/// Give a message event its methods (`ev:reply`, `ev:quote`) and its chain `..`, with the
/// metatables of the embedded `msg` module. Set from here because a decoded JSON array
/// carries mlua's protected array metatable, which Lua code cannot replace.
pub fn decorate(lua: &Lua, ev: &Value) -> mlua::Result<()> {
    let Value::Table(ev) = ev else {
        return Ok(());
    };
    let mts = match lua.app_data_ref::<EventMetatables>() {
        Some(m) => m.clone(),
        None => {
            let Some(Value::Table(msg)) = module(lua, "msg")? else {
                return Err(mlua::Error::runtime("stdlib/msg.lua did not return a table"));
            };
            let mts = EventMetatables { event: msg.get("_Event")?, chain: msg.get("_Chain")? };
            lua.set_app_data(mts.clone());
            mts
        }
    };
    ev.set_metatable(Some(mts.event))?;
    if let Value::Table(chain) = ev.raw_get::<Value>("messageChain")? {
        // An empty chain keeps its array mark, so it still encodes as `[]`.
        if chain.raw_len() > 0 {
            chain.set_metatable(Some(mts.chain))?;
        }
    }
    Ok(())
}
