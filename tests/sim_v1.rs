//! The simulator's 1.x mode, spoken to with a raw HTTP client.

mod sim_support;

use mahua::sim::{Permission, Sim, SimConfig, SimProtocol, DEFAULT_FRIEND, DEFAULT_GROUP};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use sim_support::{client, code, success, BOT, KEY, WAIT};

/// The group owner in the default world.
const OWNER: i64 = 20001;
/// A plain member in the default world.
const MEMBER: i64 = 20003;

async fn sim_v1(wrapped_fetch: bool) -> Sim {
    Sim::start(SimConfig { protocol: SimProtocol::V1 { wrapped_fetch }, ..SimConfig::default() })
        .await
        .expect("start sim")
}

/// A raw 1.x client; `key` is its session key once it has one.
struct V1 {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl V1 {
    fn new(sim: &Sim) -> V1 {
        V1 { client: client(), base: sim.http_url(), key: String::new() }
    }

    /// `/auth` + `/verify` with the default key and bot.
    async fn bound(sim: &Sim) -> V1 {
        let mut c = V1::new(sim);
        let a = c.post_raw("/auth", &json!({"authKey": KEY})).await;
        assert_eq!(a["code"], 0, "{a}");
        c.key = a["session"].as_str().expect("session").to_owned();
        assert_eq!(c.post("/verify", json!({"qq": BOT})).await, success());
        c
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, String) {
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("body"))
    }

