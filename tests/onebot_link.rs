//! The OneBot link on its own, against a scripted server: tokens, echo matching, timeouts,
//! lost heartbeats, reconnects, and the reverse listener.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mahua::adapter::onebot::{Mode, OneBotAdapter, OneBotOptions};
use mahua::adapter::{Adapter, Call, CallError, ConnectError, LinkEvent};
use mahua::config::Secret;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

const BOT: i64 = 10_001;
const WITHIN: Duration = Duration::from_secs(10);

/// One action the scripted server received, with the way to answer it.
struct Asked {
    action: String,
    params: Value,
    echo: Value,
    answer: mpsc::UnboundedSender<String>,
}

impl Asked {
    fn ok(&self, data: Value) {
        let frame = json!({"status": "ok", "retcode": 0, "data": data, "echo": self.echo});
        let _ = self.answer.send(frame.to_string());
    }
}

/// What the scripted server does with each connection.
#[derive(Clone)]
struct Script {
    /// The token it wants; `None` for none.
    token: Option<String>,
    /// Refuse a wrong token NapCat's way (a 1403 frame, then close) instead of with 401.
    refuse_in_band: bool,
    /// How its connections send heartbeats.
    beat: Beat,
}

/// A connection the scripted server holds: push frames into it.
struct Conn {
    push: mpsc::UnboundedSender<String>,
}

/// A OneBot server for tests: answers the start-up actions itself, hands the rest to the test.
struct Server {
    url: String,
    asked: mpsc::UnboundedReceiver<Asked>,
    conns: mpsc::UnboundedReceiver<Conn>,
    /// Current connections; closing the server's half of one ends it.
    refused: mpsc::UnboundedReceiver<()>,
}

fn startup_answer(action: &str) -> Option<Value> {
    Some(match action {
        "get_login_info" => json!({"user_id": BOT, "nickname": "bot"}),
        "get_version_info" => {
            json!({"app_name": "NapCat.Onebot", "app_version": "4.8.0", "protocol_version": "v11"})
        }
        "get_friend_list" => json!([{"user_id": 42, "nickname": "f", "remark": "r"}]),
        "get_group_list" => json!([]),
        _ => return None,
    })
}

/// How a connection of the scripted server sends heartbeats.
#[derive(Clone, Copy)]
enum Beat {
    /// None at all (the link is watched by pings).
    Never,
    /// One every interval.
    Every(Duration),
    /// One announcing the interval, then silence, as a hung server.
    OnceThenSilence(Duration),
}

fn heartbeat(every: Duration) -> String {
    let ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX);
    json!({"time": 1, "self_id": BOT, "post_type": "meta_event", "meta_event_type": "heartbeat", "status": {"online": true, "good": true}, "interval": ms}).to_string()
}

