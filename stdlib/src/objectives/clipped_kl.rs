//! The `clipped_kl` objective: per-token forward KL capped at `clip`.

use dtac_interpreter::signature::{FieldSpec, Lint, LintValues, Signature, SignatureKind, Type};

use super::{temperature_lint, TEMPERATURE};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[
        FieldSpec::optional(
            "clip",
            Type::Float,
            "0.1",
            "c: the cap on each token's KL, in nats. TRD's baseline uses 0.1.",
        ),
        TEMPERATURE,
    ],
    lint: Some(lint),
    ..Signature::new(
        "clipped_kl",
        SignatureKind::Objective,
        "Forward KL(q‖p) per token, capped at `clip`",
    )
};

const DOC: &str = r#"Clipped forward KL, METHODS.md §5 (TRD's clipped baseline, c = 0.1 [paper]). Per
response token, with `q` the teacher's and `p` the student's distribution at temperature
τ:

    ℓ_t = min(KL(q ‖ p), c)       KL(q ‖ p) = Σ_v q(v) (log q(v) − log p(v))

A token whose KL exceeds `c` contributes `c` and **no gradient**: clipping bounds the
influence of positions where the student is far from the teacher. With a small `c`, most
tokens of an untrained student are clamped and training stalls; the run report shows the
fraction of clamped tokens per step.

```dta
objective capped: clipped_kl { clip = 0.1 }
```
"#;

/// Below this cap (nats) nearly every token of a student that is not already the teacher
/// is clamped: per-token forward KL of a distilled student is typically 0.05 to 1 nat.
const NEARLY_EVERY_TOKEN: f64 = 0.01;

fn lint(values: &dyn LintValues) -> Vec<Lint> {
    let mut lints: Vec<Lint> = temperature_lint(values).into_iter().collect();
    match values.float("clip") {
        Some(clip) if clip <= 0.0 => lints.push(Lint {
            setting: Some("clip"),
            message: format!(
                "clip {clip} clamps every token: the loss is constant and passes no gradient"
            ),
            help: "use a positive cap such as 0.1, or `forward_kl` for no cap".into(),
        }),
        Some(clip) if clip < NEARLY_EVERY_TOKEN => lints.push(Lint {
            setting: Some("clip"),
            message: format!(
                "clip {clip} nats clamps nearly every token: only positions where the student \
                 already matches the teacher almost exactly pass a gradient"
            ),
            help: "TRD's baseline is 0.1; use `forward_kl` for no cap".into(),
        }),
        _ => {}
    }
    lints
}
