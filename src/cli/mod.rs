//! What the subcommands do, kept out of `main.rs` so tests can call them.

pub mod sandbox;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context as _};

use crate::adapter::ws::{WsAdapter, WsOptions};
use crate::adapter::Adapter;
use crate::config::{AdapterKind, Config};
use crate::host::{self, HostOptions, RunningHost};
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

/// `mahua run`: connect with the configuration in `path` and run the scripts until stopped.
pub async fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(path)?;
    if cfg.mirai.adapter == AdapterKind::Http {
        bail!(
            "adapter = \"http\" in {} is not supported by this version; use adapter = \"ws\"",
            path.display()
        );
    }
    let mut opts =
        WsOptions::new(cfg.mirai.url.clone(), cfg.mirai.verify_key.clone(), cfg.mirai.qq);
    opts.call_timeout = cfg.mirai.call_timeout();
    let (adapter, link) = WsAdapter::connect(opts).await?;
    let adapter: Arc<dyn Adapter> = adapter;
    let host_opts = cfg.host_options();
    let (host, ready) = RunningHost::spawn(host_opts, adapter.clone(), link);
    if let Ok(names) = ready.await {
        tracing::info!("running {} script(s): {}", names.len(), names.join(", "));
    }
    shutdown_signal().await;
    tracing::info!("stopping");
    host.stop().await;
    adapter.shutdown();
    Ok(ExitCode::SUCCESS)
}

/// `mahua check`: load every script without connecting; non-zero exit on any error.
pub async fn check(dir: &Path) -> anyhow::Result<ExitCode> {
    let (count, errors) = host::check(dir)
        .await
        .with_context(|| format!("cannot read the scripts folder {}", dir.display()))?;
    for e in &errors {
        eprintln!("{e}");
    }
    println!("{count} script(s) checked, {} with errors", errors.len());
    Ok(if errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `mahua sim`: serve the simulator until Ctrl-C.
pub async fn sim(
    port: u16,
    verify_key: Option<String>,
    qq: Option<i64>,
) -> anyhow::Result<ExitCode> {
    let mut cfg = SimConfig::default();
    if let Some(k) = verify_key {
        cfg.verify_key = k;
    }
    if let Some(q) = qq {
        cfg.qq = q;
    }
    crate::sim::serve(cfg, port).await?;
    Ok(ExitCode::SUCCESS)
}

/// `mahua sandbox`: the scripts of `dir` against the simulator, with a terminal chat.
pub async fn sandbox(dir: &Path) -> anyhow::Result<ExitCode> {
    sandbox::run(HostOptions::new(dir)).await?;
    Ok(ExitCode::SUCCESS)
}
