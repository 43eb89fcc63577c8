//! Distillation objectives (METHODS.md §5): `objective NAME: kind { ... }`, used by
//! `distill` and `export_trainer`.
//!
//! Conventions every objective shares, stated once so no doc can drift from them: `p` is
//! the student's distribution and `q` the teacher's over the vocabulary at one position of
//! the response; both logits are divided by the same `temperature` before the softmax; a
//! mask keeps response tokens only; the loss is the sum over masked tokens divided by the
//! number of masked tokens in the batch. `KL(a‖b) = Σ_v a(v) (log a(v) − log b(v))`.

pub mod clipped_kl;
pub mod forward_kl;
pub mod jsd;
pub mod reverse_kl;
pub mod sampled;
pub mod top_k;

use dtac_interpreter::signature::{FieldSpec, Lint, LintValues, Signature, Type};

pub const ALL: &[&Signature] = &[
    &clipped_kl::SIGNATURE,
    &forward_kl::SIGNATURE,
    &jsd::SIGNATURE,
    &reverse_kl::SIGNATURE,
    &sampled::SIGNATURE,
    &top_k::SIGNATURE,
];

pub const TEMPERATURE: FieldSpec = FieldSpec::optional(
    "temperature",
    Type::Float,
    "1.0",
    "τ: both the student's and the teacher's logits are divided by it before the softmax \
     (never one side only).",
);

/// The temperature must be positive: the lint every objective shares.
pub fn temperature_lint(values: &dyn LintValues) -> Option<Lint> {
    let t = values.float("temperature")?;
    (t <= 0.0).then(|| Lint {
        setting: Some("temperature"),
        message: format!("temperature {t} is not positive: the logits cannot be divided by it"),
        help: "use a positive temperature; 1.0 leaves the distributions as they are".into(),
    })
}

/// The lint of objectives that have no other setting to check.
pub fn temperature_only(values: &dyn LintValues) -> Vec<Lint> {
    temperature_lint(values).into_iter().collect()
}