    /// GET with the session key in the query; the parsed 200 body.
    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let mut q: Vec<(&str, &str)> = query.to_vec();
        q.push(("sessionKey", &self.key));
        let (status, body) = self.send(self.client.get(self.url(path)).query(&q)).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }

    /// POST a JSON body with the session key added; the parsed 200 body.
    async fn post(&self, path: &str, mut body: Value) -> Value {
        body["sessionKey"] = json!(self.key);
        self.post_raw(path, &body).await
    }

    /// POST exactly this JSON body; the parsed 200 body.
    async fn post_raw(&self, path: &str, body: &Value) -> Value {
        let (status, text) = self.send(self.client.post(self.url(path)).json(body)).await;
        assert_eq!(status, 200, "POST {path}: {text}");
        serde_json::from_str(&text).expect("JSON")
    }

    /// GET with only this session key added to the query; the parsed body, whatever the status.
    async fn send_get_as(&self, path: &str, key: &str) -> Value {
        let (_, body) =
            self.send(self.client.get(self.url(path)).query(&[("sessionKey", key)])).await;
        serde_json::from_str(&body).expect("JSON")
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn state(code: i64) -> impl Fn(&Value) {
    move |v: &Value| assert_eq!(v["code"], code, "{v}")
}

#[tokio::test]
async fn auth_verify_release() {
    let sim = sim_v1(false).await;
    let mut c = V1::new(&sim);
    assert_eq!(
        c.post_raw("/auth", &json!({"authKey": "wrong"})).await,
        json!({"code": 1, "msg": "Auth Key错误"})
    );
    // The 2.x way of opening a session is not the 1.x way.
    state(1)(&c.post_raw("/auth", &json!({"verifyKey": KEY})).await);
    let a = c.post_raw("/auth", &json!({"authKey": KEY})).await;
    assert_eq!(a["code"], 0);
    c.key = a["session"].as_str().unwrap().to_owned();
    assert_eq!(sim.session_count(), 1);

    // Unbound: code 4; unknown session: 3; wrong bot: 2.
    state(4)(&c.get("/friendList", &[]).await);
    state(4)(&c.post("/release", json!({"qq": BOT})).await);
    state(3)(&c.post_raw("/verify", &json!({"sessionKey": "nosuch", "qq": BOT})).await);
    state(2)(&c.post("/verify", json!({"qq": 1})).await);
    state(400)(&c.post("/verify", json!({})).await);
    assert_eq!(c.post("/verify", json!({"qq": BOT})).await, success());
    assert!(c.get("/friendList", &[]).await.is_array());

    // No session key in headers in 1.x.
    let (status, body) = c
        .send(
            c.client
                .get(c.url("/friendList"))
                .header("sessionKey", &c.key)
                .header("Authorization", format!("session {}", c.key)),
        )
        .await;
    assert_eq!(status, 200);
    state(3)(&serde_json::from_str(&body).unwrap());

    // Releasing with another bot's number: the session and bot do not match, code 5.
    state(5)(&c.post("/release", json!({"qq": 1})).await);
    state(3)(&c.post_raw("/release", &json!({"sessionKey": "nosuch", "qq": BOT})).await);
    assert_eq!(c.post("/release", json!({"qq": BOT})).await, success());
    sim.wait_for(WAIT, "the session to close", |s| s.session_count() == 0).await.unwrap();
    state(3)(&c.get("/friendList", &[]).await);

    let names: Vec<String> = sim.received().iter().map(|r| r.command.clone()).collect();
    assert_eq!(&names[..3], ["verify", "verify", "verify"]);
    assert!(names.contains(&"bind".to_owned()) && names.contains(&"release".to_owned()));
    assert!(sim.received().iter().all(|r| r.adapter == "http"));
    assert_eq!(sim.received()[2].content, json!({"authKey": KEY}));
    sim.shutdown().await;
}

#[tokio::test]
async fn two_x_paths_and_wrong_methods_are_not_found() {
    let sim = sim_v1(true).await;
    let c = V1::bound(&sim).await;
    for path in ["/bind", "/about", "/sessionInfo", "/botList", "/file/list", "/all", "/nosuch"] {
        let (status, _) = c.send(c.client.get(c.url(path)).query(&[("sessionKey", &c.key)])).await;
        assert_eq!(status, 404, "GET {path}");
    }
    for path in ["/bind", "/file/upload", "/sendNudge", "/uploadVoice"] {
        let (status, _) = c.send(c.client.post(c.url(path)).json(&json!({}))).await;
        assert_eq!(status, 404, "POST {path}");
    }
    let (status, _) = c.send(c.client.get(c.url("/sendFriendMessage"))).await;
    assert_eq!(status, 404);
    let (status, _) = c.send(c.client.post(c.url("/friendList")).json(&json!({}))).await;
    assert_eq!(status, 404);
    // The control API stays.
    let (status, _) = c.send(c.client.get(c.url("/_sim/sent"))).await;
    assert_eq!(status, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn early_fetch_answers_bare_arrays() {
    let sim = sim_v1(false).await;
    let c = V1::bound(&sim).await;
    assert_eq!(c.get("/fetchMessage", &[("count", "10")]).await, json!([]));
    let first = sim.friend_message(DEFAULT_FRIEND, json!("one"));
    sim.friend_message(DEFAULT_FRIEND, json!("two"));
    assert_eq!(c.get("/countMessage", &[]).await, json!(2));
    let peeked = c.get("/peekMessage", &[("count", "1")]).await;
    assert_eq!(peeked.as_array().map(Vec::len), Some(1));
    // 1.x: a friend message has no Source, and its sender a `nickName`.
    assert_eq!(peeked[0]["messageChain"], json!([{"type": "Plain", "text": "one"}]));
    assert!(first > 0);
    let fetched = c.get("/fetchMessage", &[("count", "10")]).await;
    let events = fetched.as_array().expect("bare array");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["type"], "FriendMessage");
    assert!(events[0]["sender"]["nickName"].is_string(), "{}", events[0]);
    assert!(events[0]["sender"].get("nickname").is_none());
    assert_eq!(events[1]["messageChain"][0], json!({"type": "Plain", "text": "two"}));
    assert_eq!(c.get("/fetchMessage", &[("count", "10")]).await, json!([]));
    // Errors stay state codes.
    state(3)(&c.send_get_as("/fetchMessage", "nosuch").await);
    let received: Vec<_> =
        sim.received().into_iter().filter(|r| r.command == "fetchMessage").collect();
    assert_eq!(received[0].content, json!({"count": 10}));
    sim.shutdown().await;
}

#[tokio::test]
async fn later_fetch_answers_wrapped() {
    let sim = sim_v1(true).await;
    let c = V1::bound(&sim).await;
    assert_eq!(c.get("/fetchMessage", &[("count", "10")]).await, json!({"code": 0, "data": []}));
    let id = sim.group_message(DEFAULT_GROUP, MEMBER, json!("hi"));
    assert_eq!(c.get("/countMessage", &[]).await, json!({"code": 0, "data": 1}));
    let latest = c.get("/peekLatestMessage", &[("count", "5")]).await;
    // 1.x: a group message leads with `{"type":"Source","uid":…}`.
    assert_eq!(latest["data"][0]["messageChain"][0], json!({"type": "Source", "uid": id}));
    let v = c.get("/fetchMessage", &[("count", "10")]).await;
    assert_eq!(v["code"], 0);
    assert_eq!(v["data"][0]["type"], "GroupMessage");
    assert_eq!(v["data"][0]["sender"]["id"], MEMBER);
    let mut keys: Vec<_> = v["data"][0]["sender"].as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["group", "id", "memberName", "permission"]);
    assert_eq!(c.get("/fetchLatestMessage", &[("count", "10")]).await["data"], json!([]));
    state(400)(&c.get("/fetchMessage", &[("count", "many")]).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn lists_are_bare_arrays() {
    let sim = sim_v1(true).await;
    let c = V1::bound(&sim).await;
    let friends = c.get("/friendList", &[]).await;
    assert_eq!(friends.as_array().map(Vec::len), Some(1));
    assert_eq!(friends[0]["id"], DEFAULT_FRIEND);
    assert!(friends[0]["nickName"].is_string(), "{friends}");
    assert!(friends[0].get("nickname").is_none());
    let groups = c.get("/groupList", &[]).await;
    assert_eq!(
        groups[0],
        json!({"id": DEFAULT_GROUP, "name": "mahua playground", "permission": "ADMINISTRATOR"})
    );
    let members = c.get("/memberList", &[("target", &DEFAULT_GROUP.to_string())]).await;
    let ids: Vec<i64> =
        members.as_array().unwrap().iter().filter_map(|m| m["id"].as_i64()).collect();
    assert_eq!(ids, [OWNER, 20002, DEFAULT_FRIEND, MEMBER]);
    assert_eq!(members[0]["group"]["id"], DEFAULT_GROUP);
    assert!(members[0].get("joinTimestamp").is_none(), "1.x members have no 2.x-only keys");
    state(5)(&c.get("/memberList", &[("target", "1")]).await);
    state(500)(&c.get("/memberList", &[]).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn sending_answers_message_ids() {
    let sim = sim_v1(false).await;
    let c = V1::bound(&sim).await;
    let chain = json!([{"type": "Plain", "text": "hello"}]);
    let f = c
        .post("/sendFriendMessage", json!({"target": DEFAULT_FRIEND, "messageChain": chain}))
        .await;
    assert_eq!(f["code"], 0);
    assert_eq!(f["msg"], "success");
    let fid = f["messageId"].as_i64().expect("messageId");
    let heard = sim.group_message(DEFAULT_GROUP, MEMBER, json!("question"));
    let g = c
        .post(
            "/sendGroupMessage",
            json!({"target": DEFAULT_GROUP, "messageChain": chain, "quote": heard}),
        )
        .await;
    assert_eq!(g["code"], 0, "{g}");
    let t = c
        .post(
            "/sendTempMessage",
            json!({"qq": MEMBER, "group": DEFAULT_GROUP, "messageChain": chain}),
        )
        .await;
    assert_eq!(t["code"], 0, "{t}");
    state(5)(&c.post("/sendFriendMessage", json!({"target": 1, "messageChain": chain})).await);
    state(400)(&c.post("/sendGroupMessage", json!({"target": DEFAULT_GROUP})).await);
    state(3)(
        &c.post_raw(
            "/sendFriendMessage",
            &json!({"sessionKey": "x", "target": DEFAULT_FRIEND, "messageChain": chain}),
        )
        .await,
    );

    sim.wait_for(WAIT, "three sent messages", |s| s.sent().len() == 3).await.unwrap();
    let sent = sim.sent();
    assert_eq!(
        (sent[0].command.as_str(), sent[0].target, sent[0].message_id),
        ("sendFriendMessage", DEFAULT_FRIEND, fid)
    );
    assert_eq!(sent[1].quote, Some(heard));
    assert_eq!(sent[1].message_id, g["messageId"].as_i64().unwrap());
    assert_eq!((sent[2].target, sent[2].group), (MEMBER, Some(DEFAULT_GROUP)));
    sim.shutdown().await;
}

#[tokio::test]
async fn send_image_message_answers_a_bare_array_of_ids() {
    let sim = sim_v1(false).await;
    let c = V1::bound(&sim).await;
    let urls = json!(["https://example.com/a.png", "https://example.com/b.png"]);
    let ids = c.post("/sendImageMessage", json!({"target": DEFAULT_GROUP, "urls": urls})).await;
    let ids = ids.as_array().expect("bare array").clone();
    assert_eq!(ids.len(), 2);
    assert!(ids.iter().all(Value::is_string));
    let by_qq = c.post("/sendImageMessage", json!({"qq": DEFAULT_FRIEND, "urls": ["u"]})).await;
    assert_eq!(by_qq.as_array().map(Vec::len), Some(1));
    state(5)(&c.post("/sendImageMessage", json!({"target": 1, "urls": ["u"]})).await);
    let sent = sim.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!((sent[0].command.as_str(), sent[0].target), ("sendImageMessage", DEFAULT_GROUP));
    assert_eq!(sent[0].chain[0]["imageId"], ids[0]);
    assert_eq!(sent[0].chain[1]["url"], "https://example.com/b.png");
    assert_eq!(sent[1].target, DEFAULT_FRIEND);
    sim.shutdown().await;
}

#[tokio::test]
async fn upload_image_answers_the_bare_id() {
    let sim = sim_v1(false).await;
    let c = V1::bound(&sim).await;
    let form = |key: &str, ty: &str| {
        Form::new()
            .text("sessionKey", key.to_owned())
            .text("type", ty.to_owned())
            .part("img", Part::bytes(vec![0x89, b'P', b'N', b'G']).file_name("a.png"))
    };
    let resp =
        c.client.post(c.url("/uploadImage")).multipart(form(&c.key, "group")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let ty = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(ty.starts_with("text/plain"), "{ty}");
    let id = resp.text().await.unwrap();
    assert!(id.starts_with('{') && id.contains("}."), "{id}");
    sim.world(|w| {
        let up = w.uploads.last().expect("an upload");
        assert_eq!(
            (up.kind, up.id.as_str(), up.target_type.as_str()),
            ("image", id.as_str(), "group")
        );
        assert_eq!((up.file_name.as_deref(), up.size), (Some("a.png"), 4));
    });

    // Failures are JSON state codes.
    let fail = |f: Form| async {
        c.client
            .post(c.url("/uploadImage"))
            .multipart(f)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    state(3)(&fail(form("nosuch", "friend")).await);
    state(400)(&fail(form(&c.key, "nobody")).await);
    state(400)(&fail(Form::new().text("sessionKey", c.key.clone()).text("type", "friend")).await);
    // The 2.x session header does not count.
    let v: Value = c
        .client
        .post(c.url("/uploadImage"))
        .header("sessionKey", &c.key)
        .multipart(Form::new().text("type", "friend").part("img", Part::bytes(vec![1])))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    state(3)(&v);
    let recorded = sim.received().into_iter().find(|r| r.command == "uploadImage").unwrap();
    assert_eq!(recorded.content["type"], "group");
    assert_eq!(recorded.content["img"], json!({"fileName": "a.png", "size": 4}));
    sim.shutdown().await;
}

#[tokio::test]
async fn recall_names_the_message_by_id_alone() {
    let sim = sim_v1(false).await;
    let c = V1::bound(&sim).await;
    let chain = json!([{"type": "Plain", "text": "oops"}]);
    let mine = c
        .post("/sendGroupMessage", json!({"target": DEFAULT_GROUP, "messageChain": chain}))
        .await["messageId"]
        .as_i64()
        .unwrap();
    assert_eq!(c.post("/recall", json!({"target": mine})).await, success());
    sim.world(|w| assert_eq!(w.recalled, [(DEFAULT_GROUP, mine)]));
    // Gone from the cache now.
    state(5)(&c.post("/recall", json!({"target": mine})).await);
    state(5)(&c.post("/recall", json!({"target": 999})).await);
    state(400)(&c.post("/recall", json!({})).await);

    // A member's message may be recalled by the administrator bot; the owner's may not.
    let by_member = sim.group_message(DEFAULT_GROUP, MEMBER, json!("spam"));
    let by_owner = sim.group_message(DEFAULT_GROUP, OWNER, json!("rules"));
    assert_eq!(c.post("/recall", json!({"target": by_member})).await, success());
    state(10)(&c.post("/recall", json!({"target": by_owner})).await);

    // Ids repeat across conversations: the most recent conversation with the id wins.
    let mut in_friend = 0;
    while in_friend < by_owner {
        let sent = c
            .post("/sendFriendMessage", json!({"target": DEFAULT_FRIEND, "messageChain": chain}))
            .await;
        in_friend = sent["messageId"].as_i64().unwrap();
    }
    assert_eq!(in_friend, by_owner);
    // The bot's own friend message is the newer one with this id, so the recall succeeds.
    assert_eq!(c.post("/recall", json!({"target": by_owner})).await, success());
    sim.world(|w| {
        assert_eq!(w.recalled.last(), Some(&(DEFAULT_FRIEND, by_owner)));
        assert!(w.message(DEFAULT_GROUP, by_owner).is_some());
    });

    let events = c.get("/fetchMessage", &[("count", "100")]).await;
    assert!(events
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["type"] == "GroupRecallEvent" && e["messageId"] == by_member));
    let recalls: Vec<_> = sim.received().into_iter().filter(|r| r.command == "recall").collect();
    assert_eq!(recalls[0].content, json!({"sessionKey": c.key, "target": mine}));
    sim.shutdown().await;
}

#[tokio::test]
async fn message_from_id_finds_the_cached_packet() {
    let sim = sim_v1(true).await;
    let c = V1::bound(&sim).await;
    let id = sim.group_message(DEFAULT_GROUP, MEMBER, json!("remember me"));
    let v = c.get("/messageFromId", &[("id", &id.to_string())]).await;
    assert_eq!(v["code"], 0);
    assert_eq!(v["data"]["type"], "GroupMessage");
    assert_eq!(v["data"]["messageChain"][0], json!({"type": "Source", "uid": id}));
    assert_eq!(v["data"]["messageChain"][1]["text"], "remember me");
    state(5)(&c.get("/messageFromId", &[("id", "4242")]).await);
    state(400)(&c.get("/messageFromId", &[]).await);
    state(400)(&c.get("/messageFromId", &[("id", "x")]).await);
    state(3)(&c.send_get_as(&format!("/messageFromId?id={id}"), "nosuch").await);
    let r = sim.received().into_iter().find(|r| r.command == "messageFromId").unwrap();
    assert_eq!(r.content, json!({"id": id}));
    sim.shutdown().await;
}

#[tokio::test]
async fn group_management_checks_permissions() {
    let sim = sim_v1(false).await;
    let c = V1::bound(&sim).await;
    let g = DEFAULT_GROUP;
    assert_eq!(
        c.post("/mute", json!({"target": g, "memberId": MEMBER, "time": 60})).await,
        success()
    );
    sim.world(|w| assert_eq!(w.member(g, MEMBER).map(|m| m.mute_time_remaining), Some(60)));
    state(10)(&c.post("/mute", json!({"target": g, "memberId": OWNER, "time": 60})).await);
    state(10)(&c.post("/mute", json!({"target": g, "memberId": 20002, "time": 60})).await);
    state(5)(&c.post("/mute", json!({"target": g, "memberId": 1, "time": 60})).await);
    state(5)(&c.post("/mute", json!({"target": 1, "memberId": MEMBER, "time": 60})).await);
    state(400)(&c.post("/mute", json!({"memberId": MEMBER})).await);
    assert_eq!(c.post("/unmute", json!({"target": g, "memberId": MEMBER})).await, success());
    assert_eq!(c.post("/muteAll", json!({"target": g})).await, success());
    sim.world(|w| assert!(w.group(g).is_some_and(|x| x.config.mute_all)));
    assert_eq!(c.post("/unmuteAll", json!({"target": g})).await, success());

    // groupConfig and memberInfo in the 1.x shapes.
    let cfg = c.get("/groupConfig", &[("target", &g.to_string())]).await;
    assert_eq!(
        cfg,
        json!({
            "name": "mahua playground", "announcement": "", "confessTalk": false,
            "allowMemberInvite": true, "autoApprove": false, "anonymousChat": false,
        })
    );
    assert_eq!(
        c.post("/groupConfig", json!({"target": g, "config": {"name": "renamed"}})).await,
        success()
    );
    assert_eq!(c.get("/groupConfig", &[("target", &g.to_string())]).await["name"], "renamed");
    let info = json!({"target": g, "memberId": MEMBER, "info": {"name": "D"}});
    assert_eq!(c.post("/memberInfo", info).await, success());
    let who = [("target", g.to_string()), ("memberId", MEMBER.to_string())];
    let who: Vec<(&str, &str)> = who.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(c.get("/memberInfo", &who).await, json!({"name": "D", "specialTitle": ""}));
    // A special title needs the owner.
    let title = json!({"target": g, "memberId": MEMBER, "info": {"specialTitle": "T"}});
    state(10)(&c.post("/memberInfo", title).await);
    state(5)(&c.get("/memberInfo", &[("target", &g.to_string()), ("memberId", "1")]).await);

    // As a plain member the bot may do none of it.
    sim.world(|w| {
        if let Some(x) = w.group_mut(g) {
            x.permission = Permission::Member;
        }
    });
    state(10)(&c.post("/mute", json!({"target": g, "memberId": MEMBER, "time": 60})).await);
    state(10)(&c.post("/muteAll", json!({"target": g})).await);
    state(10)(&c.post("/kick", json!({"target": g, "memberId": MEMBER})).await);
    assert_eq!(c.post("/quit", json!({"target": g})).await, success());
    state(5)(&c.post("/quit", json!({"target": g})).await);

    let kinds: Vec<Value> = c
        .get("/fetchMessage", &[("count", "100")])
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    for k in [
        "MemberMuteEvent",
        "MemberUnmuteEvent",
        "GroupMuteAllEvent",
        "GroupNameChangeEvent",
        "MemberCardChangeEvent",
        "BotLeaveEventActive",
    ] {
        assert!(kinds.contains(&json!(k)), "{k} missing from {kinds:?}");
    }
    let gets: Vec<_> = sim
        .received()
        .into_iter()
        .filter(|r| r.command == "groupConfig")
        .map(|r| r.sub_command)
        .collect();
    assert_eq!(
        gets[..3],
        [Some("get".to_owned()), Some("update".to_owned()), Some("get".to_owned())]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn kick_removes_the_member() {
    let sim = sim_v1(false).await;
    let c = V1::bound(&sim).await;
    let kick = json!({"target": DEFAULT_GROUP, "memberId": MEMBER, "msg": "bye"});
    assert_eq!(c.post("/kick", kick.clone()).await, success());
    sim.world(|w| assert!(w.member(DEFAULT_GROUP, MEMBER).is_none()));
    state(5)(&c.post("/kick", kick).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn garbage_never_breaks_the_server() {
    let sim = sim_v1(true).await;
    let c = V1::bound(&sim).await;
    let posts = [
        "/auth",
        "/verify",
        "/release",
        "/sendFriendMessage",
        "/sendGroupMessage",
        "/sendTempMessage",
        "/sendImageMessage",
        "/recall",
        "/mute",
        "/unmute",
        "/kick",
        "/muteAll",
        "/unmuteAll",
        "/quit",
        "/groupConfig",
        "/memberInfo",
        "/uploadImage",
    ];
    let bodies: [&[u8]; 7] =
        [b"", b"not json", b"[1,2]", b"null", b"\"s\"", b"{\"target\":\"x\"}", &[0xff, 0xfe, 0]];
    for path in posts {
        for body in bodies {
            let resp = c.client.post(c.url(path)).body(body.to_vec()).send().await.unwrap();
            assert_eq!(resp.status(), 200, "POST {path}");
            let v: Value = resp.json().await.unwrap_or_else(|e| panic!("POST {path}: {e}"));
            assert!(code(&v) > 0, "POST {path}: {v}");
        }
        // Wildly typed fields with a good session.
        let v = c.post_raw(path, &json!({"sessionKey": c.key, "target": [], "qq": {}, "memberId": "x", "messageChain": 5, "urls": 3, "config": 1, "info": [], "time": -1})).await;
        assert!(code(&v) > 0, "POST {path}: {v}");
    }
    let gets = [
        "/fetchMessage",
        "/countMessage",
        "/friendList",
        "/memberList",
        "/messageFromId",
        "/groupConfig",
        "/memberInfo",
    ];
    for path in gets {
        for query in [
            "count=-5",
            "target=1e99",
            "id=99999999999999999999",
            "%zz=%zz",
            "target=&memberId=",
            "sessionKey",
        ] {
            let resp = c
                .client
                .get(format!("{}?{query}&sessionKey={}", c.url(path), c.key))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "GET {path}?{query}");
            let _: Value = resp.json().await.unwrap_or_else(|e| panic!("GET {path}?{query}: {e}"));
        }
    }
    // Still serving.
    assert!(c.get("/friendList", &[]).await.is_array());
    sim.shutdown().await;
}

#[tokio::test]
async fn default_config_stays_two_x() {
    assert_eq!(SimConfig::default().protocol, SimProtocol::V2);
    let sim = sim_support::sim().await;
    let c = V1::new(&sim);
    let (status, _) = c.send(c.client.post(c.url("/auth")).json(&json!({"authKey": KEY}))).await;
    assert_eq!(status, 404);
    sim.shutdown().await;
}
