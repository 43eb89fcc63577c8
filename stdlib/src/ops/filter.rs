//! `filter`: keep the records for which a boolean expression over their fields holds.

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("records", "The records to filter.")],
    settings: &[FieldSpec::required(
        "where",
        Type::Str,
        "The condition a record must meet, over its fields: \
         `\"correct && credibility >= 0.7\"`.",
    )],
    output: Output::Extends(&[]),
    ..Signature::new(
        "filter",
        SignatureKind::Transform,
        "Keep the records whose fields satisfy a boolean expression",
    )
};

const DOC: &str = r#"Keeps the records for which `where` is true. The expression language is small:

- field names (`correct`, `credibility`, `contamination.benchmark`), string, number and
  boolean literals;
- comparisons `==`, `!=`, `<`, `<=`, `>`, `>=`; `in` against a list (`teacher in
  ["gpt", "qwen"]`);
- `&&`, `||`, `!`, parentheses;
- `len(field)` (characters of a string, items of a list), `words(field)`.

A record that lacks a field the expression reads does not match (it is not an error); the
run report counts such records separately. The expression is parsed before the first
record, so a malformed one fails the stage at once; `dtac check` does not read it yet.

```dta
stage confident: filter(reviewed) { where = "correct && credibility >= 0.7 && words(solution) < 2000" }
```
"#;
