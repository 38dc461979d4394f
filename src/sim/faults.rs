//! Faults the simulated server can be told to make: cut links, restart, stall, reorder,
//! duplicate or garble answers, push frames no real server would send.
//!
//! Every fault is a method of [`Sim`]; the answer faults last until [`Sim::clear_faults`].

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::session::Outbound;
use super::{Inner, Sim};

/// The answer faults in force.
#[derive(Debug, Default)]
pub(super) struct State {
    /// Commands whose answers wait this long.
    stalls: HashMap<String, Duration>,
    /// Commands whose next answers are replaced by raw text: how many more, and the text.
    replaced: HashMap<String, (usize, String)>,
    /// How many more ws answers to hold back before releasing them all, newest first.
    hold: usize,
    /// The answers held back, with the socket each belongs to.
    held: Vec<(mpsc::UnboundedSender<Outbound>, String)>,
    /// Whether every ws answer goes out twice.
    duplicate: bool,
    /// Whether the server is down (between `go_down` and `come_up`).
    pub(super) down: bool,
}

impl State {
    /// The raw text to answer `command` with instead of its real answer, if one is due.
    fn replacement(&mut self, command: &str) -> Option<String> {
        let (left, text) = self.replaced.get_mut(command)?;
        *left -= 1;
        let text = text.clone();
        if *left == 0 {
            self.replaced.remove(command);
        }
        Some(text)
    }

    /// How long the answer to `command` waits.
    fn stall(&self, command: &str) -> Duration {
        self.stalls.get(command).copied().unwrap_or_default()
    }

    /// What to send for a ws answer to `command` on the socket `tx`, and after how long.
    pub(super) fn plan_ws(
        &mut self,
        command: Option<&str>,
        answer: String,
        tx: &mpsc::UnboundedSender<Outbound>,
    ) -> Vec<(Duration, String)> {
        let Some(command) = command else {
            return vec![(Duration::ZERO, answer)];
        };
        let answer = self.replacement(command).unwrap_or(answer);
        let delay = self.stall(command);
        if self.hold > 0 {
            self.held.push((tx.clone(), answer));
            self.hold -= 1;
            if self.hold == 0 {
                for (tx, text) in self.held.drain(..).rev() {
                    // A socket that is gone has nobody to answer.
                    let _ = tx.send(Outbound::Text(text));
                }
            }
            return Vec::new();
        }
        if self.duplicate {
            vec![(delay, answer.clone()), (delay, answer)]
        } else {
            vec![(delay, answer)]
        }
    }

    /// How long an http answer to `command` waits, and the raw text replacing it, if any.
    pub(super) fn plan_http(&mut self, command: &str) -> (Duration, Option<String>) {
        (self.stall(command), self.replacement(command))
    }
}

/// Send a socket's answer to `command` as the faults in force say: replaced, stalled,
/// held back for reordering or doubled.
pub(super) fn send_answer(
    inner: &Inner,
    command: Option<&str>,
    answer: String,
    tx: &mpsc::UnboundedSender<Outbound>,
) {
    let plan = inner.faults().plan_ws(command, answer, tx);
    for (delay, text) in plan {
        if delay.is_zero() {
            if tx.send(Outbound::Text(text)).is_err() {
                break;
            }
        } else {
            let tx = tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                // A socket that is gone has nobody to answer.
                let _ = tx.send(Outbound::Text(text));
            });
        }
    }
}

impl Sim {
    /// Answer `command` only after `delay`, over ws and http; `Duration::ZERO` ends the stall.
    pub fn stall(&self, command: &str, delay: Duration) {
        let mut f = self.inner.faults();
        if delay.is_zero() {
            f.stalls.remove(command);
        } else {
            f.stalls.insert(command.to_owned(), delay);
        }
    }

    /// Hold back the next `n` ws answers, then send them all at once in reverse order.
    pub fn answer_out_of_order(&self, n: usize) {
        self.inner.faults().hold = n;
    }

    /// Send every ws answer twice, with the same `syncId`.
    pub fn duplicate_answers(&self, on: bool) {
        self.inner.faults().duplicate = on;
    }

