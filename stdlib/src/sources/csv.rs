//! The `csv` source: comma- (or otherwise) separated values.

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
        FieldSpec::optional(
            "delimiter",
            Type::Str,
            "\",\"",
            "The field separator, one character: `\"\\t\"` for TSV.",
        ),
        FieldSpec::optional(
            "header",
            Type::Bool,
            "true",
            "Whether the first row names the columns. Without a header, give `columns`.",
        ),
        FieldSpec::maybe(
            "columns",
            Type::List(&Type::Str),
            "Column names, in order, for a file without a header row.",
        ),
    ],
    output: Output::FromSchema,
    ..Signature::new(
        "csv",
        SignatureKind::Source,
        "Read records from a CSV file, one row per record",
    )
};

const DOC: &str = r#"Reads a CSV file (RFC 4180 quoting): each row becomes one record whose fields are the
columns. Values are strings, except where `schema` declares `int`, `float` or `bool`:
then the text is parsed, and a value that does not parse is an error naming the line and
column. An empty cell of a declared field counts as missing.

```dta
dataset problems: csv("data/problems.tsv") {
    delimiter = "\t",
    schema = { id: str, question: str, answer: str },
}
```
"#;
