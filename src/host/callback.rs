//! Running script functions as coroutines, and reporting what they raise.

use std::future::Future;
use std::rc::Rc;
use std::task::Poll;

use mlua::{Function, IntoLuaMulti, Lua, MultiValue};

use super::limits::Watchdog;
use super::tasks::Tasks;
use crate::metrics::ScriptMetrics;
use std::time::Instant;

/// The state's watchdog, if it has one.
fn watchdog(lua: &Lua) -> Option<Watchdog> {
    lua.app_data_ref::<Watchdog>().map(|d| d.clone())
}

/// A readable account of a Lua error: message first, then the traceback.
#[must_use]
pub fn describe(err: &mlua::Error) -> String {
    match err {
        mlua::Error::CallbackError { traceback, cause } => {
            let inner = describe(cause);
            if inner.contains("stack traceback:") {
                inner
            } else {
                format!("{inner}\n{traceback}")
            }
        }
        mlua::Error::RuntimeError(s) => s.clone(),
        mlua::Error::WithContext { context, cause } => format!("{context}: {}", describe(cause)),
        other => other.to_string(),
    }
}

/// Log a failed callback with the script's name.
pub fn report(script: &str, what: &str, result: mlua::Result<MultiValue>) {
    if let Err(e) = result {
        tracing::error!(target: "script", script, "{what} failed: {}", describe(&e));
    }
}

/// Count a finished callback, then log its error if it raised one.
fn finish(
    metrics: Option<&ScriptMetrics>,
    started: Instant,
    script: &str,
    what: &str,
    result: mlua::Result<MultiValue>,
) {
    if let Some(m) = metrics {
        m.callback_done(started, result.as_ref().err());
    }
    report(script, what, result);
}

/// Start `func(args)` as a coroutine of `script`: it runs now until it first
/// waits, so callbacks start in the order their events came, then goes on as
/// one of the script's tasks.
pub async fn start(
    lua: &Lua,
    tasks: &Tasks,
    script: Rc<str>,
    what: Rc<str>,
    func: Function,
    args: impl IntoLuaMulti,
) {
    let fut = lua.create_thread(func).and_then(|thread| thread.into_async::<MultiValue>(args));
    let mut fut = match (fut, watchdog(lua)) {
        (Ok(f), Some(dog)) => Box::pin(dog.watch(f)),
        (Ok(f), None) => Box::pin(Watchdog::unwatched().watch(f)),
        (Err(e), _) => return report(&script, &what, Err(e)),
    };
    let (metrics, started) =
        (crate::lua::context(lua).ok().map(|c| c.metrics.clone()), Instant::now());
    let first = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
    match first {
        Poll::Ready(result) => finish(metrics.as_deref(), started, &script, &what, result),
        Poll::Pending => {
            tasks.spawn(async move {
                finish(metrics.as_deref(), started, &script, &what, fut.await);
            });
        }
    }
}

/// Run `func(args)` as a coroutine to the end and return its result.
pub async fn run(lua: &Lua, func: Function, args: impl IntoLuaMulti) -> mlua::Result<MultiValue> {
    let fut = lua.create_thread(func)?.into_async::<MultiValue>(args)?;
    match watchdog(lua) {
        Some(dog) => dog.watch(fut).await,
        None => fut.await,
    }
}

/// Call `func(args)` synchronously, timed by the watchdog.
pub fn call_now<R: mlua::FromLuaMulti>(
    lua: &Lua,
    func: &Function,
    args: impl IntoLuaMulti,
) -> mlua::Result<R> {
    let _slice = watchdog(lua).map(|d| d.slice());
    func.call(args)
}
