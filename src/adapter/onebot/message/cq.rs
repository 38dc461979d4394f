//! CQ codes: a CQ-code string parsed into segments, and segments written as one.

use std::borrow::Cow;

use serde_json::{json, Map, Value};

use super::values::{data, kind, segment, text_of};

/// A message as a list of segments `{"type": …, "data": {…}}`, from either form OneBot sends:
/// a segment array (returned as is) or a CQ-code string (parsed). Anything else gives [].
#[must_use]
pub fn segments(message: &Value) -> Vec<Value> {
    segments_of(message).into_owned()
}

/// [`segments`], borrowing a segment array instead of copying it.
#[must_use]
pub fn segments_of(message: &Value) -> Cow<'_, [Value]> {
    match message {
        Value::Array(items) => Cow::Borrowed(items),
        Value::String(text) => Cow::Owned(parse_cq(text)),
        _ => Cow::Owned(Vec::new()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::onebot::message::testing::{contacts, GROUP};
    use crate::adapter::onebot::message::to_chain;

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
}
