//! Scripts on a OneBot server: the `onebot` module, events with no mirai-api-http counterpart,
//! every translatable event in the fixtures' shape, CQ-code messages, and the server's name in
//! the status.

mod common;

use std::collections::BTreeSet;

use common::{start_custom, start_on, without_nulls, Transport, REPORTER};
use mahua::sim::SimConfig;
use serde_json::{json, Value};

const FRIEND: i64 = 900_001;
const GROUP: i64 = 700_001;
const MEMBER: i64 = 800_001;

#[tokio::test]
async fn the_onebot_module_is_there_over_onebot_only() {
    let script = format!(
        "bot.on('load', function()\n\
           mirai.sendFriendMessage({REPORTER}, 'onebot ' .. type(onebot) .. ' ' .. type(package.loaded.onebot))\n\
         end)\n"
    );
    for (t, want) in [(Transport::OneBot, "onebot table table"), (Transport::Ws, "onebot nil nil")]
    {
        let bot = start_on(t, &[("m.lua", &script)]).await;
        bot.wait_report(want).await;
        bot.stop().await;
    }
}

#[tokio::test]
async fn onebot_call_reaches_any_action_and_fails_like_mirai() {
    let script = format!(
        "bot.on('load', function()\n\
           local info = onebot.call('get_login_info')\n\
           local v = onebot.call('get_version_info', {{}})\n\
           local ok, e = pcall(onebot.call, 'no_such_action', {{x = 1}})\n\
           mirai.sendFriendMessage({REPORTER}, table.concat({{info.user_id, v.app_name, tostring(ok), e.code, e.command, tostring(e)}}, '|'))\n\
         end)\n"
    );
    let bot = start_on(Transport::OneBot, &[("call.lua", &script)]).await;
    let report = bot.wait_reports(1).await.remove(0);
    let parts: Vec<_> = report.split('|').collect();
    let qq = bot.sim.config().qq.to_string();
    assert_eq!(parts[..5], [qq.as_str(), "mahua-sim", "false", "6", "no_such_action"], "{report}");
    assert!(parts[5].contains("no_such_action") && parts[5].contains("code 6"), "{report}");
    let asked: Vec<_> =
        bot.sim.received().into_iter().filter(|r| r.command == "no_such_action").collect();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].content, json!({"x": 1}));
    bot.stop().await;
}

#[tokio::test]
async fn an_event_with_no_counterpart_reaches_star_and_its_own_name() {
    let script = format!(
        "bot.on('OneBot.notice.group_upload', function(ev)\n\
           mirai.sendFriendMessage({REPORTER}, 'named ' .. ev.file.name .. ' ' .. ev.group_id)\n\
         end)\n\
         bot.on('*', function(ev)\n\
           if ev.type:sub(1, 7) == 'OneBot.' then mirai.sendFriendMessage({REPORTER}, 'star ' .. ev.type) end\n\
         end)\n"
    );
    let bot = start_on(Transport::OneBot, &[("ext.lua", &script)]).await;
    let qq = bot.sim.config().qq;
    bot.sim.push_onebot(json!({
        "time": 1_700_000_000, "self_id": qq, "post_type": "notice", "notice_type": "group_upload",
        "group_id": GROUP, "user_id": MEMBER,
        "file": {"id": "/abc", "name": "notes.txt", "size": 5, "busid": 102}
    }));
    bot.sim.push_onebot(json!({
        "time": 1_700_000_000, "self_id": qq, "post_type": "notice", "notice_type": "notify",
        "sub_type": "lucky_king", "group_id": GROUP, "user_id": MEMBER, "target_id": FRIEND
    }));
    bot.wait_report(&format!("named notes.txt {GROUP}")).await;
    bot.wait_report("star OneBot.notice.group_upload").await;
    bot.wait_report("star OneBot.notice.notify.lucky_king").await;
    bot.stop().await;
}

/// The keys of an object, and of the objects inside it, as paths.
fn key_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let Value::Object(o) = v {
        for (k, inner) in o {
            let path = format!("{prefix}{k}");
            // Message chains are compared by element type, not key by key.
            if k != "messageChain" {
                key_paths(inner, &format!("{path}."), out);
            }
            out.insert(path);
        }
    }
}

