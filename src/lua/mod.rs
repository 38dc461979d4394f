//! The Rust side of the Lua modules every script gets: `bot`, `mirai`, `log`, `json`, and
//! the embedded Lua modules of `stdlib/` (`msg`, `cmd`).

pub mod bot;
pub mod convert;
pub mod http;
pub mod json;
pub mod log;
pub mod mirai;
pub mod onebot;
pub mod stdlib;
pub mod store;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use mlua::{Lua, Table};

use crate::adapter::Adapter;
use crate::host::subscriptions::Subscriptions;
use crate::host::targets::TargetCache;
use crate::host::tasks::Tasks;
use crate::metrics::ScriptMetrics;

/// What a script's Lua functions reach on the Rust side (the state's app data).
pub struct Context {
    /// The script's file name, for logs and errors.
    pub name: Rc<str>,
    /// The same name, for calls that leave the script's thread.
    pub origin: Arc<str>,
    /// The script's counters.
    pub metrics: Arc<ScriptMetrics>,
    /// The link to the server.
    pub adapter: Arc<dyn Adapter>,
    /// Conversations of recently seen message ids, shared by all scripts.
    pub targets: Arc<Mutex<TargetCache>>,
    /// The script's event handlers and waiters.
    pub subs: Rc<RefCell<Subscriptions>>,
    /// The script's running callbacks and timers.
    pub tasks: Rc<Tasks>,
    /// The script's own data folder.
    pub data_dir: std::path::PathBuf,
    /// Whether the script may read files anywhere.
    pub trusted: bool,
    /// The store behind `store`.
    pub store: Arc<crate::store::Store>,
    /// Responses `http` gives instead of the web's, in tests.
    pub http_canned: Option<http::CannedResponses>,
}

/// The context of the state running this function.
pub fn context(lua: &Lua) -> mlua::Result<mlua::AppDataRef<'_, Context>> {
    lua.app_data_ref::<Context>()
        .ok_or_else(|| mlua::Error::runtime("mahua: script context missing"))
}

/// Register one module: in `package.loaded` and, when `global`, as a global.
fn install(lua: &Lua, name: &str, module: Table, global: bool) -> mlua::Result<()> {
    let loaded: Table = lua.globals().get::<Table>("package")?.get("loaded")?;
    loaded.set(name, &module)?;
    if global {
        lua.globals().set(name, module)?;
    }
    Ok(())
}

/// Give a fresh state its context and every module.
pub fn register_all(lua: &Lua, ctx: Context) -> mlua::Result<()> {
    lua.set_app_data(ctx);
    install(lua, "json", json::register(lua)?, true)?;
    install(lua, "log", log::register(lua)?, true)?;
    install(lua, "bot", bot::register(lua)?, true)?;
    let dialect = lua.app_data_ref::<Context>().and_then(|c| c.adapter.dialect());
    install(lua, "mirai", mirai::register(lua)?, true)?;
    if dialect == Some("onebot") {
        install(lua, "onebot", onebot::register(lua)?, true)?;
    }
    install(lua, "store", store::register(lua)?, false)?;
    install(lua, "http", http::register(lua)?, false)?;
    Ok(())
}
