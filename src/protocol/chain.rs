//! Message chains: what a caller may pass where the server wants `[element]`.

use serde_json::{json, Map, Value};

/// Why a value could not be made a message chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// The value is not a string, an element or a list.
    #[error("expected a string, a message element or a list of them, got {0}")]
    NotAChain(&'static str),
    /// An item of a list is neither a string nor an element.
    #[error("item {index} is a {found}, expected a string or a message element with a `type`")]
    BadItem {
        /// 1-based position in the list.
        index: usize,
        /// What was found there.
        found: &'static str,
    },
}

/// A `Plain` element.
#[must_use]
pub fn plain(text: &str) -> Value {
    json!({ "type": "Plain", "text": text })
}

/// The name of a JSON value's kind, for errors.
#[must_use]
pub fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nil",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(o) if o.contains_key("type") => "element",
        Value::Object(_) => "table",
    }
}

fn is_element(o: &Map<String, Value>) -> bool {
    o.get("type").is_some_and(Value::is_string)
}

/// A chain from a string, one element, or a list mixing elements and strings.
pub fn normalize(v: Value) -> Result<Value, ChainError> {
    match v {
        Value::String(s) => Ok(Value::Array(vec![plain(&s)])),
        Value::Object(o) if is_element(&o) => Ok(Value::Array(vec![Value::Object(o)])),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(plain(&s)),
                Value::Object(o) if is_element(&o) => Ok(Value::Object(o)),
                other => Err(ChainError::BadItem {
                    index: i + 1,
                    found: kind_name(&other),
                }),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        // An empty Lua table arrives as an empty object.
        Value::Object(o) if o.is_empty() => Ok(Value::Array(Vec::new())),
        other => Err(ChainError::NotAChain(kind_name(&other))),
    }
}

/// The text of all `Plain` elements of a chain, joined.
#[must_use]
pub fn text(chain: &Value) -> String {
    chain
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e.get("type").and_then(Value::as_str) == Some("Plain"))
        .filter_map(|e| e.get("text").and_then(Value::as_str))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_elements_and_lists_become_chains() {
        assert_eq!(
            normalize(json!("hi")).unwrap(),
            json!([{"type": "Plain", "text": "hi"}])
        );
        assert_eq!(
            normalize(json!({"type": "AtAll"})).unwrap(),
            json!([{"type": "AtAll"}])
        );
        assert_eq!(
            normalize(json!([{"type": "At", "target": 1}, " hi"])).unwrap(),
            json!([{"type": "At", "target": 1}, {"type": "Plain", "text": " hi"}])
        );
        assert_eq!(
            normalize(json!([1])),
            Err(ChainError::BadItem {
                index: 1,
                found: "number"
            })
        );
        assert_eq!(
            normalize(json!(true)),
            Err(ChainError::NotAChain("boolean"))
        );
    }
}
