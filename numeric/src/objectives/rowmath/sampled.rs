//! The sampled-token objective of one row (Schulman's k3 estimator): at the response
//! token `y`, `r = min(log q(y) − log p(y), clamp)` and `ℓ = e^r − 1 − r`.
//!
//! Gradient: `dℓ/dr = e^r − 1` and `∂r/∂z_j = −∂ log p(y)/∂z_j = (p_j − δ_jy)/τ`, so
//! `∂ℓ/∂z_j = (e^r − 1)(p_j − δ_jy)/τ` where the clamp does not apply and 0 where it does
//! (r is then the constant `clamp`). `ℓ` is formed as `expm1(r) − r` in f64, which keeps
//! its relative precision when r is tiny (ℓ ≈ r²/2).

use super::{token_index, GradRow, RowIssue, RowOutcome, RowSoftmax, Scratch, TeacherRow};

pub(super) fn sampled(
    s: &[f32],
    teacher: TeacherRow<'_>,
    token: i64,
    clamp: f64,
    inv_tau: f64,
    scratch: &mut Scratch,
    grad: Option<GradRow>,
) -> Result<RowOutcome, RowIssue> {
    let y = token_index(token, s.len(), "the response token")?;
    // Both rows go through the cached pass: measured, its exp loop vectorizes better than
    // the uncached one, even though the loss only needs log p(y) and log q(y).
    let p = RowSoftmax::compute(s, inv_tau, &mut scratch.student_exp, "student")?;
    let log_q = match teacher {
        TeacherRow::Dense(t) => {
            if t.len() != s.len() {
                return Err(RowIssue::new(format!(
                    "the teacher row has {} logits and the student row {}",
                    t.len(),
                    s.len()
                )));
            }
            RowSoftmax::compute(t, inv_tau, &mut scratch.teacher_exp, "teacher")?.log_prob(t[y])
        }
        TeacherRow::Sparse { indices, logprobs } => {
            if inv_tau != 1.0 {
                return Err(RowIssue::new(
                    "sampled on a sparse teacher needs temperature 1: log q(y) at another \
                     temperature depends on logits the teacher did not give",
                ));
            }
            let found = indices.iter().zip(logprobs).find(|(&id, _)| id == token);
            match found {
                Some((_, &lp)) if lp.is_nan() || lp == f32::INFINITY => {
                    return Err(RowIssue::new(format!(
                        "the teacher's log-probability of the response token {token} is {lp}"
                    )))
                }
                Some((_, &lp)) => f64::from(lp),
                None => {
                    return Err(RowIssue::new(format!(
                        "the teacher gives no log-probability for the response token {token}; \
                         include the sampled token among each position's entries"
                    )))
                }
            }
        }
    };
    let raw = log_q - p.log_prob(s[y]);
    let clamped = raw > clamp;
    let r = raw.min(clamp);
    // r = −inf (the teacher rules y out): ℓ = +inf, and the gradient is the finite limit
    // −(p − δ_y)/τ, which pushes log p(y) down.
    let loss = r.exp_m1() - r;
    if let Some(g) = grad {
        if clamped {
            g.out.fill(0.0);
        } else {
            let c = r.exp_m1() * inv_tau * f64::from(g.scale);
            for (o, &es) in g.out.iter_mut().zip(&scratch.student_exp) {
                *o = (p.prob(es) * c) as f32;
            }
            g.out[y] = ((p.prob(scratch.student_exp[y]) - 1.0) * c) as f32;
        }
    }
    Ok(RowOutcome { loss, clamped })
}
