//! Stopping a run: SIGINT/SIGTERM, a fatal error or the budget set a flag; ops stop
//! sending new requests, what is in flight finishes and is stored, and the run exits
//! resumable.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// Why the run is stopping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    Interrupted,
    Failed,
    Budget,
}

/// A shared stop flag with a wake-up for waiters.
#[derive(Clone, Debug, Default)]
pub struct Stop {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// 0 = running, else a `StopReason` + 1.
    state: AtomicU8,
    notify: Notify,
}

impl Stop {
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Requests a stop; the first reason given wins.
    pub fn stop(&self, reason: StopReason) {
        let code = reason as u8 + 1;
        if self
            .inner
            .state
            .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            self.inner.notify.notify_waiters();
        }
    }

    pub fn is_stopping(&self) -> bool {
        self.inner.state.load(Ordering::SeqCst) != 0
    }

    pub fn reason(&self) -> Option<StopReason> {
        match self.inner.state.load(Ordering::SeqCst) {
            1 => Some(StopReason::Interrupted),
            2 => Some(StopReason::Failed),
            3 => Some(StopReason::Budget),
            _ => None,
        }
    }

    /// Resolves once a stop is requested.
    pub async fn stopped(&self) {
        loop {
            let notified = self.inner.notify.notified();
            if self.is_stopping() {
                return;
            }
            notified.await;
        }
    }
}
