//! Hot reload, limits and the sandbox: a bad save or a bad script never harms the bot.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{start, start_custom, Bot, Transport, REPORTER};
use mahua::host::HostEvent;
use mahua::sim::SimConfig;
use serde_json::json;

const FRIEND: i64 = 900_001;

/// A script that says which version it is when loaded and answers with it.
fn versioned(v: &str) -> String {
    format!(
        "bot.on('load', function() mirai.sendFriendMessage({REPORTER}, '{v} loaded') end)\n\
         bot.on('FriendMessage', function(ev)\n\
           mirai.sendFriendMessage({REPORTER}, '{v} ' .. ev.messageChain[2].text)\n\
         end)\n"
    )
}

fn count(bot: &Bot, text: &str) -> usize {
    bot.reports().iter().filter(|r| *r == text).count()
}

/// After `save` wrote version `v` of `s.lua`, it is reloaded once and answers as `v`.
async fn assert_reloaded_once(bot: &mut Bot, v: &str) {
    bot.wait_host(HostEvent::Reloaded("s.lua".into())).await;
    bot.wait_report(&format!("{v} loaded")).await;
    bot.sim.friend_message(FRIEND, json!(format!("after {v}")));
    bot.wait_report(&format!("{v} after {v}")).await;
    // A later, unrelated change has been seen, so any second reload of s.lua would have shown.
    let sentinel = format!("sentinel-{v}.lua");
    bot.write(&sentinel, "bot.on('load', function() end)\n");
    bot.wait_host(HostEvent::Loaded(sentinel)).await;
    let reloads =
        bot.host_log.iter().filter(|e| **e == HostEvent::Reloaded("s.lua".into())).count();
    assert_eq!(count(bot, &format!("{v} loaded")), 1, "{v} loaded once");
    bot.host_log.clear();
    assert_eq!(reloads, 1, "one reload for {v}");
}

#[tokio::test]
async fn every_way_editors_save_reloads_once() {
    let mut bot = start(&[("s.lua", &versioned("v1"))]).await;
    bot.wait_report("v1 loaded").await;
    let dir = bot.dir.path().to_owned();
    let file = dir.join("s.lua");

    // Write in place.
    std::fs::write(&file, versioned("v2")).unwrap();
    assert_reloaded_once(&mut bot, "v2").await;

    // Write a temp file and rename it over.
    let tmp = dir.join(".s.lua.tmp");
    std::fs::write(&tmp, versioned("v3")).unwrap();
    std::fs::rename(&tmp, &file).unwrap();
    assert_reloaded_once(&mut bot, "v3").await;

    // Delete, then create.
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, versioned("v4")).unwrap();
    assert_reloaded_once(&mut bot, "v4").await;

    // vim: rename to a backup, write anew, remove the backup (plus its 4913 probe).
    let backup = dir.join("s.lua~");
    std::fs::write(dir.join("4913"), "").unwrap();
    std::fs::remove_file(dir.join("4913")).unwrap();
    std::fs::rename(&file, &backup).unwrap();
    std::fs::write(&file, versioned("v5")).unwrap();
    std::fs::remove_file(&backup).unwrap();
    assert_reloaded_once(&mut bot, "v5").await;

    // The same content again changes nothing.
    std::fs::write(&file, versioned("v5")).unwrap();
    bot.write("sentinel-same.lua", "");
    bot.wait_host(HostEvent::Loaded("sentinel-same.lua".into())).await;
    assert!(!bot.host_log.contains(&HostEvent::Reloaded("s.lua".into())));
    bot.stop().await;
}

#[tokio::test]
async fn many_files_at_once_each_load_once() {
    let mut bot = start(&[]).await;
    let names: Vec<String> = (0..8).map(|i| format!("m{i}.lua")).collect();
    for n in &names {
        bot.write(
            n,
            &format!("bot.on('load', function() mirai.sendFriendMessage({REPORTER}, '{n}') end)\n"),
        );
    }
    for n in &names {
        bot.wait_host(HostEvent::Loaded(n.clone())).await;
        bot.wait_report(n).await;
    }
    bot.write("sentinel.lua", "");
    bot.wait_host(HostEvent::Loaded("sentinel.lua".into())).await;
    for n in &names {
        assert_eq!(count(&bot, n), 1, "{n}");
    }
    assert!(bot.host_log.iter().all(|e| matches!(e, HostEvent::Loaded(_))), "{:?}", bot.host_log);
    bot.stop().await;
}

