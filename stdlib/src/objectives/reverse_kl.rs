//! The `reverse_kl` objective: KL(student ‖ teacher), mode-seeking.

use dtac_interpreter::signature::{Signature, SignatureKind};

use super::{temperature_only, TEMPERATURE};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[TEMPERATURE],
    lint: Some(temperature_only),
    ..Signature::new(
        "reverse_kl",
        SignatureKind::Objective,
        "Reverse KL(p‖q), student to teacher: mode-seeking; on-policy distillation",
    )
};

const DOC: &str = r#"Reverse KL, METHODS.md §5, per response token `t`:

    ℓ_t = KL(p ‖ q) = Σ_v p(v) (log p(v) − log q(v))

with `p` the student's and `q` the teacher's distribution, both at temperature τ. The
expectation is under the **student**: it is penalized for mass where the teacher has
little, and may drop some of the teacher's modes (mode-seeking). Loss = Σ_t ℓ_t / number
of response tokens.

This is the on-policy distillation loss along student rollouts (TOPD's per-token loss
`ℓ_t`, [paper: TOPD step 1]). It needs the teacher's full distribution at every position
(`distill { signal = "logits" }`); with an API teacher that returns only log-probabilities
of sampled tokens, use `sampled`.

```dta
objective opd: reverse_kl {}
stage tuned: distill(guided) { student = small, teacher = big, signal = "logits", objective = opd }
```
"#;
