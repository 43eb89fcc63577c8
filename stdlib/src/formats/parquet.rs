//! The `parquet` export format: records as they are, in Apache Parquet.

use dtac_interpreter::signature::{FieldSpec, Signature, SignatureKind, Type};

use super::{CARD, FIELDS};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[
        FIELDS,
        FieldSpec::optional(
            "compression",
            Type::Enum(&["zstd", "snappy", "none"]),
            "\"zstd\"",
            "The column compression codec.",
        ),
        FieldSpec::optional("row_group_size", Type::Int, "10000", "Rows per row group."),
        CARD,
    ],
    ..Signature::new(
        "parquet",
        SignatureKind::ExportFormat,
        "Write records as they are, as a Parquet file",
    )
};

const DOC: &str = r#"Writes the records as a Parquet file, one column per field, with types from the records'
schema (`str`, `int`, `float`, `bool`, `list[...]`; other shapes as JSON text). Readable
by pandas, Polars, DuckDB and 🤗 Datasets.

```dta
export clean to "out/clean.parquet" as parquet { compression = "zstd" }
```
"#;
