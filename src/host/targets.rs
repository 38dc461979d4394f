//! Which conversation a recently seen message id belongs to.

use std::collections::{HashMap, VecDeque};

/// How many message ids are remembered.
pub const CAPACITY: usize = 4096;

/// A bounded map from message id to conversation id; the newest sighting wins.
#[derive(Debug, Default)]
pub struct TargetCache {
    /// Message id to (conversation, sighting number).
    map: HashMap<i64, (i64, u64)>,
    /// Sightings, oldest first: (message id, sighting number).
    order: VecDeque<(i64, u64)>,
    seq: u64,
}

impl TargetCache {
    /// Remember that message `id` belongs to conversation `target`.
    pub fn record(&mut self, id: i64, target: i64) {
        self.seq += 1;
        self.map.insert(id, (target, self.seq));
        self.order.push_back((id, self.seq));
        while self.order.len() > CAPACITY {
            if let Some((old, seq)) = self.order.pop_front() {
                // Only forget it if no newer sighting replaced it.
                if self.map.get(&old).is_some_and(|&(_, s)| s == seq) {
                    self.map.remove(&old);
                }
            }
        }
    }

    /// The conversation of message `id`, if it was seen recently.
    #[must_use]
    pub fn get(&self, id: i64) -> Option<i64> {
        self.map.get(&id).map(|&(t, _)| t)
    }

    /// How many ids are remembered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_sighting_wins_and_the_oldest_go() {
        let mut c = TargetCache::default();
        c.record(1, 10);
        c.record(1, 20);
        assert_eq!(c.get(1), Some(20));
        for i in 0..CAPACITY as i64 * 2 {
            c.record(1000 + i, 5);
        }
        assert_eq!(c.get(1), None);
        assert!(c.len() <= CAPACITY);
        assert_eq!(c.get(1000 + CAPACITY as i64 * 2 - 1), Some(5));
    }
}
