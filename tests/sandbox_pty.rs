//! `mahua sandbox` in a pseudo-terminal, as a person runs it: a pasted line is sent at once,
//! and a log line prints above the prompt and leaves the line being typed whole.
#![cfg(unix)]

mod pty_support;

use std::process::Command;

use pty_support::{Pty, Screen, Streams};

/// Echoes "echo <words>" back to the friend who said it.
const ECHO: &str = r#"
bot.on("FriendMessage", function(ev)
  local words = ev.messageChain[2].text:match("^echo%s+(.+)")
  if words then mirai.sendFriendMessage(ev.sender.id, words) end
end)
"#;

/// The sandbox on a terminal, in a folder of its own with the echo script.
fn sandbox() -> (tempfile::TempDir, Pty) {
    sandbox_logging(None)
}

/// As [`sandbox`], with `MAHUA_LOG` set to `log` when given.
fn sandbox_logging(log: Option<&str>) -> (tempfile::TempDir, Pty) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("scripts")).expect("scripts folder");
    std::fs::write(dir.path().join("scripts/echo.lua"), ECHO).expect("echo.lua");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mahua"));
    cmd.args(["sandbox", "scripts"])
        .current_dir(dir.path())
        .env("TERM", "xterm-256color")
        .env_remove("MAHUA_LOG")
        .env_remove("NO_COLOR");
    if let Some(log) = log {
        cmd.env("MAHUA_LOG", log);
    }
    let term = Pty::spawn(cmd, Streams::ALL);
    term.wait_for("the prompt", at_prompt);
    (dir, term)
}

fn at_prompt(s: &Screen) -> bool {
    s.cursor_line() == "alice>"
}

/// Leave with `:quit`: the sandbox ends without opening another prompt.
fn quit(mut term: Pty) {
    term.paste(":quit\r");
    let (status, screen) = term.wait_for_exit();
    assert!(status.success(), "{status}:\n{screen}");
    let last = screen.lines().into_iter().rev().find(|l| !l.is_empty()).unwrap_or_default();
    assert_eq!(last, "alice> :quit", "no prompt after :quit:\n{screen}");
}

#[test]
fn a_pasted_line_is_sent_at_once() {
    let (_dir, mut term) = sandbox();
    term.paste("echo pasted at once\r");
    term.wait_for("the reply, with no key after the paste", |s| {
        s.shows("bot → alice: pasted at once") && at_prompt(s)
    });
    // Two lines in one paste are two messages; the second waits for no key either.
    term.paste("echo one\recho two\r");
    term.wait_for("both replies", |s| {
        s.shows("bot → alice: one") && s.shows("bot → alice: two") && at_prompt(s)
    });
    quit(term);
}

#[test]
fn a_log_line_prints_above_the_line_being_typed() {
    let (dir, mut term) = sandbox();
    term.type_keys("echo hel");
    // A script that does not load: the hot reload logs an error while the line is open.
    std::fs::write(dir.path().join("scripts/broken.lua"), "this is not lua\n").expect("write");
    let screen = term.wait_for("the error above the line being typed", |s| {
        s.shows("broken.lua") && s.cursor_line() == "alice> echo hel"
    });
    let lines = screen.lines();
    let log = lines.iter().find(|l| l.contains("broken.lua")).expect("the log line");
    assert!(log.contains("ERROR"), "{screen}");
    assert!(!log.contains("alice>") && !log.contains("echo hel"), "spliced:\n{screen}");
    term.paste("lo\r");
    term.wait_for("the reply to the whole line", |s| s.shows("bot → alice: hello"));
    quit(term);
}

#[test]
fn the_debug_log_does_not_feed_on_itself() {
    // rustyline logs at debug each time it redraws the prompt, as it does after every line
    // printed above it: printed above it too, each of its lines would print the next.
    let (_dir, mut term) = sandbox_logging(Some("debug"));
    term.paste("echo still here\r");
    term.wait_for("the reply", |s| s.shows("bot → alice: still here"));
    term.paste(":quit\r");
    let (status, screen) = term.wait_for_exit();
    assert!(status.success(), "{status}:\n{screen}");
}
