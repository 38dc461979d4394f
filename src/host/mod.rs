//! The script host: loads `scripts/*.lua`, hands each event to the scripts that want it.

pub mod callback;
pub mod script;
pub mod subscriptions;
pub mod targets;
pub mod tasks;

use std::cell::RefCell;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::adapter::{Adapter, LinkEvent, Offline};
use script::{Delivery, LoadError, Script, Shared};
use targets::TargetCache;

/// How the host finds and treats scripts.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// The scripts folder; `lib/` inside it holds modules for `require`.
    pub scripts_dir: PathBuf,
    /// How long `unload` handlers and running callbacks get when a script stops.
    pub unload_grace: Duration,
}

impl HostOptions {
    /// Options for a scripts folder.
    #[must_use]
    pub fn new(scripts_dir: impl Into<PathBuf>) -> Self {
        Self {
            scripts_dir: scripts_dir.into(),
            unload_grace: Duration::from_secs(5),
        }
    }
}

/// The `*.lua` files directly in `dir`, sorted (not `lib/`, not hidden files).
pub fn script_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "lua"))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The running scripts of one bot.
pub struct Host {
    opts: HostOptions,
    shared: Shared,
    scripts: Vec<Script>,
}

impl Host {
    /// Load every script; one that fails is logged and left out.
    pub async fn start(opts: HostOptions, adapter: Arc<dyn Adapter>) -> Self {
        let shared = Shared {
            adapter,
            targets: Rc::new(RefCell::new(TargetCache::default())),
            lib_dir: opts.scripts_dir.join("lib"),
        };
        let mut host = Self {
            opts,
            shared,
            scripts: Vec::new(),
        };
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
            match Script::load(&path, &host.shared).await {
                Ok(s) => {
                    tracing::info!(script = &*s.name, "loaded");
                    s.deliver(Delivery::Lifecycle("load", json!({})));
                    host.scripts.push(s);
                }
                Err(e) => tracing::error!("failed to load {}: {e}", path.display()),
            }
        }
        if host.scripts.is_empty() {
            tracing::warn!(
                "no scripts running; put a .lua file in {}",
                host.opts.scripts_dir.display()
            );
        }
        host
    }

    /// The names of the loaded scripts.
    #[must_use]
    pub fn script_names(&self) -> Vec<String> {
        self.scripts.iter().map(|s| s.name.to_string()).collect()
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
                for s in self.scripts.iter().filter(|s| s.wants(&ty)) {
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
        for s in &self.scripts {
            s.deliver(Delivery::Lifecycle(what, arg.clone()));
        }
    }

    /// Dispatch from the link until it ends or `shutdown` resolves, then unload.
    pub async fn run(
        self,
        mut link: mpsc::Receiver<LinkEvent>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                ev = link.recv() => match ev {
                    Some(ev) => self.dispatch(ev),
                    None => break,
                },
            }
        }
        self.stop().await;
    }

    /// Unload every script: `unload` handlers run, then their tasks stop.
    pub async fn stop(self) {
        let grace = self.opts.unload_grace;
        for s in self.scripts {
            let name = s.name.clone();
            s.unload(grace).await;
            tracing::info!(script = &*name, "unloaded");
        }
    }
}

/// Load every script of `dir` without a server; the errors, one per failed file.
pub async fn check(dir: &Path) -> std::io::Result<(usize, Vec<LoadError>)> {
    let files = script_files(dir)?;
    let shared = Shared {
        adapter: Arc::new(Offline),
        targets: Rc::new(RefCell::new(TargetCache::default())),
        lib_dir: dir.join("lib"),
    };
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
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("mahua-host".into())
            .spawn(move || {
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
        Ok((
            Self {
                stop: Some(stop_tx),
                done: done_rx,
                thread: Some(thread),
            },
            ready_rx,
        ))
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
