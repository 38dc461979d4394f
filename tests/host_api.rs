//! Scripts running against the simulator, over each adapter: events in, API calls out.
//! Every scenario runs over WebSocket and over HTTP polling; those that do not look at the
//! mirai-api-http wire itself also run over OneBot v11, forward and reverse.

mod common;

use common::{start_on, without_nulls, Transport, REPORTER};
use mahua::protocol::commands::{self, HttpMethod};
use mahua::sim::world::Permission;
use serde_json::{json, Value};

/// Commands the http adapter sends on its own.
const POLLING: &[&str] = &["fetchMessage", "verify", "bind", "release"];

const GROUP: i64 = 700_001;
const MEMBER: i64 = 800_001;
const FRIEND: i64 = 900_001;

/// Every seed call, the command it must send and its exact content.
fn call_table() -> Vec<(&'static str, &'static str, Option<&'static str>, Value)> {
    let g = GROUP;
    let q = MEMBER;
    let plain = |t: &str| json!([{"type": "Plain", "text": t}]);
    vec![
        ("mirai.about()", "about", None, json!({})),
        ("mirai.botProfile()", "botProfile", None, json!({})),
        ("mirai.friendList()", "friendList", None, json!({})),
        ("mirai.groupList()", "groupList", None, json!({})),
        ("mirai.memberList(G)", "memberList", None, json!({"target": g})),
        ("mirai.friendProfile(F)", "friendProfile", None, json!({"target": FRIEND})),
        ("mirai.memberProfile(G, Q)", "memberProfile", None, json!({"target": g, "memberId": q})),
        ("mirai.messageFromId(5, G)", "messageFromId", None, json!({"messageId": 5, "target": g})),
        (
            "mirai.sendFriendMessage(F, 'hi')",
            "sendFriendMessage",
            None,
            json!({"target": FRIEND, "messageChain": plain("hi")}),
        ),
        (
            "mirai.sendFriendMessage(F, {{type='Face', faceId=1}, 'x'}, 3)",
            "sendFriendMessage",
            None,
            json!({"target": FRIEND, "messageChain": [{"type": "Face", "faceId": 1}, {"type": "Plain", "text": "x"}], "quote": 3}),
        ),
        (
            "mirai.sendGroupMessage(G, {type='AtAll'})",
            "sendGroupMessage",
            None,
            json!({"target": g, "messageChain": [{"type": "AtAll"}]}),
        ),
        (
            "mirai.sendTempMessage(Q, G, 'psst', 2)",
            "sendTempMessage",
            None,
            json!({"qq": q, "group": g, "messageChain": plain("psst"), "quote": 2}),
        ),
        (
            "mirai.sendNudge(Q, G, 'Group')",
            "sendNudge",
            None,
            json!({"target": q, "subject": g, "kind": "Group"}),
        ),
        ("mirai.recall(9, G)", "recall", None, json!({"messageId": 9, "target": g})),
        ("mirai.setEssence(9, G)", "setEssence", None, json!({"messageId": 9, "target": g})),
        ("mirai.file_list(G)", "file_list", None, json!({"target": g, "id": ""})),
        ("mirai.file_list(G, '/d')", "file_list", None, json!({"target": g, "id": "/d"})),
        ("mirai.file_info(G, '/f')", "file_info", None, json!({"target": g, "id": "/f"})),
        (
            "mirai.file_mkdir(G, '')",
            "file_mkdir",
            None,
            json!({"target": g, "id": "", "directoryName": "New Folder"}),
        ),
        (
            "mirai.file_mkdir(G, '', 'docs')",
            "file_mkdir",
            None,
            json!({"target": g, "id": "", "directoryName": "docs"}),
        ),
        ("mirai.file_delete(G, '/f')", "file_delete", None, json!({"target": g, "id": "/f"})),
        (
            "mirai.file_move(G, '/f', '/d')",
            "file_move",
            None,
            json!({"target": g, "id": "/f", "moveTo": "/d"}),
        ),
        (
            "mirai.file_rename(G, '/f', 'n')",
            "file_rename",
            None,
            json!({"target": g, "id": "/f", "renameTo": "n"}),
        ),
        ("mirai.deleteFriend(F)", "deleteFriend", None, json!({"target": FRIEND})),
        ("mirai.quit(G)", "quit", None, json!({"target": g})),
        ("mirai.muteAll(G)", "muteAll", None, json!({"target": g})),
        ("mirai.unmuteAll(G)", "unmuteAll", None, json!({"target": g})),
        ("mirai.mute(G, Q)", "mute", None, json!({"target": g, "memberId": q, "time": 600})),
        ("mirai.mute(G, Q, 60)", "mute", None, json!({"target": g, "memberId": q, "time": 60})),
        ("mirai.unmute(G, Q)", "unmute", None, json!({"target": g, "memberId": q})),
        (
            "mirai.kick(G, Q)",
            "kick",
            None,
            json!({"target": g, "memberId": q, "msg": "您已被移出群聊", "block": false}),
        ),
        (
            "mirai.kick(G, Q, 'bye', true)",
            "kick",
            None,
            json!({"target": g, "memberId": q, "msg": "bye", "block": true}),
        ),
        ("mirai.groupConfig_get(G)", "groupConfig", Some("get"), json!({"target": g})),
        (
            "mirai.groupConfig_update(G, {name='n', allowMemberInvite=true})",
            "groupConfig",
            Some("update"),
            json!({"target": g, "config": {"name": "n", "allowMemberInvite": true}}),
        ),
        (
            "mirai.memberInfo_get(G, Q)",
            "memberInfo",
            Some("get"),
            json!({"target": g, "memberId": q}),
        ),
        (
            "mirai.memberInfo_update(G, Q, {name='card'})",
            "memberInfo",
            Some("update"),
            json!({"target": g, "memberId": q, "info": {"name": "card"}}),
        ),
        (
            "mirai.memberAdmin(G, Q, true)",
            "memberAdmin",
            None,
            json!({"target": g, "memberId": q, "assign": true}),
        ),
        (
            "mirai.resp_newFriendRequestEvent(1, 2, 3, 0)",
            "resp_newFriendRequestEvent",
            None,
            json!({"eventId": 1, "fromId": 2, "groupId": 3, "operate": 0, "message": ""}),
        ),
        (
            "mirai.resp_memberJoinRequestEvent(1, 2, 3, 1, 'no')",
            "resp_memberJoinRequestEvent",
            None,
            json!({"eventId": 1, "fromId": 2, "groupId": 3, "operate": 1, "message": "no"}),
        ),
        (
            "mirai.resp_botInvitedJoinGroupRequestEvent(1, 2, 3, 0, '')",
            "resp_botInvitedJoinGroupRequestEvent",
            None,
            json!({"eventId": 1, "fromId": 2, "groupId": 3, "operate": 0, "message": ""}),
        ),
        ("mirai.botList()", "botList", None, json!({})),
        ("mirai.sessionInfo()", "sessionInfo", None, json!({})),
        (
            "mirai.latestMemberList(G)",
            "latestMemberList",
            None,
            json!({"target": g, "memberIds": null}),
        ),
        (
            "mirai.latestMemberList(G, {Q})",
            "latestMemberList",
            None,
            json!({"target": g, "memberIds": [q]}),
        ),
        ("mirai.userProfile(Q)", "userProfile", None, json!({"target": q})),
        (
            "mirai.sendOtherClientMessage(1, 'x')",
            "sendOtherClientMessage",
            None,
            json!({"target": 1, "messageChain": plain("x")}),
        ),
        (
            "mirai.sendImageMessage(F, {'http://i/1'})",
            "sendImageMessage",
            None,
            json!({"target": FRIEND, "urls": ["http://i/1"]}),
        ),
        (
            "mirai.roamingMessages(F, 5)",
            "roamingMessages",
            None,
            json!({"target": FRIEND, "timeStart": 5, "timeEnd": i64::MAX, "qq": null, "group": null}),
        ),
        ("mirai.anno_list(G)", "anno_list", None, json!({"id": g})),
        (
            "mirai.anno_publish(G, 'hello', {pinned=true})",
            "anno_publish",
            None,
            json!({"target": g, "content": "hello", "pinned": true}),
        ),
        ("mirai.anno_delete(G, 'fid')", "anno_delete", None, json!({"id": g, "fid": "fid"})),
        ("mirai.cmd_execute('/help')", "cmd_execute", None, json!({"command": plain("/help")})),
        (
            "mirai.cmd_register('hi', {'h'})",
            "cmd_register",
            None,
            json!({"name": "hi", "alias": ["h"]}),
        ),
        ("mirai.call('about', {})", "about", None, json!({})),
        (
            "mirai.call('memberInfo', {target=G, memberId=Q}, 'get')",
            "memberInfo",
            Some("get"),
            json!({"target": g, "memberId": q}),
        ),
    ]
}

