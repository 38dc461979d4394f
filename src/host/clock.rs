//! A wall clock for scripts that follows the runtime's clock, which `mahua test` runs in
//! virtual time: `os.time()` and `os.date()` move when the test advances time.

use mlua::{Function, Lua};

/// The wall-clock time at the runtime's start, moved along with the runtime's clock.
#[derive(Debug, Clone, Copy)]
pub struct VirtualClock {
    epoch: i64,
    start: tokio::time::Instant,
}

/// Wraps `os.time` and `os.date` so that, called without a time, they use `now`.
const WRAP: &str = r"
local os, now = ...
local time, date = os.time, os.date
os.time = function(t) if t == nil then return now() end return time(t) end
os.date = function(fmt, t) if t == nil then t = now() end return date(fmt, t) end
";

impl VirtualClock {
    /// A clock that reads `epoch` (seconds since 1970) now.
    #[must_use]
    pub fn starting_at(epoch: i64) -> Self {
        Self { epoch, start: tokio::time::Instant::now() }
    }

    /// Seconds since 1970 on this clock.
    #[must_use]
    pub fn now(&self) -> i64 {
        let gone = i64::try_from(self.start.elapsed().as_secs()).unwrap_or(i64::MAX);
        self.epoch.saturating_add(gone)
    }

    /// Make the state's `os.time()` and `os.date()` read this clock.
    pub fn install(self, lua: &Lua) -> mlua::Result<()> {
        let now = lua.create_function(move |_, ()| Ok(self.now()))?;
        let wrap: Function = lua.load(WRAP).set_name("=clock").into_function()?;
        wrap.call::<()>((lua.globals().get::<mlua::Table>("os")?, now))
    }
}
