//! `peer_review`: the other teachers of the ensemble review each candidate and give it a
//! credibility score.

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records(
        "candidates",
        "The candidates, with the teacher that wrote each.",
    )
    .needing(&["solution", "teacher"])],
    settings: &[
        FieldSpec::required(
            "reviewers",
            Type::List(&Type::Teacher),
            "The reviewing teachers, usually the ensemble that wrote the candidates.",
        ),
        FieldSpec::optional(
            "exclude_author",
            Type::Bool,
            "true",
            "Never let a teacher review its own candidate (the method's rule).",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The review request, over the problem's fields and `{{candidate}}`. When left \
             out, the DTA review prompt, which reads `{{question}}`.",
        )
        .with_template_vars(&["candidate", "author"]),
        FieldSpec::optional(
            "aggregate",
            Type::Enum(&["mean", "min", "median"]),
            "\"mean\"",
            "How reviewers' credibilities combine into the candidate's.",
        ),
        FieldSpec::maybe(
            "min_credibility",
            Type::Float,
            "Drop candidates whose aggregated credibility is below this (0 to 1).",
        ),
        FieldSpec::optional(
            "repair_attempts",
            Type::Int,
            "1",
            "Re-asks when a review is not valid JSON of the expected shape; then the review \
             is recorded as an error and left out of the aggregate.",
        ),
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "credibility",
            Type::Float,
            "The aggregated credibility in [0, 1]; absent when no valid review came back.",
        ),
        FieldSpec::output(
            "reviews",
            Type::List(&Type::Any),
            "Every review: `{ reviewer, credibility, verdict, rationale }`.",
        ),
    ]),
    ..Signature::new(
        "peer_review",
        SignatureKind::Transform,
        "Other teachers review each candidate; credibility = mean, min or median of their scores",
    )
};

const DOC: &str = r#"DTA phase I step 2, **peer review** [paper]: every candidate is reviewed by the *other*
teachers (with `exclude_author`, never the one named in its `teacher` field). Each
reviewer answers with JSON, validated on receipt:

```json
{"credibility": 0.85, "verdict": "correct", "rationale": "one or two sentences"}
```

`credibility` is in [0, 1]; `verdict` is `correct`, `flawed` or `wrong`. The candidate's
credibility aggregates the reviewers' with `aggregate` (`mean` [paper]; `min` and
`median` [choice]); `min_credibility` drops the candidates below the threshold.

The prompt sees the problem's fields plus `{{candidate}}` (the solution under review)
and `{{author}}` (the teacher that wrote it; the default prompt does not reveal it).
A reviewer list that leaves a candidate with no eligible reviewer is a run error for
that record.

```dta
stage reviewed: peer_review(checked) { reviewers = [gpt, qwen], min_credibility = 0.7 }
```
"#;
