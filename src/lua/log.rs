//! The `log` module: `log.debug/info/warn/error(...)`, tagged with the script's name.

use mlua::{Lua, MultiValue, Table};

use super::context;

/// Join arguments the way `print` does.
fn line(args: MultiValue) -> mlua::Result<String> {
    let mut out = String::new();
    for (i, v) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&v.to_string()?);
    }
    Ok(out)
}

/// Build the `log` table.
pub fn register(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    macro_rules! level {
        ($name:literal, $mac:ident) => {
            m.set(
                $name,
                lua.create_function(|lua, args: MultiValue| {
                    let text = line(args)?;
                    let ctx = context(lua)?;
                    tracing::$mac!(target: "script", script = &*ctx.name, "{text}");
                    Ok(())
                })?,
            )?;
        };
    }
    level!("debug", debug);
    level!("info", info);
    level!("warn", warn);
    level!("error", error);
    Ok(m)
}
