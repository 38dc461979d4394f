//! The script host: loads `scripts/*.lua`, hands each event to the scripts that want it.

pub mod callback;
pub mod clock;
pub mod limits;
pub mod paths;
pub mod queue;
pub mod routes;
pub mod sandbox;
pub mod script;
pub mod subscriptions;
pub mod targets;
pub mod tasks;
pub mod watch;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::adapter::{Adapter, LinkEvent, Offline};
use crate::metrics::Metrics;
use crate::protocol::Event;
use crate::store::{Store, StoreConfig};
use limits::Limits;
use script::{hash_source, script_name, Delivery, LoadError, ScriptHandle, Shared};
use targets::TargetCache;

/// How the host finds and treats scripts.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// The scripts folder; `lib/` inside it holds modules for `require`.
    pub scripts_dir: PathBuf,
    /// The folder holding each script's own data folder.
    pub data_dir: PathBuf,
    /// Scripts (by file name) that keep the whole standard library.
    pub trusted: Vec<String>,
    /// The limits every script runs under.
    pub limits: Limits,
    /// Reload scripts when their files change.
    pub hot_reload: bool,
    /// How long file changes settle before a reload.
    pub debounce: Duration,
    /// How long `unload` handlers and running callbacks get when a script stops.
    pub unload_grace: Duration,
    /// How many events may wait for one script before new ones are dropped for it.
    pub queue_capacity: usize,
    /// Where the scripts' and the connection's counters go.
    pub metrics: Arc<Metrics>,
    /// The store; SQLite in `data_dir` when not given.
    pub store: Option<Arc<Store>>,
    /// Only these scripts (file names) of the folder, when given.
    pub only: Option<Vec<String>>,
    /// Run scripts as tasks on the host's thread (inside a `LocalSet`), not on threads of
    /// their own: one thread for everything, as `mahua test` runs in virtual time.
    pub inline: bool,
    /// The wall clock scripts read, when not the system's.
    pub clock: Option<clock::VirtualClock>,
    /// Responses scripts' `http` gets instead of the web's (tests reach no network).
    pub http_canned: Option<crate::lua::http::CannedResponses>,
}

impl HostOptions {
    /// Options for a scripts folder, with the usual defaults.
    #[must_use]
    pub fn new(scripts_dir: impl Into<PathBuf>) -> Self {
        Self {
            scripts_dir: scripts_dir.into(),
            data_dir: PathBuf::from("data"),
            trusted: Vec::new(),
            limits: Limits::default(),
            hot_reload: true,
            debounce: Duration::from_millis(50),
            unload_grace: Duration::from_secs(5),
            queue_capacity: queue::DEFAULT_CAPACITY,
            metrics: Metrics::new(),
            store: None,
            only: None,
            inline: false,
            clock: None,
            http_canned: None,
        }
    }

    /// The store the scripts get.
    #[must_use]
    pub fn store(&self) -> Arc<Store> {
        self.store.clone().unwrap_or_else(|| {
            Arc::new(Store::Sqlite(crate::store::sqlite::Db::new(
                StoreConfig::default().sqlite_file(&self.data_dir),
                &StoreConfig::default(),
            )))
        })
    }

    fn shared(&self, adapter: Arc<dyn Adapter>) -> Shared {
        Shared {
            adapter,
            targets: Arc::new(Mutex::new(TargetCache::default())),
            lib_dir: self.scripts_dir.join("lib"),
            data_dir: self.data_dir.clone(),
            trusted: self.trusted.clone().into(),
            limits: self.limits,
            queue_capacity: self.queue_capacity,
            interest_changes: Arc::default(),
            metrics: self.metrics.clone(),
            store: self.store(),
            inline: self.inline,
            clock: self.clock,
            http_canned: self.http_canned.clone(),
        }
    }
}

/// The `*.lua` files directly in `dir`, sorted (not `lib/`, not hidden files).
pub fn script_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "lua"))
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    Ok(files)
}

/// The running scripts of one bot.
pub struct Host {
    opts: HostOptions,
    shared: Shared,
    /// Loaded scripts by file name.
    scripts: BTreeMap<String, ScriptHandle>,
    /// Unloads of replaced versions still finishing.
    retiring: tokio::task::JoinSet<()>,
    /// The file watch, once started.
    watcher: Option<watch::Watcher>,
    /// Where loads and reloads are reported.
    events: Option<mpsc::UnboundedSender<HostEvent>>,
    /// Loads in flight.
    loading: tokio::task::JoinSet<Pending>,
    /// The latest reload asked for, per script: only its result is applied.
    generations: HashMap<String, u64>,
    /// Which scripts get which event type.
    routes: routes::Routes,
    /// The latest events dispatched, freed from here once the scripts have them.
    recent: VecDeque<Arc<Event>>,
}

