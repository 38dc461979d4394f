//! Golden tests of the OneBot connector's calls: for each mirai-api-http command, the exact
//! OneBot action and params sent, and the exact mirai-api-http body made from an ok answer
//! and from a failed one; plus the checks that answer without any action.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use mahua::adapter::onebot::action::{self, availability, Availability, Ctx};
use mahua::adapter::onebot::cache::{Contacts, Request, RequestKind, Role};
use mahua::adapter::onebot::{message, ActionError, Actions};
use mahua::adapter::{BoxFuture, Call, CallError, FilePart, Upload};
use serde_json::{json, Value};

/// A OneBot server that records each action and answers from a table keyed by action;
/// an action not in the table answers 1404 like a server that does not know it.
#[derive(Default)]
struct Fake {
    answers: Mutex<HashMap<String, Result<Value, ActionError>>>,
    calls: Mutex<Vec<(String, Value)>>,
}

impl Actions for Fake {
    fn action(&self, action: &str, params: Value) -> BoxFuture<Result<Value, ActionError>> {
        self.calls.lock().unwrap().push((action.to_owned(), params));
        let answer = self.answers.lock().unwrap().get(action).cloned().unwrap_or_else(|| {
            Err(ActionError::Failed {
                action: action.to_owned(),
                retcode: 1404,
                msg: "不支持的Api".to_owned(),
            })
        });
        Box::pin(async move { answer })
    }
}

/// The bot (10), its friend 20, its group 100 (where it is an admin) with member 30.
struct World {
    fake: Fake,
    contacts: Mutex<Contacts>,
    events: Mutex<Vec<Value>>,
}

const BOT: i64 = 10;
const FRIEND: i64 = 20;
const GROUP: i64 = 100;
const MEMBER: i64 = 30;

impl World {
    fn new() -> Self {
        let mut c = Contacts::new(BOT);
        c.app = "NapCat.Onebot 4.0".to_owned();
        c.friends.insert(
            FRIEND,
            mahua::adapter::onebot::cache::Friend { nickname: "f".into(), remark: "r".into() },
        );
        let g = c.group_mut(GROUP);
        g.name = "g".into();
        g.bot_role = Some(Role::Admin);
        c.learn_member(
            GROUP,
            &json!({"user_id": MEMBER, "nickname": "m", "card": "", "role": "member"}),
        );
        Self { fake: Fake::default(), contacts: Mutex::new(c), events: Mutex::new(Vec::new()) }
    }

    fn ok(self, action: &str, data: Value) -> Self {
        self.fake.answers.lock().unwrap().insert(action.to_owned(), Ok(data));
        self
    }

    fn fail(self, action: &str, retcode: i64, msg: &str) -> Self {
        let e = ActionError::Failed { action: action.to_owned(), retcode, msg: msg.to_owned() };
        self.fake.answers.lock().unwrap().insert(action.to_owned(), Err(e));
        self
    }

    fn no_answer(self, action: &str) -> Self {
        let e = ActionError::Call(CallError::Disconnected { command: action.to_owned() });
        self.fake.answers.lock().unwrap().insert(action.to_owned(), Err(e));
        self
    }

    fn with(self, f: impl FnOnce(&mut Contacts)) -> Self {
        f(&mut self.contacts.lock().unwrap());
        self
    }

    async fn try_run(
        &self,
        command: &str,
        sub: Option<&str>,
        content: Value,
    ) -> Result<Value, CallError> {
        let emit = |v: Value| self.events.lock().unwrap().push(v);
        let ctx = Ctx { api: &self.fake, contacts: &self.contacts, emit: &emit };
        action::run(&Call::new(command, sub, content), &ctx).await
    }

    async fn run(&self, command: &str, sub: Option<&str>, content: Value) -> Value {
        self.try_run(command, sub, content).await.expect("the call got an answer")
    }

    async fn upload(&self, upload: &Upload) -> Value {
        let emit = |v: Value| self.events.lock().unwrap().push(v);
        let ctx = Ctx { api: &self.fake, contacts: &self.contacts, emit: &emit };
        action::upload(upload, &ctx).await.expect("the upload got an answer")
    }

    fn calls(&self) -> Vec<(String, Value)> {
        self.fake.calls.lock().unwrap().clone()
    }

    fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }
}

fn calls(list: &[(&str, Value)]) -> Vec<(String, Value)> {
    list.iter().map(|(a, p)| ((*a).to_owned(), p.clone())).collect()
}

fn success() -> Value {
    json!({"code": 0, "msg": "success"})
}

fn data(v: Value) -> Value {
    json!({"code": 0, "msg": "", "data": v})
}

fn group_json() -> Value {
    json!({"id": GROUP, "name": "g", "permission": "ADMINISTRATOR"})
}

fn plain(text: &str) -> Value {
    json!({"type": "Plain", "text": text})
}

fn text_seg(text: &str) -> Value {
    json!({"type": "text", "data": {"text": text}})
}

