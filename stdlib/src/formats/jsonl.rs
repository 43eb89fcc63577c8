//! The `jsonl` export format: records as they are, one JSON object per line.

use dtac_interpreter::signature::{FieldSpec, Signature, SignatureKind, Type};

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
