//! Raw WebSocket and HTTP clients for the simulator tests (no mahua client code).

#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mahua::sim::{Sim, SimConfig};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single expected frame or condition may take.
pub const WAIT: Duration = Duration::from_secs(5);

/// The verify key of the default config.
pub const KEY: &str = "INITKEYmahua";

/// The bot of the default config.
pub const BOT: i64 = 10000;

/// A simulator with the default config.
pub async fn sim() -> Sim {
    Sim::start(SimConfig::default()).await.expect("start sim")
}

/// A raw WebSocket client.
pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What came from a socket.
#[derive(Debug, PartialEq)]
pub enum Got {
    /// A text frame, parsed.
    Frame(Value),
    /// A close frame with its code, or the end of the stream (`None`).
    Closed(Option<u16>),
}

impl Ws {
    /// Connect to `path` with a query string (e.g. `verifyKey=…&qq=…`) and extra headers.
    pub async fn open(sim: &Sim, path: &str, query: &str, headers: &[(&str, &str)]) -> Ws {
        let url = format!("{}{path}?{query}", sim.ws_url());
        let mut req = url.into_client_request().expect("request");
        for (k, v) in headers {
            req.headers_mut().insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                v.parse().expect("header value"),
            );
        }
        let (stream, _) = tokio_tungstenite::connect_async(req).await.expect("connect");
        Ws { stream }
    }

    /// Connect with the default key and bot; returns the socket and its session key.
    pub async fn bound(sim: &Sim, path: &str) -> (Ws, String) {
        let mut ws = Ws::open(sim, path, &format!("verifyKey={KEY}&qq={BOT}"), &[]).await;
        let hello = ws.frame().await;
        assert_eq!(hello["data"]["code"], 0, "{hello}");
        let key = hello["data"]["session"].as_str().expect("session").to_owned();
        (ws, key)
    }

    /// Attach to an existing session.
    pub async fn attach(sim: &Sim, path: &str, session: &str) -> Ws {
        let mut ws =
            Ws::open(sim, path, &format!("verifyKey={KEY}&sessionKey={session}"), &[]).await;
        let hello = ws.frame().await;
        assert_eq!(hello["data"], json!({"code": 0, "session": session}));
        ws
    }

    /// Send a raw text frame.
    pub async fn send_text(&mut self, text: &str) {
        self.stream.send(Message::text(text)).await.expect("send");
    }

    /// Send a JSON frame.
    pub async fn send(&mut self, v: &Value) {
        self.send_text(&v.to_string()).await;
    }

    /// The next text frame or close, within [`WAIT`].
    pub async fn next(&mut self) -> Got {
        next_frame(&mut self.stream).await
    }

    /// The next text frame; fails on close.
    pub async fn frame(&mut self) -> Value {
        match self.next().await {
            Got::Frame(v) => v,
            Got::Closed(c) => panic!("socket closed ({c:?}) while waiting for a frame"),
        }
    }

    /// Expect the socket to close next; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        match self.next().await {
            Got::Closed(c) => c,
            Got::Frame(v) => panic!("expected close, got {v}"),
        }
    }

    /// Send a command and return the `data` of its reply (pushes before it are skipped).
    pub async fn call(&mut self, command: &str, sub: Option<&str>, content: Value) -> Value {
        let sync = format!("s{}", fastrand::u32(..));
        let mut frame = json!({"syncId": sync, "command": command, "subCommand": sub});
        if !content.is_null() {
            frame["content"] = content;
        }
        self.send(&frame).await;
        loop {
            let v = self.frame().await;
            if v["syncId"] == sync.as_str() {
                return v["data"].clone();
            }
            assert_eq!(v["syncId"], "-1", "unexpected frame {v}");
        }
    }

    /// Close from the client side.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

/// A raw HTTP client with a bound session.
pub struct Http {
    pub client: reqwest::Client,
    pub base: String,
    pub key: String,
}

/// A fresh HTTP client without a session.
pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

impl Http {
    /// `/verify` + `/bind` with the default key and bot.
    pub async fn bound(sim: &Sim) -> Http {
        let client = client();
        let base = sim.http_url();
        let v: Value = client
            .post(format!("{base}/verify"))
            .json(&json!({"verifyKey": KEY}))
            .send()
            .await
            .expect("verify")
            .json()
            .await
            .expect("json");
        let key = v["session"].as_str().expect("session").to_owned();
        let http = Http { client, base, key };
        let b = http.post_raw("/bind", &json!({"sessionKey": http.key, "qq": BOT})).await;
        assert_eq!(b, json!({"code": 0, "msg": "success"}));
        http
    }

    /// GET with query pairs and the session key in the query.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Value {
        let mut q: Vec<(&str, String)> = query.to_vec();
        q.push(("sessionKey", self.key.clone()));
        self.get_raw(path, &q).await
    }

    /// GET with exactly these query pairs.
    pub async fn get_raw(&self, path: &str, query: &[(&str, String)]) -> Value {
        let resp =
            self.client.get(format!("{}{path}", self.base)).query(query).send().await.expect("get");
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.expect("json")
    }

    /// POST a JSON body with the session key added.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let mut body = body;
        body["sessionKey"] = json!(self.key);
        self.post_raw(path, &body).await
    }

    /// POST exactly this JSON body.
    pub async fn post_raw(&self, path: &str, body: &Value) -> Value {
        let resp =
            self.client.post(format!("{}{path}", self.base)).json(body).send().await.expect("post");
        assert_eq!(resp.status(), 200, "POST {path}");
        resp.json().await.expect("json")
    }

    /// POST a multipart form.
    pub async fn multipart(&self, path: &str, form: reqwest::multipart::Form) -> Value {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header("sessionKey", &self.key)
            .multipart(form)
            .send()
            .await
            .expect("multipart");
        assert_eq!(resp.status(), 200, "POST {path}");
        resp.json().await.expect("json")
    }
}

/// Every wire event fixture: (file stem, event).
pub fn event_fixtures() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wire/events");
    let mut all: Vec<(String, Value)> = std::fs::read_dir(dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let name = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).expect("read"))
                .expect("fixture JSON");
            (name, v)
        })
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

/// The rows of `commands.json`.
pub fn command_rows() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/commands.json");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON");
    v.as_array().expect("rows").clone()
}

/// State code 0.
pub fn success() -> Value {
    json!({"code": 0, "msg": "success"})
}

/// The `{code, msg}` with this code, for asserting on the code only.
pub fn code(v: &Value) -> i64 {
    v["code"].as_i64().unwrap_or_else(|| panic!("no code in {v}"))
}

/// The next text frame or close of any WebSocket, within [`WAIT`].
pub async fn next_frame<S>(stream: &mut WebSocketStream<S>) -> Got
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        let msg = tokio::time::timeout(WAIT, stream.next()).await.expect("no frame in time");
        match msg {
            Some(Ok(Message::Text(t))) => {
                return Got::Frame(serde_json::from_str(t.as_str()).expect("frame is JSON"));
            }
            Some(Ok(Message::Close(c))) => return Got::Closed(c.map(|c| u16::from(c.code))),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Got::Closed(None),
        }
    }
}
