//! `perplexity`: the model's perplexity on a text field, optionally given a context.

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

use super::{BATCH_TOKENS, SCORING_MODEL};

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
