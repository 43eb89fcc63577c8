//! `dtac check` warnings for `distill` settings that run but silently train on something
//! other than what the author meant: a temperature that can reach one side only, or an
//! objective that needs a distribution the teacher signal does not carry. And the one
//! error about what the settings point at: full logits need one shared vocabulary.

use dtac_interpreter::signature::{Lint, LintValues};

/// The objectives that compare whole distributions, so need the teacher's full logits.
const FULL_DISTRIBUTION: &[&str] = &["forward_kl", "reverse_kl", "jsd", "clipped_kl"];

pub fn lint(values: &dyn LintValues) -> Vec<Lint> {
    let signal = values.str("signal").unwrap_or_else(|| "text".into());
    // A built-in objective used by name has the default temperature, 1.
    let (kind, temperature) = match values.referenced("objective") {
        Some(objective) => (
            objective.kind.clone(),
            objective.values.float("temperature").unwrap_or(1.0),
        ),
        None => ("forward_kl".to_string(), 1.0),
    };
    let mut lints = Vec::new();
    let tempered = (temperature - 1.0).abs() > f64::EPSILON && temperature > 0.0;
    match signal.as_str() {
        "text" if tempered => lints.push(Lint {
            setting: Some("objective"),
            message: format!(
                "temperature {temperature} reaches the student only: with `signal = \"text\"` \
                 the teacher is a one-hot target, which no temperature changes"
            ),
            help: "leave the objective's temperature at 1 for SFT, or use a teacher signal \
                   (`logits`, `topk_logprobs`) that has a distribution to temper"
                .into(),
        }),
        "topk_logprobs" if kind == "sampled" && tempered => lints.push(Lint {
            setting: Some("objective"),
            message: format!(
                "temperature {temperature} reaches the student only: an endpoint gives the \
                 sampled token's log-probability at its own temperature, and one number \
                 cannot be re-tempered"
            ),
            help: "set the objective's temperature to 1, or use `signal = \"logits\"` with a \
                   local teacher"
                .into(),
        }),
        "topk_logprobs" if FULL_DISTRIBUTION.contains(&kind.as_str()) => lints.push(Lint {
            setting: Some("objective"),
            message: format!(
                "`{kind}` compares whole distributions, but `signal = \"topk_logprobs\"` gives \
                 only the teacher's top entries"
            ),
            help: "use `top_k { tail = true }` or `sampled` with an endpoint teacher, or \
                   `signal = \"logits\"` with a local one"
                .into(),
        }),
        _ => {}
    }
    lints
}

/// With `signal = "logits"` the teacher's and the student's logits are compared index by
/// index, so their tokenizers must agree.
pub fn resources(values: &dyn LintValues) -> Vec<Lint> {
    if values.str("signal").as_deref() == Some("logits") {
        crate::local::checkpoints::same_vocabulary(values)
    } else {
        Vec::new()
    }
}
