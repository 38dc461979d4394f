//! OneBot messages (segment arrays and CQ-code strings) and mirai-api-http message chains.
//!
//! Received segments become the chain elements scripts know, with every key mirai-api-http
//! gives; a chain a script sends becomes segments, or an [`Unsendable`] naming the element
//! OneBot has no way to carry. Nothing here fails on malformed input: a value of the wrong
//! type is defaulted or its segment dropped.

use serde_json::{json, Map, Value};

use super::cache::{as_i64, Contacts, Implementation};

/// How deep forwarded messages inside forwarded messages are unfolded or built.
const FORWARD_DEPTH: usize = 8;

/// What an unknown poke is called on receive, as mirai-api-http calls it.
const UNKNOWN_POKE: &str = "未知戳一戳";

/// mirai's pokes: name, poke type, id (-1 for the plain ones). For the two SVIP pokes that
/// share 126/2002 the first one is the name given on receive.
const POKES: &[(&str, i64, i64)] = &[
    ("ChuoYiChuo", 1, -1),
    ("BiXin", 2, -1),
    ("DianZan", 3, -1),
    ("XinSui", 4, -1),
    ("LiuLiuLiu", 5, -1),
    ("FangDaZhao", 6, -1),
    ("BaoBeiQiu", 126, 2011),
    ("Rose", 126, 2007),
    ("ZhaoHuanShu", 126, 2006),
    ("RangNiPi", 126, 2009),
    ("JieYin", 126, 2005),
    ("ShouLei", 126, 2004),
    ("GouYin", 126, 2003),
    ("ZhuaYiXia", 126, 2001),
    ("SuiPing", 126, 2002),
    ("QiaoMen", 126, 2002),
];

/// Poke names of older mirai cores (and of the mirai-api-http docs) and the current names.
const POKE_ALIASES: &[(&str, &str)] = &[
    ("Poke", "ChuoYiChuo"),
    ("ShowLove", "BiXin"),
    ("Like", "DianZan"),
    ("Heartbroken", "XinSui"),
    ("SixSixSix", "LiuLiuLiu"),
];

/// Names of the classic QQ faces, for `Face.name` on receive and faces sent by name.
const FACES: &[(i64, &str)] = &[
    (0, "惊讶"),
    (1, "撇嘴"),
    (2, "色"),
    (3, "发呆"),
    (4, "得意"),
    (5, "流泪"),
    (6, "害羞"),
    (7, "闭嘴"),
    (8, "睡"),
    (9, "大哭"),
    (10, "尴尬"),
    (11, "发怒"),
    (12, "调皮"),
    (13, "呲牙"),
    (14, "微笑"),
    (15, "难过"),
    (16, "酷"),
    (18, "抓狂"),
    (19, "吐"),
    (20, "偷笑"),
    (21, "可爱"),
    (22, "白眼"),
    (23, "傲慢"),
    (24, "饥饿"),
    (25, "困"),
    (26, "惊恐"),
    (27, "流汗"),
    (28, "憨笑"),
    (29, "悠闲"),
    (30, "奋斗"),
    (31, "咒骂"),
    (32, "疑问"),
    (33, "嘘"),
    (34, "晕"),
    (35, "折磨"),
    (36, "衰"),
    (37, "骷髅"),
    (38, "敲打"),
    (39, "再见"),
    (41, "发抖"),
    (42, "爱情"),
    (43, "跳跳"),
    (46, "猪头"),
    (49, "拥抱"),
    (53, "蛋糕"),
    (60, "咖啡"),
    (63, "玫瑰"),
    (64, "凋谢"),
    (66, "爱心"),
    (67, "心碎"),
    (74, "太阳"),
    (75, "月亮"),
    (76, "赞"),
    (77, "踩"),
    (78, "握手"),
    (79, "胜利"),
    (99, "鼓掌"),
];

// ---------------------------------------------------------------------------------------------
// Public types

/// Where a received message was said: `group` for group/temp messages, `peer` = the group for group messages, else the friend/user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scene {
    /// The group, for group and temp messages.
    pub group: Option<i64>,
    /// The conversation: the group for group messages, else the friend or user.
    pub peer: i64,
}

