//! The handles the OneBot face hands out: global message ids and forwarded contents.
//!
//! The world numbers messages per conversation; OneBot has one positive int32 per
//! message. Both directions are kept here, oldest forgotten first.

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

/// How many message ids are remembered.
const IDS_KEPT: usize = 16_384;

/// How many forwarded contents are remembered.
const FORWARDS_KEPT: usize = 256;

/// A message in the world: its conversation and its id there.
pub type Local = (i64, i64);

/// Global message ids and forwarded contents.
#[derive(Debug)]
pub struct Handles {
    by_local: HashMap<Local, i32>,
    by_global: HashMap<i32, Local>,
    order: VecDeque<i32>,
    next: i32,
    forwards: HashMap<String, Value>,
    forward_order: VecDeque<String>,
    next_forward: u64,
}

impl Default for Handles {
    fn default() -> Self {
        Self {
            by_local: HashMap::new(),
            by_global: HashMap::new(),
            order: VecDeque::new(),
            next: 1,
            forwards: HashMap::new(),
            forward_order: VecDeque::new(),
            next_forward: 1,
        }
    }
}

impl Handles {
    /// The global id of a world message, made up the first time it is asked for.
    pub fn global(&mut self, conversation: i64, id: i64) -> i32 {
        if let Some(g) = self.by_local.get(&(conversation, id)) {
            return *g;
        }
        let g = self.next;
        self.next = if self.next == i32::MAX { 1 } else { self.next + 1 };
        if let Some(old) = self.by_global.insert(g, (conversation, id)) {
            self.by_local.remove(&old);
        }
        self.by_local.insert((conversation, id), g);
        self.order.push_back(g);
        while self.order.len() > IDS_KEPT {
            if let Some(gone) = self.order.pop_front() {
                if let Some(local) = self.by_global.remove(&gone) {
                    self.by_local.remove(&local);
                }
            }
        }
        g
    }

    /// The world message a global id stands for.
    #[must_use]
    pub fn local(&self, global: i64) -> Option<Local> {
        let g = i32::try_from(global).ok()?;
        self.by_global.get(&g).copied()
    }

    /// Keep a forwarded content (OneBot nodes) and return its id.
    pub fn keep_forward(&mut self, nodes: Value) -> String {
        let id = format!("sim-forward-{}", self.next_forward);
        self.next_forward += 1;
        self.forwards.insert(id.clone(), nodes);
        self.forward_order.push_back(id.clone());
        while self.forward_order.len() > FORWARDS_KEPT {
            if let Some(gone) = self.forward_order.pop_front() {
                self.forwards.remove(&gone);
            }
        }
        id
    }

    /// A forwarded content by id.
    #[must_use]
    pub fn forward(&self, id: &str) -> Option<&Value> {
        self.forwards.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_go_both_ways_and_stay_stable() {
        let mut h = Handles::default();
        let a = h.global(5, 1);
        let b = h.global(6, 1);
        assert_ne!(a, b);
        assert_eq!(h.global(5, 1), a);
        assert_eq!(h.local(i64::from(b)), Some((6, 1)));
        assert_eq!(h.local(-1), None);
        assert_eq!(h.local(i64::from(i32::MAX) + 1), None);
    }
}
