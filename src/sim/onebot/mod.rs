//! The simulator's OneBot v11 face: forward WebSocket (universal, any path), reverse
//! WebSocket dialing, heartbeats, the handshake's token check.
//!
//! Events the world pushes are translated (`events`), actions run as the matching
//! mirai-api-http commands on the same world (`actions`); global message ids and
//! forwarded contents are kept in `ids`; `convert` puts chains into segments and back
//! with the connector's converter.

mod actions;
mod convert;
mod events;
mod ids;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{self as axum_ws, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures_util::{Sink, Stream, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::session::Outbound;
use super::socket::{write, In, Wire};
use super::{control, faults, http::BODY_LIMIT, lock, Inner, Sim};
use ids::Handles;

/// What the OneBot face keeps across sockets.
#[derive(Debug, Default)]
pub(super) struct Face {
    handles: Mutex<Handles>,
    paused: AtomicBool,
}

impl Face {
    /// The frame a OneBot socket gets for a MAH event, or `None` when OneBot has no such event.
    pub(super) fn frame(&self, inner: &Inner, event: &Value) -> Option<String> {
        let mut handles = lock(&self.handles);
        let mut cx = events::Ctx { bot: inner.cfg.qq, handles: &mut handles };
        let mut v = events::translate(event, &mut cx)?;
        events::format(&mut v, inner.cfg.cq_strings);
        Some(v.to_string())
    }
}

/// The routes of OneBot mode: the control API, and a forward WebSocket on every other path.
pub(super) fn router(inner: Arc<Inner>) -> Router {
    let app = Router::new().fallback(upgrade);
    control::routes(app).layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT)).with_state(inner)
}

/// The token a client presented: `Authorization: Bearer <t>` or `?access_token=<t>`.
fn presented(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    if let Some(auth) = headers.get("Authorization").and_then(|v| v.to_str().ok()) {
        let auth = auth.trim();
        let token = match auth.split_once(char::is_whitespace) {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
            _ => auth,
        };
        return Some(token.to_owned());
    }
    let query: Vec<(String, String)> =
        Query::try_from_uri(uri).map(|Query(q)| q).unwrap_or_default();
    query.into_iter().find(|(k, _)| k == "access_token").map(|(_, v)| v)
}

/// Accept a forward WebSocket: no token → 401; a wrong one → one 1403 frame, then close.
async fn upgrade(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    uri: Uri,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Ok(ws) = ws else {
        return (StatusCode::UPGRADE_REQUIRED, "OneBot v11: connect with a WebSocket\n")
            .into_response();
    };
    let wrong = match (&inner.cfg.access_token, presented(&headers, &uri)) {
        (None, _) => false,
        (Some(_), None) => {
            return (StatusCode::UNAUTHORIZED, "access token required\n").into_response()
        }
        (Some(want), Some(got)) => *want != got,
    };
    ws.on_upgrade(move |mut socket| async move {
        if wrong {
            let refusal = json!({
                "status": "failed", "retcode": 1403, "data": null, "message": "token验证失败",
                "wording": "token验证失败", "echo": null,
            });
            // The client may already be gone; there is nobody to tell then.
            let _ = socket.send(axum_ws::Message::Text(refusal.to_string().into())).await;
            let _ = socket.send(axum_ws::Message::Close(None)).await;
            return;
        }
        serve(inner, socket).await;
    })
}

