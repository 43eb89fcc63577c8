//! The `chat` export format: a `messages` list per example, for SFT trainers.

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
pub struct ChatExport(Dialogue);

pub fn build(export: &ExportNode) -> Result<Arc<dyn Exporter>, BuildError> {
    Ok(Arc::new(ChatExport(Dialogue::of(export))))
}

/// A turn in the OpenAI `messages` shape.
fn turn(speaker: Speaker, content: &str) -> Json {
    let role = match speaker {
        Speaker::System => "system",
        Speaker::User => "user",
        Speaker::Assistant => "assistant",
    };
    json!({"role": role, "content": content})
}

impl Exporter for ChatExport {
    fn write(
        &self,
        records: &mut dyn Iterator<Item = Record>,
        out: &mut dyn Write,
    ) -> std::io::Result<u64> {
        self.0.write(records, out, "messages", turn)
    }
}