/// How many dispatched events the host holds on to, so that freeing them is its work.
const RECENT_EVENTS: usize = 128;

/// What a load in flight found.
enum Outcome {
    /// The file is gone.
    Missing,
    /// The file is as the running version was loaded from.
    Unchanged,
    /// The file could not be read.
    Unreadable(std::io::Error),
    /// The new version loaded.
    Loaded(ScriptHandle),
    /// The new version failed to load.
    Failed(LoadError),
}

/// A finished load, to be applied by the host.
struct Pending {
    name: String,
    generation: u64,
    took: Duration,
    outcome: Outcome,
}

impl Host {
    /// Load every script; one that fails is logged and left out.
    pub async fn start(opts: HostOptions, adapter: Arc<dyn Adapter>) -> Self {
        Self::start_with_events(opts, adapter, None).await
    }

    /// As `start`, reporting loads and reloads to `events`.
    pub async fn start_with_events(
        opts: HostOptions,
        adapter: Arc<dyn Adapter>,
        events: Option<mpsc::UnboundedSender<HostEvent>>,
    ) -> Self {
        let shared = opts.shared(adapter);
        let (data, store) = (opts.data_dir.clone(), shared.store.clone());
        let import = tokio::task::spawn_blocking(move || {
            crate::store::legacy::import_and_log(&data, &store);
        });
        if let Err(e) = import.await {
            tracing::error!("importing old store files failed: {e}");
        }
        let mut host = Self {
            opts,
            shared,
            scripts: BTreeMap::new(),
            retiring: tokio::task::JoinSet::new(),
            watcher: None,
            events,
            loading: tokio::task::JoinSet::new(),
            generations: HashMap::new(),
            routes: routes::Routes::default(),
            recent: VecDeque::with_capacity(RECENT_EVENTS),
        };
        let dir = host.opts.scripts_dir.clone();
        let mut files = script_files(&dir).unwrap_or_else(|e| {
            tracing::error!("cannot read the scripts folder {}: {e}", dir.display());
            Vec::new()
        });
        if let Some(only) = &host.opts.only {
            files.retain(|p| only.contains(&script_name(p)));
        }
        for path in files {
            host.reload(&script_name(&path), false);
        }
        host.settle().await;
        if host.scripts.is_empty() {
            tracing::warn!("no scripts running; put a .lua file in {}", dir.display());
        }
        host
    }

    /// Bring the script `name` in line with its file: load, reload or unload it, in the
    /// background; events keep going to the running version until the new one is ready.
    pub fn reload(&mut self, name: &str, force: bool) {
        let generation = self.generations.entry(name.to_owned()).or_default();
        *generation += 1;
        let generation = *generation;
        let path = self.opts.scripts_dir.join(name);
        let old_hash = if force { None } else { self.scripts.get(name).map(|s| s.source_hash) };
        let shared = self.shared.clone();
        let name = name.to_owned();
        let load = async move {
            let started = Instant::now();
            let outcome = match tokio::fs::read(&path).await {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Outcome::Missing,
                Err(e) => Outcome::Unreadable(e),
                Ok(source) if old_hash == Some(hash_source(&source)) => Outcome::Unchanged,
                Ok(_) => match ScriptHandle::start(&path, &shared).await {
                    Ok(s) => Outcome::Loaded(s),
                    Err(e) => Outcome::Failed(e),
                },
            };
            Pending { name, generation, took: started.elapsed(), outcome }
        };
        if self.shared.inline {
            self.loading.spawn_local(load);
        } else {
            self.loading.spawn(load);
        }
    }

