//! Sending: a mirai-api-http chain → OneBot segments, or the element OneBot cannot carry.

use serde_json::{json, Value};

use super::faces::face_id;
use super::pokes::poke_code;
use super::values::{int, kind, nonempty, segment, text_of};
use super::Unsendable;

/// A mirai-api-http chain (already normalized: a list of elements with `type`) → segments to send; `quote` puts a leading `reply{id}`.
pub fn from_chain(chain: &[Value], quote: Option<i64>) -> Result<Vec<Value>, Unsendable> {
    let mut reply = quote;
    let mut out = Vec::with_capacity(chain.len() + 1);
    for (i, element) in chain.iter().enumerate() {
        match outgoing(element, i + 1)? {
            Outgoing::Segment(seg) => out.push(seg),
            Outgoing::Reply(id) => {
                reply.get_or_insert(id);
            }
            Outgoing::Nothing => {}
        }
    }
    if let Some(id) = reply {
        out.insert(0, segment("reply", json!({ "id": id.to_string() })));
    }
    Ok(out)
}

/// What one element becomes when sent.
enum Outgoing {
    /// A segment in place.
    Segment(Value),
    /// A reply, which goes first.
    Reply(i64),
    /// Nothing (a Source, or empty text).
    Nothing,
}

/// One element to send, at `index` (from 1) in its chain.
fn outgoing(element: &Value, index: usize) -> Result<Outgoing, Unsendable> {
    let kind = kind(element);
    let fail = |reason: &str| Unsendable::new(index, kind, reason);
    let get = |key: &str| element.get(key);
    let text = |key: &str| text_of(get(key)).unwrap_or_default();
    let seg = match kind {
        "Source" => return Ok(Outgoing::Nothing),
        "Quote" => return int(get("id")).map(Outgoing::Reply).ok_or_else(|| fail("it has no id")),
        "Plain" => match text_of(get("text")) {
            Some(t) if !t.is_empty() => segment("text", json!({ "text": t })),
            _ => return Ok(Outgoing::Nothing),
        },
        "At" => {
            let target = int(get("target")).ok_or_else(|| fail("it has no target"))?;
            segment("at", json!({ "qq": target.to_string() }))
        }
        "AtAll" => segment("at", json!({ "qq": "all" })),
        "Face" => segment("face", json!({ "id": face_id(element).map_err(|r| fail(&r))? })),
        "Image" | "FlashImage" => {
            let file = media_file(element, "imageId")
                .ok_or_else(|| fail("it has no imageId, url, path or base64"))?;
            segment("image", json!({ "file": file }))
        }
        "Voice" => {
            let file = media_file(element, "voiceId")
                .ok_or_else(|| fail("it has no voiceId, url, path or base64"))?;
            segment("record", json!({ "file": file }))
        }
        "ShortVideo" => {
            let file = nonempty(get("videoUrl"))
                .or_else(|| nonempty(get("videoId")))
                .ok_or_else(|| fail("it has no videoUrl or videoId"))?;
            let mut d = json!({ "file": file });
            if let Some(thumb) = nonempty(get("thumbnailUrl")) {
                d["thumb"] = Value::String(thumb);
            }
            segment("video", d)
        }
        "Json" => segment(
            "json",
            json!({ "data": text_of(get("json")).ok_or_else(|| fail("it has no json"))? }),
        ),
        "App" => segment(
            "json",
            json!({ "data": text_of(get("content")).ok_or_else(|| fail("it has no content"))? }),
        ),
        "Xml" => segment(
            "xml",
            json!({ "data": text_of(get("xml")).ok_or_else(|| fail("it has no xml"))? }),
        ),
        "Dice" => segment("dice", json!({})),
        "Poke" => {
            let (kind, id) = poke_code(get("name").and_then(Value::as_str).unwrap_or_default());
            segment("poke", json!({ "type": kind.to_string(), "id": id.to_string() }))
        }
        "MusicShare" => segment(
            "music",
            json!({
                "type": "custom",
                "url": text("jumpUrl"),
                "audio": text("musicUrl"),
                "title": text("title"),
                "content": text("summary"),
                "image": text("pictureUrl"),
            }),
        ),
        "MarketFace" => {
            return Err(fail("market faces cannot be sent (mirai-api-http cannot either)"))
        }
        "File" => return Err(fail("files are sent with the group file upload, not in a message")),
        "MiraiCode" => {
            return Err(fail("mirai code is not translated; send the elements it stands for"))
        }
        "Forward" => {
            return Err(fail("a Forward must be the only element of its message"));
        }
        "" => return Err(fail("the element has no type")),
        _ => return Err(fail("the element type is unknown")),
    };
    Ok(Outgoing::Segment(seg))
}

