//! `mahua status`: read `/status` of a running bot and print it as a table.

use std::fmt::Write as _;

use crate::config::Secret;
use crate::metrics::Snapshot;

/// Why the status could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// Nothing answered.
    #[error("cannot reach the admin endpoint at {url}: {reason} (is the bot running with `listen` in [admin]?)")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The endpoint refused or failed.
    #[error("the admin endpoint at {url} answered {status}: {body}")]
    Refused {
        /// The URL tried.
        url: String,
        /// The HTTP status.
        status: u16,
        /// What it said.
        body: String,
    },
    /// The answer is not a status.
    #[error("the admin endpoint at {url} sent something that is not a status: {reason}")]
    Unreadable {
        /// The URL tried.
        url: String,
        /// The parse error.
        reason: String,
    },
}

/// The `/status` URL for a configured `listen` address or a given URL.
#[must_use]
pub fn status_url(base: &str) -> String {
    let base = base.trim().trim_end_matches('/');
    let base = if base.contains("://") { base.to_owned() } else { format!("http://{base}") };
    if base.ends_with("/status") {
        base
    } else {
        format!("{base}/status")
    }
}

/// Fetch the status.
pub async fn fetch(url: &str, token: Option<&Secret>) -> Result<Snapshot, StatusError> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| StatusError::Unreachable { url: url.to_owned(), reason: e.to_string() })?;
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t.expose());
    }
    let resp = req
        .send()
        .await
        .map_err(|e| StatusError::Unreachable { url: url.to_owned(), reason: e.to_string() })?;
    let status = resp.status();
    let body = resp
        .text()
        .await
        .map_err(|e| StatusError::Unreachable { url: url.to_owned(), reason: e.to_string() })?;
    if !status.is_success() {
        return Err(StatusError::Refused {
            url: url.to_owned(),
            status: status.as_u16(),
            body: body.trim().to_owned(),
        });
    }
    serde_json::from_str(&body)
        .map_err(|e| StatusError::Unreadable { url: url.to_owned(), reason: e.to_string() })
}

/// The status as a table for the terminal.
#[must_use]
pub fn table(s: &Snapshot) -> String {
    let c = &s.connection;
    let mut out = String::new();
    let state = format!("{:?}", c.state).to_lowercase();
    let _ = writeln!(out, "uptime      {}", duration(s.uptime_s));
    if let Some(server) = &c.server {
        let _ = writeln!(out, "server      {server}");
    }
    let _ = writeln!(
        out,
        "connection  {state}, {} reconnect(s), {} in, {} out{}",
        c.reconnects,
        c.frames_in,
        c.frames_out,
        c.last_disconnect.as_ref().map_or_else(String::new, |r| format!(", last drop: {r}"))
    );
    let _ = writeln!(
        out,
        "send queue  {} sent, {} waiting, wait mean {:.1} ms, max {:.1} ms, {} retried, {} refused",
        c.sends,
        c.send_queued,
        c.send_wait_ms_mean,
        c.send_wait_ms_max,
        c.send_retries,
        c.send_refused
    );
    let _ = writeln!(out);
    let header = [
        "script", "events", "dropped", "errors", "calls", "cb mean", "cb max", "queued", "sends",
        "reloads",
    ];
    let mut rows: Vec<[String; 10]> = vec![header.map(str::to_owned)];
    for sc in &s.scripts {
        rows.push([
            sc.name.clone(),
            sc.events.to_string(),
            sc.dropped_events.to_string(),
            (sc.errors + sc.load_errors).to_string(),
            sc.calls.values().sum::<u64>().to_string(),
            format!("{:.1} ms", sc.callback_ms_mean),
            format!("{:.1} ms", sc.callback_ms_max),
            sc.queued_events.to_string(),
            sc.queued_sends.to_string(),
            sc.reloads.to_string(),
        ]);
    }
    let widths: Vec<usize> =
        (0..10).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    for r in &rows {
        let mut line = format!("{:<w$}", r[0], w = widths[0]);
        for (cell, w) in r.iter().zip(&widths).skip(1) {
            let _ = write!(line, "  {cell:>w$}");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    for sc in s.scripts.iter().filter(|sc| sc.errors + sc.load_errors > 0) {
        if let Some(e) = &sc.last_error {
            let _ =
                writeln!(out, "\n{} last error: {}", sc.name, e.lines().next().unwrap_or_default());
        }
    }
    let busiest: Vec<String> = s
        .scripts
        .iter()
        .filter(|sc| !sc.calls.is_empty())
        .map(|sc| {
            let calls: Vec<String> = sc.calls.iter().map(|(k, v)| format!("{k} {v}")).collect();
            format!("{}: {}", sc.name, calls.join(", "))
        })
        .collect();
    if !busiest.is_empty() {
        let _ = writeln!(out, "\ncalls by command\n  {}", busiest.join("\n  "));
    }
    out
}

fn duration(s: f64) -> String {
    // Whole seconds are plenty for an uptime.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = s.max(0.0) as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_completed() {
        assert_eq!(status_url("127.0.0.1:9180"), "http://127.0.0.1:9180/status");
        assert_eq!(status_url("http://h:1/"), "http://h:1/status");
        assert_eq!(status_url("https://h/status"), "https://h/status");
    }
}
