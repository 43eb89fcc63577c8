//! `perplexity`: the model's perplexity on a text field, optionally given a context.

use std::sync::Arc;

use dtac_interpreter::resolve::Node;
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, Estimate, OpError, RecordOp, StageCtx, StageImpl};
use dtac_runtime::record::Record;
use futures::future::BoxFuture;

use super::scoring::{fields_text, Scorer};
use super::{BATCH_TOKENS, SCORING_MODEL};
use crate::settings::Settings;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("records", "The records to score.")],
    settings: &[
        SCORING_MODEL,
        FieldSpec::optional("field", Type::Str, "\"solution\"", "The text scored."),
        FieldSpec::maybe(
            "context",
            Type::Str,
            "A field given as the user turn before the text (`\"question\"`); the text alone \
             when left out.",
        ),
        FieldSpec::optional(
            "chat_template",
            Type::Bool,
            "true",
            "Wrap context and text in the model's chat template (user, assistant).",
        ),
        BATCH_TOKENS,
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "perplexity",
            Type::Float,
            "exp(−mean log p) over the text's tokens.",
        ),
        FieldSpec::output("tokens", Type::Int, "Tokens of the text."),
    ]),
    ..Signature::new(
        "perplexity",
        SignatureKind::Transform,
        "The model's perplexity on a text field, optionally given a context field",
    )
};

const DOC: &str = r#"Teacher-forced scoring: `perplexity = exp(−(1/T) Σ_t log p(y_t | context, y_<t))` over
the `T` tokens of `field`; only the text's tokens count, never the context's or the
template's. Local students are scored with candle in batches of `batch_tokens`;
endpoints through `/v1/completions` with `echo`.

Useful to filter text the student finds very surprising, or to compare candidate sets.

```dta
stage surprise: perplexity(aligned) { model = small, context = "question" }
```
"#;

#[derive(Debug)]
struct Perplexity {
    scorer: Scorer,
    field: String,
    context: Option<String>,
    chat: bool,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let scorer = Scorer::of(node)?;
    let s = Settings(&node.settings);
    Ok(StageImpl::Each(Arc::new(Perplexity {
        scorer,
        chat: s.bool("chat_template").unwrap_or(true),
        field: s.str("field").unwrap_or("solution").to_string(),
        context: s.str("context").map(str::to_string),
    })))
}

impl RecordOp for Perplexity {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let text = fields_text(&record, self.context.as_deref(), &self.field, self.chat)?;
            let logprobs = self.scorer.logprobs(cx, &record, text).await?;
            let n = logprobs.len();
            if n == 0 {
                return Err(OpError::Record(format!(
                    "`{}` has no scored tokens",
                    self.field
                )));
            }
            let perplexity = (-logprobs.iter().sum::<f64>() / n as f64).exp();
            let mut out = record.derive();
            out.set("perplexity", perplexity);
            out.set("tokens", n as u64);
            out.score("perplexity", perplexity);
            Ok(vec![out])
        })
    }

    fn estimate(&self, inputs: u64) -> Estimate {
        self.scorer.estimate(inputs, 1)
    }
}
