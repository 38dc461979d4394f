//! Reading loosely typed values (segment data, text, integers) and making segments.

use serde_json::Value;

use crate::adapter::onebot::cache::as_i64;

/// A key of a segment's `data`.
pub(super) fn data<'a>(segment: &'a Value, key: &str) -> Option<&'a Value> {
    segment.get("data")?.get(key)
}

/// A value as text: a string as it is, any other non-null value as its JSON text.
pub(super) fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A value as text, when it is not empty.
pub(super) fn nonempty(v: Option<&Value>) -> Option<String> {
    text_of(v).filter(|s| !s.is_empty())
}

/// A value as an integer, from a number or a numeric string.
pub(super) fn int(v: Option<&Value>) -> Option<i64> {
    v.and_then(as_i64)
}

/// Text or JSON null.
pub(super) fn or_null(s: Option<String>) -> Value {
    s.map_or(Value::Null, Value::String)
}

/// The `type` of a segment or element; `""` when it has none.
pub(super) fn kind(v: &Value) -> &str {
    v.get("type").and_then(Value::as_str).unwrap_or_default()
}

/// A segment `{"type": kind, "data": data}`.
pub(super) fn segment(kind: &str, data: Value) -> Value {
    object! { "type": kind, "data": data }
}
