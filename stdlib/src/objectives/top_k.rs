//! The `top_k` objective: KL on the teacher's top-k support, both sides renormalized, with
//! an optional tail bucket.

use dtac_interpreter::signature::{FieldSpec, Lint, LintValues, Signature, SignatureKind, Type};

use super::{temperature_lint, TEMPERATURE};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[
        FieldSpec::optional(
            "k",
            Type::Int,
            "32",
            "The size of the support S: the teacher's k most likely tokens at each position.",
        ),
        FieldSpec::optional(
            "tail",
            Type::Bool,
            "false",
            "Add the mass outside S as a (k+1)-th entry instead of renormalizing it away.",
        ),
        TEMPERATURE,
    ],
    lint: Some(lint),
    ..Signature::new(
        "top_k",
        SignatureKind::Objective,
        "Forward KL(q‖p) on the teacher's top-k tokens, renormalized, optional tail bucket",
    )
};

const DOC: &str = r#"Top-k forward KL, METHODS.md §5 [related]; the objective for teachers that return only
their top log-probabilities (`distill { signal = "topk_logprobs" }`), and a cheaper
approximation of `forward_kl` with full logits. Per response token, with `q` the
teacher's and `p` the student's distribution at temperature τ, and `S` the teacher's
top-k tokens at that position:

    q̂(v) = q(v) / Σ_{u∈S} q(u)      p̂(v) = p(v) / Σ_{u∈S} p(u)      for v ∈ S
    ℓ_t  = Σ_{v∈S} q̂(v) (log q̂(v) − log p̂(v))

With `tail = true`, nothing is renormalized; the mass outside S becomes one more entry:

    ℓ_t  = Σ_{v∈S} q(v) (log q(v) − log p(v)) + q_tail (log q_tail − log p_tail)
    q_tail = 1 − Σ_{v∈S} q(v)        p_tail = 1 − Σ_{v∈S} p(v)

The baseline is k = 32 [related]. **Renormalized top-1 is identically zero**: with one
token in S both sides renormalize to 1, so `k = 1` needs `tail = true` (`dtac check` warns).
When the teacher gives fewer than k entries at a position (an API's `top_logprobs`
limit), S is what it gave.

```dta
objective sparse: top_k { k = 20, tail = true }
stage tuned: distill(candidates) { student = small, teacher = gpt, signal = "topk_logprobs", objective = sparse }
```
"#;

fn lint(values: &dyn LintValues) -> Vec<Lint> {
    let mut lints: Vec<Lint> = temperature_lint(values).into_iter().collect();
    let k = values.int("k");
    let tail = values.bool("tail").unwrap_or(false);
    match k {
        Some(k) if k < 1 => lints.push(Lint {
            setting: Some("k"),
            message: format!("k = {k} leaves no tokens in the support"),
            help: "use k ≥ 1; 32 is the baseline".into(),
        }),
        Some(1) if !tail => lints.push(Lint {
            setting: Some("k"),
            message: "a renormalized top-1 KL is identically zero".into(),
            help: "set `tail = true` to keep the mass outside the top token, or raise `k`".into(),
        }),
        _ => {}
    }
    lints
}
