//! The `csv` export format: flat records as comma-separated values.

use std::io::Write;
use std::sync::Arc;

use dtac_interpreter::resolve::ExportNode;
use dtac_interpreter::signature::{FieldSpec, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, Exporter};
use dtac_runtime::record::Record;
use serde_json::{Map, Value as Json};

use crate::settings::Settings;

use super::spool::Spool;
use super::{CARD, FIELDS};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[
        FIELDS,
        FieldSpec::optional(
            "delimiter",
            Type::Str,
            "\",\"",
            "The field separator, one character.",
        ),
        FieldSpec::optional(
            "header",
            Type::Bool,
            "true",
            "Write a header row of field names.",
        ),
        CARD,
    ],
    ..Signature::new(
        "csv",
        SignatureKind::ExportFormat,
        "Write records as CSV rows, one column per field",
    )
};

const DOC: &str = r#"Writes one row per record (RFC 4180 quoting), columns in the order of `fields` or of the
records' fields. Text is written as it is; numbers and booleans as JSON writes them;
lists and records as JSON text; a missing or null field as an empty cell. Meant for
inspection in a spreadsheet and for reports such as `token_shift` tables.

With `fields`, the columns are known and rows stream straight to the file. Without, the
columns are every field any record has, in the order first seen (the fields of one record
in name order), so the export passes over the records twice, through a temporary file.

```dta
export shifts to "out/token_shift.csv" as csv {}
```
"#;

/// The runnable format.
#[derive(Debug)]
pub struct CsvExport {
    fields: Vec<String>,
    delimiter: u8,
    header: bool,
}

pub fn build(export: &ExportNode) -> Result<Arc<dyn Exporter>, BuildError> {
    let s = Settings(&export.settings);
    Ok(Arc::new(CsvExport {
        fields: s.strings("fields"),
        delimiter: delimiter(s.str("delimiter").unwrap_or(","))?,
        header: s.bool("header").unwrap_or(true),
    }))
}

/// A `delimiter` setting as the one byte the csv crate splits on.
pub fn delimiter(text: &str) -> Result<u8, BuildError> {
    match text.as_bytes() {
        [b] if b.is_ascii() => Ok(*b),
        _ => Err(BuildError::Invalid {
            message: format!("the delimiter {text:?} is not one ASCII character"),
            help: "write one character: `\",\"`, `\";\"`, `\"|\"`, or `\"\\t\"` for tabs".into(),
        }),
    }
}

/// One cell: text as it is, other values as JSON text, nothing for null.
fn cell(value: Option<&Json>) -> std::borrow::Cow<'_, str> {
    match value {
        None | Some(Json::Null) => "".into(),
        Some(Json::String(s)) => s.as_str().into(),
        Some(other) => other.to_string().into(),
    }
}

impl CsvExport {
    fn row(
        writer: &mut ::csv::Writer<&mut dyn Write>,
        columns: &[String],
        fields: &Map<String, Json>,
    ) -> std::io::Result<()> {
        for column in columns {
            writer.write_field(cell(fields.get(column)).as_bytes())?;
        }
        // Ends the row started field by field above.
        writer.write_record(None::<&[u8]>)?;
        Ok(())
    }
}

impl Exporter for CsvExport {
    fn write(
        &self,
        records: &mut dyn Iterator<Item = Record>,
        out: &mut dyn Write,
    ) -> std::io::Result<u64> {
        let mut writer = ::csv::WriterBuilder::new()
            .delimiter(self.delimiter)
            .flexible(true)
            .from_writer(out);
        let mut n = 0;
        if !self.fields.is_empty() {
            if self.header {
                writer.write_record(&self.fields)?;
            }
            for record in records {
                CsvExport::row(&mut writer, &self.fields, &record.fields)?;
                n += 1;
            }
        } else {
            // The header needs every field, known only after the last record.
            let mut spool = Spool::new()?;
            let mut columns: Vec<String> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for record in records {
                for name in record.fields.keys() {
                    if seen.insert(name.clone()) {
                        columns.push(name.clone());
                    }
                }
                spool.push(&record.fields)?;
            }
            if self.header && !columns.is_empty() {
                writer.write_record(&columns)?;
            }
            for row in spool.rows()? {
                CsvExport::row(&mut writer, &columns, &row?)?;
                n += 1;
            }
        }
        writer.flush()?;
        Ok(n)
    }
}