    /// Apply a finished load: swap versions, or report why not.
    fn finish(&mut self, done: Pending) {
        let Pending { name, generation, took, outcome } = done;
        let name = name.as_str();
        if self.generations.get(name) != Some(&generation) {
            // A newer change to the same file is on its way; this version is already stale.
            if let Outcome::Loaded(stale) = outcome {
                self.retire(stale);
            }
            return;
        }
        let ms = took.as_secs_f64() * 1e3;
        match outcome {
            Outcome::Unchanged => {}
            Outcome::Missing => {
                if let Some(old) = self.scripts.remove(name) {
                    self.routes.clear();
                    self.retire(old);
                    tracing::info!(script = name, "unloaded (file removed)");
                    self.report(HostEvent::Unloaded(name.to_owned()));
                }
            }
            Outcome::Unreadable(e) => {
                tracing::error!(script = name, "cannot read it: {e}; the running version stays");
            }
            Outcome::Loaded(new) => {
                new.deliver(Delivery::Lifecycle("load", json!({})));
                let replaced = self.scripts.insert(name.to_owned(), new);
                self.routes.clear();
                if let Some(old) = replaced {
                    self.retire(old);
                    self.shared.metrics.script(name).reloaded();
                    tracing::info!(script = name, "reloaded in {ms:.1} ms");
                    self.report(HostEvent::Reloaded(name.to_owned()));
                } else {
                    tracing::info!(script = name, "loaded in {ms:.1} ms");
                    self.report(HostEvent::Loaded(name.to_owned()));
                }
            }
            Outcome::Failed(e) if self.scripts.contains_key(name) => {
                self.shared.metrics.script(name).load_failed(e.to_string());
                tracing::error!(
                    script = name,
                    "new version refused, the running version stays: {e}"
                );
                self.report(HostEvent::Refused(name.to_owned()));
            }
            Outcome::Failed(e) => {
                self.shared.metrics.script(name).load_failed(e.to_string());
                tracing::error!(script = name, "failed to load: {e}");
                self.report(HostEvent::Failed(name.to_owned()));
            }
        }
    }

    /// Wait for every load in flight and apply it.
    pub async fn settle(&mut self) {
        while let Some(done) = self.loading.join_next().await {
            match done {
                Ok(p) => self.finish(p),
                Err(e) => tracing::error!("a script load stopped: {e}"),
            }
        }
    }

    fn report(&self, ev: HostEvent) {
        if let Some(tx) = &self.events {
            let _ = tx.send(ev);
        }
    }

    /// Start watching the scripts folder, if hot reload is on.
    pub fn watch_files(&mut self) {
        if !self.opts.hot_reload || self.watcher.is_some() {
            return;
        }
        match watch::watch(&self.opts.scripts_dir, self.opts.debounce) {
            Ok(w) => self.watcher = Some(w),
            Err(e) => {
                let dir = self.opts.scripts_dir.display();
                tracing::warn!("cannot watch {dir} for changes ({e}); edits need a restart");
            }
        }
    }

    /// Unload a replaced or removed version in the background.
    fn retire(&mut self, old: ScriptHandle) {
        let grace = self.opts.unload_grace;
        while self.retiring.try_join_next().is_some() {}
        self.retiring.spawn(old.unload(grace));
    }

    /// Reload what a batch of changed files touches: scripts, and the scripts using changed modules.
    pub fn apply_changes(&mut self, paths: &[PathBuf]) {
        let dir = canonical(&self.opts.scripts_dir);
        let lib = dir.join("lib");
        let mut direct = BTreeSet::new();
        let mut via_lib = BTreeSet::new();
        for p in paths {
            let p = canonical(p);
            let chosen = |n: &String| self.opts.only.as_ref().map_or(true, |only| only.contains(n));
            if p.parent() == Some(dir.as_path()) && chosen(&script_name(&p)) {
                direct.insert(script_name(&p));
            } else if let Ok(rel) = p.strip_prefix(&lib) {
                for (name, s) in &self.scripts {
                    let uses = s
                        .deps
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .iter()
                        .any(|d| d.strip_prefix(&self.shared.lib_dir).is_ok_and(|r| r == rel));
                    if uses {
                        via_lib.insert(name.clone());
                    }
                }
            }
        }
        for name in &direct {
            self.reload(name, false);
        }
        for name in via_lib.difference(&direct) {
            tracing::info!(script = &**name, "a module it requires changed");
            self.reload(name, true);
        }
    }

    /// The names of the loaded scripts.
    #[must_use]
    pub fn script_names(&self) -> Vec<String> {
        self.scripts.keys().cloned().collect()
    }

    /// Hand one thing from the link to the scripts.
    pub fn dispatch(&mut self, ev: LinkEvent) {
        self.shared.metrics.link.on_link(&ev);
        match ev {
            LinkEvent::Event(ev) => {
                if let (Some(id), Some(conv)) = (ev.message_id(), ev.conversation()) {
                    if let Ok(mut t) = self.shared.targets.lock() {
                        t.record(id, conv);
                    }
                }
                let changes = self.shared.interest_changes.load(Ordering::Acquire);
                let targets = self.routes.get(changes, ev.kind(), &self.scripts);
                if targets.is_empty() {
                    return;
                }
                let ev = Arc::new(ev);
                for q in targets {
                    if let Some(q) = q.upgrade() {
                        q.event(Delivery::Event(ev.clone()));
                    }
                }
                // Keep the last few events here: the scripts are usually done with one by the
                // time it leaves this ring, so it is freed on this thread, not on theirs.
                if self.recent.len() == RECENT_EVENTS {
                    self.recent.pop_front();
                }
                self.recent.push_back(ev);
            }
            LinkEvent::Connected { gap } => {
                self.shared.metrics.link.set_server(self.shared.adapter.server());
                let arg = json!({ "gap": gap.map(|g| g.as_secs_f64()) });
                self.broadcast("connect", &arg);
            }
            LinkEvent::Disconnected { reason } => {
                tracing::warn!("disconnected: {reason}");
                self.broadcast("disconnect", &json!({ "reason": reason }));
            }
        }
    }

