//! The `sharegpt` export format: `conversations` with `from` / `value` turns.

use dtac_interpreter::signature::{Signature, SignatureKind};

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

The system turn appears only when `system` is given.

```dta
export ranked to "out/sharegpt.jsonl" as sharegpt {}
```
"#;
