//! Receiving: OneBot segments → the mirai-api-http chain elements scripts know.

use serde_json::{json, Value};

use super::cq::segments;
use super::faces::face_name;
use super::pokes::poke_name;
use super::values::{data, int, kind, nonempty, or_null, text_of};
use super::{Scene, FORWARD_DEPTH};
use crate::adapter::onebot::cache::{as_i64, Contacts, Implementation};

/// Received segments → mirai-api-http chain elements, WITHOUT the leading Source (the caller adds it).
#[must_use]
pub fn to_chain(segments: &[Value], scene: Scene, contacts: &Contacts) -> Vec<Value> {
    chain_at(segments, scene, contacts, 0)
}

/// `to_chain` for a message `depth` forwards deep.
fn chain_at(segments: &[Value], scene: Scene, contacts: &Contacts, depth: usize) -> Vec<Value> {
    // Lagrange.OneBot puts an `at` of the quoted author right after every `reply`.
    let lagrange = contacts.implementation == Implementation::Lagrange;
    let mut chain = Vec::with_capacity(segments.len());
    let mut after_reply = false;
    for seg in segments {
        let kind = kind(seg);
        let skip = lagrange && after_reply && kind == "at";
        after_reply = kind == "reply";
        if skip {
            continue;
        }
        if let Some(element) = element(kind, seg, scene, contacts, depth) {
            chain.push(element);
        }
    }
    chain
}

/// The element for one received segment; `None` drops it.
fn element(
    kind: &str,
    seg: &Value,
    scene: Scene,
    contacts: &Contacts,
    depth: usize,
) -> Option<Value> {
    let d = |key: &str| data(seg, key);
    Some(match kind {
        "text" => json!({ "type": "Plain", "text": nonempty(d("text"))? }),
        "at" => {
            let qq = d("qq")?;
            if qq.as_str().is_some_and(|s| s.trim().eq_ignore_ascii_case("all")) {
                json!({ "type": "AtAll", "target": 0 })
            } else {
                json!({ "type": "At", "target": as_i64(qq)?, "display": "" })
            }
        }
        "face" => {
            let id = int(d("id"))?;
            json!({ "type": "Face", "faceId": id, "name": face_name(id), "isSuperFace": false })
        }
        "image" if d("emoji_id").is_some_and(|v| !v.is_null()) => json!({
            "type": "MarketFace",
            "id": int(d("emoji_id")).unwrap_or(0),
            "name": text_of(d("summary")).unwrap_or_default(),
        }),
        "image" => image(seg),
        "record" => {
            let url = nonempty(d("url"));
            json!({
                "type": "Voice",
                "voiceId": or_null(nonempty(d("file")).or_else(|| url.clone())),
                "url": or_null(url),
                "path": null,
                "base64": null,
                "length": 0,
            })
        }
        "video" => {
            let file = text_of(d("file")).unwrap_or_default();
            json!({
                "type": "ShortVideo",
                "videoId": file,
                "fileMd5": "",
                "fileSize": int(d("file_size")).unwrap_or(0),
                "fileFormat": extension(&file).unwrap_or_default().to_ascii_lowercase(),
                "filename": file,
                "videoUrl": or_null(nonempty(d("url"))),
                "thumbnailUrl": "",
            })
        }
        "json" => json!({ "type": "App", "content": text_of(d("data"))? }),
        "xml" => json!({ "type": "Xml", "xml": text_of(d("data"))? }),
        "poke" => json!({ "type": "Poke", "name": poke_name(int(d("type")), int(d("id"))) }),
        "dice" => json!({ "type": "Dice", "value": int(d("result")).or_else(|| int(d("value")))? }),
        "file" => json!({
            "type": "File",
            "id": text_of(d("file_id")).unwrap_or_default(),
            "name": text_of(d("file")).or_else(|| text_of(d("name"))).unwrap_or_default(),
            "size": int(d("file_size")).or_else(|| int(d("size"))).unwrap_or(0),
        }),
        "reply" => quote(int(d("id"))?, scene, contacts),
        "forward" => forward(seg, scene, contacts, depth),
        _ => return None,
    })
}