/// Serve one socket: lifecycle first, heartbeats, start-up actions answered, the rest asked.
async fn serve_conn<S>(
    ws: tokio_tungstenite::WebSocketStream<S>,
    beat: Beat,
    asked: mpsc::UnboundedSender<Asked>,
    conns: mpsc::UnboundedSender<Conn>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let _ = conns.send(Conn { push: tx.clone() });
    let lifecycle = json!({"time": 1, "self_id": BOT, "post_type": "meta_event", "meta_event_type": "lifecycle", "sub_type": "connect"});
    let _ = tx.send(lifecycle.to_string());
    match beat {
        Beat::Never => {}
        Beat::OnceThenSilence(every) => {
            let _ = tx.send(heartbeat(every));
        }
        Beat::Every(every) => {
            let tx = tx.clone();
            tokio::spawn(async move {
                while tx.send(heartbeat(every)).is_ok() {
                    tokio::time::sleep(every).await;
                }
            });
        }
    }
    let writer = tokio::spawn(async move {
        while let Some(text) = rx.recv().await {
            if text == "CLOSE" {
                let _ = sink.send(Message::Close(None)).await;
                return;
            }
            if sink.send(Message::text(text)).await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(msg)) = stream.next().await {
        let Message::Text(text) = msg else { continue };
        let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
        let action = frame["action"].as_str().unwrap_or_default().to_owned();
        let echo = frame["echo"].clone();
        if let Some(data) = startup_answer(&action) {
            let frame = json!({"status": "ok", "retcode": 0, "data": data, "echo": echo});
            let _ = tx.send(frame.to_string());
            continue;
        }
        let _ =
            asked.send(Asked { action, params: frame["params"].clone(), echo, answer: tx.clone() });
    }
    writer.abort();
}

impl Server {
    async fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (asked_tx, asked) = mpsc::unbounded_channel();
        let (conns_tx, conns) = mpsc::unbounded_channel();
        let (refused_tx, refused) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let script = script.clone();
                let (asked_tx, conns_tx, refused_tx) =
                    (asked_tx.clone(), conns_tx.clone(), refused_tx.clone());
                tokio::spawn(async move {
                    let want = script.token.clone();
                    let in_band = script.refuse_in_band;
                    let mut good = true;
                    // The handshake's callback type is the library's; its error is a whole response.
                    #[allow(clippy::result_large_err)]
                    let check = |req: &Request, resp: Response| {
                        let got = req
                            .headers()
                            .get("Authorization")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        let ok = match &want {
                            None => true,
                            Some(t) => got.as_deref() == Some(&format!("Bearer {t}")),
                        };
                        good = ok;
                        if ok || in_band {
                            Ok(resp)
                        } else {
                            let mut r = tokio_tungstenite::tungstenite::handshake::server::ErrorResponse::new(None);
                            *r.status_mut() =
                                tokio_tungstenite::tungstenite::http::StatusCode::UNAUTHORIZED;
                            Err(r)
                        }
                    };
                    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, check).await else {
                        let _ = refused_tx.send(());
                        return;
                    };
                    if !good {
                        let _ = refused_tx.send(());
                        let frame = json!({"status": "failed", "retcode": 1403, "data": null, "message": "token验证失败", "wording": "token验证失败", "echo": null});
                        let _ = ws.send(Message::text(frame.to_string())).await;
                        let _ = ws.send(Message::Close(None)).await;
                        return;
                    }
                    serve_conn(ws, script.beat, asked_tx, conns_tx).await;
                });
            }
        });
        Self { url: format!("ws://{addr}"), asked, conns, refused }
    }

    async fn next_asked(&mut self) -> Asked {
        tokio::time::timeout(WITHIN, self.asked.recv()).await.expect("an action").expect("open")
    }

    async fn next_conn(&mut self) -> Conn {
        tokio::time::timeout(WITHIN, self.conns.recv()).await.expect("a connection").expect("open")
    }
}

fn script() -> Script {
    Script { token: Some("s3cret".into()), refuse_in_band: false, beat: Beat::Never }
}

fn forward(url: &str, token: &str) -> OneBotOptions {
    let mut o = OneBotOptions::new(Mode::Forward { url: url.to_owned() }, Some(Secret::new(token)));
    o.max_backoff = Duration::from_millis(200);
    o
}

async fn next_link(link: &mut mpsc::Receiver<LinkEvent>) -> LinkEvent {
    tokio::time::timeout(WITHIN, link.recv()).await.expect("a link event").expect("link open")
}

/// The next link event that is not a message or notice: connects, drops and bot events.
async fn next_state(link: &mut mpsc::Receiver<LinkEvent>) -> String {
    match next_link(link).await {
        LinkEvent::Connected { gap } => {
            format!("connected{}", if gap.is_some() { " again" } else { "" })
        }
        LinkEvent::Disconnected { .. } => "disconnected".into(),
        LinkEvent::Event(e) => e.kind().to_owned(),
    }
}

