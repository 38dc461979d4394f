//! An in-process client of the simulator: commands without a socket, events from a queue.
//! `mahua test` uses it, so that a test's whole world runs on one thread in virtual time.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::content::{self, Style};
use super::error::Fail;
use super::handlers::{self, FilePart, Form};
use super::{Inner, Sim};
use crate::protocol::commands;

/// A session bound to the simulator's bot, reached by function calls.
#[derive(Clone)]
pub struct LocalClient {
    inner: Arc<Inner>,
    session: String,
}

impl Sim {
    /// A receiver that wakes whenever something changes in the simulator.
    #[must_use]
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }

    /// A new bound session for an in-process client; events queue for it from now on.
    #[must_use]
    pub fn local_client(&self) -> LocalClient {
        let mut sessions = self.inner.sessions();
        let session = sessions.create_bound(self.inner.cfg.qq);
        if let Ok(s) = sessions.get(Some(&session)) {
            s.queue = Some(std::collections::VecDeque::new());
        }
        drop(sessions);
        self.inner.bump();
        LocalClient { inner: self.inner.clone(), session }
    }
}

impl LocalClient {
    /// Record a command that something else answered, so the log shows every call.
    pub fn record(&self, command: &str, sub: Option<&str>, content: &Map<String, Value>) {
        self.inner.record("local", command, sub, Value::Object(content.clone()));
    }

    /// Run `command` as the server would for a bound client, recorded like any other.
    #[must_use]
    pub fn call(&self, command: &str, sub: Option<&str>, content: &Map<String, Value>) -> Value {
        self.inner.record("local", command, sub, Value::Object(content.clone()));
        let Some(cmd) = commands::find(command, sub) else {
            return Fail::unsupported().body();
        };
        let run = || {
            content::check(cmd, content, Style::Json)?;
            Ok::<_, Fail>(self.inner.execute(cmd, content, &self.session))
        };
        run().unwrap_or_else(|f| f.body())
    }

    /// Run a multipart upload, as the server's http face would.
    #[must_use]
    pub fn upload(&self, upload: &crate::adapter::Upload) -> Value {
        let form = Form {
            text: upload.fields.iter().cloned().collect(),
            files: upload
                .files
                .iter()
                .map(|f| {
                    let part = FilePart { file_name: Some(f.name.clone()), size: f.bytes.len() };
                    (f.field.clone(), part)
                })
                .collect(),
        };
        self.inner.record("local", &upload.command, None, super::http::form_json(&form));
        let Some(cmd) = commands::find(&upload.command, None) else {
            return Fail::unsupported().body();
        };
        let result = handlers::upload(&mut self.inner.world(), cmd, &form);
        self.inner.bump();
        result.unwrap_or_else(|f| f.body())
    }

    /// The events pushed since the last call.
    #[must_use]
    pub fn take_events(&self) -> Vec<Value> {
        let mut sessions = self.inner.sessions();
        match sessions.get(Some(&self.session)) {
            Ok(s) => s.queue.as_mut().map(|q| q.drain(..).collect()).unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// A receiver that wakes whenever something changes in the simulator.
    #[must_use]
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }
}