/// A received `image` segment as an `Image` (or a `FlashImage`, for the spec's flash type).
fn image(seg: &Value) -> Value {
    let d = |key: &str| data(seg, key);
    let file = nonempty(d("file"));
    let url = nonempty(d("url"));
    let flash = d("type").and_then(Value::as_str) == Some("flash");
    json!({
        "type": if flash { "FlashImage" } else { "Image" },
        "imageId": or_null(url.clone().or_else(|| file.clone())),
        "url": or_null(url),
        "path": null,
        "base64": null,
        "width": 0,
        "height": 0,
        "size": int(d("file_size")).unwrap_or(0),
        "imageType": image_type(file.as_deref().unwrap_or_default()),
        "isEmoji": int(d("sub_type")) == Some(1),
    })
}

/// The extension of a file name (or of a URL's path), without the dot.
fn extension(name: &str) -> Option<&str> {
    let name = name.split(['?', '#']).next().unwrap_or(name);
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.rsplit_once('.').map(|(_, ext)| ext).filter(|ext| !ext.is_empty())
}

/// mirai's `imageType` for a file name.
fn image_type(file: &str) -> &'static str {
    match extension(file).map(str::to_ascii_lowercase).as_deref() {
        Some("png") => "PNG",
        Some("jpg" | "jpeg") => "JPG",
        Some("gif") => "GIF",
        Some("bmp") => "BMP",
        Some("apng") => "APNG",
        _ => "UNKNOWN",
    }
}

/// A `Quote` of message `id`, filled from the cache when the message is known.
fn quote(id: i64, scene: Scene, contacts: &Contacts) -> Value {
    match contacts.message(id) {
        Some(m) => {
            let mut origin = m.chain();
            origin.retain(|e| !matches!(kind(e), "Source" | "Quote"));
            json!({
                "type": "Quote",
                "id": id,
                "groupId": m.group.unwrap_or(0),
                "senderId": m.author,
                "targetId": m.conversation,
                "origin": origin,
            })
        }
        None => json!({
            "type": "Quote",
            "id": id,
            "groupId": scene.group.unwrap_or(0),
            "senderId": 0,
            "targetId": scene.peer,
            "origin": [],
        }),
    }
}

/// A received `forward` segment as a `Forward`, from its inline content or the cache.
fn forward(seg: &Value, scene: Scene, contacts: &Contacts, depth: usize) -> Value {
    let inline = data(seg, "content").filter(|c| c.is_array() || c.is_object());
    let content = inline.or_else(|| contacts.forward(&text_of(data(seg, "id"))?));
    let nodes = match content {
        Some(content) if depth < FORWARD_DEPTH => {
            received_nodes(content, scene, contacts, depth + 1)
        }
        _ => Vec::new(),
    };
    object! { "type": "Forward", "display": Value::Null, "nodeList": nodes }
}

/// The nodes of a forward's content: a list, or `get_forward_msg`'s `{message: […]}` (spec)
/// or `{messages: […]}` (NapCat).
fn received_nodes(content: &Value, scene: Scene, contacts: &Contacts, depth: usize) -> Vec<Value> {
    let items = match content {
        Value::Array(items) => Some(items),
        _ => ["messages", "message"].iter().find_map(|k| content.get(*k)?.as_array()),
    };
    let items = items.map(Vec::as_slice).unwrap_or_default();
    items.iter().filter_map(|item| received_node(item, scene, contacts, depth)).collect()
}

