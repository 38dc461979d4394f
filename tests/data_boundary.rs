//! A script's data folder is a boundary: no path, link or swapped link takes its file
//! functions or uploads outside it.
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{start_custom, Bot, Transport, REPORTER};
use mahua::sim::SimConfig;
use serde_json::json;

/// The friend whose message starts a script's checks.
const FRIEND: i64 = 777;

/// Runs each `label = code` pair under pcall when a friend writes, and reports one line per
/// pair: `label=ok=first result=second result`.
fn checks_script(checks: &[(&str, &str)]) -> String {
    let mut s = String::from(
        "bot.on('FriendMessage', function()\n\
           local out = {}\n\
           local function try(label, f)\n\
             local ok, a, b = pcall(f)\n\
             out[#out + 1] = label .. '=' .. tostring(ok) .. '=' .. tostring(a) .. '=' .. tostring(b)\n\
           end\n",
    );
    for (label, code) in checks {
        s.push_str(&format!("  try('{label}', function() {code} end)\n"));
    }
    s.push_str(&format!("  mirai.sendFriendMessage({REPORTER}, table.concat(out, '\\n'))\nend)\n"));
    s
}

/// A bot running `script` as `box.lua`, its data folder made, and a folder outside it
/// holding `secret.txt`.
struct Scene {
    bot: Bot,
    data: PathBuf,
    outside: tempfile::TempDir,
}

async fn scene(script: &str, tune: impl FnOnce(&mut mahua::host::HostOptions)) -> Scene {
    let bot = start_custom(Transport::Ws, SimConfig::default(), &[("box.lua", script)], tune).await;
    let data = bot.dir.path().join("data").join("box");
    std::fs::create_dir_all(&data).expect("data folder");
    let outside = tempfile::tempdir().expect("outside");
    std::fs::write(outside.path().join("secret.txt"), "secret").expect("secret");
    Scene { bot, data, outside }
}

impl Scene {
    /// Start the script's checks and return its report, one entry per label.
    async fn run(&self) -> BTreeMap<String, String> {
        self.bot.sim.friend_message(FRIEND, json!("go"));
        let report = self.bot.wait_reports(1).await.remove(0);
        report
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(label, rest)| (label.to_owned(), rest.to_owned()))
            .collect()
    }

    fn secret(&self) -> PathBuf {
        self.outside.path().join("secret.txt")
    }
}

fn refused_through_a_link(results: &BTreeMap<String, String>, label: &str, data: &Path) {
    let got = results.get(label).unwrap_or_else(|| panic!("{label}: {results:?}"));
    assert!(got.starts_with("false="), "{label} must fail: {got}");
    assert!(got.contains("through a link"), "{label} says why: {got}");
    assert!(got.contains(&data.display().to_string()), "{label} names the folder: {got}");
}

