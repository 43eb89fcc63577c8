//! The LM head and the loss, in row chunks, with the gradient written by hand.
//!
//! Logits for every trained token at once would be `[tokens, vocab]` (a 150k vocabulary
//! and 4k tokens: 2.4 GB in f32) and autograd would keep several such tensors alive. So
//! the head runs on at most [`CHUNK_ELEMENTS`] logits at a time: for each chunk the loss
//! op writes ∂ℓ/∂logits directly (the fused objectives, or cross-entropy for text), which
//! is turned at once into ∂ℓ/∂hidden (`g · W`) and, when the head is trained, ∂ℓ/∂W
//! (`gᵀ · h`). The caller backpropagates `Σ hidden · ∂ℓ/∂hidden` through the decoder.

use candle_core::{DType, Result, Tensor};

use super::cross_entropy::cross_entropy_rows;
use crate::objectives::{weighted_rows, ObjectiveSpec, Teacher};

/// Logits per chunk (32 MiB in f32).
pub const CHUNK_ELEMENTS: usize = 8 << 20;

/// What the student is compared with, for the rows of one batch.
#[derive(Debug, Clone, Copy)]
pub enum HeadTeacher<'a> {
    /// One-hot on the target token: cross-entropy.
    Text,
    /// A local teacher: its final hidden states at the same rows `[rows, hidden_t]` and
    /// its LM head `[vocab, hidden_t]`; its logits are made chunk by chunk as well.
    Dense {
        hidden: &'a Tensor,
        head: &'a Tensor,
    },
    /// Top-k log-probabilities `[rows, k]` (ids i64, log-probs f32, −∞ pads).
    Sparse {
        indices: &'a Tensor,
        logprobs: &'a Tensor,
    },
}

/// The results for one batch.
#[derive(Debug)]
pub struct HeadOutput {
    /// Each row's unweighted loss.
    pub losses: Vec<f64>,
    /// `[rows, hidden]`: ∂(Σ scale·ℓ)/∂hidden.
    pub grad_hidden: Tensor,
    /// `[vocab, hidden]`: ∂(Σ scale·ℓ)/∂W, when asked for.
    pub grad_head: Option<Tensor>,
}

/// Runs the head and the loss over `hidden` `[rows, hidden]` (f32, detached), rows
/// predicting `targets`, each row's loss scaled by `scales` in the gradient.
pub fn head_loss(
    spec: &ObjectiveSpec,
    hidden: &Tensor,
    head: &Tensor,
    teacher: HeadTeacher<'_>,
    targets: &[u32],
    scales: &[f32],
    want_head_grad: bool,
) -> Result<HeadOutput> {
    let (rows, _) = hidden.dims2()?;
    let vocab = head.dim(0)?;
    let chunk = (CHUNK_ELEMENTS / vocab.max(1)).max(1);
    // Detached: the gradient with respect to the head is written here by hand, and the
    // caller backpropagates through `g · W`; a tracked W would be counted twice.
    let head = head.to_dtype(DType::F32)?.detach();
    let hidden = hidden.detach();
    let mut losses = Vec::with_capacity(rows);
    let mut grad_hidden = Vec::new();
    let mut grad_head: Option<Tensor> = None;
    let mut start = 0;
    while start < rows {
        let n = chunk.min(rows - start);
        let h = hidden.narrow(0, start, n)?;
        let logits = h.matmul(&head.t()?)?;
        let range = start..start + n;
        let (l, g) = match teacher {
            HeadTeacher::Text => {
                cross_entropy_rows(&logits, &targets[range.clone()], &scales[range])?
            }
            HeadTeacher::Dense {
                hidden: th,
                head: tw,
            } => {
                let t_logits = th
                    .narrow(0, start, n)?
                    .to_dtype(DType::F32)?
                    .matmul(&tw.to_dtype(DType::F32)?.t()?)?;
                let tokens = token_tensor(&targets[range.clone()], spec)?;
                weighted_rows(
                    spec,
                    &logits,
                    Teacher::Dense(&t_logits),
                    tokens.as_ref(),
                    &scales[range],
                )?
            }
            HeadTeacher::Sparse { indices, logprobs } => {
                let tokens = token_tensor(&targets[range.clone()], spec)?;
                weighted_rows(
                    spec,
                    &logits,
                    Teacher::Sparse {
                        indices: &indices.narrow(0, start, n)?,
                        logprobs: &logprobs.narrow(0, start, n)?,
                    },
                    tokens.as_ref(),
                    &scales[range],
                )?
            }
        };
        losses.extend(l);
        grad_hidden.push(g.matmul(&head)?);
        if want_head_grad {
            let gw = g.t()?.matmul(&h)?;
            grad_head = Some(match grad_head {
                Some(acc) => (acc + gw)?,
                None => gw,
            });
        }
        start += n;
    }
    let grad_hidden = if grad_hidden.is_empty() {
        Tensor::zeros(hidden.shape(), DType::F32, hidden.device())?
    } else {
        Tensor::cat(&grad_hidden, 0)?
    };
    Ok(HeadOutput {
        losses,
        grad_hidden,
        grad_head,
    })
}

/// The sampled objective reads the response tokens; the others do not need them.
fn token_tensor(targets: &[u32], spec: &ObjectiveSpec) -> Result<Option<Tensor>> {
    if !matches!(spec.objective, crate::objectives::Objective::Sampled { .. }) {
        return Ok(None);
    }
    let ids: Vec<i64> = targets.iter().map(|&t| t as i64).collect();
    let n = ids.len();
    Ok(Some(Tensor::from_vec(ids, n, &candle_core::Device::Cpu)?))
}