/// Whether `s` starts with `prefix`, ignoring ASCII case.
fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// The `file` of an image or voice segment: a URI-like id, else the url, else the base64
/// data, else the server-side path, else the id as it is (one the server gave).
fn media_file(element: &Value, id_key: &str) -> Option<String> {
    let get = |key: &str| nonempty(element.get(key));
    let id = get(id_key);
    let uri_like = |s: &String| {
        ["http://", "https://", "base64://", "file://"]
            .iter()
            .any(|p| starts_with_ignore_case(s, p))
    };
    if let Some(id) = id.as_ref().filter(|id| uri_like(id)) {
        return Some(id.clone());
    }
    if let Some(url) = get("url") {
        return Some(url);
    }
    if let Some(b64) = get("base64") {
        return Some(base64_uri(&b64));
    }
    if let Some(path) = get("path") {
        return Some(file_uri(&path));
    }
    id
}

/// Base64 data as a `base64://` URI (a `data:` URI's payload is taken as is).
fn base64_uri(data: &str) -> String {
    if starts_with_ignore_case(data, "base64://") {
        return data.to_owned();
    }
    let payload = match data.split_once(";base64,") {
        Some((head, payload)) if starts_with_ignore_case(head, "data:") => payload,
        _ => data,
    };
    format!("base64://{payload}")
}

