//! Exports: each `export STAGE to "PATH" as FORMAT` is written to a temporary file beside
//! PATH, synced, then renamed over PATH. A reader sees the old file or the new one, never
//! half of one, and a failed export leaves nothing behind.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::{Failure, Run};
use crate::op::Exporter;
use crate::record::Record;
use crate::store::read;

/// One written export.
#[derive(Clone, Debug, Serialize)]
pub struct ExportResult {
    pub stage: String,
    pub path: PathBuf,
    pub format: String,
    pub examples: u64,
}

pub(super) async fn write_all(
    run: &Arc<Run>,
    exporters: &[Arc<dyn Exporter>],
) -> Result<Vec<ExportResult>, Failure> {
    let mut results = Vec::new();
    for (export, exporter) in run.recipe.exports.iter().zip(exporters) {
        let key = run.keys[&export.stage].key.clone();
        let store = run.store.clone();
        let path = export.path.clone();
        let exporter = exporter.clone();
        let written = tokio::task::spawn_blocking(move || {
            write_atomically(&path, |out| {
                let mut records = StoredRecords::new(store, key);
                let n = exporter.write(&mut records, out)?;
                records.error.map_or(Ok(n), Err)
            })
        })
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))
        .and_then(|r| r);
        match written {
            Ok(examples) => {
                run.observer.note(&format!(
                    "wrote {examples} examples to {}",
                    export.path.display()
                ));
                results.push(ExportResult {
                    stage: export.stage.clone(),
                    path: export.path.clone(),
                    format: export.format.name.to_string(),
                    examples,
                });
            }
            Err(e) => {
                return Err(Failure {
                    stage: export.stage.clone(),
                    message: format!("cannot write `{}`: {e}", export.path.display()),
                    help: "check that the directory is writable and the disk has room".into(),
                })
            }
        }
    }
    Ok(results)
}

/// Writes through `f` into `PATH.tmp`, then renames it to `path`.
pub fn write_atomically(
    path: &Path,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<u64>,
) -> std::io::Result<u64> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    let tmp = path.with_file_name(format!(".{name}.dtac-tmp-{}", std::process::id()));
    let result = (|| {
        let file = File::create(&tmp)?;
        let mut out = BufWriter::new(file);
        let n = f(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(n)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A stage's stored outputs as an iterator, read in chunks.
struct StoredRecords {
    store: crate::store::Store,
    key: String,
    buffer: std::vec::IntoIter<Record>,
    next_seq: u64,
    done: bool,
    error: Option<std::io::Error>,
}

impl StoredRecords {
    fn new(store: crate::store::Store, key: String) -> Self {
        StoredRecords {
            store,
            key,
            buffer: Vec::new().into_iter(),
            next_seq: 0,
            done: false,
            error: None,
        }
    }
}

impl Iterator for StoredRecords {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if let Some(r) = self.buffer.next() {
                return Some(r);
            }
            if self.done {
                return None;
            }
            let rows = self
                .store
                .with_reader(|c| read::outputs(c, &self.key, self.next_seq, 1024));
            match rows {
                Ok(rows) if rows.is_empty() => self.done = true,
                Ok(rows) => {
                    let mut batch = Vec::with_capacity(rows.len());
                    for (seq, data) in rows {
                        self.next_seq = seq + 1;
                        match serde_json::from_str(&data) {
                            Ok(r) => batch.push(r),
                            Err(e) => {
                                self.error = Some(std::io::Error::other(e.to_string()));
                                self.done = true;
                                return None;
                            }
                        }
                    }
                    self.buffer = batch.into_iter();
                }
                Err(e) => {
                    self.error = Some(std::io::Error::other(e.to_string()));
                    self.done = true;
                }
            }
        }
    }
}
