//! A script's queue of deliveries: bounded for events, so a script that falls behind drops
//! its own events (counted and reported) instead of holding up the others.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::script::Delivery;

/// How many events may wait for one script before new ones are dropped for it.
pub const DEFAULT_CAPACITY: usize = 1000;

/// Counts kept on a script's queue, shared by the host and the script's thread.
#[derive(Debug, Default)]
pub struct QueueStats {
    depth: AtomicUsize,
    delivered: AtomicU64,
    dropped: AtomicU64,
}

impl QueueStats {
    /// The script's thread took an event off the queue.
    pub fn taken(&self) {
        self.depth.fetch_sub(1, Ordering::Relaxed);
        self.delivered.fetch_add(1, Ordering::Relaxed);
    }

    /// Events waiting now.
    #[must_use]
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    /// Events the script has taken off its queue.
    #[must_use]
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Events dropped because the queue was full.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The host's end of a script's queue.
#[derive(Debug)]
pub struct ScriptQueue {
    name: Arc<str>,
    tx: mpsc::UnboundedSender<Delivery>,
    stats: Arc<QueueStats>,
    capacity: usize,
    /// Dropping since the last event that got through; reported when it starts and ends.
    overflowing: AtomicBool,
    dropped_at_overflow: AtomicU64,
}

impl ScriptQueue {
    /// A queue for the script `name` holding at most `capacity` events; the receiving end
    /// and the counts for the script's thread.
    #[must_use]
    pub fn new(
        name: Arc<str>,
        capacity: usize,
    ) -> (Self, mpsc::UnboundedReceiver<Delivery>, Arc<QueueStats>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let stats = Arc::new(QueueStats::default());
        let queue = Self {
            name,
            tx,
            stats: stats.clone(),
            capacity: capacity.max(1),
            overflowing: AtomicBool::new(false),
            dropped_at_overflow: AtomicU64::new(0),
        };
        (queue, rx, stats)
    }

    /// Queue an event; false (and counted) when the queue is full or the script has ended.
    pub fn event(&self, ev: Delivery) -> bool {
        if self.stats.depth() >= self.capacity {
            let dropped = self.stats.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if !self.overflowing.swap(true, Ordering::Relaxed) {
                self.dropped_at_overflow.store(dropped - 1, Ordering::Relaxed);
                tracing::warn!(
                    script = &*self.name,
                    "falling behind: {} events are waiting for it, so new ones are dropped \
                     for this script only until it catches up ({dropped} dropped in all)",
                    self.capacity
                );
            }
            return false;
        }
        if self.overflowing.swap(false, Ordering::Relaxed) {
            let total = self.stats.dropped();
            let now = total - self.dropped_at_overflow.load(Ordering::Relaxed);
            tracing::warn!(
                script = &*self.name,
                "caught up; {now} events were dropped for it while it was behind \
                 ({total} in all)"
            );
        }
        self.stats.depth.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(ev).is_err() {
            self.stats.depth.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Queue a lifecycle moment (`load`, `connect`, `disconnect`): never dropped.
    pub fn lifecycle(&self, d: Delivery) {
        let _ = self.tx.send(d);
    }

    /// The counts of this queue.
    #[must_use]
    pub fn stats(&self) -> &QueueStats {
        &self.stats
    }
}
