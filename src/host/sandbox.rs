//! What a script may touch: the standard library trimmed to what cannot harm the bot,
//! files only in its own data folder, `require` only from `scripts/lib/` and the stdlib.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use mlua::chunk::ChunkMode;
use mlua::state::{GcGenParams, GcMode};
use mlua::{Function, IntoLuaMulti, Lua, LuaOptions, MultiValue, StdLib, Table, Value};

use super::paths::{self, Mode};
use crate::lua::stdlib;

/// The module files a script has loaded through `require`.
pub type Deps = Arc<Mutex<BTreeSet<PathBuf>>>;

/// Where a script's `require` and files lead.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// `scripts/lib/`: the only place `require` reads.
    pub lib_dir: PathBuf,
    /// The script's own data folder: the only place its files may be.
    pub data_dir: PathBuf,
    /// A trusted script keeps the whole standard library.
    pub trusted: bool,
    /// The wall clock `os.time` and `os.date` read, when not the system's.
    pub clock: Option<crate::host::clock::VirtualClock>,
}

/// The `collectgarbage` options a sandboxed script may use.
const GC_ALLOWED: &[&str] = &["collect", "count", "step", "isrunning"];

/// `load` that accepts text chunks only.
const TEXT_ONLY_LOAD: &str = r##"
local load, select = ...
return function(chunk, name, mode, ...)
  if select("#", ...) > 0 then return load(chunk, name, "t", ...) end
  return load(chunk, name, "t")
end
"##;

impl Sandbox {
    /// A fresh state with the libraries this script may have.
    pub fn new_state(&self) -> mlua::Result<Lua> {
        let lua = if self.trusted {
            // SAFETY: the configuration grants this script the debug library on purpose.
            unsafe { Lua::unsafe_new_with(StdLib::ALL_SAFE | StdLib::DEBUG, LuaOptions::default()) }
        } else {
            Lua::new_with(StdLib::ALL_SAFE, LuaOptions::default())?
        };
        // Every event becomes a few tables that die when its callback ends: a generational
        // collector frees them young, for less work and less memory than a full sweep.
        lua.gc_set_mode(GcMode::Generational(GcGenParams::default().minor_multiplier(100)));
        Ok(lua)
    }

    /// Trim the globals and point `require` at `scripts/lib/`; modules it loads are added to `deps`.
    pub fn apply(&self, lua: &Lua, script: &str, deps: &Deps) -> mlua::Result<()> {
        let g = lua.globals();
        let package: Table = g.get("package")?;
        package.set("path", format!("{0}/?.lua;{0}/?/init.lua", self.lib_dir.display()))?;
        package.set("cpath", "")?;
        let searchers: Table = package.get("searchers")?;
        let preload: Function = searchers.get(1)?;
        let list = lua.create_sequence_from([preload, self.searcher(lua, deps.clone())?])?;
        package.set("searchers", list)?;
        if let Some(clock) = self.clock {
            clock.install(lua)?;
        }
        if self.trusted {
            return Ok(());
        }
        package.set("loadlib", Value::Nil)?;
        for name in ["dofile", "loadfile"] {
            g.set(name, Value::Nil)?;
        }
        let load: Function = g.get("load")?;
        let wrap: Function = lua.load(TEXT_ONLY_LOAD).set_name("=sandbox").into_function()?;
        g.set("load", wrap.call::<Function>((load, g.get::<Function>("select")?))?)?;
        self.restrict_os(lua)?;
        self.restrict_io(lua)?;
        restrict_gc(lua)?;
        let debug = lua.create_table()?;
        debug.set(
            "traceback",
            lua.create_function(|lua, (msg, level): (Option<String>, Option<usize>)| {
                lua.traceback(msg.as_deref(), level.unwrap_or(1))
            })?,
        )?;
        g.set("debug", debug)?;
        let name = script.to_owned();
        g.set(
            "print",
            lua.create_function(move |_, args: MultiValue| {
                let text: Vec<String> =
                    args.iter().map(|v| v.to_string().unwrap_or_default()).collect();
                tracing::info!(target: "script", script = &*name, "{}", text.join("\t"));
                Ok(())
            })?,
        )?;
        Ok(())
    }

