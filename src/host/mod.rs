//! The script host: loads `scripts/*.lua`, hands each event to the scripts that want it.

pub mod callback;
pub mod limits;
pub mod sandbox;
pub mod script;
pub mod subscriptions;
pub mod targets;
pub mod tasks;
pub mod watch;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::adapter::{Adapter, LinkEvent, Offline};
use limits::Limits;
use script::{hash_source, script_name, Delivery, LoadError, Script, Shared};
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
        }
    }

    fn shared(&self, adapter: Arc<dyn Adapter>) -> Shared {
        Shared {
            adapter,
            targets: Rc::new(RefCell::new(TargetCache::default())),
            lib_dir: self.scripts_dir.join("lib"),
            data_dir: self.data_dir.clone(),
            trusted: self.trusted.clone().into(),
            limits: self.limits,
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
    scripts: BTreeMap<String, Script>,
    /// Unloads of replaced versions still finishing.
    retiring: tokio::task::JoinSet<()>,
}

impl Host {
    /// Load every script; one that fails is logged and left out.
    pub async fn start(opts: HostOptions, adapter: Arc<dyn Adapter>) -> Self {
        let shared = opts.shared(adapter);
        let mut host =
            Self { opts, shared, scripts: BTreeMap::new(), retiring: tokio::task::JoinSet::new() };
        let files = match script_files(&host.opts.scripts_dir) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(
                    "cannot read the scripts folder {}: {e}",
                    host.opts.scripts_dir.display()
                );
                Vec::new()
            }
        };
        for path in files {
            host.reload(&script_name(&path), false).await;
        }
        if host.scripts.is_empty() {
            tracing::warn!(
                "no scripts running; put a .lua file in {}",
                host.opts.scripts_dir.display()
            );
        }
        host
    }

    /// Bring the script `name` in line with its file: load, reload or unload it.
    /// A version that fails to load is reported and the running one kept.
    pub async fn reload(&mut self, name: &str, force: bool) {
        let path = self.opts.scripts_dir.join(name);
        let started = Instant::now();
        let source = match tokio::fs::read(&path).await {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(old) = self.scripts.remove(name) {
                    self.retire(old);
                    tracing::info!(script = name, "unloaded (file removed)");
                }
                return;
            }
            Err(e) => {
                tracing::error!(
                    script = name,
                    "cannot read {}: {e}; the running version stays",
                    path.display()
                );
                return;
            }
        };
        let old_hash = self.scripts.get(name).map(|s| s.source_hash);
        if !force && old_hash == Some(hash_source(&source)) {
            return;
        }
        match Script::load(&path, &self.shared).await {
            Ok(new) => {
                new.deliver(Delivery::Lifecycle("load", json!({})));
                let took = started.elapsed();
                match self.scripts.insert(name.to_owned(), new) {
                    Some(old) => {
                        self.retire(old);
                        tracing::info!(
                            script = name,
                            "reloaded in {:.1} ms",
                            took.as_secs_f64() * 1e3
                        );
                    }
                    None => tracing::info!(
                        script = name,
                        "loaded in {:.1} ms",
                        took.as_secs_f64() * 1e3
                    ),
                }
            }
            Err(e) if old_hash.is_some() => {
                tracing::error!(
                    script = name,
                    "new version refused, the running version stays: {e}"
                );
            }
            Err(e) => tracing::error!(script = name, "failed to load: {e}"),
        }
    }

    /// Unload a replaced or removed version in the background.
    fn retire(&mut self, old: Script) {
        let grace = self.opts.unload_grace;
        while self.retiring.try_join_next().is_some() {}
        self.retiring.spawn_local(old.unload(grace));
    }

    /// Reload what a batch of changed files touches: scripts, and the scripts using changed modules.
    pub async fn apply_changes(&mut self, paths: &[PathBuf]) {
        let dir = canonical(&self.opts.scripts_dir);
        let lib = dir.join("lib");
        let mut direct = BTreeSet::new();
        let mut via_lib = BTreeSet::new();
        for p in paths {
            let p = canonical(p);
            if p.parent() == Some(dir.as_path()) {
                direct.insert(script_name(&p));
            } else if let Ok(rel) = p.strip_prefix(&lib) {
                for (name, s) in &self.scripts {
                    let uses = s
                        .deps
                        .borrow()
                        .iter()
                        .any(|d| d.strip_prefix(&self.shared.lib_dir).is_ok_and(|r| r == rel));
                    if uses {
                        via_lib.insert(name.clone());
                    }
                }
            }
        }
        for name in &direct {
            self.reload(name, false).await;
        }
        for name in via_lib.difference(&direct) {
            tracing::info!(script = &**name, "a module it requires changed");
            self.reload(name, true).await;
        }
    }

    /// The names of the loaded scripts.
    #[must_use]
    pub fn script_names(&self) -> Vec<String> {
        self.scripts.keys().cloned().collect()
    }

    /// Hand one thing from the link to the scripts.
    pub fn dispatch(&self, ev: LinkEvent) {
        match ev {
            LinkEvent::Event(ev) => {
                if let (Some(id), Some(conv)) = (ev.message_id(), ev.conversation()) {
                    self.shared.targets.borrow_mut().record(id, conv);
                }
                let ty = ev.kind().to_owned();
                let ev = Rc::new(ev);
                for s in self.scripts.values().filter(|s| s.wants(&ty)) {
                    s.deliver(Delivery::Event(ev.clone()));
                }
            }
            LinkEvent::Connected { gap } => {
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
        let mut watcher = if self.opts.hot_reload {
            match watch::watch(&self.opts.scripts_dir, self.opts.debounce) {
                Ok(w) => Some(w),
                Err(e) => {
                    tracing::warn!(
                        "cannot watch {} for changes ({e}); edits need a restart",
                        self.opts.scripts_dir.display()
                    );
                    None
                }
            }
        } else {
            None
        };
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(paths) = next_change(&mut watcher) => self.apply_changes(&paths).await,
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
        let grace = self.opts.unload_grace;
        for (name, s) in std::mem::take(&mut self.scripts) {
            s.unload(grace).await;
            tracing::info!(script = &*name, "unloaded");
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
    let local = tokio::task::LocalSet::new();
    let mut errors = Vec::new();
    for path in &files {
        match local.run_until(Script::load(path, &shared)).await {
            Ok(s) => local.run_until(s.unload(Duration::from_millis(100))).await,
            Err(e) => errors.push(e),
        }
    }
    Ok((files.len(), errors))
}

/// A host running on a thread of its own (Lua states stay on one thread).
pub struct HostThread {
    stop: Option<oneshot::Sender<()>>,
    done: oneshot::Receiver<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HostThread {
    /// Start a host for `adapter` and feed it from `link`; `ready` hears the loaded scripts' names.
    pub fn spawn(
        opts: HostOptions,
        adapter: Arc<dyn Adapter>,
        link: mpsc::Receiver<LinkEvent>,
    ) -> std::io::Result<(Self, oneshot::Receiver<Vec<String>>)> {
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (done_tx, done_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let thread = std::thread::Builder::new().name("mahua-host".into()).spawn(move || {
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, async move {
                let host = Host::start(opts, adapter).await;
                let _ = ready_tx.send(host.script_names());
                host.run(link, async {
                    let _ = stop_rx.await;
                })
                .await;
            });
            let _ = done_tx.send(());
        })?;
        Ok((Self { stop: Some(stop_tx), done: done_rx, thread: Some(thread) }, ready_rx))
    }

    /// Unload the scripts and wait for the thread to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.done).await;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