async fn every_call_reaches_the_server_as_its_command(t: Transport) {
    let table = call_table();
    let calls: String =
        table.iter().map(|(lua, ..)| format!("  pcall(function() return {lua} end)\n")).collect();
    let script = format!(
        "local G, Q, F = {GROUP}, {MEMBER}, {FRIEND}\nbot.on('load', function()\n{calls}  mirai.sendFriendMessage({REPORTER}, 'done')\nend)\n"
    );
    let bot = start_on(t, &[("calls.lua", &script)]).await;
    bot.sim.world(|w| {
        w.add_group(GROUP, "g", Permission::Administrator);
        w.add_member(GROUP, MEMBER, "m", Permission::Member);
        w.add_friend(FRIEND, "f");
    });
    bot.wait_report("done").await;
    let received: Vec<_> = bot
        .sim
        .received()
        .into_iter()
        .filter(|r| r.adapter == t.name() && !POLLING.contains(&r.command.as_str()))
        .filter(|r| !(r.command == "sendFriendMessage" && r.content["target"] == json!(REPORTER)))
        .collect();
    assert_eq!(received.len(), table.len(), "one command per call: {received:#?}");
    for ((lua, command, sub, content), got) in table.iter().zip(&received) {
        assert_eq!(got.command, *command, "{lua}");
        assert_eq!(got.sub_command.as_deref(), *sub, "{lua}");
        // A URL query has no way to say null: those keys stay out over http.
        let in_query = t == Transport::Http
            && commands::find(command, *sub).is_some_and(|c| c.method == HttpMethod::Get);
        if in_query {
            assert_eq!(without_nulls(&got.content), without_nulls(content), "{lua}");
        } else {
            assert_eq!(&got.content, content, "{lua}");
        }
    }
    bot.stop().await;
}

