//! `decontaminate`: drop records that share an n-gram with any evaluation benchmark item.

use std::sync::Arc;

use dtac_interpreter::resolve::{Node, Value};
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, OpError, RecordOp, StageCtx, StageImpl};
use dtac_runtime::record::Record;
use futures::future::BoxFuture;
use serde_json::json;
use tokio::sync::OnceCell;

use crate::settings::Settings;
use crate::text::contamination::{BenchIndex, Benchmark, Indexed, Scratch};
use crate::text::{field_text, threads};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("records", "The records to clean.")],
    settings: &[
        FieldSpec::required(
            "against",
            Type::List(&Type::Records),
            "The benchmarks: datasets or stages whose items must not leak into the data.",
        ),
        FieldSpec::optional(
            "ngram",
            Type::Int,
            "13",
            "n, in words after normalization. 13 as in GPT-3 and lm-eval-harness; 8 and 10 \
             are also in use.",
        ),
        FieldSpec::optional(
            "fields",
            Type::List(&Type::Str),
            "[\"question\", \"solution\"]",
            "The fields of each record whose text is checked (strings as they are, other \
             values as their JSON text); missing ones are skipped.",
        ),
        FieldSpec::maybe(
            "against_fields",
            Type::List(&Type::Str),
            "The benchmark fields to index (strings as they are, other values as their JSON \
             text); by default every string field except `id`.",
        ),
        FieldSpec::optional(
            "action",
            Type::Enum(&["drop", "flag"]),
            "\"drop\"",
            "`drop` removes contaminated records (each removal is reported); `flag` keeps \
             them with `contaminated = true`.",
        ),
    ],
    output: Output::Extends(&[
        FieldSpec::output("contaminated", Type::Bool, "Whether an n-gram matched."),
        FieldSpec::output(
            "contamination",
            Type::Any,
            "The first match: `{ ngram, field, benchmark, benchmark_id }`; absent when clean.",
        ),
    ]),
    ..Signature::new(
        "decontaminate",
        SignatureKind::Transform,
        "Drop records sharing an n-gram with any benchmark item, reporting each match",
    )
};

const DOC: &str = r#"DTA phase I step 4, **decontaminate** [related]: the n-gram overlap test of GPT-3 and
lm-eval-harness. Text is normalized (lowercase, punctuation and LaTeX markup to spaces,
whitespace collapsed) and split into words; a record is contaminated when any `ngram`
consecutive words of a checked field also occur in any indexed field of any `against`
record. Texts shorter than `ngram` words are compared whole: a short benchmark text
matches only a checked text with exactly its words, and the reverse.

Every removal is reported in the run report with the matching n-gram and the benchmark
record's `id`, so a reviewer can see why. The benchmark index is built once, on all
cores, before the first record is checked; checking streams. A hit in the index is
confirmed word by word before it is reported, so a hash collision never removes a
record.

Output fields: `contaminated` (on every record that passes), `contamination` (only on
contaminated records kept by `action = "flag"`; dropped records appear in the report).

```dta
dataset bench: jsonl("data/test.jsonl")
stage clean: decontaminate(reviewed) { against = [bench], ngram = 13 }
```
"#;

/// The runnable op.
#[derive(Debug)]
pub struct Decontaminate {
    against: Vec<String>,
    indexed: Indexed,
    ngram: usize,
    fields: Vec<String>,
    flag: bool,
    /// Built by the first record from the complete `against` inputs.
    index: OnceCell<Arc<BenchIndex>>,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let against: Vec<String> = s
        .get("against")
        .map(Value::as_list)
        .unwrap_or(&[])
        .iter()
        .filter_map(|v| match v {
            Value::Records(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    if against.is_empty() {
        return Err(invalid(
            "`against` names no benchmark",
            "list the evaluation datasets, e.g. `against = [bench]`",
        ));
    }
    let ngram = s.int("ngram").unwrap_or(13);
    if ngram < 1 {
        return Err(invalid(
            &format!("`ngram` is {ngram}"),
            "use a positive number of words: 13 as in GPT-3, or 8 or 10",
        ));
    }
    let fields = match s.get("fields") {
        Some(_) => s.strings("fields"),
        None => vec!["question".into(), "solution".into()],
    };
    if fields.is_empty() {
        return Err(invalid(
            "`fields` is empty, so nothing would be checked",
            "list the fields to check, e.g. `fields = [\"solution\"]`",
        ));
    }
    let indexed = match s.get("against_fields") {
        Some(_) => Indexed::Fields(s.strings("against_fields")),
        None => Indexed::Strings,
    };
    Ok(StageImpl::Each(Arc::new(Decontaminate {
        against,
        indexed,
        ngram: ngram as usize,
        fields,
        flag: s.str("action") == Some("flag"),
        index: OnceCell::new(),
    })))
}

fn invalid(message: &str, help: &str) -> BuildError {
    BuildError::Invalid {
        message: message.to_string(),
        help: help.to_string(),
    }
}

impl Decontaminate {
    async fn index(&self, cx: &StageCtx) -> Result<&Arc<BenchIndex>, OpError> {
        self.index
            .get_or_try_init(|| async {
                let benchmarks = self
                    .against
                    .iter()
                    .map(|name| {
                        Ok(Benchmark {
                            name: name.clone(),
                            records: cx.side(name)?.clone(),
                        })
                    })
                    .collect::<Result<Vec<_>, OpError>>()?;
                let (indexed, ngram) = (self.indexed.clone(), self.ngram);
                // Hashing every benchmark text takes seconds at scale: off the async
                // workers, on threads of its own.
                let built = tokio::task::spawn_blocking(move || {
                    BenchIndex::build(benchmarks, indexed, ngram, threads())
                })
                .await
                .map_err(|_| OpError::Fatal {
                    message: "building the benchmark index failed".into(),
                    help: "this is a bug in dtac: please report it".into(),
                })?
                .map_err(|message| OpError::Fatal {
                    message,
                    help: "split the benchmarks across several `decontaminate` stages".into(),
                })?;
                Ok(Arc::new(built))
            })
            .await
    }
}

impl RecordOp for Decontaminate {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let index = self.index(cx).await?;
            let mut scratch = Scratch::default();
            let found = self.fields.iter().find_map(|field| {
                let text = field_text(&record, field)?;
                index.find(&text, &mut scratch).map(|m| (field, m))
            });
            let mut out = record.derive();
            let Some((field, m)) = found else {
                out.set("contaminated", false);
                return Ok(vec![out]);
            };
            let detail = json!({
                "ngram": m.ngram,
                "field": field,
                "benchmark": m.benchmark,
                "benchmark_id": m.benchmark_id,
            });
            if self.flag {
                out.set("contaminated", true);
                out.set("contamination", detail);
                Ok(vec![out])
            } else {
                cx.drop_because(&record, "contaminated", detail);
                Ok(vec![])
            }
        })
    }
}
