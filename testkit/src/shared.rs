//! What every connection task and batch runner of one server shares.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::batch::BatchStore;
use crate::counter::Counters;
use crate::engine::Engine;
use crate::files::FileStore;
use crate::script::Script;

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) engine: Engine,
    pub(crate) counters: Arc<Counters>,
    pub(crate) models: Vec<String>,
    pub(crate) files: FileStore,
    pub(crate) batches: BatchStore,
    pub(crate) batch_delay: Duration,
    pub(crate) batch_expire_after: Option<usize>,
    /// Turns true when the server shuts down, so background batch runners stop too.
    pub(crate) stopped: watch::Receiver<bool>,
}

impl Shared {
    pub(crate) fn new(script: Script, stopped: watch::Receiver<bool>) -> Self {
        Shared {
            models: script.models(),
            counters: Arc::new(Counters::new(script.record)),
            files: FileStore::default(),
            batches: BatchStore::default(),
            batch_delay: script.batch_delay,
            batch_expire_after: script.batch_expire_after,
            stopped,
            engine: Engine::new(script),
        }
    }
}
