//! Message chains ↔ OneBot segments and CQ strings, for the simulator's OneBot face.
//!
//! Temporary: the connector's converter (`adapter::onebot::message`) has not landed yet.
//! The face uses only the four functions below, so switching to it later changes this
//! file alone.

use serde_json::{json, Map, Value};

/// The segments for a chain (`Source`, `Quote` dropped), with `reply{id}` first when `quote`
/// is given; elements OneBot cannot carry are left out.
#[must_use]
pub fn chain_to_segments(chain: &[Value], quote: Option<i64>) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(q) = quote {
        out.push(seg("reply", json!({ "id": q.to_string() })));
    }
    out.extend(chain.iter().filter_map(element));
    out
}

/// The CQ-code string of segments.
#[must_use]
pub fn cq(segments: &[Value]) -> String {
    let mut s = String::new();
    for segment in segments {
        let ty = segment.get("type").and_then(Value::as_str).unwrap_or_default();
        let data = segment.get("data").and_then(Value::as_object);
        if ty == "text" {
            let text = data.and_then(|d| d.get("text")).and_then(Value::as_str);
            s.push_str(&escape(text.unwrap_or_default(), false));
            continue;
        }
        s.push_str("[CQ:");
        s.push_str(ty);
        for (k, v) in data.into_iter().flatten() {
            let v = match v {
                Value::String(t) => t.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            s.push(',');
            s.push_str(k);
            s.push('=');
            s.push_str(&escape(&v, true));
        }
        s.push(']');
    }
    s
}

/// The segments of an action's `message`: an array, one segment, or a CQ string (plain
/// text when `auto_escape`).
#[must_use]
pub fn parse_message(message: &Value, auto_escape: bool) -> Vec<Value> {
    match message {
        Value::Array(items) => items.iter().filter(|s| s.is_object()).cloned().collect(),
        Value::Object(_) => vec![message.clone()],
        Value::String(text) if auto_escape => vec![seg("text", json!({ "text": text }))],
        Value::String(text) => parse_cq(text),
        _ => Vec::new(),
    }
}

/// The MAH chain for segments sent by a client, and the quoted OneBot id of a leading
/// `reply`.
#[must_use]
pub fn segments_to_chain(segments: &[Value]) -> (Vec<Value>, Option<i64>) {
    let mut quote = None;
    let mut chain = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        let ty = s.get("type").and_then(Value::as_str).unwrap_or_default();
        let empty = Map::new();
        let d = s.get("data").and_then(Value::as_object).unwrap_or(&empty);
        let text = |k: &str| d.get(k).map(loose_str).unwrap_or_default();
        let int = |k: &str| d.get(k).and_then(loose_i64);
        let element = match ty {
            "reply" => {
                if i == 0 || quote.is_none() {
                    quote = int("id");
                }
                None
            }
            "text" => Some(json!({ "type": "Plain", "text": text("text") })),
            "at" if text("qq") == "all" => Some(json!({ "type": "AtAll", "target": 0 })),
            "at" => int("qq").map(|q| json!({ "type": "At", "target": q, "display": "" })),
            "face" => int("id").map(|id| json!({ "type": "Face", "faceId": id, "name": "" })),
            "image" => {
                let (file, url) = (text("file"), text("url"));
                let url = if url.is_empty() { file.clone() } else { url };
                Some(json!({ "type": "Image", "imageId": file, "url": url }))
            }
            "record" => {
                Some(json!({ "type": "Voice", "voiceId": text("file"), "url": text("url") }))
            }
            "video" => Some(json!({
                "type": "ShortVideo", "videoId": text("file"), "videoUrl": text("file"),
                "thumbnailUrl": text("thumb"),
            })),
            "json" => Some(json!({ "type": "Json", "json": text("data") })),
            "xml" => Some(json!({ "type": "Xml", "xml": text("data") })),
            "dice" => Some(json!({ "type": "Dice", "value": int("result").unwrap_or(1) })),
            "poke" => Some(json!({ "type": "Poke", "name": "ChuoYiChuo" })),
            "music" => Some(json!({
                "type": "MusicShare", "kind": "QQMusic", "title": text("title"), "summary": text("content"),
                "jumpUrl": text("url"), "pictureUrl": text("image"), "musicUrl": text("audio"),
                "brief": text("title"),
            })),
            _ => None,
        };
        chain.extend(element);
    }
    (chain, quote)
}

fn seg(ty: &str, data: Value) -> Value {
    json!({ "type": ty, "data": data })
}

