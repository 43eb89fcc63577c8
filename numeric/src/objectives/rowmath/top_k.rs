//! Top-k forward KL of one row: the support `S` is the teacher's k most likely tokens
//! (ties: lower token id first), chosen in O(V) with `select_nth_unstable`; or, for a
//! sparse teacher, the k most likely of the entries it gave.
//!
//! Renormalized: `q̂ = softmax(t_S/τ)`, `p̂ = softmax(s_S/τ)`, `ℓ = KL(q̂‖p̂)`; this is
//! forward KL on the sub-vocabulary S, so `∂ℓ/∂z_j = (p̂_j − q̂_j)/τ` on S and 0 outside.
//!
//! With the tail bucket: `ℓ = Σ_{v∈S} q_v log(q_v/p_v) + q_T log(q_T/p_T)`, with
//! `q_T = 1 − Σ_S q`, `p_T = Σ_{v∉S} p_v`. With `W = Σ_S q + q_T` (1 for a dense
//! teacher) and `∂ log p_T/∂z_j = ([j∉S] p_j/p_T − p_j)/τ`:
//! `∂ℓ/∂z_j = (W p_j − q_j)/τ` for j ∈ S and `(W p_j − q_T p_j/p_T)/τ` for j ∉ S.

use super::softmax::row_max;
use super::{token_index, GradRow, RowIssue, RowSoftmax, Scratch, TeacherRow};

/// Below this, a sum of cached exps over the complement of S may have lost precision to
/// f32 underflow: the complement's log-sum-exp is then recomputed with its own maximum.
const UNDERFLOW_GUARD: f64 = 1e-30;

pub(super) fn top_k(
    s: &[f32],
    teacher: TeacherRow<'_>,
    k: usize,
    tail: bool,
    inv_tau: f64,
    scratch: &mut Scratch,
    grad: Option<GradRow>,
) -> Result<f64, RowIssue> {
    row_max(s, "student")?;
    let sparse = matches!(teacher, TeacherRow::Sparse { .. });
    select_support(s.len(), teacher, k, scratch)?;
    if !tail {
        return renormalized(s, inv_tau, scratch, grad);
    }
    if sparse && inv_tau != 1.0 {
        return Err(RowIssue::new(
            "top_k with tail on a sparse teacher needs temperature 1: the mass outside the \
             given tokens at another temperature depends on logits the teacher did not give",
        ));
    }
    // The teacher on S (log q and q), its mass outside, and W = Σ_S q + q_T.
    let tail_teacher = match teacher {
        TeacherRow::Dense(t) => {
            let q = RowSoftmax::compute(t, inv_tau, &mut scratch.teacher_exp, "teacher")?;
            mark(scratch, true);
            let outside = complement_sum(&scratch.teacher_exp, &scratch.in_support);
            TailTeacher {
                // q_v from the same cache and normalizer as the student's p_v, so that
                // identical rows give exactly cancelling gradients.
                prob: scratch
                    .support
                    .iter()
                    .map(|&v| q.prob(scratch.teacher_exp[v as usize]))
                    .collect(),
                log: scratch.sub_teacher.iter().map(|&x| q.log_prob(x)).collect(),
                tail: outside * q.inv_sum,
                // Σ_S q + q_T is 1 exactly for a full distribution; summing it would
                // only add rounding.
                total: 1.0,
            }
        }
        TeacherRow::Sparse { .. } => {
            let log: Vec<f64> = scratch.sub_teacher.iter().map(|&x| f64::from(x)).collect();
            let prob: Vec<f64> = log.iter().map(|l| l.exp()).collect();
            let inside: f64 = prob.iter().sum();
            mark(scratch, true);
            let tail = (1.0 - inside).max(0.0);
            TailTeacher {
                prob,
                log,
                tail,
                total: inside + tail,
            }
        }
    };
    let result = with_tail(s, &tail_teacher, inv_tau, scratch, grad);
    mark(scratch, false);
    result
}

/// The ids of the `k` largest values of `t` (ties: lower id first), in increasing id
/// order, into `out`. One pass with a k-entry buffer: a value enters only when it beats
/// the buffer's worst, which after the first few thousand elements almost never happens,
/// so the pass costs about one comparison per element (a full `select_nth` over a copy of
/// the ids cost more than the softmax itself).
fn largest(t: &[f32], k: usize, out: &mut Vec<u32>) {
    out.clear();
    if k >= t.len() {
        out.extend(0..t.len() as u32);
        return;
    }
    // Adding 0.0 turns −0 into +0, so the two zeros tie (and fall to the id).
    let key = |i: u32| t[i as usize] + 0.0;
    // Worse: a smaller value, or an equal value with a larger id.
    let worse = |a: u32, b: u32| key(a).total_cmp(&key(b)).then(b.cmp(&a)).is_lt();
    out.extend(0..k as u32);
    let mut worst = (0..k).fold(0, |w, i| if worse(out[i], out[w]) { i } else { w });
    let mut threshold = key(out[worst]);
    for (i, &v) in t.iter().enumerate().skip(k) {
        // Ids rise, so an equal value never displaces an earlier one: strictly greater.
        if v + 0.0 > threshold {
            out[worst] = i as u32;
            worst = (0..k).fold(0, |w, j| if worse(out[j], out[w]) { j } else { w });
            threshold = key(out[worst]);
        }
    }
    out.sort_unstable();
}

