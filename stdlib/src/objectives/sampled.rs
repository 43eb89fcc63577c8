//! The `sampled` objective: the sampled-token KL estimator (k3) for teachers that give
//! log-probabilities of the sampled tokens only.

use dtac_interpreter::signature::{FieldSpec, Lint, LintValues, Signature, SignatureKind, Type};

use super::{temperature_lint, TEMPERATURE};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[
        FieldSpec::optional(
            "clamp",
            Type::Float,
            "20",
            "The log-ratio r is clamped to at most this value before `e^r`, so one token \
             cannot overflow the loss.",
        ),
        TEMPERATURE,
    ],
    lint: Some(lint),
    ..Signature::new(
        "sampled",
        SignatureKind::Objective,
        "Sampled-token KL estimator k3 = e^r − 1 − r, r = log q(y_t) − log p(y_t)",
    )
};

const DOC: &str = r#"The sampled-token estimator, METHODS.md §5 [related] (Schulman's k3). It needs only the
log-probability of the token actually in the response, which any API teacher with
`logprobs` returns. At response token `y_t`, with `q` the teacher's and `p` the
student's distribution at temperature τ:

    r   = min(log q(y_t) − log p(y_t), clamp)
    ℓ_t = e^r − 1 − r

`ℓ_t ≥ 0`, and it is zero exactly when the two log-probabilities agree. When `y_t` is
sampled from the student (on-policy rollouts), `E_p[ℓ_t] = KL(p ‖ q)`: an unbiased
estimate of the **reverse** KL, with lower variance than `−r`. On off-policy text it is a
surrogate, not an estimate of any KL.

```dta
objective cheap: sampled { clamp = 20 }
stage tuned: distill(rollouts) { student = small, teacher = gpt, signal = "topk_logprobs", objective = cheap }
```
"#;

fn lint(values: &dyn LintValues) -> Vec<Lint> {
    let mut lints: Vec<Lint> = temperature_lint(values).into_iter().collect();
    if let Some(clamp) = values.float("clamp").filter(|c| *c <= 0.0) {
        lints.push(Lint {
            setting: Some("clamp"),
            message: format!(
                "clamp {clamp} cuts every token where the teacher is surer than the student"
            ),
            help: "use a positive clamp; 20 only guards against overflow".into(),
        });
    }
    lints
}
