//! The log-softmax of one row of logits at temperature τ, computed stably: the row's
//! maximum is subtracted before `exp`, the normalizer is accumulated in f64, and log-
//! probabilities are formed in f64 from the f32 logits so that identical rows give exactly
//! identical (and exactly cancelling) values.

use super::exp::exp as fast_exp;
use super::RowIssue;

/// Independent partial sums per row pass.
const LANES: usize = 8;

/// `log p_i = (x_i − max)/τ − log_sum`, `p_i = exp_i · inv_sum`, where `exp_i` is the
/// cache [`RowSoftmax::compute`] fills.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowSoftmax {
    /// The largest logit (raw, before the temperature).
    pub max: f32,
    /// `ln Σ_i exp((x_i − max)/τ)`.
    pub log_sum: f64,
    /// `1 / Σ_i exp((x_i − max)/τ)`.
    pub inv_sum: f64,
    /// 1/τ in f64, for log-probabilities.
    inv_tau: f64,
}

impl RowSoftmax {
    /// The statistics of row `x`, writing `exp((x_i − max)/τ)` into `exp` (same length).
    /// `−inf` logits are allowed (probability 0); NaN, `+inf` or a row without any finite
    /// logit is an issue naming `what` ("student", "teacher").
    pub fn compute(
        x: &[f32],
        inv_tau: f64,
        exp: &mut [f32],
        what: &str,
    ) -> Result<RowSoftmax, RowIssue> {
        // NaN is caught by the sum below (e^NaN is NaN), so the max pass need not look.
        let max = finite_max(lane_max(x), what)?;
        let inv = inv_tau as f32;
        // LANES independent f64 partial sums: no add waits on the previous one, and the
        // exps of a block vectorize.
        let mut lanes = [0f64; LANES];
        let mut xs = x.chunks_exact(LANES);
        let mut es = exp.chunks_exact_mut(LANES);
        for (xb, eb) in (&mut xs).zip(&mut es) {
            for l in 0..LANES {
                let e = fast_exp((xb[l] - max) * inv);
                eb[l] = e;
                lanes[l] += f64::from(e);
            }
        }
        for (&xi, ei) in xs.remainder().iter().zip(es.into_remainder()) {
            *ei = fast_exp((xi - max) * inv);
            lanes[0] += f64::from(*ei);
        }
        RowSoftmax::from_sum(max, lanes.iter().sum(), inv_tau, what)
    }

    fn from_sum(max: f32, sum: f64, inv_tau: f64, what: &str) -> Result<RowSoftmax, RowIssue> {
        if sum.is_nan() {
            return Err(nan_issue(what));
        }
        Ok(RowSoftmax {
            max,
            log_sum: sum.ln(),
            inv_sum: 1.0 / sum,
            inv_tau,
        })
    }

    /// `log p_i` for logit `x_i` of this row, in f64.
    #[inline]
    pub fn log_prob(&self, x: f32) -> f64 {
        (f64::from(x) - f64::from(self.max)) * self.inv_tau - self.log_sum
    }

    /// `p_i` from the cached `exp_i`.
    #[inline]
    pub fn prob(&self, exp_i: f32) -> f64 {
        f64::from(exp_i) * self.inv_sum
    }
}

/// The row's maximum, refusing NaN, `+inf` and rows with no finite logit: any of those
/// makes the softmax undefined, and would otherwise surface later as a NaN loss.
pub(crate) fn row_max(x: &[f32], what: &str) -> Result<f32, RowIssue> {
    if x.iter().any(|v| v.is_nan()) {
        return Err(nan_issue(what));
    }
    finite_max(lane_max(x), what)
}

/// The maximum over LANES independent running maxima (a compare-and-select the compiler
/// vectorizes, unlike `f32::max`). NaN entries are skipped.
fn lane_max(x: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let mut blocks = x.chunks_exact(LANES);
    for b in &mut blocks {
        for l in 0..LANES {
            lanes[l] = if b[l] > lanes[l] { b[l] } else { lanes[l] };
        }
    }
    let rest = blocks.remainder().iter().copied();
    lanes
        .into_iter()
        .chain(rest)
        .fold(f32::NEG_INFINITY, f32::max)
}

/// `max` if it is finite; otherwise the row has `+inf` or nothing but `-inf`.
fn finite_max(max: f32, what: &str) -> Result<f32, RowIssue> {
    if max == f32::INFINITY {
        return Err(RowIssue::new(format!(
            "the {what} logits contain +inf, which has no softmax; clamp them to a finite value"
        )));
    }
    if max == f32::NEG_INFINITY {
        return Err(RowIssue::new(format!(
            "every {what} logit is -inf: the row is not a distribution; mask the position out"
        )));
    }
    Ok(max)
}

fn nan_issue(what: &str) -> RowIssue {
    RowIssue::new(format!("the {what} logits contain NaN"))
}
