//! One script: its own Lua state, queue and task.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use mlua::{Lua, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::callback;
use super::limits::{Limits, Watchdog};
use super::sandbox::{Deps, Sandbox};
use super::subscriptions::Subscriptions;
use super::targets::TargetCache;
use super::tasks::Tasks;
use crate::adapter::Adapter;
use crate::lua::{self, convert, Context};
use crate::protocol::Event;

/// Why a script could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file does not compile, or raised an error while it ran.
    #[error("{message}")]
    Lua {
        /// The file.
        path: PathBuf,
        /// Lua's message, with file and line.
        message: String,
    },
}

/// Something for a script to handle, in arrival order.
#[derive(Clone)]
pub enum Delivery {
    /// An event from the server.
    Event(Rc<Event>),
    /// A lifecycle moment: `load`, `connect`, `disconnect`, with its argument table.
    Lifecycle(&'static str, serde_json::Value),
}

/// A loaded script.
pub struct Script {
    /// The file name, e.g. `echo.lua`.
    pub name: Rc<str>,
    /// The file.
    pub path: PathBuf,
    /// The module files it loaded from `scripts/lib/`.
    pub deps: Deps,
    /// A hash of the source it was loaded from.
    pub source_hash: u64,
    lua: Lua,
    subs: Rc<RefCell<Subscriptions>>,
    tasks: Rc<Tasks>,
    queue: mpsc::UnboundedSender<Delivery>,
    runner: JoinHandle<()>,
}

/// What every script of a host shares.
#[derive(Clone)]
pub struct Shared {
    /// The link to the server.
    pub adapter: Arc<dyn Adapter>,
    /// Conversations of recently seen message ids.
    pub targets: Rc<RefCell<TargetCache>>,
    /// The folder of helper modules for `require`.
    pub lib_dir: PathBuf,
    /// The folder holding each script's data folder.
    pub data_dir: PathBuf,
    /// Scripts (by file name) that keep the whole standard library.
    pub trusted: Rc<[String]>,
    /// The limits every script runs under.
    pub limits: Limits,
}

impl Shared {
    /// The sandbox of the script in `path`.
    #[must_use]
    pub fn sandbox(&self, path: &Path) -> Sandbox {
        let name = script_name(path);
        let stem =
            path.file_stem().map_or_else(|| name.clone(), |s| s.to_string_lossy().into_owned());
        Sandbox {
            lib_dir: self.lib_dir.clone(),
            data_dir: self.data_dir.join(stem),
            trusted: self.trusted.contains(&name),
        }
    }
}

/// A stable hash of a script's source, to skip reloads that change nothing.
#[must_use]
pub fn hash_source(source: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    source.hash(&mut h);
    h.finish()
}

/// The name a script is known by: its file name.
#[must_use]
pub fn script_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn lua_error(path: &Path, e: &mlua::Error) -> LoadError {
    LoadError::Lua { path: path.to_owned(), message: callback::describe(e) }
}

impl Script {
    /// Read, compile and run `path` in a fresh state; then start its task.
    pub async fn load(path: &Path, shared: &Shared) -> Result<Self, LoadError> {
        let source = tokio::fs::read(path)
            .await
            .map_err(|source| LoadError::Read { path: path.to_owned(), source })?;
        let name: Rc<str> = Rc::from(script_name(path));
        let sandbox = shared.sandbox(path);
        let lua = sandbox.new_state().map_err(|e| lua_error(path, &e))?;
        let deps = Deps::default();
        let subs = Rc::new(RefCell::new(Subscriptions::default()));
        let tasks = Rc::new(Tasks::default());
        let ctx = Context {
            name: name.clone(),
            adapter: shared.adapter.clone(),
            targets: shared.targets.clone(),
            subs: subs.clone(),
            tasks: tasks.clone(),
        };
        let setup = lua::register_all(&lua, ctx)
            .and_then(|()| sandbox.apply(&lua, &name, &deps))
            .and_then(|()| Watchdog::install(&lua, shared.limits));
        let dog = setup.map_err(|e| lua_error(path, &e))?;
        lua.set_app_data(dog);
        let chunk = lua
            .load(&source[..])
            .set_name(format!("@{}", path.display()))
            .set_mode(mlua::chunk::ChunkMode::Text)
            .into_function()
            .map_err(|e| lua_error(path, &e))?;
        if let Err(e) = callback::run(&lua, chunk, ()).await {
            tasks.abort_all();
            subs.borrow_mut().clear();
            return Err(lua_error(path, &e));
        }
        let (queue, rx) = mpsc::unbounded_channel();
        let runner = tokio::task::spawn_local(run(
            lua.weak(),
            name.clone(),
            subs.clone(),
            tasks.clone(),
            rx,
        ));
        let source_hash = hash_source(&source);
        Ok(Self { name, path: path.to_owned(), deps, source_hash, lua, subs, tasks, queue, runner })
    }