    /// Answer the next `n` calls of `command` with `raw` instead (a ws frame or an http body).
    pub fn replace_answers(&self, command: &str, n: usize, raw: &str) {
        if n > 0 {
            self.inner.faults().replaced.insert(command.to_owned(), (n, raw.to_owned()));
        }
    }

    /// End every answer fault: stalls, replacements, reordering, duplicates.
    ///
    /// Answers held back for reordering are sent now, in order.
    pub fn clear_faults(&self) {
        let mut f = self.inner.faults();
        f.stalls.clear();
        f.replaced.clear();
        f.hold = 0;
        f.duplicate = false;
        for (tx, text) in f.held.drain(..) {
            let _ = tx.send(Outbound::Text(text));
        }
    }

    /// Send a raw text frame to every WebSocket of a bound session; how many got it.
    pub fn push_raw(&self, text: &str) -> usize {
        self.inner.sessions().send_raw(text)
    }

    /// Put a raw item into every unread queue of a bound http session; how many got it.
    pub fn queue_raw(&self, item: &Value) -> usize {
        let n = self.inner.sessions().queue_raw(item);
        self.inner.bump();
        n
    }

    /// Close every WebSocket with this close code and reason.
    pub fn close_sockets(&self, code: u16, reason: &str) {
        self.inner.sessions().tell_sockets(&Outbound::CloseWith(code, reason.to_owned()));
    }

    /// Cut every WebSocket without a closing handshake, as a network drop does.
    pub fn drop_connections(&self) {
        self.inner.sessions().tell_sockets(&Outbound::Abort);
    }

    /// Forget every session, as if each had expired: sockets cut, unread queues gone (their
    /// events count as undelivered).
    pub fn forget_sessions(&self) {
        let dropped = {
            let mut sessions = self.inner.sessions();
            let dropped = sessions.queued();
            sessions.forget_all();
            dropped
        };
        self.inner.lost(dropped as u64);
        self.inner.bump();
    }

    /// The server process stops: it closes its sockets (after the frames already queued for
    /// them), forgets every session and unread queue, and refuses connections until
    /// [`Sim::come_up`]. The world is kept. Events left in unread queues count as undelivered.
    pub async fn go_down(&self) {
        self.inner.faults().down = true;
        self.forget_gracefully();
        self.inner.stop_listening().await;
        // Whatever connected while the listener was stopping goes too.
        self.forget_gracefully();
        self.inner.bump();
        tracing::info!(target: "mahua::sim", "server down");
    }

    /// Close every socket after what is queued for it, and start a fresh session table.
    fn forget_gracefully(&self) {
        let dropped = {
            let mut sessions = self.inner.sessions();
            let dropped = sessions.queued();
            sessions.close_all();
            *sessions = Inner::fresh_sessions(&self.inner.cfg);
            dropped
        };
        self.inner.lost(dropped as u64);
    }

    /// The server starts again on the same address, with no sessions.
    pub async fn come_up(&self) -> std::io::Result<()> {
        let listener = TcpListener::bind(self.inner.addr).await?;
        self.inner.listen(listener);
        self.inner.faults().down = false;
        self.inner.bump();
        tracing::info!(target: "mahua::sim", addr = %self.inner.addr, "server up");
        Ok(())
    }

    /// [`Sim::go_down`] and at once [`Sim::come_up`]: every session key is new afterwards.
    pub async fn restart(&self) -> std::io::Result<()> {
        self.go_down().await;
        self.come_up().await
    }

    /// Whether the server is down.
    #[must_use]
    pub fn is_down(&self) -> bool {
        self.inner.faults().down
    }

    /// How many pushed events reached no client: no bound session wanted them, their
    /// socket was gone before they could be written, an unread queue was full, or the
    /// queue holding them was forgotten.
    #[must_use]
    pub fn undelivered(&self) -> u64 {
        self.inner.undelivered.load(Ordering::Relaxed)
    }

    /// How many sessions are bound to the bot (and so get events).
    #[must_use]
    pub fn bound_sessions(&self) -> usize {
        self.inner.sessions().bound_count()
    }

    /// How many events wait in unread queues.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.inner.sessions().queued()
    }
}
