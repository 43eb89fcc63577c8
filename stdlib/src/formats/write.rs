//! Writers shared by the export formats: JSON Lines output, field selection, and the
//! JSON-Lines-or-Parquet choice of the trainer formats.

use std::io::Write;
use std::path::Path;

use serde_json::{Map, Value as Json};

use dtac_runtime::record::Record;

/// Writes one JSON value per line.
pub fn line(out: &mut dyn Write, value: &Json) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

/// The record's fields, or only `fields` in that order when given.
pub fn select(record: &Record, fields: &[String]) -> Map<String, Json> {
    if fields.is_empty() {
        return record.fields.clone();
    }
    let mut out = Map::new();
    for f in fields {
        if let Some(v) = record.fields.get(f) {
            out.insert(f.clone(), v.clone());
        }
    }
    out
}

/// A text field, or an error naming the record.
pub fn text<'a>(record: &'a Record, field: &str) -> std::io::Result<&'a str> {
    record
        .str(field)
        .ok_or_else(|| missing(record, &format!("has no text field `{field}`")))
}

/// An error about one record: `record `STAGE/HASH` (id `17`) PROBLEM`.
pub fn missing(record: &Record, problem: &str) -> std::io::Error {
    let id = record.key_of("id");
    let also = if id.is_empty() || id == record.meta.id {
        String::new()
    } else {
        format!(" (id `{id}`)")
    };
    std::io::Error::other(format!("record `{}`{also} {problem}", record.meta.id))
}

/// How a trainer format writes its examples: JSON Lines, or Parquet when the path ends
/// in `.parquet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Jsonl,
    Parquet,
}

impl Layout {
    pub fn of(path: &Path) -> Layout {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
        {
            Layout::Parquet
        } else {
            Layout::Jsonl
        }
    }
}

/// Writes the examples, one per item; `columns` orders the Parquet columns. Returns how
/// many were written. The first error stops the export.
pub fn examples(
    layout: Layout,
    columns: &[&str],
    rows: &mut dyn Iterator<Item = std::io::Result<Map<String, Json>>>,
    out: &mut dyn Write,
) -> std::io::Result<u64> {
    match layout {
        Layout::Jsonl => {
            let mut n = 0;
            for row in rows {
                line(out, &Json::Object(row?))?;
                n += 1;
            }
            Ok(n)
        }
        Layout::Parquet => {
            let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
            let options = super::parquet::ParquetOptions::default();
            super::parquet::write_rows(rows, &columns, &options, out)
        }
    }
}