#[tokio::test]
async fn a_broken_version_keeps_the_old_one_answering() {
    let mut bot = start(&[("s.lua", &versioned("v1"))]).await;
    bot.wait_report("v1 loaded").await;
    bot.write("s.lua", "bot.on('FriendMessage', function(ev)\n  oops(\n");
    bot.wait_host(HostEvent::Refused("s.lua".into())).await;
    bot.write("s.lua", "error('fails while it runs')\n");
    bot.wait_host(HostEvent::Refused("s.lua".into())).await;
    bot.sim.friend_message(FRIEND, json!("still there?"));
    bot.wait_report("v1 still there?").await;
    bot.stop().await;
}

#[tokio::test]
async fn removed_scripts_unload_and_new_ones_load() {
    let mut bot = start(&[("s.lua", &versioned("v1"))]).await;
    bot.wait_report("v1 loaded").await;
    std::fs::remove_file(bot.dir.path().join("s.lua")).unwrap();
    bot.wait_host(HostEvent::Unloaded("s.lua".into())).await;
    bot.write("t.lua", &versioned("t1"));
    bot.wait_host(HostEvent::Loaded("t.lua".into())).await;
    bot.sim.friend_message(FRIEND, json!("who"));
    bot.wait_report("t1 who").await;
    assert_eq!(count(&bot, "v1 who"), 0);
    bot.stop().await;
}

#[tokio::test]
async fn a_changed_module_reloads_the_scripts_that_require_it() {
    let mut bot = start(&[]).await;
    std::fs::create_dir_all(bot.dir.path().join("lib")).unwrap();
    std::fs::write(bot.dir.path().join("lib/greet.lua"), "return 'hello'\n").unwrap();
    bot.write(
        "user.lua",
        &format!("local g = require('greet')\nbot.on('load', function() mirai.sendFriendMessage({REPORTER}, g) end)\n"),
    );
    bot.write("other.lua", "bot.on('load', function() end)\n");
    bot.wait_report("hello").await;
    bot.wait_host(HostEvent::Loaded("other.lua".into())).await;
    std::fs::write(bot.dir.path().join("lib/greet.lua"), "return 'bonjour'\n").unwrap();
    bot.wait_host(HostEvent::Reloaded("user.lua".into())).await;
    bot.wait_report("bonjour").await;
    assert!(!bot.host_log.contains(&HostEvent::Reloaded("other.lua".into())));
    bot.stop().await;
}