/// One element as a segment, or `None` when OneBot has no segment for it.
fn element(e: &Value) -> Option<Value> {
    let s = |k: &str| e.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    let n = |k: &str| e.get(k).and_then(Value::as_i64);
    let media = || {
        s("url")
            .map(str::to_owned)
            .or_else(|| s("base64").map(|b| format!("base64://{b}")))
            .or_else(|| s("path").map(|p| format!("file:///{}", p.trim_start_matches('/'))))
    };
    Some(match e.get("type").and_then(Value::as_str)? {
        "Plain" => seg("text", json!({ "text": s("text").unwrap_or_default() })),
        "At" => seg("at", json!({ "qq": n("target")?.to_string() })),
        "AtAll" => seg("at", json!({ "qq": "all" })),
        "Face" => seg("face", json!({ "id": n("faceId").unwrap_or_default().to_string() })),
        "Image" | "FlashImage" => {
            let file = media().or_else(|| s("imageId").map(str::to_owned))?;
            seg("image", json!({ "file": file, "url": s("url").unwrap_or(&file) }))
        }
        "Voice" => {
            seg("record", json!({ "file": media().or_else(|| s("voiceId").map(str::to_owned))? }))
        }
        "ShortVideo" => {
            let file = s("videoUrl").or_else(|| s("videoId"))?;
            seg("video", json!({ "file": file }))
        }
        "Xml" => seg("xml", json!({ "data": s("xml").unwrap_or_default() })),
        "Json" => seg("json", json!({ "data": s("json").unwrap_or_default() })),
        "App" => seg("json", json!({ "data": s("content").unwrap_or_default() })),
        "Dice" => seg("dice", json!({ "result": n("value").unwrap_or(1).to_string() })),
        "Poke" => seg("poke", json!({ "type": "1", "id": "-1" })),
        "MarketFace" => seg(
            "mface",
            json!({ "emoji_id": n("id").unwrap_or_default().to_string(), "summary": s("name").unwrap_or_default() }),
        ),
        "File" => seg(
            "file",
            json!({ "file": s("name").unwrap_or_default(), "file_id": s("id").unwrap_or_default(), "file_size": n("size").unwrap_or_default().to_string() }),
        ),
        "MusicShare" => seg(
            "music",
            json!({
                "type": "custom", "url": s("jumpUrl").unwrap_or_default(), "audio": s("musicUrl").unwrap_or_default(),
                "title": s("title").unwrap_or_default(), "content": s("summary").unwrap_or_default(),
                "image": s("pictureUrl").unwrap_or_default(),
            }),
        ),
        _ => return None,
    })
}

fn escape(s: &str, param: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '[' => out.push_str("&#91;"),
            ']' => out.push_str("&#93;"),
            ',' if param => out.push_str("&#44;"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&#44;", ",").replace("&#91;", "[").replace("&#93;", "]").replace("&amp;", "&")
}

fn parse_cq(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = text;
    let push_text = |t: &str, out: &mut Vec<Value>| {
        if !t.is_empty() {
            out.push(seg("text", json!({ "text": unescape(t) })));
        }
    };
    while let Some(start) = rest.find("[CQ:") {
        let Some(len) = rest[start..].find(']') else {
            break;
        };
        push_text(&rest[..start], &mut out);
        let inner = &rest[start + 4..start + len];
        let mut parts = inner.split(',');
        let ty = parts.next().unwrap_or_default().trim().to_owned();
        let mut data = Map::new();
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                data.insert(k.to_owned(), Value::String(unescape(v)));
            }
        }
        out.push(json!({ "type": ty, "data": data }));
        rest = &rest[start + len + 1..];
    }
    push_text(rest, &mut out);
    out
}

/// A segment value as text: strings as they are, numbers written out.
fn loose_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A segment value as an integer: a number or a numeric string.
#[must_use]
pub fn loose_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cq_round_trip() {
        let segs = vec![
            seg("text", json!({ "text": "a[b]&c," })),
            seg("at", json!({ "qq": "1" })),
            seg("image", json!({ "file": "x,y" })),
        ];
        let s = cq(&segs);
        assert_eq!(s, "a&#91;b&#93;&amp;c,[CQ:at,qq=1][CQ:image,file=x&#44;y]");
        assert_eq!(parse_message(&json!(s), false), segs);
    }

    #[test]
    fn reply_becomes_the_quote() {
        let (chain, quote) = segments_to_chain(&[
            seg("reply", json!({ "id": "7" })),
            seg("text", json!({ "text": "hi" })),
        ]);
        assert_eq!(quote, Some(7));
        assert_eq!(chain, vec![json!({ "type": "Plain", "text": "hi" })]);
    }
}
