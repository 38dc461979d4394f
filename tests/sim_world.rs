//! Commands have real effects on the simulator's world, with the real server's status codes.

mod sim_support;

use std::time::Duration;

use mahua::sim::{Permission, Sim, SimConfig, DEFAULT_FRIEND, DEFAULT_GROUP, ROOT_FOLDER};
use serde_json::{json, Value};
use sim_support::{client, code, sim, success, Http, Ws, BOT, WAIT};

const OWNER: i64 = 20001;
const ADMIN: i64 = 20002;
const MEMBER: i64 = 20003;

/// A simulator and a ws connection to it (on `/message`, so replies are not mixed with events).
async fn setup() -> (Sim, Ws) {
    let sim = sim().await;
    let (ws, _) = Ws::bound(&sim, "/message").await;
    (sim, ws)
}

fn chain(text: &str) -> Value {
    json!([{"type": "Plain", "text": text}])
}

#[tokio::test]
async fn the_default_world_has_someone_to_talk_to() {
    let (sim, mut ws) = setup().await;
    let friends = ws.call("friendList", None, json!({})).await;
    assert_eq!(friends["data"], json!([{"id": DEFAULT_FRIEND, "nickname": "alice", "remark": ""}]));
    let groups = ws.call("groupList", None, json!({})).await;
    assert_eq!(
        groups["data"],
        json!([{"id": DEFAULT_GROUP, "name": "mahua playground", "permission": "ADMINISTRATOR"}])
    );
    let members = ws.call("memberList", None, json!({"target": DEFAULT_GROUP})).await;
    let members = members["data"].as_array().unwrap();
    assert_eq!(members.len(), 4);
    assert!(members.iter().all(|m| m["active"].is_null() && m["group"]["id"] == DEFAULT_GROUP));
    assert_eq!(ws.call("botProfile", None, json!({})).await["nickname"], "mahua");
    sim.shutdown().await;
}

