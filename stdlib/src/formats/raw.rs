//! The `raw` export format: records as they are, in JSON Lines or, for a `.parquet` path,
//! in Parquet. The name trainers' docs use for "no reshaping"; it chooses between `jsonl`
//! and `parquet` by the path so a recipe can switch files without switching formats.

use std::sync::Arc;

use dtac_interpreter::resolve::ExportNode;
use dtac_interpreter::signature::{Signature, SignatureKind};
use dtac_runtime::op::{BuildError, Exporter};

use super::write::Layout;
use super::{CARD, FIELDS};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[FIELDS, CARD],
    ..Signature::new(
        "raw",
        SignatureKind::ExportFormat,
        "Write records as they are: JSON Lines, or Parquet when the path ends in .parquet",
    )
};

const DOC: &str = r#"Writes every record unchanged, with all its fields (or `fields`, in that order): as
`jsonl` does (provenance included), or as `parquet` does (zstd, 10,000 rows per row
group) when the path ends in `.parquet`. Use `jsonl` or `parquet` directly for their
own settings.

```dta
export ranked to "out/ranked.parquet" as raw { fields = ["id", "question", "solution"] }
```
"#;

pub fn build(export: &ExportNode) -> Result<Arc<dyn Exporter>, BuildError> {
    match Layout::of(&export.path) {
        Layout::Parquet => super::parquet::build(export),
        Layout::Jsonl => super::jsonl::build(export),
    }
}
