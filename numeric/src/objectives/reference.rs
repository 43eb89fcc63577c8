//! The composed reference: every objective written as plain candle ops (`log_softmax`,
//! `exp`, `gather`, `where_cond`, sums) and differentiated by candle's autograd. It builds
//! several [rows, vocab] temporaries and is slow; it exists to be obviously the formula,
//! and the fused path is tested against it.
//!
//! It computes in f64 when the student's logits are f64 (the tests' ground truth) and in
//! f32 otherwise, on whatever device the tensors are on. Data preparation that is not
//! arithmetic (choosing a sparse teacher's top entries, finding the response token among
//! them) happens on the host. Masked positions must still hold finite data here: a NaN
//! in a dropped row's arithmetic would reach the gradient through `0 · NaN`.

use candle_core::{DType, Device, Result, Tensor, D};
use candle_nn::ops::log_softmax;

use super::inputs::{read_ids, read_mask, Path, Shapes};
use super::spec::{Objective, ObjectiveSpec};
use super::Teacher;

/// The token-mean loss as a scalar tensor (f64 for f64 students, f32 otherwise),
/// differentiable by candle's autograd; same arguments and errors as [`super::loss`].
pub fn loss(
    spec: &ObjectiveSpec,
    student: &Tensor,
    teacher: Teacher<'_>,
    mask: Option<&Tensor>,
    tokens: Option<&Tensor>,
) -> Result<Tensor> {
    let shapes = Shapes::check(spec, student, &teacher, mask, tokens, Path::Reference)?;
    let ctx = Context::new(spec, student, &shapes, mask)?;
    let lp = ctx.log_softmax(student)?;
    let dense_lq = || match teacher {
        Teacher::Dense(t) => ctx.log_softmax(t),
        Teacher::Sparse { .. } => candle_core::bail!("internal: dense objective, sparse teacher"),
    };
    let per_row = match spec.objective {
        Objective::ForwardKl => forward_kl(&lp, &dense_lq()?)?,
        Objective::ReverseKl => reverse_kl(&lp, &dense_lq()?)?,
        Objective::Jsd { beta: 0.0 } => forward_kl(&lp, &dense_lq()?)?,
        Objective::Jsd { beta: 1.0 } => reverse_kl(&lp, &dense_lq()?)?,
        Objective::Jsd { beta } => jsd(&lp, &dense_lq()?, beta)?,
        Objective::ClippedKl { clip } => {
            let kl = forward_kl(&lp, &dense_lq()?)?;
            let cap = (kl.zeros_like()? + clip)?;
            kl.le(clip)?.where_cond(&kl, &cap)?
        }
        Objective::TopK { k, tail } => top_k(&ctx, &lp, teacher, k, tail)?,
        Objective::Sampled { clamp } => sampled(&ctx, &lp, teacher, tokens, clamp)?,
    };
    ctx.reduce(&per_row)
}

/// What every objective's reference shares: sizes, the compute dtype, the mask.
struct Context {
    rows: usize,
    vocab: usize,
    dtype: DType,
    device: Device,
    inv_tau: f64,
    mask: Option<Vec<bool>>,
}

impl Context {
    fn new(
        spec: &ObjectiveSpec,
        student: &Tensor,
        shapes: &Shapes,
        mask: Option<&Tensor>,
    ) -> Result<Context> {
        Ok(Context {
            rows: shapes.rows,
            vocab: shapes.vocab,
            dtype: match student.dtype() {
                DType::F64 => DType::F64,
                _ => DType::F32,
            },
            device: student.device().clone(),
            inv_tau: 1.0 / spec.temperature,
            mask: mask.map(read_mask).transpose()?,
        })
    }

    fn kept(&self, row: usize) -> bool {
        self.mask.as_ref().is_none_or(|m| m[row])
    }

    /// `log softmax(x/τ)` over the vocabulary, as [rows, vocab].
    fn log_softmax(&self, logits: &Tensor) -> Result<Tensor> {
        let x = logits
            .to_dtype(self.dtype)?
            .reshape((self.rows, self.vocab))?;
        log_softmax(&x.affine(self.inv_tau, 0.0)?, D::Minus1)
    }

    /// A [rows, width] per-entry tensor from the host, in the compute dtype.
    fn host(&self, values: Vec<f64>, width: usize) -> Result<Tensor> {
        Tensor::from_vec(values, (self.rows, width), &self.device)?.to_dtype(self.dtype)
    }

    fn ids(&self, values: Vec<u32>, width: usize) -> Result<Tensor> {
        Tensor::from_vec(values, (self.rows, width), &self.device)
    }

