//! The `csv` export format: flat records as comma-separated values.

use dtac_interpreter::signature::{FieldSpec, Signature, SignatureKind, Type};

use super::{CARD, FIELDS};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[
        FIELDS,
        FieldSpec::optional(
            "delimiter",
            Type::Str,
            "\",\"",
            "The field separator, one character.",
        ),
        FieldSpec::optional(
            "header",
            Type::Bool,
            "true",
            "Write a header row of field names.",
        ),
        CARD,
    ],
    ..Signature::new(
        "csv",
        SignatureKind::ExportFormat,
        "Write records as CSV rows, one column per field",
    )
};

const DOC: &str = r#"Writes one row per record (RFC 4180 quoting), columns in the order of `fields` or of the
records' schema. Lists and records are written as JSON text. Meant for inspection in a
spreadsheet and for reports such as `token_shift` tables.

```dta
export shifts to "out/token_shift.csv" as csv {}
```
"#;
