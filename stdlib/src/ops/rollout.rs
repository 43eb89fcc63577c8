//! `rollout`: the student answers each problem itself (on-policy samples for TRD and TOPD).

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

use super::SEED;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records(
        "problems",
        "The problems, one record each.",
    )],
    settings: &[
        FieldSpec::required(
            "student",
            Type::Model,
            "The model that answers: a student (its endpoint when it has one, else local \
             sampling), or a teacher.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The user message, over the problem's fields; `{{question}}` when left out. \
             `suffix` is appended either way.",
        ),
        FieldSpec::optional(
            "suffix",
            Type::Str,
            "\"Please reason step by step, and put your final answer within \\\\boxed{}.\"",
            "Appended to the prompt after a blank line (TRD's default); `\"\"` for none.",
        ),
        FieldSpec::optional("n", Type::Int, "1", "Rollouts per problem."),
        FieldSpec::optional("temperature", Type::Float, "0.6", "Sampling temperature."),
        FieldSpec::optional("top_p", Type::Float, "0.95", "Nucleus sampling threshold."),
        FieldSpec::optional("top_k", Type::Int, "20", "Top-k sampling; 0 for none."),
        FieldSpec::maybe(
            "max_tokens",
            Type::Int,
            "The most tokens per rollout; the model's own limit when left out.",
        ),
        SEED,
    ],
    output: Output::Extends(&[
        FieldSpec::output("solution", Type::Str, "The rollout text y_o."),
        FieldSpec::output("sample", Type::Int, "The rollout index, 0 to n − 1."),
        FieldSpec::output("candidate_id", Type::Str, "`ID/MODEL/SAMPLE`."),
        FieldSpec::output(
            "teacher",
            Type::Str,
            "The name of the model declaration that wrote it.",
        ),
        FieldSpec::output("tokens", Type::Int, "Tokens generated."),
        FieldSpec::output(
            "finish_reason",
            Type::Str,
            "`stop`, or `length` when cut at `max_tokens`.",
        ),
    ]),
    ..Signature::new(
        "rollout",
        SignatureKind::Transform,
        "The student samples its own solutions (on-policy rollouts)",
    )
};

const DOC: &str = r#"TRD step 1 and TOPD step 1, **student rollout** [paper]: `y_o ~ p(·|x)`. The defaults
are TRD's: temperature 0.6, top_p 0.95, top_k 20, and the suffix "Please reason step by
step, and put your final answer within \boxed{}." [paper].

Rollouts are ordinary candidates (`solution`, `sample`, `candidate_id`), so `verify`,
`refine`, `divergence` and `distill` read them like teacher candidates. Each rollout is
cached by its seed like any generation, so re-running is free.

```dta
stage rollouts: rollout(train) { student = small, n = 4 }
```
"#;
