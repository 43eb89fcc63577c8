//! `judge`: rubric scoring of each candidate by a teacher.

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("candidates", "The candidates to score.").needing(&["solution"])],
    settings: &[
        FieldSpec::required("teacher", Type::Teacher, "The judge."),
        FieldSpec::optional(
            "rubric",
            Type::List(&Type::Str),
            "[\"correctness\", \"completeness\", \"clarity\", \"conciseness\"]",
            "The criteria, each scored 1 to 10.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The judging request, over the record's fields and `{{rubric}}`. When left out, \
             the built-in rubric prompt, which reads `{{question}}`.",
        )
        .with_template_vars(&["rubric"]),
        FieldSpec::maybe(
            "reference",
            Type::FieldRef,
            "Reference solutions shown to the judge (`train.solution`), joined on `id`.",
        ),
        FieldSpec::optional(
            "repair_attempts",
            Type::Int,
            "1",
            "Re-asks when the answer is not valid JSON of the expected shape; then the \
             record gets an error and no scores.",
        ),
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "judge_scores",
            Type::Map(&Type::Int),
            "Each rubric criterion's score, 1 to 10.",
        ),
        FieldSpec::output(
            "reward",
            Type::Float,
            "The overall score mapped to [0, 1]: (overall − 1) / 9.",
        ),
        FieldSpec::output(
            "judge_rationale",
            Type::Str,
            "The judge's short justification.",
        ),
    ]),
    ..Signature::new(
        "judge",
        SignatureKind::Transform,
        "A teacher scores each candidate on a rubric (1–10 per criterion, plus overall)",
    )
};

const DOC: &str = r#"The *reward* signal of DTA phase II step 7 [paper]: a judge scores correctness,
completeness, clarity and conciseness. The judge answers with JSON, validated on receipt
(`response_format` where the endpoint supports it):

```json
{"scores": {"correctness": 9, "completeness": 8, "clarity": 7, "conciseness": 6},
 "overall": 8, "rationale": "..."}
```

Every rubric criterion must be present with an integer from 1 to 10. `reward` is the
overall score rescaled to [0, 1], ready for `vote { weights = { reward = ... } }`.

```dta
stage judged: judge(aligned) { teacher = gpt, reference = train.solution }
```
"#;
