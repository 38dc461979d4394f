//! The simulator's http adapter, spoken to with a raw HTTP client.

mod sim_support;

use std::time::Duration;

use mahua::sim::{Sim, SimConfig, DEFAULT_FRIEND, DEFAULT_GROUP};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use sim_support::{client, code, sim, success, Http, Ws, BOT, KEY, WAIT};

async fn verify(sim: &Sim, key: &str) -> Value {
    client()
        .post(format!("{}/verify", sim.http_url()))
        .json(&json!({"verifyKey": key}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn verify_bind_release() {
    let sim = sim().await;
    assert_eq!(verify(&sim, "wrong").await, json!({"code": 1, "msg": "Auth Key错误"}));
    let v = verify(&sim, KEY).await;
    assert_eq!(v["code"], 0);
    let key = v["session"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 8);
    let http = Http { client: client(), base: sim.http_url(), key: key.clone() };

    // Unbound: commands answer 4.
    assert_eq!(http.get("/friendList", &[]).await, json!({"code": 4, "msg": "Session未认证"}));
    assert_eq!(
        http.post_raw("/bind", &json!({"sessionKey": "nosuch", "qq": BOT})).await["code"],
        3
    );
    assert_eq!(http.post_raw("/bind", &json!({"sessionKey": key, "qq": 1})).await["code"], 2);
    assert_eq!(http.post_raw("/release", &json!({"sessionKey": key, "qq": BOT})).await["code"], 4);
    assert_eq!(http.post_raw("/bind", &json!({"sessionKey": key, "qq": BOT})).await, success());
    // Binding again is a no-op.
    assert_eq!(http.post_raw("/bind", &json!({"sessionKey": key, "qq": BOT})).await, success());
    assert_eq!(code(&http.get("/friendList", &[]).await), 0);
    let info = http.get("/sessionInfo", &[]).await;
    assert_eq!(info["data"]["sessionKey"], key.as_str());
    assert_eq!(info["data"]["qq"]["id"], BOT);

    assert_eq!(http.post_raw("/release", &json!({"sessionKey": key, "qq": 1})).await["code"], 2);
    assert_eq!(
        http.post_raw("/release", &json!({"sessionKey": "nosuch", "qq": BOT})).await["code"],
        3
    );
    assert_eq!(sim.session_count(), 1);
    assert_eq!(http.post_raw("/release", &json!({"sessionKey": key, "qq": BOT})).await, success());
    assert_eq!(sim.session_count(), 0);
    assert_eq!(
        http.get("/friendList", &[]).await,
        json!({"code": 3, "msg": "Session失效或不存在"})
    );
    // Commands without a session.
    assert_eq!(
        http.get_raw("/about", &[]).await,
        json!({"code": 0, "msg": "", "data": {"version": "2.10.0"}})
    );
    assert_eq!(http.get_raw("/botList", &[]).await, json!({"code": 0, "msg": "", "data": [BOT]}));
    sim.shutdown().await;
}

#[tokio::test]
async fn unbound_sessions_expire() {
    let sim = Sim::start(SimConfig {
        session_expiry: Duration::from_millis(200),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let key = verify(&sim, KEY).await["session"].as_str().unwrap().to_owned();
    let bound = Http::bound(&sim).await;
    assert_eq!(sim.session_count(), 2);
    sim.wait_for(WAIT, "the unbound session to expire", |s| s.session_count() == 1).await.unwrap();
    let http = Http { client: client(), base: sim.http_url(), key: key.clone() };
    assert_eq!(http.post_raw("/bind", &json!({"sessionKey": key, "qq": BOT})).await["code"], 3);
    // A bound session does not expire.
    assert_eq!(code(&bound.get("/friendList", &[]).await), 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn session_key_travels_by_header_authorization_query_or_body() {
    let sim = sim().await;
    let http = Http::bound(&sim).await;
    let url = |p: &str| format!("{}{p}", sim.http_url());
    let c = client();
    let ok_data = |v: Value| assert_eq!(v["code"], 0, "{v}");
    ok_data(
        c.get(url("/friendList"))
            .header("sessionKey", &http.key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    for scheme in ["session", "sessionKey", "Session", "SESSIONKEY"] {
        let auth = format!("{scheme} {}", http.key);
        ok_data(
            c.get(url("/friendList"))
                .header("Authorization", auth)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap(),
        );
    }
    ok_data(
        c.get(url("/friendList"))
            .query(&[("sessionKey", &http.key)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    let body = json!({"sessionKey": http.key, "target": DEFAULT_FRIEND, "messageChain": [{"type": "Plain", "text": "hi"}]});
    ok_data(
        c.post(url("/sendFriendMessage")).json(&body).send().await.unwrap().json().await.unwrap(),
    );
    // A header wins over the query.
    let v: Value = c
        .get(url("/friendList"))
        .header("sessionKey", &http.key)
        .query(&[("sessionKey", "bogus")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    ok_data(v);
    let v: Value = c
        .get(url("/friendList"))
        .header("sessionKey", "bogus")
        .query(&[("sessionKey", &http.key)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["code"], 3);
    // No key at all.
    let v: Value = c.get(url("/friendList")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["code"], 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_unread_queue() {
    let sim = Sim::start(SimConfig { unread_queue_max: 12, ..SimConfig::default() }).await.unwrap();
    let http = Http::bound(&sim).await;
    let count = |n: &str| vec![("count", n.to_owned())];
    let ids = |v: Value| -> Vec<i64> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["messageChain"][0]["id"].as_i64().unwrap())
            .collect()
    };
    for i in 0..20 {
        sim.friend_message(DEFAULT_FRIEND, json!(format!("m{i}")));
    }
    // Full queues drop new events, after admitting one more than the limit.
    assert_eq!(http.get("/countMessage", &[]).await, json!({"code": 0, "msg": "", "data": 13}));
    assert_eq!(ids(http.get("/peekMessage", &count("2")).await), vec![1, 2]);
    assert_eq!(ids(http.get("/peakMessage", &count("2")).await), vec![1, 2]);
    assert_eq!(ids(http.get("/peekLatestMessage", &count("2")).await), vec![13, 12]);
    assert_eq!(http.get("/countMessage", &[]).await["data"], 13);
    // count defaults to 10.
    assert_eq!(ids(http.get("/fetchMessage", &[]).await), (1..=10).collect::<Vec<_>>());
    assert_eq!(ids(http.get("/fetchLatestMessage", &count("2")).await), vec![13, 12]);
    assert_eq!(ids(http.get("/fetchMessage", &count("5")).await), vec![11]);
    assert_eq!(http.get("/fetchMessage", &[]).await, json!({"code": 0, "msg": "", "data": []}));
    assert_eq!(http.get("/countMessage", &[]).await["data"], 0);

    // Sessions made by a socket have no queue.
    let (_ws, ws_key) = Ws::bound(&sim, "/all").await;
    let v = client()
        .get(format!("{}/countMessage", sim.http_url()))
        .header("sessionKey", ws_key)
        .send()
        .await
        .unwrap();
    assert_eq!(v.json::<Value>().await.unwrap(), json!({"code": 500, "msg": "Not a http session"}));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_zero_queue_size_disables_queuing() {
    let sim = Sim::start(SimConfig { unread_queue_max: 0, ..SimConfig::default() }).await.unwrap();
    let http = Http::bound(&sim).await;
    sim.friend_message(DEFAULT_FRIEND, json!("x"));
    assert_eq!(http.get("/countMessage", &[]).await["data"], 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn parameter_errors() {
    let sim = sim().await;
    let http = Http::bound(&sim).await;
    // GET: missing required parameter -> 500; undeclared one -> 500; unparsable number -> 400.
    assert_eq!(http.get("/memberList", &[]).await["code"], 500);
    assert_eq!(
        http.get("/memberList", &[("target", DEFAULT_GROUP.to_string()), ("bogus", "1".into())])
            .await["code"],
        500
    );
    assert_eq!(http.get("/memberList", &[("target", "abc".into())]).await["code"], 400);
    assert_eq!(
        http.get("/memberList", &[("target", "99999999999999999999".into())]).await["code"],
        400
    );
    assert_eq!(
        http.get("/messageFromId", &[("target", "1".into()), ("messageId", "3000000000".into())])
            .await["code"],
        400
    );
    // POST: missing fields are named.
    assert_eq!(
        http.post("/mute", json!({})).await,
        json!({"code": 400, "msg": "参数错误，缺少字段: target"})
    );
    assert_eq!(
        http.post("/kick", json!({})).await,
        json!({"code": 400, "msg": "参数错误，缺少字段: target, memberId"})
    );
    assert_eq!(
        http.post("/mute", json!({"target": "1"})).await,
        json!({"code": 400, "msg": "无效参数"})
    );
    // Bodies that are not JSON objects.
    let c = client();
    for body in ["", "nope", "[]", "1", "null", "{"] {
        let v: Value = c
            .post(format!("{}/mute", sim.http_url()))
            .header("sessionKey", &http.key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v, json!({"code": 400, "msg": "无效参数"}), "body {body:?}");
    }
    // Unknown routes are the only non-200 answers.
    let r = c.get(format!("{}/noSuchThing", sim.http_url())).send().await.unwrap();
    assert_eq!(r.status(), 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn get_queries_decode_lists_and_booleans() {
    let sim = sim().await;
    let http = Http::bound(&sim).await;
    let v = http
        .get(
            "/latestMemberList",
            &[
                ("target", DEFAULT_GROUP.to_string()),
                ("memberIds", "20001".into()),
                ("memberIds", "20002".into()),
            ],
        )
        .await;
    let ids: Vec<i64> =
        v["data"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![20001, 20002]);
    let all = http.get("/latestMemberList", &[("target", DEFAULT_GROUP.to_string())]).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 4);
    let m = &all["data"][0];
    assert_eq!(m["lastSpeakTimestamp"], m["joinTimestamp"]);
    assert_eq!(m["active"], Value::Null);

    let file = sim.world(|w| w.add_file(DEFAULT_GROUP, "", "a.txt", 10, 20001)).unwrap();
    for (flag, has) in [("TRUE", true), ("yes", false)] {
        let v = http
            .get(
                "/file/info",
                &[
                    ("target", DEFAULT_GROUP.to_string()),
                    ("id", file.clone()),
                    ("withDownloadInfo", flag.into()),
                ],
            )
            .await;
        assert_eq!(v["data"]["downloadInfo"].is_object(), has, "{flag}: {v}");
    }
    sim.shutdown().await;
}

fn file_part(name: &str, bytes: &[u8]) -> Part {
    Part::bytes(bytes.to_vec()).file_name(name.to_owned())
}

#[tokio::test]
async fn uploads() {
    let sim = sim().await;
    let http = Http::bound(&sim).await;
    let image = http
        .multipart(
            "/uploadImage",
            Form::new().text("type", "group").part("img", file_part("a.png", b"\x89PNG")),
        )
        .await;
    let id = image["imageId"].as_str().unwrap();
    assert!(id.starts_with('{') && id.ends_with("}.mirai") && id.len() == 44, "{id}");
    assert_eq!(image.as_object().unwrap().keys().collect::<Vec<_>>(), ["imageId", "url"]);
    let by_url = http
        .multipart(
            "/uploadImage",
            Form::new().text("type", "Friend").text("url", "https://example.invalid/a.png"),
        )
        .await;
    assert!(by_url["imageId"].is_string());
    let voice = http
        .multipart(
            "/uploadVoice",
            Form::new().text("type", "group").part("voice", file_part("a.amr", b"#!AMR")),
        )
        .await;
    assert_eq!(voice.as_object().unwrap().keys().collect::<Vec<_>>(), ["voiceId"]);
    assert!(voice["voiceId"].as_str().unwrap().ends_with(".amr"));
    let video = http
        .multipart(
            "/uploadShortVideo",
            Form::new()
                .text("type", "group")
                .part("video", file_part("v.mp4", b"v"))
                .part("thumbnail", file_part("t.jpg", b"t")),
        )
        .await;
    assert!(video["videoId"].is_string());

    let dir = sim.world(|w| w.add_folder(DEFAULT_GROUP, "", "docs")).unwrap();
    let up = http
        .multipart(
            "/file/upload",
            Form::new()
                .text("type", "group")
                .text("target", DEFAULT_GROUP.to_string())
                .text("path", "/docs")
                .part("file", file_part("notes.txt", b"hello")),
        )
        .await;
    assert_eq!(up["code"], 0, "{up}");
    assert_eq!(up["data"]["name"], "notes.txt");
    assert_eq!(up["data"]["path"], "/docs/notes.txt");
    assert_eq!(up["data"]["size"], 5);
    assert_eq!(up["data"]["parent"]["id"], dir.as_str());
    assert_eq!(up["data"]["downloadInfo"], Value::Null);

    // Failures.
    let no_type =
        http.multipart("/uploadImage", Form::new().part("img", file_part("a.png", b"x"))).await;
    assert_eq!(no_type["code"], 400);
    let nothing = http.multipart("/uploadImage", Form::new().text("type", "group")).await;
    assert_eq!(nothing["code"], 400);
    let bad_type = http
        .multipart(
            "/uploadImage",
            Form::new().text("type", "moon").part("img", file_part("a.png", b"x")),
        )
        .await;
    assert_eq!(bad_type["code"], 400);
    let friend_file = http
        .multipart(
            "/file/upload",
            Form::new()
                .text("type", "friend")
                .text("target", "1")
                .text("path", "")
                .part("file", file_part("x", b"x")),
        )
        .await;
    assert_eq!(friend_file["code"], 6);
    let no_folder = http
        .multipart(
            "/file/upload",
            Form::new()
                .text("type", "group")
                .text("target", DEFAULT_GROUP.to_string())
                .text("path", "/nope")
                .part("file", file_part("x", b"x")),
        )
        .await;
    assert_eq!(no_folder["code"], 5);
    let no_video_thumb = http
        .multipart(
            "/uploadShortVideo",
            Form::new().text("type", "group").part("video", file_part("v", b"v")),
        )
        .await;
    assert_eq!(no_video_thumb["code"], 400);
    // No contacts to upload through.
    sim.world(|w| w.clear_contacts());
    let lonely = http
        .multipart(
            "/uploadImage",
            Form::new().text("type", "group").part("img", file_part("a.png", b"x")),
        )
        .await;
    assert_eq!(lonely, json!({"code": 400, "msg": "图片上传错误"}));
    // Not multipart at all.
    let v: Value = client()
        .post(format!("{}/uploadImage", sim.http_url()))
        .header("sessionKey", &http.key)
        .body("plain")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["code"], 400);
    // Upload routes need a session; a ws session will do.
    let unauth: Value = client()
        .post(format!("{}/uploadImage", sim.http_url()))
        .multipart(Form::new().text("type", "group").part("img", file_part("a.png", b"x")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unauth["code"], 3);
    let uploads = sim.world(|w| w.uploads.len());
    assert_eq!(uploads, 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn single_mode_over_http() {
    let sim = Sim::start(SimConfig { single_mode: true, ..SimConfig::default() }).await.unwrap();
    let c = client();
    let friend_list = || async {
        c.get(format!("{}/friendList", sim.http_url()))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(friend_list().await["code"], 4);
    assert_eq!(verify(&sim, KEY).await, json!({"code": 0, "session": "SINGLE_SESSION"}));
    assert_eq!(friend_list().await["code"], 0);
    let http = Http { client: client(), base: sim.http_url(), key: "anything".into() };
    assert_eq!(http.post_raw("/bind", &json!({"sessionKey": "x", "qq": BOT})).await["code"], 6);
    sim.friend_message(DEFAULT_FRIEND, json!("hi"));
    assert_eq!(http.get("/countMessage", &[]).await["data"], 1);
    sim.shutdown().await;

    let open =
        Sim::start(SimConfig { single_mode: true, enable_verify: false, ..SimConfig::default() })
            .await
            .unwrap();
    let v: Value =
        c.get(format!("{}/groupList", open.http_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["code"], 0);
    open.shutdown().await;
}

#[tokio::test]
async fn garbage_at_every_route() {
    let sim = sim().await;
    let http = Http::bound(&sim).await;
    let c = client();
    let bodies = [
        "",
        "x",
        "[]",
        "[1]",
        "1",
        "-1",
        "true",
        "null",
        "\"s\"",
        "{",
        "{}",
        r#"{"target":null}"#,
        r#"{"target":"x"}"#,
        r#"{"target":1e999}"#,
        r#"{"target":99999999999999999999999}"#,
        r#"{"messageChain":{}}"#,
        r#"{"config":[],"info":1}"#,
    ];
    let queries = [
        "",
        "target=",
        "target=x",
        "target=1&target=2",
        "memberIds=a",
        "count=-5",
        "count=99999999999",
        "%zz=1",
        "id=&path=",
        "withDownloadInfo=maybe",
    ];
    for cmd in mahua::protocol::COMMANDS {
        let url = format!("{}{}", sim.http_url(), cmd.path);
        for body in bodies {
            let r = c
                .post(&url)
                .header("sessionKey", &http.key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            if cmd.method == mahua::protocol::commands::HttpMethod::Post {
                assert_eq!(r.status(), 200, "{} {body}", cmd.path);
                let v: Value = r.json().await.unwrap();
                assert!(v.get("code").is_some() || v.is_object(), "{} {body} -> {v}", cmd.path);
            }
        }
        for q in queries {
            let r =
                c.get(format!("{url}?{q}")).header("sessionKey", &http.key).send().await.unwrap();
            if cmd.method == mahua::protocol::commands::HttpMethod::Get {
                assert_eq!(r.status(), 200, "{} {q}", cmd.path);
                let v: Value = r.json().await.unwrap();
                assert!(v.is_object(), "{} {q} -> {v}", cmd.path);
            }
        }
        let r = c
            .post(&url)
            .header("sessionKey", &http.key)
            .header("content-type", "multipart/form-data; boundary=zzz")
            .body("--zzz\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\ngroup\r\n--zz")
            .send()
            .await
            .unwrap();
        assert!(r.status() == 200 || r.status() == 405, "{}", cmd.path);
    }
    // Still serving.
    assert_eq!(code(&http.get("/friendList", &[]).await), 0);
    sim.shutdown().await;
}
