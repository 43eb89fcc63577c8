//! `map`: rename, drop or select fields.

use std::sync::Arc;

use dtac_interpreter::resolve::Node;
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, OpError, RecordOp, StageCtx, StageImpl};
use dtac_runtime::record::Record;
use futures::future::BoxFuture;

use crate::expr::Expr;
use crate::settings::Settings;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("records", "The records to reshape.")],
    settings: &[
        FieldSpec::maybe(
            "rename",
            Type::Map(&Type::Str),
            "New name = old name: `{ question = \"problem\" }`.",
        ),
        FieldSpec::maybe(
            "compute",
            Type::Map(&Type::Str),
            "New fields from expressions over the record (the `filter` language): \
             `{ words = \"words(solution)\", passed = \"correct && agreement >= 0.5\" }`.",
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

const DOC: &str = r#"Reshapes records: `rename` first, then `compute`, then `drop`, then `keep`. Renaming
onto an existing field replaces it; renaming a field the record lacks is a per-record
error.

`compute` adds (or replaces) fields with the value of an expression in the language of
`filter` (`dtac ops filter`): field paths, literals, comparisons, `&& || !`, arithmetic,
`len`, `words`, `lines`, `lower`, `contains`, `abs`. Each expression sees the record as
it was after renaming, not the other computed fields. A record lacking a field an
expression reads is a per-record error. A computed number can feed `vote`'s `weights`.

`dtac check` does not yet follow renames into later stages: declare the resulting fields
with `schema` to have them checked; without it, later uses of the records' fields are not
checked.

```dta
stage tidy: map(champ) {
    rename = { question = "problem", answer = "final_answer" },
    compute = { length = "words(solution)" },
    drop = ["source"],
    schema = { id: str, question: str, answer: str },
}
```
"#;

/// The runnable op.
#[derive(Debug)]
pub struct Map {
    rename: Vec<(String, String)>,
    compute: Vec<(String, Expr)>,
    drop: Vec<String>,
    keep: Option<Vec<String>>,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let mut compute = Vec::new();
    for (field, source) in s.string_map("compute") {
        let expr = Expr::parse(&source).map_err(|e| BuildError::Invalid {
            message: format!("`compute.{field}` does not parse: {}", e.show(&source)),
            help: "see `dtac ops filter` for the expression language".into(),
        })?;
        compute.push((field, expr));
    }
    Ok(StageImpl::Each(Arc::new(Map {
        rename: s.string_map("rename"),
        compute,
        drop: s.strings("drop"),
        keep: s.get("keep").map(|_| s.strings("keep")),
    })))
}

impl Map {
    /// Reshapes one record: rename, then drop, then keep.
    pub fn apply(&self, mut record: Record) -> Result<Record, String> {
        for (new, old) in &self.rename {
            match record.fields.remove(old) {
                Some(v) => {
                    record.fields.insert(new.clone(), v);
                }
                None => return Err(format!("`rename`: the record has no field `{old}`")),
            }
        }
        let computed = self
            .compute
            .iter()
            .map(|(field, expr)| {
                expr.eval(&record.fields)
                    .map(|v| (field.clone(), v))
                    .map_err(|e| format!("`compute.{field} = \"{}\"`: {e}", expr.source()))
            })
            .collect::<Result<Vec<_>, String>>()?;
        for (field, value) in computed {
            record.fields.insert(field, value);
        }
        for name in &self.drop {
            record.fields.remove(name);
        }
        if let Some(keep) = &self.keep {
            record
                .fields
                .retain(|k, _| k == "id" || keep.iter().any(|x| x == k));
        }
        Ok(record)
    }
}

impl RecordOp for Map {
    fn run<'a>(
        &'a self,
        _cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        let result = self
            .apply(record.derive())
            .map(|r| vec![r])
            .map_err(OpError::Record);
        Box::pin(std::future::ready(result))
    }
}