#[tokio::test]
async fn every_translatable_fixture_arrives_in_its_shape() {
    let script = format!(
        "bot.on('*', function(ev) mirai.sendFriendMessage({REPORTER}, json.encode(ev)) end)\n\
         bot.on('load', function() mirai.sendFriendMessage({REPORTER}, 'ready') end)\n"
    );
    let bot = start_on(Transport::OneBot, &[("all.lua", &script)]).await;
    bot.wait_report("ready").await;
    let mut paths: Vec<_> = std::fs::read_dir("tests/fixtures/wire/events")
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    let fixtures: Vec<Value> = paths
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json"))
        .collect();
    for ev in &fixtures {
        bot.sim.push(ev.clone());
    }
    // A last message marks the end: everything pushed before it has been handled by then.
    bot.sim.friend_message(FRIEND, json!("end"));
    bot.sim
        .wait_for(common::WITHIN, "the end marker", |s| {
            s.sent().iter().any(|m| common::text(&m.chain).contains("\"end\""))
        })
        .await
        .expect("the marker arrives");
    let got: Vec<Value> =
        bot.reports().iter().filter_map(|r| serde_json::from_str(r).ok()).collect();
    let mut arrived = BTreeSet::new();
    for ev in &fixtures {
        let ty = ev["type"].as_str().expect("type");
        let Some(seen) = got.iter().find(|g| g["type"] == ty) else { continue };
        arrived.insert(ty.to_owned());
        let (mut want_keys, mut got_keys) = (BTreeSet::new(), BTreeSet::new());
        // Lua drops null fields: compare against the fixture without them.
        key_paths(&without_nulls(ev), "", &mut want_keys);
        key_paths(seen, "", &mut got_keys);
        assert!(
            want_keys.is_subset(&got_keys),
            "{ty}: missing {:?}",
            want_keys.difference(&got_keys).collect::<Vec<_>>()
        );
        if ev.get("messageChain").is_some() {
            assert_eq!(seen["messageChain"][0]["type"], "Source", "{ty}: Source first");
        }
    }
    for must in [
        "FriendMessage",
        "GroupMessage",
        "TempMessage",
        "GroupRecallEvent",
        "FriendRecallEvent",
        "MemberJoinEvent",
        "MemberLeaveEventKick",
        "MemberLeaveEventQuit",
        "MemberMuteEvent",
        "MemberUnmuteEvent",
        "BotMuteEvent",
        "GroupMuteAllEvent",
        "MemberCardChangeEvent",
        "MemberPermissionChangeEvent",
        "NudgeEvent",
        "NewFriendRequestEvent",
        "MemberJoinRequestEvent",
        "BotInvitedJoinGroupRequestEvent",
    ] {
        assert!(arrived.contains(must), "{must} arrives over OneBot; arrived: {arrived:?}");
    }
    bot.stop().await;
}

#[tokio::test]
async fn cq_code_messages_give_the_same_chain_as_segments() {
    let script = format!(
        "bot.on('GroupMessage', function(ev)\n\
           local parts = {{}}\n\
           for i, e in ipairs(ev.messageChain) do parts[i] = e.type .. ':' .. (e.text or e.target or e.faceId or '') end\n\
           mirai.sendFriendMessage({REPORTER}, table.concat(parts, ','))\n\
         end)\n"
    );
    let chain = json!([
        {"type": "Plain", "text": "a&b [x], "},
        {"type": "At", "target": MEMBER, "display": ""},
        {"type": "Face", "faceId": 14}
    ]);
    let mut reports = Vec::new();
    for cq in [false, true] {
        let cfg = SimConfig { cq_strings: cq, ..SimConfig::default() };
        let bot = start_custom(Transport::OneBot, cfg, &[("chain.lua", &script)], |_| {}).await;
        bot.sim.group_message(GROUP, MEMBER, chain.clone());
        reports.push(bot.wait_reports(1).await.remove(0));
        bot.stop().await;
    }
    assert_eq!(reports[0], format!("Source:,Plain:a&b [x], ,At:{MEMBER},Face:14"));
    assert_eq!(reports[0], reports[1], "a CQ string decodes as the segments do");
}

#[tokio::test]
async fn the_status_names_the_server() {
    let bot =
        start_on(Transport::OneBot, &[("idle.lua", "bot.on('load', function() end)\n")]).await;
    let deadline = tokio::time::Instant::now() + common::WITHIN;
    loop {
        let server = bot.metrics.snapshot().connection.server;
        if let Some(s) = server {
            assert!(s.contains("mahua-sim") && s.contains("OneBot v11"), "{s}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the server is named in the status");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    bot.stop().await;
}