async fn every_event_fixture_reaches_a_callback_intact(t: Transport) {
    let script = format!(
        "bot.on('*', function(ev) mirai.sendFriendMessage({REPORTER}, json.encode(ev)) end)\n\
         bot.on('load', function() mirai.sendFriendMessage({REPORTER}, 'ready') end)\n"
    );
    let bot = start_on(t, &[("all.lua", &script)]).await;
    bot.wait_report("ready").await;
    let mut paths: Vec<_> = std::fs::read_dir("tests/fixtures/wire/events")
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    let mut expected = Vec::new();
    for p in &paths {
        let ev: Value =
            serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json");
        bot.sim.push(ev.clone());
        expected.push(ev);
    }
    let reports = bot.wait_reports(1 + expected.len()).await;
    // Callbacks answer concurrently, so reports may arrive in any order over http.
    let got: Vec<Value> =
        reports[1..].iter().map(|r| serde_json::from_str(r).expect("report is json")).collect();
    for ev in &expected {
        let want = without_nulls(ev);
        assert_eq!(
            got.iter().filter(|g| **g == want).count(),
            1,
            "{} arrives intact, once",
            ev["type"]
        );
    }
    bot.stop().await;
}

async fn ids_stay_integers_whatever_their_size(t: Transport) {
    let big: i64 = 9_007_199_254_740_993; // 2^53 + 1: not a float
    let script = format!(
        "bot.on('FriendMessage', function(ev)\n\
           mirai.sendFriendMessage({REPORTER}, math.type(ev.sender.id) .. ' ' .. tostring(ev.sender.id))\n\
         end)\n"
    );
    let bot = start_on(t, &[("ids.lua", &script)]).await;
    bot.sim.friend_message(big, json!("x"));
    bot.wait_report(&format!("integer {big}")).await;
    bot.stop().await;
}

