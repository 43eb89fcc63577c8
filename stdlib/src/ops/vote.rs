//! `vote`: per problem, combine normalized scores with weights and keep the top k.

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records(
        "candidates",
        "Candidates of many problems; grouped by `id`.",
    )],
    settings: &[
        FieldSpec::required(
            "weights",
            Type::Map(&Type::Float),
            "Score fields and their weights: `{ informativeness = 0.4, reward = 0.6 }`.",
        ),
        FieldSpec::optional(
            "normalize",
            Type::Enum(&["rank", "zscore", "none"]),
            "\"rank\"",
            "How each score is normalized within a problem before weighting: `rank` to [0, 1] \
             by rank, `zscore` by the group's mean and deviation, `none` as is.",
        ),
        FieldSpec::optional("keep", Type::Int, "1", "Candidates kept per problem."),
        FieldSpec::optional(
            "minimize",
            Type::List(&Type::Str),
            "[]",
            "Score fields where lower is better (their sign is flipped before normalizing).",
        ),
        FieldSpec::maybe(
            "informativeness",
            Type::Model,
            "Compute the `informativeness` score first with this student (as the \
             `informativeness` op with its defaults).",
        ),
        FieldSpec::maybe(
            "judge",
            Type::Teacher,
            "Compute the `reward` score first with this judge (as the `judge` op with its \
             defaults).",
        ),
        FieldSpec::optional(
            "emit",
            Type::Enum(&["kept", "all"]),
            "\"kept\"",
            "`kept` emits the top `keep` of each problem; `all` emits every candidate with \
             `chosen` set.",
        ),
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "vote_score",
            Type::Float,
            "The weighted sum of normalized scores.",
        ),
        FieldSpec::output(
            "vote_rank",
            Type::Int,
            "1 for the best candidate of its problem.",
        ),
        FieldSpec::output(
            "chosen",
            Type::Bool,
            "Whether the candidate is among the top `keep`.",
        ),
        FieldSpec::output(
            "rejected",
            Type::List(&Type::Str),
            "The solutions of the problem's candidates that were not kept, best first \
             (for `preference` export).",
        ),
    ]),
    groups_by: Some("problem id (`id` field)"),
    ..Signature::new(
        "vote",
        SignatureKind::Transform,
        "Per problem, rank candidates by weighted normalized scores and keep the top k",
    )
};

const DOC: &str = r#"DTA phase II step 7, **reflection and voting** [paper]: rank the rewritten candidates of
each problem by a weighted combination of scores, and keep the top `keep`.

1. For each field in `weights` (fields in `minimize` negated first), normalize within the
   problem [choice]: `rank` maps ranks to [0, 1] (ties share the mean rank), `zscore`
   subtracts the mean and divides by the standard deviation (0 when all are equal).
2. `vote_score = Σ weight · normalized score`.
3. Sort by `vote_score`; ties break by `teacher`, then `sample`, then `candidate_id`, so
   runs are deterministic.

A candidate missing a weighted score is a per-record error. With `informativeness` or
`judge`, the stage computes `informativeness` or `reward` itself first.

The stage waits for all candidates of a problem. Output fields: `vote_score`,
`vote_rank`, `chosen`, and `rejected` on every emitted record.

```dta
stage ranked: vote(aligned) {
    weights = { informativeness = 0.4, reward = 0.6 },
    informativeness = small,
    judge = gpt,
    keep = 1,
}
```
"#;