/// An element that cannot be sent over OneBot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("element {index} ({element}) cannot be sent over OneBot: {reason}")]
pub struct Unsendable {
    /// The element's place in its chain, counting from 1.
    pub index: usize,
    /// The element's `type`.
    pub element: String,
    /// Why it cannot be sent.
    pub reason: String,
}

impl Unsendable {
    fn new(index: usize, element: &str, reason: impl Into<String>) -> Self {
        let element = if element.is_empty() { "no type" } else { element };
        Self { index, element: element.to_owned(), reason: reason.into() }
    }

    /// The same error, said to be inside node `node` of a forward.
    fn in_node(mut self, node: usize) -> Self {
        self.reason = format!("in forward node {node}: {}", self.reason);
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Reading loosely typed values

/// A key of a segment's `data`.
fn data<'a>(segment: &'a Value, key: &str) -> Option<&'a Value> {
    segment.get("data")?.get(key)
}

/// A value as text: a string as it is, any other non-null value as its JSON text.
fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A value as text, when it is not empty.
fn nonempty(v: Option<&Value>) -> Option<String> {
    text_of(v).filter(|s| !s.is_empty())
}

/// A value as an integer, from a number or a numeric string.
fn int(v: Option<&Value>) -> Option<i64> {
    v.and_then(as_i64)
}

/// Text or JSON null.
fn or_null(s: Option<String>) -> Value {
    s.map_or(Value::Null, Value::String)
}

/// The `type` of a segment or element; `""` when it has none.
fn kind(v: &Value) -> &str {
    v.get("type").and_then(Value::as_str).unwrap_or_default()
}

/// A segment `{"type": kind, "data": data}`.
fn segment(kind: &str, data: Value) -> Value {
    json!({ "type": kind, "data": data })
}

// ---------------------------------------------------------------------------------------------
// CQ codes

/// A message as a list of segments `{"type": …, "data": {…}}`, from either form OneBot sends:
/// a segment array (returned as is) or a CQ-code string (parsed). Anything else gives [].
#[must_use]
pub fn segments(message: &Value) -> Vec<Value> {
    match message {
        Value::Array(items) => items.clone(),
        Value::String(text) => parse_cq(text),
        _ => Vec::new(),
    }
}

