//! The `alpaca` export format: instruction / input / output triples.

use std::io::Write;
use std::sync::Arc;

use dtac_interpreter::resolve::ExportNode;
use dtac_interpreter::signature::{FieldSpec, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, Exporter};
use dtac_runtime::record::Record;
use serde_json::{Map, Value as Json};

use crate::settings::Settings;

use super::write::{examples, text, Layout};
use super::{CARD, SYSTEM};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[
        FieldSpec::optional(
            "instruction_field",
            Type::Str,
            "\"question\"",
            "The field written as `instruction`.",
        ),
        FieldSpec::maybe(
            "input_field",
            Type::Str,
            "The field written as `input`; an empty string when left out.",
        ),
        FieldSpec::optional(
            "output_field",
            Type::Str,
            "\"solution\"",
            "The field written as `output`.",
        ),
        SYSTEM,
        CARD,
    ],
    ..Signature::new(
        "alpaca",
        SignatureKind::ExportFormat,
        "Write `{ instruction, input, output }` examples (Alpaca format)",
    )
};

const DOC: &str = r#"Writes one `{"instruction", "input", "output"}` object per record, plus `"system"` when
`system` is given: the Alpaca format LLaMA-Factory and many SFT scripts read. A record
lacking one of the named fields (or holding something other than text there) is an
error naming the record and the field. A path ending in `.parquet` gets a Parquet file
with the same columns.

```dta
export ranked to "out/alpaca.jsonl" as alpaca { instruction_field = "question" }
```
"#;

/// The runnable format.
#[derive(Debug)]
pub struct AlpacaExport {
    instruction_field: String,
    input_field: Option<String>,
    output_field: String,
    system: Option<String>,
    layout: Layout,
}

pub fn build(export: &ExportNode) -> Result<Arc<dyn Exporter>, BuildError> {
    let s = Settings(&export.settings);
    Ok(Arc::new(AlpacaExport {
        instruction_field: s.str("instruction_field").unwrap_or("question").to_string(),
        input_field: s.str("input_field").map(str::to_string),
        output_field: s.str("output_field").unwrap_or("solution").to_string(),
        system: s.str("system").map(str::to_string),
        layout: Layout::of(&export.path),
    }))
}

impl AlpacaExport {
    fn example(&self, record: &Record) -> std::io::Result<Map<String, Json>> {
        let input = match &self.input_field {
            Some(field) => text(record, field)?,
            None => "",
        };
        let mut row = Map::new();
        row.insert(
            "instruction".into(),
            text(record, &self.instruction_field)?.into(),
        );
        row.insert("input".into(), input.into());
        row.insert("output".into(), text(record, &self.output_field)?.into());
        if let Some(system) = &self.system {
            row.insert("system".into(), system.as_str().into());
        }
        Ok(row)
    }
}

impl Exporter for AlpacaExport {
    fn write(
        &self,
        records: &mut dyn Iterator<Item = Record>,
        out: &mut dyn Write,
    ) -> std::io::Result<u64> {
        let columns: &[&str] = match self.system {
            Some(_) => &["instruction", "input", "output", "system"],
            None => &["instruction", "input", "output"],
        };
        let mut rows = records.map(|r| self.example(&r));
        examples(self.layout, columns, &mut rows, out)
    }
}
