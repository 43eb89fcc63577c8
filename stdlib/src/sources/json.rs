//! The `json` source: a JSON document holding an array of objects.

use dtac_interpreter::signature::{FieldSpec, Output, Signature, SignatureKind, Type};

use super::{FIELDS, ID_FIELD, LIMIT, PATH, SAMPLE, SCHEMA, SEED, SPLIT};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[PATH],
    settings: &[
        SCHEMA,
        FIELDS,
        ID_FIELD,
        SPLIT,
        SAMPLE,
        SEED,
        LIMIT,
        FieldSpec::maybe(
            "pointer",
            Type::Str,
            "A JSON Pointer (RFC 6901) to the array inside the document, such as `\"/data\"`; \
             by default the document itself must be the array.",
        ),
    ],
    output: Output::FromSchema,
    ..Signature::new(
        "json",
        SignatureKind::Source,
        "Read records from a JSON file holding an array of objects",
    )
};

const DOC: &str = r#"Reads a whole JSON document and takes the array at `pointer` (the document itself by
default): each element must be an object and becomes one record. An element that is not
an object is an error naming its index.

The whole file is parsed before the first record leaves; prefer `jsonl` for large data.

```dta
dataset problems: json("data/champ.json") {
    pointer = "/problems",
    schema = { id: str, question: str, answer: str },
}
```
"#;
