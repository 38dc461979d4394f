//! The running callbacks and timers of one script, stopped on unload.

use std::cell::RefCell;
use std::future::Future;

use tokio::task::{AbortHandle, JoinSet};

/// A script's local tasks: callbacks that are running, and timers that will start more.
#[derive(Default)]
pub struct Tasks {
    callbacks: RefCell<JoinSet<()>>,
    timers: RefCell<JoinSet<()>>,
}

fn spawn_into(set: &RefCell<JoinSet<()>>, fut: impl Future<Output = ()> + 'static) -> AbortHandle {
    let mut set = set.borrow_mut();
    // Forget tasks that have finished so the set stays small.
    while set.try_join_next().is_some() {}
    set.spawn_local(fut)
}

/// Wait until every task of `set` has finished.
async fn join(set: &RefCell<JoinSet<()>>) {
    loop {
        // Take the set out so awaiting does not hold the borrow while tasks add more.
        let mut taken = std::mem::take(&mut *set.borrow_mut());
        if taken.is_empty() {
            return;
        }
        while taken.join_next().await.is_some() {}
    }
}

impl Tasks {
    /// Run a callback that has started waiting, as part of this script.
    pub fn spawn(&self, fut: impl Future<Output = ()> + 'static) -> AbortHandle {
        spawn_into(&self.callbacks, fut)
    }

    /// Run a timer (`bot.after`, `bot.every`) as part of this script.
    pub fn spawn_timer(&self, fut: impl Future<Output = ()> + 'static) -> AbortHandle {
        spawn_into(&self.timers, fut)
    }

    /// Stop every timer, so no new callback starts.
    pub fn stop_timers(&self) {
        self.timers.borrow_mut().abort_all();
    }

    /// Stop every task.
    pub fn abort_all(&self) {
        self.stop_timers();
        self.callbacks.borrow_mut().abort_all();
    }

    /// Wait until every running callback has finished.
    pub async fn join_callbacks(&self) {
        join(&self.callbacks).await;
    }

    /// Wait until every task, timers included, has finished (after `abort_all`).
    pub async fn join_all(&self) {
        join(&self.timers).await;
        join(&self.callbacks).await;
    }
}
