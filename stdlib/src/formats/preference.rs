//! The `preference` export format: chosen / rejected pairs for DPO-style trainers.

use dtac_interpreter::signature::{FieldSpec, Signature, SignatureKind, Type};

use super::{CARD, PROMPT_FIELD, SYSTEM};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[
        PROMPT_FIELD,
        FieldSpec::optional(
            "chosen_field",
            Type::Str,
            "\"solution\"",
            "The field holding the preferred response.",
        ),
        FieldSpec::optional(
            "rejected_field",
            Type::Str,
            "\"rejected\"",
            "The field holding the responses that lost: a string or a list of strings \
             (`vote` writes the list, best first).",
        ),
        FieldSpec::optional(
            "pairs",
            Type::Int,
            "1",
            "Pairs written per record: the chosen response against each of the first \
             `pairs` rejected ones.",
        ),
        FieldSpec::optional(
            "style",
            Type::Enum(&["chat", "text"]),
            "\"chat\"",
            "`chat`: `prompt`, `chosen` and `rejected` are message lists (TRL's \
             conversational preference format); `text`: plain strings.",
        ),
        SYSTEM,
        CARD,
    ],
    ..Signature::new(
        "preference",
        SignatureKind::ExportFormat,
        "Write `{ prompt, chosen, rejected }` pairs for DPO and other preference trainers",
    )
};

const DOC: &str = r#"Writes preference pairs, the format TRL's `DPOTrainer` reads: one `{"prompt", "chosen",
"rejected"}` object per pair. `vote` keeps the candidates it did not choose in
`rejected` (best first), so a voted stage exports directly; a record with no rejected
response is skipped and counted in the card.

```dta
export ranked to "out/pairs.jsonl" as preference { pairs = 2 }
```
"#;
