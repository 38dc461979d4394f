//! A script's event handlers (`bot.on`) and waiters (`bot.wait`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use mlua::{Function, Value};
use tokio::sync::oneshot;

use crate::protocol::event::is_message_type;

/// The lifecycle names a handler may subscribe to besides event types.
pub const LIFECYCLE: &[&str] = &["load", "unload", "connect", "disconnect"];

/// Whether a subscription to `name` receives an event of type `ty`.
#[must_use]
pub fn matches(name: &str, ty: &str) -> bool {
    name == ty || name == "*" || (name == "Message" && is_message_type(ty))
}

/// Which event names a script listens to, readable from the host's thread.
#[derive(Debug, Default)]
pub struct Interest {
    names: RwLock<HashMap<String, usize>>,
    /// Bumped on every change, so whoever routes events by interest knows to look again.
    changes: Arc<AtomicU64>,
}

impl Interest {
    fn changed(&self) {
        self.changes.fetch_add(1, Ordering::Release);
    }

    fn add(&self, name: &str) {
        if let Ok(mut n) = self.names.write() {
            *n.entry(name.to_owned()).or_default() += 1;
        }
        self.changed();
    }

    fn remove(&self, name: &str) {
        if let Ok(mut n) = self.names.write() {
            if let Some(c) = n.get_mut(name) {
                *c -= 1;
                if *c == 0 {
                    n.remove(name);
                }
            }
        }
        self.changed();
    }

    fn clear(&self) {
        if let Ok(mut n) = self.names.write() {
            n.clear();
        }
        self.changed();
    }

    /// Whether any handler or waiter receives events of type `ty`.
    #[must_use]
    pub fn wants(&self, ty: &str) -> bool {
        self.names.read().is_ok_and(|n| {
            n.contains_key(ty)
                || n.contains_key("*")
                || (n.contains_key("Message") && is_message_type(ty))
        })
    }
}

struct Handler {
    id: u64,
    name: String,
    func: Function,
}

struct Waiter {
    id: u64,
    name: String,
    filter: Option<Function>,
    tx: oneshot::Sender<Value>,
}

/// The handlers and waiters of one script.
#[derive(Default)]
pub struct Subscriptions {
    next_id: u64,
    handlers: Vec<Handler>,
    waiters: Vec<Waiter>,
    interest: Arc<Interest>,
}

impl Subscriptions {
    /// No subscriptions yet; every change of interest bumps `changes`.
    #[must_use]
    pub fn new(changes: Arc<AtomicU64>) -> Self {
        let interest = Arc::new(Interest { names: RwLock::default(), changes });
        Self { next_id: 0, handlers: Vec::new(), waiters: Vec::new(), interest }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The names this script listens to, shared with the host.
    #[must_use]
    pub fn interest(&self) -> Arc<Interest> {
        self.interest.clone()
    }

    /// Add a handler for `name`; returns its id.
    pub fn on(&mut self, name: String, func: Function) -> u64 {
        let id = self.id();
        self.interest.add(&name);
        self.handlers.push(Handler { id, name, func });
        id
    }

    /// Remove a handler; false when it was already gone.
    pub fn cancel(&mut self, id: u64) -> bool {
        let Some(i) = self.handlers.iter().position(|h| h.id == id) else { return false };
        let h = self.handlers.remove(i);
        self.interest.remove(&h.name);
        true
    }

    /// Add a waiter for one event of type `name`; returns its id.
    pub fn wait(
        &mut self,
        name: String,
        filter: Option<Function>,
        tx: oneshot::Sender<Value>,
    ) -> u64 {
        let id = self.id();
        self.interest.add(&name);
        self.waiters.push(Waiter { id, name, filter, tx });
        id
    }

    /// Remove a waiter and return its sender, if it is still waiting.
    pub fn take_waiter(&mut self, id: u64) -> Option<oneshot::Sender<Value>> {
        let i = self.waiters.iter().position(|w| w.id == id)?;
        let w = self.waiters.remove(i);
        self.interest.remove(&w.name);
        Some(w.tx)
    }

    /// The handlers for events of type `ty`, in the order they were added.
    #[must_use]
    pub fn handlers_for(&self, ty: &str) -> Vec<Function> {
        self.handlers.iter().filter(|h| matches(&h.name, ty)).map(|h| h.func.clone()).collect()
    }

    /// The handlers for a lifecycle name, which only exact names receive.
    #[must_use]
    pub fn lifecycle_handlers(&self, name: &str) -> Vec<Function> {
        self.handlers.iter().filter(|h| h.name == name).map(|h| h.func.clone()).collect()
    }

    /// The waiters for events of type `ty`, oldest first, with their filters.
    #[must_use]
    pub fn waiters_for(&self, ty: &str) -> Vec<(u64, Option<Function>)> {
        self.waiters
            .iter()
            .filter(|w| matches(&w.name, ty))
            .map(|w| (w.id, w.filter.clone()))
            .collect()
    }

    /// Release every waiter: its `bot.wait` returns nil, as after a timeout.
    pub fn release_waiters(&mut self) {
        for w in self.waiters.drain(..) {
            self.interest.remove(&w.name);
        }
    }

    /// Drop every handler and waiter (before the state goes).
    pub fn clear(&mut self) {
        self.handlers.clear();
        self.waiters.clear();
        self.interest.clear();
    }
}
