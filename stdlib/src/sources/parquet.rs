//! The `parquet` source: Apache Parquet files.

mod values;

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use ::parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use ::parquet::arrow::ProjectionMask;
use arrow_array::RecordBatch;
use dtac_interpreter::resolve::Node;
use dtac_interpreter::signature::{FieldSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, OpError, SourceOp, StageImpl};
use dtac_runtime::record::Fields;
use serde_json::Value as Json;

use crate::settings::Settings;

use super::{FIELDS, ID_FIELD, LIMIT, PATH, SAMPLE, SCHEMA, SEED, SPLIT};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[PATH],
    settings: &[
        SCHEMA,
        FIELDS,
        ID_FIELD,
        SPLIT,
        SAMPLE,
        SEED,
        LIMIT,
        FieldSpec::maybe(
            "columns",
            Type::List(&Type::Str),
            "Read only these columns (before renaming); all columns by default.",
        ),
    ],
    output: Output::FromSchema,
    ..Signature::new(
        "parquet",
        SignatureKind::Source,
        "Read records from a Parquet file, one row per record",
    )
};

const DOC: &str = r#"Reads a Parquet file (as written by pandas, Polars, Arrow or 🤗 Datasets): each row
becomes one record. Strings, integers, floats, booleans and lists map to the recipe's
`str`, `int`, `float`, `bool` and `list[...]`; nested structs become records (`any`).
Row groups stream, so large files are not loaded at once.

Other values: NaN and infinite floats are null; decimals are floats; maps are records;
dates are `"YYYY-MM-DD"` text, times `"HH:MM:SS"`, timestamps ISO 8601 text
(`"2024-05-01T12:30:00"`, with `Z` and in UTC when the column has a time zone); binary
values are base64 text. A column of another type (durations, intervals, unions) is an
error naming it: leave it out with `columns`. Messages name rows as `row N`, counted
from 1. Snappy, gzip, LZ4 and zstd compression are read; Brotli is not.

```dta
dataset math: parquet("data/train-00000-of-00001.parquet") {
    columns = ["problem", "solution", "answer"],
    fields = { question = "problem" },
    sample = 1000,
    seed = 7,
}
```
"#;

/// Rows per batch read: the reader decodes whole row groups' pages, but hands out and
/// converts this many rows at a time.
const BATCH: usize = 1024;

/// The runnable source.
#[derive(Debug)]
pub struct ParquetSource {
    shape: super::read::Shape,
    columns: Vec<String>,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let path = super::input_path(node)?;
    let s = Settings(&node.settings);
    Ok(StageImpl::Source(Arc::new(ParquetSource {
        columns: s.strings("columns"),
        shape: super::read::Shape::new(path, s),
    })))
}

impl ParquetSource {
    fn fatal(&self, what: String, help: &str) -> OpError {
        OpError::Fatal {
            message: format!("`{}` {what}", self.shape.path.display()),
            help: help.into(),
        }
    }

    fn open(&self) -> Result<ParquetRecordBatchReaderBuilder<File>, OpError> {
        let file = super::open(&self.shape.path)?;
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
            self.fatal(
                format!("is not a readable Parquet file: {e}"),
                "check that the file is a complete Parquet file; CSV and JSON Lines files \
                 have sources of their own",
            )
        })
    }

    /// A reader of the chosen columns, in batches of [`BATCH`] rows.
    fn reader(&self) -> Result<ParquetRecordBatchReader, OpError> {
        let mut builder = self.open()?.with_batch_size(BATCH);
        if !self.columns.is_empty() {
            let fields = builder.schema().fields();
            let mut roots = Vec::with_capacity(self.columns.len());
            for name in &self.columns {
                match fields.iter().position(|f| f.name() == name) {
                    Some(i) => roots.push(i),
                    None => {
                        let known: Vec<String> =
                            fields.iter().map(|f| format!("`{}`", f.name())).collect();
                        return Err(self.fatal(
                            format!("has no column `{name}`"),
                            &format!("its columns are {}", known.join(", ")),
                        ));
                    }
                }
            }
            let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
            builder = builder.with_projection(mask);
        }
        builder.build().map_err(|e| {
            self.fatal(
                format!("cannot be read: {e}"),
                "check that the file is a complete Parquet file",
            )
        })
    }

    /// One batch as rows of fields, in order.
    fn rows(&self, batch: &RecordBatch) -> Result<Vec<Fields>, OpError> {
        let schema = batch.schema();
        let mut columns = Vec::with_capacity(batch.num_columns());
        for (field, array) in schema.fields().iter().zip(batch.columns()) {
            let values = values::column(array.as_ref()).map_err(|e| {
                self.fatal(
                    format!("column `{}`: {e}", field.name()),
                    "leave the column out with `columns = [...]`",
                )
            })?;
            columns.push((field.name(), values));
        }
        let mut rows = Vec::with_capacity(batch.num_rows());
        for i in 0..batch.num_rows() {
            let mut fields = Fields::new();
            for (name, values) in &mut columns {
                let v = values.get_mut(i).map(std::mem::take).unwrap_or(Json::Null);
                fields.insert(name.to_string(), v);
            }
            rows.push(fields);
        }
        Ok(rows)
    }
}

impl SourceOp for ParquetSource {
    fn read(&self, emit: &mut dyn FnMut(Result<Fields, String>) -> bool) -> Result<(), OpError> {
        let mut reader = self.reader()?;
        let mut pending = Vec::new().into_iter();
        let mut row = 0u64;
        let mut failed = None;
        let mut records = std::iter::from_fn(|| loop {
            if let Some(fields) = pending.next() {
                row += 1;
                return Some(self.shape.shape(fields, row, &format!("row {row}")));
            }
            let batch = match reader.next()? {
                Ok(batch) => batch,
                Err(e) => {
                    failed = Some(self.fatal(
                        format!("cannot be read after row {row}: {e}"),
                        "the file may be damaged or truncated; write it again",
                    ));
                    return None;
                }
            };
            match self.rows(&batch) {
                Ok(rows) => pending = rows.into_iter(),
                Err(e) => {
                    failed = Some(e);
                    return None;
                }
            }
        });
        self.shape.select(&mut records, emit);
        failed.map_or(Ok(()), Err)
    }

    fn files(&self) -> Vec<PathBuf> {
        vec![self.shape.path.clone()]
    }

    fn count(&self) -> Option<u64> {
        let builder = self.open().ok()?;
        let rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
        Some(self.shape.estimate(rows))
    }
}