/// One golden case.
struct Row {
    command: &'static str,
    sub: Option<&'static str>,
    content: Value,
    /// Answers by action.
    answers: Vec<(&'static str, Value)>,
    /// The actions sent, in order, when all answer ok.
    calls: Vec<(&'static str, Value)>,
    /// The body from the ok answers.
    body: Value,
    /// The body when the first action fails with 1200 "boom" (default: code 500 "boom").
    failed: Option<Value>,
}

fn row(
    command: &'static str,
    content: Value,
    answers: Vec<(&'static str, Value)>,
    calls: Vec<(&'static str, Value)>,
    body: Value,
) -> Row {
    Row { command, sub: None, content, answers, calls, body, failed: None }
}

fn root_files() -> Value {
    json!({
        "files": [{
            "group_id": GROUP, "file_id": "/f1", "file_name": "a.txt", "busid": 102,
            "file_size": 3, "upload_time": 1, "dead_time": 0, "modify_time": 2,
            "download_times": 4, "uploader": MEMBER, "uploader_name": "m",
        }],
        "folders": [{
            "group_id": GROUP, "folder_id": "/d1", "folder_name": "dir", "create_time": 1,
            "creator": MEMBER, "creator_name": "m", "total_file_count": 0,
        }],
    })
}

fn root_json() -> Value {
    json!({
        "name": "/", "id": "/", "path": "/", "parent": null, "contact": group_json(),
        "isFile": false, "isDictionary": true, "isDirectory": true, "size": 0, "sha1": null,
        "md5": null, "uploaderId": null, "uploadTime": null, "lastModifyTime": null,
        "downloadInfo": null,
    })
}

fn folder_json() -> Value {
    json!({
        "name": "dir", "id": "/d1", "path": "/dir", "parent": root_json(), "contact": group_json(),
        "isFile": false, "isDictionary": true, "isDirectory": true, "size": 0, "sha1": null,
        "md5": null, "uploaderId": null, "uploadTime": null, "lastModifyTime": null,
        "downloadInfo": null,
    })
}

fn file_json() -> Value {
    json!({
        "name": "a.txt", "id": "/f1", "path": "/a.txt", "parent": root_json(),
        "contact": group_json(), "isFile": true, "isDictionary": false, "isDirectory": false,
        "size": 3, "sha1": null, "md5": null, "uploaderId": MEMBER, "uploadTime": 1,
        "lastModifyTime": 2, "downloadInfo": null,
    })
}

fn member30(last_speak: i64) -> Value {
    json!({
        "id": MEMBER, "memberName": "c", "specialTitle": "t", "permission": "MEMBER",
        "joinTimestamp": 5, "lastSpeakTimestamp": last_speak, "muteTimeRemaining": 0,
        "group": group_json(), "active": null,
    })
}

fn onebot_members() -> Value {
    json!([
        {"group_id": GROUP, "user_id": MEMBER, "nickname": "m", "card": "c", "title": "t",
         "role": "member", "join_time": 5, "last_sent_time": 6},
        {"group_id": GROUP, "user_id": 31, "nickname": "x", "card": "", "role": "member"},
        {"group_id": GROUP, "user_id": BOT, "nickname": "bot", "role": "admin"},
    ])
}

fn private_message(id: i64) -> Value {
    json!({
        "post_type": "message", "message_type": "private", "sub_type": "friend", "self_id": BOT,
        "message_id": id, "message_seq": id, "user_id": FRIEND, "time": 1000,
        "message": [text_seg("hi")], "raw_message": "hi", "font": 14,
        "sender": {"user_id": FRIEND, "nickname": "f"},
    })
}

fn friend_packet(id: i64) -> Value {
    json!({
        "type": "FriendMessage",
        "messageChain": [{"type": "Source", "id": id, "time": 1000}, plain("hi")],
        "sender": {"id": FRIEND, "nickname": "f", "remark": "r"},
    })
}

fn forward() -> Value {
    json!({
        "type": "Forward", "display": null,
        "nodeList": [{"senderId": MEMBER, "time": 1, "senderName": "m", "messageChain": [plain("x")]}],
    })
}

fn profile_answer() -> Value {
    json!({"user_id": 0, "nickname": "p", "sex": "female", "age": 18, "qqLevel": 3,
           "long_nick": "hi", "email": "e@x"})
}

fn profile_body() -> Value {
    json!({"nickname": "p", "email": "e@x", "age": 18, "level": 3, "sign": "hi", "sex": "FEMALE"})
}

fn rows() -> Vec<Row> {
    let sent = json!({"message_id": 77});
    let sent_body = json!({"code": 0, "msg": "success", "messageId": 77});
    let forward_nodes = message::forward_nodes(&forward()).expect("a sendable forward");
    let mut v = vec![
        row(
            "botList",
            json!({}),
            vec![("get_login_info", json!({"user_id": BOT, "nickname": "bot"}))],
            vec![("get_login_info", json!({}))],
            data(json!([BOT])),
        ),
        row(
            "sessionInfo",
            json!({}),
            vec![("get_login_info", json!({"user_id": BOT, "nickname": "bot"}))],
            vec![("get_login_info", json!({}))],
            data(
                json!({"sessionKey": "SINGLE_SESSION", "qq": {"id": BOT, "nickname": "bot", "remark": ""}}),
            ),
        ),
        row(
            "friendList",
            json!({}),
            vec![("get_friend_list", json!([{"user_id": 21, "nickname": "n", "remark": "k"}]))],
            vec![("get_friend_list", json!({}))],
            data(json!([{"id": 21, "nickname": "n", "remark": "k"}])),
        ),
        row(
            "groupList",
            json!({}),
            vec![(
                "get_group_list",
                json!([{"group_id": GROUP, "group_name": "g", "member_count": 3}]),
            )],
            vec![("get_group_list", json!({}))],
            data(json!([group_json()])),
        ),
        row(
            "memberList",
            json!({"target": GROUP}),
            vec![("get_group_member_list", onebot_members())],
            vec![("get_group_member_list", json!({"group_id": GROUP}))],
            data(json!([member30(6), {
                "id": 31, "memberName": "x", "specialTitle": "", "permission": "MEMBER",
                "joinTimestamp": 0, "lastSpeakTimestamp": 0, "muteTimeRemaining": 0,
                "group": group_json(), "active": null,
            }])),
        ),
        row(
            "latestMemberList",
            json!({"target": GROUP, "memberIds": [MEMBER]}),
            vec![("get_group_member_list", onebot_members())],
            vec![("get_group_member_list", json!({"group_id": GROUP, "no_cache": true}))],
            data(json!([member30(5)])),
        ),
        row(
            "botProfile",
            json!({}),
            vec![("get_stranger_info", profile_answer())],
            vec![("get_stranger_info", json!({"user_id": BOT, "no_cache": false}))],
            profile_body(),
        ),
        row(
            "friendProfile",
            json!({"target": FRIEND}),
            vec![("get_stranger_info", profile_answer())],
            vec![("get_stranger_info", json!({"user_id": FRIEND, "no_cache": false}))],
            profile_body(),
        ),
        row(
            "memberProfile",
            json!({"target": GROUP, "memberId": MEMBER}),
            vec![("get_stranger_info", profile_answer())],
            vec![("get_stranger_info", json!({"user_id": MEMBER, "no_cache": false}))],
            profile_body(),
        ),
        row(
            "userProfile",
            json!({"target": 40}),
            vec![("get_stranger_info", profile_answer())],
            vec![("get_stranger_info", json!({"user_id": 40, "no_cache": false}))],
            profile_body(),
        ),
        row(
            "sendFriendMessage",
            json!({"target": FRIEND, "messageChain": [plain("hi")]}),
            vec![("send_private_msg", sent.clone())],
            vec![("send_private_msg", json!({"user_id": FRIEND, "message": [text_seg("hi")]}))],
            sent_body.clone(),
        ),
        row(
            "sendFriendMessage",
            json!({"qq": FRIEND, "messageChain": [forward()]}),
            vec![("send_private_forward_msg", sent.clone())],
            vec![(
                "send_private_forward_msg",
                json!({"user_id": FRIEND, "messages": forward_nodes}),
            )],
            sent_body.clone(),
        ),
        row(
            "sendGroupMessage",
            json!({"target": GROUP, "quote": 5, "messageChain": [plain("hi")]}),
            vec![("send_group_msg", sent.clone())],
            vec![(
                "send_group_msg",
                json!({"group_id": GROUP, "message": [
                {"type": "reply", "data": {"id": "5"}}, text_seg("hi")]}),
            )],
            sent_body.clone(),
        ),
        row(
            "sendGroupMessage",
            json!({"group": GROUP, "messageChain": [forward()]}),
            vec![("send_group_forward_msg", sent.clone())],
            vec![("send_group_forward_msg", json!({"group_id": GROUP, "messages": forward_nodes}))],
            sent_body.clone(),
        ),
        row(
            "sendTempMessage",
            json!({"qq": MEMBER, "group": GROUP, "messageChain": [plain("hi")]}),
            vec![("send_private_msg", sent.clone())],
            vec![(
                "send_private_msg",
                json!({"user_id": MEMBER, "group_id": GROUP, "message": [text_seg("hi")]}),
            )],
            sent_body,
        ),
        row(
            "sendImageMessage",
            json!({"target": FRIEND, "urls": ["https://x/1.png"]}),
            vec![("send_private_msg", sent)],
            vec![(
                "send_private_msg",
                json!({"user_id": FRIEND, "message": [
                {"type": "image", "data": {"file": "https://x/1.png"}}]}),
            )],
            data(json!(["https://x/1.png"])),
        ),
        row(
            "sendNudge",
            json!({"target": MEMBER, "subject": GROUP, "kind": "Group"}),
            vec![("group_poke", Value::Null)],
            vec![("group_poke", json!({"group_id": GROUP, "user_id": MEMBER}))],
            success(),
        ),
        row(
            "sendNudge",
            json!({"target": FRIEND, "subject": FRIEND, "kind": "Friend"}),
            vec![("friend_poke", Value::Null)],
            vec![("friend_poke", json!({"user_id": FRIEND}))],
            success(),
        ),
        row(
            "recall",
            json!({"target": GROUP, "messageId": 5}),
            vec![("delete_msg", Value::Null)],
            vec![("delete_msg", json!({"message_id": 5}))],
            success(),
        ),
        row(
            "setEssence",
            json!({"target": GROUP, "messageId": 5}),
            vec![("set_essence_msg", Value::Null)],
            vec![("set_essence_msg", json!({"message_id": 5}))],
            success(),
        ),
        Row {
            failed: Some(json!({"code": 5, "msg": "boom"})),
            ..row(
                "messageFromId",
                json!({"messageId": 9, "target": FRIEND}),
                vec![("get_msg", private_message(9))],
                vec![("get_msg", json!({"message_id": 9}))],
                data(friend_packet(9)),
            )
        },
        row(
            "roamingMessages",
            json!({"timeStart": 0, "timeEnd": 9_000_000_000_i64, "target": FRIEND, "qq": null, "group": null}),
            vec![(
                "get_friend_msg_history",
                json!({"messages": [private_message(9), private_message(8)]}),
            )],
            vec![
                ("get_friend_msg_history", json!({"user_id": FRIEND, "count": 100})),
                (
                    "get_friend_msg_history",
                    json!({"user_id": FRIEND, "count": 100, "message_seq": 9}),
                ),
            ],
            data(json!([friend_packet(8), friend_packet(9)])),
        ),
        row(
            "file_list",
            json!({"target": GROUP, "id": "", "path": null, "withDownloadInfo": false}),
            vec![("get_group_root_files", root_files())],
            vec![("get_group_root_files", json!({"group_id": GROUP}))],
            data(json!([folder_json(), file_json()])),
        ),
        row(
            "file_info",
            json!({"target": GROUP, "id": "/f1", "withDownloadInfo": true}),
            vec![
                ("get_group_root_files", root_files()),
                ("get_group_file_url", json!({"url": "https://dl/a"})),
            ],
            vec![
                ("get_group_root_files", json!({"group_id": GROUP})),
                ("get_group_file_url", json!({"group_id": GROUP, "file_id": "/f1", "busid": 102})),
            ],
            data({
                let mut f = file_json();
                f["downloadInfo"] = json!({"sha1": null, "md5": null, "downloadTimes": 0,
                    "uploaderId": MEMBER, "uploadTime": 1, "lastModifyTime": 2, "url": "https://dl/a"});
                f
            }),
        ),
        row(
            "file_mkdir",
            json!({"target": GROUP, "id": "", "directoryName": "dir"}),
            vec![("create_group_file_folder", Value::Null), ("get_group_root_files", root_files())],
            vec![
                (
                    "create_group_file_folder",
                    json!({"group_id": GROUP, "name": "dir", "folder_name": "dir", "parent_id": "/"}),
                ),
                ("get_group_root_files", json!({"group_id": GROUP})),
            ],
            data(folder_json()),
        ),
        row(
            "file_delete",
            json!({"target": GROUP, "id": "/f1"}),
            vec![("get_group_root_files", root_files()), ("delete_group_file", Value::Null)],
            vec![
                ("get_group_root_files", json!({"group_id": GROUP})),
                ("delete_group_file", json!({"group_id": GROUP, "file_id": "/f1", "busid": 102})),
            ],
            success(),
        ),
        row(
            "file_move",
            json!({"target": GROUP, "id": "/f1", "moveTo": "/d1"}),
            vec![("get_group_root_files", root_files()), ("move_group_file", Value::Null)],
            vec![
                ("get_group_root_files", json!({"group_id": GROUP})),
                ("get_group_root_files", json!({"group_id": GROUP})),
                (
                    "move_group_file",
                    json!({"group_id": GROUP, "file_id": "/f1",
                    "current_parent_directory": "/", "target_parent_directory": "/d1"}),
                ),
            ],
            success(),
        ),
        row(
            "file_rename",
            json!({"target": GROUP, "id": "/f1", "renameTo": "b.txt"}),
            vec![("get_group_root_files", root_files()), ("rename_group_file", Value::Null)],
            vec![
                ("get_group_root_files", json!({"group_id": GROUP})),
                (
                    "rename_group_file",
                    json!({"group_id": GROUP, "file_id": "/f1",
                    "current_parent_directory": "/", "new_name": "b.txt"}),
                ),
            ],
            success(),
        ),
        row(
            "deleteFriend",
            json!({"target": FRIEND}),
            vec![("delete_friend", Value::Null)],
            vec![("delete_friend", json!({"user_id": FRIEND, "friend_id": FRIEND}))],
            success(),
        ),
        row(
            "mute",
            json!({"target": GROUP, "memberId": MEMBER, "time": 600}),
            vec![("set_group_ban", Value::Null)],
            vec![("set_group_ban", json!({"group_id": GROUP, "user_id": MEMBER, "duration": 600}))],
            success(),
        ),
        row(
            "unmute",
            json!({"target": GROUP, "memberId": MEMBER}),
            vec![("set_group_ban", Value::Null)],
            vec![("set_group_ban", json!({"group_id": GROUP, "user_id": MEMBER, "duration": 0}))],
            success(),
        ),
        row(
            "kick",
            json!({"target": GROUP, "memberId": MEMBER, "block": true, "msg": "bye"}),
            vec![("set_group_kick", Value::Null)],
            vec![(
                "set_group_kick",
                json!({"group_id": GROUP, "user_id": MEMBER, "reject_add_request": true}),
            )],
            success(),
        ),
        row(
            "quit",
            json!({"target": GROUP}),
            vec![("set_group_leave", Value::Null)],
            vec![("set_group_leave", json!({"group_id": GROUP, "is_dismiss": false}))],
            success(),
        ),
        row(
            "muteAll",
            json!({"target": GROUP}),
            vec![("set_group_whole_ban", Value::Null)],
            vec![("set_group_whole_ban", json!({"group_id": GROUP, "enable": true}))],
            success(),
        ),
        row(
            "unmuteAll",
            json!({"target": GROUP}),
            vec![("set_group_whole_ban", Value::Null)],
            vec![("set_group_whole_ban", json!({"group_id": GROUP, "enable": false}))],
            success(),
        ),
        Row {
            sub: Some("get"),
            ..row(
                "groupConfig",
                json!({"target": GROUP}),
                vec![(
                    "get_group_info",
                    json!({"group_id": GROUP, "group_name": "g2", "group_all_shut": -1}),
                )],
                vec![("get_group_info", json!({"group_id": GROUP, "no_cache": true}))],
                json!({"name": "g2", "confessTalk": false, "allowMemberInvite": false,
                       "autoApprove": false, "anonymousChat": false, "muteAll": true}),
            )
        },
        Row {
            sub: Some("update"),
            ..row(
                "groupConfig",
                json!({"target": GROUP, "config": {"name": "n", "confessTalk": true}}),
                vec![("set_group_name", Value::Null)],
                vec![("set_group_name", json!({"group_id": GROUP, "group_name": "n"}))],
                success(),
            )
        },
        Row {
            sub: Some("get"),
            ..row(
                "memberInfo",
                json!({"target": GROUP, "memberId": MEMBER}),
                vec![
                    (
                        "get_group_member_info",
                        json!({"group_id": GROUP, "user_id": MEMBER, "nickname": "m",
                        "card": "c", "title": "t", "role": "member", "join_time": 5, "last_sent_time": 6, "level": "7"}),
                    ),
                    (
                        "get_group_honor_info",
                        json!({"group_id": GROUP, "current_talkative": {"user_id": MEMBER},
                        "emotion_list": [{"user_id": MEMBER}], "performer_list": []}),
                    ),
                ],
                vec![
                    (
                        "get_group_member_info",
                        json!({"group_id": GROUP, "user_id": MEMBER, "no_cache": true}),
                    ),
                    ("get_group_honor_info", json!({"group_id": GROUP, "type": "all"})),
                ],
                {
                    let mut m = member30(6);
                    m["active"] = json!({"rank": 0, "point": 0, "honors": ["龙王", "快乐源泉"], "temperature": 7});
                    m
                },
            )
        },
        Row {
            sub: Some("update"),
            ..row(
                "memberInfo",
                json!({"target": GROUP, "memberId": MEMBER, "info": {"name": "c", "specialTitle": "t"}}),
                vec![("set_group_card", Value::Null), ("set_group_special_title", Value::Null)],
                vec![
                    ("set_group_card", json!({"group_id": GROUP, "user_id": MEMBER, "card": "c"})),
                    (
                        "set_group_special_title",
                        json!({"group_id": GROUP, "user_id": MEMBER, "special_title": "t"}),
                    ),
                ],
                success(),
            )
        },
        row(
            "anno_list",
            json!({"id": GROUP, "offset": 0, "size": 10}),
            vec![(
                "_get_group_notice",
                json!([{"notice_id": "n1", "sender_id": MEMBER, "publish_time": 7,
                "message": {"text": "hello", "images": []}}]),
            )],
            vec![("_get_group_notice", json!({"group_id": GROUP}))],
            data(
                json!([{"group": group_json(), "content": "hello", "senderId": MEMBER, "fid": "n1",
                "allConfirmed": false, "confirmedMembersCount": 0, "publicationTime": 7}]),
            ),
        ),
        row(
            "anno_publish",
            json!({"target": GROUP, "content": "hello", "pinned": true}),
            vec![
                ("_send_group_notice", Value::Null),
                (
                    "_get_group_notice",
                    json!([
                        {"notice_id": "old", "sender_id": BOT, "publish_time": 3, "message": {"text": "hello"}},
                        {"notice_id": "new", "sender_id": BOT, "publish_time": 8, "message": {"text": "hello"}},
                        {"notice_id": "other", "sender_id": MEMBER, "publish_time": 9, "message": {"text": "hello"}},
                    ]),
                ),
            ],
            vec![
                (
                    "_send_group_notice",
                    json!({"group_id": GROUP, "content": "hello", "pinned": 1,
                    "confirm_required": 0, "is_show_edit_card": 0, "tip_window_type": 1}),
                ),
                ("_get_group_notice", json!({"group_id": GROUP})),
            ],
            data(json!({"group": group_json(), "content": "hello", "senderId": BOT, "fid": "new",
                "allConfirmed": false, "confirmedMembersCount": 0, "publicationTime": 8})),
        ),
        row(
            "anno_delete",
            json!({"id": GROUP, "fid": "n1"}),
            vec![("_del_group_notice", Value::Null)],
            vec![("_del_group_notice", json!({"group_id": GROUP, "notice_id": "n1"}))],
            success(),
        ),
    ];
    v.shrink_to_fit();
    v
}

#[tokio::test]
async fn every_command_sends_its_action_and_answers_the_mirai_body() {
    for r in rows() {
        let label = format!("{} {:?} {}", r.command, r.sub, r.content);
        let mut w = World::new();
        for (action, answer) in &r.answers {
            w = w.ok(action, answer.clone());
        }
        let body = w.run(r.command, r.sub, r.content.clone()).await;
        assert_eq!(body, r.body, "{label}: body");
        assert_eq!(w.calls(), calls(&r.calls), "{label}: calls");
        assert!(
            !matches!(availability(r.command, r.sub), Availability::No(_)),
            "{label}: availability says no"
        );

        let mut w = World::new();
        for (action, answer) in &r.answers {
            w = w.ok(action, answer.clone());
        }
        let w = w.fail(r.calls[0].0, 1200, "boom");
        let body = w.run(r.command, r.sub, r.content.clone()).await;
        let failed = r.failed.clone().unwrap_or_else(|| json!({"code": 500, "msg": "boom"}));
        assert_eq!(body, failed, "{label}: failed body");
        assert_eq!(w.calls(), calls(&r.calls[..1]), "{label}: failed calls");
    }
}

#[tokio::test]
async fn about_answers_locally_with_the_server_named() {
    let w = World::new();
    let body = w.run("about", None, json!({})).await;
    let version = format!("{} (OneBot NapCat.Onebot 4.0)", env!("CARGO_PKG_VERSION"));
    assert_eq!(body, data(json!({ "version": version })));
    assert!(w.calls().is_empty());
}

#[tokio::test]
async fn mute_always_sends_its_duration_and_refuses_none() {
    let w = World::new().ok("set_group_ban", Value::Null);
    w.run("mute", None, json!({"target": GROUP, "memberId": MEMBER, "time": 60})).await;
    assert_eq!(w.calls()[0].1["duration"], 60);
    // Without a time mirai-api-http refuses too (0 seconds is not a mute); no action unmutes.
    let body = w.run("mute", None, json!({"target": GROUP, "memberId": MEMBER})).await;
    assert_eq!(body["code"], 400);
    assert_eq!(w.calls().len(), 1);
}

#[tokio::test]
async fn unmute_sends_duration_zero() {
    let w = World::new().ok("set_group_ban", Value::Null);
    w.run("unmute", None, json!({"target": GROUP, "memberId": MEMBER})).await;
    assert_eq!(
        w.calls(),
        calls(&[("set_group_ban", json!({"group_id": GROUP, "user_id": MEMBER, "duration": 0}))])
    );
}

#[tokio::test]
async fn kick_block_rejects_later_requests_and_drops_the_message() {
    for block in [true, false] {
        let w = World::new().ok("set_group_kick", Value::Null);
        let content = json!({"target": GROUP, "memberId": MEMBER, "block": block, "msg": "bye"});
        w.run("kick", None, content).await;
        let params = json!({"group_id": GROUP, "user_id": MEMBER, "reject_add_request": block});
        assert_eq!(w.calls(), calls(&[("set_group_kick", params)]));
    }
}

#[tokio::test]
async fn quote_becomes_a_leading_reply() {
    let w = World::new().ok("send_private_msg", json!({"message_id": 3}));
    let content = json!({"target": FRIEND, "quote": 42, "messageChain": [plain("a"), plain("b")]});
    w.run("sendFriendMessage", None, content).await;
    let message = &w.calls()[0].1["message"];
    assert_eq!(message[0], json!({"type": "reply", "data": {"id": "42"}}));
    assert_eq!(message[1], text_seg("a"));
}

#[tokio::test]
async fn a_forward_only_chain_goes_by_the_forward_action() {
    let w = World::new().ok("send_group_forward_msg", json!({"message_id": 4}));
    let source = json!({"type": "Source", "id": 1, "time": 1});
    let body = w
        .run(
            "sendGroupMessage",
            None,
            json!({"target": GROUP, "messageChain": [source, forward()]}),
        )
        .await;
    assert_eq!(body, json!({"code": 0, "msg": "success", "messageId": 4}));
    let (action, params) = &w.calls()[0];
    assert_eq!(action, "send_group_forward_msg");
    assert_eq!(params["group_id"], GROUP);
    assert_eq!(params["messages"], json!(message::forward_nodes(&forward()).unwrap()));
    // A Forward next to other elements cannot be sent: code 6 with the element named.
    let w = World::new();
    let body = w
        .run(
            "sendGroupMessage",
            None,
            json!({"target": GROUP, "messageChain": [plain("a"), forward()]}),
        )
        .await;
    assert_eq!(body["code"], 6);
    assert!(body["msg"].as_str().unwrap().contains("Forward"), "{body}");
    assert!(w.calls().is_empty());
}

#[tokio::test]
async fn temp_messages_go_by_send_private_msg_with_the_group() {
    let w = World::new().ok("send_private_msg", json!({"message_id": 5}));
    let content = json!({"qq": MEMBER, "group": GROUP, "messageChain": [plain("hi")]});
    w.run("sendTempMessage", None, content).await;
    let (action, params) = &w.calls()[0];
    assert_eq!(action, "send_private_msg");
    assert_eq!(params["user_id"], MEMBER);
    assert_eq!(params["group_id"], GROUP);
    // Without both ids mirai-api-http answers 5.
    let body =
        w.run("sendTempMessage", None, json!({"qq": MEMBER, "messageChain": [plain("hi")]})).await;
    assert_eq!(body["code"], 5);
    assert_eq!(w.calls().len(), 1);
}

#[tokio::test]
async fn sent_messages_are_remembered_for_recall_and_message_from_id() {
    let w =
        World::new().ok("send_group_msg", json!({"message_id": 77})).ok("delete_msg", Value::Null);
    w.run("sendGroupMessage", None, json!({"target": GROUP, "messageChain": [plain("hi")]})).await;
    let body = w.run("messageFromId", None, json!({"messageId": 77, "target": GROUP})).await;
    assert_eq!(body["code"], 0);
    let packet = &body["data"];
    assert_eq!(packet["type"], "GroupSyncMessage");
    assert_eq!(packet["subject"], group_json());
    assert_eq!(packet["messageChain"][0]["type"], "Source");
    assert_eq!(packet["messageChain"][0]["id"], 77);
    assert_eq!(packet["messageChain"][1], plain("hi"));
    // No get_msg: the cache answered.
    assert_eq!(w.calls().len(), 1);
    // Another conversation's id: 5 with no call.
    let body = w.run("messageFromId", None, json!({"messageId": 77, "target": FRIEND})).await;
    assert_eq!(body["code"], 5);
    let body = w.run("recall", None, json!({"messageId": 77, "target": FRIEND})).await;
    assert_eq!(body["code"], 5);
    assert_eq!(w.calls().len(), 1);
    let body = w.run("recall", None, json!({"messageId": 77, "target": GROUP})).await;
    assert_eq!(body, success());
    assert_eq!(w.calls()[1], ("delete_msg".to_owned(), json!({"message_id": 77})));

    let w = World::new().ok("send_private_msg", json!({"message_id": 8}));
    w.run("sendFriendMessage", None, json!({"target": FRIEND, "messageChain": [plain("x")]})).await;
    let m = w.contacts.lock().unwrap().message(8).cloned().unwrap();
    assert_eq!(m.packet()["type"], "FriendSyncMessage");
    assert_eq!(m.packet()["subject"], json!({"id": FRIEND, "nickname": "f", "remark": "r"}));
    assert_eq!((m.conversation, m.group, m.author), (FRIEND, None, BOT));

    let w = World::new().ok("send_private_msg", json!({"message_id": 9}));
    w.run(
        "sendTempMessage",
        None,
        json!({"qq": MEMBER, "group": GROUP, "messageChain": [plain("x")]}),
    )
    .await;
    let m = w.contacts.lock().unwrap().message(9).cloned().unwrap();
    assert_eq!(m.packet()["type"], "TempSyncMessage");
    assert_eq!(m.packet()["subject"]["id"], MEMBER);
    assert_eq!((m.conversation, m.group), (MEMBER, Some(GROUP)));
}

#[tokio::test]
async fn message_from_id_checks_the_target_of_a_fetched_message() {
    let w = World::new().ok("get_msg", private_message(9));
    let body = w.run("messageFromId", None, json!({"messageId": 9, "target": GROUP})).await;
    assert_eq!(body["code"], 5);
    assert_eq!(w.calls().len(), 1);
}

#[tokio::test]
async fn set_essence_of_a_cached_private_message_is_refused() {
    let w = World::new().ok("get_msg", private_message(9)).ok("set_essence_msg", Value::Null);
    w.run("messageFromId", None, json!({"messageId": 9, "target": FRIEND})).await;
    let body = w.run("setEssence", None, json!({"messageId": 9, "target": FRIEND})).await;
    assert_eq!(body["code"], 5);
    assert_eq!(w.calls().len(), 1);
}

#[tokio::test]
async fn quit_as_owner_is_refused_without_a_call_and_a_quit_is_an_event() {
    let w = World::new().with(|c| c.group_mut(GROUP).bot_role = Some(Role::Owner));
    let body = w.run("quit", None, json!({"target": GROUP})).await;
    assert_eq!(body, json!({"code": 10, "msg": "无操作权限"}));
    assert!(w.calls().is_empty());
    assert!(w.events().is_empty());

    let w = World::new().ok("set_group_leave", Value::Null);
    let body = w.run("quit", None, json!({"target": GROUP})).await;
    assert_eq!(body, success());
    assert_eq!(w.events(), vec![json!({"type": "BotLeaveEventActive", "group": group_json()})]);
    assert!(!w.contacts.lock().unwrap().groups.contains_key(&GROUP));
}

#[tokio::test]
async fn delete_friend_tells_the_scripts() {
    let w = World::new().ok("delete_friend", Value::Null);
    w.run("deleteFriend", None, json!({"target": FRIEND})).await;
    let friend = json!({"id": FRIEND, "nickname": "f", "remark": "r"});
    assert_eq!(w.events(), vec![json!({"type": "FriendDeleteEvent", "friend": friend})]);
}

#[tokio::test]
async fn a_muted_bot_is_refused_without_a_call() {
    let w = World::new().with(|c| c.group_mut(GROUP).bot_mute_until = i64::MAX);
    let body = w
        .run("sendGroupMessage", None, json!({"target": GROUP, "messageChain": [plain("a")]}))
        .await;
    assert_eq!(body, json!({"code": 20, "msg": "Bot被禁言"}));
    assert!(w.calls().is_empty());
}

#[tokio::test]
async fn unknown_contacts_are_left_to_the_server() {
    let w = World::new().ok("send_group_msg", json!({"message_id": 1}));
    let body =
        w.run("sendGroupMessage", None, json!({"target": 999, "messageChain": [plain("a")]})).await;
    assert_eq!(body["code"], 0);
    assert_eq!(w.calls()[0].1["group_id"], 999);
}

fn request(kind: RequestKind, sub_type: &str) -> Request {
    Request {
        kind,
        flag: format!("flag-{sub_type}"),
        sub_type: sub_type.to_owned(),
        group_id: GROUP,
        user_id: 40,
        created: Instant::now(),
    }
}

fn resp(event_id: i64, operate: i64, message: &str) -> Value {
    json!({"eventId": event_id, "fromId": 40, "groupId": GROUP, "operate": operate, "message": message})
}

#[tokio::test]
async fn requests_are_answered_by_flag() {
    let w = World::new()
        .ok("set_friend_add_request", Value::Null)
        .ok("set_group_add_request", Value::Null);
    let (friend, join, invite, reject) = {
        let mut c = w.contacts.lock().unwrap();
        (
            c.add_request(request(RequestKind::Friend, "")),
            c.add_request(request(RequestKind::MemberJoin, "add")),
            c.add_request(request(RequestKind::BotInvited, "invite")),
            c.add_request(request(RequestKind::Friend, "")),
        )
    };
    assert_eq!(w.run("resp_newFriendRequestEvent", None, resp(friend, 0, "")).await, success());
    assert_eq!(w.run("resp_memberJoinRequestEvent", None, resp(join, 1, "no")).await, success());
    assert_eq!(
        w.run("resp_botInvitedJoinGroupRequestEvent", None, resp(invite, 0, "")).await,
        success()
    );
    // Reject and blacklist: OneBot has no blacklist, so it rejects.
    assert_eq!(w.run("resp_newFriendRequestEvent", None, resp(reject, 2, "")).await, success());
    assert_eq!(
        w.calls(),
        calls(&[
            ("set_friend_add_request", json!({"flag": "flag-", "approve": true})),
            (
                "set_group_add_request",
                json!({"flag": "flag-add", "sub_type": "add", "type": "add",
                "approve": false, "reason": "no"})
            ),
            (
                "set_group_add_request",
                json!({"flag": "flag-invite", "sub_type": "invite",
                "type": "invite", "approve": true})
            ),
            ("set_friend_add_request", json!({"flag": "flag-", "approve": false})),
        ])
    );
}

#[tokio::test]
async fn unknown_expired_or_answered_event_ids_are_code_5_without_a_call() {
    let w = World::new().ok("set_friend_add_request", Value::Null);
    let (id, old) = {
        let mut c = w.contacts.lock().unwrap();
        let mut stale = request(RequestKind::Friend, "");
        stale.created = Instant::now()
            .checked_sub(mahua::adapter::onebot::cache::REQUEST_TTL * 2)
            .unwrap_or_else(Instant::now);
        (c.add_request(request(RequestKind::Friend, "")), c.add_request(stale))
    };
    let expired_here = old != 0
        && Instant::now().checked_sub(mahua::adapter::onebot::cache::REQUEST_TTL * 2).is_some();
    // Unknown id, and an id of another kind.
    assert_eq!(w.run("resp_newFriendRequestEvent", None, resp(999, 0, "")).await["code"], 5);
    assert_eq!(w.run("resp_memberJoinRequestEvent", None, resp(id, 0, "")).await["code"], 5);
    assert!(w.calls().is_empty());
    assert_eq!(w.run("resp_newFriendRequestEvent", None, resp(id, 0, "")).await, success());
    assert_eq!(w.calls().len(), 1);
    // Twice.
    let body = w.run("resp_newFriendRequestEvent", None, resp(id, 0, "")).await;
    assert_eq!(body["code"], 5);
    assert!(body["msg"].as_str().unwrap().contains("answered"), "{body}");
    if expired_here {
        let body = w.run("resp_newFriendRequestEvent", None, resp(old, 0, "")).await;
        assert_eq!(body["code"], 5);
        assert!(body["msg"].as_str().unwrap().contains("expired"), "{body}");
    }
    assert_eq!(w.calls().len(), 1);
}

#[tokio::test]
async fn ignoring_a_join_request_makes_no_call() {
    let w = World::new();
    let (a, b) = {
        let mut c = w.contacts.lock().unwrap();
        (
            c.add_request(request(RequestKind::MemberJoin, "add")),
            c.add_request(request(RequestKind::MemberJoin, "add")),
        )
    };
    assert_eq!(w.run("resp_memberJoinRequestEvent", None, resp(a, 2, "")).await, success());
    assert_eq!(w.run("resp_memberJoinRequestEvent", None, resp(b, 4, "")).await, success());
    assert!(w.calls().is_empty());
    // Answered: a second answer is refused.
    assert_eq!(w.run("resp_memberJoinRequestEvent", None, resp(a, 0, "")).await["code"], 5);
}

#[tokio::test]
async fn a_failed_answer_puts_the_request_back() {
    let w = World::new().fail("set_group_add_request", 1200, "busy");
    let id = w.contacts.lock().unwrap().add_request(request(RequestKind::MemberJoin, "add"));
    let body = w.run("resp_memberJoinRequestEvent", None, resp(id, 0, "")).await;
    assert_eq!(body, json!({"code": 500, "msg": "busy"}));
    let w = w.ok("set_group_add_request", Value::Null);
    assert_eq!(w.run("resp_memberJoinRequestEvent", None, resp(id, 0, "")).await, success());
    assert_eq!(w.calls().len(), 2);
}

#[tokio::test]
async fn unknown_actions_answer_code_6_and_the_nudge_falls_back_to_send_poke() {
    let w = World::new().ok("send_poke", Value::Null);
    let content = json!({"target": MEMBER, "subject": GROUP, "kind": "Group"});
    assert_eq!(w.run("sendNudge", None, content.clone()).await, success());
    assert_eq!(
        w.calls(),
        calls(&[
            ("group_poke", json!({"group_id": GROUP, "user_id": MEMBER})),
            ("send_poke", json!({"group_id": GROUP, "user_id": MEMBER})),
        ])
    );
    // The connection remembers that group_poke is missing.
    assert_eq!(w.run("sendNudge", None, content).await, success());
    assert_eq!(w.calls().len(), 3);
    assert_eq!(w.calls()[2].0, "send_poke");

    // A friend nudge of the bot itself in a friend's chat.
    let w = World::new().ok("send_poke", Value::Null);
    w.run("sendNudge", None, json!({"target": BOT, "subject": FRIEND, "kind": "Friend"})).await;
    assert_eq!(
        w.calls(),
        calls(&[
            ("friend_poke", json!({"user_id": FRIEND, "target_id": BOT})),
            ("send_poke", json!({"user_id": FRIEND, "target_id": BOT})),
        ])
    );

    // Neither exists: code 6 naming the action.
    let w = World::new();
    let body = w
        .run("sendNudge", None, json!({"target": MEMBER, "subject": GROUP, "kind": "group"}))
        .await;
    assert_eq!(
        body,
        json!({"code": 6, "msg": "sendNudge is not available over OneBot (the server has no action send_poke)"})
    );
    // An unknown kind is refused, not faked.
    let w = World::new();
    let body = w.run("sendNudge", None, json!({"target": 1, "subject": 2, "kind": "Planet"})).await;
    assert_eq!(body["code"], 400);
    assert!(w.calls().is_empty());

    let w = World::new();
    let body = w.run("setEssence", None, json!({"target": GROUP, "messageId": 3})).await;
    assert_eq!(
        body,
        json!({"code": 6, "msg": "setEssence is not available over OneBot (the server has no action set_essence_msg)"})
    );
}

#[tokio::test]
async fn retcodes_map_to_mirai_codes() {
    let w = World::new().fail("set_group_ban", 1400, "bad duration");
    let body = w.run("unmute", None, json!({"target": GROUP, "memberId": MEMBER})).await;
    assert_eq!(body, json!({"code": 400, "msg": "bad duration"}));
    let w = World::new().fail("set_group_ban", 1200, "禁言失败: 权限不足");
    let body = w.run("unmute", None, json!({"target": GROUP, "memberId": MEMBER})).await;
    assert_eq!(body, json!({"code": 500, "msg": "禁言失败: 权限不足"}));
    let w = World::new().fail("set_group_ban", 1, "");
    let body = w.run("unmute", None, json!({"target": GROUP, "memberId": MEMBER})).await;
    assert_eq!(body["code"], 500);
    // No answer at all is an error, told under the mirai-api-http command.
    let w = World::new().no_answer("set_group_ban");
    let err = w.try_run("unmute", None, json!({"target": GROUP, "memberId": MEMBER})).await;
    assert!(
        matches!(err, Err(CallError::Disconnected { ref command }) if command == "unmute"),
        "{err:?}"
    );
}

#[tokio::test]
async fn commands_without_a_onebot_counterpart_answer_code_6() {
    for (command, sub) in [
        ("sendOtherClientMessage", None),
        ("cmd_execute", None),
        ("cmd_register", None),
        ("verify", None),
        ("bind", None),
        ("release", None),
        ("countMessage", None),
        ("fetchMessage", None),
        ("fetchLatestMessage", None),
        ("peekMessage", None),
        ("peakMessage", None),
        ("peekLatestMessage", None),
        ("noSuchCommand", None),
    ] {
        let w = World::new();
        let body = w.run(command, sub, json!({})).await;
        assert_eq!(
            body,
            json!({"code": 6, "msg": format!("{command} is not available over OneBot")})
        );
        assert!(w.calls().is_empty());
        assert!(matches!(availability(command, sub), Availability::No(_)));
    }
    let w = World::new();
    let body = w.run("groupConfig", Some("delete"), json!({"target": GROUP})).await;
    assert_eq!(body, json!({"code": 6, "msg": "groupConfig.delete is not available over OneBot"}));
}

#[tokio::test]
async fn every_table_command_has_an_answer_for_availability() {
    for c in mahua::protocol::commands::COMMANDS {
        let a = availability(c.name, c.sub);
        if let Availability::No(why) | Availability::Partly(why) = a {
            assert!(!why.is_empty(), "{}", c.label());
        }
    }
}

fn form(command: &str, fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Upload {
    Upload {
        command: command.to_owned(),
        fields: fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        files: files
            .iter()
            .map(|(field, name, bytes)| FilePart {
                field: (*field).to_owned(),
                name: (*name).to_owned(),
                bytes: bytes.to_vec(),
            })
            .collect(),
    }
}

#[tokio::test]
async fn upload_ids_sent_back_produce_the_same_file() {
    let w = World::new().ok("send_group_msg", json!({"message_id": 1}));
    let image =
        w.upload(&form("uploadImage", &[("type", "group")], &[("img", "a.png", b"PNG!")])).await;
    assert_eq!(image, json!({"imageId": "base64://UE5HIQ==", "url": "base64://UE5HIQ=="}));
    let voice =
        w.upload(&form("uploadVoice", &[("type", "group")], &[("voice", "a.amr", b"ab")])).await;
    assert_eq!(voice, json!({"voiceId": "base64://YWI="}));
    let by_url = w
        .upload(&form("uploadImage", &[("type", "friend"), ("url", "https://x/y.png")], &[]))
        .await;
    assert_eq!(by_url["imageId"], "https://x/y.png");
    let video = w
        .upload(&form(
            "uploadShortVideo",
            &[("type", "group")],
            &[("video", "v.mp4", b"abc"), ("thumbnail", "t.jpg", b"t")],
        ))
        .await;
    assert_eq!(video, json!({"videoId": "base64://YWJj"}));
    assert!(w.calls().is_empty());

    let chain = json!([
        {"type": "Image", "imageId": image["imageId"]},
        {"type": "Voice", "voiceId": voice["voiceId"]},
    ]);
    w.run("sendGroupMessage", None, json!({"target": GROUP, "messageChain": chain})).await;
    let message = &w.calls()[0].1["message"];
    assert_eq!(message[0], json!({"type": "image", "data": {"file": "base64://UE5HIQ=="}}));
    assert_eq!(message[1], json!({"type": "record", "data": {"file": "base64://YWI="}}));

    // Missing both the file and a url: 400.
    let bad = w.upload(&form("uploadImage", &[("type", "group")], &[])).await;
    assert_eq!(bad["code"], 400);
}

#[tokio::test]
async fn file_upload_goes_by_upload_group_file() {
    let w = World::new()
        .ok("upload_group_file", json!({"file_id": "/new"}))
        .ok("get_group_root_files", root_files());
    let up = form(
        "file_upload",
        &[("type", "group"), ("target", "100"), ("path", "")],
        &[("file", "a.txt", b"abc")],
    );
    let body = w.upload(&up).await;
    assert_eq!(
        w.calls(),
        calls(&[(
            "upload_group_file",
            json!({"group_id": GROUP, "file": "base64://YWJj", "name": "a.txt", "folder": "/"})
        )])
    );
    assert_eq!(body["code"], 0);
    assert_eq!(body["data"]["id"], "/new");
    assert_eq!(body["data"]["path"], "/a.txt");
    assert_eq!(body["data"]["size"], 3);
    assert_eq!(body["data"]["uploaderId"], BOT);

    // Into a folder named by its path.
    let w = World::new()
        .ok("upload_group_file", json!({"file_id": "/new"}))
        .ok("get_group_root_files", root_files());
    let up = form(
        "file_upload",
        &[("type", "group"), ("target", "100"), ("path", "/dir")],
        &[("file", "a.txt", b"abc")],
    );
    let body = w.upload(&up).await;
    assert_eq!(w.calls()[1].1["folder"], "/d1");
    assert_eq!(body["data"]["path"], "/dir/a.txt");
    assert_eq!(body["data"]["parent"], folder_json());

    let w = World::new().fail("upload_group_file", 1200, "too big");
    let up = form(
        "file_upload",
        &[("type", "group"), ("target", "100"), ("path", "")],
        &[("file", "a", b"x")],
    );
    assert_eq!(w.upload(&up).await, json!({"code": 500, "msg": "too big"}));
}

#[tokio::test]
async fn files_below_one_folder_level_are_not_found_and_mkdir_is_root_only() {
    let w = World::new().ok("get_group_root_files", root_files());
    let body = w.run("file_list", None, json!({"target": GROUP, "path": "/a/b/c"})).await;
    assert_eq!(body["code"], 5);
    assert!(w.calls().is_empty());
    let body = w
        .run("file_mkdir", None, json!({"target": GROUP, "id": "/d1", "directoryName": "sub"}))
        .await;
    assert_eq!(body["code"], 6);
    assert_eq!(w.calls().len(), 1);
    // A folder listed by id, found in the root.
    let w = World::new().ok("get_group_root_files", root_files()).ok(
        "get_group_files_by_folder",
        json!({"files": [{"file_id": "/f2", "file_name": "b", "file_size": 1}], "folders": []}),
    );
    let body = w.run("file_list", None, json!({"target": GROUP, "id": "/d1"})).await;
    assert_eq!(body["data"][0]["path"], "/dir/b");
    assert_eq!(body["data"][0]["parent"], folder_json());
    assert_eq!(
        w.calls()[1],
        ("get_group_files_by_folder".to_owned(), json!({"group_id": GROUP, "folder_id": "/d1"}))
    );
}

#[tokio::test]
async fn load_contacts_fills_friends_groups_and_roles() {
    let w = World::new()
        .ok("get_friend_list", json!([{"user_id": 21, "nickname": "n", "remark": ""}]))
        .ok(
            "get_group_list",
            json!([{"group_id": GROUP, "group_name": "g"}, {"group_id": 200, "group_name": "h"}]),
        )
        .ok("get_group_member_info", json!({"group_id": 200, "user_id": BOT, "role": "owner"}));
    action::load_contacts(&w.fake, &w.contacts).await.unwrap();
    let c = w.contacts.lock().unwrap();
    assert!(c.friends.contains_key(&21) && !c.friends.contains_key(&FRIEND));
    assert_eq!(c.bot_role(200), Some(Role::Owner));
    assert_eq!(c.bot_role(GROUP), Some(Role::Admin));
    assert_eq!(
        w.calls(),
        calls(&[
            ("get_friend_list", json!({})),
            ("get_group_list", json!({})),
            ("get_group_member_info", json!({"group_id": 200, "user_id": BOT, "no_cache": false})),
        ])
    );
}

#[tokio::test]
async fn management_is_refused_before_any_action_when_the_bot_role_is_too_low() {
    // Only the owner appoints administrators: the bot is an administrator here.
    let w = World::new().ok("set_group_admin", Value::Null);
    let content = json!({"target": GROUP, "memberId": MEMBER, "assign": true});
    let body = w.run("memberAdmin", None, content.clone()).await;
    assert_eq!(body, json!({"code": 10, "msg": "无操作权限"}));
    assert!(w.calls().is_empty());
    // As the owner, the action goes out.
    let w = World::new().ok("set_group_admin", Value::Null);
    w.contacts.lock().unwrap().group_mut(GROUP).bot_role = Some(Role::Owner);
    assert_eq!(w.run("memberAdmin", None, content).await, success());
    let params = json!({"group_id": GROUP, "user_id": MEMBER, "enable": true});
    assert_eq!(w.calls(), calls(&[("set_group_admin", params)]));
    // An administrator cannot mute another administrator.
    let w = World::new().ok("set_group_ban", Value::Null);
    w.contacts.lock().unwrap().learn_member(GROUP, &json!({"user_id": MEMBER, "role": "admin"}));
    let body = w.run("mute", None, json!({"target": GROUP, "memberId": MEMBER, "time": 60})).await;
    assert_eq!(body["code"], 10);
    assert!(w.calls().is_empty());
}

#[tokio::test]
async fn an_unknown_role_is_asked_for_once_and_an_unknown_group_is_code_5() {
    let member =
        json!({"group_id": 555, "user_id": BOT, "nickname": "b", "card": "", "role": "member"});
    let w = World::new().ok("get_group_member_info", member).ok("set_group_ban", Value::Null);
    let content = json!({"target": 555, "memberId": MEMBER, "time": 60});
    assert_eq!(w.run("mute", None, content.clone()).await["code"], 10);
    assert_eq!(w.run("mute", None, content).await["code"], 10);
    let asked = w.calls().iter().filter(|c| c.0 == "get_group_member_info").count();
    assert_eq!(asked, 1, "the role is cached: {:?}", w.calls());
    let w = World::new().fail("get_group_member_info", 1200, "群不存在");
    let body = w.run("muteAll", None, json!({"target": 556})).await;
    assert_eq!(body["code"], 5);
    assert!(!w.calls().iter().any(|c| c.0 == "set_group_whole_ban"));
}