    fn broadcast(&self, what: &'static str, arg: &serde_json::Value) {
        for s in self.scripts.values() {
            s.deliver(Delivery::Lifecycle(what, arg.clone()));
        }
    }

    /// Dispatch from the link (and reload on file changes) until the link ends or
    /// `shutdown` resolves, then unload.
    pub async fn run(
        mut self,
        mut link: mpsc::Receiver<LinkEvent>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        self.watch_files();
        let mut watcher = self.watcher.take();
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(paths) = next_change(&mut watcher) => self.apply_changes(&paths),
                Some(done) = self.loading.join_next(), if !self.loading.is_empty() => match done {
                    Ok(p) => self.finish(p),
                    Err(e) => tracing::error!("a script load stopped: {e}"),
                },
                ev = link.recv() => match ev {
                    Some(ev) => self.dispatch(ev),
                    None => break,
                },
            }
        }
        drop(watcher);
        self.stop().await;
    }

    /// Unload every script: `unload` handlers run, then their tasks stop.
    pub async fn stop(mut self) {
        self.settle().await;
        let grace = self.opts.unload_grace;
        self.routes.clear();
        for (name, s) in std::mem::take(&mut self.scripts) {
            self.retiring.spawn(async move {
                s.unload(grace).await;
                tracing::info!(script = &*name, "unloaded");
            });
        }
        while self.retiring.join_next().await.is_some() {}
    }
}

/// The next batch of changes, or never when nothing is watched.
async fn next_change(watcher: &mut Option<watch::Watcher>) -> Option<Vec<PathBuf>> {
    match watcher {
        Some(w) => w.changes.recv().await,
        None => std::future::pending().await,
    }
}

/// `p` made absolute with symlinks resolved, as far as it exists.
fn canonical(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    match (p.parent(), p.file_name()) {
        (Some(parent), Some(name)) => canonical(parent).join(name),
        _ => p.to_owned(),
    }
}

/// Load every script of `dir` without a server; the errors, one per failed file.
pub async fn check(dir: &Path) -> std::io::Result<(usize, Vec<LoadError>)> {
    let files = script_files(dir)?;
    let shared = HostOptions::new(dir).shared(Arc::new(Offline));
    let mut errors = Vec::new();
    for path in &files {
        match ScriptHandle::start(path, &shared).await {
            Ok(s) => s.unload(Duration::from_millis(100)).await,
            Err(e) => errors.push(e),
        }
    }
    Ok((files.len(), errors))
}

/// What happened to a script, for whoever watches the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostEvent {
    /// A script was loaded for the first time.
    Loaded(String),
    /// A new version replaced the running one.
    Reloaded(String),
    /// A new version failed to load; the running one stays.
    Refused(String),
    /// A script that was not running failed to load.
    Failed(String),
    /// A script's file was removed and the script unloaded.
    Unloaded(String),
}

/// A host running as a task: it dispatches the link's events and reloads changed scripts.
pub struct RunningHost {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    /// Loads, reloads and refusals as they happen.
    pub events: mpsc::UnboundedReceiver<HostEvent>,
}

impl RunningHost {
    /// Start a host for `adapter` fed from `link`; `ready` hears the loaded scripts' names.
    pub fn spawn(
        opts: HostOptions,
        adapter: Arc<dyn Adapter>,
        link: mpsc::Receiver<LinkEvent>,
    ) -> (Self, oneshot::Receiver<Vec<String>>) {
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = oneshot::channel();
        let (events_tx, events) = mpsc::unbounded_channel();
        let inline = opts.inline;
        let life = async move {
            let mut host = Host::start_with_events(opts, adapter, Some(events_tx)).await;
            host.watch_files();
            let _ = ready_tx.send(host.script_names());
            host.run(link, async {
                let _ = stop_rx.await;
            })
            .await;
        };
        // Inline scripts are tasks of the current `LocalSet`, so the host must be one too.
        let task = if inline { tokio::task::spawn_local(life) } else { tokio::spawn(life) };
        (Self { stop: Some(stop_tx), task, events }, ready_rx)
    }

    /// Unload the scripts and wait for the host to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}
