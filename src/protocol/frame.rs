//! WebSocket frames and response envelopes.

use serde_json::Value;

use super::commands::Reply;
use super::status::StatusCode;

/// The `syncId` the server uses for pushed events.
pub const PUSH_SYNC_ID: &str = "-1";

/// A frame the server sent over WebSocket.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// The answer to the call with this `syncId`.
    Reply {
        /// The caller's syncId, as a string.
        sync_id: String,
        /// The response body.
        data: Value,
    },
    /// A pushed event or message packet.
    Push(Value),
    /// A frame with no `syncId` wrapper (the server's answer to a bad frame).
    Bare(Value),
}

/// Why a frame from the server could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Not JSON.
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not an object.
    #[error("expected a JSON object, got {0}")]
    NotAnObject(&'static str),
    /// An object with `syncId` but no `data`.
    #[error("frame with syncId {0:?} has no `data`")]
    NoData(String),
    /// A pushed event that is not an object with a string `type`.
    #[error("pushed event is {0}, not an object with a string `type`")]
    NotAnEvent(&'static str),
}

/// A command frame, borrowed from its parts: written out without copying the content.
#[derive(serde::Serialize)]
struct Request<'a> {
    #[serde(rename = "syncId")]
    sync_id: &'a str,
    command: &'a str,
    #[serde(rename = "subCommand")]
    sub_command: Option<&'a str>,
    content: &'a Value,
}

/// The text of a command frame.
#[must_use]
pub fn request(sync_id: &str, command: &str, sub_command: Option<&str>, content: &Value) -> String {
    let frame = Request { sync_id, command, sub_command, content };
    // Serializing a `Value` with string keys cannot fail.
    serde_json::to_string(&frame).unwrap_or_default()
}

/// Parse one text frame from the server.
pub fn parse_incoming(text: &str) -> Result<Incoming, FrameError> {
    let v: Value = serde_json::from_str(text)?;
    let Value::Object(mut o) = v else {
        return Err(FrameError::NotAnObject(super::chain::kind_name(&v)));
    };
    let sync_id = match o.get("syncId") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Ok(Incoming::Bare(Value::Object(o))),
    };
    let data = o.remove("data").ok_or_else(|| FrameError::NoData(sync_id.clone()))?;
    if sync_id == PUSH_SYNC_ID {
        check_event(&data)?;
        Ok(Incoming::Push(data))
    } else {
        Ok(Incoming::Reply { sync_id, data })
    }
}

/// Check that a pushed value is an event: an object with a string `type` (any type).
pub fn check_event(data: &Value) -> Result<(), FrameError> {
    match data {
        Value::Object(o) if o.get("type").is_some_and(Value::is_string) => Ok(()),
        Value::Object(o) if o.contains_key("type") => {
            Err(FrameError::NotAnEvent("an object whose `type` is not a string"))
        }
        Value::Object(_) => Err(FrameError::NotAnEvent("an object without `type`")),
        other => Err(FrameError::NotAnEvent(super::chain::kind_name(other))),
    }
}

/// At most `max` bytes of a frame for a log line, cut at a character boundary.
#[must_use]
pub fn excerpt(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len()).into()
}

/// A non-zero status code in a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("code {code}, {msg}")]
pub struct Failure {
    /// The status code.
    pub code: i64,
    /// The server's message.
    pub msg: String,
}

impl Failure {
    /// The status code as the enum.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        StatusCode::from_code(self.code)
    }
}

/// The status in a response body, if it carries one that is not success.
#[must_use]
pub fn failure(body: &Value) -> Option<Failure> {
    let code = body.get("code")?.as_i64()?;
    if code == 0 {
        return None;
    }
    let msg = body.get("msg").and_then(Value::as_str).unwrap_or_default();
    Some(Failure { code, msg: msg.to_owned() })
}

/// What a response gives back, by the command's reply kind; `None` guesses.
pub fn outcome(reply: Option<Reply>, mut body: Value) -> Result<Value, Failure> {
    if let Some(f) = failure(&body) {
        return Err(f);
    }
    let take =
        |body: &mut Value, key: &str| body.get_mut(key).map(Value::take).unwrap_or(Value::Null);
    Ok(match reply {
        Some(Reply::Status) => Value::Null,
        Some(Reply::Data) => take(&mut body, "data"),
        Some(Reply::MessageId) => take(&mut body, "messageId"),
        Some(Reply::Session) => take(&mut body, "session"),
        Some(Reply::Bare) => body,
        None => {
            for key in ["data", "messageId", "session"] {
                if body.get(key).is_some() {
                    return Ok(take(&mut body, key));
                }
            }
            match &body {
                Value::Object(o) if o.keys().all(|k| k == "code" || k == "msg") => Value::Null,
                _ => body,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn frames_are_told_apart() {
        assert_eq!(
            parse_incoming(r#"{"syncId":"-1","data":{"type":"X"}}"#).unwrap(),
            Incoming::Push(json!({"type": "X"}))
        );
        assert_eq!(
            parse_incoming(r#"{"syncId":7,"data":1}"#).unwrap(),
            Incoming::Reply { sync_id: "7".into(), data: json!(1) }
        );
        assert!(matches!(parse_incoming(r#"{"code":400,"msg":"x"}"#).unwrap(), Incoming::Bare(_)));
        assert!(parse_incoming("[").is_err());
        assert!(matches!(
            parse_incoming(r#"{"syncId":"-1","data":{"type":5}}"#),
            Err(FrameError::NotAnEvent(_))
        ));
        assert!(matches!(
            parse_incoming(r#"{"syncId":"-1","data":[]}"#),
            Err(FrameError::NotAnEvent("list"))
        ));
        assert_eq!(excerpt("héllo", 2), "h… (6 bytes)");
    }

    #[test]
    fn outcomes_follow_the_reply_kind() {
        let sent = json!({"code": 0, "msg": "success", "messageId": 5});
        assert_eq!(outcome(Some(Reply::MessageId), sent.clone()).unwrap(), json!(5));
        assert_eq!(outcome(None, sent).unwrap(), json!(5));
        let err = outcome(Some(Reply::Bare), json!({"code": 5, "msg": "x"})).unwrap_err();
        assert_eq!(err.status(), StatusCode::TargetNotFound);
        assert_eq!(outcome(None, json!({"code": 0, "msg": "success"})).unwrap(), Value::Null);
    }
}