async fn echo_answers_in_the_simulator(t: Transport) {
    let echo = std::fs::read_to_string("scripts/echo.lua").expect("the example echo script");
    let bot = start_on(t, &[("echo.lua", &echo)]).await;
    bot.sim.world(|w| w.add_group(GROUP, "g", Permission::Member));
    bot.sim.group_message(GROUP, MEMBER, json!("echo ping"));
    bot.sim
        .wait_for(common::WITHIN, "the echo", |s| {
            s.sent().iter().any(|m| {
                m.command == "sendGroupMessage"
                    && m.target == GROUP
                    && common::text(&m.chain) == "ping"
            })
        })
        .await
        .expect("echo answers");
    bot.stop().await;
}

async fn a_hundred_calls_in_flight_from_one_script(t: Transport) {
    let script = format!(
        "bot.on('load', function()\n\
           local results, n = {{}}, 0\n\
           for i = 1, 100 do\n\
             bot.after(0, function()\n\
               local id = mirai.sendFriendMessage({FRIEND}, 'm' .. i)\n\
               results[#results + 1] = i .. '=' .. id\n\
               n = n + 1\n\
               if n == 100 then mirai.sendFriendMessage({REPORTER}, table.concat(results, ',')) end\n\
             end)\n\
           end\n\
         end)\n"
    );
    let bot = start_on(t, &[("flood.lua", &script)]).await;
    bot.sim.world(|w| w.add_friend(FRIEND, "f"));
    let reports = bot.wait_reports(1).await;
    let sent: std::collections::HashMap<String, i64> = bot
        .sim
        .sent()
        .into_iter()
        .filter(|m| m.target == FRIEND)
        .map(|m| (common::text(&m.chain), m.message_id))
        .collect();
    assert_eq!(sent.len(), 100);
    let pairs: Vec<_> = reports[0].split(',').collect();
    assert_eq!(pairs.len(), 100);
    for pair in pairs {
        let (i, id) = pair.split_once('=').expect("i=id");
        assert_eq!(sent[&format!("m{i}")].to_string(), id, "call {i} got its own answer");
    }
    bot.stop().await;
}

async fn events_reach_a_script_in_order(t: Transport) {
    let script = format!(
        "local seen = {{}}\n\
         bot.on('GroupMessage', function(ev)\n\
           seen[#seen + 1] = ev.messageChain[2].text\n\
           mirai.about()\n\
           if #seen == 50 then mirai.sendFriendMessage({REPORTER}, table.concat(seen, ',')) end\n\
         end)\n"
    );
    let bot = start_on(t, &[("order.lua", &script)]).await;
    for i in 1..=50 {
        bot.sim.group_message(GROUP, MEMBER, json!(format!("{i}")));
    }
    let reports = bot.wait_reports(1).await;
    let want: Vec<String> = (1..=50).map(|i| i.to_string()).collect();
    assert_eq!(reports[0], want.join(","));
    bot.stop().await;
}

async fn a_failing_callback_disturbs_nothing_else(t: Transport) {
    let fragile = format!(
        "bot.on('FriendMessage', function(ev)\n\
           local t = ev.messageChain[2].text\n\
           if t == 'boom' then error('broken on purpose') end\n\
           mirai.sendFriendMessage({REPORTER}, 'fragile ' .. t)\n\
         end)\n"
    );
    let steady = format!(
        "bot.on('FriendMessage', function(ev)\n\
           mirai.sendFriendMessage({REPORTER}, 'steady ' .. ev.messageChain[2].text)\n\
         end)\n"
    );
    let bot = start_on(t, &[("fragile.lua", &fragile), ("steady.lua", &steady)]).await;
    bot.sim.friend_message(FRIEND, json!("boom"));
    bot.sim.friend_message(FRIEND, json!("ok"));
    bot.wait_report("fragile ok").await;
    bot.wait_report("steady ok").await;
    bot.wait_report("steady boom").await;
    assert!(!bot.reports().contains(&"fragile boom".to_owned()));
    bot.stop().await;
}

