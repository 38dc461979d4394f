//! The `bot` module: `bot.on`, `bot.wait`, `bot.after`, `bot.every`, `bot.sleep`.

use std::rc::Rc;
use std::time::Duration;

use mlua::{Function, Lua, Table, UserData, UserDataMethods, Value};
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use super::context;
use crate::host::callback;
use crate::host::subscriptions::LIFECYCLE;
use crate::protocol::event::{EVENT_TYPES, MESSAGE_TYPES};

/// What `bot.on`, `bot.after` and `bot.every` return: something to cancel.
enum Handle {
    /// A handler, by id.
    Handler(u64),
    /// A timer task.
    Timer(AbortHandle),
}

impl UserData for Handle {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("cancel", |lua, this, ()| match this {
            Handle::Handler(id) => Ok(context(lua)?.subs.borrow_mut().cancel(*id)),
            Handle::Timer(h) => {
                let was_running = !h.is_finished();
                h.abort();
                Ok(was_running)
            }
        });
        methods.add_meta_method("__tostring", |_, this, ()| {
            Ok(match this {
                Handle::Handler(id) => format!("bot handler #{id}"),
                Handle::Timer(_) => "bot timer".to_owned(),
            })
        });
    }
}

/// Seconds as a duration, or an error naming the function.
fn seconds(func: &str, s: f64) -> mlua::Result<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| {
        mlua::Error::runtime(format!("{func}: seconds must be a number >= 0, got {s}"))
    })
}

/// Whether `name` is something `bot.on` can ever see.
fn known_name(name: &str) -> bool {
    name == "*"
        || name == "Message"
        || LIFECYCLE.contains(&name)
        || EVENT_TYPES.contains(&name)
        || MESSAGE_TYPES.contains(&name)
}

/// Start `func` after `delay`, then every `period` if there is one.
fn timer(
    lua: &Lua,
    what: &'static str,
    delay: Duration,
    period: Option<Duration>,
    func: Function,
) -> mlua::Result<Handle> {
    let ctx = context(lua)?;
    let (name, tasks) = (ctx.name.clone(), ctx.tasks.clone());
    let weak = lua.weak();
    let label: Rc<str> = Rc::from(what);
    let handle = ctx.tasks.spawn_timer(async move {
        tokio::time::sleep(delay).await;
        loop {
            let Some(lua) = weak.try_upgrade() else {
                return;
            };
            callback::start(&lua, &tasks, name.clone(), label.clone(), func.clone(), ()).await;
            drop(lua);
            match period {
                Some(p) => tokio::time::sleep(p).await,
                None => return,
            }
        }
    });
    Ok(Handle::Timer(handle))
}

/// Build the `bot` table.
pub fn register(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "on",
        lua.create_function(|lua, (name, func): (String, Function)| {
            let ctx = context(lua)?;
            if !known_name(&name) {
                tracing::warn!(target: "script", script = &*ctx.name,
                    "bot.on({name:?}): no such event in mirai-api-http 2.10; the handler runs only if the server sends it");
            }
            let id = ctx.subs.borrow_mut().on(name, func);
            Ok(Handle::Handler(id))
        })?,
    )?;
    m.set(
        "wait",
        lua.create_async_function(
            |lua, (name, filter, timeout): (String, Option<Function>, Option<f64>)| async move {
                let limit = timeout.map(|s| seconds("bot.wait", s)).transpose()?;
                let (tx, rx) = oneshot::channel();
                let id = context(&lua)?.subs.borrow_mut().wait(name, filter, tx);
                let got = match limit {
                    Some(limit) => tokio::time::timeout(limit, rx).await.ok().and_then(Result::ok),
                    None => rx.await.ok(),
                };
                if got.is_none() {
                    context(&lua)?.subs.borrow_mut().take_waiter(id);
                }
                Ok(got.unwrap_or(Value::Nil))
            },
        )?,
    )?;
    m.set(
        "after",
        lua.create_function(|lua, (s, func): (f64, Function)| {
            timer(lua, "bot.after callback", seconds("bot.after", s)?, None, func)
        })?,
    )?;
    m.set(
        "every",
        lua.create_function(|lua, (s, func): (f64, Function)| {
            let period = seconds("bot.every", s)?;
            if period.is_zero() {
                return Err(mlua::Error::runtime("bot.every: seconds must be more than 0"));
            }
            timer(lua, "bot.every callback", period, Some(period), func)
        })?,
    )?;
    m.set(
        "sleep",
        lua.create_async_function(|_, s: f64| async move {
            tokio::time::sleep(seconds("bot.sleep", s)?).await;
            Ok(())
        })?,
    )?;
    Ok(m)
}
