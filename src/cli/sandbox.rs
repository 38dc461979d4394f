//! `mahua sandbox`: the scripts against the built-in simulator, with a chat in the terminal.

use std::io::{IsTerminal as _, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustyline::ExternalPrinter as _;
use serde_json::Value;
use tokio::sync::mpsc;
use tracing_subscriber::fmt::MakeWriter;

use crate::adapter::onebot::{Mode, OneBotAdapter, OneBotOptions};
use crate::adapter::sendq::{SendOptions, SendQueue};
use crate::adapter::ws::{WsAdapter, WsOptions};
use crate::adapter::Adapter;
use crate::config::Secret;
use crate::host::{HostOptions, RunningHost};
use crate::sim::world::World;
use crate::sim::{SentMessage, Sim, SimConfig, SimProtocol, DEFAULT_FRIEND, DEFAULT_GROUP};

/// Who the user speaks as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    /// A friend of the bot.
    Friend(i64),
    /// A member of a group.
    Member {
        /// The group.
        group: i64,
        /// The member's QQ number.
        qq: i64,
    },
}

/// One line the user typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Say something as the current speaker.
    Say(String),
    /// Speak as a friend from now on.
    AsFriend(Option<i64>),
    /// Speak in a group from now on, as a member.
    InGroup(Option<i64>, Option<i64>),
    /// Nudge the bot.
    Nudge,
    /// Someone joins the current group.
    Join(i64),
    /// Someone asks to be the bot's friend.
    FriendRequest(i64, String),
    /// Show the commands.
    Help,
    /// Leave.
    Quit,
    /// Nothing to do.
    Empty,
    /// A command that was not understood.
    Unknown(String),
}

/// The sandbox's own commands, for `:help`. They start with `:` so that `/help`,
/// `/roll` and the like go to the bot.
const HELP: &str = "  \
  text                  say it to the bot (as a friend, or in the group)
  :friend [qq]          talk to the bot as a friend
  :group [id] [as qq]   talk in a group, as a member
  :nudge                nudge the bot
  :join <qq>            someone joins the group
  :request <qq> [text]  someone asks to be the bot's friend
  :help, :quit";

/// Understand one typed line.
#[must_use]
pub fn parse(line: &str) -> Input {
    let line = line.trim_end();
    let Some(cmd) = line.strip_prefix(':') else {
        return if line.trim().is_empty() { Input::Empty } else { Input::Say(line.to_owned()) };
    };
    let mut words = cmd.split_whitespace();
    let name = words.next().unwrap_or_default();
    let num = |w: Option<&str>| w.and_then(|w| w.parse::<i64>().ok());
    match name {
        "friend" | "f" => Input::AsFriend(num(words.next())),
        "group" | "g" => {
            let group = num(words.next());
            let qq = match words.next() {
                Some("as") => num(words.next()),
                other => num(other),
            };
            Input::InGroup(group, qq)
        }
        "nudge" => Input::Nudge,
        "join" => num(words.next()).map_or_else(|| Input::Unknown(line.to_owned()), Input::Join),
        "request" => match num(words.next()) {
            Some(qq) => Input::FriendRequest(qq, words.collect::<Vec<_>>().join(" ")),
            None => Input::Unknown(line.to_owned()),
        },
        "help" | "?" => Input::Help,
        "quit" | "exit" | "q" => Input::Quit,
        _ => Input::Unknown(line.to_owned()),
    }
}

/// A member's or friend's display name, when the world knows it.
fn name_of(world: &World, group: Option<i64>, qq: i64) -> String {
    let member = group.and_then(|g| world.member(g, qq)).map(|m| m.name.clone());
    member
        .or_else(|| world.friend(qq).map(|f| f.nickname.clone()))
        .unwrap_or_else(|| qq.to_string())
}

/// A chain as one readable line: `@name`, `[image: url]`, quotes as `> …`.
#[must_use]
pub fn render(chain: &Value, world: &World, group: Option<i64>) -> String {
    let mut out = String::new();
    for e in chain.as_array().into_iter().flatten() {
        let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let n = |k: &str| e.get(k).and_then(Value::as_i64).unwrap_or_default();
        let part = match e.get("type").and_then(Value::as_str).unwrap_or_default() {
            "Source" => String::new(),
            "Plain" => s("text"),
            "At" => format!("@{}", name_of(world, group, n("target"))),
            "AtAll" => "@all".into(),
            "Face" => format!(
                "[face {}]",
                e.get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| n("faceId").to_string(), str::to_owned)
            ),
            "Image" | "FlashImage" => {
                let what = [s("url"), s("imageId"), s("path")]
                    .into_iter()
                    .find(|x| !x.is_empty())
                    .unwrap_or_default();
                format!("[image: {what}]")
            }
            "Voice" => "[voice]".into(),
            "Quote" => {
                format!("> {}\n", render(e.get("origin").unwrap_or(&Value::Null), world, group))
            }
            "Poke" => format!("[poke {}]", s("name")),
            "Dice" => format!("[dice {}]", n("value")),
            "MusicShare" => format!("[music: {}]", s("title")),
            "Forward" => "[forwarded messages]".into(),
            "File" => format!("[file: {}]", s("name")),
            other => format!("[{other}]"),
        };
        out.push_str(&part);
    }
    out
}

