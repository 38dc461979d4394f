//! The simulator's OneBot v11 face, spoken to with a raw WebSocket client.

mod sim_support;

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::SinkExt;
use mahua::sim::{Sim, SimConfig, SimProtocol, DEFAULT_FRIEND, DEFAULT_GROUP};
use serde_json::{json, Value};
use sim_support::{Got, BOT, WAIT};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

fn onebot() -> SimConfig {
    SimConfig { protocol: SimProtocol::OneBot, ..SimConfig::default() }
}

async fn start(cfg: SimConfig) -> Sim {
    Sim::start(cfg).await.expect("start sim")
}

/// A raw OneBot client on either end of a socket.
struct Ob<S> {
    stream: WebSocketStream<S>,
    echo: u64,
    /// Events that came while waiting for an answer.
    early: VecDeque<Value>,
}

type Client = Ob<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Client {
    /// Connect to `path?query` with extra headers.
    async fn open(sim: &Sim, path_query: &str, headers: &[(&str, &str)]) -> Client {
        let url = format!("{}{path_query}", sim.onebot_url());
        let mut req = url.into_client_request().expect("request");
        for (k, v) in headers {
            req.headers_mut().insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                v.parse().expect("header value"),
            );
        }
        let (stream, _) = tokio_tungstenite::connect_async(req).await.expect("connect");
        Ob { stream, echo: 0, early: VecDeque::new() }
    }

    /// Connect without a token and read the lifecycle frame.
    async fn connected(sim: &Sim) -> Client {
        let mut ob = Self::open(sim, "", &[]).await;
        ob.lifecycle().await;
        ob
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Ob<S> {
    async fn next(&mut self) -> Got {
        sim_support::next_frame(&mut self.stream).await
    }

    async fn frame(&mut self) -> Value {
        match self.next().await {
            Got::Frame(v) => v,
            Got::Closed(c) => panic!("socket closed ({c:?}) while waiting for a frame"),
        }
    }

    async fn lifecycle(&mut self) {
        let first = self.frame().await;
        assert_eq!(first["post_type"], "meta_event", "{first}");
        assert_eq!(first["meta_event_type"], "lifecycle");
        assert_eq!(first["sub_type"], "connect");
        assert_eq!(first["self_id"], BOT);
    }

    async fn send(&mut self, v: &Value) {
        self.stream.send(Message::text(v.to_string())).await.expect("send");
    }

    /// The next frame that is not a heartbeat.
    async fn non_heartbeat(&mut self) -> Value {
        loop {
            let v = self.frame().await;
            if v["meta_event_type"] != "heartbeat" {
                return v;
            }
        }
    }

    /// Call an action and return the whole answer (events before it are kept for [`Ob::event`]).
    async fn call(&mut self, action: &str, params: Value) -> Value {
        self.echo += 1;
        let echo = format!("e{}", self.echo);
        self.send(&json!({ "action": action, "params": params, "echo": echo })).await;
        loop {
            let v = self.frame().await;
            if v.get("echo") == Some(&json!(echo)) {
                return v;
            }
            assert!(v.get("post_type").is_some(), "unexpected frame {v}");
            if v["post_type"] != "meta_event" {
                self.early.push_back(v);
            }
        }
    }

    /// Call an action that must succeed; its `data`.
    async fn ok(&mut self, action: &str, params: Value) -> Value {
        let v = self.call(action, params).await;
        assert_eq!(v["status"], "ok", "{action}: {v}");
        assert_eq!(v["retcode"], 0, "{action}: {v}");
        v["data"].clone()
    }

    /// The next event (not a meta event, not an answer).
    async fn event(&mut self) -> Value {
        if let Some(v) = self.early.pop_front() {
            return v;
        }
        loop {
            let v = self.frame().await;
            if v.get("post_type").is_some_and(|p| p != "meta_event") {
                return v;
            }
        }
    }
}

#[tokio::test]
async fn token_in_header_or_query_missing_is_401_wrong_is_1403() {
    let sim = start(SimConfig { access_token: Some("tok".into()), ..onebot() }).await;
    let mut a = Client::open(&sim, "", &[("Authorization", "Bearer tok")]).await;
    a.lifecycle().await;
    let mut b = Client::open(&sim, "ws?access_token=tok", &[]).await;
    b.lifecycle().await;
    assert_eq!(b.ok("get_login_info", json!({})).await["user_id"], BOT);

    let req = sim.onebot_url().into_client_request().unwrap();
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401),
        other => panic!("expected a 401 refusal, got {:?}", other.map(|_| ())),
    }

    let mut wrong = Client::open(&sim, "?access_token=nope", &[]).await;
    assert_eq!(
        wrong.frame().await,
        json!({"status":"failed","retcode":1403,"data":null,"message":"token验证失败","wording":"token验证失败","echo":null})
    );
    assert!(matches!(wrong.next().await, Got::Closed(_)));
    sim.shutdown().await;
}