/// Serve OneBot on an open socket (forward or reverse): `lifecycle` first, then heartbeats,
/// events and answers, until either side closes or the simulator stops.
async fn serve<M, S, E>(inner: Arc<Inner>, socket: S)
where
    M: Wire,
    S: Stream<Item = Result<M, E>> + Sink<M> + Send + Unpin + 'static,
{
    if inner.faults().down {
        return;
    }
    let bot = inner.cfg.qq;
    let (tx, rx) = mpsc::unbounded_channel();
    // The channel is ours and open, so this send cannot fail.
    let _ = tx.send(Outbound::Text(events::meta(bot, None).to_string()));
    let id = inner.sessions().attach_onebot(tx.clone());
    inner.bump();
    tracing::debug!(target: "mahua::sim", socket = id, "onebot socket attached");
    let (sink, mut stream) = socket.split();
    let mut writer = tokio::spawn(write(Arc::clone(&inner), rx, sink));
    let mut stop = inner.shutdown.subscribe();
    let every = inner.cfg.heartbeat;
    // Zero means no heartbeats: the first beat is then a year away and repeats as seldom.
    let period = if every.is_zero() { Duration::from_secs(365 * 24 * 3600) } else { every };
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(m)) => match m.read() {
                    In::Text(text) => {
                        let (reply, action) = actions::handle(&inner, &text);
                        faults::send_answer(&inner, action.as_deref(), reply, &tx);
                    }
                    In::Other => {}
                    In::End => break,
                },
                Some(Err(_)) | None => break,
            },
            _ = beat.tick() => {
                if !every.is_zero() && !inner.onebot.paused.load(Ordering::Relaxed) {
                    let _ = tx.send(Outbound::Text(events::meta(bot, Some(every.as_millis())).to_string()));
                }
            }
            _ = &mut writer => break,
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    // Flush what is queued (e.g. the close frame) and end the writer.
    let _ = tx.send(Outbound::Close);
    drop(tx);
    if !writer.is_finished() {
        let _ = tokio::time::timeout(Duration::from_secs(1), &mut writer).await;
        writer.abort();
    }
    inner.sessions().detach_onebot(id);
    inner.bump();
    tracing::debug!(target: "mahua::sim", socket = id, "onebot socket closed");
}

/// Dial a reverse-WebSocket listener as a OneBot server does.
async fn dial(
    url: &str,
    token: Option<&str>,
    bot: i64,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    String,
> {
    let mut req = url.into_client_request().map_err(|e| e.to_string())?;
    let headers = req.headers_mut();
    let mut put = |name: &'static str, value: String| -> Result<(), String> {
        let value = value.parse().map_err(|_| format!("bad {name} header"))?;
        headers.insert(name, value);
        Ok(())
    };
    put("X-Self-ID", bot.to_string())?;
    put("X-Client-Role", "Universal".to_owned())?;
    put("User-Agent", format!("mahua-sim/{} OneBot/11", env!("CARGO_PKG_VERSION")))?;
    if let Some(t) = token {
        put("Authorization", format!("Bearer {t}"))?;
    }
    let connect = tokio_tungstenite::connect_async(req);
    match tokio::time::timeout(Duration::from_secs(10), connect).await {
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".to_owned()),
    }
}

impl Sim {
    /// `ws://127.0.0.1:PORT/`: where OneBot clients connect in [`super::SimProtocol::OneBot`] mode.
    #[must_use]
    pub fn onebot_url(&self) -> String {
        format!("ws://{}/", self.inner.addr)
    }

    /// Dial a OneBot reverse-WebSocket listener and serve OneBot over it; dial again every
    /// `retry` after the socket drops or a dial fails, until the simulator shuts down.
    pub fn connect_reverse(&self, url: &str, token: Option<String>, retry: Duration) {
        let weak = Arc::downgrade(&self.inner);
        let url = url.to_owned();
        tokio::spawn(async move {
            loop {
                let Some(inner) = weak.upgrade() else { break };
                let mut stop = inner.shutdown.subscribe();
                if *stop.borrow_and_update() {
                    break;
                }
                if !inner.faults().down {
                    match dial(&url, token.as_deref(), inner.cfg.qq).await {
                        Ok(ws) => {
                            tracing::info!(target: "mahua::sim", %url, "reverse ws connected");
                            serve(Arc::clone(&inner), ws).await;
                        }
                        Err(e) => tracing::debug!(target: "mahua::sim", %url, "reverse ws: {e}"),
                    }
                }
                drop(inner);
                tokio::select! {
                    () = tokio::time::sleep(retry) => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
            }
        });
    }

    /// Push a raw OneBot event, as it is, to every OneBot socket.
    pub fn push_onebot(&self, event: Value) {
        let lost = self.inner.sessions().push_onebot(&event.to_string());
        self.inner.lost(lost);
        self.inner.bump();
    }

    /// Stop (`true`) or resume heartbeats on every OneBot socket.
    pub fn pause_heartbeats(&self, paused: bool) {
        self.inner.onebot.paused.store(paused, Ordering::Relaxed);
    }
}