/// One line for a message the bot sent.
fn describe(m: &SentMessage, world: &World) -> String {
    let (to, group) = match m.command.as_str() {
        "sendGroupMessage" => (format!("group {}", m.target), Some(m.target)),
        "sendTempMessage" => (format!("{} (temp)", name_of(world, m.group, m.target)), m.group),
        _ => (name_of(world, None, m.target), None),
    };
    format!("bot → {to}: {}", render(&m.chain, world, group))
}

fn prompt(world: &World, who: Speaker) -> String {
    match who {
        Speaker::Friend(qq) => format!("{}> ", name_of(world, None, qq)),
        Speaker::Member { group, qq } => {
            format!("{} in group {group}> ", name_of(world, Some(group), qq))
        }
    }
}

/// Act on one input; false means leave.
fn act(sim: &Sim, who: &mut Speaker, input: Input, say: &dyn Fn(String)) -> bool {
    match input {
        Input::Say(text) => {
            match *who {
                Speaker::Friend(qq) => sim.friend_message(qq, Value::from(text)),
                Speaker::Member { group, qq } => sim.group_message(group, qq, Value::from(text)),
            };
        }
        Input::AsFriend(qq) => *who = Speaker::Friend(qq.unwrap_or(DEFAULT_FRIEND)),
        Input::InGroup(group, qq) => {
            let group = group.unwrap_or(DEFAULT_GROUP);
            let qq = qq.or(match *who {
                Speaker::Member { qq, .. } => Some(qq),
                Speaker::Friend(_) => None,
            });
            *who = Speaker::Member { group, qq: qq.unwrap_or(DEFAULT_FRIEND) };
        }
        Input::Nudge => {
            let bot = sim.config().qq;
            match *who {
                Speaker::Friend(qq) => sim.nudge(qq, bot, None),
                Speaker::Member { group, qq } => sim.nudge(qq, bot, Some(group)),
            }
        }
        Input::Join(qq) => {
            let group = match *who {
                Speaker::Member { group, .. } => group,
                Speaker::Friend(_) => DEFAULT_GROUP,
            };
            sim.member_join(group, qq);
            say(format!("* {qq} joined group {group}"));
        }
        Input::FriendRequest(qq, text) => {
            let id = sim.new_friend_request(qq, &text);
            say(format!("* {qq} asks to be friends (event {id})"));
        }
        Input::Help => say(HELP.to_owned()),
        Input::Unknown(line) => say(format!("not understood: {line} (try :help)")),
        Input::Empty => {}
        Input::Quit => return false,
    }
    true
}

/// Prints a line above the prompt.
type Printer = Box<dyn FnMut(String) + Send>;

/// The name of the thread that reads the prompt.
const PROMPT_THREAD: &str = "mahua-prompt";

/// Where log lines go while the chat's prompt is open: to the thread that prints above it.
/// The log is process-wide, like the subscriber that writes it, so this switch is too.
static ABOVE_PROMPT: Mutex<Option<std::sync::mpsc::Sender<String>>> = Mutex::new(None);

/// Where log lines go: standard error, or above the sandbox's prompt while it is open, so that
/// a line being typed stays whole.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogOutput;

/// One log line on its way out through [`LogOutput`].
pub struct LogLine(Sink);

enum Sink {
    Stderr(std::io::StderrLock<'static>),
    AbovePrompt(std::sync::mpsc::Sender<String>, Vec<u8>),
}

impl<'a> MakeWriter<'a> for LogOutput {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        // rustyline logs (at debug) each time it redraws the prompt, as it does for every line
        // printed above it: its lines go straight out, or each would print the next.
        let above = if std::thread::current().name() == Some(PROMPT_THREAD) {
            None
        } else {
            ABOVE_PROMPT.lock().ok().and_then(|p| p.clone())
        };
        LogLine(match above {
            Some(p) => Sink::AbovePrompt(p, Vec::new()),
            None => Sink::Stderr(std::io::stderr().lock()),
        })
    }
}

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.0 {
            Sink::Stderr(e) => e.write(buf),
            Sink::AbovePrompt(_, text) => {
                text.extend_from_slice(buf);
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.0 {
            Sink::Stderr(e) => e.flush(),
            Sink::AbovePrompt(..) => Ok(()),
        }
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if let Sink::AbovePrompt(printer, text) = &mut self.0 {
            let text = String::from_utf8_lossy(text);
            let _ = printer.send(text.trim_end_matches('\n').to_owned());
        }
    }
}

