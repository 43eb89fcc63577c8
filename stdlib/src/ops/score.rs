//! `score`: log p of one field given another, per record.

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
        FieldSpec::required("target", Type::Str, "The field whose text is scored."),
        FieldSpec::maybe(
            "context",
            Type::Str,
            "The field given before it; nothing when left out.",
        ),
        FieldSpec::optional(
            "chat_template",
            Type::Bool,
            "true",
            "Wrap context and target in the model's chat template (user, assistant).",
        ),
        FieldSpec::optional(
            "per_token",
            Type::Bool,
            "false",
            "Also keep every token's log-probability in `token_logprobs`.",
        ),
        BATCH_TOKENS,
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "logprob",
            Type::Float,
            "Σ log p(target tokens | context), in nats.",
        ),
        FieldSpec::output(
            "logprob_mean",
            Type::Float,
            "`logprob` divided by the target's tokens.",
        ),
        FieldSpec::output("target_tokens", Type::Int, "Tokens of the target."),
        FieldSpec::output(
            "token_logprobs",
            Type::List(&Type::Float),
            "Per target token (only with `per_token`).",
        ),
    ]),
    ..Signature::new(
        "score",
        SignatureKind::Transform,
        "Log-probability of one field given another, under a model",
    )
};

const DOC: &str = r#"Teacher-forced log-probability of `target` given `context`: `logprob = Σ_t log p(y_t |
context, y_<t)` over the target's tokens. The general form of `perplexity` and
`informativeness`, for custom scores: e.g. how likely the student finds a reference
answer after a candidate's reasoning.

```dta
stage likely: score(candidates) { model = small, target = "solution", context = "question" }
```
"#;

#[derive(Debug)]
struct Score {
    scorer: Scorer,
    target: String,
    context: Option<String>,
    chat: bool,
    per_token: bool,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let scorer = Scorer::of(node)?;
    let s = Settings(&node.settings);
    Ok(StageImpl::Each(Arc::new(Score {
        scorer,
        target: s.str("target").unwrap_or("solution").to_string(),
        context: s.str("context").map(str::to_string),
        chat: s.bool("chat_template").unwrap_or(true),
        per_token: s.bool("per_token").unwrap_or(false),
    })))
}

impl RecordOp for Score {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let text = fields_text(&record, self.context.as_deref(), &self.target, self.chat)?;
            let logprobs = self.scorer.logprobs(cx, &record, text).await?;
            let n = logprobs.len();
            let total: f64 = logprobs.iter().sum();
            let mut out = record.derive();
            out.set("logprob", total);
            out.set("logprob_mean", if n == 0 { 0.0 } else { total / n as f64 });
            out.set("target_tokens", n as u64);
            if self.per_token {
                out.set("token_logprobs", logprobs);
            }
            out.score("logprob", total);
            Ok(vec![out])
        })
    }

    fn estimate(&self, inputs: u64) -> Estimate {
        self.scorer.estimate(inputs, 1)
    }
}
