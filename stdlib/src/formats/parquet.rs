//! The `parquet` export format: records as they are, in Apache Parquet; and the Parquet
//! writer the trainer formats use for a `.parquet` path.
//!
//! Memory: the rows go to a [`Spool`] first (the schema must fit every row before the
//! first is written), then each row group is encoded in memory and copied to the output
//! as soon as it is complete. Peak use is about one row group, encoded, plus one batch of
//! rows as JSON; the spool holds the data once more on disk until the export ends.

use std::io::Write;
use std::sync::Arc;

use ::parquet::arrow::ArrowWriter;
use ::parquet::basic::{Compression, ZstdLevel};
use ::parquet::file::properties::WriterProperties;
use dtac_interpreter::resolve::ExportNode;
use dtac_interpreter::signature::{FieldSpec, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, Exporter};
use dtac_runtime::record::Record;
use serde_json::{Map, Value as Json};

use crate::settings::Settings;

use super::columns::Infer;
use super::spool::Spool;
use super::{CARD, FIELDS};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[
        FIELDS,
        FieldSpec::optional(
            "compression",
            Type::Enum(&["zstd", "snappy", "none"]),
            "\"zstd\"",
            "The column compression codec.",
        ),
        FieldSpec::optional("row_group_size", Type::Int, "10000", "Rows per row group."),
        CARD,
    ],
    ..Signature::new(
        "parquet",
        SignatureKind::ExportFormat,
        "Write records as they are, as a Parquet file",
    )
};

const DOC: &str = r#"Writes the records as a Parquet file, one column per field, with types from the records'
schema (`str`, `int`, `float`, `bool`, `list[...]`; other shapes as JSON text). Readable
by pandas, Polars, DuckDB and 🤗 Datasets.

Each column's type is inferred from every record: an `int` column that also holds
decimals is `float`; objects are structs; a column mixing types (strings and numbers,
say) holds each value's JSON text. Columns come in the order of `fields`, or as first
seen. The export passes over the records twice, through a temporary file.

```dta
export clean to "out/clean.parquet" as parquet { compression = "zstd" }
```
"#;

/// Rows per record batch handed to the writer: small enough to stay cheap in memory.
const BATCH: usize = 1024;

/// How Parquet output is written.
#[derive(Debug, Clone, Copy)]
pub struct ParquetOptions {
    pub compression: Compression,
    pub row_group_size: usize,
}

impl Default for ParquetOptions {
    /// The `parquet` format's defaults, also used by the trainer formats.
    fn default() -> Self {
        ParquetOptions {
            compression: Compression::ZSTD(ZstdLevel::default()),
            row_group_size: 10_000,
        }
    }
}

/// The runnable format.
#[derive(Debug)]
pub struct ParquetExport {
    fields: Vec<String>,
    options: ParquetOptions,
}

pub fn build(export: &ExportNode) -> Result<Arc<dyn Exporter>, BuildError> {
    let s = Settings(&export.settings);
    let compression = match s.str("compression").unwrap_or("zstd") {
        "snappy" => Compression::SNAPPY,
        "none" => Compression::UNCOMPRESSED,
        _ => Compression::ZSTD(ZstdLevel::default()),
    };
    let row_group_size = match s.int("row_group_size") {
        None => ParquetOptions::default().row_group_size,
        Some(n) if n > 0 => n as usize,
        Some(n) => {
            return Err(BuildError::Invalid {
                message: format!("`row_group_size` is {n}, but a row group holds at least one row"),
                help: "leave it out for 10000 rows per group".into(),
            })
        }
    };
    Ok(Arc::new(ParquetExport {
        fields: s.strings("fields"),
        options: ParquetOptions {
            compression,
            row_group_size,
        },
    }))
}

impl Exporter for ParquetExport {
    fn write(
        &self,
        records: &mut dyn Iterator<Item = Record>,
        out: &mut dyn Write,
    ) -> std::io::Result<u64> {
        let mut rows = records.map(|r| Ok(super::write::select(&r, &self.fields)));
        write_rows(&mut rows, &self.fields, &self.options, out)
    }
}

/// Writes `rows` as one Parquet file, columns `first` first (present even if no row has
/// them), then the others as first seen. Returns how many rows were written.
pub fn write_rows(
    rows: &mut dyn Iterator<Item = std::io::Result<Map<String, Json>>>,
    first: &[String],
    options: &ParquetOptions,
    out: &mut dyn Write,
) -> std::io::Result<u64> {
    let mut spool = Spool::new()?;
    let mut infer = Infer::new(first);
    for row in rows {
        let row = row?;
        infer.add(&row);
        spool.push(&row)?;
    }
    let columns = infer.finish();
    let schema = Arc::new(columns.schema());
    let properties = WriterProperties::builder()
        .set_compression(options.compression)
        .set_max_row_group_row_count(Some(options.row_group_size))
        .build();
    // The writer needs a `Send` sink and `out` is not one: it writes into a buffer that
    // is emptied into `out` after every batch, so the buffer never holds more than the
    // row groups completed by that batch. Taking bytes out is safe where writing around
    // the writer is not: it counts file offsets as bytes pass through it, and the bytes
    // reach `out` in the order it wrote them.
    let mut writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(properties))
        .map_err(std::io::Error::other)?;
    let mut batch = Vec::with_capacity(BATCH);
    let mut spooled = spool.rows()?;
    loop {
        let row = spooled.next().transpose()?;
        let end = row.is_none();
        batch.extend(row);
        if batch.len() == BATCH || (end && !batch.is_empty()) {
            let records = columns.batch(&schema, &batch)?;
            writer.write(&records).map_err(std::io::Error::other)?;
            writer.sync()?;
            out.write_all(&std::mem::take(writer.inner_mut()))?;
            batch.clear();
        }
        if end {
            break;
        }
    }
    drop(spooled);
    let footer = writer.into_inner().map_err(std::io::Error::other)?;
    out.write_all(&footer)?;
    Ok(spool.len())
}
