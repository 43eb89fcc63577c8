//! The server's batches, each a shared cell the HTTP handlers and its runner both reach.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::batch::state::{Batch, BatchRequest};

/// One batch: its state, and a doorbell that wakes its runner when a cancel arrives.
#[derive(Debug)]
pub(crate) struct BatchCell {
    state: Mutex<Batch>,
    pub(crate) cancel: Notify,
}

impl BatchCell {
    /// The state, for a short look or update; never held across an await.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Batch> {
        // Every update is a few field writes under one lock, never torn by a panic
        // halfway through anything that matters to a test.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Debug, Default)]
pub(crate) struct BatchStore {
    next: AtomicU64,
    batches: Mutex<BTreeMap<String, Arc<BatchCell>>>,
}

impl BatchStore {
    fn map(&self) -> MutexGuard<'_, BTreeMap<String, Arc<BatchCell>>> {
        self.batches.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new batch in status `validating`.
    pub(crate) fn create(&self, request: BatchRequest) -> Arc<BatchCell> {
        let number = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let batch = Batch::new(number, request);
        let id = batch.id.clone();
        let cell = Arc::new(BatchCell {
            state: Mutex::new(batch),
            cancel: Notify::new(),
        });
        self.map().insert(id, Arc::clone(&cell));
        cell
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<BatchCell>> {
        self.map().get(id).cloned()
    }

    /// Every batch, oldest first (ids are zero-padded counters, so map order is
    /// creation order).
    pub(crate) fn list(&self) -> Vec<Arc<BatchCell>> {
        self.map().values().cloned().collect()
    }
}
