//! The connector as the host sees it: an [`Adapter`] whose calls become OneBot actions and
//! whose events arrive in the mirai-api-http shapes, in the order the server sent them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use super::action::{self, Ctx};
use super::cache::{Contacts, Implementation};
use super::event::{self, Fetch, Translated};
use super::link::{self, Link, LinkActions, Mode, OneBotOptions, Raw, RawSink};
use super::Actions;
use crate::adapter::{Adapter, BoxFuture, Call, CallError, ConnectError, LinkEvent, Upload};
use crate::protocol::Event;

/// What the connector's tasks share.
struct Shared {
    link: Arc<Link>,
    api: LinkActions,
    contacts: Mutex<Contacts>,
    events: mpsc::Sender<LinkEvent>,
    /// Whether the bot is online as the last heartbeat said.
    online: AtomicBool,
    /// Senders the friend list was fetched again for, and when.
    friends_refreshed: Mutex<std::collections::HashMap<i64, Instant>>,
}

impl Shared {
    fn contacts(&self) -> std::sync::MutexGuard<'_, Contacts> {
        self.contacts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hand a synthesized event to the scripts.
    fn emit(&self, event: Value) {
        if self.events.try_send(LinkEvent::Event(Event(event))).is_err() {
            tracing::warn!("a synthesized event was lost: the host is not keeping up");
        }
    }

    fn bot(&self) -> i64 {
        self.contacts().bot
    }
}

/// A link to a OneBot v11 server, as an adapter.
pub struct OneBotAdapter {
    shared: Arc<Shared>,
    /// The address mahua listens on (reverse).
    listening: Option<std::net::SocketAddr>,
    listener: Option<tokio::task::JoinHandle<()>>,
}

impl OneBotAdapter {
    /// Connect and keep the link up in the background.
    ///
    /// Forward: the server must answer now (a wrong address or token fails here); later
    /// drops are dialled again with backoff. Reverse: listen, and serve the server whenever
    /// it connects.
    pub async fn connect(
        opts: OneBotOptions,
    ) -> Result<(Arc<Self>, mpsc::Receiver<LinkEvent>), ConnectError> {
        let (link, mut ends) = Link::new(opts.clone());
        let (ev_tx, ev_rx) = mpsc::channel(4096);
        let (raw_tx, raw_rx) = mpsc::channel(4096);
        let waiting = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(Shared {
            api: LinkActions(link.clone()),
            link: link.clone(),
            contacts: Mutex::new(Contacts::new(0)),
            events: ev_tx,
            online: AtomicBool::new(true),
            friends_refreshed: Mutex::new(std::collections::HashMap::new()),
        });
        let (ready_tx, ready_rx) = oneshot::channel();
        let (first, listening, listener, ready) = match &opts.mode {
            Mode::Forward { url } => {
                let url = link::endpoint(url)?;
                let socket = link::dial(&url, opts.access_token.as_ref()).await?;
                (Some((socket, url)), None, None, Some(ready_tx))
            }
            Mode::Reverse { listen } => {
                let (bound, accepted, listener) =
                    link::listen(*listen, opts.access_token.clone()).await?;
                ends.accept_from(accepted);
                tracing::info!(listen = %bound, "waiting for the OneBot server to connect (reverse WebSocket)");
                (None, Some(bound), Some(listener), None)
            }
        };
        let (socket, url) = first.map_or((None, None), |(s, u)| (Some(s), Some(u)));
        tokio::spawn(translate(shared.clone(), raw_rx, waiting.clone(), ready));
        let sink = Sink { shared: shared.clone(), queue: raw_tx, waiting };
        tokio::spawn(link::run(link.clone(), ends, socket, Arc::new(sink)));
        if let Some(url) = url {
            // Forward: the server must say who the bot is before `connect` returns.
            let started = ready_rx
                .await
                .unwrap_or_else(|_| Err(ConnectError::NoLogin("the link stopped at once".into())));
            if let Err(e) = started {
                link.close();
                return Err(e);
            }
            tracing::info!(url = %url, "connected to the OneBot server");
        }
        Ok((Arc::new(Self { shared, listening, listener }), ev_rx))
    }

    /// The address mahua listens on for the server (reverse mode).
    #[must_use]
    pub fn listening(&self) -> Option<std::net::SocketAddr> {
        self.listening
    }

    /// The bot's QQ number, once the server told it.
    #[must_use]
    pub fn bot(&self) -> i64 {
        self.shared.bot()
    }

    fn close(&self) {
        self.shared.link.close();
        if let Some(l) = &self.listener {
            l.abort();
        }
    }
}

impl Drop for OneBotAdapter {
    fn drop(&mut self) {
        self.close();
    }
}

