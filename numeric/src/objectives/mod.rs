//! The distillation objectives (METHODS.md §5): fused CPU ops and the composed reference.
//!
//! Conventions (those of `dtac-stdlib`'s objective docs, which are normative): `q` is the
//! teacher's and `p` the student's distribution over the vocabulary at one position; both
//! logits are divided by the same temperature τ before the softmax; the loss is the sum
//! of the per-token losses over the tokens the mask keeps, divided by their number, and
//! is 0 with a zero gradient when the mask keeps none. `KL(a‖b) = Σ a (log a − log b)`.
//!
//! Two implementations compute the same numbers:
//! - the fused path ([`loss`], [`loss_and_grad`], [`evaluate`]): one custom op whose
//!   forward writes the [rows] per-token losses and whose backward writes the gradient,
//!   both row by row in parallel with O(vocab) scratch per thread;
//! - [`reference::loss`]: plain composed candle ops differentiated by candle's autograd,
//!   slow and memory-hungry, the ground truth the fused path is tested against.

mod driver;
mod fused;
mod inputs;
pub mod reference;
mod rowmath;
pub mod spec;

use candle_core::{DType, Result, Tensor};

pub use fused::{evaluate, weighted_rows, Evaluation};
pub use spec::{Objective, ObjectiveError, ObjectiveSpec};

/// The teacher's side of an objective.
#[derive(Clone, Copy, Debug)]
pub enum Teacher<'a> {
    /// Full logits, the student's shape ([rows, vocab] or [batch, seq, vocab]).
    Dense(&'a Tensor),
    /// What an API's `top_logprobs` returns: per position, token ids `indices` (integer)
    /// and their log-probabilities `logprobs` (float, at temperature 1), both of shape
    /// [rows, entries] or [batch, seq, entries]. An entry whose log-probability is `-inf`
    /// is padding (a position with fewer entries). Works with `top_k` and `sampled`.
    Sparse {
        indices: &'a Tensor,
        logprobs: &'a Tensor,
    },
}

/// The token-mean loss, a scalar f32 tensor differentiable with respect to `student`
/// (through the fused op's backward). `mask` ([rows] / [batch, seq], any dtype, nonzero =
/// kept) and `tokens` (the response token ids, required by `sampled`) are optional.
pub fn loss(
    spec: &ObjectiveSpec,
    student: &Tensor,
    teacher: Teacher<'_>,
    mask: Option<&Tensor>,
    tokens: Option<&Tensor>,
) -> Result<Tensor> {
    let (per_row, scale, _) = fused::row_losses(spec, student, teacher, mask, tokens)?;
    // Summed in f64: thousands of rows in f32 would lose digits the tests can see. A
    // multiplication rather than `affine`: candle drops the graph behind `affine(0, _)`,
    // and an empty mask must still give a (zero) gradient.
    let scale = Tensor::new(scale, student.device())?;
    (per_row.to_dtype(DType::F64)?.sum_all()? * scale)?.to_dtype(DType::F32)
}

/// Each position's loss, shaped like the student's leading dims ([rows] or [batch,
/// seq]), 0 where the mask drops the position; differentiable like [`loss`].
pub fn token_losses(
    spec: &ObjectiveSpec,
    student: &Tensor,
    teacher: Teacher<'_>,
    mask: Option<&Tensor>,
    tokens: Option<&Tensor>,
) -> Result<Tensor> {
    let (per_row, _, lead) = fused::row_losses(spec, student, teacher, mask, tokens)?;
    per_row.reshape(lead)
}

/// The token-mean loss and its gradient with respect to `student` (same shape and dtype),
/// computed together in one pass per row without building an autograd graph.
pub fn loss_and_grad(
    spec: &ObjectiveSpec,
    student: &Tensor,
    teacher: Teacher<'_>,
    mask: Option<&Tensor>,
    tokens: Option<&Tensor>,
) -> Result<(f32, Tensor)> {
    let evaluation = evaluate(spec, student, teacher, mask, tokens, true)?;
    let grad = evaluation
        .grad
        .ok_or_else(|| candle_core::Error::msg("internal: evaluate returned no gradient"))?;
    Ok((evaluation.loss as f32, grad))
}