    /// Σ over kept rows / kept rows; 0 (with a zero gradient) when none is kept.
    fn reduce(&self, per_row: &Tensor) -> Result<Tensor> {
        let kept = (0..self.rows).filter(|&r| self.kept(r)).count();
        let scale = if kept == 0 { 0.0 } else { 1.0 / kept as f64 };
        let masked = match &self.mask {
            Some(m) => {
                let flags: Vec<u8> = m.iter().map(|&k| u8::from(k)).collect();
                let flags = Tensor::from_vec(flags, self.rows, &self.device)?;
                flags.where_cond(per_row, &per_row.zeros_like()?)?
            }
            None => per_row.clone(),
        };
        // A multiplication rather than `affine`: candle drops the graph behind
        // `affine(0, _)`, and an empty mask must still give a (zero) gradient.
        let scale = Tensor::new(scale, &self.device)?.to_dtype(per_row.dtype())?;
        masked.sum_all()? * scale
    }
}

/// `Σ_v a (la − lb)` over the last dim with `a = exp(la)`, terms where `a = 0` being 0.
fn kl_terms(la: &Tensor, lb: &Tensor) -> Result<Tensor> {
    let a = la.exp()?;
    let terms = (&a * (la - lb)?)?;
    a.gt(0.0)?
        .where_cond(&terms, &terms.zeros_like()?)?
        .sum(D::Minus1)
}

/// `KL(q‖p)`.
fn forward_kl(lp: &Tensor, lq: &Tensor) -> Result<Tensor> {
    kl_terms(lq, lp)
}

/// `KL(p‖q)`.
fn reverse_kl(lp: &Tensor, lq: &Tensor) -> Result<Tensor> {
    kl_terms(lp, lq)
}

/// `β KL(q‖M) + (1−β) KL(p‖M)`, `log M = logaddexp(log β + log q, log(1−β) + log p)`.
fn jsd(lp: &Tensor, lq: &Tensor, beta: f64) -> Result<Tensor> {
    let a = lq.affine(1.0, beta.ln())?;
    let b = lp.affine(1.0, (-beta).ln_1p())?;
    let top = a.maximum(&b)?;
    let lm = (&top + ((a - &top)?.exp()? + (b - &top)?.exp()?)?.log()?)?;
    let to_q = kl_terms(lq, &lm)?;
    let to_p = kl_terms(lp, &lm)?;
    to_q.affine(beta, 0.0)? + to_p.affine(1.0 - beta, 0.0)?
}

/// `log Σ exp` over the last dim, keeping it; `-inf` (not NaN) for an all `-inf` row.
fn lse_keep(x: &Tensor) -> Result<Tensor> {
    let max = x.max_keepdim(D::Minus1)?.detach();
    // The shift is any constant: 0 where the row has no finite entry.
    let shift = max
        .eq(f64::NEG_INFINITY)?
        .where_cond(&max.zeros_like()?, &max)?;
    x.broadcast_sub(&shift)?
        .exp()?
        .sum_keepdim(D::Minus1)?
        .log()?
        + shift
}

fn lse(x: &Tensor) -> Result<Tensor> {
    lse_keep(x)?.squeeze(D::Minus1)
}

/// The support S per row as ids [rows, n], with a membership flag per entry (u8) and the
/// teacher's values on it: log q at τ for a dense teacher, the given log-probabilities
/// for a sparse one.
struct Support {
    ids: Tensor,
    member: Tensor,
    teacher: Tensor,
    width: usize,
}

fn support(ctx: &Context, teacher: Teacher<'_>, k: usize) -> Result<Support> {
    match teacher {
        Teacher::Dense(t) => {
            let width = k.min(ctx.vocab);
            let t = t.to_dtype(ctx.dtype)?.reshape((ctx.rows, ctx.vocab))?;
            // Stable sort: ties keep the lower token id first.
            let ids = t
                .arg_sort_last_dim(false)?
                .narrow(1, 0, width)?
                .contiguous()?;
            let lq = ctx.log_softmax(&t)?;
            let member = Tensor::ones((ctx.rows, width), DType::U8, &ctx.device)?;
            Ok(Support {
                teacher: lq.gather(&ids, 1)?,
                ids,
                member,
                width,
            })
        }
        Teacher::Sparse { indices, logprobs } => {
            let given = indices.dims()[indices.rank() - 1];
            let ids = read_ids(indices)?;
            let lps = logprobs
                .flatten_all()?
                .to_dtype(DType::F64)?
                .to_vec1::<f64>()?;
            let width = k.min(given);
            let (mut out_ids, mut out_lps) = (Vec::new(), Vec::new());
            for r in 0..ctx.rows {
                let row = (r * given..(r + 1) * given).map(|i| (ids[i], lps[i]));
                let mut entries: Vec<(i64, f64)> = if ctx.kept(r) {
                    row.filter(|e| e.1 > f64::NEG_INFINITY).collect()
                } else {
                    Vec::new() // a dropped row is not read
                };
                for &(id, _) in &entries {
                    if !(0..ctx.vocab as i64).contains(&id) {
                        candle_core::bail!(
                            "teacher token id {id} at row {r} is outside 0..{}",
                            ctx.vocab
                        );
                    }
                }
                entries.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                entries.resize(width, (0, f64::NEG_INFINITY));
                out_ids.extend(entries.iter().map(|e| e.0 as u32));
                out_lps.extend(entries.iter().map(|e| e.1));
            }
            let teacher = ctx.host(out_lps, width)?;
            Ok(Support {
                member: teacher.gt(f64::NEG_INFINITY)?,
                ids: ctx.ids(out_ids, width)?,
                teacher,
                width,
            })
        }
    }
}