#[tokio::test]
async fn every_event_is_handled_once_through_a_reload() {
    let script = |v: &str| {
        format!(
            "bot.on('GroupMessage', function(ev) mirai.sendFriendMessage({REPORTER}, '{v} ' .. ev.messageChain[2].text) end)\n"
        )
    };
    let mut bot = start(&[("s.lua", &script("v1"))]).await;
    let push = |bot: &Bot, i: usize| bot.sim.group_message(700_001, 800_001, json!(i.to_string()));
    let mut n = 0;
    for _ in 0..100 {
        push(&bot, n);
        n += 1;
    }
    // Keep the stream going while the new version loads and takes over.
    bot.write("s.lua", &script("v2"));
    while !bot.try_host(&HostEvent::Reloaded("s.lua".into())) {
        push(&bot, n);
        n += 1;
        // Pace the stream: about one event a millisecond while the reload happens.
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    for _ in 0..100 {
        push(&bot, n);
        n += 1;
    }
    let reports = bot.wait_reports(n).await;
    for i in 0..n {
        let seen: Vec<_> =
            reports.iter().filter(|r| r.split(' ').nth(1) == Some(&i.to_string())).collect();
        assert_eq!(seen.len(), 1, "event {i} handled once: {seen:?}");
    }
    // The versions answer on their own threads, so their replies may interleave on the
    // wire; what must hold is that v1 handled a prefix of the events and v2 the rest.
    let numbers = |v: &str| -> Vec<usize> {
        reports.iter().filter_map(|r| r.strip_prefix(v)?.trim().parse().ok()).collect()
    };
    let (old, new) = (numbers("v1"), numbers("v2"));
    assert!(!new.is_empty(), "v2 handled some");
    assert!(old.iter().max() < new.iter().min(), "v1 handled {old:?}, v2 handled {new:?}");
    bot.stop().await;
}

#[tokio::test]
async fn an_endless_loop_is_stopped_and_the_others_answer_meanwhile() {
    let looper = format!(
        "bot.on('FriendMessage', function(ev)\n\
           local t = ev.messageChain[2].text\n\
           if t == 'loop' then while true do end end\n\
           mirai.sendFriendMessage({REPORTER}, 'looper ' .. t)\n\
         end)\n"
    );
    let steady = format!(
        "bot.on('FriendMessage', function(ev) mirai.sendFriendMessage({REPORTER}, 'steady ' .. ev.messageChain[2].text) end)\n"
    );
    let mut bot = start(&[("looper.lua", &looper), ("steady.lua", &steady)]).await;
    bot.sim.friend_message(FRIEND, json!("loop"));
    bot.sim.friend_message(FRIEND, json!("ping"));
    bot.wait_report("steady ping").await;
    bot.wait_report("looper ping").await;
    let reports = bot.reports();
    let pos = |t: &str| reports.iter().position(|r| r == t).expect(t);
    assert!(
        pos("steady ping") < pos("looper ping"),
        "steady answered while looper was stuck: {reports:?}"
    );

    // A loop at load time is stopped too, and refused.
    bot.write("loadloop.lua", "while true do end\n");
    bot.sim.friend_message(FRIEND, json!("during load"));
    bot.wait_report("steady during load").await;
    bot.wait_host(HostEvent::Failed("loadloop.lua".into())).await;
    bot.stop().await;
}

#[tokio::test]
async fn a_memory_bomb_is_stopped() {
    let bomb = format!(
        "bot.on('FriendMessage', function(ev)\n\
           if ev.messageChain[2].text == 'bomb' then\n\
             local t = {{}}\n\
             for i = 1, 1e9 do t[i] = ('x'):rep(64) .. i end\n\
           end\n\
           collectgarbage()\n\
           mirai.sendFriendMessage({REPORTER}, 'bomb ' .. ev.messageChain[2].text)\n\
         end)\n"
    );
    let bot = start_custom(Transport::Ws, SimConfig::default(), &[("bomb.lua", &bomb)], |o| {
        o.limits.memory = 16 << 20
    })
    .await;
    bot.sim.friend_message(FRIEND, json!("bomb"));
    bot.sim.friend_message(FRIEND, json!("after"));
    bot.wait_report("bomb after").await;
    assert_eq!(count(&bot, "bomb bomb"), 0);
    bot.stop().await;
}

#[tokio::test]
async fn every_escape_is_refused_with_a_clear_error() {
    let attempts = [
        ("os.execute", "os.execute('true')"),
        ("io.popen", "io.popen('ls')"),
        ("io.open", "io.open('/etc/passwd')"),
        ("io.open ..", "io.open('../../x')"),
        ("string.dump", "assert(load(string.dump(function() end)))"),
        ("loadlib", "package.loadlib('x', 'y')"),
        ("require C", "require('socket.core')"),
        ("require path", "require('../../etc/passwd')"),
        ("dofile", "dofile('/etc/passwd')"),
        ("sethook", "debug.sethook()"),
        ("getregistry", "debug.getregistry()"),
        ("getenv", "os.getenv('MAHUA_VERIFY_KEY')"),
        ("exit", "os.exit(1)"),
        ("rep", "local s = string.rep('x', 2^31)"),
        ("gc stop", "collectgarbage('stop')"),
        ("no yield", "coroutine.wrap(function() while true do end end)()"),
    ];
    let mut script = String::from("bot.on('load', function()\n  local out = {}\n");
    for (label, code) in &attempts {
        script.push_str(&format!(
            "  do local ok, e = pcall(function() {code} end); out[#out + 1] = '{label}=' .. tostring(ok) .. '=' .. tostring(e) end\n"
        ));
    }
    script.push_str(&format!(
        "  mirai.sendFriendMessage({REPORTER}, table.concat(out, '\\n'))\nend)\n"
    ));
    let bot = start_custom(Transport::Ws, SimConfig::default(), &[("escape.lua", &script)], |o| {
        o.limits.run_time = Duration::from_millis(200);
    })
    .await;
    let report = bot.wait_reports(1).await.remove(0);
    let lines: Vec<&str> = report.lines().filter(|l| l.contains('=')).collect();
    for (label, _) in &attempts {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("{label}=")))
            .unwrap_or_else(|| panic!("{label}: {report}"));
        let mut parts = line.splitn(3, '=');
        let (_, ok, err) = (parts.next(), parts.next(), parts.next().unwrap_or_default());
        assert_eq!(ok, Some("false"), "{label} must fail: {line}");
        assert!(err.len() > 10, "{label} gives a reason: {line}");
    }
    let reason = |label: &str| {
        lines.iter().find(|l| l.starts_with(&format!("{label}="))).copied().unwrap_or_default()
    };
    assert!(reason("io.open").contains("outside the script's data folder"));
    assert!(reason("string.dump").contains("binary chunk"));
    assert!(reason("gc stop").contains("not allowed"));
    assert!(reason("no yield").contains("without yielding"));
    assert!(reason("rep").contains("too large") || reason("rep").contains("memory"));
    bot.stop().await;
}

