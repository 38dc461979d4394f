//! A script's queue of deliveries: bounded for events, so a script that falls behind drops
//! its own events (counted and reported) instead of holding up the others.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::script::Delivery;
use crate::metrics::ScriptMetrics;

/// How many events may wait for one script before new ones are dropped for it.
pub const DEFAULT_CAPACITY: usize = 1000;

/// The host's end of one script version's queue.
#[derive(Debug)]
pub struct ScriptQueue {
    name: Arc<str>,
    tx: mpsc::UnboundedSender<Delivery>,
    /// Events waiting in this version's queue; the script's thread counts them down.
    depth: Arc<AtomicUsize>,
    capacity: usize,
    metrics: Arc<ScriptMetrics>,
    /// Dropping since the last event that got through; reported when it starts and ends.
    overflowing: AtomicBool,
    dropped_now: AtomicU64,
}

impl ScriptQueue {
    /// A queue for the script `name` holding at most `capacity` events; the receiving end
    /// and the depth counter for the script's thread, which calls `taken` on it.
    #[must_use]
    pub fn new(
        name: Arc<str>,
        capacity: usize,
        metrics: Arc<ScriptMetrics>,
    ) -> (Self, mpsc::UnboundedReceiver<Delivery>, Arc<AtomicUsize>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let depth = Arc::new(AtomicUsize::new(0));
        let queue = Self {
            name,
            tx,
            depth: depth.clone(),
            capacity: capacity.max(1),
            metrics,
            overflowing: AtomicBool::new(false),
            dropped_now: AtomicU64::new(0),
        };
        (queue, rx, depth)
    }

    /// Queue an event; false (and counted) when the queue is full or the script has ended.
    pub fn event(&self, ev: Delivery) -> bool {
        if self.depth.load(Ordering::Relaxed) >= self.capacity {
            let total = self.metrics.dropped();
            self.dropped_now.fetch_add(1, Ordering::Relaxed);
            if !self.overflowing.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    script = &*self.name,
                    "falling behind: {} events are waiting for it, so new ones are dropped \
                     for this script alone until it catches up ({total} dropped in all)",
                    self.capacity
                );
            }
            return false;
        }
        if self.overflowing.swap(false, Ordering::Relaxed) {
            let now = self.dropped_now.swap(0, Ordering::Relaxed);
            tracing::warn!(
                script = &*self.name,
                "caught up; {now} events were dropped for it while it was behind"
            );
        }
        self.depth.fetch_add(1, Ordering::Relaxed);
        self.metrics.queued();
        if self.tx.send(ev).is_err() {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            self.metrics.taken(false);
            return false;
        }
        true
    }

    /// Queue a lifecycle moment (`load`, `connect`, `disconnect`): never dropped.
    pub fn lifecycle(&self, d: Delivery) {
        self.metrics.queued();
        if self.tx.send(d).is_err() {
            self.metrics.taken(false);
        }
    }
}

/// The script's thread took an event off a queue whose depth counter is `depth`.
pub fn taken(depth: &AtomicUsize) {
    depth.fetch_sub(1, Ordering::Relaxed);
}
