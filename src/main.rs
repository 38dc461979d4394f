//! The `mahua` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run QQ bots written in Lua against a mirai-api-http server.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Connect to the server and run the scripts.
    Run {
        /// The configuration file.
        #[arg(long, default_value = "mahua.toml")]
        config: PathBuf,
    },
    /// Load every script without connecting and report every error.
    Check {
        /// The scripts folder.
        #[arg(default_value = "scripts")]
        dir: PathBuf,
    },
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAHUA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).init();
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Some(Command::Run { config }) => runtime.block_on(mahua::cli::run(&config)),
        Some(Command::Check { dir }) => runtime.block_on(mahua::cli::check(&dir)),
        None => runtime.block_on(mahua::cli::run(&PathBuf::from("mahua.toml"))),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
