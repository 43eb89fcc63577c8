//! The `alpaca` export format: instruction / input / output triples.

use dtac_interpreter::signature::{FieldSpec, Signature, SignatureKind, Type};

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
`system` is given: the Alpaca format LLaMA-Factory and many SFT scripts read.

```dta
export ranked to "out/alpaca.jsonl" as alpaca { instruction_field = "question" }
```
"#;
