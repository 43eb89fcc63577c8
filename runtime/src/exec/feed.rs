//! Feeding a stage its first input.
//!
//! Records arrive from the upstream stage through a bounded channel. A stage that must
//! first wait for its other inputs (a `train.answer` reference, an `against` dataset)
//! cannot leave that channel full: when the other input is itself upstream of the first
//! (the usual case: `verify(candidates) { answer = train.answer }` where `candidates`
//! reads `train`), the pipeline would deadlock. So while it waits, the feeder drains the
//! channel and only counts; every upstream record is in the store already, so once the
//! stage may start, the feeder replays the drained ones from the store, then forwards the
//! rest live. Memory stays bounded either way.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::record::Record;
use crate::store::{read, Store};

/// Rows read from the store per query while replaying.
const REPLAY_CHUNK: u64 = 512;

pub(super) async fn feeder(
    store: Store,
    upstream_key: String,
    mut rx: mpsc::Receiver<Arc<Record>>,
    go: oneshot::Receiver<()>,
    tx: mpsc::Sender<Arc<Record>>,
) {
    let mut drained = 0u64;
    let mut closed = false;
    let mut go = go;
    loop {
        tokio::select! {
            biased;
            started = &mut go => {
                if started.is_err() {
                    return;
                }
                break;
            }
            message = rx.recv(), if !closed => match message {
                Some(_) => drained += 1,
                None => closed = true,
            },
        }
    }
    if drained > 0 {
        // The upstream stored each record before sending it; make sure it is committed.
        if store.writer().flush().await.is_err() {
            return;
        }
        let mut from = 0;
        while from < drained {
            let limit = REPLAY_CHUNK.min(drained - from);
            let rows = match store.with_reader(|c| read::outputs(c, &upstream_key, from, limit)) {
                Ok(rows) if !rows.is_empty() => rows,
                _ => return,
            };
            for (seq, data) in rows {
                from = seq + 1;
                let Ok(record) = serde_json::from_str::<Record>(&data) else {
                    return;
                };
                if tx.send(Arc::new(record)).await.is_err() {
                    return;
                }
            }
        }
    }
    while let Some(record) = rx.recv().await {
        if tx.send(record).await.is_err() {
            return;
        }
    }
}

/// Reads a finished stage's outputs from the store, in order, `chunk` rows at a time.
pub(super) fn read_all(store: &Store, key: &str) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    let mut from = 0;
    loop {
        let rows = store
            .with_reader(|c| read::outputs(c, key, from, 4096))
            .map_err(|e| e.to_string())?;
        if rows.is_empty() {
            return Ok(out);
        }
        for (seq, data) in rows {
            from = seq + 1;
            out.push(serde_json::from_str(&data).map_err(|e| e.to_string())?);
        }
    }
}
