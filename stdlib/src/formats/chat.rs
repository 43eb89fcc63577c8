//! The `chat` export format: a `messages` list per example, for SFT trainers.

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
        "chat",
        SignatureKind::ExportFormat,
        "Write `{ messages: [...] }` chat examples for TRL, LLaMA-Factory, axolotl",
    )
};

const DOC: &str = r#"Writes one conversation per record in the OpenAI `messages` shape, the conversational
format TRL's `SFTTrainer`, LLaMA-Factory and axolotl read:

```json
{"messages": [{"role": "system", "content": "..."},
              {"role": "user", "content": "<prompt_field>"},
              {"role": "assistant", "content": "<response_field>"}]}
```

The system message appears only when `system` is given. The record's `id` is kept as a
top-level `id`. A path ending in `.parquet` gets a Parquet file with the same columns.

```dta
export ranked to "out/telemath.jsonl" as chat { system = "You are a careful mathematician." }
```
"#;

/// The runnable format.
#[derive(Debug)]
pub struct ChatExport {
    system: Option<String>,
    prompt_field: String,
    response_field: String,
    layout: Layout,
}

pub fn build(export: &ExportNode) -> Result<Arc<dyn Exporter>, BuildError> {
    let s = Settings(&export.settings);
    Ok(Arc::new(ChatExport {
        system: s.str("system").map(str::to_string),
        prompt_field: s.str("prompt_field").unwrap_or("question").to_string(),
        response_field: s.str("response_field").unwrap_or("solution").to_string(),
        layout: Layout::of(&export.path),
    }))
}

impl ChatExport {
    fn example(&self, record: &Record) -> std::io::Result<Map<String, Json>> {
        let mut messages = Vec::new();
        if let Some(system) = &self.system {
            messages.push(json!({"role": "system", "content": system}));
        }
        let prompt = text(record, &self.prompt_field)?;
        let response = text(record, &self.response_field)?;
        messages.push(json!({"role": "user", "content": prompt}));
        messages.push(json!({"role": "assistant", "content": response}));
        let mut row = Map::new();
        row.insert("id".into(), record.get("id").cloned().unwrap_or(Json::Null));
        row.insert("messages".into(), Json::Array(messages));
        Ok(row)
    }
}

impl Exporter for ChatExport {
    fn write(
        &self,
        records: &mut dyn Iterator<Item = Record>,
        out: &mut dyn Write,
    ) -> std::io::Result<u64> {
        let mut rows = records.map(|r| self.example(&r));
        examples(self.layout, &["id", "messages"], &mut rows, out)
    }
}