/// What the host hears when the link drops and comes back, from the first connect on.
const DROP_AND_BACK: [&str; 6] = [
    "connected",
    "BotOnlineEvent",
    "BotOfflineEventDropped",
    "disconnected",
    "connected again",
    "BotReloginEvent",
];

/// The link's states up to and including the first `BotReloginEvent`.
async fn states_until_relogin(link: &mut mpsc::Receiver<LinkEvent>) -> Vec<String> {
    let mut seen = Vec::new();
    while !seen.contains(&"BotReloginEvent".to_owned()) {
        seen.push(next_state(link).await);
    }
    seen
}

fn send_to(friend: i64) -> Call {
    Call::new(
        "sendFriendMessage",
        None,
        json!({"target": friend, "messageChain": [{"type": "Plain", "text": "hi"}]}),
    )
}

#[tokio::test]
async fn connect_logs_in_and_names_the_implementation() {
    let beats = Script { beat: Beat::Every(Duration::from_millis(20)), ..script() };
    let mut server = Server::start(beats).await;
    let (a, mut link) = OneBotAdapter::connect(forward(&server.url, "s3cret")).await.expect("up");
    assert_eq!(next_state(&mut link).await, "connected");
    assert_eq!(next_state(&mut link).await, "BotOnlineEvent");
    assert_eq!(a.bot(), BOT);
    assert_eq!(a.server().as_deref(), Some("NapCat.Onebot 4.8.0 (OneBot v11)"));
    assert_eq!(a.dialect(), Some("onebot"));
    let _ = server.next_conn().await;
    a.shutdown().await;
}

#[tokio::test]
async fn a_wrong_token_is_a_clear_error_either_way_servers_refuse_it() {
    let mut server = Server::start(script()).await;
    let err = OneBotAdapter::connect(forward(&server.url, "nope")).await.err().expect("refused");
    assert!(matches!(err, ConnectError::WrongToken { .. }), "{err}");
    assert!(err.to_string().contains("access_token"), "{err}");
    assert!(!err.to_string().contains("nope"), "the token is not shown: {err}");
    server.refused.recv().await.expect("refused once");

    let in_band = Script { refuse_in_band: true, ..script() };
    let server = Server::start(in_band).await;
    let err = OneBotAdapter::connect(forward(&server.url, "nope")).await.err().expect("refused");
    assert!(matches!(err, ConnectError::WrongToken { .. }), "{err}");

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let err = OneBotAdapter::connect(forward(&format!("ws://{addr}"), "x"))
        .await
        .err()
        .expect("no server");
    assert!(matches!(err, ConnectError::NoOneBotServer { .. }), "{err}");
}

#[tokio::test]
async fn answers_out_of_order_reach_their_own_callers() {
    let mut server = Server::start(script()).await;
    let (a, _link) = OneBotAdapter::connect(forward(&server.url, "s3cret")).await.expect("up");
    let calls: Vec<_> = (0..5).map(|i| a.call(send_to(100 + i))).collect();
    let running: Vec<_> = calls.into_iter().map(tokio::spawn).collect();
    let mut asked = Vec::new();
    for _ in 0..5 {
        asked.push(server.next_asked().await);
    }
    // Answer in reverse order, each with a message id that names its target; echo once as a
    // number, as some servers do.
    for (n, q) in asked.iter().enumerate().rev() {
        assert_eq!(q.action, "send_private_msg");
        let target = q.params["user_id"].as_i64().expect("user_id");
        if n == 0 {
            let echo: i64 = q.echo.as_str().expect("string echo").parse().expect("numeric");
            let frame = json!({"status": "ok", "retcode": 0, "data": {"message_id": target * 10}, "echo": echo});
            let _ = q.answer.send(frame.to_string());
        } else {
            q.ok(json!({"message_id": target * 10}));
        }
    }
    for (i, r) in running.into_iter().enumerate() {
        let body = r.await.expect("task").expect("answered");
        assert_eq!(body["messageId"], json!((100 + i as i64) * 10), "{body}");
    }
    // An answer nobody waits for is counted, not delivered.
    let q = &asked[0];
    q.ok(json!({"message_id": 1}));
    let deadline = tokio::time::Instant::now() + WITHIN;
    while a.rejected_frames() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the stray answer is counted");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    a.shutdown().await;
}

