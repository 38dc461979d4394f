//! The simulator's ws adapter, spoken to with a raw WebSocket client.

mod sim_support;

use mahua::protocol::event::is_message_type;
use mahua::sim::{Sim, SimConfig, DEFAULT_GROUP};
use serde_json::{json, Value};
use sim_support::{code, event_fixtures, sim, success, Http, Ws, BOT, KEY, WAIT};

#[tokio::test]
async fn first_frame_carries_a_fresh_session() {
    let sim = sim().await;
    let (mut ws, key) = Ws::bound(&sim, "/all").await;
    assert_eq!(key.len(), 8);
    assert!(key.chars().all(|c| c.is_ascii_alphanumeric()), "{key}");
    let info = ws.call("sessionInfo", None, json!({})).await;
    assert_eq!(
        info,
        json!({"code": 0, "msg": "", "data": {"sessionKey": key, "qq": {"id": BOT, "nickname": "mahua", "remark": ""}}})
    );
    assert_eq!(sim.session_count(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn handshake_parameters_may_come_as_headers() {
    let sim = sim().await;
    let mut ws = Ws::open(&sim, "/all", "", &[("verifyKey", KEY), ("qq", "10000")]).await;
    assert_eq!(ws.frame().await["data"]["code"], 0);
    let key = sim_support::Http::bound(&sim).await.key;
    let mut attached =
        Ws::open(&sim, "/event", "", &[("verifyKey", KEY), ("sessionKey", &key)]).await;
    assert_eq!(attached.frame().await["data"], json!({"code": 0, "session": key}));
    sim.shutdown().await;
}

async fn refused(sim: &Sim, query: &str) -> Value {
    let mut ws = Ws::open(sim, "/all", query, &[]).await;
    let frame = ws.frame().await;
    assert_eq!(frame["syncId"], "", "{frame}");
    assert_eq!(ws.closed().await, Some(1000));
    frame["data"].clone()
}

#[tokio::test]
async fn handshake_failures_send_one_frame_then_close() {
    let sim = sim().await;
    assert_eq!(
        refused(&sim, "verifyKey=wrong&qq=10000").await,
        json!({"code": 1, "msg": "Auth Key错误"})
    );
    assert_eq!(refused(&sim, "qq=10000").await["code"], 1);
    assert_eq!(
        refused(&sim, &format!("verifyKey={KEY}&qq=4242")).await,
        json!({"code": 2, "msg": "指定Bot不存在"})
    );
    assert_eq!(refused(&sim, &format!("verifyKey={KEY}")).await["code"], 400);
    assert_eq!(
        refused(&sim, &format!("verifyKey={KEY}&sessionKey=nosuchkey")).await,
        json!({"code": 3, "msg": "Session失效或不存在"})
    );
    // A session from /verify that was never bound.
    let v: Value = sim_support::client()
        .post(format!("{}/verify", sim.http_url()))
        .json(&json!({"verifyKey": KEY}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let unbound = v["session"].as_str().unwrap();
    assert_eq!(
        refused(&sim, &format!("verifyKey={KEY}&sessionKey={unbound}")).await,
        json!({"code": 4, "msg": "Session未认证"})
    );
    // Only the unbound http session is left.
    assert_eq!(sim.session_count(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn without_verification_any_key_is_accepted() {
    let sim = Sim::start(SimConfig { enable_verify: false, ..SimConfig::default() }).await.unwrap();
    let mut ws = Ws::open(&sim, "/all", "verifyKey=whatever&qq=10000", &[]).await;
    assert_eq!(ws.frame().await["data"]["code"], 0);
    let mut ws = Ws::open(&sim, "/all", "qq=10000", &[]).await;
    assert_eq!(ws.frame().await["data"]["code"], 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn single_mode_has_one_session() {
    let sim = Sim::start(SimConfig { single_mode: true, ..SimConfig::default() }).await.unwrap();
    let mut ws = Ws::open(&sim, "/all", &format!("verifyKey={KEY}"), &[]).await;
    assert_eq!(ws.frame().await["data"], json!({"code": 0, "session": "SINGLE_SESSION"}));
    assert_eq!(ws.call("friendList", None, json!({})).await["code"], 0);
    ws.close().await;
    assert_eq!(refused(&sim, "verifyKey=bad").await["code"], 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn every_event_fixture_arrives_intact_on_the_right_paths_and_in_the_queue() {
    let sim = sim().await;
    let (mut all, key) = Ws::bound(&sim, "/all").await;
    let mut messages = Ws::attach(&sim, "/message", &key).await;
    let mut events = Ws::attach(&sim, "/event", &key).await;
    let http = Http::bound(&sim).await;

    let fixtures = event_fixtures();
    assert_eq!(fixtures.len(), 48);
    for (_, event) in &fixtures {
        sim.push(event.clone());
    }
    // A last message and event mark the end of each stream.
    let end_message = json!({"type": "FriendMessage", "messageChain": [{"type": "Source", "id": 1, "time": 1}], "sender": {"id": 1, "nickname": "end", "remark": ""}});
    let end_event = json!({"type": "BotOnlineEvent", "qq": 424242});
    sim.push(end_message.clone());
    sim.push(end_event.clone());

    for (name, event) in &fixtures {
        let got = all.frame().await;
        assert_eq!(got, json!({"syncId": "-1", "data": event}), "{name} on /all");
        // Key order is kept too.
        assert_eq!(got["data"].to_string(), event.to_string(), "{name} order");
    }
    let expect = |pred: fn(&str) -> bool| {
        fixtures
            .iter()
            .filter(move |(_, e)| pred(e["type"].as_str().unwrap_or_default()))
            .map(|(_, e)| e.clone())
    };
    for event in expect(is_message_type).chain([end_message.clone()]) {
        assert_eq!(messages.frame().await["data"], event);
    }
    for event in expect(|t| !is_message_type(t)).chain([end_event.clone()]) {
        assert_eq!(events.frame().await["data"], event);
    }
    let queued = http.get("/fetchMessage", &[("count", "100".to_owned())]).await;
    let mut want: Vec<Value> = fixtures.iter().map(|(_, e)| e.clone()).collect();
    want.push(end_message);
    want.push(end_event);
    assert_eq!(queued, json!({"code": 0, "msg": "", "data": want}));
    sim.shutdown().await;
}

#[tokio::test]
async fn sync_ids_are_echoed_as_strings() {
    let sim = sim().await;
    let (mut ws, _) = Ws::bound(&sim, "/all").await;
    ws.send(&json!({"syncId": "abc", "command": "about"})).await;
    assert_eq!(
        ws.frame().await,
        json!({"syncId": "abc", "data": {"code": 0, "msg": "", "data": {"version": "2.10.0"}}})
    );
    ws.send(&json!({"syncId": 123, "command": "botList", "content": {}})).await;
    assert_eq!(
        ws.frame().await,
        json!({"syncId": "123", "data": {"code": 0, "msg": "", "data": [BOT]}})
    );
    ws.send(&json!({"syncId": null, "command": "botList"})).await;
    assert_eq!(ws.frame().await["data"]["code"], 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn frames_that_cannot_be_read_get_a_bare_400() {
    let sim = sim().await;
    let (mut ws, _) = Ws::bound(&sim, "/all").await;
    let bare = json!({"code": 400, "msg": "无效参数"});
    for text in [
        "",
        "not json",
        "[1,2]",
        "42",
        "null",
        "\"about\"",
        r#"{"syncId":"1"}"#,
        r#"{"command":"about"}"#,
        r#"{"syncId":"1","command":7}"#,
        r#"{"syncId":true,"command":"about"}"#,
        r#"{"syncId":{},"command":"about"}"#,
        r#"{"syncId":"1","command":"about","subCommand":5}"#,
        r#"{"syncId":"1","command":"about""#,
    ] {
        ws.send_text(text).await;
        assert_eq!(ws.frame().await, bare, "for {text:?}");
    }
    assert_eq!(ws.call("about", None, Value::Null).await["code"], 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_and_http_only_commands_are_unsupported() {
    let sim = sim().await;
    let (mut ws, _) = Ws::bound(&sim, "/all").await;
    let six = json!({"code": 6, "msg": "指定操作不支持"});
    for (command, sub) in [
        ("noSuchCommand", None),
        ("groupConfig", Some("delete")),
        ("groupConfig", None),
        ("memberInfo", Some("set")),
        ("uploadImage", None),
        ("uploadVoice", None),
        ("uploadShortVideo", None),
        ("file_upload", None),
        ("fetchMessage", None),
        ("countMessage", None),
        ("verify", None),
        ("bind", None),
        ("release", None),
    ] {
        assert_eq!(
            ws.call(command, sub, json!({"target": DEFAULT_GROUP})).await,
            six,
            "{command} {sub:?}"
        );
    }
    // Other commands ignore a subCommand.
    assert_eq!(ws.call("friendList", Some("whatever"), json!({})).await["code"], 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_content_is_400() {
    let sim = sim().await;
    let (mut ws, _) = Ws::bound(&sim, "/all").await;
    let bad = json!({"code": 400, "msg": "无效参数"});
    for (command, content) in [
        ("mute", Value::Null),
        ("mute", json!({})),
        ("mute", json!({"target": "100000"})),
        ("mute", json!({"target": DEFAULT_GROUP, "time": "60"})),
        ("mute", json!({"target": DEFAULT_GROUP, "time": 1u64 << 40})),
        ("mute", json!([DEFAULT_GROUP])),
        ("mute", json!(5)),
        ("sessionInfo", Value::Null),
        ("memberList", json!({"target": null})),
        ("memberList", json!({"target": 1.5})),
        ("memberList", json!({"target": u64::MAX})),
        ("sendGroupMessage", json!({"target": DEFAULT_GROUP})),
        ("sendGroupMessage", json!({"target": DEFAULT_GROUP, "messageChain": "hi"})),
        ("sendGroupMessage", json!({"target": DEFAULT_GROUP, "messageChain": [{"text": "x"}]})),
        ("sendGroupMessage", json!({"target": DEFAULT_GROUP, "messageChain": [{"type": "Nope"}]})),
        (
            "sendGroupMessage",
            json!({"target": DEFAULT_GROUP, "messageChain": [{"type": "Plain", "text": 1}]}),
        ),
        ("latestMemberList", json!({"target": DEFAULT_GROUP})),
        ("roamingMessages", json!({"timeStart": 0, "timeEnd": 1, "target": 1})),
        ("groupConfig", json!({"target": DEFAULT_GROUP, "config": "x"})),
    ] {
        let sub = (command == "groupConfig").then_some("update");
        assert_eq!(ws.call(command, sub, content.clone()).await, bad, "{command} {content}");
    }
    // Commands without parameters run without content.
    for command in ["about", "botList", "friendList", "groupList"] {
        assert_eq!(code(&ws.call(command, None, Value::Null).await), 0, "{command}");
    }
    assert_eq!(ws.call("botProfile", None, Value::Null).await["nickname"], "mahua");
    // Nullable keys may be null.
    let latest = ws
        .call("latestMemberList", None, json!({"target": DEFAULT_GROUP, "memberIds": null}))
        .await;
    assert_eq!(latest["data"].as_array().map(Vec::len), Some(4));
    sim.shutdown().await;
}

#[tokio::test]
async fn frames_on_one_socket_are_answered_in_order() {
    let sim = sim().await;
    let (mut ws, _) = Ws::bound(&sim, "/all").await;
    for i in 0..100 {
        let frame = json!({"syncId": i.to_string(), "command": "sendGroupMessage", "content": {"target": DEFAULT_GROUP, "messageChain": [{"type": "Plain", "text": i.to_string()}]}});
        ws.send(&frame).await;
    }
    for i in 0..100 {
        let reply = ws.frame().await;
        assert_eq!(reply["syncId"], i.to_string());
        assert_eq!(reply["data"]["messageId"], i + 1);
    }
    let texts: Vec<String> =
        sim.sent().iter().map(|s| s.chain[0]["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(texts, (0..100).map(|i| i.to_string()).collect::<Vec<_>>());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_new_socket_on_the_same_path_and_session_closes_the_older_one() {
    let sim = sim().await;
    let (mut first, key) = Ws::bound(&sim, "/all").await;
    let mut other_path = Ws::attach(&sim, "/message", &key).await;
    let mut second = Ws::attach(&sim, "/all", &key).await;
    assert_eq!(first.closed().await, Some(1000));
    // The session lives on with the newer sockets.
    assert_eq!(code(&second.call("friendList", None, json!({})).await), 0);
    sim.friend_message(12345, json!("hi"));
    assert_eq!(other_path.frame().await["data"]["type"], "FriendMessage");
    assert_eq!(second.frame().await["data"]["type"], "FriendMessage");
    assert_eq!(sim.session_count(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_session_made_by_a_socket_ends_with_it() {
    let sim = sim().await;
    let (ws, key) = Ws::bound(&sim, "/all").await;
    let extra = Ws::attach(&sim, "/event", &key).await;
    assert_eq!(sim.session_count(), 1);
    ws.close().await;
    extra.close().await;
    sim.wait_for(WAIT, "the socket's session to end", |s| s.session_count() == 0).await.unwrap();
    assert_eq!(refused(&sim, &format!("verifyKey={KEY}&sessionKey={key}")).await["code"], 3);

    // An http session a socket attached to survives the socket.
    let http = Http::bound(&sim).await;
    let ws = Ws::attach(&sim, "/all", &http.key).await;
    ws.close().await;
    sim.wait_for(WAIT, "the socket to detach", |s| s.socket_count() == 0).await.unwrap();
    assert_eq!(sim.session_count(), 1);
    assert_eq!(code(&http.get("/friendList", &[]).await), 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn garbage_never_breaks_the_socket() {
    let sim = sim().await;
    let (mut ws, _) = Ws::bound(&sim, "/all").await;
    let weird = [
        Value::Null,
        json!(true),
        json!(-1),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e308),
        json!(""),
        json!("x".repeat(10_000)),
        json!([]),
        json!([null]),
        json!({}),
        json!({"type": "Plain"}),
        json!([{"type": "Plain", "text": "x"}]),
    ];
    let mut n = 0;
    for cmd in mahua::protocol::COMMANDS {
        for value in &weird {
            let mut content = serde_json::Map::new();
            for p in cmd.params {
                content.insert(p.key.to_owned(), value.clone());
            }
            for frame_content in [Value::Object(content), value.clone()] {
                let frame = json!({"syncId": n.to_string(), "command": cmd.name, "subCommand": cmd.sub, "content": frame_content});
                ws.send(&frame).await;
                let reply = ws.frame().await;
                assert_eq!(reply["syncId"], n.to_string(), "{frame}");
                assert!(
                    reply["data"].is_object()
                        || reply["data"].is_array()
                        || reply["data"].is_number(),
                    "{frame} -> {reply}"
                );
                n += 1;
            }
        }
    }
    assert_eq!(ws.call("groupList", None, json!({})).await["code"], 0);
    let (mut fresh, _) = Ws::bound(&sim, "/all").await;
    assert_eq!(fresh.call("about", None, json!({})).await["code"], 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn pushes_interleave_with_replies() {
    let sim = sim().await;
    let (mut ws, key) = Ws::bound(&sim, "/all").await;
    let mut events = Ws::attach(&sim, "/event", &key).await;
    let id = sim.group_message(DEFAULT_GROUP, 20003, json!("ping"));
    let push = ws.frame().await;
    assert_eq!(push["syncId"], "-1");
    assert_eq!(push["data"]["messageChain"][0]["id"], id);
    assert_eq!(push["data"]["messageChain"][1], json!({"type": "Plain", "text": "ping"}));
    let reply = ws
        .call("sendGroupMessage", None, json!({"target": DEFAULT_GROUP, "quote": id, "messageChain": [{"type": "Plain", "text": "pong"}]}))
        .await;
    assert_eq!(reply["code"], 0);
    assert_eq!(reply["msg"], "success");
    let sent = sim.sent();
    assert_eq!(sent[0].quote, Some(id));
    let cached = ws
        .call(
            "messageFromId",
            None,
            json!({"target": DEFAULT_GROUP, "messageId": reply["messageId"]}),
        )
        .await;
    assert_eq!(cached["data"]["messageChain"][1]["type"], "Quote");
    assert_eq!(cached["data"]["sender"]["id"], BOT);
    assert_eq!(
        success(),
        ws.call("recall", None, json!({"target": DEFAULT_GROUP, "messageId": reply["messageId"]}))
            .await
    );
    // The recall is an event for every session.
    let event = events.frame().await;
    assert_eq!(event["data"]["type"], "GroupRecallEvent");
    assert_eq!(event["data"]["operator"], Value::Null);
    sim.shutdown().await;
}
