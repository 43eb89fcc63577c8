//! The `csv` source: comma- (or otherwise) separated values.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use ::csv::{ByteRecord, Reader, ReaderBuilder};
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
        FieldSpec::optional(
            "delimiter",
            Type::Str,
            "\",\"",
            "The field separator, one character: `\"\\t\"` for TSV.",
        ),
        FieldSpec::optional(
            "header",
            Type::Bool,
            "true",
            "Whether the first row names the columns. Without a header, give `columns`.",
        ),
        FieldSpec::maybe(
            "columns",
            Type::List(&Type::Str),
            "Column names, in order, for a file without a header row.",
        ),
    ],
    output: Output::FromSchema,
    ..Signature::new(
        "csv",
        SignatureKind::Source,
        "Read records from a CSV file, one row per record",
    )
};

const DOC: &str = r#"Reads a CSV file (RFC 4180 quoting): each row becomes one record whose fields are the
columns. Values are strings, except where `schema` declares `int`, `float` or `bool`:
then the text is parsed, and a value that does not parse is an error naming the file, the
line and the column. A `bool` is `true`, `false`, `yes`, `no`, `1` or `0`, in any case. A
`list[...]` field holds JSON text (as the `csv` export writes lists). An empty cell of a
declared field counts as missing. Schema names are the names after `fields` renames.

Lines are counted in the file, so a quoted value spanning lines moves the count on; blank
lines are skipped. A row with more or fewer cells than there are columns is an error.
With `header = false`, `columns` names the columns; with a header, `columns` (when given)
replaces the header's names and must have as many.

```dta
dataset problems: csv("data/problems.tsv") {
    delimiter = "\t",
    schema = { id: str, question: str, answer: str },
}
```
"#;

/// The runnable source.
#[derive(Debug)]
pub struct CsvSource {
    shape: super::read::Shape,
    delimiter: u8,
    header: bool,
    columns: Vec<String>,
    /// `{ new = "old" }` renames, to find the schema type of a column by its file name.
    renames: Vec<(String, String)>,
    schema: Vec<(String, String)>,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let path = super::input_path(node)?;
    let s = Settings(&node.settings);
    let header = s.bool("header").unwrap_or(true);
    let columns = s.strings("columns");
    if !header && columns.is_empty() {
        return Err(BuildError::Invalid {
            message: "a CSV file without a header needs the names of its columns".into(),
            help: "name them in order: `columns = [\"id\", \"question\", \"answer\"]`".into(),
        });
    }
    Ok(StageImpl::Source(Arc::new(CsvSource {
        delimiter: crate::formats::csv::delimiter(s.str("delimiter").unwrap_or(","))?,
        header,
        columns,
        renames: s.string_map("fields"),
        schema: s.schema("schema").map(<[_]>::to_vec).unwrap_or_default(),
        shape: super::read::Shape::new(path, s),
    })))
}

/// How a declared column's text becomes a value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cell {
    Str,
    Int,
    Float,
    Bool,
    /// JSON text holding a list.
    List,
}

impl Cell {
    fn of(ty: &str) -> Cell {
        match ty.trim_end_matches('?') {
            "int" => Cell::Int,
            "float" => Cell::Float,
            "bool" => Cell::Bool,
            t if t.starts_with("list") => Cell::List,
            _ => Cell::Str,
        }
    }

    fn parse(self, text: &str) -> Result<Json, String> {
        let t = text.trim();
        match self {
            Cell::Str => Ok(Json::String(text.to_string())),
            Cell::Int => t
                .parse::<i64>()
                .map(Json::from)
                .map_err(|_| format!("`{text}` is not an integer")),
            Cell::Float => t
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Json::Number)
                .ok_or_else(|| format!("`{text}` is not a finite number")),
            Cell::Bool => match t.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(Json::Bool(true)),
                "false" | "no" | "0" => Ok(Json::Bool(false)),
                _ => Err(format!("`{text}` is not a boolean (true or false)")),
            },
            Cell::List => match serde_json::from_str(t) {
                Ok(list @ Json::Array(_)) => Ok(list),
                _ => Err(format!(
                    "`{text}` is not a JSON list such as `[\"a\", \"b\"]`"
                )),
            },
        }
    }
}

impl CsvSource {
    fn reader(&self) -> Result<Reader<std::fs::File>, OpError> {
        let file = super::open(&self.shape.path)?;
        Ok(ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(file))
    }