#[tokio::test]
async fn a_call_without_an_answer_times_out_and_a_drop_fails_every_pending_call_at_once() {
    let mut server = Server::start(script()).await;
    let mut opts = forward(&server.url, "s3cret");
    opts.call_timeout = Duration::from_millis(300);
    let (a, _link) = OneBotAdapter::connect(opts).await.expect("up");
    let conn = server.next_conn().await;
    let err = a.call(send_to(1)).await.expect_err("no answer");
    assert!(matches!(err, CallError::Timeout { .. }), "{err}");
    let _ = server.next_asked().await;

    let mut opts = forward(&server.url, "s3cret");
    opts.call_timeout = Duration::from_secs(30);
    let (b, mut link_b) = OneBotAdapter::connect(opts).await.expect("up");
    let conn_b = server.next_conn().await;
    let pending: Vec<_> = (0..3).map(|i| tokio::spawn(b.call(send_to(i)))).collect();
    for _ in 0..3 {
        let _ = server.next_asked().await;
    }
    let started = tokio::time::Instant::now();
    let _ = conn_b.push.send("CLOSE".into());
    for p in pending {
        let err = p.await.expect("task").expect_err("dropped");
        assert!(matches!(err, CallError::Disconnected { .. }), "{err}");
    }
    assert!(started.elapsed() < Duration::from_secs(10), "pending calls fail at once");
    // The drop is told to the scripts, the link comes back by itself, and says so.
    assert_eq!(states_until_relogin(&mut link_b).await, DROP_AND_BACK);
    drop(conn);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_link_whose_heartbeats_stop_counts_as_dropped_and_reconnects() {
    let hung = Script { beat: Beat::OnceThenSilence(Duration::from_millis(100)), ..script() };
    let server = Server::start(hung).await;
    let (b, mut link) = OneBotAdapter::connect(forward(&server.url, "s3cret")).await.expect("up");
    assert_eq!(states_until_relogin(&mut link).await, DROP_AND_BACK);
    b.shutdown().await;
}

#[tokio::test]
async fn the_reverse_listener_checks_the_token_and_waits_for_the_server_to_come_back() {
    let opts = OneBotOptions::new(
        Mode::Reverse { listen: "127.0.0.1:0".parse().expect("addr") },
        Some(Secret::new("s3cret")),
    );
    let (a, mut link) = OneBotAdapter::connect(opts).await.expect("listening");
    let addr = a.listening().expect("bound");
    let url = format!("ws://{addr}/onebot/v11/ws");

    // No token, a wrong token: refused with 401.
    for auth in [None, Some("Bearer nope")] {
        let mut req =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                url.as_str(),
            )
            .expect("req");
        if let Some(v) = auth {
            req.headers_mut().insert("Authorization", v.parse().expect("header"));
        }
        match tokio_tungstenite::connect_async(req).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status(), 401)
            }
            other => panic!("refused with 401, got {:?}", other.map(|_| ())),
        }
    }

    // The token in the query is accepted; the connector logs in over the socket.
    let (asked_tx, mut asked) = mpsc::unbounded_channel();
    let (conns_tx, mut conns) = mpsc::unbounded_channel();
    let dial = |url: String,
                asked_tx: mpsc::UnboundedSender<Asked>,
                conns_tx: mpsc::UnboundedSender<Conn>| async move {
        let mut req =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                url.as_str(),
            )
            .expect("req");
        req.headers_mut().insert("X-Self-ID", BOT.to_string().parse().expect("h"));
        req.headers_mut().insert("X-Client-Role", "Universal".parse().expect("h"));
        let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("accepted");
        tokio::spawn(serve_conn(ws, Beat::Never, asked_tx, conns_tx));
    };
    dial(format!("{url}?access_token=s3cret"), asked_tx.clone(), conns_tx.clone()).await;
    assert_eq!(next_state(&mut link).await, "connected");
    assert_eq!(next_state(&mut link).await, "BotOnlineEvent");
    assert_eq!(a.bot(), BOT);
    let conn = tokio::time::timeout(WITHIN, conns.recv()).await.expect("conn").expect("open");

    // A call goes over the socket the server opened.
    let call = tokio::spawn(a.call(send_to(42)));
    let q = tokio::time::timeout(WITHIN, asked.recv()).await.expect("asked").expect("open");
    assert_eq!(q.action, "send_private_msg");
    q.ok(json!({"message_id": 7}));
    assert_eq!(call.await.expect("task").expect("answered")["messageId"], 7);

    // The server goes away; mahua waits, and the server's next connection carries on.
    let _ = conn.push.send("CLOSE".into());
    assert_eq!(next_state(&mut link).await, "BotOfflineEventDropped");
    assert_eq!(next_state(&mut link).await, "disconnected");
    dial(format!("{url}?access_token=s3cret"), asked_tx, conns_tx).await;
    assert_eq!(next_state(&mut link).await, "connected again");
    assert_eq!(next_state(&mut link).await, "BotReloginEvent");
    a.shutdown().await;
}