async fn errors_carry_code_msg_command_and_place(t: Transport) {
    let script = format!(
        "bot.on('load', function()\n\
           local ok, e = pcall(mirai.mute, {GROUP}, {MEMBER}, 60)\n\
           mirai.sendFriendMessage({REPORTER}, table.concat({{tostring(ok), e.code, e.msg, e.command, e.where, tostring(e)}}, '|'))\n\
           local ok2, e2 = pcall(mirai.memberList, 1)\n\
           mirai.sendFriendMessage({REPORTER}, e2.code .. '|' .. tostring(e2))\n\
           local ok3, e3 = pcall(mirai.mute, 'abc')\n\
           mirai.sendFriendMessage({REPORTER}, tostring(e3))\n\
         end)\n"
    );
    let bot = start_on(t, &[("errors.lua", &script)]).await;
    bot.sim.world(|w| {
        w.add_group(GROUP, "g", Permission::Member);
        w.add_member(GROUP, MEMBER, "m", Permission::Member);
    });
    let reports = bot.wait_reports(3).await;
    let parts: Vec<_> = reports[0].split('|').collect();
    assert_eq!(parts[0], "false");
    assert_eq!(parts[1], "10");
    assert_eq!(parts[2], "无操作权限");
    assert_eq!(parts[3], "mute");
    assert!(parts[4].ends_with("errors.lua:2"), "{}", parts[4]);
    assert_eq!(parts[5], "mute: code 10, no permission");
    assert_eq!(reports[1], "5|memberList: code 5, target not found");
    assert!(reports[2].contains("mirai.mute") && reports[2].contains("group"), "{}", reports[2]);
    bot.stop().await;
}

async fn recall_finds_the_conversation_of_a_seen_or_sent_message(t: Transport) {
    let script = format!(
        "bot.on('GroupMessage', function(ev)\n\
           pcall(mirai.recall, ev.messageChain[1].id)\n\
           local mine = mirai.sendFriendMessage({FRIEND}, 'x')\n\
           pcall(mirai.recall, mine)\n\
           local ok, e = pcall(mirai.recall, 987654)\n\
           mirai.sendFriendMessage({REPORTER}, tostring(e))\n\
         end)\n"
    );
    let bot = start_on(t, &[("recall.lua", &script)]).await;
    bot.sim.world(|w| {
        w.add_group(GROUP, "g", Permission::Administrator);
        w.add_friend(FRIEND, "f");
    });
    let id = bot.sim.group_message(GROUP, MEMBER, json!("hello"));
    let reports = bot.wait_reports(1).await;
    assert!(reports[0].contains("987654") && reports[0].contains("target"), "{}", reports[0]);
    if t.is_onebot() {
        // OneBot ids are global: `delete_msg` carries the id alone.
        let recalls: Vec<_> =
            bot.sim.received().into_iter().filter(|r| r.command == "delete_msg").collect();
        assert_eq!(recalls.len(), 2, "{recalls:?}");
        assert!(recalls.iter().all(|r| r.content["message_id"].is_i64()), "{recalls:?}");
    } else {
        let recalls: Vec<_> =
            bot.sim.received().into_iter().filter(|r| r.command == "recall").collect();
        assert_eq!(recalls.len(), 2);
        assert_eq!(recalls[0].content, json!({"messageId": id, "target": GROUP}));
        assert_eq!(recalls[1].content["target"], json!(FRIEND));
    }
    bot.stop().await;
}

