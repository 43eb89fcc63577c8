//! The dense divergences of one row: forward KL, reverse KL, generalized JSD and clipped
//! forward KL, each with its analytic gradient.
//!
//! Log-probability differences are formed from the logits in f64
//! (`log q_i − log p_i = (t_i − s_i)/τ + k` with one per-row constant `k`), so identical
//! student and teacher rows give exactly zero, and `−inf` teacher logits (probability 0)
//! are skipped where their weight is zero instead of producing `0 · ∞ = NaN`.

use super::{GradRow, RowIssue, RowOutcome, RowSoftmax, Scratch};

/// Both rows' softmax statistics, with their exp caches in `scratch`.
fn softmaxes(
    s: &[f32],
    t: &[f32],
    inv_tau: f64,
    scratch: &mut Scratch,
) -> Result<(RowSoftmax, RowSoftmax), RowIssue> {
    let p = RowSoftmax::compute(s, inv_tau, &mut scratch.student_exp, "student")?;
    let q = RowSoftmax::compute(t, inv_tau, &mut scratch.teacher_exp, "teacher")?;
    Ok((p, q))
}

/// The per-row constant `k` with `log q_i − log p_i = (t_i − s_i)/τ + k`.
fn log_ratio_offset(p: &RowSoftmax, q: &RowSoftmax, inv_tau: f64) -> f64 {
    (f64::from(p.max) - f64::from(q.max)) * inv_tau + p.log_sum - q.log_sum
}

/// `KL(q‖p) = Σ_i q_i (log q_i − log p_i)`, terms with `q_i = 0` contributing 0.
/// `teacher_exp` is `q`'s exp cache. Also the top-k objective's loss on its support.
pub(super) fn forward_kl_loss(
    s: &[f32],
    t: &[f32],
    p: &RowSoftmax,
    q: &RowSoftmax,
    inv_tau: f64,
    teacher_exp: &[f32],
) -> f64 {
    let k = log_ratio_offset(p, q, inv_tau);
    let term = |si: f32, ti: f32, ei: f32| {
        let d = (f64::from(ti) - f64::from(si)) * inv_tau + k;
        // A select, not a branch: it vectorizes, and 0 · (−inf) never reaches the sum.
        if ei > 0.0 {
            f64::from(ei) * d
        } else {
            0.0
        }
    };
    lane_sum(s, t, teacher_exp, term) * q.inv_sum
}

/// `Σ_i f(s_i, t_i, e_i)` over three equally long rows, in four independent f64 lanes.
#[inline(always)]
pub(super) fn lane_sum(s: &[f32], t: &[f32], e: &[f32], f: impl Fn(f32, f32, f32) -> f64) -> f64 {
    const LANES: usize = 4;
    let mut lanes = [0f64; LANES];
    let (mut sb, mut tb, mut eb) = (
        s.chunks_exact(LANES),
        t.chunks_exact(LANES),
        e.chunks_exact(LANES),
    );
    for ((sl, tl), el) in (&mut sb).zip(&mut tb).zip(&mut eb) {
        for l in 0..LANES {
            lanes[l] += f(sl[l], tl[l], el[l]);
        }
    }
    let rest = sb
        .remainder()
        .iter()
        .zip(tb.remainder())
        .zip(eb.remainder());
    let tail: f64 = rest.map(|((&si, &ti), &ei)| f(si, ti, ei)).sum();
    lanes.iter().sum::<f64>() + tail
}

/// Forward KL gradient. ℓ = Σ_i q_i (log q_i − log p_i), so
/// `∂ℓ/∂z_j = −Σ_i q_i (δ_ij − p_j)/τ = (p_j Σ_i q_i − q_j)/τ = (p_j − q_j)/τ`.
fn forward_kl_grad(p: &RowSoftmax, q: &RowSoftmax, inv_tau: f64, scratch: &Scratch, g: GradRow) {
    let (a, b) = (p.inv_sum as f32, q.inv_sum as f32);
    let c = (inv_tau * f64::from(g.scale)) as f32;
    for ((o, &es), &et) in g
        .out
        .iter_mut()
        .zip(&scratch.student_exp)
        .zip(&scratch.teacher_exp)
    {
        *o = (es * a - et * b) * c;
    }
}

/// `KL(q‖p)`, mode-covering; gradient `(p − q)/τ`.
pub(super) fn forward_kl(
    s: &[f32],
    t: &[f32],
    inv_tau: f64,
    scratch: &mut Scratch,
    grad: Option<GradRow>,
) -> Result<f64, RowIssue> {
    let (p, q) = softmaxes(s, t, inv_tau, scratch)?;
    let loss = forward_kl_loss(s, t, &p, &q, inv_tau, &scratch.teacher_exp);
    if let Some(g) = grad {
        forward_kl_grad(&p, &q, inv_tau, scratch, g);
    }
    Ok(loss)
}

/// `min(KL(q‖p), clip)`: a token above the cap contributes the cap and no gradient (at
/// exactly the cap the gradient still flows, as `min` is differentiated on its first
/// argument there).
pub(super) fn clipped_kl(
    s: &[f32],
    t: &[f32],
    clip: f64,
    inv_tau: f64,
    scratch: &mut Scratch,
    grad: Option<GradRow>,
) -> Result<RowOutcome, RowIssue> {
    let (p, q) = softmaxes(s, t, inv_tau, scratch)?;
    let kl = forward_kl_loss(s, t, &p, &q, inv_tau, &scratch.teacher_exp);
    if kl > clip {
        super::zero_grad(grad);
        return Ok(RowOutcome {
            loss: clip,
            clamped: true,
        });
    }
    if let Some(g) = grad {
        forward_kl_grad(&p, &q, inv_tau, scratch, g);
    }
    Ok(RowOutcome {
        loss: kl,
        clamped: false,
    })
}

