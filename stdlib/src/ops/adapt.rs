//! `adapt`: DART's feasibility-aware adaptation of expert demonstrations to the student.

use dtac_interpreter::signature::{
    FieldSpec, InputSpec, Lint, LintValues, Output, Signature, SignatureKind, Type,
};

use super::{MAX_TOKENS, SEED};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[
        InputSpec::records("demonstrations", "Expert solutions in `solution`.")
            .needing(&["solution"]),
    ],
    settings: &[
        FieldSpec::required(
            "student",
            Type::Model,
            "The student that simulates and explores.",
        ),
        FieldSpec::maybe(
            "answer",
            Type::FieldRef,
            "Reference answers a* (`train.answer`), joined on `id`; each record's own `answer` \
             when left out.",
        ),
        FieldSpec::optional(
            "step_separator",
            Type::Str,
            "\"\\n\\n\"",
            "Splits the expert solution into steps (blank lines [paper code]).",
        ),
        FieldSpec::optional(
            "simulations",
            Type::Int,
            "4",
            "N: student continuations from each prefix.",
        ),
        FieldSpec::optional(
            "temperature",
            Type::Float,
            "0.1",
            "Sampling temperature of the simulations.",
        ),
        FieldSpec::optional(
            "tau",
            Type::Float,
            "0.25",
            "τ: the gap is the first step whose adaptability f_t is below it.",
        ),
        FieldSpec::optional(
            "delta",
            Type::Float,
            "0.5",
            "δ: or the first step where adaptability drops by more than this.",
        ),
        FieldSpec::optional(
            "explore_samples",
            Type::Int,
            "16",
            "Continuations the student writes from the prefix before the gap.",
        ),
        FieldSpec::optional(
            "explore_temperature",
            Type::Float,
            "1.0",
            "Sampling temperature of the exploration.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The exploration request, over the problem's fields and `{{prefix}}`; the \
             DART prompt (continue in your own style, prefix read-only) when left out.",
        )
        .with_template_vars(&["prefix"]),
        FieldSpec::optional(
            "on_failure",
            Type::Enum(&["keep", "drop"]),
            "\"keep\"",
            "When no exploration reaches a*: `keep` the expert trajectory, or `drop` the problem.",
        ),
        MAX_TOKENS,
        SEED,
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "solution",
            Type::Str,
            "prefix ⊕ continuation, or the expert text when kept unchanged.",
        ),
        FieldSpec::output("original", Type::Str, "The expert solution."),
        FieldSpec::output(
            "adaptability",
            Type::List(&Type::Float),
            "f_t for each prefix s≤t.",
        ),
        FieldSpec::output(
            "gap_step",
            Type::Int,
            "The step index where the gap fell; −1 when none.",
        ),
        FieldSpec::output(
            "adapted",
            Type::Bool,
            "Whether `solution` is the student's continuation.",
        ),
        FieldSpec::output(
            "explore_success",
            Type::Float,
            "Share of exploration samples that reached a*.",
        ),
    ]),
    lint: Some(lint),
    ..Signature::new(
        "adapt",
        SignatureKind::Transform,
        "DART: find where the student can no longer follow an expert solution, let it continue",
    )
};

const DOC: &str = r#"DART [paper code, METHODS.md §4]: adapt expert demonstrations to what the student can
actually follow.

1. **Split** the expert solution into steps on `step_separator`; prefixes `s≤t`.
2. **Simulate**: from each prefix the student continues `simulations` times (N = 4,
   temperature 0.1); adaptability `f_t` = share of continuations whose final boxed answer
   equals a*.
3. **Imitation gap** [rule: choice]: the first `t` with `f_t < tau`, or with
   `f_{t−1} − f_t > delta`. No gap: the record passes with `adapted = false`.
4. **Explore**: from the prefix before the gap, the student writes `explore_samples`
   continuations in its own style, the prefix read-only; only outcome-consistent ones
   (answer = a*) count. The first consistent continuation in sample order is used.
5. **Fallback**: no consistent continuation → `on_failure` keeps the expert trajectory
   or drops the problem.

`distill` then trains on `solution` (SFT on prefix ⊕ continuation). The run report lists
where the gap fell per problem.

```dta
stage adapted: adapt(train) { student = small, answer = train.answer, explore_samples = 16 }
```
"#;

fn lint(values: &dyn LintValues) -> Vec<Lint> {
    let mut lints = Vec::new();
    if let Some(tau) = values.float("tau").filter(|t| !(0.0..=1.0).contains(t)) {
        lints.push(Lint {
            setting: Some("tau"),
            message: format!(
                "tau {tau} is outside [0, 1]: adaptability is a share of continuations"
            ),
            help: "use a share such as 0.25".into(),
        });
    }
    lints
}
