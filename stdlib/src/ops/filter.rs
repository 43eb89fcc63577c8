//! `filter`: keep the records for which a boolean expression over their fields holds.

use std::sync::Arc;

use dtac_interpreter::resolve::Node;
use dtac_interpreter::signature::{
    FieldSpec, InputSpec, Lint, LintValues, Output, Signature, SignatureKind, Type,
};
use dtac_runtime::op::{BuildError, OpError, RecordOp, StageCtx, StageImpl};
use dtac_runtime::record::Record;
use futures::future::BoxFuture;

use crate::expr::{EvalError, Expr};
use crate::settings::Settings;

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
    lint: Some(lint),
    ..Signature::new(
        "filter",
        SignatureKind::Transform,
        "Keep the records whose fields satisfy a boolean expression",
    )
};

const DOC: &str = r#"Keeps the records for which `where` is true. The expression language is small:

- field names, with `.` into records and lists (`contamination.benchmark`,
  `reviews.0.credibility`); string (`"..."` or `'...'`), number, `true`, `false` and
  `null` literals; lists `[...]`;
- comparisons `==`, `!=`, `<`, `<=`, `>`, `>=` (numbers by value, strings
  alphabetically); `in` against a list (`teacher in ["gpt", "qwen"]`) or a string
  (`"lemma" in solution`);
- `&&`, `||`, `!` (or `and`, `or`, `not`), parentheses; `&&` and `||` stop early;
- arithmetic `+ - * /` (`+` also joins strings);
- functions: `len(x)` (characters of a string, items of a list), `words(x)`, `lines(x)`,
  `lower(x)`, `contains(x, part)`, `abs(x)`.

A record that lacks a field the expression reads does not match (it is not an error); the
run report counts such records separately ("lacks a field the condition reads").
Comparing values of different kinds (`teacher < 3`) or a condition that is not true or
false is an error for that record, so a typo cannot silently drop everything.
`dtac check` parses the expression and points at a syntax error.

```dta
stage confident: filter(reviewed) { where = "correct && credibility >= 0.7 && words(solution) < 2000" }
```
"#;

/// The syntax check `dtac check` runs on `where`.
fn lint(values: &dyn LintValues) -> Vec<Lint> {
    match values.str("where").map(|w| (Expr::parse(&w), w)) {
        Some((Err(e), source)) => vec![Lint {
            setting: Some("where"),
            message: format!("the condition does not parse: {}", e.show(&source)),
            help: "see `dtac ops filter` for the expression language".into(),
        }],
        _ => Vec::new(),
    }
}

/// The runnable op.
#[derive(Debug)]
pub struct Filter {
    condition: Expr,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let source = Settings(&node.settings).str("where").unwrap_or_default();
    let condition = Expr::parse(source).map_err(|e| BuildError::Invalid {
        message: format!("the `where` condition does not parse: {}", e.show(source)),
        help: "see `dtac ops filter` for the expression language".into(),
    })?;
    Ok(StageImpl::Each(Arc::new(Filter { condition })))
}

/// The drop reason of records the condition could not read.
pub const LACKS_FIELD: &str = "lacks a field the condition reads";
/// The drop reason of records the condition rejects.
pub const FALSE: &str = "condition is false";

impl RecordOp for Filter {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        let result = match self.condition.test(&record.fields) {
            Ok(true) => Ok(vec![record.derive()]),
            Ok(false) => {
                cx.drop_record(FALSE);
                Ok(Vec::new())
            }
            Err(EvalError::Missing(_)) => {
                cx.drop_record(LACKS_FIELD);
                Ok(Vec::new())
            }
            Err(e @ EvalError::Type(_)) => Err(OpError::Record(format!(
                "`where = \"{}\"`: {e}",
                self.condition.source()
            ))),
        };
        Box::pin(std::future::ready(result))
    }
}
