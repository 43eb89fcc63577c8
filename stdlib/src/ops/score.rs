//! `score`: log p of one field given another, per record.

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

use super::{BATCH_TOKENS, SCORING_MODEL};

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