async fn bot_wait_takes_the_answer_of_the_same_person(t: Transport) {
    let script = format!(
        "bot.on('FriendMessage', function(ev)\n\
           local t = ev.messageChain[2].text\n\
           if t == 'ask' then\n\
             mirai.sendFriendMessage({REPORTER}, 'name?')\n\
             local answer = bot.wait('FriendMessage', function(e) return e.sender.id == ev.sender.id end, 5)\n\
             mirai.sendFriendMessage({REPORTER}, 'hi ' .. answer.messageChain[2].text)\n\
           elseif t == 'quick' then\n\
             local none = bot.wait('FriendMessage', nil, 0.05)\n\
             mirai.sendFriendMessage({REPORTER}, 'waited ' .. tostring(none))\n\
           else\n\
             mirai.sendFriendMessage({REPORTER}, 'handler ' .. t)\n\
           end\n\
         end)\n"
    );
    let bot = start_on(t, &[("wait.lua", &script)]).await;
    bot.sim.friend_message(FRIEND, json!("ask"));
    bot.wait_report("name?").await;
    bot.sim.friend_message(FRIEND + 1, json!("other"));
    bot.wait_report("handler other").await;
    bot.sim.friend_message(FRIEND, json!("bob"));
    bot.wait_report("hi bob").await;
    assert!(
        !bot.reports().contains(&"handler bob".to_owned()),
        "the answer is taken by the waiter"
    );
    bot.sim.friend_message(FRIEND, json!("quick"));
    bot.wait_report("waited nil").await;
    bot.stop().await;
}

async fn timers_fire_and_cancel(t: Transport) {
    let script = format!(
        "local R = {REPORTER}\n\
         bot.on('load', function()\n\
           bot.after(0.01, function() mirai.sendFriendMessage(R, 'after') end)\n\
           local cancelled = bot.after(0.05, function() mirai.sendFriendMessage(R, 'never') end)\n\
           cancelled:cancel()\n\
           local n, h = 0\n\
           h = bot.every(0.01, function()\n\
             n = n + 1\n\
             if n == 3 then h:cancel(); mirai.sendFriendMessage(R, 'every 3') end\n\
           end)\n\
           bot.sleep(0.02)\n\
           mirai.sendFriendMessage(R, 'slept')\n\
         end)\n\
         bot.on('connect', function(c) mirai.sendFriendMessage(R, 'connect ' .. tostring(c.gap)) end)\n"
    );
    let bot = start_on(t, &[("timers.lua", &script)]).await;
    bot.wait_report("after").await;
    bot.wait_report("every 3").await;
    bot.wait_report("slept").await;
    bot.wait_report("connect nil").await;
    let handle = bot.sim.clone();
    bot.stop().await;
    assert!(!common::text(&json!(handle
        .sent()
        .iter()
        .map(|m| m.chain.clone())
        .collect::<Vec<_>>()))
    .contains("never"));
    let reports: Vec<_> = handle.sent().into_iter().map(|m| common::text(&m.chain)).collect();
    assert!(!reports.contains(&"never".to_owned()));
    assert_eq!(reports.iter().filter(|r| *r == "every 3").count(), 1);
}

async fn handlers_can_be_cancelled_and_unload_runs(t: Transport) {
    let script = format!(
        "local h = bot.on('FriendMessage', function(ev) mirai.sendFriendMessage({REPORTER}, 'seen') end)\n\
         bot.on('GroupMessage', function(ev) h:cancel(); mirai.sendFriendMessage({REPORTER}, 'cancelled') end)\n\
         bot.on('unload', function() mirai.sendFriendMessage({REPORTER}, 'bye') end)\n"
    );
    let bot = start_on(t, &[("cancel.lua", &script)]).await;
    bot.sim.friend_message(FRIEND, json!("a"));
    bot.wait_report("seen").await;
    bot.sim.group_message(GROUP, MEMBER, json!("b"));
    bot.wait_report("cancelled").await;
    bot.sim.friend_message(FRIEND, json!("c"));
    bot.sim.group_message(GROUP, MEMBER, json!("d"));
    bot.wait_reports(3).await;
    let sim = bot.sim.clone();
    bot.stop().await;
    let reports: Vec<_> = sim.sent().into_iter().map(|m| common::text(&m.chain)).collect();
    assert_eq!(reports.iter().filter(|r| *r == "seen").count(), 1);
    assert!(reports.contains(&"bye".to_owned()), "{reports:?}");
}

async fn a_broken_script_does_not_stop_the_others_loading(t: Transport) {
    let bot = start_on(
        t,
        &[
            ("broken.lua", "bot.on('x', function()\n"),
            ("fine.lua", "bot.on('load', function() end)\n"),
        ],
    )
    .await;
    assert_eq!(bot.scripts, vec!["fine.lua".to_owned()]);
    bot.stop().await;
}

