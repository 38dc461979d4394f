//! Every row of `commands.json` is served on its adapters, path and method, and answers in the documented shape.

mod sim_support;

use mahua::protocol::commands::{find, Encoding, HttpMethod};
use mahua::sim::{ConsoleCommand, Permission, Sim};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use sim_support::{client, command_rows, sim, Http, Ws, BOT, KEY};

/// Keys whose integer values name friends, groups or members in the examples.
const ID_KEYS: &[&str] =
    &["target", "group", "id", "subject", "memberId", "qq", "memberIds", "fromId", "groupId"];

fn ids_in(content: &Value) -> Vec<i64> {
    let mut ids = Vec::new();
    for key in ID_KEYS {
        match content.get(*key) {
            Some(Value::Number(n)) => ids.extend(n.as_i64()),
            Some(Value::Array(a)) => ids.extend(a.iter().filter_map(Value::as_i64)),
            _ => {}
        }
    }
    ids.retain(|id| *id != BOT);
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Same keys in the same order and the same JSON types; a null in the example matches anything.
fn same_shape(want: &Value, got: &Value, at: &str) -> Result<(), String> {
    match (want, got) {
        (Value::Null, _) => Ok(()),
        (Value::Object(w), Value::Object(g)) => {
            let (wk, gk): (Vec<_>, Vec<_>) = (w.keys().collect(), g.keys().collect());
            if wk != gk {
                return Err(format!("{at}: keys {gk:?}, expected {wk:?}"));
            }
            w.iter().try_for_each(|(k, v)| same_shape(v, &g[k], &format!("{at}.{k}")))
        }
        (Value::Array(w), Value::Array(g)) => {
            if !w.is_empty() && g.is_empty() {
                return Err(format!("{at}: empty array, expected items like {}", w[0]));
            }
            g.iter().enumerate().try_for_each(|(i, item)| {
                let model = w.get(i).or_else(|| w.last()).unwrap_or(&Value::Null);
                same_shape(model, item, &format!("{at}[{i}]"))
            })
        }
        (Value::Number(a), Value::Number(b)) if a.is_i64() == b.is_i64() => Ok(()),
        (Value::String(_), Value::String(_)) | (Value::Bool(_), Value::Bool(_)) => Ok(()),
        _ => Err(format!("{at}: got {got}, expected something like {want}")),
    }
}

fn group_message(group: i64, sender: i64, id: i64) -> Value {
    json!({
        "type": "GroupMessage",
        "messageChain": [{"type": "Source", "id": id, "time": 1_700_000_000}, {"type": "Plain", "text": "x"}],
        "sender": {"id": sender, "memberName": "m", "specialTitle": "", "permission": "MEMBER", "joinTimestamp": 0,
            "lastSpeakTimestamp": 0, "muteTimeRemaining": 0, "group": {"id": group, "name": "g", "permission": "OWNER"}, "active": null},
    })
}

fn friend_message(friend: i64, id: i64) -> Value {
    json!({
        "type": "FriendMessage",
        "messageChain": [{"type": "Source", "id": id, "time": 1_700_000_000}, {"type": "Plain", "text": "x"}],
        "sender": {"id": friend, "nickname": "f", "remark": ""},
    })
}

/// Make the world such that the row's example can succeed; returns the content to send.
fn seed(sim: &Sim, row: &Value) -> Value {
    let mut content = row["content_example"].clone();
    let command = row["command"].as_str().unwrap_or_default();
    let ids = ids_in(&content);
    let long = |k: &str| content[k].as_i64().unwrap_or_default();
    let (target, message_id) = (long("target"), long("messageId"));
    sim.world(|w| {
        for id in &ids {
            w.add_friend(*id, &format!("f{id}"));
            w.add_group(*id, &format!("g{id}"), Permission::Owner);
        }
        for g in &ids {
            w.add_member(*g, 5555, "m5555", Permission::Member);
            for m in ids.iter().filter(|m| *m != g) {
                w.add_member(*g, *m, &format!("m{m}"), Permission::Member);
            }
        }
        w.add_other_client(1, "MOBILE");
    });
    match command {
        "memberInfo" => sim.world(|w| {
            if let Some(m) = w.member_mut(target, long("memberId")) {
                m.active.honors.push("群聊之火".to_owned());
            }
        }),
        "quit" => sim.world(|w| w.add_group(target, "g", Permission::Administrator)),
        "messageFromId" => sim.push(friend_message(target, message_id)),
        "recall" | "setEssence" => sim.push(group_message(target, 5555, message_id)),
        "roamingMessages" => {
            content["timeEnd"] = json!(i64::MAX);
            sim.push(friend_message(target, 7));
        }
        "file_list" | "file_info" | "file_delete" | "file_rename" | "file_move" => {
            let (file, folder) = sim.world(|w| {
                let file = w.add_file(target, "", "setu.png", 1024, BOT).unwrap();
                // Folders come first in a listing; keep the listing to the file.
                let folder = if command == "file_list" {
                    String::new()
                } else {
                    w.add_folder(target, "", "dir").unwrap()
                };
                (file, folder)
            });
            if command != "file_list" {
                content["id"] = json!(file);
            }
            if command == "file_move" {
                content["moveTo"] = json!(folder);
            }
        }
        "anno_list" | "anno_delete" => {
            let fid = sim.world(|w| w.add_announcement(long("id"), BOT, "hello")).unwrap();
            if command == "anno_delete" {
                content["fid"] = json!(fid);
            }
        }
        "resp_newFriendRequestEvent"
        | "resp_memberJoinRequestEvent"
        | "resp_botInvitedJoinGroupRequestEvent" => {
            let kind = command.trim_start_matches("resp_");
            let mut kind = kind.to_owned();
            kind[..1].make_ascii_uppercase();
            sim.push(json!({
                "type": kind, "eventId": long("eventId"), "message": "", "fromId": long("fromId"),
                "groupId": long("groupId"), "groupName": "g", "nick": "n", "invitorId": null,
            }));
        }
        "cmd_execute" => sim.world(|w| {
            w.console_commands.push(ConsoleCommand {
                name: "shutdown".into(),
                alias: vec![],
                usage: String::new(),
                description: String::new(),
            })
        }),
        _ => {}
    }
    content
}

fn query_of(content: &Value) -> Vec<(String, String)> {
    let mut q = Vec::new();
    for (k, v) in content.as_object().into_iter().flatten() {
        match v {
            Value::Null => {}
            Value::Array(items) => q.extend(items.iter().map(|i| (k.clone(), i.to_string()))),
            Value::String(s) => q.push((k.clone(), s.clone())),
            other => q.push((k.clone(), other.to_string())),
        }
    }
    q
}

fn form_of(content: &Value) -> Form {
    let mut form = Form::new();
    for (k, v) in content.as_object().into_iter().flatten() {
        form = match v {
            Value::String(s) if s == "<binary>" => {
                form.part(k.clone(), Part::bytes(b"data".to_vec()).file_name(format!("{k}.bin")))
            }
            Value::String(s) => form.text(k.clone(), s.clone()),
            other => form.text(k.clone(), other.to_string()),
        };
    }
    form
}

/// Call a row over http with a session bound by `/verify` + `/bind` (or by a socket, for `key`).
async fn call_http(sim: &Sim, row: &Value, session: Option<&str>) -> Value {
    let method = row["http_method"].as_str().unwrap();
    let path = row["http_path"].as_str().unwrap();
    let command = row["command"].as_str().unwrap();
    let http = match session {
        Some(key) => Http { client: client(), base: sim.http_url(), key: key.to_owned() },
        None => Http::bound(sim).await,
    };
    let mut content = seed(sim, row);
    if command.ends_with("Message") && row["adapters"] == json!(["http"]) {
        sim.push(friend_message(4242, 1));
    }
    match (method, row["content_type"].as_str().unwrap()) {
        ("GET", _) => {
            let q = query_of(&content);
            let q: Vec<(&str, String)> = q.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            http.get(path, &q).await
        }
        (_, "multipart") => http.multipart(path, form_of(&content)).await,
        _ => match command {
            "verify" => http.post_raw(path, &json!({"verifyKey": KEY})).await,
            "bind" => {
                let fresh = client()
                    .post(format!("{}/verify", sim.http_url()))
                    .json(&json!({"verifyKey": KEY}))
                    .send()
                    .await
                    .unwrap();
                let key = fresh.json::<Value>().await.unwrap()["session"].clone();
                http.post_raw(path, &json!({"sessionKey": key, "qq": BOT})).await
            }
            "release" => http.post_raw(path, &json!({"sessionKey": http.key, "qq": BOT})).await,
            _ => {
                content["sessionKey"] = json!(http.key);
                http.post_raw(path, &content).await
            }
        },
    }
}

fn check_answer(row: &Value, got: &Value, how: &str, errors: &mut Vec<String>) {
    let label = format!("{} {} over {how}", row["command"], row["subCommand"]);
    if got.get("code").is_some_and(|c| c != 0) {
        errors.push(format!("{label}: {got}"));
    } else if let Err(e) = same_shape(&row["response_example"], got, "response") {
        errors.push(format!("{label}: {e}\n got {got}"));
    }
}

#[tokio::test]
async fn the_table_matches_the_fixture() {
    let rows = command_rows();
    assert_eq!(rows.len(), mahua::protocol::COMMANDS.len());
    for row in &rows {
        let cmd = find(row["command"].as_str().unwrap(), row["subCommand"].as_str())
            .unwrap_or_else(|| panic!("{row} not in the table"));
        let method = match cmd.method {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        };
        assert_eq!(row["http_method"], method, "{}", cmd.label());
        assert_eq!(row["http_path"], cmd.path, "{}", cmd.label());
        let encoding = match cmd.encoding {
            Encoding::Query => "query",
            Encoding::Json => "json",
            Encoding::Multipart => "multipart",
        };
        assert_eq!(row["content_type"], encoding, "{}", cmd.label());
        assert_eq!(
            row["session_required"],
            cmd.session || cmd.name == "bind" || cmd.name == "release",
            "{}",
            cmd.label()
        );
        let on_ws = row["adapters"].as_array().unwrap().iter().any(|a| a == "ws");
        assert_eq!(on_ws, cmd.on_ws(), "{}", cmd.label());
    }
}

#[tokio::test]
async fn every_row_answers_over_http_in_the_documented_shape() {
    let mut errors = Vec::new();
    for row in command_rows() {
        let sim = sim().await;
        let got = call_http(&sim, &row, None).await;
        check_answer(&row, &got, "http", &mut errors);
        sim.shutdown().await;
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[tokio::test]
async fn every_ws_row_answers_over_ws_in_the_same_shape_and_the_others_are_unsupported() {
    let mut errors = Vec::new();
    for row in command_rows() {
        let sim = sim().await;
        let (mut ws, key) = Ws::bound(&sim, "/all").await;
        let adapters = row["adapters"].as_array().unwrap();
        let command = row["command"].as_str().unwrap();
        let sub = row["subCommand"].as_str();
        if adapters.iter().any(|a| a == "ws") {
            let content = seed(&sim, &row);
            let got = ws.call(command, sub, content).await;
            check_answer(&row, &got, "ws", &mut errors);
        } else {
            let got = ws.call(command, sub, row["content_example"].clone()).await;
            assert_eq!(got, json!({"code": 6, "msg": "指定操作不支持"}), "{command} over ws");
        }
        if adapters.iter().any(|a| a == "ws-http-route") {
            // Since 2.10 the upload routes serve ws sessions too.
            let got = call_http(&sim, &row, Some(&key)).await;
            check_answer(&row, &got, "the ws session's http route", &mut errors);
        }
        sim.shutdown().await;
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
