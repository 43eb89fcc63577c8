//! Writers shared by the export formats: JSON Lines output and field selection.

use std::io::Write;

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
    record.str(field).ok_or_else(|| {
        std::io::Error::other(format!(
            "record `{}` has no text field `{field}`",
            record.meta.id
        ))
    })
}
