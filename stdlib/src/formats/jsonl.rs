//! The `jsonl` export format: records as they are, one JSON object per line.

use std::io::Write;
use std::sync::Arc;

use dtac_interpreter::resolve::ExportNode;
use dtac_interpreter::signature::{FieldSpec, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, Exporter};
use dtac_runtime::record::Record;

use crate::settings::Settings;

use super::{CARD, FIELDS};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[
        FIELDS,
        FieldSpec::optional(
            "provenance",
            Type::Bool,
            "true",
            "Include each record's provenance (`_provenance`: teacher, prompt hash, parent \
             records, scores).",
        ),
        CARD,
    ],
    ..Signature::new(
        "jsonl",
        SignatureKind::ExportFormat,
        "Write records as they are, one JSON object per line",
    )
};

const DOC: &str = r#"Writes every record as one JSON object per line, with all its fields (or `fields`). This
is the lossless format: `jsonl` sources read it back unchanged.

```dta
export ranked to "out/ranked.jsonl" as jsonl { fields = ["id", "question", "solution", "vote_score"] }
```
"#;

/// The runnable format.
#[derive(Debug)]
pub struct JsonlExport {
    fields: Vec<String>,
    provenance: bool,
}

pub fn build(export: &ExportNode) -> Result<Arc<dyn Exporter>, BuildError> {
    let s = Settings(&export.settings);
    Ok(Arc::new(JsonlExport {
        fields: s.strings("fields"),
        provenance: s.bool("provenance").unwrap_or(true),
    }))
}

impl Exporter for JsonlExport {
    fn write(
        &self,
        records: &mut dyn Iterator<Item = Record>,
        out: &mut dyn Write,
    ) -> std::io::Result<u64> {
        let mut n = 0;
        for record in records {
            let mut obj = super::write::select(&record, &self.fields);
            if self.provenance {
                obj.insert(
                    "_provenance".into(),
                    serde_json::to_value(&record.meta).map_err(std::io::Error::other)?,
                );
            }
            super::write::line(out, &serde_json::Value::Object(obj))?;
            n += 1;
        }
        Ok(n)
    }
}
