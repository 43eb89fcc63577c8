//! The LM head, applied in row chunks: hidden states `[N, hidden]` become log p(target)
//! per row without ever holding `[N × vocab]` logits. A chunk's logits are at most
//! [`CHUNK_ELEMENTS`] f32 values (32 MiB), whatever N is, so a 150k-token vocabulary and
//! a long sequence cost the same memory as a short one.
//!
//! Log-probabilities are computed in f32 from the logits (`logit[target] − logsumexp`),
//! whatever the model's dtype.

use candle_core::{DType, Result, Tensor, D};

/// The most logits held at once.
pub const CHUNK_ELEMENTS: usize = 8 << 20;

/// Rows per chunk for a vocabulary of `vocab` entries.
pub fn chunk_rows(vocab: usize) -> usize {
    (CHUNK_ELEMENTS / vocab.max(1)).max(1)
}

/// Logits `[rows, vocab]` in f32 for hidden states `[rows, hidden]`.
pub fn logits(hidden: &Tensor, lm_head: &Tensor) -> Result<Tensor> {
    hidden
        .to_dtype(lm_head.dtype())?
        .matmul(&lm_head.t()?)?
        .to_dtype(DType::F32)
}

/// log p(`targets[i]` | row `i`) for hidden states `[N, hidden]`, chunk by chunk.
pub fn target_log_probs(
    hidden: &Tensor,
    lm_head: &Tensor,
    targets: &[u32],
    rows_per_chunk: usize,
) -> Result<Vec<f32>> {
    let n = hidden.dim(0)?;
    if n != targets.len() {
        candle_core::bail!("{n} hidden rows for {} targets", targets.len());
    }
    let device = hidden.device();
    let mut out = Vec::with_capacity(n);
    let step = rows_per_chunk.max(1);
    for start in (0..n).step_by(step) {
        let len = step.min(n - start);
        let logits = logits(&hidden.narrow(0, start, len)?, lm_head)?;
        let max = logits.max_keepdim(D::Minus1)?;
        let lse = (logits
            .broadcast_sub(&max)?
            .exp()?
            .sum_keepdim(D::Minus1)?
            .log()?
            + &max)?;
        let ids = Tensor::from_slice(&targets[start..start + len], (len, 1), device)?;
        let picked = logits.gather(&ids, D::Minus1)?;
        out.extend((picked - lse)?.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn any_chunk_size_gives_the_full_log_softmax() {
        let dev = Device::Cpu;
        let wave = |n: usize, k: f32| -> Vec<f32> {
            (0..n).map(|i| ((i as f32) * k).sin() * 3.0).collect()
        };
        let hidden = Tensor::from_vec(wave(7 * 5, 0.7), (7, 5), &dev).unwrap();
        let head = Tensor::from_vec(wave(11 * 5, 1.3), (11, 5), &dev).unwrap();
        let targets = [0u32, 10, 3, 3, 7, 1, 9];
        let full =
            candle_nn::ops::log_softmax(&logits(&hidden, &head).unwrap(), D::Minus1).unwrap();
        let full = full.to_vec2::<f32>().unwrap();
        for rows in [1, 2, 3, 7, 100] {
            let got = target_log_probs(&hidden, &head, &targets, rows).unwrap();
            for (i, &t) in targets.iter().enumerate() {
                assert!(
                    (got[i] - full[i][t as usize]).abs() < 1e-5,
                    "rows {rows}, row {i}"
                );
            }
        }
        assert_eq!(chunk_rows(151_936), 55);
        assert_eq!(chunk_rows(usize::MAX), 1);
    }
}