async fn uploads_work_from_files_and_bytes(t: Transport) {
    let g = mahua::sim::DEFAULT_GROUP;
    let script = format!(
        "bot.on('load', function()\n\
           local f = assert(io.open('pic.png', 'wb')); f:write('\\137PNG fake'); f:close()\n\
           local a = mirai.uploadImage('group', 'pic.png')\n\
           local b = mirai.uploadImage('friend', {{bytes = 'raw bytes', name = 'raw.jpg'}})\n\
           local v = mirai.uploadShortVideo('group', {{bytes = 'vid', name = 'v.mp4'}}, {{bytes = 'th', name = 't.jpg'}})\n\
           local n = mirai.file_upload({g}, '', {{bytes = 'hello', name = 'notes.txt'}})\n\
           local ok, e = pcall(mirai.uploadImage, 'group', '../../etc/passwd')\n\
           mirai.sendFriendMessage({REPORTER}, table.concat({{type(a.imageId), type(b.imageId), type(v.videoId), n.name, tostring(ok), tostring(e)}}, '|'))\n\
         end)\n"
    );
    let bot = start_on(t, &[("up.lua", &script)]).await;
    let report = bot.wait_reports(1).await.remove(0);
    let parts: Vec<_> = report.split('|').collect();
    assert_eq!(parts[..5], ["string", "string", "string", "notes.txt", "false"], "{report}");
    assert!(parts[5].contains("outside the script's data folder"), "{report}");
    let uploads = bot.sim.world(|w| {
        w.uploads
            .iter()
            .map(|u| (u.kind, u.file_name.clone().unwrap_or_default(), u.size))
            .collect::<Vec<_>>()
    });
    assert_eq!(
        uploads,
        [
            ("image", "pic.png".into(), 9),
            ("image", "raw.jpg".into(), 9),
            ("video", "v.mp4".into(), 3),
            ("file", "notes.txt".into(), 5)
        ]
    );
    bot.stop().await;
}

/// Run each scenario over both adapters.
macro_rules! over_both {
    ($($name:ident),* $(,)?) => {
        mod ws {
            $(#[tokio::test] async fn $name() { super::$name(super::Transport::Ws).await })*
        }
        mod http {
            $(#[tokio::test] async fn $name() { super::$name(super::Transport::Http).await })*
        }
    };
}

over_both!(
    every_call_reaches_the_server_as_its_command,
    every_event_fixture_reaches_a_callback_intact,
    ids_stay_integers_whatever_their_size,
    echo_answers_in_the_simulator,
    a_hundred_calls_in_flight_from_one_script,
    events_reach_a_script_in_order,
    a_failing_callback_disturbs_nothing_else,
    errors_carry_code_msg_command_and_place,
    recall_finds_the_conversation_of_a_seen_or_sent_message,
    bot_wait_takes_the_answer_of_the_same_person,
    timers_fire_and_cancel,
    handlers_can_be_cancelled_and_unload_runs,
    a_broken_script_does_not_stop_the_others_loading,
    uploads_work_from_files_and_bytes,
);

/// Run each scenario over OneBot, mahua dialling the server and the server dialling mahua.
macro_rules! over_onebot {
    ($($name:ident),* $(,)?) => {
        mod onebot {
            $(#[tokio::test] async fn $name() { super::$name(super::Transport::OneBot).await })*
        }
        mod onebot_reverse {
            $(#[tokio::test] async fn $name() { super::$name(super::Transport::OneBotReverse).await })*
        }
    };
}

over_onebot!(
    ids_stay_integers_whatever_their_size,
    echo_answers_in_the_simulator,
    a_hundred_calls_in_flight_from_one_script,
    events_reach_a_script_in_order,
    a_failing_callback_disturbs_nothing_else,
    errors_carry_code_msg_command_and_place,
    recall_finds_the_conversation_of_a_seen_or_sent_message,
    bot_wait_takes_the_answer_of_the_same_person,
    timers_fire_and_cancel,
    handlers_can_be_cancelled_and_unload_runs,
    a_broken_script_does_not_stop_the_others_loading,
);