/// One forward node, from a spec `node` segment or a OneBot message object.
fn received_node(item: &Value, scene: Scene, contacts: &Contacts, depth: usize) -> Option<Value> {
    let d = if kind(item) == "node" { item.get("data")? } else { item };
    if !d.is_object() {
        return None;
    }
    let sender = |key: &str| d.get("sender").and_then(|s| s.get(key));
    let sender_id = int(d.get("user_id"))
        .or_else(|| int(d.get("uin")))
        .or_else(|| int(sender("user_id")))
        .unwrap_or(0);
    let sender_name = nonempty(d.get("nickname"))
        .or_else(|| nonempty(d.get("name")))
        .or_else(|| nonempty(sender("nickname")))
        .or_else(|| nonempty(sender("card")))
        .unwrap_or_default();
    let content = d.get("content").or_else(|| d.get("message")).map(segments).unwrap_or_default();
    Some(json!({
        "senderId": sender_id,
        "time": int(d.get("time")).unwrap_or(0),
        "senderName": sender_name,
        "messageChain": chain_at(&content, scene, contacts, depth),
        "messageId": null,
        "messageRef": null,
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::adapter::onebot::cache::Message;
    use crate::adapter::onebot::message::pokes::UNKNOWN_POKE;
    use crate::adapter::onebot::message::testing::{contacts, one, FRIEND, GROUP};

    /// The keys of the wire fixture for an element type.
    fn fixture_keys(kind: &str) -> BTreeSet<String> {
        let text = match kind {
            "App" => include_str!("../../../../tests/fixtures/wire/messages/App.json"),
            "At" => include_str!("../../../../tests/fixtures/wire/messages/At.json"),
            "AtAll" => include_str!("../../../../tests/fixtures/wire/messages/AtAll.json"),
            "Dice" => include_str!("../../../../tests/fixtures/wire/messages/Dice.json"),
            "Face" => include_str!("../../../../tests/fixtures/wire/messages/Face.json"),
            "File" => include_str!("../../../../tests/fixtures/wire/messages/File.json"),
            "FlashImage" => {
                include_str!("../../../../tests/fixtures/wire/messages/FlashImage.json")
            }
            "Forward" => include_str!("../../../../tests/fixtures/wire/messages/Forward.json"),
            "Image" => include_str!("../../../../tests/fixtures/wire/messages/Image.json"),
            "MarketFace" => {
                include_str!("../../../../tests/fixtures/wire/messages/MarketFace.json")
            }
            "Plain" => include_str!("../../../../tests/fixtures/wire/messages/Plain.json"),
            "Poke" => include_str!("../../../../tests/fixtures/wire/messages/Poke.json"),
            "Quote" => include_str!("../../../../tests/fixtures/wire/messages/Quote.json"),
            "ShortVideo" => {
                include_str!("../../../../tests/fixtures/wire/messages/ShortVideo.json")
            }
            "Voice" => include_str!("../../../../tests/fixtures/wire/messages/Voice.json"),
            "Xml" => include_str!("../../../../tests/fixtures/wire/messages/Xml.json"),
            other => panic!("no fixture for {other}"),
        };
        let v: Value = serde_json::from_str(text).unwrap();
        v.as_object().unwrap().keys().cloned().collect()
    }

    fn keys(v: &Value) -> BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    /// Every element (and forward node) has exactly the keys of its wire fixture.
    fn assert_shapes(chain: &[Value]) {
        for element in chain {
            let kind = element["type"].as_str().unwrap();
            assert_eq!(keys(element), fixture_keys(kind), "{element}");
            if kind == "Forward" {
                let node_keys: BTreeSet<String> =
                    ["senderId", "time", "senderName", "messageChain", "messageId", "messageRef"]
                        .iter()
                        .map(|s| s.to_string())
                        .collect();
                for node in element["nodeList"].as_array().unwrap() {
                    assert_eq!(keys(node), node_keys);
                    assert_shapes(node["messageChain"].as_array().unwrap());
                }
            }
            if kind == "Quote" {
                assert_shapes(element["origin"].as_array().unwrap());
            }
        }
    }

    #[test]
    fn text_becomes_plain_and_empty_text_is_dropped() {
        let chain = to_chain(
            &[
                json!({"type": "text", "data": {"text": "hi"}}),
                json!({"type": "text", "data": {"text": ""}}),
                json!({"type": "text", "data": {}}),
            ],
            GROUP,
            &contacts(),
        );
        assert_eq!(chain, vec![json!({"type": "Plain", "text": "hi"})]);
        assert_shapes(&chain);
    }

    #[test]
    fn at_and_at_all() {
        assert_eq!(
            one(json!({"type": "at", "data": {"qq": "123456", "name": "@x"}})),
            vec![json!({"type": "At", "target": 123_456, "display": ""})]
        );
        assert_eq!(
            one(json!({"type": "at", "data": {"qq": 123_456}})),
            vec![json!({"type": "At", "target": 123_456, "display": ""})]
        );
        let all = one(json!({"type": "at", "data": {"qq": "all"}}));
        assert_eq!(all, vec![json!({"type": "AtAll", "target": 0})]);
        assert_shapes(&all);
        assert!(one(json!({"type": "at", "data": {"qq": "nobody"}})).is_empty());
    }

    #[test]
    fn face_gets_its_name_from_the_table() {
        let chain = one(json!({"type": "face", "data": {"id": "14", "raw": {}}}));
        assert_eq!(
            chain,
            vec![json!({"type": "Face", "faceId": 14, "name": "微笑", "isSuperFace": false})]
        );
        assert_shapes(&chain);
        assert_eq!(one(json!({"type": "face", "data": {"id": 9999}}))[0]["name"], "");
    }

    #[test]
    fn napcat_image() {
        let chain = one(json!({"type": "image", "data": {
            "file": "ABCDEF.png",
            "url": "https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=x",
            "file_size": "5120",
            "sub_type": 0,
            "summary": "",
        }}));
        assert_eq!(
            chain,
            vec![json!({
                "type": "Image",
                "imageId": "https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=x",
                "url": "https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=x",
                "path": null,
                "base64": null,
                "width": 0,
                "height": 0,
                "size": 5120,
                "imageType": "PNG",
                "isEmoji": false,
            })]
        );
        assert_shapes(&chain);
    }

    #[test]
    fn image_without_url_uses_the_file_and_sub_type_1_is_an_emoji() {
        let chain = one(json!({"type": "image", "data": {"file": "x.GIF", "sub_type": "1"}}));
        assert_eq!(
            chain,
            vec![json!({
                "type": "Image",
                "imageId": "x.GIF",
                "url": null,
                "path": null,
                "base64": null,
                "width": 0,
                "height": 0,
                "size": 0,
                "imageType": "GIF",
                "isEmoji": true,
            })]
        );
        for (file, t) in [("a.jpeg", "JPG"), ("a.jpg", "JPG"), ("b.bmp", "BMP"), ("c", "UNKNOWN")] {
            assert_eq!(one(json!({"type": "image", "data": {"file": file}}))[0]["imageType"], t);
        }
        let flash = one(json!({"type": "image", "data": {"file": "f.png", "type": "flash"}}));
        assert_eq!(flash[0]["type"], "FlashImage");
        assert_shapes(&flash);
    }

    #[test]
    fn image_with_emoji_id_is_a_market_face() {
        let chain = one(json!({"type": "image", "data": {
            "file": "m.gif", "url": "https://x", "summary": "[开心]",
            "key": "k", "emoji_id": "1234", "emoji_package_id": 5,
        }}));
        assert_eq!(chain, vec![json!({"type": "MarketFace", "id": 1234, "name": "[开心]"})]);
        assert_shapes(&chain);
        let odd = one(json!({"type": "image", "data": {"emoji_id": "abc"}}));
        assert_eq!(odd, vec![json!({"type": "MarketFace", "id": 0, "name": ""})]);
    }

    #[test]
    fn record_becomes_voice() {
        let chain = one(json!({"type": "record", "data": {
            "file": "abc.amr", "url": "https://v", "path": "/srv/abc.amr", "file_size": "77",
        }}));
        assert_eq!(
            chain,
            vec![json!({
                "type": "Voice",
                "voiceId": "abc.amr",
                "url": "https://v",
                "path": null,
                "base64": null,
                "length": 0,
            })]
        );
        assert_shapes(&chain);
    }

    #[test]
    fn video_becomes_short_video() {
        let chain = one(json!({"type": "video", "data": {
            "file": "clip.MP4", "url": "https://v/clip", "file_size": 2048,
        }}));
        assert_eq!(
            chain,
            vec![json!({
                "type": "ShortVideo",
                "videoId": "clip.MP4",
                "fileMd5": "",
                "fileSize": 2048,
                "fileFormat": "mp4",
                "filename": "clip.MP4",
                "videoUrl": "https://v/clip",
                "thumbnailUrl": "",
            })]
        );
        assert_shapes(&chain);
    }

    #[test]
    fn json_xml_dice_file() {
        let chain = to_chain(
            &[
                json!({"type": "json", "data": {"data": "{\"app\":\"x\"}"}}),
                json!({"type": "xml", "data": {"data": "<msg/>"}}),
                json!({"type": "dice", "data": {"result": "4"}}),
                json!({"type": "file", "data": {"file": "a.zip", "file_id": "/abc", "file_size": "99"}}),
            ],
            FRIEND,
            &contacts(),
        );
        assert_eq!(
            chain,
            vec![
                json!({"type": "App", "content": "{\"app\":\"x\"}"}),
                json!({"type": "Xml", "xml": "<msg/>"}),
                json!({"type": "Dice", "value": 4}),
                json!({"type": "File", "id": "/abc", "name": "a.zip", "size": 99}),
            ]
        );
        assert_shapes(&chain);
        // A json card given as an object is kept as its text.
        assert_eq!(
            one(json!({"type": "json", "data": {"data": {"a": 1}}})),
            vec![json!({"type": "App", "content": "{\"a\":1}"})]
        );
    }

    #[test]
    fn poke_names_follow_mirai() {
        let name = |t: Value, i: Value| one(json!({"type": "poke", "data": {"type": t, "id": i}}));
        let chain = name(json!("5"), json!("-1"));
        assert_eq!(chain, vec![json!({"type": "Poke", "name": "LiuLiuLiu"})]);
        assert_shapes(&chain);
        assert_eq!(name(json!(1), json!(-1))[0]["name"], "ChuoYiChuo");
        assert_eq!(name(json!("126"), json!("2011"))[0]["name"], "BaoBeiQiu");
        assert_eq!(name(json!(126), json!(2002))[0]["name"], "SuiPing");
        assert_eq!(name(json!(126), json!(1))[0]["name"], UNKNOWN_POKE);
        assert_eq!(name(json!(77), json!(1))[0]["name"], UNKNOWN_POKE);
    }

    #[test]
    fn reply_is_filled_from_the_cache() {
        let mut c = contacts();
        let packet = json!({"type": "GroupMessage", "messageChain": [
            {"type": "Source", "id": 55, "time": 1},
            {"type": "Quote", "id": 54, "groupId": 100, "senderId": 8, "targetId": 100, "origin": []},
            {"type": "Plain", "text": "earlier"},
        ]});
        c.remember_message(Message::new(55, 100, Some(100), 7, 1, &packet));
        let chain = to_chain(&[json!({"type": "reply", "data": {"id": "55"}})], GROUP, &c);
        assert_eq!(
            chain,
            vec![json!({
                "type": "Quote",
                "id": 55,
                "groupId": 100,
                "senderId": 7,
                "targetId": 100,
                "origin": [{"type": "Plain", "text": "earlier"}],
            })]
        );
        assert_shapes(&chain);
    }

    #[test]
    fn reply_not_in_the_cache_points_at_the_scene() {
        let chain = to_chain(&[json!({"type": "reply", "data": {"id": -3}})], FRIEND, &contacts());
        assert_eq!(
            chain,
            vec![json!({
                "type": "Quote", "id": -3, "groupId": 0, "senderId": 0, "targetId": 7, "origin": [],
            })]
        );
        let chain = one(json!({"type": "reply", "data": {"id": "2147483647"}}));
        assert_eq!(chain[0]["groupId"], 100);
        assert_eq!(chain[0]["targetId"], 100);
        assert_eq!(chain[0]["id"], 2_147_483_647);
        assert!(one(json!({"type": "reply", "data": {"id": "x"}})).is_empty());
    }

    #[test]
    fn lagrange_at_after_reply_is_dropped() {
        let message = [
            json!({"type": "reply", "data": {"id": "9"}}),
            json!({"type": "at", "data": {"qq": "7"}}),
            json!({"type": "text", "data": {"text": " hi"}}),
            json!({"type": "at", "data": {"qq": "8"}}),
        ];
        let mut c = contacts();
        c.implementation = Implementation::Lagrange;
        let types = |chain: Vec<Value>| -> Vec<String> {
            chain.iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(types(to_chain(&message, GROUP, &c)), ["Quote", "Plain", "At"]);
        c.implementation = Implementation::NapCat;
        assert_eq!(types(to_chain(&message, GROUP, &c)), ["Quote", "At", "Plain", "At"]);
    }

    #[test]
    fn forward_with_inline_content() {
        let chain = one(json!({"type": "forward", "data": {"id": "fw1", "content": [
            {"self_id": 10, "user_id": 7, "time": 1_700_000_000, "message_id": 1,
             "message_type": "group", "sender": {"user_id": 7, "nickname": "seven", "card": "7c"},
             "message": [{"type": "text", "data": {"text": "inside"}}]},
            {"user_id": 8, "time": "5", "sender": {"user_id": 8, "nickname": "", "card": "eight"},
             "message": "a[CQ:face,id=14]"},
        ]}}));
        assert_eq!(
            chain,
            vec![json!({
                "type": "Forward",
                "display": null,
                "nodeList": [
                    {"senderId": 7, "time": 1_700_000_000, "senderName": "seven",
                     "messageChain": [{"type": "Plain", "text": "inside"}],
                     "messageId": null, "messageRef": null},
                    {"senderId": 8, "time": 5, "senderName": "eight",
                     "messageChain": [
                        {"type": "Plain", "text": "a"},
                        {"type": "Face", "faceId": 14, "name": "微笑", "isSuperFace": false},
                     ],
                     "messageId": null, "messageRef": null},
                ],
            })]
        );
        assert_shapes(&chain);
    }

    #[test]
    fn forward_from_the_cache_in_either_shape() {
        let mut c = contacts();
        c.remember_forward(
            "spec",
            json!({"message": [
                {"type": "node", "data": {"user_id": "7", "nickname": "seven",
                 "content": [{"type": "text", "data": {"text": "one"}}]}},
                {"type": "node", "data": {"uin": 8, "name": "eight", "content": "two"}},
                "garbage",
            ]}),
        );
        c.remember_forward(
            "napcat",
            json!({"messages": [
                {"time": 3, "sender": {"user_id": 9, "nickname": "nine"},
                 "message": [{"type": "forward", "data": {"id": "spec"}}]},
            ]}),
        );
        let chain = to_chain(&[json!({"type": "forward", "data": {"id": "napcat"}})], GROUP, &c);
        let inner = json!({
            "type": "Forward",
            "display": null,
            "nodeList": [
                {"senderId": 7, "time": 0, "senderName": "seven",
                 "messageChain": [{"type": "Plain", "text": "one"}],
                 "messageId": null, "messageRef": null},
                {"senderId": 8, "time": 0, "senderName": "eight",
                 "messageChain": [{"type": "Plain", "text": "two"}],
                 "messageId": null, "messageRef": null},
            ],
        });
        assert_eq!(
            chain,
            vec![json!({
                "type": "Forward",
                "display": null,
                "nodeList": [{"senderId": 9, "time": 3, "senderName": "nine",
                              "messageChain": [inner], "messageId": null, "messageRef": null}],
            })]
        );
        assert_shapes(&chain);
    }

    #[test]
    fn unknown_forward_is_empty_and_a_forward_loop_ends() {
        let chain = one(json!({"type": "forward", "data": {"id": "nope"}}));
        assert_eq!(chain, vec![json!({"type": "Forward", "display": null, "nodeList": []})]);
        let mut c = contacts();
        c.remember_forward(
            "loop",
            json!({"messages": [{"sender": {"user_id": 1}, "message": [
                {"type": "forward", "data": {"id": "loop"}},
            ]}]}),
        );
        let mut chain = to_chain(&[json!({"type": "forward", "data": {"id": "loop"}})], GROUP, &c);
        let mut depth = 0;
        while let Some(node) = chain[0]["nodeList"].get(0) {
            chain = node["messageChain"].as_array().unwrap().clone();
            depth += 1;
        }
        assert_eq!(depth, FORWARD_DEPTH);
    }

    #[test]
    fn unknown_segments_and_malformed_values_are_dropped() {
        let chain = to_chain(
            &[
                json!({"type": "rps", "data": {"result": "1"}}),
                json!({"type": "markdown", "data": {}}),
                json!({"type": "face"}),
                json!({"type": "at", "data": "x"}),
                json!({"type": "dice", "data": {}}),
                json!({"type": "reply", "data": null}),
                json!({"type": 5}),
                json!("text"),
                json!(null),
                json!({"type": "image", "data": {"file": 5, "file_size": "big", "sub_type": []}}),
                json!({"type": "video", "data": []}),
                json!({"type": "forward", "data": {"content": "x"}}),
                json!({"type": "file", "data": {}}),
            ],
            GROUP,
            &contacts(),
        );
        let types: Vec<&str> = chain.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["Image", "ShortVideo", "Forward", "File"]);
        assert_eq!(chain[0]["imageId"], "5");
        assert_eq!(chain[0]["size"], 0);
        assert_shapes(&chain);
        assert!(segments(&json!(5)).is_empty());
        assert!(segments(&json!({"type": "text"})).is_empty());
        assert!(segments(&Value::Null).is_empty());
    }
}