/// Ask who the bot is and what the server is, and load the contacts.
async fn start(shared: &Shared) -> Result<(), ConnectError> {
    let failed = |e: super::ActionError| {
        if shared.link.was_refused() {
            ConnectError::WrongToken { url: server_name(shared) }
        } else {
            ConnectError::NoLogin(e.to_string())
        }
    };
    let login = shared.api.action("get_login_info", json!({})).await.map_err(failed)?;
    let version = shared.api.action("get_version_info", json!({})).await.unwrap_or(Value::Null);
    let id = login.get("user_id").and_then(super::cache::as_i64).unwrap_or_default();
    let nickname = login.get("nickname").and_then(Value::as_str).unwrap_or_default().to_owned();
    let text = |k: &str| version.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let app = format!("{} {}", text("app_name"), text("app_version")).trim().to_owned();
    {
        let mut c = shared.contacts();
        c.bot = id;
        c.nickname = nickname;
        c.implementation = Implementation::from_app_name(&text("app_name"));
        c.app = if app.is_empty() { "an unnamed OneBot server".into() } else { app.clone() };
    }
    tracing::info!(bot = id, server = %app, "logged in over OneBot v11");
    if let Err(e) = action::load_contacts(&shared.api, &shared.contacts).await {
        tracing::warn!(error = %e, "could not load the friend and group lists; events will carry less until they are known");
    }
    Ok(())
}

fn server_name(shared: &Shared) -> String {
    match &shared.link.options().mode {
        Mode::Forward { url } => url.clone(),
        Mode::Reverse { listen } => listen.to_string(),
    }
}

/// What the link hears goes here. An event that needs nothing fetched is translated at once,
/// on the link's own task, when the translator has nothing waiting (so the order holds);
/// anything else waits its turn in the translator's queue.
struct Sink {
    shared: Arc<Shared>,
    queue: mpsc::Sender<Raw>,
    /// Items queued for the translator or being handled by it.
    waiting: Arc<AtomicUsize>,
}

impl RawSink for Sink {
    async fn deliver(&self, raw: Raw) -> bool {
        if let Raw::Event(ev) = &raw {
            if self.waiting.load(Ordering::Acquire) == 0 && needs_nothing(&self.shared, ev) {
                return match finish(&self.shared, ev) {
                    Some(out) => self.shared.events.send(out).await.is_ok(),
                    None => true,
                };
            }
        }
        self.waiting.fetch_add(1, Ordering::AcqRel);
        self.queue.send(raw).await.is_ok()
    }
}

/// Whether an event can be translated from the cache alone.
fn needs_nothing(shared: &Shared, ev: &Value) -> bool {
    let c = shared.contacts();
    unknown_friend(ev, &c).is_none() && event::fetches(ev, &c).is_empty()
}

/// Turn what the link hears into the host's link events, one at a time and in order.
async fn translate(
    shared: Arc<Shared>,
    mut raw: mpsc::Receiver<Raw>,
    waiting: Arc<AtomicUsize>,
    mut ready: Option<oneshot::Sender<Result<(), ConnectError>>>,
) {
    let mut was_up = false;
    while let Some(item) = raw.recv().await {
        // Done with this item once its events are handed on: the link may translate the
        // next one itself from then on.
        let _done = Done(&waiting);
        let out = match item {
            Raw::Up { gap } => {
                let started = start(&shared).await;
                if let Some(tx) = ready.take() {
                    let failed = started.is_err();
                    let _ = tx.send(started);
                    if failed {
                        return;
                    }
                } else if let Err(e) = started {
                    tracing::warn!(error = %e, "the OneBot server did not say who the bot is");
                }
                shared.online.store(true, Ordering::Release);
                let qq = shared.bot();
                let kind = if was_up { "BotReloginEvent" } else { "BotOnlineEvent" };
                was_up = true;
                vec![
                    LinkEvent::Connected { gap },
                    LinkEvent::Event(Event(json!({ "type": kind, "qq": qq }))),
                ]
            }
            Raw::Down(reason) => {
                let qq = shared.bot();
                vec![
                    LinkEvent::Event(Event(json!({ "type": "BotOfflineEventDropped", "qq": qq }))),
                    LinkEvent::Disconnected { reason },
                ]
            }
            Raw::Event(ev) => on_event(&shared, &ev).await.into_iter().collect(),
        };
        for ev in out {
            if shared.events.send(ev).await.is_err() {
                return;
            }
        }
    }
}

/// How long a sender found not to be a friend is not looked up again.
const STRANGER_KEPT: Duration = Duration::from_secs(60);

/// The sender of a private message that the cache does not know as a friend.
fn unknown_friend(ev: &Value, contacts: &Contacts) -> Option<i64> {
    let private = ev.get("message_type").and_then(Value::as_str) == Some("private")
        && ev.get("sub_type").and_then(Value::as_str) == Some("friend");
    let user = ev.get("user_id").and_then(super::cache::as_i64)?;
    (private && user != contacts.bot && !contacts.friends.contains_key(&user)).then_some(user)
}

