//! The `onebot` module, present when the connector is OneBot: `onebot.call(action, params)`
//! reaches any action of the server as it is, for each implementation's extensions.

use mlua::{Lua, Table, Value};
use serde_json::{Map, Value as Json};

use super::convert;
use super::mirai::{perform, raising, Request};
use crate::adapter::Call;
use crate::metrics;
use crate::protocol::commands::Reply;

/// Build the `onebot` table.
pub fn register(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    let raw = lua.create_async_function(|lua, (action, params): (String, Option<Value>)| {
        let params = match params {
            None | Some(Value::Nil) => Ok(Json::Object(Map::new())),
            Some(v @ Value::Table(_)) => convert::to_json(&lua, &v).map_err(|e| {
                mlua::Error::runtime(format!("bad argument #2 to 'onebot.call' (params): {e}"))
            }),
            Some(other) => Err(mlua::Error::runtime(format!(
                "bad argument #2 to 'onebot.call' (params): expected a table, got {}",
                other.type_name()
            ))),
        };
        async move {
            let params = params?;
            if action.trim().is_empty() {
                return Err(mlua::Error::runtime(
                    "bad argument #1 to 'onebot.call' (action): the action's name is empty",
                ));
            }
            let call = Call::new(action.clone(), None, params);
            let slot = metrics::command_slot(None);
            perform(lua, Request::Direct(call), Some(Reply::Data), action, slot).await
        }
    })?;
    m.set("call", raising(lua, raw)?)?;
    Ok(m)
}