#[tokio::test]
async fn a_script_keeps_its_files_in_its_own_data_folder() {
    let script = format!(
        "bot.on('load', function()\n\
           local f = assert(io.open('notes.txt', 'w'))\n\
           f:write('remembered') f:close()\n\
           local text = io.open('notes.txt'):read('a')\n\
           mirai.sendFriendMessage({REPORTER}, text)\n\
         end)\n"
    );
    let bot = start(&[("notes.lua", &script)]).await;
    bot.wait_report("remembered").await;
    let file = bot.dir.path().join("data").join("notes").join("notes.txt");
    assert_eq!(std::fs::read_to_string(Path::new(&file)).unwrap(), "remembered");
    bot.stop().await;
}

#[tokio::test]
async fn a_replaced_version_stops_its_timers() {
    let ticking = |v: &str| {
        format!("bot.every(0.01, function() mirai.sendFriendMessage({REPORTER}, '{v} tick') end)\n")
    };
    let mut bot = start(&[("t.lua", &ticking("v1"))]).await;
    bot.wait_report("v1 tick").await;
    bot.write("t.lua", &ticking("v2"));
    bot.wait_host(HostEvent::Reloaded("t.lua".into())).await;
    bot.wait_report("v2 tick").await;
    // The old version stops within a tick of the swap; give it a few of the new one's ticks.
    let ticks = bot.reports().len();
    bot.wait_reports(ticks + 3).await;
    let v1_after_swap = || bot.reports().iter().filter(|r| *r == "v1 tick").count();
    let settled = v1_after_swap();
    let seen = bot.reports().len();
    bot.wait_reports(seen + 5).await;
    assert_eq!(v1_after_swap(), settled, "the old version's timer stopped");
    bot.stop().await;
}

#[tokio::test]
async fn a_trusted_script_keeps_the_whole_standard_library() {
    let script = format!(
        "bot.on('load', function() mirai.sendFriendMessage({REPORTER}, type(os.getenv) .. ' ' .. type(debug.getinfo)) end)\n"
    );
    let bot = start_custom(
        Transport::Ws,
        SimConfig::default(),
        &[("admin.lua", &script), ("plain.lua", &script)],
        |o| {
            o.trusted = vec!["admin.lua".into()];
        },
    )
    .await;
    bot.wait_report("function function").await;
    bot.wait_report("nil nil").await;
    bot.stop().await;
}

#[tokio::test]
async fn a_replaced_version_stops_waiting_for_events() {
    let waiting = |v: &str| {
        format!(
            "bot.on('load', function()\n\
               local ev = bot.wait('FriendMessage')\n\
               mirai.sendFriendMessage({REPORTER}, '{v} waited for ' .. tostring(ev))\n\
             end)\n"
        )
    };
    let mut bot = start(&[("w.lua", &waiting("v1"))]).await;
    bot.write("w.lua", &waiting("v2"));
    bot.wait_host(HostEvent::Reloaded("w.lua".into())).await;
    bot.wait_report("v1 waited for nil").await;
    bot.stop().await;
}