/// Parse a CQ-code string: plain runs become `text` segments (unescaped), `[CQ:type,k=v,…]` become segments whose data values are strings (unescaped).
#[must_use]
pub fn parse_cq(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    // Plain text not yet emitted, still escaped.
    let mut plain = String::new();
    let mut rest = text;
    while let Some(open) = rest.find("[CQ:") {
        let code = &rest[open + 4..];
        let parsed = code.find(']').and_then(|close| Some((close, cq_segment(&code[..close])?)));
        match parsed {
            Some((close, seg)) => {
                plain.push_str(&rest[..open]);
                flush_text(&mut out, &mut plain);
                out.push(seg);
                rest = &code[close + 1..];
            }
            None => {
                // Not a CQ code: the `[` is text, and the search goes on after it.
                plain.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    plain.push_str(rest);
    flush_text(&mut out, &mut plain);
    out
}

/// Emit the pending plain text as a `text` segment, unless it is empty.
fn flush_text(out: &mut Vec<Value>, plain: &mut String) {
    let text = unescape(plain);
    plain.clear();
    if !text.is_empty() {
        out.push(segment("text", json!({ "text": text })));
    }
}

/// One CQ code's inside, `type,k=v,…` (without `[CQ:` and `]`); `None` if it is not one.
fn cq_segment(code: &str) -> Option<Value> {
    if code.contains('[') {
        return None;
    }
    let mut parts = code.split(',');
    let kind = parts.next().filter(|k| !k.is_empty())?;
    let mut data = Map::new();
    for part in parts {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        if !key.is_empty() {
            data.insert(unescape(key), Value::String(unescape(value)));
        }
    }
    Some(segment(&unescape(kind), Value::Object(data)))
}

/// Undo CQ escaping, in one pass (so `&amp;#91;` gives `&#91;`).
fn unescape(s: &str) -> String {
    const ESCAPES: [(&str, char); 4] =
        [("&amp;", '&'), ("&#91;", '['), ("&#93;", ']'), ("&#44;", ',')];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match ESCAPES.iter().find(|(escape, _)| rest.starts_with(escape)) {
            Some((escape, c)) => {
                out.push(*c);
                rest = &rest[escape.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Append `s` CQ-escaped; `param` also escapes `,`.
fn escape_into(out: &mut String, s: &str, param: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '[' => out.push_str("&#91;"),
            ']' => out.push_str("&#93;"),
            ',' if param => out.push_str("&#44;"),
            c => out.push(c),
        }
    }
}

/// Write segments as a CQ-code string (escaping `&`,`[`,`]` in text and also `,` in params). Non-string data values are written as their JSON text (numbers) / skipped (null).
#[must_use]
pub fn to_cq(segments: &[Value]) -> String {
    let mut out = String::new();
    for seg in segments {
        let kind = kind(seg);
        if kind.is_empty() {
            continue;
        }
        if kind == "text" {
            if let Some(text) = text_of(data(seg, "text")) {
                escape_into(&mut out, &text, false);
            }
            continue;
        }
        out.push_str("[CQ:");
        escape_into(&mut out, kind, true);
        if let Some(fields) = seg.get("data").and_then(Value::as_object) {
            for (key, value) in fields {
                let Some(value) = text_of(Some(value)) else { continue };
                out.push(',');
                escape_into(&mut out, key, true);
                out.push('=');
                escape_into(&mut out, &value, true);
            }
        }
        out.push(']');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Receiving: segments → chain

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

/// A face's name, or `""` when it is not in the table.
fn face_name(id: i64) -> &'static str {
    FACES.iter().find(|(i, _)| *i == id).map_or("", |(_, name)| name)
}

/// A poke's mirai name from OneBot's `type` and `id`.
fn poke_name(kind: Option<i64>, id: Option<i64>) -> &'static str {
    let Some(kind) = kind else { return UNKNOWN_POKE };
    POKES
        .iter()
        .find(|(_, t, i)| *t == kind && (kind != 126 || Some(*i) == id))
        .map_or(UNKNOWN_POKE, |(name, _, _)| name)
}

/// A `Quote` of message `id`, filled from the cache when the message is known.
fn quote(id: i64, scene: Scene, contacts: &Contacts) -> Value {
    match contacts.message(id) {
        Some(m) => {
            let origin: Vec<Value> = m
                .packet
                .get("messageChain")
                .and_then(Value::as_array)
                .map(|chain| {
                    chain
                        .iter()
                        .filter(|e| !matches!(kind(e), "Source" | "Quote"))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
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
    json!({ "type": "Forward", "display": null, "nodeList": nodes })
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

// ---------------------------------------------------------------------------------------------
// Sending: chain → segments

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

/// The face id to send for a `Face`: its `faceId`, or the id of its `name`.
fn face_id(element: &Value) -> Result<String, String> {
    if let Some(id) = int(element.get("faceId")).filter(|id| *id >= 0) {
        return Ok(id.to_string());
    }
    match element.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) {
        Some(name) => FACES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(id, _)| id.to_string())
            .ok_or_else(|| format!("no face is named \"{name}\"; give its faceId")),
        None => Err("it has no faceId".to_owned()),
    }
}

/// OneBot's poke `type` and `id` for a mirai poke name; unknown names poke as `ChuoYiChuo`.
fn poke_code(name: &str) -> (i64, i64) {
    let name = POKE_ALIASES.iter().find(|(old, _)| *old == name).map_or(name, |(_, new)| new);
    POKES.iter().find(|(n, _, _)| *n == name).map_or((1, -1), |(_, kind, id)| (*kind, *id))
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

// ---------------------------------------------------------------------------------------------
// Sending forwards

/// Whether a chain is exactly one `Forward` element (it must go by the forward actions).
///
/// A `Source`, which is ignored on send, does not count.
#[must_use]
pub fn is_forward_only(chain: &[Value]) -> bool {
    let mut sent = chain.iter().filter(|e| kind(e) != "Source");
    matches!((sent.next(), sent.next()), (Some(e), None) if kind(e) == "Forward")
}

/// The `node` segments for `send_group_forward_msg` / `send_private_forward_msg` from one MAH `Forward` element.
pub fn forward_nodes(forward: &Value) -> Result<Vec<Value>, Unsendable> {
    nodes_to_send(forward, 1, 0)
}

/// `forward_nodes` for a Forward at `index` in its chain, `depth` forwards deep.
fn nodes_to_send(forward: &Value, index: usize, depth: usize) -> Result<Vec<Value>, Unsendable> {
    let fail = |reason: &str| Unsendable::new(index, kind(forward), reason);
    if kind(forward) != "Forward" {
        return Err(fail("it is not a Forward"));
    }
    if depth >= FORWARD_DEPTH {
        return Err(fail("forwards are nested too deep"));
    }
    let list = forward
        .get("nodeList")
        .and_then(Value::as_array)
        .ok_or_else(|| fail("it has no nodeList"))?;
    if list.is_empty() {
        return Err(fail("its nodeList is empty"));
    }
    let mut nodes = Vec::with_capacity(list.len());
    for (n, node) in list.iter().enumerate() {
        let reference = int(node.get("messageId"))
            .or_else(|| int(node.get("messageRef").and_then(|r| r.get("messageId"))));
        if let Some(id) = reference {
            nodes.push(segment("node", json!({ "id": id.to_string() })));
            continue;
        }
        let chain = node
            .get("messageChain")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let content = match chain.iter().position(|e| kind(e) == "Forward") {
            Some(at) if is_forward_only(chain) => {
                nodes_to_send(&chain[at], at + 1, depth + 1).map(Value::Array)
            }
            _ => from_chain(chain, None).map(Value::Array),
        }
        .map_err(|e| e.in_node(n + 1))?;
        if content.as_array().is_some_and(Vec::is_empty) {
            return Err(fail(&format!("node {} has nothing to send", n + 1)));
        }
        let sender_id = int(node.get("senderId")).unwrap_or(0).to_string();
        let sender_name = text_of(node.get("senderName")).unwrap_or_default();
        nodes.push(segment(
            "node",
            json!({
                "user_id": sender_id,
                "uin": sender_id,
                "nickname": sender_name,
                "name": sender_name,
                "content": content,
            }),
        ));
    }
    Ok(nodes)
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::adapter::onebot::cache::Message;

    const GROUP: Scene = Scene { group: Some(100), peer: 100 };
    const FRIEND: Scene = Scene { group: None, peer: 7 };

    fn contacts() -> Contacts {
        Contacts::new(10)
    }

    fn one(seg: Value) -> Vec<Value> {
        to_chain(&[seg], GROUP, &contacts())
    }

    /// The keys of the wire fixture for an element type.
    fn fixture_keys(kind: &str) -> BTreeSet<String> {
        let text = match kind {
            "App" => include_str!("../../../tests/fixtures/wire/messages/App.json"),
            "At" => include_str!("../../../tests/fixtures/wire/messages/At.json"),
            "AtAll" => include_str!("../../../tests/fixtures/wire/messages/AtAll.json"),
            "Dice" => include_str!("../../../tests/fixtures/wire/messages/Dice.json"),
            "Face" => include_str!("../../../tests/fixtures/wire/messages/Face.json"),
            "File" => include_str!("../../../tests/fixtures/wire/messages/File.json"),
            "FlashImage" => include_str!("../../../tests/fixtures/wire/messages/FlashImage.json"),
            "Forward" => include_str!("../../../tests/fixtures/wire/messages/Forward.json"),
            "Image" => include_str!("../../../tests/fixtures/wire/messages/Image.json"),
            "MarketFace" => include_str!("../../../tests/fixtures/wire/messages/MarketFace.json"),
            "Plain" => include_str!("../../../tests/fixtures/wire/messages/Plain.json"),
            "Poke" => include_str!("../../../tests/fixtures/wire/messages/Poke.json"),
            "Quote" => include_str!("../../../tests/fixtures/wire/messages/Quote.json"),
            "ShortVideo" => include_str!("../../../tests/fixtures/wire/messages/ShortVideo.json"),
            "Voice" => include_str!("../../../tests/fixtures/wire/messages/Voice.json"),
            "Xml" => include_str!("../../../tests/fixtures/wire/messages/Xml.json"),
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

    // --- receive, one golden per segment type ------------------------------------------------

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
        c.remember_message(Message {
            id: 55,
            conversation: 100,
            group: Some(100),
            author: 7,
            time: 1,
            packet: json!({"type": "GroupMessage", "messageChain": [
                {"type": "Source", "id": 55, "time": 1},
                {"type": "Quote", "id": 54, "groupId": 100, "senderId": 8, "targetId": 100, "origin": []},
                {"type": "Plain", "text": "earlier"},
            ]}),
        });
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

    // --- CQ codes ----------------------------------------------------------------------------

    #[test]
    fn array_and_cq_string_give_the_same_chain() {
        let array = json!([
            {"type": "text", "data": {"text": "a&b [x] 1,2 &amp; "}},
            {"type": "at", "data": {"qq": "123"}},
            {"type": "image", "data": {"file": "p,q[1].png", "url": "https://h/i?a=1&b=[2],3"}},
            {"type": "text", "data": {"text": "&#91;literal&#93;"}},
        ]);
        let cq = json!(
            "a&amp;b &#91;x&#93; 1,2 &amp;amp; [CQ:at,qq=123]\
             [CQ:image,file=p&#44;q&#91;1&#93;.png,url=https://h/i?a=1&amp;b=&#91;2&#93;&#44;3]\
             &amp;#91;literal&amp;#93;"
        );
        let c = contacts();
        let from_array = to_chain(&segments(&array), GROUP, &c);
        let from_cq = to_chain(&segments(&cq), GROUP, &c);
        assert_eq!(from_array, from_cq);
        assert_eq!(from_cq[0], json!({"type": "Plain", "text": "a&b [x] 1,2 &amp; "}));
        assert_eq!(from_cq[2]["imageId"], "https://h/i?a=1&b=[2],3");
        assert_eq!(from_cq[3], json!({"type": "Plain", "text": "&#91;literal&#93;"}));
        // And writing the array gives the same string back.
        assert_eq!(to_cq(array.as_array().unwrap()), cq.as_str().unwrap());
    }

    #[test]
    fn parse_cq_segments() {
        assert_eq!(
            parse_cq("hi [CQ:face,id=14][CQ:at,qq=all]!"),
            vec![
                json!({"type": "text", "data": {"text": "hi "}}),
                json!({"type": "face", "data": {"id": "14"}}),
                json!({"type": "at", "data": {"qq": "all"}}),
                json!({"type": "text", "data": {"text": "!"}}),
            ]
        );
        assert_eq!(parse_cq("[CQ:dice]"), vec![json!({"type": "dice", "data": {}})]);
        assert_eq!(
            parse_cq("[CQ:x,flag,k=a=b,]"),
            vec![json!({"type": "x", "data": {"flag": "", "k": "a=b"}})]
        );
        assert!(parse_cq("").is_empty());
    }

    #[test]
    fn malformed_cq_is_text() {
        let text = |s: &str| vec![json!({"type": "text", "data": {"text": s}})];
        assert_eq!(parse_cq("[CQ:face,id=1"), text("[CQ:face,id=1"));
        assert_eq!(parse_cq("[CQ:]x"), text("[CQ:]x"));
        assert_eq!(parse_cq("[x] [CQ"), text("[x] [CQ"));
        assert_eq!(parse_cq("&&am&amp"), text("&&am&amp"));
        assert_eq!(
            parse_cq("[CQ:a[CQ:face,id=2]"),
            vec![
                json!({"type": "text", "data": {"text": "[CQ:a"}}),
                json!({"type": "face", "data": {"id": "2"}}),
            ]
        );
        assert_eq!(
            parse_cq("é[CQ:ü]ß"),
            vec![
                json!({"type": "text", "data": {"text": "é"}}),
                json!({"type": "ü", "data": {}}),
                json!({"type": "text", "data": {"text": "ß"}}),
            ]
        );
    }

    #[test]
    fn to_cq_writes_numbers_and_skips_nulls() {
        let segs = [
            json!({"type": "text", "data": {"text": "x,y"}}),
            json!({"type": "face", "data": {"id": 14, "big": null, "ok": true}}),
            json!({"type": "node", "data": {"content": [1, "a,b"]}}),
            json!({"data": {"text": "no type"}}),
            json!({"type": "dice"}),
        ];
        assert_eq!(
            to_cq(&segs),
            "x,y[CQ:face,id=14,ok=true]\
             [CQ:node,content=&#91;1&#44;\"a&#44;b\"&#93;][CQ:dice]"
        );
    }

    #[test]
    fn cq_round_trips() {
        for text in ["plain", "a&b", "[]", ",", "&amp;&#91;&#93;&#44;", "多字节[CQ:文字]"] {
            let segs = vec![
                segment("text", json!({ "text": text })),
                segment("image", json!({ "file": text, "url": format!("{text},{text}") })),
            ];
            assert_eq!(parse_cq(&to_cq(&segs)), segs, "{text}");
        }
    }

    // --- send ----------------------------------------------------------------------------------

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

    // --- forwards ------------------------------------------------------------------------------

    #[test]
    fn forward_only_chains() {
        let f = json!({"type": "Forward", "nodeList": []});
        let p = json!({"type": "Plain", "text": "x"});
        assert!(is_forward_only(std::slice::from_ref(&f)));
        assert!(is_forward_only(&[json!({"type": "Source", "id": 1, "time": 1}), f.clone()]));
        assert!(!is_forward_only(&[f.clone(), p.clone()]));
        assert!(!is_forward_only(&[f.clone(), f]));
        assert!(!is_forward_only(&[p]));
        assert!(!is_forward_only(&[]));
    }

    #[test]
    fn forward_nodes_by_id_and_by_content() {
        let forward = json!({"type": "Forward", "display": null, "nodeList": [
            {"messageId": 31},
            {"messageRef": {"messageId": "32", "target": 100}},
            {"senderId": 7, "time": 0, "senderName": "seven", "messageId": null,
             "messageChain": [{"type": "Plain", "text": "hi"}, {"type": "AtAll"}]},
            {"senderId": 8, "senderName": "eight", "messageChain": [
                {"type": "Forward", "nodeList": [
                    {"senderId": 9, "senderName": "nine", "messageChain": [{"type": "Dice", "value": 1}]},
                ]},
            ]},
        ]});
        assert_eq!(
            forward_nodes(&forward).unwrap(),
            [
                json!({"type": "node", "data": {"id": "31"}}),
                json!({"type": "node", "data": {"id": "32"}}),
                json!({"type": "node", "data": {
                    "user_id": "7", "uin": "7", "nickname": "seven", "name": "seven",
                    "content": [
                        {"type": "text", "data": {"text": "hi"}},
                        {"type": "at", "data": {"qq": "all"}},
                    ],
                }}),
                json!({"type": "node", "data": {
                    "user_id": "8", "uin": "8", "nickname": "eight", "name": "eight",
                    "content": [{"type": "node", "data": {
                        "user_id": "9", "uin": "9", "nickname": "nine", "name": "nine",
                        "content": [{"type": "dice", "data": {}}],
                    }}],
                }}),
            ]
        );
    }

    #[test]
    fn forward_nodes_errors() {
        let e = forward_nodes(&json!({"type": "Forward", "nodeList": [
            {"senderId": 1, "senderName": "a", "messageChain": [{"type": "Plain", "text": "x"}]},
            {"senderId": 1, "senderName": "a", "messageChain": [
                {"type": "Plain", "text": "x"}, {"type": "File", "id": "", "name": "", "size": 0},
            ]},
        ]}))
        .unwrap_err();
        assert_eq!((e.index, e.element.as_str()), (2, "File"));
        assert!(e.reason.starts_with("in forward node 2: "), "{e}");
        let e = forward_nodes(&json!({"type": "Forward", "nodeList": [
            {"senderId": 1, "senderName": "a", "messageChain": [
                {"type": "Forward", "nodeList": [{"senderId": 2, "messageChain": [{"type": "MarketFace"}]}]},
            ]},
        ]}))
        .unwrap_err();
        assert_eq!(e.element, "MarketFace");
        assert!(e.reason.starts_with("in forward node 1: in forward node 1: "), "{e}");
        assert!(forward_nodes(&json!({"type": "Forward", "nodeList": []})).is_err());
        assert!(forward_nodes(&json!({"type": "Forward"})).is_err());
        assert!(forward_nodes(&json!({"type": "Plain", "text": "x"})).is_err());
        assert!(forward_nodes(&json!({"type": "Forward", "nodeList": [{"senderId": 1}]})).is_err());
        let mut deep = json!({"type": "Forward", "nodeList": [{"messageId": 1}]});
        for _ in 0..FORWARD_DEPTH {
            deep =
                json!({"type": "Forward", "nodeList": [{"senderId": 1, "messageChain": [deep]}]});
        }
        assert!(forward_nodes(&deep).unwrap_err().reason.contains("too deep"));
    }
}
