//! The `jsonl` source: one JSON object per line.

use dtac_interpreter::signature::{Output, Signature, SignatureKind};

use super::{FIELDS, ID_FIELD, LIMIT, PATH, SAMPLE, SCHEMA, SEED, SPLIT};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[PATH],
    settings: &[SCHEMA, FIELDS, ID_FIELD, SPLIT, SAMPLE, SEED, LIMIT],
    output: Output::FromSchema,
    ..Signature::new(
        "jsonl",
        SignatureKind::Source,
        "Read records from a JSON Lines file, one object per line",
    )
};

const DOC: &str = r#"Reads a JSON Lines file: each non-blank line is one JSON object, and becomes one record
with the object's keys as fields. A line that is not an object is an error naming the
file and line.

Records keep the file's order. With `schema`, a record missing a declared field, or with
a value of the wrong type, is an error naming the file, the line and the field.

```dta
dataset train: jsonl("data/train.jsonl") {
    schema = { id: str, question: str, answer: str },
    fields = { question = "problem" },
    split = { take = "train", test = 0.2 },
}
dataset bench: jsonl("data/train.jsonl") { split = { take = "test", test = 0.2 } }
```
"#;