/// Top-k forward KL: renormalized on S, or with the tail bucket.
fn top_k(ctx: &Context, lp: &Tensor, teacher: Teacher<'_>, k: usize, tail: bool) -> Result<Tensor> {
    let sparse = matches!(teacher, Teacher::Sparse { .. });
    let s = support(ctx, teacher, k)?;
    let neg_inf = (s.teacher.zeros_like()? + f64::NEG_INFINITY)?;
    let lp_s = s.member.where_cond(&lp.gather(&s.ids, 1)?, &neg_inf)?;
    if !tail {
        let lp_hat = lp_s.broadcast_sub(&lse_keep(&lp_s)?)?;
        // A dense teacher's S values are log q at τ; a sparse teacher's are
        // log-probabilities at temperature 1, sharpened here.
        let lq = if sparse {
            s.teacher.affine(ctx.inv_tau, 0.0)?
        } else {
            s.teacher.clone()
        };
        let lq_hat = lq.broadcast_sub(&lse_keep(&lq)?)?;
        return kl_terms(&lq_hat, &lp_hat);
    }
    let inside = kl_terms(&s.teacher, &lp_s)?;
    if s.width >= ctx.vocab {
        return Ok(inside); // nothing outside S
    }
    // Indicator of S over the vocabulary, then log-sum-exp of the rest.
    let member = s.member.to_dtype(ctx.dtype)?;
    let in_s = lp.zeros_like()?.scatter_add(&s.ids, &member, 1)?.gt(0.0)?;
    let outside = |l: &Tensor| lse(&in_s.where_cond(&(l.zeros_like()? + f64::NEG_INFINITY)?, l)?);
    let log_p_tail = outside(lp)?;
    let q_tail = match teacher {
        Teacher::Dense(t) => outside(&ctx.log_softmax(t)?)?.exp()?,
        Teacher::Sparse { .. } => {
            let q = s
                .member
                .where_cond(&s.teacher.exp()?, &s.teacher.zeros_like()?)?;
            q.sum(D::Minus1)?.affine(-1.0, 1.0)?.relu()?
        }
    };
    let tail_term = (&q_tail * (q_tail.log()? - log_p_tail)?)?;
    let tail_term = q_tail
        .gt(0.0)?
        .where_cond(&tail_term, &tail_term.zeros_like()?)?;
    inside + tail_term
}

/// k3 at the response token: `r = min(log q(y) − log p(y), clamp)`, `e^r − 1 − r`.
fn sampled(
    ctx: &Context,
    lp: &Tensor,
    teacher: Teacher<'_>,
    tokens: Option<&Tensor>,
    clamp: f64,
) -> Result<Tensor> {
    let Some(tokens) = tokens else {
        candle_core::bail!("sampled needs `tokens`");
    };
    let ys = read_ids(tokens)?;
    let mut clean = Vec::with_capacity(ctx.rows);
    for (r, &y) in ys.iter().enumerate() {
        if !ctx.kept(r) {
            clean.push(0); // a dropped row's token may be padding such as -100
        } else if (0..ctx.vocab as i64).contains(&y) {
            clean.push(y as u32);
        } else {
            candle_core::bail!("response token {y} at row {r} is outside 0..{}", ctx.vocab);
        }
    }
    let y = ctx.ids(clean.clone(), 1)?;
    let lp_y = lp.gather(&y, 1)?.squeeze(1)?;
    let lq_y = match teacher {
        Teacher::Dense(t) => ctx.log_softmax(t)?.gather(&y, 1)?.squeeze(1)?,
        Teacher::Sparse { indices, logprobs } => {
            let given = indices.dims()[indices.rank() - 1];
            let ids = read_ids(indices)?;
            let mut at = Vec::with_capacity(ctx.rows);
            for (r, &yr) in clean.iter().enumerate() {
                let row = &ids[r * given..(r + 1) * given];
                match row.iter().position(|&id| id == i64::from(yr)) {
                    Some(j) => at.push(j as u32),
                    None if !ctx.kept(r) => at.push(0),
                    None => {
                        candle_core::bail!("the teacher gives no entry for token {yr} at row {r}")
                    }
                }
            }
            let lps = logprobs.to_dtype(ctx.dtype)?.reshape((ctx.rows, given))?;
            lps.gather(&ctx.ids(at, 1)?, 1)?.squeeze(1)?
        }
    };
    let r = (lq_y - &lp_y)?;
    let r = r.le(clamp)?.where_cond(&r, &(r.zeros_like()? + clamp)?)?;
    (r.exp()? - 1.0)? - r
}
