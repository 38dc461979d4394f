//! Per-script limits: memory, and how long Lua may run without yielding.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use mlua::debug::Debug;
use mlua::{HookTriggers, Lua, VmState};

/// How often (in Lua instructions) the watchdog looks at the clock.
const CHECK_EVERY: u32 = 4096;

/// The limits one script runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most memory the script's state may hold, in bytes.
    pub memory: usize,
    /// Longest a callback (or the script's top level) may run without yielding.
    pub run_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { memory: 64 << 20, run_time: Duration::from_secs(1) }
    }
}

/// The watchdog's clock, shared with the hook.
struct Clock {
    deadline: Cell<Option<Instant>>,
    limit: Duration,
    /// Set once the deadline passed in the current slice: every instruction then raises,
    /// so `pcall` cannot swallow the stop.
    tripped: Cell<bool>,
}

/// Stops Lua code that runs past its deadline; one per state.
#[derive(Clone)]
pub struct Watchdog {
    clock: Rc<Clock>,
}

/// Clears the deadline it set when dropped.
pub struct Slice {
    dog: Option<Watchdog>,
}

impl Drop for Slice {
    fn drop(&mut self) {
        if let Some(dog) = self.dog.take() {
            dog.clock.deadline.set(None);
            dog.clock.tripped.set(false);
        }
    }
}

/// The hook: raise once the slice's deadline has passed.
fn check(clock: &Rc<Clock>, lua: &Lua, debug: &Debug) -> mlua::Result<VmState> {
    match clock.deadline.get() {
        Some(d) if Instant::now() > d => {
            if !clock.tripped.replace(true) {
                // From now on check every instruction of this coroutine.
                let c = clock.clone();
                lua.set_hook(HookTriggers::new().every_nth_instruction(1), move |l, d| {
                    check(&c, l, d)
                })?;
            }
            let src = debug.source();
            let file = src.short_src.as_deref().unwrap_or("?").to_owned();
            let line = debug.current_line().map_or_else(String::new, |l| format!(":{l}"));
            Err(mlua::Error::runtime(format!(
                "{file}{line}: stopped after running {:?} without yielding (an endless loop?)",
                clock.limit
            )))
        }
        _ => Ok(VmState::Continue),
    }
}

impl Watchdog {
    /// Put a memory limit and a run-time hook on `lua` (and every coroutine it makes).
    pub fn install(lua: &Lua, limits: Limits) -> mlua::Result<Self> {
        lua.set_memory_limit(limits.memory)?;
        let clock = Rc::new(Clock {
            deadline: Cell::new(None),
            limit: limits.run_time,
            tripped: Cell::new(false),
        });
        let c = clock.clone();
        lua.set_global_hook(
            HookTriggers::new().every_nth_instruction(CHECK_EVERY),
            move |l, d| check(&c, l, d),
        )?;
        Ok(Self { clock })
    }

    /// A watchdog that never stops anything (for states without limits).
    #[must_use]
    pub fn unwatched() -> Self {
        let clock =
            Clock { deadline: Cell::new(None), limit: Duration::MAX, tripped: Cell::new(false) };
        Self { clock: Rc::new(clock) }
    }

    /// Start timing a slice of Lua work, unless one is already being timed.
    #[must_use]
    pub fn slice(&self) -> Slice {
        if self.clock.deadline.get().is_some() {
            return Slice { dog: None };
        }
        let Some(deadline) = Instant::now().checked_add(self.clock.limit) else {
            return Slice { dog: None };
        };
        self.clock.deadline.set(Some(deadline));
        Slice { dog: Some(self.clone()) }
    }

    /// `fut`, with every poll timed as one slice.
    pub fn watch<F: Future>(&self, fut: F) -> Watched<F> {
        Watched { inner: Box::pin(fut), dog: self.clone() }
    }
}

/// A future whose every poll is one timed slice of Lua work.
pub struct Watched<F> {
    inner: Pin<Box<F>>,
    dog: Watchdog,
}

impl<F: Future> Future for Watched<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _slice = self.dog.slice();
        self.inner.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run(lua: &Lua, dog: &Watchdog, code: &str) -> mlua::Result<()> {
        let f = lua.load(code).into_function()?;
        let fut = lua.create_thread(f)?.into_async::<()>(())?;
        dog.watch(fut).await
    }

    #[tokio::test]
    async fn loops_are_stopped_every_time() {
        let lua = Lua::new();
        let dog = Watchdog::install(
            &lua,
            Limits { memory: 16 << 20, run_time: Duration::from_millis(50) },
        )
        .unwrap();
        run(&lua, &dog, "return 1").await.unwrap();
        for _ in 0..3 {
            let e = run(&lua, &dog, "while true do end").await.unwrap_err();
            assert!(e.to_string().contains("without yielding"), "{e}");
        }
        let f: mlua::Function = lua.load("return function() while true do end end").eval().unwrap();
        let fut = lua.create_thread(f).unwrap().into_async::<()>(()).unwrap();
        assert!(dog.watch(fut).await.is_err());
    }
}