    fn fatal(&self, e: &::csv::Error) -> OpError {
        OpError::Fatal {
            message: format!("cannot read `{}`: {e}", self.shape.path.display()),
            help: "check that the file is readable".into(),
        }
    }

    /// The column names: the header row's, or `columns`.
    fn names(
        &self,
        reader: &mut Reader<std::fs::File>,
        record: &mut ByteRecord,
    ) -> Result<Vec<String>, OpError> {
        let path = self.shape.path.display();
        let mut names = self.columns.clone();
        if self.header {
            if !reader
                .read_byte_record(record)
                .map_err(|e| self.fatal(&e))?
            {
                return Ok(names);
            }
            let found = record
                .iter()
                .map(|n| String::from_utf8(n.to_vec()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| OpError::Fatal {
                    message: format!("`{path}`: the header row is not valid UTF-8"),
                    help: "save the file as UTF-8".into(),
                })?;
            if names.is_empty() {
                names = found;
            } else if names.len() != found.len() {
                return Err(OpError::Fatal {
                    message: format!(
                        "`{path}` has {} columns, but `columns` names {}",
                        found.len(),
                        names.len()
                    ),
                    help: "name every column, in order, or leave `columns` out to use the \
                           header"
                        .into(),
                });
            }
        }
        let mut seen = HashSet::new();
        if let Some(twice) = names.iter().find(|n| !seen.insert(n.as_str())) {
            return Err(OpError::Fatal {
                message: format!("`{path}`: the column `{twice}` appears twice"),
                help: "give every column its own name, with `columns` if the header repeats one"
                    .into(),
            });
        }
        Ok(names)
    }

    /// How each column's text is read: the schema's type for the name it is renamed to.
    fn cells(&self, names: &[String]) -> Vec<Option<Cell>> {
        names
            .iter()
            .map(|raw| {
                let name = self
                    .renames
                    .iter()
                    .find(|(_, old)| old == raw)
                    .map_or(raw.as_str(), |(new, _)| new.as_str());
                self.schema
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, ty)| Cell::of(ty))
            })
            .collect()
    }

    /// One row as a shaped record; `row` counts records from 1.
    fn fields(
        &self,
        record: &ByteRecord,
        names: &[String],
        cells: &[Option<Cell>],
        row: u64,
    ) -> Result<Fields, String> {
        let path = self.shape.path.display();
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != names.len() {
            return Err(format!(
                "{path}, line {line}: {} cells, but the file has {} columns",
                record.len(),
                names.len()
            ));
        }
        let mut fields = Fields::new();
        for ((raw, name), cell) in record.iter().zip(names).zip(cells) {
            let text = std::str::from_utf8(raw)
                .map_err(|_| format!("{path}, line {line}, column `{name}`: not valid UTF-8"))?;
            let value = match cell {
                None => Json::String(text.to_string()),
                Some(_) if text.trim().is_empty() => continue,
                Some(cell) => cell
                    .parse(text)
                    .map_err(|why| format!("{path}, line {line}, column `{name}`: {why}"))?,
            };
            fields.insert(name.clone(), value);
        }
        self.shape.shape(fields, row, &format!("line {line}"))
    }
}

impl SourceOp for CsvSource {
    fn read(&self, emit: &mut dyn FnMut(Result<Fields, String>) -> bool) -> Result<(), OpError> {
        let mut reader = self.reader()?;
        let mut record = ByteRecord::new();
        let names = self.names(&mut reader, &mut record)?;
        let cells = self.cells(&names);
        let mut failed = None;
        let mut row = 0u64;
        let mut rows = std::iter::from_fn(|| match reader.read_byte_record(&mut record) {
            Ok(false) => None,
            Ok(true) => {
                row += 1;
                Some(self.fields(&record, &names, &cells, row))
            }
            Err(e) => {
                failed = Some(e);
                None
            }
        });
        self.shape.select(&mut rows, emit);
        match failed {
            Some(e) => Err(self.fatal(&e)),
            None => Ok(()),
        }
    }

    fn files(&self) -> Vec<PathBuf> {
        vec![self.shape.path.clone()]
    }

    fn count(&self) -> Option<u64> {
        let mut reader = self.reader().ok()?;
        let mut record = ByteRecord::new();
        let mut rows = 0u64;
        while reader.read_byte_record(&mut record).ok()? {
            rows += 1;
        }
        let rows = if self.header {
            rows.saturating_sub(1)
        } else {
            rows
        };
        Some(self.shape.estimate(rows))
    }
}
