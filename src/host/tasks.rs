//! The running callbacks and timers of one script, stopped together on unload.

use std::cell::RefCell;
use std::future::Future;

use tokio::task::{AbortHandle, JoinSet};

/// A set of a script's local tasks.
#[derive(Default)]
pub struct Tasks {
    set: RefCell<JoinSet<()>>,
}

impl Tasks {
    /// Run `fut` on the current `LocalSet` as part of this script.
    pub fn spawn(&self, fut: impl Future<Output = ()> + 'static) -> AbortHandle {
        let mut set = self.set.borrow_mut();
        // Forget tasks that have finished so the set stays small.
        while set.try_join_next().is_some() {}
        set.spawn_local(fut)
    }

    /// How many tasks are still running.
    #[must_use]
    pub fn len(&self) -> usize {
        let mut set = self.set.borrow_mut();
        while set.try_join_next().is_some() {}
        set.len()
    }

    /// Whether no task is running.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stop every task.
    pub fn abort_all(&self) {
        self.set.borrow_mut().abort_all();
    }

    /// Wait until every task has finished.
    pub async fn join_all(&self) {
        loop {
            let next = {
                let mut set = self.set.borrow_mut();
                if set.is_empty() {
                    return;
                }
                // Take the set out so awaiting does not hold the borrow.
                std::mem::take(&mut *set)
            };
            let mut next = next;
            while next.join_next().await.is_some() {}
        }
    }
}