    /// The `require` searcher: `scripts/lib/` first, so a script's own module of the same
    /// name wins over an embedded one (`stdlib/msg.lua`, …), which comes next.
    fn searcher(&self, lua: &Lua, deps: Deps) -> mlua::Result<Function> {
        let lib = self.lib_dir.clone();
        lua.create_function(move |lua, name: String| {
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                && !name.split('.').any(str::is_empty);
            if !valid {
                return Ok((
                    Value::String(lua.create_string(format!("\n\tinvalid module name {name:?}"))?),
                    Value::Nil,
                ));
            }
            let rel = name.replace('.', "/");
            let candidates = [lib.join(format!("{rel}.lua")), lib.join(&rel).join("init.lua")];
            for path in &candidates {
                let Ok(source) = std::fs::read(path) else { continue };
                let chunk = lua
                    .load(source)
                    .set_name(format!("@{}", path.display()))
                    .set_mode(ChunkMode::Text)
                    .into_function()?;
                if let Ok(mut d) = deps.lock() {
                    d.insert(path.clone());
                }
                let origin = lua.create_string(path.display().to_string())?;
                return Ok((Value::Function(chunk), Value::String(origin)));
            }
            if let Some(loader) = stdlib::loader(lua, &name)? {
                let origin = lua.create_string(stdlib::origin(&name))?;
                return Ok((Value::Function(loader), Value::String(origin)));
            }
            let mut tried: Vec<String> =
                candidates.iter().map(|p| format!("\n\tno file '{}'", p.display())).collect();
            tried.push(format!("\n\tno module '{name}' in mahua's stdlib"));
            Ok((Value::String(lua.create_string(tried.concat())?), Value::Nil))
        })
    }

    fn restrict_os(&self, lua: &Lua) -> mlua::Result<()> {
        let os: Table = lua.globals().get("os")?;
        let safe = lua.create_table()?;
        for name in ["clock", "date", "difftime", "time"] {
            safe.set(name, os.get::<Value>(name)?)?;
        }
        lua.globals().set("os", safe)
    }

    /// `io` with `open`, `lines` and `type` only, the first two beneath the data folder.
    fn restrict_io(&self, lua: &Lua) -> mlua::Result<()> {
        let io: Table = lua.globals().get("io")?;
        let open: Function = io.get("open")?;
        let lines: Function = io.get("lines")?;
        let safe = lua.create_table()?;
        safe.set("type", io.get::<Value>("type")?)?;
        let data = self.data_dir.clone();
        safe.set(
            "open",
            lua.create_function(move |lua, (path, mode): (String, Option<String>)| {
                let how = lua_mode(mode.as_deref().unwrap_or("r"))?;
                match paths::open_for_reopen(&data, Path::new(&path), how) {
                    // Lua opens the checked file again by a path that cannot be redirected;
                    // `opened` holds it until then.
                    Ok(opened) => open.call::<MultiValue>((reopen_name(lua, &opened)?, mode)),
                    Err(e) => match e.open_error() {
                        // An ordinary failure answers `nil, message, errno`, as Lua's does.
                        Some(os) => (Value::Nil, e.to_string(), os.raw_os_error().unwrap_or(0))
                            .into_lua_multi(lua),
                        None => Err(mlua::Error::runtime(format!("io.open: {e}"))),
                    },
                }
            })?,
        )?;
        let data = self.data_dir.clone();
        safe.set(
            "lines",
            lua.create_function(move |lua, mut args: MultiValue| {
                let path = match args.pop_front() {
                    Some(Value::String(s)) => s.to_string_lossy(),
                    _ => return Err(mlua::Error::runtime("io.lines: expected a file name")),
                };
                let opened = paths::open_for_reopen(&data, Path::new(&path), Mode::Read)
                    .map_err(|e| mlua::Error::runtime(format!("io.lines: {e}")))?;
                args.push_front(Value::String(reopen_name(lua, &opened)?));
                lines.call::<MultiValue>(args)
            })?,
        )?;
        lua.globals().set("io", safe)
    }
}

/// The mode of an `io.open` call, checked as Lua checks it.
fn lua_mode(mode: &str) -> mlua::Result<Mode> {
    Mode::from_lua(mode).ok_or_else(|| {
        mlua::Error::runtime(format!(
            "io.open: invalid mode {mode:?}; use r, w, a, r+, w+ or a+, each with an optional b"
        ))
    })
}

/// The name Lua's own `io` functions open `opened` by.
fn reopen_name(lua: &Lua, opened: &paths::Opened) -> mlua::Result<mlua::LuaString> {
    lua.create_string(opened.reopen_path().as_os_str().as_encoded_bytes())
}

fn restrict_gc(lua: &Lua) -> mlua::Result<()> {
    let gc: Function = lua.globals().get("collectgarbage")?;
    lua.globals().set(
        "collectgarbage",
        lua.create_function(move |_, args: MultiValue| {
            let opt = match args.front() {
                None | Some(Value::Nil) => "collect".to_owned(),
                Some(v) => v.to_string()?,
            };
            if !GC_ALLOWED.contains(&opt.as_str()) {
                return Err(mlua::Error::runtime(format!(
                    "collectgarbage({opt:?}) is not allowed in a script (allowed: {})",
                    GC_ALLOWED.join(", ")
                )));
            }
            gc.call::<MultiValue>(args)
        })?,
    )
}
