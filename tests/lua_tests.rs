//! `mahua test`, run as bot owners run it: the examples' own tests, the test API, and what
//! a failure looks like.

mod common;

use std::path::Path;
use std::process::Command;

/// `mahua test` in `dir` with `args`; (exit success, stdout).
fn mahua_test(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mahua"))
        .arg("test")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("mahua test runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.success(), format!("{stdout}{stderr}"))
}

#[test]
fn the_examples_pass_their_own_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (ok, out) = mahua_test(root, &[]);
    assert!(ok, "{out}");
    let scripts = std::fs::read_dir(root.join("scripts"))
        .expect("scripts")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "lua"))
        .count();
    for e in std::fs::read_dir(root.join("scripts")).expect("scripts").filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().replace(".lua", "_test.lua");
        if e.path().extension().is_some_and(|x| x == "lua") {
            assert!(out.contains(&format!("tests/{name}: ")), "{name} has tests: {out}");
        }
    }
    assert!(scripts >= 6);
    assert!(out.trim_end().ends_with(" passed, 0 failed"), "{out}");
}

/// A script that exercises what the test API can drive and observe.
const BOT: &str = r#"
bot.on("FriendMessage", function(ev)
  local text = ev.messageChain[2] and ev.messageChain[2].text or ""
  if text == "who" then
    local ok, p = pcall(mirai.friendProfile, ev.sender.id)
    ev:reply(ok and ("you are " .. p.nickname) or ("failed: " .. tostring(p.code)))
  elseif text == "list" then
    local members = mirai.memberList(100000)
    ev:reply(#members .. " members")
  end
end)
bot.on("NudgeEvent", function(ev) mirai.sendFriendMessage(ev.fromId, "no poking") end)
bot.on("NewFriendRequestEvent", function(ev)
  mirai.resp_newFriendRequestEvent(ev.eventId, ev.fromId, ev.groupId, 0, "hi")
end)
bot.on("MemberJoinRequestEvent", function(ev)
  mirai.sendGroupMessage(ev.groupId, "request from " .. ev.fromId)
end)
bot.on("GroupRecallEvent", function(ev) mirai.sendGroupMessage(ev.group.id, "saw that") end)
"#;

const API_TESTS: &str = r#"
local test = require("test")

test("answers set by the test, as values, functions and failures", function(t)
  t:load("bot.lua")
  t:answer("friendProfile", {nickname = "Ann", age = 3})
  t:friend(12345):say("who")
  t:expect_reply("^you are Ann$")
  t:answer("friendProfile", function(content) return {nickname = "n" .. content.target} end)
  t:friend(777):say("who")
  t:expect_reply("^you are n777$")
  t:answer("friendProfile", test.fail(5, "no such friend"))
  t:friend(12345):say("who")
  t:expect_reply("^failed: 5$")
  local calls = t:calls("friendProfile")
  assert(#calls == 3 and calls[2].content.target == 777, "every call is seen with its content")
end)

test("the simulator answers what the test does not", function(t)
  t:load("bot.lua")
  t:friend(12345):say("list")
  t:expect_reply("^%d+ members$")
end)

test("nudges, requests and any pushed event", function(t)
  t:load("bot.lua")
  t:nudge(12345)
  t:expect_reply("no poking")
  t:friend_request(4242, "let me in")
  local answered = t:calls("resp_newFriendRequestEvent")
  assert(#answered == 1 and answered[1].content.fromId == 4242, "the request was answered")
  t:join_request(100000, 5151, "please")
  t:expect_reply("request from 5151")
  t:push({type = "GroupRecallEvent", authorId = 20001, messageId = 1, time = 0,
          group = {id = 100000, name = "g", permission = "MEMBER"}, operator = json.null})
  t:expect_reply("saw that")
  assert(#t:sent() == 3)
end)

test("time moves only when the test says", function(t)
  local start = t:now()
  t:advance(3600)
  assert(t:now() - start >= 3600 and t:now() - start < 3601)
end)
"#;

#[test]
fn the_test_api_drives_and_observes_a_bot() {
    let dir = common::script_dir(&[]);
    std::fs::create_dir_all(dir.path().join("scripts")).expect("scripts");
    std::fs::create_dir_all(dir.path().join("tests")).expect("tests");
    std::fs::write(dir.path().join("scripts/bot.lua"), BOT).expect("bot");
    std::fs::write(dir.path().join("tests/api_test.lua"), API_TESTS).expect("tests");
    let (ok, out) = mahua_test(dir.path(), &[]);
    assert!(ok, "{out}");
    assert!(out.contains("4 passed, 0 failed"), "{out}");
}

#[test]
fn failures_name_the_line_what_was_expected_and_what_was_sent() {
    let dir = common::script_dir(&[]);
    std::fs::create_dir_all(dir.path().join("scripts")).expect("scripts");
    std::fs::write(
        dir.path().join("scripts/echo.lua"),
        "bot.on('FriendMessage', function(ev) ev:reply(ev.messageChain[2].text) end)",
    )
    .expect("echo");
    std::fs::write(
        dir.path().join("scripts/boom.lua"),
        "bot.on('FriendMessage', function(ev)\n  local x = nil\n  return x.y\nend)\n",
    )
    .expect("boom");
    std::fs::write(
        dir.path().join("checks.lua"),
        "local test = require('test')\n\
         test('passes', function(t) t:load('echo.lua') t:friend(1):say('hi') t:expect_reply('hi') end)\n\
         test('wrong reply', function(t)\n  t:load('echo.lua')\n  t:friend(1):say('hi')\n  t:expect_reply('bye', {within = 2})\nend)\n\
         test('script error', function(t) t:load('boom.lua') t:friend(1):say('x') end)\n",
    )
    .expect("tests");
    let (ok, out) = mahua_test(dir.path(), &["checks.lua"]);
    assert!(!ok, "a failure exits non-zero: {out}");
    assert!(out.contains("ok    checks.lua: passes"), "{out}");
    assert!(
        out.contains(r#"checks.lua:6: expected a reply matching "bye" within 2s; sent: "hi""#),
        "{out}"
    );
    assert!(out.contains("boom.lua:3: attempt to index a nil value"), "{out}");
    assert!(out.trim_end().ends_with("1 passed, 2 failed"), "{out}");
}

#[test]
fn mahua_init_makes_a_bot_folder_whose_tests_pass() {
    let dir = tempfile::tempdir().expect("dir");
    let bot = dir.path().join("mybot");
    let out = Command::new(env!("CARGO_BIN_EXE_mahua"))
        .arg("init")
        .arg(&bot)
        .output()
        .expect("mahua init runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in [
        "mahua.toml",
        "scripts/hello.lua",
        "tests/hello_test.lua",
        ".luarc.json",
        "types/mahua.lua",
    ] {
        assert!(bot.join(f).is_file(), "{f} was written");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for e in std::fs::read_dir(root.join("types")).expect("types").filter_map(Result::ok) {
        let rel = format!("types/{}", e.file_name().to_string_lossy());
        assert!(
            mahua::cli::init::FILES.iter().any(|(f, _)| *f == rel),
            "mahua init writes {rel} too (add it to src/cli/init.rs)"
        );
    }
    let (ok, out) = mahua_test(&bot, &[]);
    assert!(ok, "{out}");
    assert!(out.trim_end().ends_with("3 passed, 0 failed"), "{out}");
    let check = Command::new(env!("CARGO_BIN_EXE_mahua"))
        .arg("check")
        .current_dir(&bot)
        .output()
        .expect("mahua check runs");
    assert!(
        check.status.success(),
        "the new folder checks clean: {}",
        String::from_utf8_lossy(&check.stderr)
    );

    std::fs::write(bot.join("scripts/hello.lua"), "-- mine").expect("edit");
    let again = Command::new(env!("CARGO_BIN_EXE_mahua"))
        .arg("init")
        .arg(&bot)
        .output()
        .expect("mahua init runs");
    assert!(!again.status.success(), "an existing folder is not overwritten");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exist"));
    assert_eq!(std::fs::read_to_string(bot.join("scripts/hello.lua")).expect("read"), "-- mine");
}

#[test]
fn watch_runs_the_tests_again_after_a_save() {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;
    use std::time::Duration;

    let dir = tempfile::tempdir().expect("dir");
    let bot = dir.path().join("bot");
    let made =
        Command::new(env!("CARGO_BIN_EXE_mahua")).arg("init").arg(&bot).output().expect("init");
    assert!(made.status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_mahua"))
        .args(["test", "--watch"])
        .current_dir(&bot)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mahua test --watch runs");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let next_summary = |rx: &mpsc::Receiver<String>| loop {
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("a summary line");
        if line.ends_with(" failed") {
            return line;
        }
    };
    assert_eq!(next_summary(&rx), "3 passed, 0 failed");
    loop {
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("the watch starts");
        if line.starts_with("watching ") {
            break;
        }
    }
    let script = bot.join("scripts/hello.lua");
    let src = std::fs::read_to_string(&script).expect("read");
    std::fs::write(&script, src.replace("\"Hello, \"", "\"Hi, \"")).expect("save");
    assert_eq!(next_summary(&rx), "1 passed, 2 failed", "the saved script is tested again");
    child.kill().expect("stop");
    child.wait().expect("reaped");
}