#[tokio::test]
async fn links_out_of_the_data_folder_are_refused() {
    let script = checks_script(&[
        ("read via folder link", "return io.open('out/secret.txt')"),
        ("write via folder link", "return io.open('out/new.txt', 'w')"),
        ("lines via folder link", "return io.lines('out/secret.txt')"),
        ("read file link", "return io.open('secret.txt')"),
        ("write file link", "return io.open('secret.txt', 'w')"),
        ("append file link", "return io.open('secret.txt', 'a+')"),
        ("lines file link", "return io.lines('secret.txt')"),
        ("create via dangling link", "return io.open('dangling.txt', 'w')"),
        ("read inside link", "return io.open('alias.txt')"),
        ("upload via folder link", "return mirai.uploadImage('group', 'out/secret.txt')"),
        ("upload file link", "return mirai.uploadImage('group', {path = 'secret.txt'})"),
        ("dotdot", "return io.open('../box/inside.txt')"),
        ("upload dotdot", "return mirai.uploadImage('group', '../../secret.txt')"),
        ("missing", "return io.open('missing.txt')"),
        ("inside", "return io.open('inside.txt'):read('a')"),
    ]);
    let s = scene(&script, |_| {}).await;
    let outside = s.outside.path();
    symlink(outside, s.data.join("out")).expect("folder link");
    symlink(s.secret(), s.data.join("secret.txt")).expect("file link");
    symlink(outside.join("made.txt"), s.data.join("dangling.txt")).expect("dangling link");
    std::fs::write(s.data.join("inside.txt"), "inside").expect("inside");
    symlink("inside.txt", s.data.join("alias.txt")).expect("inside link");

    let results = s.run().await;
    for label in [
        "read via folder link",
        "write via folder link",
        "lines via folder link",
        "read file link",
        "write file link",
        "append file link",
        "lines file link",
        "create via dangling link",
        // Links are not followed beneath the data folder, even one that stays inside.
        "read inside link",
        "upload via folder link",
        "upload file link",
    ] {
        refused_through_a_link(&results, label, &s.data);
    }
    for label in ["dotdot", "upload dotdot"] {
        let got = &results[label];
        assert!(got.starts_with("false="), "{label}: {got}");
        assert!(got.contains("outside the script's data folder"), "{label}: {got}");
    }
    // An ordinary missing file answers nil and a message, as Lua's io.open does.
    let missing = &results["missing"];
    assert!(missing.starts_with("true=nil="), "{missing}");
    assert!(missing.ends_with("missing.txt: No such file or directory"), "{missing}");
    assert_eq!(results["inside"], "true=inside=nil");

    assert_eq!(std::fs::read_to_string(s.secret()).expect("secret"), "secret");
    assert!(!outside.join("new.txt").exists());
    assert!(!outside.join("made.txt").exists());
    assert!(s.bot.sim.world(|w| w.uploads.is_empty()), "nothing was uploaded");
    s.bot.stop().await;
}

#[tokio::test]
async fn files_in_the_data_folder_work_in_every_mode() {
    let script = checks_script(&[
        ("w", "local f = assert(io.open('sub/a.txt', 'w')); f:write('one'); f:close()"),
        ("a", "local f = assert(io.open('sub/a.txt', 'ab')); f:write(' two'); f:close()"),
        ("r", "return io.open('sub/a.txt', 'rb'):read('a')"),
        (
            "r+",
            "local f = assert(io.open('sub/a.txt', 'r+')); f:write('ONE'); f:seek('set'); \
             local t = f:read('a'); f:close(); return t",
        ),
        (
            "w+",
            "local f = assert(io.open('b.txt', 'w+')); f:write('bee'); f:seek('set'); \
             local t = f:read('a'); f:close(); return t",
        ),
        (
            "a+",
            "local f = assert(io.open('b.txt', 'a+')); f:write('s'); f:seek('set'); \
             local t = f:read('a'); f:close(); return t",
        ),
        (
            "lines",
            "local n = {}; for l in io.lines('lines.txt') do n[#n + 1] = l end; \
             return table.concat(n, ',')",
        ),
        (
            "lines n",
            "local t = {}; for a in io.lines('lines.txt', 1) do t[#t + 1] = a end; return #t",
        ),
        ("no subfolder", "return io.open('nowhere/x.txt', 'w')"),
        ("bad mode", "return io.open('b.txt', 'rw')"),
        ("upload", "return mirai.uploadImage('group', 'sub/a.txt').imageId ~= nil"),
    ]);
    let s = scene(&script, |_| {}).await;
    std::fs::create_dir(s.data.join("sub")).expect("sub");
    std::fs::write(s.data.join("lines.txt"), "x\ny\n").expect("lines");

    let results = s.run().await;
    for (label, want) in [
        ("w", "true=nil=nil"),
        ("a", "true=nil=nil"),
        ("r", "true=one two=nil"),
        ("r+", "true=ONE two=nil"),
        ("w+", "true=bee=nil"),
        ("a+", "true=bees=nil"),
        ("lines", "true=x,y=nil"),
        ("lines n", "true=4=nil"),
        ("upload", "true=true=nil"),
    ] {
        assert_eq!(results.get(label).map(String::as_str), Some(want), "{label}: {results:?}");
    }
    let none = &results["no subfolder"];
    assert!(none.starts_with("true=nil=") && none.contains("No such file"), "{none}");
    let bad = &results["bad mode"];
    assert!(bad.starts_with("false=") && bad.contains("invalid mode"), "{bad}");
    assert_eq!(std::fs::read_to_string(s.data.join("sub/a.txt")).expect("a.txt"), "ONE two");
    s.bot.stop().await;
}