/// Fills `scratch.support` with S and `scratch.sub_teacher` with the teacher's logits (or
/// log-probabilities) on it.
fn select_support(
    vocab: usize,
    teacher: TeacherRow<'_>,
    k: usize,
    scratch: &mut Scratch,
) -> Result<(), RowIssue> {
    scratch.support.clear();
    scratch.sub_teacher.clear();
    match teacher {
        TeacherRow::Dense(t) => {
            if t.len() != vocab {
                return Err(RowIssue::new(format!(
                    "the teacher row has {} logits and the student row {vocab}",
                    t.len()
                )));
            }
            row_max(t, "teacher")?;
            let order = &mut scratch.order;
            largest(t, k, order);
            scratch.support.extend_from_slice(order);
            scratch
                .sub_teacher
                .extend(order.iter().map(|&i| t[i as usize]));
        }
        TeacherRow::Sparse { indices, logprobs } => {
            let entries = &mut scratch.entries;
            entries.clear();
            for (&id, &lp) in indices.iter().zip(logprobs) {
                if lp.is_nan() || lp == f32::INFINITY {
                    return Err(RowIssue::new(format!(
                        "the teacher's log-probability of token {id} is {lp}"
                    )));
                }
                if lp == f32::NEG_INFINITY {
                    continue; // padding
                }
                entries.push((token_index(id, vocab, "teacher token id")? as u32, lp));
            }
            entries.sort_unstable_by_key(|e| e.0);
            if let Some(w) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(RowIssue::new(format!(
                    "the teacher gives token {} twice; each position's entries must be distinct",
                    w[0].0
                )));
            }
            if entries.is_empty() {
                return Err(RowIssue::new(
                    "the teacher gives no token here (every log-probability is -inf); mask \
                     the position out",
                ));
            }
            entries.sort_by(|a, b| (b.1 + 0.0).total_cmp(&(a.1 + 0.0)).then(a.0.cmp(&b.0)));
            entries.truncate(k);
            scratch.support.extend(entries.iter().map(|e| e.0));
            scratch.sub_teacher.extend(entries.iter().map(|e| e.1));
        }
    }
    Ok(())
}

/// KL of the two distributions renormalized on S.
fn renormalized(
    s: &[f32],
    inv_tau: f64,
    scratch: &mut Scratch,
    grad: Option<GradRow>,
) -> Result<f64, RowIssue> {
    let n = scratch.support.len();
    scratch.sub_student.clear();
    scratch
        .sub_student
        .extend(scratch.support.iter().map(|&i| s[i as usize]));
    scratch.sub_student_exp.resize(n, 0.0);
    scratch.sub_teacher_exp.resize(n, 0.0);
    let (ss, st) = (&scratch.sub_student, &scratch.sub_teacher);
    let p = RowSoftmax::compute(ss, inv_tau, &mut scratch.sub_student_exp, "student")?;
    let q = RowSoftmax::compute(st, inv_tau, &mut scratch.sub_teacher_exp, "teacher")?;
    let loss =
        super::divergence::forward_kl_loss(ss, st, &p, &q, inv_tau, &scratch.sub_teacher_exp);
    if let Some(g) = grad {
        g.out.fill(0.0);
        let c = inv_tau * f64::from(g.scale);
        let cache = scratch.sub_student_exp.iter().zip(&scratch.sub_teacher_exp);
        for (&j, (&es, &et)) in scratch.support.iter().zip(cache) {
            g.out[j as usize] = ((p.prob(es) - q.prob(et)) * c) as f32;
        }
    }
    Ok(loss)
}

/// Sets (or clears) the marks of S in `scratch.in_support`.
fn mark(scratch: &mut Scratch, on: bool) {
    for &j in &scratch.support {
        scratch.in_support[j as usize] = on;
    }
}

/// Σ of `cache` over the tokens outside S.
fn complement_sum(cache: &[f32], in_support: &[bool]) -> f64 {
    let mut sum = 0f64;
    for (cs, ms) in cache.chunks(8).zip(in_support.chunks(8)) {
        let part: f32 = cs
            .iter()
            .zip(ms)
            .map(|(&e, &m)| if m { 0.0 } else { e })
            .sum();
        sum += f64::from(part);
    }
    sum
}

/// The student's mass outside S: `ln p_T`, and how to get `p_j/p_T` for j ∉ S.
enum StudentTail {
    /// `p_j/p_T = exp_j / sum` from the cache.
    Cached { sum: f64 },
    /// The cache underflowed: `p_j/p_T = exp((s_j − max)/τ) / sum`.
    Recomputed { max: f32, sum: f64 },
    /// S is the whole vocabulary, or the student gives it probability 0.
    Empty,
}

