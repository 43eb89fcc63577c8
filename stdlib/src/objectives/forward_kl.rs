//! The `forward_kl` objective: KL(teacher ‖ student), mode-covering.

use dtac_interpreter::signature::{Signature, SignatureKind};

use super::{temperature_only, TEMPERATURE};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[TEMPERATURE],
    lint: Some(temperature_only),
    ..Signature::new(
        "forward_kl",
        SignatureKind::Objective,
        "Forward KL(q‖p), teacher to student: mode-covering; SFT when the teacher is one-hot",
    )
};

const DOC: &str = r#"Forward KL, METHODS.md §5, per response token `t`:

    ℓ_t = KL(q ‖ p) = Σ_v q(v) (log q(v) − log p(v))

with `q` the teacher's and `p` the student's distribution, both at temperature τ. The
expectation is under the **teacher**: the student is pushed to cover every token the
teacher gives mass to (mode-covering). Loss = Σ_t ℓ_t / number of response tokens.

- With a one-hot teacher (the target text only, `distill { signal = "text" }`) this is
  cross-entropy: SFT. [paper: DTA step 8]
- TRD's dense distillation on refined trajectories uses it with full teacher logits.
  [paper: TRD step 3]
- Gradient with respect to the student logits `z`: `(p − q) / τ`.

```dta
objective fkl: forward_kl { temperature = 1.0 }
stage tuned: distill(ranked) { student = small, objective = fkl }
```
"#;
