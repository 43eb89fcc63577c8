//! The `jsd` objective: generalized Jensen-Shannon divergence (GKD), interpolating between
//! forward and reverse KL.

use dtac_interpreter::signature::{FieldSpec, Lint, LintValues, Signature, SignatureKind, Type};

use super::{temperature_lint, TEMPERATURE};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[
        FieldSpec::optional(
            "beta",
            Type::Float,
            "0.5",
            "β in [0, 1]: the teacher's weight in the mixture `M = β q + (1 − β) p`. \
             0 is forward KL, 1 is reverse KL.",
        ),
        TEMPERATURE,
    ],
    lint: Some(lint),
    ..Signature::new(
        "jsd",
        SignatureKind::Objective,
        "Generalized Jensen-Shannon divergence JSD_β (GKD); β = 0 forward KL, β = 1 reverse KL",
    )
};

const DOC: &str = r#"Generalized JSD as in GKD (Agarwal et al., 2024), METHODS.md §5 [related]. Per response
token, with `q` the teacher's and `p` the student's distribution at temperature τ:

    M     = β q + (1 − β) p
    JSD_β = β KL(q ‖ M) + (1 − β) KL(p ‖ M)

For 0 < β < 1 this is bounded and symmetric in spirit; β = 0.5 is the ordinary
Jensen-Shannon divergence.

**Special cases.** The formula degenerates at the ends (at β = 0, `M = p` and both terms
vanish), so they are defined separately, as in TRL's `GKDTrainer`:
- β = 0: forward KL, `KL(q ‖ p)` (see `forward_kl`);
- β = 1: reverse KL, `KL(p ‖ q)` (see `reverse_kl`).

Near the ends the loss shrinks like β · KL(q ‖ p) (or (1 − β) · KL(p ‖ q)), so a small β
also scales the effective learning rate down.

```dta
objective gkd: jsd { beta = 0.5, temperature = 1.0 }
```
"#;

fn lint(values: &dyn LintValues) -> Vec<Lint> {
    let mut lints: Vec<Lint> = temperature_lint(values).into_iter().collect();
    if let Some(beta) = values.float("beta").filter(|b| !(0.0..=1.0).contains(b)) {
        lints.push(Lint {
            setting: Some("beta"),
            message: format!("beta {beta} is outside [0, 1]: the mixture is not a distribution"),
            help: "use 0 for forward KL, 1 for reverse KL, or a value in between".into(),
        });
    }
    lints
}
