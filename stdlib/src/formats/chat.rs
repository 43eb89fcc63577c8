//! The `chat` export format: a `messages` list per example, for SFT trainers.

use dtac_interpreter::signature::{Signature, SignatureKind};

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
top-level `id`.

```dta
export ranked to "out/telemath.jsonl" as chat { system = "You are a careful mathematician." }
```
"#;