/// A group message event, optionally quoting `reply`.
fn group_message(id: i64, text: &str, reply: Option<i64>) -> String {
    let mut message = vec![json!({"type": "text", "data": {"text": text}})];
    if let Some(r) = reply {
        message.insert(0, json!({"type": "reply", "data": {"id": r.to_string()}}));
    }
    json!({
        "time": 1_700_000_000, "self_id": BOT, "post_type": "message", "message_type": "group",
        "sub_type": "normal", "message_id": id, "group_id": 5, "user_id": 42,
        "sender": {"user_id": 42, "nickname": "n", "card": "", "role": "member"},
        "message": message, "raw_message": text, "font": 0
    })
    .to_string()
}

#[tokio::test]
async fn an_event_waiting_for_a_fetch_keeps_the_ones_after_it_waiting_too() {
    let mut server = Server::start(script()).await;
    let (a, mut link) = OneBotAdapter::connect(forward(&server.url, "s3cret")).await.expect("up");
    assert_eq!(next_state(&mut link).await, "connected");
    assert_eq!(next_state(&mut link).await, "BotOnlineEvent");
    let conn = server.next_conn().await;
    // The first quotes a message mahua has not seen: it asks the server for it first.
    let _ = conn.push.send(group_message(1, "first", Some(77)));
    let _ = conn.push.send(group_message(2, "second", None));
    let asked = server.next_asked().await;
    assert_eq!(asked.action, "get_msg");
    assert_eq!(asked.params["message_id"], 77);
    // Nothing is handed on while the fetch is unanswered, not even the second event.
    assert!(link.try_recv().is_err(), "the second event waits for the first");
    asked.ok(json!({
        "time": 1_699_999_999, "message_type": "group", "message_id": 77, "group_id": 5,
        "user_id": 43, "sender": {"user_id": 43, "nickname": "q"},
        "message": [{"type": "text", "data": {"text": "quoted"}}]
    }));
    let texts: Vec<String> = [next_link(&mut link).await, next_link(&mut link).await]
        .into_iter()
        .map(|ev| match ev {
            LinkEvent::Event(e) => {
                let chain = e.0["messageChain"].as_array().cloned().unwrap_or_default();
                chain.iter().filter_map(|el| el["text"].as_str().map(str::to_owned)).collect()
            }
            other => panic!("an event, got {other:?}"),
        })
        .collect();
    assert_eq!(texts, ["first", "second"]);
    a.shutdown().await;
}