/// The teacher's side of the tail-bucket KL.
struct TailTeacher {
    /// q_v and log q_v on S, in `scratch.support` order.
    prob: Vec<f64>,
    log: Vec<f64>,
    /// q_T, the mass outside S.
    tail: f64,
    /// W = Σ_S q + q_T.
    total: f64,
}

/// Tail-bucket KL on S (marked in `scratch.in_support`).
fn with_tail(
    s: &[f32],
    teacher: &TailTeacher,
    inv_tau: f64,
    scratch: &mut Scratch,
    grad: Option<GradRow>,
) -> Result<f64, RowIssue> {
    let p = RowSoftmax::compute(s, inv_tau, &mut scratch.student_exp, "student")?;
    let outside = complement_sum(&scratch.student_exp, &scratch.in_support);
    let (log_p_tail, student_tail) = if outside * p.inv_sum > UNDERFLOW_GUARD {
        (
            outside.ln() - p.log_sum,
            StudentTail::Cached { sum: outside },
        )
    } else {
        complement_lse(s, &scratch.in_support, inv_tau, &p)
    };
    let q_tail = teacher.tail;
    let mut loss = 0f64;
    for ((&j, &qv), &lq) in scratch.support.iter().zip(&teacher.prob).zip(&teacher.log) {
        if qv > 0.0 {
            loss += qv * (lq - p.log_prob(s[j as usize]));
        }
    }
    if q_tail > 0.0 {
        loss += q_tail * (q_tail.ln() - log_p_tail);
    }
    let Some(g) = grad else {
        return Ok(loss);
    };
    if !loss.is_finite() {
        return Err(RowIssue::new(
            "top_k's tail term is infinite here: the teacher puts mass outside the top k where \
             the student puts none (logits -inf), so the gradient is undefined; mask the \
             position out or give the student finite logits",
        ));
    }
    let w = teacher.total;
    let c = inv_tau * f64::from(g.scale);
    let marks = &scratch.in_support;
    for (((o, &es), &sj), &m) in g.out.iter_mut().zip(&scratch.student_exp).zip(s).zip(marks) {
        let ratio = match (&student_tail, m) {
            (_, true) | (StudentTail::Empty, _) => 0.0,
            (StudentTail::Cached { sum }, false) => f64::from(es) / sum,
            (StudentTail::Recomputed { max, sum }, false) => {
                f64::from(super::exp::exp((sj - max) * inv_tau as f32)) / sum
            }
        };
        *o = ((w * p.prob(es) - q_tail * ratio) * c) as f32;
    }
    for (&j, &qv) in scratch.support.iter().zip(&teacher.prob) {
        let j = j as usize;
        let pj = p.prob(scratch.student_exp[j]);
        g.out[j] = ((w * pj - qv) * c) as f32;
    }
    Ok(loss)
}

/// `ln p_T` computed with the complement's own maximum, when the cached exps underflow.
fn complement_lse(
    s: &[f32],
    in_support: &[bool],
    inv_tau: f64,
    p: &RowSoftmax,
) -> (f64, StudentTail) {
    let max = s
        .iter()
        .zip(in_support)
        .filter(|(_, &m)| !m)
        .map(|(&x, _)| x)
        .fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return (f64::NEG_INFINITY, StudentTail::Empty);
    }
    let inv = inv_tau as f32;
    let sum: f64 = s
        .iter()
        .zip(in_support)
        .filter(|(_, &m)| !m)
        .map(|(&x, _)| f64::from(super::exp::exp((x - max) * inv)))
        .sum();
    let log_p_tail = (f64::from(max) - f64::from(p.max)) * inv_tau + sum.ln() - p.log_sum;
    (log_p_tail, StudentTail::Recomputed { max, sum })
}

#[cfg(test)]
mod largest_tests {
    use super::largest;

    #[test]
    fn picks_the_largest_with_ties_to_the_lower_id() {
        let mut out = Vec::new();
        largest(&[1.0, 5.0, 3.0, 5.0, -0.0, 0.0, 4.0, 5.0], 3, &mut out);
        assert_eq!(out, [1, 3, 7]);
        largest(&[1.0, 5.0, 3.0, 5.0, -0.0, 0.0, 4.0, 5.0], 4, &mut out);
        assert_eq!(out, [1, 3, 6, 7]);
        // −0 and +0 tie: the lower id wins.
        largest(&[-1.0, 0.0, -0.0, -2.0], 2, &mut out);
        assert_eq!(out, [1, 2]);
        largest(&[-1.0, -0.0, 0.0, -2.0], 1, &mut out);
        assert_eq!(out, [1]);
        largest(&[2.0, 1.0], 5, &mut out);
        assert_eq!(out, [0, 1]);
        largest(&[f32::NEG_INFINITY, 1.0, f32::NEG_INFINITY], 2, &mut out);
        assert_eq!(out, [0, 1]);
    }
}
