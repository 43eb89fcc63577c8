//! The output side of a stage: ids, store rows, downstream channels, counts and score
//! histograms.

use std::collections::BTreeMap;
use std::sync::Arc;

use dtac_interpreter::signature::{Output, Signature, Type};
use tokio::sync::mpsc;

use crate::exec::summary::Histogram;
use crate::record::{record_id, Record};
use crate::store::{OutputRow, Store, StoreError};

pub(super) struct Emitter {
    stage: String,
    key: String,
    store: Store,
    outs: Vec<mpsc::Sender<Arc<Record>>>,
    rows: Vec<OutputRow>,
    seq: u64,
    /// Numeric output fields the op declares, each with its histogram.
    pub scores: BTreeMap<String, Histogram>,
}

impl Emitter {
    pub fn new(
        stage: &str,
        key: &str,
        store: Store,
        outs: Vec<mpsc::Sender<Arc<Record>>>,
        sig: &Signature,
    ) -> Emitter {
        let mut scores = BTreeMap::new();
        if let Output::Extends(fields) | Output::Fixed(fields) = sig.output {
            for f in fields {
                if matches!(f.ty, Type::Float | Type::Int) {
                    scores.insert(f.name.to_string(), Histogram::default());
                }
            }
        }
        Emitter {
            stage: stage.to_string(),
            key: key.to_string(),
            store,
            outs,
            rows: Vec::new(),
            seq: 0,
            scores,
        }
    }

    pub fn count(&self) -> u64 {
        self.seq
    }

    /// Emits the outputs made from one input (or group) `anchor`: assigns stable ids,
    /// stores them, then sends them downstream (stored first, so a consumer that replays
    /// from the store never misses one).
    pub async fn emit(&mut self, anchor: &str, outputs: Vec<Record>) -> Result<(), StoreError> {
        let mut ready = Vec::with_capacity(outputs.len());
        for (pos, mut record) in outputs.into_iter().enumerate() {
            record.meta.id = record_id(&self.stage, &[anchor.to_string()], pos as u64);
            record.meta.stage = self.stage.clone();
            if record.meta.parents.is_empty() && !anchor.is_empty() && !anchor.contains('\0') {
                record.meta.parents.push(anchor.to_string());
            }
            self.add_scores(&record);
            self.rows.push(OutputRow {
                seq: self.seq,
                gkey: record.key_of("id"),
                data: serde_json::to_string(&record).unwrap_or_default(),
            });
            self.seq += 1;
            ready.push(Arc::new(record));
        }
        // Rows go to the writer before records go downstream: a consumer that counted a
        // record and later replays it from the store must find it there.
        self.flush_rows()?;
        for record in ready {
            for out in &self.outs {
                // A consumer that has stopped (the run is stopping) no longer listens.
                let _ = out.send(record.clone()).await;
            }
        }
        Ok(())
    }

    /// Sends a source record (its id is already set).
    pub async fn emit_source(&mut self, record: Record) -> Result<(), StoreError> {
        self.add_scores(&record);
        self.rows.push(OutputRow {
            seq: self.seq,
            gkey: record.key_of("id"),
            data: serde_json::to_string(&record).unwrap_or_default(),
        });
        self.seq += 1;
        self.flush_rows()?;
        let record = Arc::new(record);
        for out in &self.outs {
            let _ = out.send(record.clone()).await;
        }
        Ok(())
    }

    fn add_scores(&mut self, record: &Record) {
        for (name, hist) in self.scores.iter_mut() {
            if let Some(v) = record.get(name).and_then(serde_json::Value::as_f64) {
                hist.add(v);
            }
        }
    }

    pub fn flush_rows(&mut self) -> Result<(), StoreError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.rows);
        self.store.writer().outputs(&self.key, rows)
    }

    /// Closes the downstream channels: consumers see the end of their input.
    pub fn close(&mut self) {
        self.outs.clear();
    }
}