#[tokio::test]
async fn lifecycle_first_then_heartbeats_which_can_be_paused() {
    let sim = start(SimConfig { heartbeat: Duration::from_millis(30), ..onebot() }).await;
    let mut ob = Client::connected(&sim).await;
    let beat = ob.frame().await;
    assert_eq!(beat["meta_event_type"], "heartbeat", "{beat}");
    assert_eq!(beat["interval"], 30);
    assert_eq!(beat["status"], json!({"online": true, "good": true}));
    assert_eq!(beat["self_id"], BOT);

    sim.pause_heartbeats(true);
    // Whatever beat was on its way arrives before this answer; after it, none come.
    ob.call("get_status", json!({})).await;
    for _ in 0..3 {
        ob.send(&json!({"action": "get_status", "echo": "quiet"})).await;
        let next = ob.frame().await;
        assert_eq!(next["echo"], "quiet", "a heartbeat came while paused: {next}");
    }
    sim.pause_heartbeats(false);
    assert_eq!(ob.frame().await["meta_event_type"], "heartbeat");
    sim.shutdown().await;
}

#[tokio::test]
async fn echo_comes_back_unchanged_and_errors_have_retcodes() {
    let sim = start(onebot()).await;
    let mut ob = Client::connected(&sim).await;
    for echo in [json!("abc"), json!(42), json!({"k": [1, "x"]}), json!(1.5)] {
        ob.send(&json!({"action": "get_status", "params": {}, "echo": echo})).await;
        let v = ob.frame().await;
        assert_eq!(v["echo"], echo);
        assert_eq!(v["status"], "ok");
    }
    ob.send(&json!({"action": "get_status"})).await;
    assert_eq!(ob.frame().await["echo"], Value::Null);

    let unknown = ob.call("no_such_action", json!({})).await;
    assert_eq!(
        (unknown["status"].clone(), unknown["retcode"].clone()),
        (json!("failed"), json!(1404))
    );
    ob.stream.send(Message::text("{not json")).await.unwrap();
    assert_eq!(ob.frame().await["retcode"], 1400);
    // A world command that fails: NapCat's 1200 with the reason.
    let v = ob.call("send_group_msg", json!({"group_id": 4242, "message": "x"})).await;
    assert_eq!(v["retcode"], 1200, "{v}");
    assert!(!v["message"].as_str().unwrap().is_empty());
    assert_eq!(v["wording"], v["message"]);
    // The _async suffix queues the call.
    let v = ob
        .call("send_group_msg_async", json!({"group_id": DEFAULT_GROUP, "message": "later"}))
        .await;
    assert_eq!((v["status"].clone(), v["retcode"].clone()), (json!("async"), json!(1)));
    sim.wait_for(WAIT, "the async send", |s| s.sent().len() == 1).await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn info_actions_answer_in_napcat_shapes() {
    let sim = start(onebot()).await;
    let mut ob = Client::connected(&sim).await;
    assert_eq!(
        ob.ok("get_login_info", json!({})).await,
        json!({"user_id": BOT, "nickname": "mahua"})
    );
    let version = ob.ok("get_version_info", json!({})).await;
    assert_eq!(version["app_name"], "mahua-sim");
    assert_eq!(version["protocol_version"], "v11");
    assert!(version["app_version"].is_string());
    let status = ob.ok("get_status", json!({})).await;
    assert_eq!((status["online"].clone(), status["good"].clone()), (json!(true), json!(true)));

    let friends = ob.ok("get_friend_list", json!({})).await;
    assert_eq!(friends, json!([{"user_id": DEFAULT_FRIEND, "nickname": "alice", "remark": ""}]));
    let groups = ob.ok("get_group_list", json!({})).await;
    assert_eq!(groups[0]["group_id"], DEFAULT_GROUP);
    assert_eq!(groups[0]["group_name"], "mahua playground");
    assert_eq!(groups[0]["member_count"], 5);
    assert!(groups[0]["max_member_count"].is_i64());
    let info = ob.ok("get_group_info", json!({"group_id": DEFAULT_GROUP.to_string()})).await;
    assert_eq!(info["group_id"], DEFAULT_GROUP);

    let members = ob.ok("get_group_member_list", json!({"group_id": DEFAULT_GROUP})).await;
    let members = members.as_array().unwrap();
    assert_eq!(members.len(), 5);
    let me = members.iter().find(|m| m["user_id"] == BOT).unwrap();
    assert_eq!(me["role"], "admin");
    let bob =
        ob.ok("get_group_member_info", json!({"group_id": DEFAULT_GROUP, "user_id": 20001})).await;
    for key in [
        "group_id",
        "user_id",
        "nickname",
        "card",
        "role",
        "title",
        "join_time",
        "last_sent_time",
        "level",
        "shut_up_timestamp",
    ] {
        assert!(bob.get(key).is_some(), "member lacks {key}: {bob}");
    }
    assert_eq!((bob["role"].clone(), bob["card"].clone()), (json!("owner"), json!("bob")));
    let missing =
        ob.call("get_group_member_info", json!({"group_id": DEFAULT_GROUP, "user_id": 1})).await;
    assert_eq!(missing["retcode"], 1200);
    let stranger = ob.ok("get_stranger_info", json!({"user_id": DEFAULT_FRIEND})).await;
    assert_eq!(
        (stranger["user_id"].clone(), stranger["nickname"].clone()),
        (json!(DEFAULT_FRIEND), json!("alice"))
    );
    assert_eq!(stranger["sex"], "unknown");

    let received = sim.received();
    let last = received.last().unwrap();
    assert_eq!(last.adapter, "onebot");
    assert_eq!(last.command, "get_stranger_info");
    assert_eq!(last.content, json!({"user_id": DEFAULT_FRIEND}));
    sim.shutdown().await;
}

#[tokio::test]
async fn friend_message_arrives_as_segments_or_as_a_cq_string() {
    for cq in [false, true] {
        let sim = start(SimConfig { cq_strings: cq, ..onebot() }).await;
        let mut ob = Client::connected(&sim).await;
        let id = sim.friend_message(
            DEFAULT_FRIEND,
            json!([{"type": "Plain", "text": "hi [x]"}, {"type": "Face", "faceId": 14}]),
        );
        let ev = ob.event().await;
        assert_eq!(ev["post_type"], "message");
        assert_eq!(ev["message_type"], "private");
        assert_eq!(ev["sub_type"], "friend");
        assert_eq!(ev["user_id"], DEFAULT_FRIEND);
        assert_eq!(ev["self_id"], BOT);
        assert_eq!(ev["font"], 0);
        assert_eq!(ev["sender"]["user_id"], DEFAULT_FRIEND);
        assert_eq!(ev["sender"]["nickname"], "alice");
        assert!(ev["message_id"].as_i64().unwrap() > 0);
        assert_eq!(ev["raw_message"], "hi &#91;x&#93;[CQ:face,id=14]");
        if cq {
            assert_eq!(ev["message"], "hi &#91;x&#93;[CQ:face,id=14]");
        } else {
            assert_eq!(
                ev["message"],
                json!([{"type": "text", "data": {"text": "hi [x]"}}, {"type": "face", "data": {"id": "14"}}])
            );
        }
        // The global id leads back to the world's message.
        let got = ob.ok("get_msg", json!({"message_id": ev["message_id"]})).await;
        assert_eq!(got["message_id"], ev["message_id"]);
        assert_eq!(got["user_id"], DEFAULT_FRIEND);
        assert!(id > 0);
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn group_messages_and_notices_are_translated() {
    let sim = start(onebot()).await;
    let mut ob = Client::connected(&sim).await;
    sim.group_message(DEFAULT_GROUP, 20003, json!("hello"));
    let ev = ob.event().await;
    assert_eq!(
        (ev["message_type"].clone(), ev["sub_type"].clone()),
        (json!("group"), json!("normal"))
    );
    assert_eq!(ev["group_id"], DEFAULT_GROUP);
    assert_eq!(ev["sender"]["user_id"], 20003);
    assert_eq!(ev["sender"]["card"], "dave");
    assert_eq!(ev["sender"]["role"], "member");
    assert!(ev["sender"].get("title").is_some());
    let group_msg = ev["message_id"].clone();

    sim.temp_message(DEFAULT_GROUP, 20003, json!("psst"));
    let ev = ob.event().await;
    assert_eq!(
        (ev["message_type"].clone(), ev["sub_type"].clone()),
        (json!("private"), json!("group"))
    );
    assert_eq!(ev["group_id"], DEFAULT_GROUP);

    sim.member_join(DEFAULT_GROUP, 777);
    let ev = ob.event().await;
    assert_eq!(ev["notice_type"], "group_increase");
    assert_eq!((ev["sub_type"].clone(), ev["user_id"].clone()), (json!("approve"), json!(777)));

    sim.nudge(20001, BOT, Some(DEFAULT_GROUP));
    let ev = ob.event().await;
    assert_eq!(
        (ev["notice_type"].clone(), ev["sub_type"].clone()),
        (json!("notify"), json!("poke"))
    );
    assert_eq!(
        (ev["group_id"].clone(), ev["user_id"].clone(), ev["target_id"].clone()),
        (json!(DEFAULT_GROUP), json!(20001), json!(BOT))
    );
    sim.nudge(DEFAULT_FRIEND, BOT, None);
    let ev = ob.event().await;
    assert_eq!(
        (ev["user_id"].clone(), ev["sender_id"].clone()),
        (json!(DEFAULT_FRIEND), json!(DEFAULT_FRIEND))
    );
    assert!(ev.get("group_id").is_none());

    // Effects of actions come back as notices: a recall, a mute, mute-all, a card change.
    assert_eq!(ob.ok("delete_msg", json!({"message_id": group_msg})).await, Value::Null);
    let ev = ob.event().await;
    assert_eq!(ev["notice_type"], "group_recall");
    assert_eq!(
        (ev["message_id"].clone(), ev["user_id"].clone(), ev["operator_id"].clone()),
        (group_msg, json!(20003), json!(BOT))
    );
    ob.ok("set_group_ban", json!({"group_id": DEFAULT_GROUP, "user_id": 20003, "duration": 60}))
        .await;
    let ev = ob.event().await;
    assert_eq!(
        (ev["notice_type"].clone(), ev["sub_type"].clone(), ev["duration"].clone()),
        (json!("group_ban"), json!("ban"), json!(60))
    );
    let member =
        ob.ok("get_group_member_info", json!({"group_id": DEFAULT_GROUP, "user_id": 20003})).await;
    assert!(member["shut_up_timestamp"].as_i64().unwrap() > 0);
    ob.ok("set_group_ban", json!({"group_id": DEFAULT_GROUP, "user_id": 20003, "duration": 0}))
        .await;
    assert_eq!(ob.event().await["sub_type"], "lift_ban");
    ob.ok("set_group_whole_ban", json!({"group_id": DEFAULT_GROUP, "enable": true})).await;
    let ev = ob.event().await;
    assert_eq!((ev["user_id"].clone(), ev["duration"].clone()), (json!(0), json!(-1)));
    ob.ok("set_group_card", json!({"group_id": DEFAULT_GROUP, "user_id": 20003, "card": "D"}))
        .await;
    let ev = ob.event().await;
    assert_eq!(
        (ev["notice_type"].clone(), ev["card_new"].clone(), ev["card_old"].clone()),
        (json!("group_card"), json!("D"), json!("dave"))
    );

    // Raw OneBot events go out as they are.
    let odd = json!({"post_type": "notice", "notice_type": "essence", "weird": [1]});
    sim.push_onebot(odd.clone());
    assert_eq!(ob.event().await, odd);
    sim.shutdown().await;
}

#[tokio::test]
async fn sends_record_the_mah_command_and_chain() {
    let sim = start(onebot()).await;
    let mut ob = Client::connected(&sim).await;
    let sent = ob.ok("send_group_msg", json!({"group_id": DEFAULT_GROUP, "message": [{"type": "text", "data": {"text": "hi"}}, {"type": "at", "data": {"qq": "20001"}}]})).await;
    assert!(sent["message_id"].as_i64().unwrap() > 0);
    let log = sim.sent();
    assert_eq!(log[0].command, "sendGroupMessage");
    assert_eq!(log[0].target, DEFAULT_GROUP);
    assert_eq!(
        log[0].chain,
        json!([{"type": "Plain", "text": "hi"}, {"type": "At", "target": 20001, "display": ""}])
    );

    // A CQ string, and a reply to the message just sent (the quote is the world's id).
    let reply = format!("[CQ:reply,id={}]again", sent["message_id"]);
    ob.ok(
        "send_msg",
        json!({"message_type": "group", "group_id": DEFAULT_GROUP, "message": reply}),
    )
    .await;
    let log = sim.sent();
    assert_eq!(log[1].chain, json!([{"type": "Plain", "text": "again"}]));
    assert_eq!(log[1].quote, Some(log[0].message_id));

    ob.ok("send_private_msg", json!({"user_id": DEFAULT_FRIEND, "message": "to alice"})).await;
    ob.ok(
        "send_private_msg",
        json!({"user_id": 20003, "group_id": DEFAULT_GROUP, "message": "to dave"}),
    )
    .await;
    let log = sim.sent();
    assert_eq!((log[2].command.as_str(), log[2].target), ("sendFriendMessage", DEFAULT_FRIEND));
    assert_eq!(log[2].chain, json!([{"type": "Plain", "text": "to alice"}]));
    assert_eq!(
        (log[3].command.as_str(), log[3].target, log[3].group),
        ("sendTempMessage", 20003, Some(DEFAULT_GROUP))
    );

    // A forward, and reading it back.
    let fwd = ob.ok("send_group_forward_msg", json!({"group_id": DEFAULT_GROUP, "messages": [
        {"type": "node", "data": {"user_id": "20001", "nickname": "bob", "content": [{"type": "text", "data": {"text": "one"}}]}},
        {"type": "node", "data": {"id": sent["message_id"]}},
    ]})).await;
    let log = sim.sent();
    assert_eq!(log[4].chain[0]["type"], "Forward");
    assert_eq!(
        log[4].chain[0]["nodeList"][0]["messageChain"],
        json!([{"type": "Plain", "text": "one"}])
    );
    assert_eq!(log[4].chain[0]["nodeList"][1]["senderId"], BOT);
    let back = ob.ok("get_forward_msg", json!({"id": fwd["forward_id"]})).await;
    assert_eq!(back["messages"][0]["message"], json!([{"type": "text", "data": {"text": "one"}}]));
    ob.ok(
        "send_private_forward_msg",
        json!({"user_id": DEFAULT_FRIEND, "messages": [
            {"type": "node", "data": {"name": "x", "uin": 1, "content": "two"}},
        ]}),
    )
    .await;
    assert_eq!(sim.sent()[5].command, "sendFriendMessage");

    // History and essence through the global ids.
    let history =
        ob.ok("get_group_msg_history", json!({"group_id": DEFAULT_GROUP, "count": 2})).await;
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["message_id"], fwd["message_id"]);
    let history = ob.ok("get_friend_msg_history", json!({"user_id": DEFAULT_FRIEND})).await;
    assert_eq!(history["messages"][0]["raw_message"], "to alice");
    ob.ok("set_essence_msg", json!({"message_id": sent["message_id"]})).await;
    assert_eq!(sim.world(|w| w.essences.clone()), vec![(DEFAULT_GROUP, log[0].message_id)]);
    sim.shutdown().await;
}

#[tokio::test]
async fn group_management_actions_act_on_the_world() {
    let sim = start(onebot()).await;
    sim.world(|w| {
        w.add_group(300, "owned", mahua::sim::Permission::Owner);
        w.add_member(300, 31, "m31", mahua::sim::Permission::Member);
        w.add_member(300, 32, "m32", mahua::sim::Permission::Member);
    });
    let mut ob = Client::connected(&sim).await;
    ob.ok("set_group_admin", json!({"group_id": 300, "user_id": 31, "enable": true})).await;
    let ev = ob.event().await;
    assert_eq!(
        (ev["notice_type"].clone(), ev["sub_type"].clone()),
        (json!("group_admin"), json!("set"))
    );
    ob.ok(
        "set_group_special_title",
        json!({"group_id": 300, "user_id": 31, "special_title": "boss"}),
    )
    .await;
    assert_eq!(ob.event().await["title"], "boss");
    ob.ok("set_group_name", json!({"group_id": 300, "group_name": "renamed"})).await;
    assert_eq!(ob.event().await["name_new"], "renamed");
    ob.ok("set_group_kick", json!({"group_id": 300, "user_id": 32, "reject_add_request": true}))
        .await;
    let ev = ob.event().await;
    assert_eq!(
        (ev["notice_type"].clone(), ev["sub_type"].clone()),
        (json!("group_decrease"), json!("kick"))
    );
    assert!(sim.world(|w| w.blacklist.contains(&32)));
    ob.ok("group_poke", json!({"group_id": 300, "user_id": 31})).await;
    ob.ok("friend_poke", json!({"user_id": DEFAULT_FRIEND})).await;
    assert_eq!(sim.world(|w| w.nudges.len()), 2);

    // Notices.
    ob.ok("_send_group_notice", json!({"group_id": 300, "content": "read me"})).await;
    let notices = ob.ok("_get_group_notice", json!({"group_id": 300})).await;
    assert_eq!(notices[0]["message"]["text"], "read me");
    ob.ok("_del_group_notice", json!({"group_id": 300, "notice_id": notices[0]["notice_id"]}))
        .await;
    assert_eq!(ob.ok("_get_group_notice", json!({"group_id": 300})).await, json!([]));

    // Files.
    let folder = ob.ok("create_group_file_folder", json!({"group_id": 300, "name": "docs"})).await;
    let folder_id = folder["folder_id"].as_str().unwrap().to_owned();
    let up = ob.ok("upload_group_file", json!({"group_id": 300, "file": "base64://aGVsbG8=", "name": "a.txt", "folder": folder_id})).await;
    let root = ob.ok("get_group_root_files", json!({"group_id": 300})).await;
    assert_eq!(root["folders"][0]["folder_name"], "docs");
    assert_eq!(root["files"], json!([]));
    let inside =
        ob.ok("get_group_files_by_folder", json!({"group_id": 300, "folder_id": folder_id})).await;
    assert_eq!(inside["files"][0]["file_name"], "a.txt");
    assert_eq!(inside["files"][0]["file_id"], up["file_id"]);
    ob.ok("delete_group_file", json!({"group_id": 300, "file_id": up["file_id"]})).await;
    let inside =
        ob.ok("get_group_files_by_folder", json!({"group_id": 300, "folder_id": folder_id})).await;
    assert_eq!(inside["files"], json!([]));

    // Owners cannot leave; others can, and friends can be deleted.
    assert_eq!(ob.call("set_group_leave", json!({"group_id": 300})).await["retcode"], 1200);
    ob.ok("set_group_leave", json!({"group_id": DEFAULT_GROUP})).await;
    assert!(sim.world(|w| w.group(DEFAULT_GROUP).is_none()));
    ob.ok("delete_friend", json!({"user_id": DEFAULT_FRIEND})).await;
    assert!(sim.world(|w| w.friend(DEFAULT_FRIEND).is_none()));
    sim.shutdown().await;
}

#[tokio::test]
async fn request_flags_round_trip() {
    let sim = start(onebot()).await;
    let mut ob = Client::connected(&sim).await;
    sim.new_friend_request(555, "hi");
    let ev = ob.event().await;
    assert_eq!(
        (ev["post_type"].clone(), ev["request_type"].clone()),
        (json!("request"), json!("friend"))
    );
    assert_eq!((ev["user_id"].clone(), ev["comment"].clone()), (json!(555), json!("hi")));
    let flag = ev["flag"].as_str().expect("flag is a string").to_owned();
    ob.ok("set_friend_add_request", json!({"flag": flag, "approve": true})).await;
    let ev = ob.event().await;
    assert_eq!(
        (ev["notice_type"].clone(), ev["user_id"].clone()),
        (json!("friend_add"), json!(555))
    );
    assert!(sim.world(|w| w.friend(555).is_some()));
    assert_eq!(ob.call("set_friend_add_request", json!({"flag": flag})).await["retcode"], 1200);

    sim.member_join_request(DEFAULT_GROUP, 556, "let me in");
    let ev = ob.event().await;
    assert_eq!(
        (ev["request_type"].clone(), ev["sub_type"].clone()),
        (json!("group"), json!("add"))
    );
    ob.ok(
        "set_group_add_request",
        json!({"flag": ev["flag"], "sub_type": "add", "approve": false, "reason": "no"}),
    )
    .await;
    let answers = sim.world(|w| w.answers.clone());
    assert_eq!((answers[1].operate, answers[1].message.as_str()), (1, "no"));

    sim.bot_invited(4000, 557);
    let ev = ob.event().await;
    assert_eq!((ev["sub_type"].clone(), ev["group_id"].clone()), (json!("invite"), json!(4000)));
    ob.ok("set_group_add_request", json!({"flag": ev["flag"], "type": "invite", "approve": true}))
        .await;
    let ev = ob.event().await;
    assert_eq!(
        (ev["notice_type"].clone(), ev["user_id"].clone(), ev["sub_type"].clone()),
        (json!("group_increase"), json!(BOT), json!("invite"))
    );
    assert!(sim.world(|w| w.group(4000).is_some()));
    sim.shutdown().await;
}

// The handshake callback's error type is tungstenite's, large as it is.
#[allow(clippy::result_large_err)]
#[tokio::test]
async fn reverse_dialing_sends_the_headers_and_dials_again() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/onebot", listener.local_addr().unwrap());
    let sim = start(onebot()).await;
    sim.connect_reverse(&url, Some("sekrit".into()), Duration::from_millis(50));

    for round in 0..2 {
        let (tcp, _) =
            tokio::time::timeout(WAIT, listener.accept()).await.expect("a dial").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let stream =
            tokio_tungstenite::accept_hdr_async(tcp, move |req: &Request, resp: Response| {
                let h = |k: &str| {
                    req.headers().get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
                };
                let _ = tx.send((
                    req.uri().path().to_owned(),
                    h("X-Self-ID"),
                    h("X-Client-Role"),
                    h("Authorization"),
                    h("User-Agent"),
                ));
                Ok(resp)
            })
            .await
            .unwrap();
        let (path, self_id, role, auth, agent) = rx.recv().unwrap();
        assert_eq!(path, "/onebot");
        assert_eq!(self_id, BOT.to_string());
        assert_eq!(role, "Universal");
        assert_eq!(auth, "Bearer sekrit");
        assert!(!agent.is_empty());
        let mut ob = Ob { stream, echo: 0, early: VecDeque::new() };
        ob.lifecycle().await;
        assert_eq!(ob.ok("get_login_info", json!({})).await["user_id"], BOT);
        sim.friend_message(DEFAULT_FRIEND, json!(format!("round {round}")));
        assert_eq!(ob.event().await["raw_message"], format!("round {round}"));
        // Drop the socket: the simulator dials again.
        drop(ob);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_reach_onebot_sockets() {
    let sim = start(onebot()).await;
    let mut ob = Client::connected(&sim).await;
    sim.wait_for(WAIT, "the socket", |s| s.socket_count() == 1).await.unwrap();

    sim.answer_out_of_order(2);
    ob.send(&json!({"action": "get_status", "echo": 1})).await;
    ob.send(&json!({"action": "get_login_info", "echo": 2})).await;
    assert_eq!(ob.frame().await["echo"], 2);
    assert_eq!(ob.frame().await["echo"], 1);

    sim.close_sockets(4000, "bye");
    assert_eq!(ob.next().await, Got::Closed(Some(4000)));
    sim.wait_for(WAIT, "the socket gone", |s| s.socket_count() == 0).await.unwrap();

    let mut ob = Client::connected(&sim).await;
    sim.drop_connections();
    assert!(matches!(ob.next().await, Got::Closed(_)));

    let mut ob = Client::connected(&sim).await;
    sim.restart().await.unwrap();
    assert!(matches!(ob.next().await, Got::Closed(_)));
    let mut ob = Client::connected(&sim).await;
    assert_eq!(ob.ok("get_login_info", json!({})).await["user_id"], BOT);
    // An event with no OneBot counterpart reaches no one.
    let before = sim.undelivered();
    sim.inject(json!({"type": "BotOnlineEvent", "qq": BOT}));
    assert_eq!(sim.undelivered(), before + 1);
    sim.friend_message(DEFAULT_FRIEND, json!("still here"));
    assert_eq!(ob.non_heartbeat().await["raw_message"], "still here");
    assert_eq!(sim.undelivered(), before + 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn reverse_dialing_works_beside_mirai_api_http() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let sim = start(SimConfig::default()).await;
    sim.connect_reverse(&url, None, Duration::from_millis(50));
    let (tcp, _) = tokio::time::timeout(WAIT, listener.accept()).await.unwrap().unwrap();
    let stream = tokio_tungstenite::accept_async(tcp).await.unwrap();
    let mut ob = Ob { stream, echo: 0, early: VecDeque::new() };
    ob.lifecycle().await;
    ob.ok("send_private_msg", json!({"user_id": DEFAULT_FRIEND, "message": "v2 too"})).await;
    assert_eq!(sim.sent()[0].command, "sendFriendMessage");
    sim.shutdown().await;
}