/// A server-side path as a `file://` URI.
fn file_uri(path: &str) -> String {
    if starts_with_ignore_case(path, "file://") {
        return path.to_owned();
    }
    let bytes = path.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        // A Windows drive path.
        return format!("file:///{}", path.replace('\\', "/"));
    }
    format!("file://{path}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::onebot::message::testing::one;

    fn sent(element: Value) -> Vec<Value> {
        from_chain(&[element], None).unwrap()
    }

    #[test]
    fn plain_at_face_send() {
        assert_eq!(
            sent(json!({"type": "Plain", "text": "hi"})),
            [json!({"type": "text", "data": {"text": "hi"}})]
        );
        assert!(sent(json!({"type": "Plain", "text": ""})).is_empty());
        assert_eq!(
            sent(json!({"type": "At", "target": 123, "display": "@x"})),
            [json!({"type": "at", "data": {"qq": "123"}})]
        );
        assert_eq!(sent(json!({"type": "AtAll"})), [json!({"type": "at", "data": {"qq": "all"}})]);
        assert_eq!(
            sent(json!({"type": "Face", "faceId": 14, "name": "ignored"})),
            [json!({"type": "face", "data": {"id": "14"}})]
        );
        assert_eq!(
            sent(json!({"type": "Face", "faceId": -1, "name": "微笑"})),
            [json!({"type": "face", "data": {"id": "14"}})]
        );
        assert_eq!(
            sent(json!({"type": "Face", "name": "惊讶"})),
            [json!({"type": "face", "data": {"id": "0"}})]
        );
    }

    #[test]
    fn image_sources_in_order() {
        let file = |e: Value| sent(e)[0]["data"]["file"].as_str().unwrap().to_owned();
        assert_eq!(
            file(json!({"type": "Image", "imageId": "https://a/b.png", "url": "https://other"})),
            "https://a/b.png"
        );
        assert_eq!(
            file(json!({"type": "Image", "imageId": "{X}.mirai", "url": "https://u"})),
            "https://u"
        );
        assert_eq!(
            file(json!({"type": "Image", "imageId": null, "base64": "QUJD"})),
            "base64://QUJD"
        );
        assert_eq!(
            file(json!({"type": "Image", "base64": "data:image/png;base64,QUJD"})),
            "base64://QUJD"
        );
        assert_eq!(
            file(json!({"type": "Image", "imageId": "", "url": "", "path": "/tmp/a.png"})),
            "file:///tmp/a.png"
        );
        assert_eq!(
            file(json!({"type": "Image", "path": "C:\\img\\a.png"})),
            "file:///C:/img/a.png"
        );
        assert_eq!(file(json!({"type": "Image", "imageId": "BASE64://QUJD"})), "BASE64://QUJD");
        assert_eq!(file(json!({"type": "Image", "imageId": "opaque-id"})), "opaque-id");
        assert_eq!(
            sent(json!({"type": "FlashImage", "imageId": "file:///x.png"})),
            [json!({"type": "image", "data": {"file": "file:///x.png"}})]
        );
    }

    #[test]
    fn a_received_image_sent_back_keeps_its_file() {
        let received =
            one(json!({"type": "image", "data": {"file": "a.png", "url": "https://u/a"}}));
        assert_eq!(
            from_chain(&received, None).unwrap(),
            [json!({"type": "image", "data": {"file": "https://u/a"}})]
        );
        let received = one(json!({"type": "image", "data": {"file": "a.png"}}));
        assert_eq!(from_chain(&received, None).unwrap()[0]["data"]["file"], "a.png");
    }

    #[test]
    fn voice_and_video_send() {
        assert_eq!(
            sent(json!({"type": "Voice", "voiceId": "a.amr", "url": "https://v", "length": 3})),
            [json!({"type": "record", "data": {"file": "https://v"}})]
        );
        assert_eq!(
            sent(json!({"type": "Voice", "base64": "QUJD"})),
            [json!({"type": "record", "data": {"file": "base64://QUJD"}})]
        );
        assert_eq!(
            sent(json!({"type": "Voice", "voiceId": "base64://Zg=="})),
            [json!({"type": "record", "data": {"file": "base64://Zg=="}})]
        );
        assert_eq!(
            sent(json!({"type": "ShortVideo", "videoId": "v1", "videoUrl": "https://v/1",
                        "thumbnailUrl": "https://v/1.jpg"})),
            [json!({"type": "video", "data": {"file": "https://v/1", "thumb": "https://v/1.jpg"}})]
        );
        assert_eq!(
            sent(
                json!({"type": "ShortVideo", "videoId": "v1", "videoUrl": null, "thumbnailUrl": ""})
            ),
            [json!({"type": "video", "data": {"file": "v1"}})]
        );
    }

    #[test]
    fn cards_dice_poke_music_send() {
        assert_eq!(
            sent(json!({"type": "Json", "json": "{}"})),
            [json!({"type": "json", "data": {"data": "{}"}})]
        );
        assert_eq!(
            sent(json!({"type": "App", "content": "{\"a\":1}"})),
            [json!({"type": "json", "data": {"data": "{\"a\":1}"}})]
        );
        assert_eq!(
            sent(json!({"type": "Xml", "xml": "<x/>"})),
            [json!({"type": "xml", "data": {"data": "<x/>"}})]
        );
        assert_eq!(
            sent(json!({"type": "Dice", "value": 3})),
            [json!({"type": "dice", "data": {}})]
        );
        let poke = |name: &str| sent(json!({"type": "Poke", "name": name}))[0]["data"].clone();
        assert_eq!(poke("LiuLiuLiu"), json!({"type": "5", "id": "-1"}));
        assert_eq!(poke("SixSixSix"), json!({"type": "5", "id": "-1"}));
        assert_eq!(poke("QiaoMen"), json!({"type": "126", "id": "2002"}));
        assert_eq!(poke("Rose"), json!({"type": "126", "id": "2007"}));
        assert_eq!(poke("whatever"), json!({"type": "1", "id": "-1"}));
        assert_eq!(
            sent(json!({"type": "MusicShare", "kind": "QQMusic", "title": "T", "summary": "S",
                        "jumpUrl": "https://j", "pictureUrl": "https://p", "musicUrl": "https://m",
                        "brief": "B"})),
            [json!({"type": "music", "data": {"type": "custom", "url": "https://j",
                    "audio": "https://m", "title": "T", "content": "S", "image": "https://p"}})]
        );
    }

    #[test]
    fn quotes_go_first_and_sources_are_ignored() {
        let chain = [
            json!({"type": "Source", "id": 1, "time": 2}),
            json!({"type": "Plain", "text": "a"}),
            json!({"type": "Quote", "id": "42", "senderId": 1, "targetId": 2, "groupId": 0, "origin": []}),
        ];
        assert_eq!(
            from_chain(&chain, None).unwrap(),
            [
                json!({"type": "reply", "data": {"id": "42"}}),
                json!({"type": "text", "data": {"text": "a"}}),
            ]
        );
        assert_eq!(
            from_chain(&chain, Some(-7)).unwrap(),
            [
                json!({"type": "reply", "data": {"id": "-7"}}),
                json!({"type": "text", "data": {"text": "a"}}),
            ]
        );
        assert_eq!(
            from_chain(&[], Some(5)).unwrap(),
            [json!({"type": "reply", "data": {"id": "5"}})]
        );
        assert!(from_chain(&[], None).unwrap().is_empty());
    }

    #[test]
    fn unsendable_elements_are_named() {
        let err = |chain: Vec<Value>| from_chain(&chain, None).unwrap_err();
        let plain = json!({"type": "Plain", "text": "x"});
        let e = err(vec![plain.clone(), json!({"type": "MarketFace", "id": 1, "name": "m"})]);
        assert_eq!((e.index, e.element.as_str()), (2, "MarketFace"));
        assert!(e.to_string().starts_with("element 2 (MarketFace) cannot be sent over OneBot: "));
        assert_eq!(
            err(vec![json!({"type": "File", "id": "", "name": "", "size": 0})]).element,
            "File"
        );
        assert_eq!(err(vec![json!({"type": "MiraiCode", "code": "x"})]).element, "MiraiCode");
        let forward = json!({"type": "Forward", "display": null, "nodeList": []});
        let e = err(vec![plain.clone(), forward]);
        assert_eq!((e.index, e.element.as_str()), (2, "Forward"));
        let e = err(vec![json!({"type": "Face", "name": "no such face"})]);
        assert!(e.reason.contains("no such face"), "{e}");
        assert_eq!(err(vec![json!({"type": "Face"})]).element, "Face");
        assert_eq!(
            err(vec![json!({"type": "Image", "imageId": null, "url": ""})]).element,
            "Image"
        );
        assert_eq!(err(vec![json!({"type": "Voice"})]).element, "Voice");
        assert_eq!(err(vec![json!({"type": "ShortVideo", "videoId": ""})]).element, "ShortVideo");
        assert_eq!(err(vec![json!({"type": "At", "target": "x"})]).element, "At");
        assert_eq!(err(vec![json!({"type": "Json"})]).element, "Json");
        assert_eq!(err(vec![json!({"type": "Quote"})]).element, "Quote");
        assert_eq!(err(vec![json!({"type": "Sticker"})]).element, "Sticker");
        let e = err(vec![plain, json!({"text": "x"})]);
        assert_eq!((e.index, e.element.as_str()), (2, "no type"));
        assert_eq!(err(vec![json!(7)]).index, 1);
    }
}
