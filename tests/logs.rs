//! The log goes to standard error, coloured only on a terminal and never with NO_COLOR set;
//! standard output keeps to what a command prints as its result.
#![cfg(unix)]

mod pty_support;

use std::io::Read as _;
use std::process::Command;

use pty_support::{Pty, Streams};

/// What the script says when it loads; `print` logs it.
const SAID: &str = "hello from the script";

/// `mahua check` on a folder with one script that prints as it loads.
fn check() -> (tempfile::TempDir, Command) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("scripts")).expect("scripts folder");
    std::fs::write(dir.path().join("scripts/hello.lua"), format!("print({SAID:?})\n"))
        .expect("hello.lua");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mahua"));
    cmd.args(["check", "scripts", "--config", "no-such.toml"])
        .current_dir(dir.path())
        .env("TERM", "xterm-256color")
        .env_remove("MAHUA_LOG")
        .env_remove("NO_COLOR");
    (dir, cmd)
}

const SUMMARY: &str = "1 script(s) checked, 0 with errors\n";

#[test]
fn logs_to_a_pipe_or_file_are_plain_text_on_stderr() {
    let (_dir, mut cmd) = check();
    let out = cmd.output().expect("mahua check runs");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains(SAID) && stderr.contains("INFO"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "no colour codes: {stderr:?}");
    assert_eq!(stdout, SUMMARY, "only the command's output on stdout");
}

/// Run `cmd` with standard error on a terminal and standard output piped; (terminal, stdout).
fn on_terminal(mut cmd: Command, no_color: Option<&str>) -> (String, String) {
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    let mut term = Pty::spawn(cmd, Streams { stdin: true, stdout: false, stderr: true });
    let mut stdout = String::new();
    term.child.stdout.take().expect("piped").read_to_string(&mut stdout).expect("stdout");
    let (status, screen) = term.wait_for_exit();
    assert!(status.success(), "{status}:\n{screen}");
    (screen.raw, stdout)
}

#[test]
fn logs_to_a_terminal_are_coloured() {
    let (_dir, cmd) = check();
    let (term, stdout) = on_terminal(cmd, None);
    assert!(term.contains(SAID), "{term:?}");
    assert!(term.contains("\x1b["), "colour on a terminal: {term:?}");
    assert_eq!(stdout, SUMMARY);
    // An empty NO_COLOR asks for nothing (no-color.org).
    let (_dir, cmd) = check();
    let (term, _) = on_terminal(cmd, Some(""));
    assert!(term.contains(SAID) && term.contains("\x1b["), "{term:?}");
}

#[test]
fn no_color_turns_colour_off_on_a_terminal() {
    let (_dir, cmd) = check();
    let (term, stdout) = on_terminal(cmd, Some("1"));
    assert!(term.contains(SAID), "{term:?}");
    assert!(!term.contains('\x1b'), "no colour codes: {term:?}");
    assert_eq!(stdout, SUMMARY);
}
