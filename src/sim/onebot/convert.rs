//! Message chains ↔ OneBot segments and CQ strings for the simulator's OneBot face, through
//! the connector's converter (`adapter::onebot::message`).
//!
//! The converter reads what servers send and writes what clients send; the face does the
//! opposite, so the few receive-side shapes the converter never writes (a dice's result, a
//! market face, a file, an image's url) are filled in here.

use serde_json::{json, Value};

use crate::adapter::onebot::cache::{as_i64, Contacts};
use crate::adapter::onebot::message::{from_chain, segments, to_chain, to_cq, Scene};

/// The segments for a chain (`Source`, `Quote` dropped), with `reply{id}` first when `quote`
/// is given; elements OneBot cannot carry are left out.
#[must_use]
pub fn chain_to_segments(chain: &[Value], quote: Option<i64>) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(q) = quote {
        out.push(seg("reply", json!({ "id": q.to_string() })));
    }
    for e in chain.iter().filter(|e| !matches!(e["type"].as_str(), Some("Source" | "Quote"))) {
        out.extend(received(e).map_or_else(
            || from_chain(std::slice::from_ref(e), None).unwrap_or_default(),
            |s| vec![s],
        ));
    }
    out
}

/// The CQ-code string of segments.
#[must_use]
pub fn cq(segments: &[Value]) -> String {
    to_cq(segments)
}

/// The segments of an action's `message`: an array, one segment, or a CQ string (plain
/// text when `auto_escape`).
#[must_use]
pub fn parse_message(message: &Value, auto_escape: bool) -> Vec<Value> {
    match message {
        Value::Object(_) => vec![message.clone()],
        Value::String(text) if auto_escape => vec![seg("text", json!({ "text": text }))],
        other => segments(other).into_iter().filter(Value::is_object).collect(),
    }
}

/// The MAH chain for segments sent by a client, and the quoted OneBot id of a `reply`.
#[must_use]
pub fn segments_to_chain(segments: &[Value]) -> (Vec<Value>, Option<i64>) {
    let scene = Scene { group: None, peer: 0 };
    let mut chain = to_chain(segments, scene, &Contacts::new(0));
    let quote = chain.iter().find(|e| e["type"] == "Quote").and_then(|q| q["id"].as_i64());
    chain.retain(|e| e["type"] != "Quote");
    (chain, quote)
}

fn seg(ty: &str, data: Value) -> Value {
    json!({ "type": ty, "data": data })
}

/// The segment a server sends for an element, where the converter has no send form for it
/// or sends less.
fn received(e: &Value) -> Option<Value> {
    let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default();
    let n = |k: &str| e.get(k).and_then(Value::as_i64).unwrap_or_default();
    Some(match e["type"].as_str()? {
        "Dice" => seg("dice", json!({ "result": n("value").to_string() })),
        "MarketFace" => seg(
            "image",
            json!({ "file": "marketface", "emoji_id": n("id").to_string(), "emoji_package_id": "", "summary": s("name") }),
        ),
        "File" => seg(
            "file",
            json!({ "file": s("name"), "file_id": s("id"), "file_size": n("size").to_string() }),
        ),
        "Image" | "FlashImage" if !s("url").is_empty() => {
            let file = if s("imageId").is_empty() { s("url") } else { s("imageId") };
            seg("image", json!({ "file": file, "url": s("url"), "sub_type": 0 }))
        }
        _ => return None,
    })
}

/// A segment value as an integer: a number or a numeric string.
#[must_use]
pub fn loose_i64(v: &Value) -> Option<i64> {
    as_i64(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_shapes_and_the_quote() {
        let segs = chain_to_segments(
            &[
                json!({ "type": "Source", "id": 1 }),
                json!({ "type": "Plain", "text": "a[" }),
                json!({ "type": "Dice", "value": 3 }),
            ],
            Some(9),
        );
        assert_eq!(cq(&segs), "[CQ:reply,id=9]a&#91;[CQ:dice,result=3]");
        let (chain, quote) = segments_to_chain(&parse_message(&json!("[CQ:reply,id=7]hi"), false));
        assert_eq!(quote, Some(7));
        assert_eq!(chain, vec![json!({ "type": "Plain", "text": "hi" })]);
        assert_eq!(parse_message(&json!("[x]"), true), vec![seg("text", json!({ "text": "[x]" }))]);
    }
}
