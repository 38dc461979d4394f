//! What the subcommands do, kept out of `main.rs` so tests can call them.

pub mod init;
pub mod sandbox;
pub mod store;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context as _};

use std::time::Duration;

use tokio::sync::mpsc;

use crate::adapter::http::{HttpAdapter, HttpOptions};
use crate::adapter::onebot::OneBotAdapter;
use crate::adapter::sendq::SendQueue;
use crate::adapter::ws::{WsAdapter, WsOptions};
use crate::adapter::{Adapter, LinkEvent};
use crate::admin;
use crate::config::{AdapterKind, Config, Connection, ProtocolVersion, Secret};
use crate::host::{self, HostOptions, RunningHost};
use crate::metrics::Metrics;
use crate::sim::SimConfig;

/// Resolve when Ctrl-C or SIGTERM arrives.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Connect with the adapter the configuration names.
pub async fn connect(
    cfg: &Config,
    path: &Path,
) -> anyhow::Result<(Arc<dyn Adapter>, mpsc::Receiver<LinkEvent>)> {
    let m = match cfg.connection() {
        Connection::Mirai(m) => m,
        Connection::OneBot(o) => {
            let (a, link) = OneBotAdapter::connect(o.options(path)?).await?;
            return Ok((a as Arc<dyn Adapter>, link));
        }
    };
    Ok(match m.adapter {
        AdapterKind::Ws => {
            if m.protocol == ProtocolVersion::V1 {
                bail!("protocol = \"v1\" in {} needs adapter = \"http\": 1.x servers have no ws adapter", path.display());
            }
            let mut opts = WsOptions::new(m.url.clone(), m.verify_key.clone(), m.qq);
            opts.call_timeout = m.call_timeout();
            let (a, link) = WsAdapter::connect(opts).await?;
            (a as Arc<dyn Adapter>, link)
        }
        AdapterKind::Http => {
            let mut opts = HttpOptions::new(m.url.clone(), m.verify_key.clone(), m.qq);
            opts.call_timeout = m.call_timeout();
            opts.protocol = m.protocol;
            opts.poll_interval = Duration::from_millis(m.poll_interval_ms);
            opts.poll_count = m.poll_count;
            let (a, link) = HttpAdapter::connect(opts).await?;
            (a as Arc<dyn Adapter>, link)
        }
    })
}

/// `mahua run`: connect with the configuration in `path` and run the scripts until stopped.
pub async fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(path)?;
    let metrics = Metrics::new();
    let admin = match cfg.admin.listen_addr(path)? {
        Some(addr) => Some(admin::serve(addr, cfg.admin.token().cloned(), metrics.clone()).await?),
        None => None,
    };
    let (raw, link) = connect(&cfg, path).await?;
    let adapter: Arc<dyn Adapter> = SendQueue::new(raw, cfg.send.options(), metrics.clone());
    let digest = cfg.admin.owner.map(|owner| {
        let every = Duration::from_millis(cfg.admin.digest_interval_ms);
        admin::digest::spawn(owner, every, metrics.clone(), adapter.clone())
    });
    let mut opts = cfg.host_options();
    opts.metrics = metrics;
    let store = cfg.open_store()?;
    tracing::info!("store: {}", store.describe());
    opts.store = Some(store);
    let (host, ready) = RunningHost::spawn(opts, adapter.clone(), link);
    if let Ok(names) = ready.await {
        tracing::info!("running {} script(s): {}", names.len(), names.join(", "));
    }
    shutdown_signal().await;
    tracing::info!("stopping: unloading the scripts (a second Ctrl-C stops at once)");
    let stopping = async {
        host.stop().await;
        if let Some(d) = digest {
            d.abort();
        }
        drop(admin);
        adapter.shutdown().await;
    };
    tokio::select! {
        () = stopping => tracing::info!("stopped"),
        () = shutdown_signal() => tracing::warn!("stopped at once, before every script was unloaded"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `mahua status`: print the status of the bot running with the configuration in `path`,
/// or of the admin endpoint at `url`.
pub async fn status(
    path: &Path,
    url: Option<String>,
    token: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let admin = Config::load_admin(path)?;
    let base = match (url, admin.listen) {
        (Some(u), _) | (None, Some(u)) => u,
        (None, None) => bail!(
            "no admin endpoint: set `listen` in [admin] of {} (and run the bot with it), or pass --url",
            path.display()
        ),
    };
    let token = token.map(Secret::new).or(admin.token);
    let url = admin::status::status_url(&base);
    let snapshot = admin::status::fetch(&url, token.as_ref()).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&snapshot)?);
    } else {
        print!("{}", admin::status::table(&snapshot));
    }
    Ok(ExitCode::SUCCESS)
}

