//! The `sharegpt` export format: `conversations` with `from` / `value` turns.

use std::io::Write;
use std::sync::Arc;

use dtac_interpreter::resolve::ExportNode;
use dtac_interpreter::signature::{Signature, SignatureKind};
use dtac_runtime::op::{BuildError, Exporter};
use dtac_runtime::record::Record;
use serde_json::{json, Map, Value as Json};

use crate::settings::Settings;

use super::write::{examples, text, Layout};
use super::{CARD, PROMPT_FIELD, RESPONSE_FIELD, SYSTEM};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[SYSTEM, PROMPT_FIELD, RESPONSE_FIELD, CARD],
    ..Signature::new(
        "sharegpt",
        SignatureKind::ExportFormat,
        "Write `{ conversations: [{ from, value }] }` examples (ShareGPT format)",
    )
};

const DOC: &str = r#"Writes one conversation per record in the ShareGPT shape:

```json
{"conversations": [{"from": "system", "value": "..."},
                   {"from": "human", "value": "<prompt_field>"},
                   {"from": "gpt", "value": "<response_field>"}]}
```

The system turn appears only when `system` is given. The record's `id` is kept as a
top-level `id`, as in `chat`. A path ending in `.parquet` gets a Parquet file with the
same columns.

```dta
export ranked to "out/sharegpt.jsonl" as sharegpt {}
```
"#;

/// The runnable format.
#[derive(Debug)]
pub struct ShareGptExport {
    system: Option<String>,
    prompt_field: String,
    response_field: String,
    layout: Layout,
}

pub fn build(export: &ExportNode) -> Result<Arc<dyn Exporter>, BuildError> {
    let s = Settings(&export.settings);
    Ok(Arc::new(ShareGptExport {
        system: s.str("system").map(str::to_string),
        prompt_field: s.str("prompt_field").unwrap_or("question").to_string(),
        response_field: s.str("response_field").unwrap_or("solution").to_string(),
        layout: Layout::of(&export.path),
    }))
}

impl ShareGptExport {
    fn example(&self, record: &Record) -> std::io::Result<Map<String, Json>> {
        let mut turns = Vec::new();
        if let Some(system) = &self.system {
            turns.push(json!({"from": "system", "value": system}));
        }
        turns.push(json!({"from": "human", "value": text(record, &self.prompt_field)?}));
        turns.push(json!({"from": "gpt", "value": text(record, &self.response_field)?}));
        let mut row = Map::new();
        row.insert("id".into(), record.get("id").cloned().unwrap_or(Json::Null));
        row.insert("conversations".into(), Json::Array(turns));
        Ok(row)
    }
}

impl Exporter for ShareGptExport {
    fn write(
        &self,
        records: &mut dyn Iterator<Item = Record>,
        out: &mut dyn Write,
    ) -> std::io::Result<u64> {
        let mut rows = records.map(|r| self.example(&r));
        examples(self.layout, &["id", "conversations"], &mut rows, out)
    }
}
