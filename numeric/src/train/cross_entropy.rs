//! Cross-entropy against the target token, `ℓ = logsumexp(z) − z_target`, with its
//! gradient `softmax(z) − onehot(target)` scaled per row: the `signal = "text"` (SFT) loss,
//! which is forward KL to a one-hot teacher. Row-parallel, one pass per row, no autograd.

use candle_core::{DType, Device, Result, Tensor};
use rayon::prelude::*;

/// Per-row losses and `Σ_r scales[r] · ∂ℓ_r/∂z` for logits `[rows, vocab]`.
pub fn cross_entropy_rows(
    logits: &Tensor,
    targets: &[u32],
    scales: &[f32],
) -> Result<(Vec<f64>, Tensor)> {
    let (rows, vocab) = logits.dims2()?;
    if targets.len() != rows || scales.len() != rows {
        candle_core::bail!(
            "{rows} rows of logits, {} targets, {} weights",
            targets.len(),
            scales.len()
        );
    }
    if let Some(bad) = targets.iter().find(|&&t| t as usize >= vocab) {
        candle_core::bail!("target token {bad} is outside the vocabulary of {vocab}");
    }
    let z = logits
        .to_dtype(DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let mut grad = vec![0f32; rows * vocab];
    let losses: Vec<f64> = grad
        .par_chunks_mut(vocab.max(1))
        .zip(z.par_chunks(vocab.max(1)))
        .enumerate()
        .map(|(r, (g, row))| {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0f64;
            for (gj, &zj) in g.iter_mut().zip(row) {
                let e = ((zj - max) as f64).exp();
                *gj = e as f32;
                sum += e;
            }
            let lse = max as f64 + sum.ln();
            let scale = scales[r] as f64 / sum;
            for gj in g.iter_mut() {
                *gj = (*gj as f64 * scale) as f32;
            }
            let t = targets[r] as usize;
            g[t] -= scales[r];
            lse - row[t] as f64
        })
        .collect();
    Ok((losses, Tensor::from_vec(grad, (rows, vocab), &Device::Cpu)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_log_softmax_and_a_finite_difference() {
        let z = vec![0.5f32, -1.0, 2.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let logits = Tensor::from_vec(z.clone(), (2, 4), &Device::Cpu).unwrap();
        let (loss, grad) = cross_entropy_rows(&logits, &[2, 0], &[1.0, 0.5]).unwrap();
        let lse0 = z[..4].iter().map(|v| (*v as f64).exp()).sum::<f64>().ln();
        assert!((loss[0] - (lse0 - 2.0)).abs() < 1e-6);
        assert!((loss[1] - 4f64.ln()).abs() < 1e-6);
        let g = grad.to_vec2::<f32>().unwrap();
        // Uniform row: softmax 0.25 everywhere, scaled by 0.5.
        assert!((g[1][0] - 0.5 * (0.25 - 1.0)).abs() < 1e-6);
        assert!((g[1][3] - 0.5 * 0.25).abs() < 1e-6);
        let eps = 1e-3f32;
        let mut bumped = z.clone();
        bumped[1] += eps;
        let bumped = Tensor::from_vec(bumped, (2, 4), &Device::Cpu).unwrap();
        let (l2, _) = cross_entropy_rows(&bumped, &[2, 0], &[1.0, 0.5]).unwrap();
        let fd = (l2[0] - loss[0]) / eps as f64;
        assert!((fd - g[0][1] as f64).abs() < 1e-3, "{fd} vs {}", g[0][1]);
        assert!(cross_entropy_rows(&logits, &[9, 0], &[1.0, 1.0]).is_err());
    }
}
