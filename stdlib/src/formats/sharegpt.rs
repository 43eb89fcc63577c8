//! The `sharegpt` export format: `conversations` with `from` / `value` turns.

use std::io::Write;
use std::sync::Arc;

use dtac_interpreter::resolve::ExportNode;
use dtac_interpreter::signature::{Signature, SignatureKind};
use dtac_runtime::op::{BuildError, Exporter};
use dtac_runtime::record::Record;
use serde_json::{json, Value as Json};

use super::dialogue::{Dialogue, Speaker};
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
pub struct ShareGptExport(Dialogue);

pub fn build(export: &ExportNode) -> Result<Arc<dyn Exporter>, BuildError> {
    Ok(Arc::new(ShareGptExport(Dialogue::of(export))))
}

/// A turn in ShareGPT's `from` / `value` shape.
fn turn(speaker: Speaker, value: &str) -> Json {
    let from = match speaker {
        Speaker::System => "system",
        Speaker::User => "human",
        Speaker::Assistant => "gpt",
    };
    json!({"from": from, "value": value})
}

impl Exporter for ShareGptExport {
    fn write(
        &self,
        records: &mut dyn Iterator<Item = Record>,
        out: &mut dyn Write,
    ) -> std::io::Result<u64> {
        self.0.write(records, out, "conversations", turn)
    }
}