/// `KL(p‖q) = Σ_i p_i D_i`, `D_i = log p_i − log q_i`; mode-seeking.
///
/// Gradient: with `∂p_i/∂z_j = p_i (δ_ij − p_j)/τ`,
/// `∂ℓ/∂z_j = Σ_i ∂p_i/∂z_j D_i + Σ_i p_i ∂log p_i/∂z_j
///          = p_j (D_j − ℓ)/τ + (p_j − p_j Σ_i p_i)/τ = p_j (D_j − ℓ)/τ`.
/// The loss is `+∞` where the teacher gives probability 0 to a token the student does
/// not; its gradient is then undefined and asking for it is an issue.
pub(super) fn reverse_kl(
    s: &[f32],
    t: &[f32],
    inv_tau: f64,
    scratch: &mut Scratch,
    grad: Option<GradRow>,
) -> Result<f64, RowIssue> {
    let (p, q) = softmaxes(s, t, inv_tau, scratch)?;
    // D_i = (s_i − t_i)/τ − k.
    let k = log_ratio_offset(&p, &q, inv_tau);
    let term = |si: f32, ti: f32, ei: f32| {
        let d = (f64::from(si) - f64::from(ti)) * inv_tau - k;
        if ei > 0.0 {
            f64::from(ei) * d
        } else {
            0.0
        }
    };
    let loss = lane_sum(s, t, &scratch.student_exp, term) * p.inv_sum;
    let Some(g) = grad else {
        return Ok(loss);
    };
    if !loss.is_finite() {
        let (j, pj) = s
            .iter()
            .zip(t)
            .zip(&scratch.student_exp)
            .enumerate()
            .find(|(_, ((_, &ti), &ei))| ti == f32::NEG_INFINITY && ei > 0.0)
            .map(|(j, (_, &ei))| (j, p.prob(ei)))
            .unwrap_or((0, 0.0));
        return Err(RowIssue::new(format!(
            "reverse KL is infinite here: the teacher gives token {j} probability 0 (logit \
             -inf) where the student gives it {pj:e}, so the gradient is undefined; mask the \
             position out, give the teacher finite logits, or use jsd with beta < 1"
        )));
    }
    let c = inv_tau * f64::from(g.scale);
    for (((o, &si), &ti), &ei) in g.out.iter_mut().zip(s).zip(t).zip(&scratch.student_exp) {
        *o = if ei > 0.0 {
            let d = (f64::from(si) - f64::from(ti)) * inv_tau - k;
            (p.prob(ei) * (d - loss) * c) as f32
        } else {
            0.0
        };
    }
    Ok(loss)
}

/// Generalized JSD for 0 < β < 1: `M = βq + (1−β)p`,
/// `ℓ = β KL(q‖M) + (1−β) KL(p‖M)`.
///
/// Gradient: treating `p` as free, `∂ℓ/∂p_i = −β q_i (1−β)/m_i + (1−β)(log(p_i/m_i) + 1
/// − p_i (1−β)/m_i) = (1−β)(log(p_i/m_i) + 1 − m_i/m_i) = (1−β) log(p_i/m_i)`; through the
/// softmax (`∂ℓ/∂z_j = p_j (g_j − Σ_i p_i g_i)/τ` for `g_i = ∂ℓ/∂p_i`):
/// `∂ℓ/∂z_j = (1−β)/τ · p_j (log(p_j/m_j) − KL(p‖M))`.
///
/// `log(m_i/q_i) = logaddexp(log β, log(1−β) + log p_i − log q_i)` keeps every ratio exact
/// in f64 even where both probabilities underflow f32.
pub(super) fn jsd(
    s: &[f32],
    t: &[f32],
    beta: f64,
    inv_tau: f64,
    scratch: &mut Scratch,
    grad: Option<GradRow>,
) -> Result<f64, RowIssue> {
    let (p, q) = softmaxes(s, t, inv_tau, scratch)?;
    let (log_b, log_1b) = (beta.ln(), (-beta).ln_1p());
    let mut loss = 0f64;
    let mut kl_p_m = 0f64;
    let cache = scratch.student_exp.iter().zip(&scratch.teacher_exp);
    for (((&si, &ti), (&es, &et)), w) in s.iter().zip(t).zip(cache).zip(&mut scratch.work) {
        if es == 0.0 && et == 0.0 {
            // Both probabilities are below f32's range: no term, no gradient.
            *w = 0.0;
            continue;
        }
        let (pi, qi) = (p.prob(es), q.prob(et));
        let (lp, lq) = (p.log_prob(si), q.log_prob(ti));
        // log(p_i/m_i) and log(q_i/m_i); a side with probability exactly 0 (logit −inf)
        // contributes nothing and fixes the other side's ratio.
        let (log_p_m, log_q_m) = if lq == f64::NEG_INFINITY {
            (-log_1b, 0.0)
        } else if lp == f64::NEG_INFINITY {
            (0.0, -log_b)
        } else {
            let d = lp - lq;
            let (a, b) = (log_b, log_1b + d);
            let log_m_q = a.max(b) + (-(a - b).abs()).exp().ln_1p();
            (d - log_m_q, -log_m_q)
        };
        loss += beta * qi * log_q_m + (1.0 - beta) * pi * log_p_m;
        kl_p_m += pi * log_p_m;
        *w = log_p_m as f32;
    }
    if let Some(g) = grad {
        let c = (1.0 - beta) * inv_tau * f64::from(g.scale);
        for ((o, &es), &w) in g
            .out
            .iter_mut()
            .zip(&scratch.student_exp)
            .zip(&scratch.work)
        {
            *o = (p.prob(es) * (f64::from(w) - kl_p_m) * c) as f32;
        }
    }
    Ok(loss)
}
