//! Which scripts get which event type: worked out once per type, and again only when a
//! script's subscriptions change, so a script that does not listen costs nothing per event.

use std::collections::BTreeMap;
use std::sync::Weak;

use super::queue::ScriptQueue;
use super::script::ScriptHandle;

/// More distinct event types than any server sends: past this the table starts over.
const MAX_TYPES: usize = 256;

/// The scripts' queues by event type.
#[derive(Default)]
pub struct Routes {
    /// The interest-change count the table was built at.
    built_at: u64,
    by_type: Vec<(String, Vec<Weak<ScriptQueue>>)>,
}

impl Routes {
    /// Forget every route (the set of scripts changed).
    pub fn clear(&mut self) {
        self.by_type.clear();
    }

    /// The queues of the scripts listening to `ty`, given the current interest-change count.
    pub fn get(
        &mut self,
        changes: u64,
        ty: &str,
        scripts: &BTreeMap<String, ScriptHandle>,
    ) -> &[Weak<ScriptQueue>] {
        if changes != self.built_at || self.by_type.len() >= MAX_TYPES {
            self.by_type.clear();
            self.built_at = changes;
        }
        let i = match self.by_type.iter().position(|(t, _)| t == ty) {
            Some(i) => i,
            None => {
                let queues = scripts
                    .values()
                    .filter(|s| s.wants(ty))
                    .map(|s| std::sync::Arc::downgrade(s.queue()))
                    .collect();
                self.by_type.push((ty.to_owned(), queues));
                self.by_type.len() - 1
            }
        };
        &self.by_type[i].1
    }
}
