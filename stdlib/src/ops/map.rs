//! `map`: rename, drop or select fields.

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("records", "The records to reshape.")],
    settings: &[
        FieldSpec::maybe(
            "rename",
            Type::Map(&Type::Str),
            "New name = old name: `{ question = \"problem\" }`.",
        ),
        FieldSpec::maybe("drop", Type::List(&Type::Str), "Fields to remove."),
        FieldSpec::maybe(
            "keep",
            Type::List(&Type::Str),
            "Keep only these fields (after renaming); `id` is always kept.",
        ),
        FieldSpec::maybe(
            "schema",
            Type::Schema,
            "The fields of the result, so later stages and prompts are checked against them.",
        ),
    ],
    // The result's fields depend on the settings, which an `Output` cannot express: the
    // schema comes from the `schema` setting when given, and is open otherwise.
    output: Output::FromSchema,
    ..Signature::new(
        "map",
        SignatureKind::Transform,
        "Rename, drop or select record fields",
    )
};

const DOC: &str = r#"Reshapes records: `rename` first, then `drop`, then `keep`. Renaming onto an existing
field replaces it; renaming a field the record lacks is a per-record error.

`dtac check` does not yet follow renames into later stages: declare the resulting fields
with `schema` to have them checked; without it, later uses of the records' fields are not
checked.

```dta
stage tidy: map(champ) {
    rename = { question = "problem", answer = "final_answer" },
    drop = ["source"],
    schema = { id: str, question: str, answer: str },
}
```
"#;