/// Log lines go above the prompt while this lives.
struct LogAbovePrompt;

impl LogAbovePrompt {
    fn install(printer: std::sync::mpsc::Sender<String>) -> Self {
        if let Ok(mut p) = ABOVE_PROMPT.lock() {
            *p = Some(printer);
        }
        Self
    }
}

impl Drop for LogAbovePrompt {
    fn drop(&mut self) {
        if let Ok(mut p) = ABOVE_PROMPT.lock() {
            *p = None;
        }
    }
}

/// Read lines with editing and history on a thread of their own. Each line read goes to
/// `lines`; the next one is read with the prompt that `prompts` sends then, and `None` or a
/// closed channel ends the reading, so the terminal is left as it was found.
fn read_lines(
    prompts: std::sync::mpsc::Receiver<Option<String>>,
    lines: mpsc::UnboundedSender<String>,
    printer: std::sync::mpsc::Sender<Printer>,
) {
    // A pasted line is sent as typed, newline and all, instead of waiting for Enter.
    let config = rustyline::Config::builder().bracketed_paste(false).build();
    let Ok(mut editor) = rustyline::DefaultEditor::with_config(config) else {
        return;
    };
    if let Ok(mut p) = editor.create_external_printer() {
        // Between prompts the printer writes as it is given, so the line ends here.
        let _ = printer.send(Box::new(move |s| {
            let _ = p.print(format!("{s}\n"));
        }));
    }
    drop(printer);
    while let Ok(Some(prompt)) = prompts.recv() {
        match editor.readline(&prompt) {
            Ok(line) => {
                let _ = editor.add_history_entry(line.as_str());
                if lines.send(line).is_err() {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}

/// Run the sandbox until the input ends, `:quit`, or Ctrl-C.
///
/// With `onebot`, the bot talks to the simulator over OneBot v11 instead of mirai-api-http, as
/// it would on NapCat: the same scripts, the same chat.
pub async fn run(scripts: HostOptions, onebot: bool) -> anyhow::Result<()> {
    let sim_cfg = if onebot {
        SimConfig { protocol: SimProtocol::OneBot, ..SimConfig::default() }
    } else {
        SimConfig::default()
    };
    let sim = Sim::start(sim_cfg).await?;
    let cfg = sim.config().clone();
    let (adapter, link): (Arc<dyn Adapter>, _) = if onebot {
        let mode = Mode::Forward { url: sim.onebot_url() };
        let (a, link) = OneBotAdapter::connect(OneBotOptions::new(mode, None)).await?;
        (a, link)
    } else {
        let opts = WsOptions::new(sim.ws_url(), Secret::new(cfg.verify_key.clone()), cfg.qq);
        let (a, link) = WsAdapter::connect(opts).await?;
        (a, link)
    };
    // The same limits as a real bot, so a script that floods shows it here first.
    let dyn_adapter: Arc<dyn Adapter> =
        SendQueue::new(adapter.clone(), SendOptions::default(), scripts.metrics.clone());
    let dir = scripts.scripts_dir.clone();
    let (host, ready) = RunningHost::spawn(scripts, dyn_adapter, link);
    let names = ready.await.unwrap_or_default();
    println!(
        "mahua sandbox: {} script(s) from {}: {}",
        names.len(),
        dir.display(),
        names.join(", ")
    );
    println!("You are alice ({DEFAULT_FRIEND}), a friend of the bot. Try: echo hello, /roll 6, guess, /help.");
    println!(
        ":group talks in group {DEFAULT_GROUP} instead; :help lists the sandbox's own commands."
    );
    if onebot {
        println!("The simulator speaks OneBot v11 on {}.", sim.onebot_url());
    } else {
        println!("The simulator listens on {} (verify key {}).", sim.ws_url(), cfg.verify_key);
    }

    let mut who = Speaker::Friend(DEFAULT_FRIEND);
    let (line_tx, mut lines) = mpsc::unbounded_channel();
    let (prompt_tx, prompts) = std::sync::mpsc::channel();
    let (printer_tx, printer_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(PROMPT_THREAD.to_owned())
        .spawn(move || read_lines(prompts, line_tx, printer_tx))?;
    // The prompt's printer waits for the prompt's thread to take each line, and that thread
    // waits for this task's next prompt: so what is shown goes through a thread of its own,
    // and neither this task nor the one logging ever waits on the prompt.
    let above_prompt = printer_rx.recv().ok();
    // The log joins the chat when both are on the terminal.
    let log_too = above_prompt.is_some() && std::io::stderr().is_terminal();
    let mut print = above_prompt.unwrap_or_else(|| Box::new(|s| println!("{s}")));
    let (say_tx, said) = std::sync::mpsc::channel::<String>();
    let printing = std::thread::spawn(move || said.into_iter().for_each(&mut print));
    let log_above_prompt = log_too.then(|| LogAbovePrompt::install(say_tx.clone()));
    let _ = prompt_tx.send(Some(sim.world(|w| prompt(w, who))));
    let say = move |s: String| {
        let _ = say_tx.send(s);
    };
    let shown = Arc::new(AtomicUsize::new(0));
    let replies = tokio::spawn(print_replies(sim.clone(), shown.clone(), say.clone()));
    loop {
        tokio::select! {
            () = super::shutdown_signal() => break,
            line = lines.recv() => {
                let Some(line) = line else { break };
                if !act(&sim, &mut who, parse(&line), &say) {
                    break;
                }
                let _ = prompt_tx.send(Some(sim.world(|w| prompt(w, who))));
            }
        }
    }
    let _ = prompt_tx.send(None);
    // Let replies to the last lines arrive before leaving: until the bot has been quiet for a
    // moment, a second at most (input from a pipe comes faster than the bot answers).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        let before = sim.sent().len();
        let more =
            sim.wait_for(Duration::from_millis(200), "more replies", |s| s.sent().len() > before);
        if more.await.is_err() || tokio::time::Instant::now() >= deadline {
            break;
        }
    }
    replies.abort();
    let _ = replies.await;
    print_new(&sim, &shown, &say);
    // What is left to show is shown before the log goes back to standard error.
    drop(log_above_prompt);
    drop(say);
    let _ = tokio::task::spawn_blocking(move || printing.join()).await;
    host.stop().await;
    adapter.shutdown().await;
    sim.shutdown().await;
    Ok(())
}

/// Print every message the bot sends, as it sends it; `shown` counts those printed.
async fn print_replies(sim: Sim, shown: Arc<AtomicUsize>, say: impl Fn(String)) {
    loop {
        let from = shown.load(Ordering::Relaxed);
        let wait =
            sim.wait_for(Duration::from_secs(3600), "a reply", |s| s.sent().len() > from).await;
        if wait.is_ok() {
            print_new(&sim, &shown, &say);
        }
    }
}

/// Print the messages the bot sent after the `shown` first ones.
fn print_new(sim: &Sim, shown: &AtomicUsize, say: &dyn Fn(String)) {
    let sent = sim.sent();
    for m in sent.get(shown.load(Ordering::Relaxed)..).unwrap_or_default() {
        say(sim.world(|w| describe(m, w)));
    }
    shown.store(sent.len(), Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_lines_are_understood() {
        assert_eq!(parse("hello"), Input::Say("hello".into()));
        assert_eq!(parse("/roll 6"), Input::Say("/roll 6".into()));
        assert_eq!(parse("/help"), Input::Say("/help".into()));
        assert_eq!(parse(":group"), Input::InGroup(None, None));
        assert_eq!(parse(":group 5 as 7"), Input::InGroup(Some(5), Some(7)));
        assert_eq!(parse(":friend 9"), Input::AsFriend(Some(9)));
        assert_eq!(parse(":join 3"), Input::Join(3));
        assert_eq!(parse(":join x"), Input::Unknown(":join x".into()));
        assert_eq!(parse(":request 4 hi there"), Input::FriendRequest(4, "hi there".into()));
        assert_eq!(parse(":what"), Input::Unknown(":what".into()));
        assert_eq!(parse("  "), Input::Empty);
        assert_eq!(parse(":quit"), Input::Quit);
    }

    #[test]
    fn chains_read_like_chat() {
        let mut w = World::empty(10000);
        w.add_group(1, "g", crate::sim::world::Permission::Member);
        w.add_member(1, 2, "bob", crate::sim::world::Permission::Member);
        let chain = json!([{"type": "Source", "id": 1}, {"type": "At", "target": 2}, {"type": "Plain", "text": " hi "},
            {"type": "Image", "url": "http://i/x.png"}]);
        assert_eq!(render(&chain, &w, Some(1)), "@bob hi [image: http://i/x.png]");
    }
}
