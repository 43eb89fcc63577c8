//! Exports: each `export STAGE to "PATH" as FORMAT` is written to a temporary file beside
//! PATH, synced, then renamed over PATH. A reader sees the old file or the new one, never
//! half of one, and a failed export leaves nothing behind.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use dtac_interpreter::resolve::{ExportNode, Value};

use super::{Failure, Run, StageSummary};
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
    stages: &[StageSummary],
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
                if export.settings.get("card") == Some(&Value::Bool(true)) {
                    let card = card(run, export, examples, stages);
                    let path = card_path(&export.path);
                    let written = write_atomically(&path, |out| {
                        out.write_all(card.as_bytes())?;
                        Ok(0)
                    });
                    if let Err(e) = written {
                        return Err(Failure {
                            stage: export.stage.clone(),
                            message: format!("cannot write `{}`: {e}", path.display()),
                            help: "check that the directory is writable".into(),
                        });
                    }
                }

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

/// `out/data.jsonl` → `out/data.jsonl.md`.
fn card_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".md");
    path.with_file_name(name)
}

/// The dataset card: what the file holds and which stages and teachers made it.
fn card(run: &Run, export: &ExportNode, examples: u64, stages: &[StageSummary]) -> String {
    let mut lineage = Vec::new();
    let mut todo = vec![export.stage.clone()];
    while let Some(name) = todo.pop() {
        if lineage.contains(&name) {
            continue;
        }
        if let Some(node) = run.recipe.nodes.iter().find(|n| n.name == name) {
            todo.extend(node.upstream.iter().cloned());
        }
        lineage.push(name);
    }
    let mut teachers = std::collections::BTreeSet::new();
    for node in run
        .recipe
        .nodes
        .iter()
        .filter(|n| lineage.contains(&n.name))
    {
        for value in node.settings.values() {
            collect_models(value, &mut teachers);
        }
    }
    let file = export
        .path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let mut out = format!(
        "# {file}\n\n{examples} examples, format `{}`, from stage `{}` of `{}` (dtac {}).\n\n",
        export.format.name,
        export.stage,
        run.recipe
            .path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy(),
        env!("CARGO_PKG_VERSION"),
    );
    // The recipe file as it was run. Params are not listed (a param may come from the
    // environment, and could be a secret); the stage key below hashes every definition,
    // param value and input the exported data depends on.
    if let Ok(text) = std::fs::read(&run.recipe.path) {
        out.push_str(&format!(
            "Recipe sha256: `{}`\n\n",
            crate::hash::hash_bytes(&text)
        ));
    }
    out.push_str(&format!(
        "Stage key: `{}`\n\n## Stages\n\n| stage | op | in | out | dropped | errors |\n|---|---|---|---|---|---|\n",
        run.keys[&export.stage].key
    ));
    for s in stages.iter().filter(|s| lineage.contains(&s.name)) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            s.name,
            s.op,
            s.records_in,
            s.records_out,
            s.dropped.values().sum::<u64>(),
            s.errors
        ));
    }
    if !teachers.is_empty() {
        out.push_str("\n## Teachers\n\n");
        for (name, model) in &teachers {
            out.push_str(&format!("- `{name}`: {model}\n"));
        }
    }
    out
}

fn collect_models(value: &Value, out: &mut std::collections::BTreeSet<(String, String)>) {
    match value {
        Value::Model(m) => {
            out.insert((
                m.name.clone(),
                m.str("model").or(m.str("path")).unwrap_or("").to_string(),
            ));
        }
        Value::List(items) => items.iter().for_each(|v| collect_models(v, out)),
        Value::Record(fields) => fields.values().for_each(|v| collect_models(v, out)),
        _ => {}
    }
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
