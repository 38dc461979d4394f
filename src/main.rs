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
        /// The configuration file, validated too when it exists.
        #[arg(long, default_value = "mahua.toml")]
        config: PathBuf,
    },
    /// Run the scripts against the built-in simulator and chat with the bot in the terminal.
    Sandbox {
        /// The scripts folder.
        #[arg(default_value = "scripts")]
        dir: PathBuf,
        /// Talk to the simulator over OneBot v11, as on NapCat, instead of mirai-api-http.
        #[arg(long)]
        onebot: bool,
    },
    /// Print what a running bot is doing: its connection, send queue and scripts.
    Status {
        /// The configuration file; `listen` and `token` of [admin] say where to ask.
        #[arg(long, default_value = "mahua.toml")]
        config: PathBuf,
        /// The admin endpoint, e.g. http://127.0.0.1:9180 (instead of the configuration's).
        #[arg(long)]
        url: Option<String>,
        /// The admin token (instead of the configuration's or MAHUA_ADMIN_TOKEN).
        #[arg(long)]
        token: Option<String>,
        /// Print the JSON as served instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Make a new bot folder: a config, a script, its test and the editor's annotations.
    Init {
        /// The folder; made if missing.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Run the bot's Lua tests against the simulator, in virtual time.
    Test {
        /// Test files or folders of them.
        #[arg(default_value = "tests")]
        paths: Vec<PathBuf>,
        /// The scripts folder the tests load from.
        #[arg(long, default_value = "scripts")]
        scripts: PathBuf,
        /// Run the tests again whenever a script or a test is saved.
        #[arg(long)]
        watch: bool,
    },
    /// Copy the scripts' store out as JSON lines, or back in: to back it up or to move it
    /// from SQLite to Redis.
    Store {
        #[command(subcommand)]
        action: StoreAction,
        /// The configuration file; [store] and `data_dir` of [scripts] say where the data is.
        #[arg(long, default_value = "mahua.toml", global = true)]
        config: PathBuf,
    },
    /// Serve a simulated server (mirai-api-http 2.x or 1.x, or OneBot v11) for any client to try.
    Sim {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The verify key clients must send.
        #[arg(long)]
        verify_key: Option<String>,
        /// The bot account's QQ number.
        #[arg(long)]
        qq: Option<i64>,
        /// Speak the mirai-api-http 1.x dialect (HTTP only) instead of 2.x.
        #[arg(long, conflicts_with = "onebot")]
        v1: bool,
        /// Serve OneBot v11 forward WebSocket (any path) instead of mirai-api-http.
        #[arg(long)]
        onebot: bool,
        /// OneBot: the access token clients must send (and the one sent when dialing).
        #[arg(long)]
        access_token: Option<String>,
        /// OneBot: also dial this reverse-WebSocket listener (e.g. ws://127.0.0.1:8081/), as a server does.
        #[arg(long)]
        reverse: Option<String>,
    },
}

#[derive(Subcommand)]
enum StoreAction {
    /// Write every key of every script, and the shared ones, as JSON lines.
    Dump {
        /// The file to write; standard output when absent.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Read JSON lines written by `dump` into the store; a bad line loads nothing.
    Load {
        /// The file to read; standard input when absent.
        file: Option<PathBuf>,
    },
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAHUA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour is for a person at a terminal: a file or a service manager's journal gets plain
    // text, and so does anyone who sets NO_COLOR (https://no-color.org).
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && !no_color;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(mahua::cli::sandbox::LogOutput)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // In the sandbox the chat is the output: keep the log to what goes wrong and what scripts say.
    let quiet = matches!(cli.command, None | Some(Command::Sandbox { .. }));
    // In tests the results are the output: failures carry the scripts' errors already.
    let testing = matches!(cli.command, Some(Command::Test { .. }));
    init_logging(if testing {
        "off"
    } else if quiet {
        "warn,script=info"
    } else {
        "info"
    });
    // The link, the host and the send queue are light work; the scripts run on threads of
    // their own. One worker leaves the cores to the scripts instead of competing with them.
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("error: cannot start the runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
    let result = match cli.command {
        Some(Command::Run { config }) => runtime.block_on(mahua::cli::run(&config)),
        Some(Command::Check { dir, config }) => runtime.block_on(mahua::cli::check(&dir, &config)),
        Some(Command::Status { config, url, token, json }) => {
            runtime.block_on(mahua::cli::status(&config, url, token, json))
        }
        Some(Command::Sandbox { dir, onebot }) => {
            runtime.block_on(mahua::cli::sandbox(&dir, onebot))
        }
        Some(Command::Sim { port, verify_key, qq, v1, onebot, access_token, reverse }) => runtime
            .block_on(mahua::cli::sim(port, verify_key, qq, v1, onebot, access_token, reverse)),
        Some(Command::Init { dir }) => mahua::cli::init::init(&dir),
        Some(Command::Test { paths, scripts, watch }) => {
            mahua::cli::test(mahua::testing::TestOptions { paths, scripts_dir: scripts }, watch)
        }
        Some(Command::Store { action: StoreAction::Dump { out }, config }) => {
            mahua::cli::store::dump(&config, out.as_deref())
        }
        Some(Command::Store { action: StoreAction::Load { file }, config }) => {
            mahua::cli::store::load(&config, file.as_deref())
        }
        None => runtime.block_on(mahua::cli::sandbox(&PathBuf::from("scripts"), false)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
