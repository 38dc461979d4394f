//! A link to the simulator in the same process: calls are function calls and events come
//! from the simulator's queue, so a whole bot runs on one thread, in virtual time under
//! `mahua test`. A test can set the server's answer to any command.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{json, Map, Value};
use tokio::sync::{mpsc, oneshot};

use super::{Adapter, BoxFuture, Call, CallError, LinkEvent, Upload};
use crate::protocol::Event;
use crate::sim::local::LocalClient;
use crate::sim::Sim;

/// A question to whoever answers a command instead of the simulator: the call's content,
/// and where the response body goes.
pub type Question = (Value, oneshot::Sender<Value>);

/// How the server answers a command, in place of the simulator.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Success with this value: the response's `data`, and its fields when it is an object
    /// (so `{messageId = 7}` answers a send).
    Value(Value),
    /// A failure with this code and message.
    Fail(i64, String),
    /// Ask: the body comes back on the channel.
    Ask(mpsc::UnboundedSender<Question>),
}

/// The body of a success carrying `v`: its `data`, and its fields when it is an object.
#[must_use]
pub fn success(v: &Value) -> Value {
    let mut body = json!({"code": 0, "msg": "", "data": v});
    if let (Some(b), Value::Object(fields)) = (body.as_object_mut(), v) {
        for (k, v) in fields {
            b.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    body
}

impl Answer {
    /// The response body for a call with `content`.
    async fn body(&self, content: Value) -> Value {
        match self {
            Self::Value(v) => success(v),
            Self::Fail(code, msg) => json!({"code": code, "msg": msg}),
            Self::Ask(tx) => {
                let (reply, rx) = oneshot::channel();
                if tx.send((content, reply)).is_err() {
                    return json!({"code": 500, "msg": "the test that answers this command has ended"});
                }
                rx.await.unwrap_or_else(|_| json!({"code": 500, "msg": "no answer was given"}))
            }
        }
    }
}

/// Answers set by the test, by command name.
pub type Answers = Arc<Mutex<HashMap<String, Answer>>>;

/// The in-process link.
pub struct LocalAdapter {
    client: LocalClient,
    answers: Answers,
}

impl LocalAdapter {
    /// A link to `sim`, with its events; the answers a test sets go in `answers`.
    #[must_use]
    pub fn connect(sim: &Sim, answers: Answers) -> (Arc<Self>, mpsc::Receiver<LinkEvent>) {
        let client = sim.local_client();
        let (tx, rx) = mpsc::channel(1024);
        let pump = client.clone();
        tokio::spawn(async move {
            let mut changes = pump.changes();
            if tx.send(LinkEvent::Connected { gap: None }).await.is_err() {
                return;
            }
            loop {
                for ev in pump.take_events() {
                    if tx.send(LinkEvent::Event(Event(ev))).await.is_err() {
                        return;
                    }
                }
                if changes.changed().await.is_err() {
                    return;
                }
            }
        });
        (Arc::new(Self { client, answers }), rx)
    }

    fn answer(&self, command: &str) -> Option<Answer> {
        self.answers.lock().unwrap_or_else(PoisonError::into_inner).get(command).cloned()
    }
}

impl Adapter for LocalAdapter {
    fn call(&self, call: Call) -> BoxFuture<Result<Value, CallError>> {
        let client = self.client.clone();
        let answer = self.answer(&call.command);
        Box::pin(async move {
            let content = match &*call.content {
                Value::Object(m) => m.clone(),
                _ => Map::new(),
            };
            if let Some(a) = answer {
                client.record(&call.command, call.sub_command.as_deref(), &content);
                return Ok(a.body(Value::Object(content)).await);
            }
            Ok(client.call(&call.command, call.sub_command.as_deref(), &content))
        })
    }

    fn upload(&self, upload: Upload) -> BoxFuture<Result<Value, CallError>> {
        let client = self.client.clone();
        let answer = self.answer(&upload.command);
        Box::pin(async move {
            if let Some(a) = answer {
                let fields: Map<String, Value> = upload
                    .fields
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                client.record(&upload.command, None, &fields);
                return Ok(a.body(Value::Object(fields)).await);
            }
            Ok(client.upload(&upload))
        })
    }

    fn shutdown(&self) -> BoxFuture<()> {
        Box::pin(async {})
    }
}