/// Fetch the friend list again for `user` (a friend added while its notice was missed, or a
/// stranger), at most once per [`STRANGER_KEPT`] for each sender.
async fn refresh_friends(shared: &Shared, user: i64) {
    {
        let mut looked = shared.friends_refreshed.lock().unwrap_or_else(PoisonError::into_inner);
        looked.retain(|_, at| at.elapsed() < STRANGER_KEPT);
        if looked.contains_key(&user) {
            return;
        }
        looked.insert(user, Instant::now());
    }
    let emit = |_: Value| {};
    let ctx = Ctx { api: &shared.api, contacts: &shared.contacts, emit: &emit };
    if let Err(e) = action::run(&Call::new("friendList", None, json!({})), &ctx).await {
        tracing::debug!(error = %e, "could not fetch the friend list again");
    }
}

/// Counts an item of the translator's queue as handled when dropped.
struct Done<'a>(&'a AtomicUsize);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One OneBot event: fetch what the cache lacks, then translate.
async fn on_event(shared: &Shared, ev: &Value) -> Option<LinkEvent> {
    let unknown = unknown_friend(ev, &shared.contacts());
    if let Some(user) = unknown {
        refresh_friends(shared, user).await;
    }
    let needed = event::fetches(ev, &shared.contacts());
    for fetch in needed {
        match fetch {
            Fetch::Message(id) => {
                match shared.api.action("get_msg", json!({ "message_id": id })).await {
                    Ok(data) => {
                        let mut c = shared.contacts();
                        if let Some(m) = event::message_from(&data, &c) {
                            c.remember_message(m);
                        }
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, id, "could not fetch a quoted or recalled message")
                    }
                }
            }
            Fetch::Forward(id) => {
                match shared
                    .api
                    .action("get_forward_msg", json!({ "id": id, "message_id": id }))
                    .await
                {
                    Ok(data) => shared.contacts().remember_forward(&id, data),
                    Err(e) => {
                        tracing::debug!(error = %e, %id, "could not fetch a forwarded message")
                    }
                }
            }
        }
    }
    finish(shared, ev)
}

/// Translate one OneBot event whose fetches are done.
fn finish(shared: &Shared, ev: &Value) -> Option<LinkEvent> {
    let translated = event::translate(ev, &mut shared.contacts());
    match translated {
        Translated::Mirai(v) | Translated::Extension(v) => Some(LinkEvent::Event(Event(v))),
        Translated::Heartbeat { online, .. } => {
            let was = shared.online.swap(online, Ordering::AcqRel);
            let qq = shared.bot();
            match (was, online) {
                (true, false) => {
                    tracing::warn!("the OneBot server says the bot is offline");
                    Some(LinkEvent::Event(Event(
                        json!({ "type": "BotOfflineEventDropped", "qq": qq }),
                    )))
                }
                (false, true) => {
                    tracing::info!("the OneBot server says the bot is online again");
                    Some(LinkEvent::Event(Event(json!({ "type": "BotReloginEvent", "qq": qq }))))
                }
                _ => None,
            }
        }
        Translated::Lifecycle(sub) => {
            tracing::debug!(%sub, "OneBot lifecycle event");
            None
        }
        Translated::Dropped(why) => {
            tracing::debug!(%why, "a OneBot event with nothing for scripts");
            None
        }
    }
}

impl Adapter for OneBotAdapter {
    fn call(&self, call: Call) -> BoxFuture<Result<Value, CallError>> {
        let shared = self.shared.clone();
        Box::pin(async move {
            let emit_to = shared.clone();
            let emit = move |v: Value| emit_to.emit(v);
            let ctx = Ctx { api: &shared.api, contacts: &shared.contacts, emit: &emit };
            action::run(&call, &ctx).await
        })
    }

    fn upload(&self, upload: Upload) -> BoxFuture<Result<Value, CallError>> {
        let shared = self.shared.clone();
        Box::pin(async move {
            let emit_to = shared.clone();
            let emit = move |v: Value| emit_to.emit(v);
            let ctx = Ctx { api: &shared.api, contacts: &shared.contacts, emit: &emit };
            action::upload(&upload, &ctx).await
        })
    }

    fn shutdown(&self) -> BoxFuture<()> {
        self.close();
        Box::pin(async {})
    }

    fn rejected_frames(&self) -> u64 {
        self.shared.link.rejected()
    }

    fn dialect(&self) -> Option<&'static str> {
        Some("onebot")
    }

    fn direct(&self, call: Call) -> BoxFuture<Result<Value, CallError>> {
        let shared = self.shared.clone();
        Box::pin(async move {
            let params = match call.content.as_ref() {
                Value::Null => json!({}),
                v => v.clone(),
            };
            match shared.api.action(&call.command, params).await {
                Ok(data) => Ok(json!({ "code": 0, "msg": "", "data": data })),
                Err(e) => action::failure(&call.command, e),
            }
        })
    }

    fn server(&self) -> Option<String> {
        let c = self.shared.contacts();
        (!c.app.is_empty()).then(|| format!("{} (OneBot v11)", c.app))
    }
}
