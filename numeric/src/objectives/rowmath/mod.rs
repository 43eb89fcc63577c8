//! Per-row math of the objectives on plain f32 slices: the loss of one position and,
//! when asked, its gradient with respect to that position's student logits, written in
//! the same pass over the row. Accumulation is in f64; `exp` runs in f32 on max-shifted
//! arguments (the slice is the only thing that scales with the vocabulary).
//!
//! Notation in every file here: `s` student logits, `t` teacher logits, τ the temperature,
//! `p = softmax(s/τ)`, `q = softmax(t/τ)`, `z` the student logits the gradient is taken
//! with respect to. `∂ log p_i / ∂ z_j = (δ_ij − p_j)/τ` and `∂ p_i / ∂ z_j = p_i (δ_ij −
//! p_j)/τ` are the two identities every derivation uses.

mod divergence;
mod exp;
mod sampled;
mod softmax;
mod top_k;

pub(crate) use softmax::RowSoftmax;

use super::spec::{Objective, ObjectiveSpec};

/// Why one row cannot be computed (non-finite logits, an out-of-range token, ...). The
/// caller adds which row and which tensor.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowIssue(pub String);

impl RowIssue {
    pub fn new(message: impl Into<String>) -> RowIssue {
        RowIssue(message.into())
    }
}

/// The teacher at one position: full logits, or the (token id, log-probability) pairs an
/// API returns. Sparse entries whose log-probability is `-inf` are padding.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TeacherRow<'a> {
    Dense(&'a [f32]),
    Sparse {
        indices: &'a [i64],
        logprobs: &'a [f32],
    },
}

/// One row's loss, and whether a cap (`clip`, `clamp`) replaced it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RowOutcome {
    pub loss: f64,
    pub clamped: bool,
}

/// Where the gradient of a row goes: `out[j] = scale · ∂ℓ/∂z_j` for every `j` (every
/// element is written, so `out` may hold anything before).
#[derive(Debug)]
pub(crate) struct GradRow<'a> {
    pub out: &'a mut [f32],
    pub scale: f32,
}

/// Per-thread buffers, reused across rows: O(vocab) in all, allocated once per thread.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// `exp((s_i − max)/τ)` of the current row.
    pub student_exp: Vec<f32>,
    /// `exp((t_i − max)/τ)` of the current row.
    pub teacher_exp: Vec<f32>,
    /// Per-element values kept between the loss and gradient passes (JSD's log p/m).
    pub work: Vec<f32>,
    /// Token ids, permuted by the top-k selection.
    pub order: Vec<u32>,
    /// Marks of the top-k support, all false between rows.
    pub in_support: Vec<bool>,
    /// The support's ids and the two sides' logits on it (k entries).
    pub support: Vec<u32>,
    pub sub_student: Vec<f32>,
    pub sub_teacher: Vec<f32>,
    pub sub_student_exp: Vec<f32>,
    pub sub_teacher_exp: Vec<f32>,
    /// A sparse teacher's (id, log-probability) entries at the current row.
    pub entries: Vec<(u32, f32)>,
}

impl Scratch {
    /// Sizes the vocabulary-long buffers for rows of `vocab` logits.
    pub fn ensure(&mut self, vocab: usize) {
        for buf in [&mut self.student_exp, &mut self.teacher_exp, &mut self.work] {
            if buf.len() != vocab {
                buf.resize(vocab, 0.0);
            }
        }
        if self.in_support.len() != vocab {
            self.in_support.clear();
            self.in_support.resize(vocab, false);
        }
    }
}

/// The loss of one row under `spec`, and its gradient into `grad` when given. The
/// student row must already be f32 (the caller converts bf16/f16 rows).
pub(crate) fn row(
    spec: &ObjectiveSpec,
    student: &[f32],
    teacher: TeacherRow<'_>,
    token: Option<i64>,
    scratch: &mut Scratch,
    grad: Option<GradRow<'_>>,
) -> Result<RowOutcome, RowIssue> {
    scratch.ensure(student.len());
    let inv_tau = 1.0 / spec.temperature;
    let unclamped = |loss| RowOutcome {
        loss,
        clamped: false,
    };
    let dense = |name: &str| match teacher {
        TeacherRow::Dense(t) => {
            if t.len() == student.len() {
                Ok(t)
            } else {
                Err(RowIssue::new(format!(
                    "the teacher row has {} logits and the student row {}",
                    t.len(),
                    student.len()
                )))
            }
        }
        TeacherRow::Sparse { .. } => Err(RowIssue::new(format!(
            "{name} needs the teacher's full logits; a sparse teacher (top log-probabilities) \
             works with top_k and sampled only"
        ))),
    };
    match spec.objective {
        // jsd at β = 0 and β = 1 is forward and reverse KL exactly (the mixture formula
        // degenerates there: at β = 0, M = p and both of its terms vanish).
        Objective::ForwardKl | Objective::Jsd { beta: 0.0 } => {
            let t = dense(spec.objective.name())?;
            divergence::forward_kl(student, t, inv_tau, scratch, grad).map(unclamped)
        }
        Objective::ReverseKl | Objective::Jsd { beta: 1.0 } => {
            let t = dense(spec.objective.name())?;
            divergence::reverse_kl(student, t, inv_tau, scratch, grad).map(unclamped)
        }
        Objective::Jsd { beta } => {
            let t = dense("jsd")?;
            divergence::jsd(student, t, beta, inv_tau, scratch, grad).map(unclamped)
        }
        Objective::ClippedKl { clip } => {
            let t = dense("clipped_kl")?;
            divergence::clipped_kl(student, t, clip, inv_tau, scratch, grad)
        }
        Objective::TopK { k, tail } => {
            top_k::top_k(student, teacher, k, tail, inv_tau, scratch, grad).map(unclamped)
        }
        Objective::Sampled { clamp } => {
            let token = token.ok_or_else(|| {
                RowIssue::new("sampled needs the response token at every position (`tokens`)")
            })?;
            sampled::sampled(student, teacher, token, clamp, inv_tau, scratch, grad)
        }
    }
}

/// `out[j] = 0` for every `j`: the gradient of a row whose loss is constant.
pub(crate) fn zero_grad(grad: Option<GradRow<'_>>) {
    if let Some(g) = grad {
        g.out.fill(0.0);
    }
}

/// A token id checked against the vocabulary, as an index.
pub(crate) fn token_index(token: i64, vocab: usize, what: &str) -> Result<usize, RowIssue> {
    usize::try_from(token)
        .ok()
        .filter(|&t| t < vocab)
        .ok_or_else(|| {
            RowIssue::new(format!(
                "{what} {token} is outside the vocabulary (0..{vocab}); mask such positions out"
            ))
        })
}