    /// Whether the script listens to events of this type.
    #[must_use]
    pub fn wants(&self, ty: &str) -> bool {
        self.subs.borrow().wants(ty)
    }

    /// Queue something for the script.
    pub fn deliver(&self, d: Delivery) {
        let _ = self.queue.send(d);
    }

    /// The script's Lua state.
    #[must_use]
    pub fn lua(&self) -> &Lua {
        &self.lua
    }

    /// Stop taking deliveries, finish the queued ones, run the `unload` handlers, let
    /// running callbacks finish within `grace`, then stop everything.
    pub async fn unload(self, grace: std::time::Duration) {
        let Self { name, lua, subs, tasks, queue, mut runner, .. } = self;
        drop(queue);
        let late = |what: &str| {
            tracing::warn!(target: "script", script = &*name, "{what} still running after {grace:?}; stopped");
        };
        if tokio::time::timeout(grace, &mut runner).await.is_err() {
            runner.abort();
            late("queued events");
        }
        let handlers = subs.borrow().lifecycle_handlers("unload");
        for f in handlers {
            match tokio::time::timeout(grace, callback::run(&lua, f, ())).await {
                Ok(r) => callback::report(&name, "unload handler", r),
                Err(_) => late("unload handler"),
            }
        }
        if tokio::time::timeout(grace, tasks.join_all()).await.is_err() {
            late("callbacks");
        }
        tasks.abort_all();
        subs.borrow_mut().clear();
        // Tasks hold Lua values: make sure they are gone before the state.
        tasks.join_all().await;
        drop(lua);
    }
}

/// The script's task: hand each delivery to its waiters and handlers, in order.
async fn run(
    weak: mlua::WeakLua,
    name: Rc<str>,
    subs: Rc<RefCell<Subscriptions>>,
    tasks: Rc<Tasks>,
    mut rx: mpsc::UnboundedReceiver<Delivery>,
) {
    while let Some(d) = rx.recv().await {
        let Some(lua) = weak.try_upgrade() else {
            return;
        };
        match d {
            Delivery::Event(ev) => deliver_event(&lua, &name, &subs, &tasks, &ev).await,
            Delivery::Lifecycle(what, arg) => {
                let handlers = subs.borrow().lifecycle_handlers(what);
                if handlers.is_empty() {
                    continue;
                }
                let arg = match convert::to_lua(&lua, &arg) {
                    Ok(a) => a,
                    Err(e) => {
                        callback::report(&name, what, Err(e));
                        continue;
                    }
                };
                let label: Rc<str> = Rc::from(format!("{what} handler"));
                for f in handlers {
                    callback::start(&lua, &tasks, name.clone(), label.clone(), f, arg.clone())
                        .await;
                }
            }
        }
    }
}

/// One event: the first waiter whose filter accepts it takes it; otherwise every handler gets it.
async fn deliver_event(
    lua: &Lua,
    name: &Rc<str>,
    subs: &RefCell<Subscriptions>,
    tasks: &Tasks,
    ev: &Event,
) {
    let ty = ev.kind();
    let (waiters, handlers) = {
        let s = subs.borrow();
        (s.waiters_for(ty), s.handlers_for(ty))
    };
    if waiters.is_empty() && handlers.is_empty() {
        return;
    }
    let table = match convert::to_lua(lua, &ev.0) {
        Ok(t) => t,
        Err(e) => return callback::report(name, &format!("converting a {ty}"), Err(e)),
    };
    for (id, filter) in waiters {
        let accepted = match filter {
            None => true,
            Some(f) => match callback::call_now::<Value>(lua, &f, table.clone()) {
                Ok(v) => !matches!(v, Value::Nil | Value::Boolean(false)),
                Err(e) => {
                    callback::report(name, "bot.wait filter", Err(e));
                    false
                }
            },
        };
        if accepted {
            if let Some(tx) = subs.borrow_mut().take_waiter(id) {
                if tx.send(table.clone()).is_ok() {
                    return;
                }
            }
        }
    }
    let label: Rc<str> = Rc::from(format!("{ty} handler"));
    for f in handlers {
        callback::start(lua, tasks, name.clone(), label.clone(), f, table.clone()).await;
    }
}
