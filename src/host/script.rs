//! One script: its own Lua state, queue and thread.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mlua::{Lua, Value};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::callback;
use super::limits::{Limits, Watchdog};
use super::queue::{self, ScriptQueue};
use super::sandbox::{Deps, Sandbox};
use super::subscriptions::{Interest, Subscriptions};
use super::targets::TargetCache;
use super::tasks::Tasks;
use crate::adapter::Adapter;
use crate::lua::{self, convert, stdlib, Context};
use crate::metrics::{Metrics, ScriptMetrics};
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
    /// The script's thread could not be started.
    #[error("{path}: cannot start a thread for it: {source}")]
    Thread {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Something for a script to handle, in arrival order.
#[derive(Clone)]
pub enum Delivery {
    /// An event from the server.
    Event(Arc<Event>),
    /// A lifecycle moment: `load`, `connect`, `disconnect`, with its argument table.
    Lifecycle(&'static str, serde_json::Value),
}

/// A loaded script, on its own thread.
struct Script {
    name: Rc<str>,
    deps: Deps,
    source_hash: u64,
    lua: Lua,
    subs: Rc<RefCell<Subscriptions>>,
    tasks: Rc<Tasks>,
    runner: JoinHandle<()>,
}

/// The host's handle on a script running on its own thread.
pub struct ScriptHandle {
    /// The file name, e.g. `echo.lua`.
    pub name: Arc<str>,
    /// The module files it loaded from `scripts/lib/`.
    pub deps: Deps,
    /// A hash of the source it was loaded from.
    pub source_hash: u64,
    interest: Arc<Interest>,
    queue: Arc<ScriptQueue>,
    stop: oneshot::Sender<Duration>,
    done: oneshot::Receiver<()>,
}

/// What a script's thread reports once the script has loaded.
struct Loaded {
    deps: Deps,
    source_hash: u64,
    interest: Arc<Interest>,
}

impl ScriptHandle {
    /// Start a thread for `path` and load it there; an error if it does not load.
    pub async fn start(path: &Path, shared: &Shared) -> Result<Self, LoadError> {
        let name = script_name(path);
        let metrics = shared.metrics.script(&name);
        let (queue, rx, depth) =
            ScriptQueue::new(Arc::from(name.as_str()), shared.queue_capacity, metrics);
        let (ready_tx, ready_rx) = oneshot::channel();
        let (stop, stop_rx) = oneshot::channel::<Duration>();
        let (done_tx, done) = oneshot::channel();
        let thread_err = |source| LoadError::Thread { path: path.to_owned(), source };
        let (p, sh) = (path.to_owned(), shared.clone());
        let life = move || async move {
            match Script::load(&p, &sh, rx, depth).await {
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
                Ok(script) => {
                    let loaded = Loaded {
                        deps: script.deps.clone(),
                        source_hash: script.source_hash,
                        interest: script.subs.borrow().interest(),
                    };
                    let _ = ready_tx.send(Ok(loaded));
                    let grace = stop_rx.await.unwrap_or(Duration::ZERO);
                    script.unload(grace).await;
                }
            }
        };
        if shared.inline {
            tokio::task::spawn_local(async move {
                life().await;
                let _ = done_tx.send(());
            });
        } else {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(thread_err)?;
            std::thread::Builder::new()
                .name(format!("script {name}"))
                .spawn(move || {
                    let local = tokio::task::LocalSet::new();
                    local.block_on(&rt, life());
                    drop(rt);
                    let _ = done_tx.send(());
                })
                .map_err(thread_err)?;
        }
        let loaded = ready_rx.await.map_err(|_| LoadError::Lua {
            path: path.to_owned(),
            message: format!("{}: the script's thread ended while loading", path.display()),
        })??;
        Ok(Self {
            name: Arc::from(name),
            deps: loaded.deps,
            source_hash: loaded.source_hash,
            interest: loaded.interest,
            queue: Arc::new(queue),
            stop,
            done,
        })
    }

    /// Whether the script listens to events of this type.
    #[must_use]
    pub fn wants(&self, ty: &str) -> bool {
        self.interest.wants(ty)
    }

    /// Queue a lifecycle moment for the script; events go through `queue()`.
    pub fn deliver(&self, d: Delivery) {
        self.queue.lifecycle(d);
    }

    /// The script's queue, where events are delivered.
    #[must_use]
    pub fn queue(&self) -> &Arc<ScriptQueue> {
        &self.queue
    }

    /// Stop taking deliveries, finish the queued ones, run `unload`, and end the thread.
    pub async fn unload(self, grace: Duration) {
        let Self { queue, stop, done, .. } = self;
        drop(queue);
        let _ = stop.send(grace);
        let _ = done.await;
    }
}

/// What every script of a host shares.
#[derive(Clone)]
pub struct Shared {
    /// The link to the server.
    pub adapter: Arc<dyn Adapter>,
    /// Conversations of recently seen message ids.
    pub targets: Arc<Mutex<TargetCache>>,
    /// The folder of helper modules for `require`.
    pub lib_dir: PathBuf,
    /// The folder holding each script's data folder.
    pub data_dir: PathBuf,
    /// Scripts (by file name) that keep the whole standard library.
    pub trusted: Arc<[String]>,
    /// The limits every script runs under.
    pub limits: Limits,
    /// How many events may wait for one script.
    pub queue_capacity: usize,
    /// Bumped whenever a script's interest changes, so the host re-routes.
    pub interest_changes: Arc<AtomicU64>,
    /// Where the scripts' counters go.
    pub metrics: Arc<Metrics>,
    /// The store behind every script's `store`.
    pub store: Arc<crate::store::Store>,
    /// Run scripts as tasks of the host's own thread, not threads of their own.
    pub inline: bool,
    /// The wall clock scripts read, when not the system's.
    pub clock: Option<crate::host::clock::VirtualClock>,
    /// Responses `http` gives instead of the web's, in tests.
    pub http_canned: Option<crate::lua::http::CannedResponses>,
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
            clock: self.clock,
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
    /// Read, compile and run `path` in a fresh state; then start its task on `rx`.
    async fn load(
        path: &Path,
        shared: &Shared,
        rx: mpsc::UnboundedReceiver<Delivery>,
        depth: Arc<AtomicUsize>,
    ) -> Result<Self, LoadError> {
        let source = tokio::fs::read(path)
            .await
            .map_err(|source| LoadError::Read { path: path.to_owned(), source })?;
        let name: Rc<str> = Rc::from(script_name(path));
        let sandbox = shared.sandbox(path);
        let lua = sandbox.new_state().map_err(|e| lua_error(path, &e))?;
        let deps = Deps::default();
        let subs = Rc::new(RefCell::new(Subscriptions::new(shared.interest_changes.clone())));
        let tasks = Rc::new(Tasks::default());
        let ctx = Context {
            name: name.clone(),
            origin: Arc::from(&*name),
            metrics: shared.metrics.script(&name),
            adapter: shared.adapter.clone(),
            targets: shared.targets.clone(),
            subs: subs.clone(),
            tasks: tasks.clone(),
            data_dir: sandbox.data_dir.clone(),
            trusted: sandbox.trusted,
            store: shared.store.clone(),
            http_canned: shared.http_canned.clone(),
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
        let runner = tokio::task::spawn_local(run(
            shared.metrics.script(&name),
            lua.weak(),
            name.clone(),
            subs.clone(),
            tasks.clone(),
            rx,
            depth,
        ));
        let source_hash = hash_source(&source);
        Ok(Self { name, deps, source_hash, lua, subs, tasks, runner })
    }

    /// Stop taking deliveries, finish the queued ones, run the `unload` handlers, let
    /// running callbacks finish within `grace`, then stop everything.
    async fn unload(self, grace: Duration) {
        let Self { name, lua, subs, tasks, mut runner, .. } = self;
        let late = |what: &str| {
            tracing::warn!(target: "script", script = &*name, "{what} still running after {grace:?}; stopped");
        };
        tasks.stop_timers();
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
        // No more events will come: callbacks waiting for one hear nil, as after a timeout.
        subs.borrow_mut().release_waiters();
        if tokio::time::timeout(grace, tasks.join_callbacks()).await.is_err() {
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
    metrics: Arc<ScriptMetrics>,
    weak: mlua::WeakLua,
    name: Rc<str>,
    subs: Rc<RefCell<Subscriptions>>,
    tasks: Rc<Tasks>,
    mut rx: mpsc::UnboundedReceiver<Delivery>,
    depth: Arc<AtomicUsize>,
) {
    let mut labels = Labels::default();
    while let Some(d) = rx.recv().await {
        metrics.taken(matches!(d, Delivery::Event(_)));
        let Some(lua) = weak.try_upgrade() else {
            return;
        };
        match d {
            Delivery::Event(ev) => {
                queue::taken(&depth);
                deliver_event(&lua, &name, &subs, &tasks, &mut labels, &ev).await;
            }
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

/// "GroupMessage handler" and the like, made once per event type rather than per event.
#[derive(Default)]
struct Labels(Vec<(String, Rc<str>)>);

impl Labels {
    /// The label of a handler for events of type `ty`.
    fn handler(&mut self, ty: &str) -> Rc<str> {
        if let Some((_, l)) = self.0.iter().find(|(t, _)| t == ty) {
            return l.clone();
        }
        let label: Rc<str> = Rc::from(format!("{ty} handler"));
        // Types come from the server; keep the list short whatever it sends.
        if self.0.len() < 64 {
            self.0.push((ty.to_owned(), label.clone()));
        }
        label
    }
}

/// One event: the first waiter whose filter accepts it takes it; otherwise every handler gets it.
async fn deliver_event(
    lua: &Lua,
    name: &Rc<str>,
    subs: &RefCell<Subscriptions>,
    tasks: &Tasks,
    labels: &mut Labels,
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
    if ev.is_message() {
        // `ev:reply`, `ev:quote` and `..` on the chain, from stdlib/msg.lua.
        if let Err(e) = stdlib::decorate(lua, &table) {
            callback::report(name, &format!("decorating a {ty}"), Err(e));
        }
    }
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
    let label = labels.handler(ty);
    for f in handlers {
        callback::start(lua, tasks, name.clone(), label.clone(), f, table.clone()).await;
    }
}