#[tokio::test]
async fn mute_kick_and_permissions() {
    let (sim, mut ws) = setup().await;
    let mute = |member: i64| json!({"target": DEFAULT_GROUP, "memberId": member, "time": 60});
    // Unknown group, unknown member.
    assert_eq!(
        code(&ws.call("mute", None, json!({"target": 1, "memberId": MEMBER, "time": 60})).await),
        5
    );
    assert_eq!(code(&ws.call("mute", None, mute(424242)).await), 5);
    // An admin cannot mute the owner or another admin.
    assert_eq!(code(&ws.call("mute", None, mute(OWNER)).await), 10);
    assert_eq!(code(&ws.call("mute", None, mute(ADMIN)).await), 10);
    assert_eq!(ws.call("mute", None, mute(MEMBER)).await, success());
    assert_eq!(sim.world(|w| w.member(DEFAULT_GROUP, MEMBER).unwrap().mute_time_remaining), 60);
    let info = ws
        .call("memberInfo", Some("get"), json!({"target": DEFAULT_GROUP, "memberId": MEMBER}))
        .await;
    assert_eq!(info["muteTimeRemaining"], 60);
    assert!(info["active"].is_object());
    assert_eq!(
        ws.call("unmute", None, json!({"target": DEFAULT_GROUP, "memberId": MEMBER})).await,
        success()
    );
    assert_eq!(sim.world(|w| w.member(DEFAULT_GROUP, MEMBER).unwrap().mute_time_remaining), 0);
    assert_eq!(
        code(
            &ws.call("mute", None, json!({"target": DEFAULT_GROUP, "memberId": MEMBER, "time": 0}))
                .await
        ),
        400
    );

    // As a plain member the bot can do none of it.
    sim.world(|w| w.add_group(DEFAULT_GROUP, "mahua playground", Permission::Member));
    assert_eq!(code(&ws.call("mute", None, mute(MEMBER)).await), 10);
    assert_eq!(
        code(&ws.call("kick", None, json!({"target": DEFAULT_GROUP, "memberId": MEMBER})).await),
        10
    );
    assert_eq!(code(&ws.call("muteAll", None, json!({"target": DEFAULT_GROUP})).await), 10);
    sim.world(|w| w.add_group(DEFAULT_GROUP, "mahua playground", Permission::Administrator));

    // Kick removes the member.
    assert_eq!(
        ws.call("kick", None, json!({"target": DEFAULT_GROUP, "memberId": MEMBER, "block": true}))
            .await,
        success()
    );
    assert!(sim.world(|w| w.member(DEFAULT_GROUP, MEMBER).is_none()));
    assert!(sim.world(|w| w.blacklist.contains(&MEMBER)));
    let members = ws.call("memberList", None, json!({"target": DEFAULT_GROUP})).await;
    assert!(members["data"].as_array().unwrap().iter().all(|m| m["id"] != MEMBER));
    assert_eq!(
        code(&ws.call("kick", None, json!({"target": DEFAULT_GROUP, "memberId": MEMBER})).await),
        5
    );

    // memberAdmin needs the owner.
    assert_eq!(
        code(
            &ws.call(
                "memberAdmin",
                None,
                json!({"target": DEFAULT_GROUP, "memberId": DEFAULT_FRIEND, "assign": true})
            )
            .await
        ),
        10
    );
    sim.world(|w| w.add_group(DEFAULT_GROUP, "mahua playground", Permission::Owner));
    assert_eq!(
        ws.call(
            "memberAdmin",
            None,
            json!({"target": DEFAULT_GROUP, "memberId": DEFAULT_FRIEND, "assign": true})
        )
        .await,
        success()
    );
    assert_eq!(
        sim.world(|w| w.member(DEFAULT_GROUP, DEFAULT_FRIEND).unwrap().permission),
        Permission::Administrator
    );
    // As owner the bot cannot quit; as admin it can.
    assert_eq!(code(&ws.call("quit", None, json!({"target": DEFAULT_GROUP})).await), 10);
    sim.world(|w| w.add_group(DEFAULT_GROUP, "mahua playground", Permission::Administrator));
    assert_eq!(ws.call("quit", None, json!({"target": DEFAULT_GROUP})).await, success());
    assert!(sim.world(|w| w.group(DEFAULT_GROUP).is_none()));
    assert_eq!(code(&ws.call("quit", None, json!({"target": DEFAULT_GROUP})).await), 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn bot_actions_are_events_too() {
    let sim = sim().await;
    let (mut ws, key) = Ws::bound(&sim, "/message").await;
    let mut events = Ws::attach(&sim, "/event", &key).await;
    ws.call("mute", None, json!({"target": DEFAULT_GROUP, "memberId": MEMBER, "time": 60})).await;
    let e = events.frame().await["data"].clone();
    assert_eq!(
        (e["type"].as_str(), e["durationSeconds"].as_i64(), e["member"]["id"].as_i64()),
        (Some("MemberMuteEvent"), Some(60), Some(MEMBER))
    );
    assert_eq!(e["operator"], Value::Null);
    ws.call("kick", None, json!({"target": DEFAULT_GROUP, "memberId": MEMBER})).await;
    assert_eq!(events.frame().await["data"]["type"], "MemberLeaveEventKick");
    ws.call("muteAll", None, json!({"target": DEFAULT_GROUP})).await;
    let e = events.frame().await["data"].clone();
    assert_eq!(
        (e["type"].as_str(), e["origin"].as_bool(), e["current"].as_bool()),
        (Some("GroupMuteAllEvent"), Some(false), Some(true))
    );
    ws.call(
        "groupConfig",
        Some("update"),
        json!({"target": DEFAULT_GROUP, "config": {"name": "renamed"}}),
    )
    .await;
    let e = events.frame().await["data"].clone();
    assert_eq!(
        (e["type"].as_str(), e["current"].as_str()),
        (Some("GroupNameChangeEvent"), Some("renamed"))
    );
    ws.call("deleteFriend", None, json!({"target": DEFAULT_FRIEND})).await;
    assert_eq!(events.frame().await["data"]["type"], "FriendDeleteEvent");
    sim.shutdown().await;
}

#[tokio::test]
async fn sending_caches_and_logs_messages() {
    let (sim, mut ws) = setup().await;
    let r = ws
        .call(
            "sendGroupMessage",
            None,
            json!({"target": DEFAULT_GROUP, "messageChain": chain("hello")}),
        )
        .await;
    assert_eq!(r, json!({"code": 0, "msg": "success", "messageId": 1}));
    let r = ws
        .call(
            "sendGroupMessage",
            None,
            json!({"group": DEFAULT_GROUP, "messageChain": chain("again")}),
        )
        .await;
    assert_eq!(r["messageId"], 2);
    // Ids are per conversation.
    let r = ws
        .call("sendFriendMessage", None, json!({"qq": DEFAULT_FRIEND, "messageChain": chain("hi")}))
        .await;
    assert_eq!(r["messageId"], 1);
    let r = ws
        .call(
            "sendTempMessage",
            None,
            json!({"qq": MEMBER, "group": DEFAULT_GROUP, "messageChain": chain("psst")}),
        )
        .await;
    assert_eq!(r["code"], 0);

    let sent = sim.sent();
    assert_eq!(sent.len(), 4);
    assert_eq!(
        (sent[0].command.as_str(), sent[0].target, sent[0].message_id),
        ("sendGroupMessage", DEFAULT_GROUP, 1)
    );
    assert_eq!(sent[0].chain, chain("hello"));
    assert_eq!((sent[3].target, sent[3].group), (MEMBER, Some(DEFAULT_GROUP)));

    let m = ws.call("messageFromId", None, json!({"target": DEFAULT_GROUP, "messageId": 1})).await;
    assert_eq!(m["data"]["type"], "GroupMessage");
    assert_eq!(m["data"]["messageChain"][0]["id"], 1);
    assert_eq!(m["data"]["messageChain"][1], json!({"type": "Plain", "text": "hello"}));
    assert_eq!(m["data"]["sender"]["id"], BOT);
    assert_eq!(m["data"]["sender"]["permission"], "ADMINISTRATOR");
    let m = ws.call("messageFromId", None, json!({"target": DEFAULT_FRIEND, "messageId": 1})).await;
    assert_eq!(
        (m["data"]["type"].as_str(), m["data"]["sender"]["id"].as_i64()),
        (Some("FriendMessage"), Some(BOT))
    );
    // Temp messages name the recipient as sender (a quirk of the real server).
    let m = ws.call("messageFromId", None, json!({"target": MEMBER, "messageId": 1})).await;
    assert_eq!(
        (m["data"]["type"].as_str(), m["data"]["sender"]["id"].as_i64()),
        (Some("TempMessage"), Some(MEMBER))
    );
    assert_eq!(
        code(
            &ws.call("messageFromId", None, json!({"target": DEFAULT_GROUP, "messageId": 99}))
                .await
        ),
        5
    );

    // Roaming messages of a friend.
    let roam = ws.call("roamingMessages", None, json!({"timeStart": 0, "timeEnd": i64::MAX, "target": DEFAULT_FRIEND, "qq": null, "group": null})).await;
    assert_eq!(roam["data"].as_array().unwrap().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn send_failures() {
    let (sim, mut ws) = setup().await;
    let send = |target: i64| json!({"target": target, "messageChain": chain("x")});
    assert_eq!(code(&ws.call("sendGroupMessage", None, send(1)).await), 5);
    assert_eq!(code(&ws.call("sendFriendMessage", None, send(1)).await), 5);
    assert_eq!(code(&ws.call("sendOtherClientMessage", None, send(1)).await), 5);
    assert_eq!(
        code(
            &ws.call("sendTempMessage", None, json!({"qq": MEMBER, "messageChain": chain("x")}))
                .await
        ),
        5
    );
    assert_eq!(
        code(
            &ws.call(
                "sendTempMessage",
                None,
                json!({"group": DEFAULT_GROUP, "messageChain": chain("x")})
            )
            .await
        ),
        5
    );
    assert_eq!(
        code(
            &ws.call(
                "sendTempMessage",
                None,
                json!({"qq": 1, "group": DEFAULT_GROUP, "messageChain": chain("x")})
            )
            .await
        ),
        5
    );
    // Quoting a message that is not in the conversation.
    let quote = json!({"target": DEFAULT_GROUP, "quote": 77, "messageChain": chain("x")});
    assert_eq!(code(&ws.call("sendGroupMessage", None, quote).await), 5);
    // Nothing left to send.
    let empty =
        json!({"target": DEFAULT_GROUP, "messageChain": [{"type": "Source", "id": 1, "time": 1}]});
    assert_eq!(code(&ws.call("sendGroupMessage", None, empty).await), 500);
    // A muted bot cannot speak.
    sim.world(|w| w.set_bot_muted(DEFAULT_GROUP, 600));
    assert_eq!(
        ws.call("sendGroupMessage", None, send(DEFAULT_GROUP)).await,
        json!({"code": 20, "msg": "Bot被禁言"})
    );
    sim.world(|w| w.set_bot_muted(DEFAULT_GROUP, 0));
    // Nor when everyone is muted and it is a plain member.
    sim.world(|w| {
        w.add_group(DEFAULT_GROUP, "g", Permission::Member);
        w.group_mut(DEFAULT_GROUP).unwrap().config.mute_all = true;
    });
    assert_eq!(code(&ws.call("sendGroupMessage", None, send(DEFAULT_GROUP)).await), 20);
    assert!(sim.sent().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn recall_and_essence() {
    let (sim, mut ws) = setup().await;
    assert_eq!(
        code(&ws.call("recall", None, json!({"target": DEFAULT_GROUP, "messageId": 5})).await),
        5
    );
    let theirs = sim.group_message(DEFAULT_GROUP, MEMBER, json!("from a member"));
    let owners = sim.group_message(DEFAULT_GROUP, OWNER, json!("from the owner"));
    ws.frame().await;
    ws.frame().await;
    assert_ne!(theirs, owners);
    assert_eq!(
        ws.call("setEssence", None, json!({"target": DEFAULT_GROUP, "messageId": theirs})).await,
        success()
    );
    assert_eq!(sim.world(|w| w.essences.clone()), vec![(DEFAULT_GROUP, theirs)]);
    assert_eq!(
        code(
            &ws.call("setEssence", None, json!({"target": DEFAULT_GROUP, "messageId": 999})).await
        ),
        5
    );
    // An admin may recall a member's message but not the owner's.
    assert_eq!(
        code(&ws.call("recall", None, json!({"target": DEFAULT_GROUP, "messageId": owners})).await),
        10
    );
    assert_eq!(
        ws.call("recall", None, json!({"target": DEFAULT_GROUP, "messageId": theirs})).await,
        success()
    );
    assert_eq!(
        code(&ws.call("recall", None, json!({"target": DEFAULT_GROUP, "messageId": theirs})).await),
        5
    );
    // The bot's own message.
    let mine = ws
        .call(
            "sendFriendMessage",
            None,
            json!({"target": DEFAULT_FRIEND, "messageChain": chain("oops")}),
        )
        .await["messageId"]
        .clone();
    assert_eq!(
        ws.call("recall", None, json!({"target": DEFAULT_FRIEND, "messageId": mine})).await,
        success()
    );
    assert_eq!(
        sim.world(|w| w.recalled.clone()),
        vec![(DEFAULT_GROUP, theirs), (DEFAULT_FRIEND, mine.as_i64().unwrap())]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn friend_requests_and_invitations() {
    let (sim, mut ws) = setup().await;
    let resp = |event: i64, from: i64, group: i64, operate: i64| json!({"eventId": event, "fromId": from, "groupId": group, "operate": operate, "message": ""});
    assert_eq!(code(&ws.call("resp_newFriendRequestEvent", None, resp(1234, 1, 0, 0)).await), 5);
    let e = sim.new_friend_request(777, "hello");
    assert_eq!(sim.world(|w| w.request(e).map(|r| r.message.clone())), Some("hello".into()));
    assert_eq!(ws.call("resp_newFriendRequestEvent", None, resp(e, 777, 0, 0)).await, success());
    assert!(sim.world(|w| w.friend(777).is_some()));
    assert_eq!(code(&ws.call("resp_newFriendRequestEvent", None, resp(e, 777, 0, 0)).await), 5);
    let friends = ws.call("friendList", None, json!({})).await;
    assert!(friends["data"].as_array().unwrap().iter().any(|f| f["id"] == 777));

    let rejected = sim.new_friend_request(778, "");
    assert_eq!(
        ws.call("resp_newFriendRequestEvent", None, resp(rejected, 778, 0, 2)).await,
        success()
    );
    assert!(sim.world(|w| w.friend(778).is_none() && w.blacklist.contains(&778)));

    let join = sim.member_join_request(DEFAULT_GROUP, 888, "let me in");
    // The event id of a different kind of request is not found.
    assert_eq!(
        code(
            &ws.call(
                "resp_botInvitedJoinGroupRequestEvent",
                None,
                resp(join, 888, DEFAULT_GROUP, 0)
            )
            .await
        ),
        5
    );
    assert_eq!(
        ws.call("resp_memberJoinRequestEvent", None, resp(join, 888, DEFAULT_GROUP, 0)).await,
        success()
    );
    assert!(sim.world(|w| w.member(DEFAULT_GROUP, 888).is_some()));

    let invite = sim.bot_invited(555_000, DEFAULT_FRIEND);
    assert_eq!(
        ws.call(
            "resp_botInvitedJoinGroupRequestEvent",
            None,
            resp(invite, DEFAULT_FRIEND, 555_000, 0)
        )
        .await,
        success()
    );
    assert_eq!(sim.world(|w| w.group(555_000).map(|g| g.permission)), Some(Permission::Member));
    assert_eq!(sim.world(|w| w.answers.len()), 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn friends_and_profiles() {
    let (sim, mut ws) = setup().await;
    assert_eq!(code(&ws.call("deleteFriend", None, json!({"target": 1})).await), 5);
    assert_eq!(code(&ws.call("friendProfile", None, json!({"target": 1})).await), 5);
    assert_eq!(
        ws.call("friendProfile", None, json!({"target": DEFAULT_FRIEND})).await["nickname"],
        "alice"
    );
    assert_eq!(
        ws.call("memberProfile", None, json!({"target": DEFAULT_GROUP, "memberId": OWNER})).await
            ["nickname"],
        "bob"
    );
    assert_eq!(
        code(
            &ws.call("memberProfile", None, json!({"target": DEFAULT_GROUP, "memberId": 1})).await
        ),
        5
    );
    assert_eq!(ws.call("userProfile", None, json!({"target": 31337})).await["sex"], "UNKNOWN");
    assert_eq!(ws.call("deleteFriend", None, json!({"target": DEFAULT_FRIEND})).await, success());
    assert!(sim.world(|w| w.friends.is_empty()));
    sim.shutdown().await;
}

#[tokio::test]
async fn group_files() {
    let (sim, mut ws) = setup().await;
    let g = DEFAULT_GROUP;
    let dir =
        ws.call("file_mkdir", None, json!({"target": g, "id": "", "directoryName": "docs"})).await;
    assert_eq!(dir["code"], 0);
    assert_eq!(
        (dir["data"]["name"].as_str(), dir["data"]["isDirectory"].as_bool()),
        (Some("docs"), Some(true))
    );
    assert_eq!(dir["data"]["parent"]["id"], ROOT_FOLDER);
    let dir_id = dir["data"]["id"].as_str().unwrap().to_owned();
    let file = sim.world(|w| w.add_file(g, "", "a.txt", 3, OWNER)).unwrap();

    let list = |id: &str| json!({"target": g, "id": id});
    let names = |v: &Value| -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&ws.call("file_list", None, list("")).await), ["docs", "a.txt"]);
    assert_eq!(
        names(&ws.call("file_list", None, json!({"target": g, "offset": 1, "size": 5})).await),
        ["a.txt"]
    );
    let info = ws
        .call("file_info", None, json!({"target": g, "id": file, "withDownloadInfo": true}))
        .await;
    assert_eq!(
        (info["data"]["path"].as_str(), info["data"]["size"].as_i64()),
        (Some("/a.txt"), Some(3))
    );
    assert!(info["data"]["downloadInfo"]["url"].is_string());
    assert_eq!(code(&ws.call("file_info", None, list("")).await), 5);
    assert_eq!(code(&ws.call("file_info", None, list("/nope")).await), 5);
    // By path instead of id.
    assert_eq!(
        ws.call("file_info", None, json!({"target": g, "path": "/a.txt"})).await["data"]["id"],
        file.as_str()
    );
    // Only groups have files.
    assert_eq!(code(&ws.call("file_list", None, json!({"qq": DEFAULT_FRIEND})).await), 5);

    assert_eq!(
        ws.call("file_move", None, json!({"target": g, "id": file, "moveTo": dir_id})).await,
        success()
    );
    assert_eq!(names(&ws.call("file_list", None, list(&dir_id)).await), ["a.txt"]);
    assert_eq!(
        code(
            &ws.call("file_move", None, json!({"target": g, "id": file, "moveTo": "/nowhere"}))
                .await
        ),
        5
    );
    assert_eq!(code(&ws.call("file_move", None, json!({"target": g, "id": file})).await), 5);
    assert_eq!(
        ws.call("file_move", None, json!({"target": g, "id": file, "moveToPath": "/"})).await,
        success()
    );
    assert_eq!(
        ws.call("file_rename", None, json!({"target": g, "id": file, "renameTo": "b.txt"})).await,
        success()
    );
    assert_eq!(ws.call("file_info", None, list(&file)).await["data"]["name"], "b.txt");
    assert_eq!(
        code(&ws.call("file_rename", None, json!({"target": g, "id": "", "renameTo": "x"})).await),
        10
    );

    // A plain member may not touch others' files.
    sim.world(|w| w.add_group(g, "g", Permission::Member));
    assert_eq!(code(&ws.call("file_delete", None, list(&file)).await), 10);
    assert_eq!(
        code(&ws.call("file_mkdir", None, json!({"target": g, "directoryName": "x"})).await),
        10
    );
    sim.world(|w| w.add_group(g, "g", Permission::Administrator));
    assert_eq!(ws.call("file_delete", None, list(&file)).await, success());
    assert_eq!(ws.call("file_delete", None, list(&dir_id)).await, success());
    assert_eq!(ws.call("file_list", None, list("")).await["data"], json!([]));
    assert_eq!(code(&ws.call("file_delete", None, list(&file)).await), 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn group_config_and_member_info() {
    let (sim, mut ws) = setup().await;
    let get = json!({"target": DEFAULT_GROUP});
    let before = ws.call("groupConfig", Some("get"), get.clone()).await;
    assert_eq!(
        before,
        json!({"name": "mahua playground", "confessTalk": false, "allowMemberInvite": true, "autoApprove": false, "anonymousChat": false, "muteAll": false})
    );
    let update = json!({"target": DEFAULT_GROUP, "config": {"name": "new", "allowMemberInvite": false, "confessTalk": true, "anonymousChat": true, "autoApprove": true, "muteAll": true, "announcement": "x"}});
    assert_eq!(ws.call("groupConfig", Some("update"), update).await, success());
    // Only name and allowMemberInvite are applied.
    let after = ws.call("groupConfig", Some("get"), get).await;
    assert_eq!(
        after,
        json!({"name": "new", "confessTalk": false, "allowMemberInvite": false, "autoApprove": false, "anonymousChat": false, "muteAll": false})
    );
    assert_eq!(code(&ws.call("groupConfig", Some("get"), json!({"target": 1})).await), 5);

    let card = json!({"target": DEFAULT_GROUP, "memberId": MEMBER, "info": {"name": "Dave!"}});
    assert_eq!(ws.call("memberInfo", Some("update"), card).await, success());
    assert_eq!(sim.world(|w| w.member(DEFAULT_GROUP, MEMBER).unwrap().name.clone()), "Dave!");
    // A special title needs the owner; an admin's card needs more than an admin.
    let title =
        json!({"target": DEFAULT_GROUP, "memberId": MEMBER, "info": {"specialTitle": "king"}});
    assert_eq!(code(&ws.call("memberInfo", Some("update"), title.clone()).await), 10);
    let admin_card = json!({"target": DEFAULT_GROUP, "memberId": ADMIN, "info": {"name": "x"}});
    assert_eq!(code(&ws.call("memberInfo", Some("update"), admin_card).await), 10);
    sim.world(|w| w.add_group(DEFAULT_GROUP, "new", Permission::Owner));
    assert_eq!(ws.call("memberInfo", Some("update"), title).await, success());
    assert_eq!(
        sim.world(|w| w.member(DEFAULT_GROUP, MEMBER).unwrap().special_title.clone()),
        "king"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn announcements() {
    let (sim, mut ws) = setup().await;
    let published = ws
        .call(
            "anno_publish",
            None,
            json!({"target": DEFAULT_GROUP, "content": "read me", "pinned": true}),
        )
        .await;
    assert_eq!(published["data"]["content"], "read me");
    assert_eq!(published["data"]["senderId"], BOT);
    let fid = published["data"]["fid"].as_str().unwrap().to_owned();
    ws.call("anno_publish", None, json!({"target": DEFAULT_GROUP, "content": "second"})).await;
    let list = ws.call("anno_list", None, json!({"id": DEFAULT_GROUP})).await;
    let contents: Vec<&str> =
        list["data"].as_array().unwrap().iter().map(|a| a["content"].as_str().unwrap()).collect();
    assert_eq!(contents, ["second", "read me"]);
    assert_eq!(
        ws.call("anno_list", None, json!({"id": DEFAULT_GROUP, "offset": 1, "size": 1})).await
            ["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let missing_image =
        json!({"target": DEFAULT_GROUP, "content": "x", "imagePath": "/definitely/not/here.png"});
    let v = ws.call("anno_publish", None, missing_image).await;
    assert_eq!(v["code"], 6);
    assert!(v["msg"].as_str().unwrap().starts_with("文件不存在："), "{v}");
    assert_eq!(
        ws.call("anno_delete", None, json!({"id": DEFAULT_GROUP, "fid": fid})).await,
        success()
    );
    assert_eq!(
        code(&ws.call("anno_delete", None, json!({"id": DEFAULT_GROUP, "fid": fid})).await),
        5
    );
    sim.world(|w| w.add_group(DEFAULT_GROUP, "g", Permission::Member));
    assert_eq!(
        code(
            &ws.call("anno_publish", None, json!({"target": DEFAULT_GROUP, "content": "x"})).await
        ),
        10
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn nudges_and_console_commands() {
    let sim = sim().await;
    let (mut ws, key) = Ws::bound(&sim, "/message").await;
    let mut events = Ws::attach(&sim, "/event", &key).await;
    assert_eq!(
        ws.call(
            "sendNudge",
            None,
            json!({"target": MEMBER, "subject": DEFAULT_GROUP, "kind": "Group"})
        )
        .await,
        success()
    );
    assert_eq!(
        ws.call(
            "sendNudge",
            None,
            json!({"target": DEFAULT_FRIEND, "subject": DEFAULT_FRIEND, "kind": "friend"})
        )
        .await,
        success()
    );
    assert_eq!(
        code(
            &ws.call(
                "sendNudge",
                None,
                json!({"target": 1, "subject": DEFAULT_GROUP, "kind": "Group"})
            )
            .await
        ),
        5
    );
    // An unknown kind succeeds and does nothing.
    assert_eq!(
        ws.call("sendNudge", None, json!({"target": 1, "subject": 1, "kind": "Planet"})).await,
        success()
    );
    assert_eq!(sim.world(|w| w.nudges.len()), 2);

    let execute = json!({"command": [{"type": "Plain", "text": "/hello world"}, {"type": "Plain", "text": "again"}]});
    assert_eq!(
        ws.call("cmd_execute", None, execute.clone()).await,
        json!({"code": 400, "msg": "Execute command error"})
    );
    assert_eq!(
        ws.call("cmd_register", None, json!({"name": "greet", "alias": ["hello"]})).await,
        success()
    );
    assert_eq!(ws.call("cmd_execute", None, execute).await, success());
    let e = events.frame().await["data"].clone();
    assert_eq!(
        e,
        json!({"type": "CommandExecutedEvent", "name": "greet", "friend": null, "member": null,
            "args": [{"type": "Plain", "text": "world"}, {"type": "Plain", "text": "again"}]})
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn helpers_inject_events_and_grow_the_world() {
    let sim = sim().await;
    let (mut all, _) = Ws::bound(&sim, "/all").await;
    let id =
        sim.group_message(777, 888, json!([{"type": "At", "target": BOT, "display": ""}, " hi"]));
    let m = all.frame().await["data"].clone();
    assert_eq!(m["type"], "GroupMessage");
    assert_eq!(m["messageChain"][0]["id"], id);
    assert_eq!(m["messageChain"][2], json!({"type": "Plain", "text": " hi"}));
    assert_eq!(m["sender"]["group"]["id"], 777);
    assert!(sim.world(|w| w.member(777, 888).is_some()));
    let second = sim.group_message(777, 888, json!("again"));
    assert_eq!(second, id + 1);
    assert_eq!(all.frame().await["data"]["messageChain"][0]["id"], second);

    let f = sim.friend_message(999, json!("yo"));
    assert_eq!(all.frame().await["data"]["sender"]["id"], 999);
    assert!(sim.world(|w| w.friend(999).is_some() && w.message(999, f).is_some()));
    sim.temp_message(DEFAULT_GROUP, MEMBER, json!("psst"));
    assert_eq!(all.frame().await["data"]["type"], "TempMessage");
    sim.member_join(DEFAULT_GROUP, 4444);
    let e = all.frame().await["data"].clone();
    assert_eq!(
        (e["type"].as_str(), e["member"]["id"].as_i64()),
        (Some("MemberJoinEvent"), Some(4444))
    );
    sim.nudge(MEMBER, BOT, Some(DEFAULT_GROUP));
    let e = all.frame().await["data"].clone();
    assert_eq!(
        e["subject"],
        json!({"kind": "Group", "id": DEFAULT_GROUP, "name": "mahua playground", "permission": "ADMINISTRATOR"})
    );
    sim.nudge(DEFAULT_FRIEND, BOT, None);
    assert_eq!(all.frame().await["data"]["subject"]["kind"], "Friend");
    let req = sim.new_friend_request(5, "hi");
    assert_eq!(all.frame().await["data"]["eventId"], req);
    let req2 = sim.member_join_request(DEFAULT_GROUP, 6, "hey");
    assert_eq!(req2, req + 1);
    assert_eq!(all.frame().await["data"]["groupName"], "mahua playground");
    sim.bot_invited(31, DEFAULT_FRIEND);
    assert_eq!(all.frame().await["data"]["nick"], "alice");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_control_api() {
    let sim = sim().await;
    let (mut ws, _) = Ws::bound(&sim, "/all").await;
    let c = client();
    let url = |p: &str| format!("{}{p}", sim.http_url());
    let packet = json!({"type": "GroupMessage", "messageChain": [{"type": "Plain", "text": "hello bot"}],
        "sender": {"id": 61, "memberName": "newbie", "specialTitle": "", "permission": "MEMBER", "joinTimestamp": 0,
            "lastSpeakTimestamp": 0, "muteTimeRemaining": 0, "group": {"id": 62, "name": "new group", "permission": "MEMBER"}, "active": null}});
    let r: Value =
        c.post(url("/_sim/event")).json(&packet).send().await.unwrap().json().await.unwrap();
    assert_eq!(r, json!({"code": 0, "msg": "success", "messageId": 1}));
    let pushed = ws.frame().await["data"].clone();
    assert_eq!(pushed["messageChain"][0]["type"], "Source");
    assert_eq!(pushed["messageChain"][1]["text"], "hello bot");
    assert!(sim.world(
        |w| w.group(62).is_some_and(|g| g.name == "new group") && w.member(62, 61).is_some()
    ));

    // The bot can answer in the group it just learnt of.
    let reply = ws
        .call(
            "sendGroupMessage",
            None,
            json!({"target": 62, "quote": 1, "messageChain": chain("welcome")}),
        )
        .await;
    assert_eq!(reply["code"], 0);
    let sent: Value = c.get(url("/_sim/sent")).send().await.unwrap().json().await.unwrap();
    assert_eq!(sent[0]["command"], "sendGroupMessage");
    assert_eq!(sent[0]["target"], 62);
    assert_eq!(sent[0]["chain"], chain("welcome"));
    assert_eq!(sent[0]["messageId"], reply["messageId"]);

    let r: Value = c
        .post(url("/_sim/event"))
        .json(&json!({"type": "BotOnlineEvent", "qq": BOT}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["code"], 0);
    assert_eq!(ws.frame().await["data"]["type"], "BotOnlineEvent");
    let r: Value =
        c.post(url("/_sim/event")).body("nope").send().await.unwrap().json().await.unwrap();
    assert_eq!(r["code"], 400);
    let received: Value = c.get(url("/_sim/received")).send().await.unwrap().json().await.unwrap();
    assert_eq!(received[0]["command"], "sendGroupMessage");
    sim.shutdown().await;
}

#[tokio::test]
async fn received_commands_are_logged_per_adapter() {
    let sim = sim().await;
    let (mut ws, _) = Ws::bound(&sim, "/all").await;
    let http = Http::bound(&sim).await;
    ws.call("memberInfo", Some("get"), json!({"target": DEFAULT_GROUP, "memberId": MEMBER})).await;
    http.get("/memberList", &[("target", DEFAULT_GROUP.to_string())]).await;
    let r = sim.received();
    let ws_call = r.iter().find(|r| r.adapter == "ws").unwrap();
    assert_eq!(
        (ws_call.command.as_str(), ws_call.sub_command.as_deref()),
        ("memberInfo", Some("get"))
    );
    assert_eq!(ws_call.content, json!({"target": DEFAULT_GROUP, "memberId": MEMBER}));
    let http_call = r.iter().rev().find(|r| r.adapter == "http").unwrap();
    assert_eq!(http_call.command, "memberList");
    assert_eq!(http_call.content, json!({"target": DEFAULT_GROUP}));
    sim.shutdown().await;
}

#[tokio::test]
async fn wait_for_names_what_it_waited_for() {
    let sim = sim().await;
    let err = sim
        .wait_for(Duration::from_millis(50), "a miracle", |s| s.sent().len() > 5)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("a miracle"), "{err}");
    // And wakes up on a change instead of polling.
    let waiter = {
        let sim = sim.clone();
        tokio::spawn(async move {
            sim.wait_for(WAIT, "a friend named zed", |s| s.world(|w| w.friend(9).is_some())).await
        })
    };
    tokio::task::yield_now().await;
    sim.world(|w| w.add_friend(9, "zed"));
    waiter.await.unwrap().unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn start_on_a_given_address() {
    let sim = Sim::start_on(
        "127.0.0.1:0".parse().unwrap(),
        SimConfig { qq: 4321, ..SimConfig::default() },
    )
    .await
    .unwrap();
    assert_eq!(sim.config().qq, 4321);
    assert!(sim.ws_url().starts_with("ws://127.0.0.1:"));
    assert_eq!(sim.http_url(), format!("http://{}", sim.addr()));
    let v: Value = client()
        .get(format!("{}/botList", sim.http_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"], json!([4321]));
    sim.shutdown().await;
}
