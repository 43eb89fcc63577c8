//! Helpers: a temporary directory per test, recipes checked and resolved the way `dtac
//! run` does it, sources read to the end, exporters run into memory.

use std::path::PathBuf;
use std::sync::Arc;

use dtac_interpreter::resolve::{resolve, Recipe};
use dtac_interpreter::{check_path, CheckOptions};
use dtac_runtime::op::{BuildError, Exporter, SourceOp, StageImpl};
use dtac_runtime::record::{Fields, Record};
use serde_json::Value as Json;

/// A fresh directory, removed when dropped.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(name: &str) -> Dir {
        let path = std::env::temp_dir().join(format!("dtac-sf-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    pub fn write(&self, name: &str, data: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, data).unwrap();
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Checks and resolves `text` as `DIR/r.dta`; check errors fail the test.
pub fn recipe(dir: &Dir, text: &str) -> Recipe {
    let path = dir.write("r.dta", format!("version = 1\n{text}"));
    let registry = dtac_stdlib::registry();
    let checked = check_path(&path, &registry, &CheckOptions::default());
    assert!(
        !checked.has_errors(),
        "{:?}",
        checked.diags().collect::<Vec<_>>()
    );
    resolve(&checked, &registry, &|_| None).unwrap()
}

/// The source declared as `dataset NAME` in `text`.
pub fn source(dir: &Dir, text: &str) -> Result<Arc<dyn SourceOp>, BuildError> {
    let recipe = recipe(dir, text);
    let node = recipe.nodes.first().expect("a dataset");
    match dtac_stdlib::implementations().build(node)? {
        StageImpl::Source(s) => Ok(s),
        other => panic!("not a source: {other:?}"),
    }
}

/// Every record a source gives, problems included, in order.
pub fn read_all(source: &dyn SourceOp) -> Vec<Result<Fields, String>> {
    let mut out = Vec::new();
    source
        .read(&mut |r| {
            out.push(r);
            true
        })
        .unwrap();
    out
}

/// The fields of every record; any problem fails the test.
pub fn read_ok(source: &dyn SourceOp) -> Vec<Fields> {
    read_all(source)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// The exporter of the recipe's first `export`.
pub fn exporter(dir: &Dir, text: &str) -> Result<Arc<dyn Exporter>, BuildError> {
    let recipe = recipe(dir, text);
    let export = recipe.exports.first().expect("an export");
    dtac_stdlib::implementations().exporter(export)
}

/// Records with these fields, as a stage `s` would hold them.
pub fn records(rows: &[Json]) -> Vec<Record> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| Record::source("s", "data", i as u64, r.as_object().unwrap().clone()))
        .collect()
}

/// Runs `exporter` over `rows`; the bytes and the count, or the error.
pub fn export(exporter: &dyn Exporter, rows: &[Json]) -> std::io::Result<(Vec<u8>, u64)> {
    let mut out = Vec::new();
    let n = exporter.write(&mut records(rows).into_iter(), &mut out)?;
    Ok((out, n))
}

/// JSON Lines output as values.
pub fn lines(bytes: &[u8]) -> Vec<Json> {
    std::str::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A Parquet export's bytes, read back twice: the Arrow schema and row-group count from
/// the parquet crate, and the rows through dtac's own `parquet` source.
pub fn parquet_back(dir: &Dir, bytes: &[u8]) -> (arrow_schema::SchemaRef, usize, Vec<Fields>) {
    let path = dir.write("back.parquet", bytes);
    let file = std::fs::File::open(&path).unwrap();
    let builder =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = builder.schema().clone();
    let groups = builder.metadata().num_row_groups();
    let rows = read_ok(
        source(dir, "dataset d: parquet(\"back.parquet\") {}")
            .unwrap()
            .as_ref(),
    );
    (schema, groups, rows)
}

/// The recipe head every export test uses: a dataset `s` to export.
pub fn export_recipe(dir: &Dir, export: &str) -> String {
    dir.write("data.jsonl", "{\"id\": \"1\"}\n");
    format!("dataset s: jsonl(\"data.jsonl\") {{}}\nexport s to {export}\n")
}
