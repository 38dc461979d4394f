//! Multipart uploads over HTTP, shared by both adapters.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use super::{CallError, Upload};
use crate::protocol::commands;

/// The path an upload command is served at.
fn path_of(command: &str) -> String {
    commands::find(command, None)
        .map_or_else(|| format!("/{}", command.replace('_', "/")), |c| c.path.to_owned())
}

/// A response body as JSON; a bare non-JSON body (1.x `uploadImage`) as a string.
pub fn parse_body(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.trim().to_owned()))
}

/// POST `upload` as `multipart/form-data` to `base` with the session key.
pub async fn send(
    client: &reqwest::Client,
    base: &str,
    session: &str,
    form_only: bool,
    upload: Upload,
    timeout: Duration,
) -> Result<Value, CallError> {
    let command = upload.command;
    let fail = |reason: String| CallError::Transport { command: command.clone(), reason };
    let mut form = Form::new().text("sessionKey", session.to_owned());
    for (k, v) in upload.fields {
        form = form.text(k, v);
    }
    for f in upload.files {
        form = form.part(f.field, Part::bytes(f.bytes).file_name(f.name));
    }
    let mut req =
        client.post(format!("{base}{}", path_of(&command))).multipart(form).timeout(timeout);
    if !form_only {
        req = req.header("sessionKey", session);
    }
    let resp = req.send().await.map_err(|e| fail(e.to_string()))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| fail(e.to_string()))?;
    if !status.is_success() {
        return Err(fail(format!("the server answered HTTP {status}")));
    }
    Ok(parse_body(&text))
}