#[tokio::test]
async fn a_trusted_script_still_uploads_from_anywhere() {
    let outside = tempfile::tempdir().expect("outside");
    let secret = outside.path().join("photo.png");
    std::fs::write(&secret, "PNG!").expect("photo");
    let script = checks_script(&[(
        "upload",
        &format!("return mirai.uploadImage('group', {:?}).imageId ~= nil", secret.display()),
    )]);
    let s = scene(&script, |o| o.trusted = vec!["box.lua".into()]).await;
    let results = s.run().await;
    assert_eq!(results["upload"], "true=true=nil");
    s.bot.stop().await;
}

/// Swaps `data/swap.txt` between a file inside and a link to `secret` outside, renaming each
/// over it in turn, until told to stop.
struct Swapper {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl Swapper {
    fn start(data: &Path, secret: &Path) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (data, secret, flag) = (data.to_owned(), secret.to_owned(), stop.clone());
        let thread = std::thread::spawn(move || {
            let (file, link, at) = (data.join(".file"), data.join(".link"), data.join("swap.txt"));
            let mut swaps = 0;
            while !flag.load(Ordering::Relaxed) {
                std::fs::write(&file, "inside").expect("file");
                std::fs::rename(&file, &at).expect("rename the file over");
                symlink(&secret, &link).expect("link");
                std::fs::rename(&link, &at).expect("rename the link over");
                swaps += 1;
            }
            swaps
        });
        Self { stop, thread: Some(thread) }
    }

    /// Stop, and say how many swaps were made.
    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().map_or(0, |t| t.join().expect("swapper"))
    }
}

impl Drop for Swapper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Only Linux reopens the checked file itself; elsewhere this race can be lost.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_link_swapped_in_during_the_open_never_reaches_the_outside() {
    // Open and read until both outcomes were seen many times, or give up after many tries.
    let script = format!(
        "bot.on('FriendMessage', function()\n\
           local inside, refused, other = 0, 0, {{}}\n\
           for i = 1, 100000 do\n\
             local ok, f, err = pcall(io.open, 'swap.txt')\n\
             if ok and f then\n\
               local text = f:read('a'); f:close()\n\
               if text == 'inside' then inside = inside + 1 else other[#other + 1] = text end\n\
             elseif not ok and tostring(f):find('through a link', 1, true) then\n\
               refused = refused + 1\n\
             else\n\
               other[#other + 1] = tostring(f) .. ' ' .. tostring(err)\n\
             end\n\
             if inside > 200 and refused > 200 then break end\n\
           end\n\
           mirai.sendFriendMessage({REPORTER}, inside .. ' ' .. refused .. ' ' .. #other .. ' ' .. table.concat(other, '|'))\n\
         end)\n"
    );
    let s = scene(&script, |o| o.limits.run_time = Duration::from_secs(60)).await;
    std::fs::write(s.data.join("swap.txt"), "inside").expect("swap.txt");
    let swapper = Swapper::start(&s.data, &s.secret());
    s.bot.sim.friend_message(FRIEND, json!("go"));
    let report = s.bot.wait_reports(1).await.remove(0);
    let swaps = swapper.finish();
    let mut parts = report.splitn(4, ' ');
    let mut count = || parts.next().and_then(|n| n.parse::<u64>().ok()).expect("count");
    let (inside, refused, other) = (count(), count(), count());
    assert_eq!(other, 0, "read something other than the inside file: {report}");
    assert!(inside > 0 && refused > 0, "the race was not exercised ({swaps} swaps): {report}");
    s.bot.stop().await;
}
