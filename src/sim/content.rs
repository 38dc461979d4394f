//! Checking a command's content against the command table, and decoding GET queries into content.

use serde_json::{Map, Value};

use super::error::Fail;
use crate::protocol::commands::{Command, Need, ValueType};
use crate::protocol::StatusCode;

/// A command's content: the keys of a ws `content`, an http JSON body or a decoded query.
pub type Content = Map<String, Value>;

/// The message element types the server knows; any other `type` fails to decode.
pub const ELEMENT_TYPES: &[&str] = &[
    "Source",
    "Quote",
    "At",
    "AtAll",
    "Face",
    "Plain",
    "Image",
    "FlashImage",
    "Voice",
    "Xml",
    "Json",
    "App",
    "Poke",
    "Dice",
    "MarketFace",
    "MusicShare",
    "Forward",
    "File",
    "ShortVideo",
    "MiraiCode",
];

/// How a content problem is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// ws: every problem is `{"code":400,"msg":"无效参数"}`.
    Ws,
    /// http JSON body: missing keys are named, `参数错误，缺少字段: a, b`.
    Json,
}

/// Check every key the command declares: presence, nullability and type.
pub fn check(cmd: &Command, content: &Content, style: Style) -> Result<(), Fail> {
    let mut missing = Vec::new();
    let mut bad = false;
    for p in cmd.params {
        match (content.get(p.key), p.need) {
            (None, Need::Required | Need::Nullable) => missing.push(p.key),
            (None | Some(Value::Null), _) => {}
            (Some(v), _) => bad |= !accepts(p.ty, v),
        }
        if p.need == Need::Required && content.get(p.key).is_some_and(Value::is_null) {
            bad = true;
        }
    }
    match style {
        Style::Json if !missing.is_empty() => Err(Fail::Text(
            StatusCode::InvalidArgument,
            format!("参数错误，缺少字段: {}", missing.join(", ")),
        )),
        _ if bad || !missing.is_empty() => Err(Fail::invalid()),
        _ => Ok(()),
    }
}

fn accepts(ty: ValueType, v: &Value) -> bool {
    if !ty.accepts(v) {
        return false;
    }
    match (ty, v) {
        (ValueType::Chain, Value::Array(items)) => items
            .iter()
            .all(|e| e.get("type").and_then(Value::as_str).is_some_and(|t| element_ok(t, e))),
        _ => true,
    }
}

/// Whether an element of a known type has the fields it cannot do without.
fn element_ok(ty: &str, e: &Value) -> bool {
    let has = |k: &str, ok: fn(&Value) -> bool| e.get(k).is_some_and(ok);
    ELEMENT_TYPES.contains(&ty)
        && match ty {
            "Plain" => has("text", Value::is_string),
            "At" => has("target", |v| v.as_i64().is_some()),
            "Dice" => has("value", |v| v.as_i64().is_some()),
            "Xml" => has("xml", Value::is_string),
            "Json" => has("json", Value::is_string),
            "App" => has("content", Value::is_string),
            "MiraiCode" => has("code", Value::is_string),
            "Forward" => has("nodeList", Value::is_array),
            _ => true,
        }
}

/// Decode GET query pairs into content by the command's declared types.
///
/// Returns the content and the `sessionKey` query parameter, if any. A missing
/// required parameter or an undeclared one fails with code 500, like the real
/// server's query decoder; a number that does not parse fails with code 400.
pub fn decode_query(
    cmd: &Command,
    pairs: &[(String, String)],
) -> Result<(Content, Option<String>), Fail> {
    let mut content = Content::new();
    let mut session = None;
    for (key, raw) in pairs {
        if key == "sessionKey" {
            session = Some(raw.clone());
            continue;
        }
        let Some(p) = cmd.param(key) else {
            return Err(Fail::Text(
                StatusCode::ServerError,
                format!("Unexpected query parameter '{key}' for {}", cmd.label()),
            ));
        };
        let value = match p.ty {
            ValueType::Long => Value::from(raw.trim().parse::<i64>().map_err(|_| Fail::invalid())?),
            ValueType::Int => Value::from(raw.trim().parse::<i32>().map_err(|_| Fail::invalid())?),
            ValueType::Bool => Value::Bool(raw.eq_ignore_ascii_case("true")),
            ValueType::String => Value::String(raw.clone()),
            ValueType::LongList => {
                let n = raw.trim().parse::<i64>().map_err(|_| Fail::invalid())?;
                let entry = content.entry(key.clone()).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(a) = entry {
                    a.push(Value::from(n));
                }
                continue;
            }
            ValueType::StringList => {
                let entry = content.entry(key.clone()).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(a) = entry {
                    a.push(Value::String(raw.clone()));
                }
                continue;
            }
            ValueType::Object | ValueType::Chain | ValueType::File => return Err(Fail::invalid()),
        };
        content.insert(key.clone(), value);
    }
    for p in cmd.params {
        if content.contains_key(p.key) {
            continue;
        }
        match p.need {
            Need::Required => {
                return Err(Fail::Text(
                    StatusCode::ServerError,
                    format!(
                        "Field '{}' is required for {}, but it was missing",
                        p.key,
                        cmd.label()
                    ),
                ))
            }
            // A query cannot carry null: an absent nullable key is null.
            Need::Nullable => {
                content.insert(p.key.to_owned(), Value::Null);
            }
            Need::Optional => {}
        }
    }
    Ok((content, session))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::commands::find;
    use serde_json::json;

    fn obj(v: Value) -> Content {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn missing_and_mistyped_keys() {
        let cmd = find("mute", None).unwrap();
        assert!(check(cmd, &obj(json!({"target": 1})), Style::Ws).is_ok());
        assert_eq!(check(cmd, &obj(json!({})), Style::Ws), Err(Fail::invalid()));
        assert_eq!(
            check(cmd, &obj(json!({"memberId": 2})), Style::Json).unwrap_err().body(),
            json!({"code": 400, "msg": "参数错误，缺少字段: target"})
        );
        assert_eq!(check(cmd, &obj(json!({"target": "1"})), Style::Json), Err(Fail::invalid()));
        assert_eq!(
            check(cmd, &obj(json!({"target": 1, "time": 1e3})), Style::Ws),
            Err(Fail::invalid())
        );
        assert_eq!(check(cmd, &obj(json!({"target": null})), Style::Json), Err(Fail::invalid()));
    }

    #[test]
    fn queries_decode_by_type() {
        let cmd = find("latestMemberList", None).unwrap();
        let pairs: Vec<(String, String)> =
            [("target", "5"), ("memberIds", "1"), ("memberIds", "2"), ("sessionKey", "k")]
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect();
        let (c, s) = decode_query(cmd, &pairs).unwrap();
        assert_eq!(Value::Object(c), json!({"target": 5, "memberIds": [1, 2]}));
        assert_eq!(s.as_deref(), Some("k"));
        let (c, _) = decode_query(cmd, &pairs[..1]).unwrap();
        assert_eq!(Value::Object(c), json!({"target": 5, "memberIds": null}));
        assert_eq!(decode_query(cmd, &[]).unwrap_err().code(), StatusCode::ServerError);
    }
}
