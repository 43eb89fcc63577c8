//! The `parquet` source: Apache Parquet files.

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
            "columns",
            Type::List(&Type::Str),
            "Read only these columns (before renaming); all columns by default.",
        ),
    ],
    output: Output::FromSchema,
    ..Signature::new(
        "parquet",
        SignatureKind::Source,
        "Read records from a Parquet file, one row per record",
    )
};

const DOC: &str = r#"Reads a Parquet file (as written by pandas, Polars, Arrow or 🤗 Datasets): each row
becomes one record. Strings, integers, floats, booleans and lists map to the recipe's
`str`, `int`, `float`, `bool` and `list[...]`; nested structs become records (`any`).
Row groups stream, so large files are not loaded at once.

```dta
dataset math: parquet("data/train-00000-of-00001.parquet") {
    columns = ["problem", "solution", "answer"],
    fields = { question = "problem" },
    sample = 1000,
    seed = 7,
}
```
"#;