/// `mahua check`: validate the configuration at `config` (when the file exists) and load
/// every script without connecting; non-zero exit on any error.
pub async fn check(dir: &Path, config: &Path) -> anyhow::Result<ExitCode> {
    let config_ok = if config.exists() {
        match Config::load(config) {
            Ok(cfg) => {
                let server = match cfg.connection() {
                    Connection::Mirai(m) => format!("mirai-api-http at {}", m.url),
                    Connection::OneBot(o) => match (&o.url, &o.listen) {
                        (Some(url), _) => format!("OneBot v11 at {url}"),
                        (None, listen) => format!(
                            "OneBot v11 connecting to {}",
                            listen.as_deref().unwrap_or_default()
                        ),
                    },
                };
                println!("{}: valid ({server})", config.display());
                true
            }
            Err(e) => {
                eprintln!("{e}");
                false
            }
        }
    } else {
        true
    };
    let (count, errors) = host::check(dir)
        .await
        .with_context(|| format!("cannot read the scripts folder {}", dir.display()))?;
    for e in &errors {
        eprintln!("{e}");
    }
    println!("{count} script(s) checked, {} with errors", errors.len());
    Ok(if errors.is_empty() && config_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `mahua sim`: serve the simulator until Ctrl-C.
pub async fn sim(
    port: u16,
    verify_key: Option<String>,
    qq: Option<i64>,
    v1: bool,
    onebot: bool,
    access_token: Option<String>,
    reverse: Option<String>,
) -> anyhow::Result<ExitCode> {
    let mut cfg = SimConfig { access_token, ..SimConfig::default() };
    if v1 {
        cfg.protocol = crate::sim::SimProtocol::V1 { wrapped_fetch: true };
    }
    if onebot {
        cfg.protocol = crate::sim::SimProtocol::OneBot;
    }
    if let Some(k) = verify_key {
        cfg.verify_key = k;
    }
    if let Some(q) = qq {
        cfg.qq = q;
    }
    crate::sim::serve(cfg, port, reverse).await?;
    Ok(ExitCode::SUCCESS)
}

/// `mahua sandbox`: the scripts of `dir` against the simulator (over OneBot with `onebot`),
/// with a terminal chat.
pub async fn sandbox(dir: &Path, onebot: bool) -> anyhow::Result<ExitCode> {
    sandbox::run(HostOptions::new(dir), onebot).await?;
    Ok(ExitCode::SUCCESS)
}

/// `mahua test`: run the tests once, or with `watch` again after every save.
pub fn test(opts: crate::testing::TestOptions, watch: bool) -> anyhow::Result<ExitCode> {
    let run = || -> anyhow::Result<bool> {
        let summary = crate::testing::run(&opts, &mut std::io::stdout().lock())?;
        Ok(summary.failed == 0)
    };
    let passed = run()?;
    if !watch {
        return Ok(if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE });
    }
    let mut dirs = vec![opts.scripts_dir.clone()];
    dirs.extend(opts.paths.iter().map(|p| {
        if p.is_dir() {
            p.clone()
        } else {
            p.parent().map(Path::to_owned).unwrap_or_default()
        }
    }));
    let (tx, rx) = std::sync::mpsc::channel();
    let mut debouncer =
        notify_debouncer_full::new_debouncer(Duration::from_millis(100), None, move |res| {
            let _ = tx.send(res);
        })?;
    for d in &dirs {
        let d = if d.as_os_str().is_empty() { Path::new(".") } else { d.as_path() };
        debouncer.watch(d, notify::RecursiveMode::Recursive)?;
    }
    println!(
        "watching {}; Ctrl-C stops",
        dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
    );
    for res in rx {
        let Ok(events) = res else { continue };
        let lua_changed = events
            .iter()
            .flat_map(|e| e.paths.iter())
            .any(|p| p.extension().is_some_and(|x| x == "lua"));
        if lua_changed {
            println!();
            if let Err(e) = run() {
                eprintln!("error: {e:#}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
