//! `refine`: a teacher rewrites each student rollout into a refined trajectory (TRD).

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

use super::{MAX_TOKENS, TEMPERATURE};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[
        InputSpec::records("rollouts", "Student rollouts (`rollout`).").needing(&["solution"]),
    ],
    settings: &[
        FieldSpec::optional(
            "mode",
            Type::Enum(&["opd", "opsd"]),
            "\"opd\"",
            "`opd`: a separate teacher fixes the rollout; `opsd`: the student itself, given \
             the reference solution as privileged context.",
        ),
        FieldSpec::required(
            "teacher",
            Type::Model,
            "The refiner: a stronger teacher for `opd`, the student itself for `opsd`.",
        ),
        FieldSpec::maybe(
            "reference",
            Type::FieldRef,
            "Reference solutions y* (`train.solution`), joined on `id`. Required by `opsd`.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The refine request; the paper's OPD or OPSD prompt when left out. Besides the \
             problem's fields it sees `{{solution}}` (the rollout) and `{{reference}}`.",
        )
        .with_template_vars(&["reference"]),
        FieldSpec::optional(
            "max_prompt_tokens",
            Type::Int,
            "32768",
            "When the rendered prompt is longer, the initial solution is truncated (never the \
             reference).",
        ),
        FieldSpec::optional(
            "truncate",
            Type::Enum(&["end", "middle"]),
            "\"end\"",
            "Which part of a too-long initial solution is cut: `end` keeps its beginning; \
             `middle` keeps its beginning and end.",
        ),
        FieldSpec::optional(
            "keep",
            Type::Enum(&["all", "correct"]),
            "\"all\"",
            "`all` keeps every refined trajectory [paper]; `correct` keeps only those whose \
             answer matches the record's `answer` (hurts Pass@16 in the paper).",
        ),
        TEMPERATURE,
        MAX_TOKENS,
    ],
    output: Output::Extends(&[
        FieldSpec::output("solution", Type::Str, "The refined trajectory y_r."),
        FieldSpec::output("original", Type::Str, "The rollout y_o."),
        FieldSpec::output(
            "teacher_prompt",
            Type::Str,
            "The rendered refine prompt: the teacher's context when `distill` computes its \
             logits on y_r.",
        ),
        FieldSpec::output(
            "refiner",
            Type::Str,
            "The model declaration that refined it.",
        ),
        FieldSpec::output("refine_mode", Type::Str, "`opd` or `opsd`."),
        FieldSpec::output(
            "truncated",
            Type::Bool,
            "Whether the initial solution was truncated.",
        ),
    ]),
    ..Signature::new(
        "refine",
        SignatureKind::Transform,
        "A teacher rewrites each student rollout into a corrected trajectory (TRD refine)",
    )
};

const DOC: &str = r#"TRD step 2, **refine** [paper]: a teacher rewrites the student's rollout `y_o` into
`y_r`.

- **OPD**: a separate teacher sees `x` and `y_o` and is told to keep the overall
  structure and reasoning path, find and fix computation or logic errors, keep correct
  steps, and output only the rewritten solution.
- **OPSD**: the student acts as its own teacher with privileged context `y*` (the
  `reference`): rewrite so the solution is consistent with the reference, keeping useful
  structure and style.

No correctness filter by default [paper]: filtering to failed-then-fixed cases hurts
Pass@16 by 10–15 points, so failures and successes are both kept. When the prompt is too
long, the initial-solution block is truncated, never the reference [paper].

The refined text replaces `solution`; the rendered prompt is kept in `teacher_prompt`
because TRD's dense distillation conditions the *teacher* on it while the student sees
only `x` [paper: TRD step 3]. The run report compares verifier pass rate and median
length of `original` and `solution` (the paper: 65.8% → 81.4%, 7.7K → 0.88K tokens).

```dta
stage refined: refine(rollouts) { mode = "opsd", teacher = small, reference = train.solution }
objective fkl: forward_kl {}
stage tuned: distill(refined) { student = small, teacher = small, signal = "logits", objective = fkl }
```
"#;
