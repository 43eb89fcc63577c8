//! `generate`: a teacher ensemble writes `n` candidate solutions per problem (DTA
//! synthesize).

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

use super::{MAX_TOKENS, SEED, TEMPERATURE};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records(
        "problems",
        "The problems, one record each; the prompt reads their fields.",
    )],
    settings: &[
        FieldSpec::required(
            "teachers",
            Type::List(&Type::Teacher),
            "The ensemble. Every teacher writes `n` solutions for every problem.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The user message, a template over the problem's fields. When left out, the DTA \
             synthesis prompt, which reads `{{question}}` and `{{answer}}`.",
        ),
        FieldSpec::optional(
            "n",
            Type::Int,
            "1",
            "Solutions per teacher per problem, each a separate request with its own seed.",
        ),
        FieldSpec::maybe(
            "system",
            Type::Str,
            "A system message for this stage, replacing the teacher's own.",
        ),
        TEMPERATURE,
        FieldSpec::maybe(
            "top_p",
            Type::Float,
            "Nucleus sampling threshold for this stage.",
        ),
        MAX_TOKENS,
        SEED,
        FieldSpec::maybe(
            "logprobs",
            Type::Int,
            "Keep this many top log-probabilities per generated token in `logprobs`, for \
             `distill { signal = \"topk_logprobs\" }`.",
        ),
    ],
    output: Output::Extends(&[
        FieldSpec::output("solution", Type::Str, "The teacher's answer text."),
        FieldSpec::output(
            "teacher",
            Type::Str,
            "The name of the teacher declaration that wrote it.",
        ),
        FieldSpec::output(
            "sample",
            Type::Int,
            "The sample index, 0 to n − 1, per teacher.",
        ),
        FieldSpec::output(
            "candidate_id",
            Type::Str,
            "`ID/TEACHER/SAMPLE`: unique per candidate, stable across runs.",
        ),
        FieldSpec::output(
            "prompt_hash",
            Type::Str,
            "Hash of the rendered messages: which prompt produced the candidate.",
        ),
        FieldSpec::output("tokens", Type::Int, "Completion tokens used."),
        FieldSpec::output(
            "finish_reason",
            Type::Str,
            "Why generation stopped: `stop`, or `length` when `max_tokens` cut it.",
        ),
        FieldSpec::output(
            "logprobs",
            Type::List(&Type::Any),
            "Per generated token: the token, its log-probability and the top alternatives \
             (only with `logprobs`).",
        ),
    ]),
    ..Signature::new(
        "generate",
        SignatureKind::Transform,
        "A teacher ensemble writes n candidate solutions per problem",
    )
};

const DOC: &str = r#"DTA phase I step 1, **synthesize** [paper]: an ensemble of teachers writes `n` solutions
per problem, given the problem *and* its correct answer; the answer is a hint, and the
solution must justify it. Each input record yields `teachers × n` output records: the
problem's fields plus the candidate.

The default prompt (when `prompt` is left out) is:

> Solve the following problem step by step. The correct final answer is {{answer}};
> derive it rigorously, and put the final answer within \boxed{}.
>
> Problem: {{question}}

Each sample is its own request with its own cache key (the sample index and `seed + i`
are part of it), so raising `n` later only asks for the new samples. Sampling settings
given here override the teacher's for this stage.

Output fields: `solution`, `teacher`, `sample`, `candidate_id`, `prompt_hash`, `tokens`,
`finish_reason`, and `logprobs` when asked for.

```dta
prompt solve """
    Solve the problem step by step. The correct final answer is {{answer}}; derive it.
    Problem: {{question}}
    """
stage candidates: generate(train) { teachers = [gpt, qwen], prompt = solve, n = 4 }
```
"#;
