//! Causal grouped-query attention over whole sequences, with two interchangeable paths:
//!
//! - on the CPU, candle's fused flash-attention kernel (online softmax, no `[T × T]`
//!   score matrix, grouped heads read in place);
//! - elsewhere, the textbook form (`softmax(q kᵀ / √d + mask) v`, key/value heads
//!   repeated), which any candle backend runs.
//!
//! Both compute in f32 whatever the model's dtype, as `transformers` does its softmax,
//! and return the model's dtype. Batches are right-padded, so the causal mask is also the
//! padding mask: a real position never sees a pad that comes after it.

use candle_core::{DType, Device, Result, Tensor};
use candle_nn::attention::{flash_attn, AttnMask};

/// Which implementation to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttentionPath {
    CpuFlash,
    Standard,
}

impl AttentionPath {
    pub fn for_device(device: &Device) -> AttentionPath {
        if device.is_cpu() {
            AttentionPath::CpuFlash
        } else {
            AttentionPath::Standard
        }
    }
}

/// `q`: `[B, Hq, T, D]`, `k` and `v`: `[B, Hkv, T, D]`, all after RoPE. Returns
/// `[B, T, Hq·D]` in `q`'s dtype, ready for the output projection.
pub fn causal_attention(q: &Tensor, k: &Tensor, v: &Tensor, path: AttentionPath) -> Result<Tensor> {
    let (b, hq, t, d) = q.dims4()?;
    let dtype = q.dtype();
    let scale = 1.0 / (d as f64).sqrt();
    let out = match path {
        AttentionPath::CpuFlash => {
            // The kernel takes [B, T, H, D] and returns [B, H, T, D].
            let prep = |x: &Tensor| x.to_dtype(DType::F32)?.transpose(1, 2)?.contiguous();
            flash_attn::<f32>(
                &prep(q)?,
                &prep(k)?,
                &prep(v)?,
                scale as f32,
                AttnMask::causal(),
                None,
                None,
            )?
        }
        AttentionPath::Standard => standard(q, k, v, scale)?,
    };
    out.transpose(1, 2)?
        .reshape((b, t, hq * d))?
        .to_dtype(dtype)
}

fn standard(q: &Tensor, k: &Tensor, v: &Tensor, scale: f64) -> Result<Tensor> {
    let (_, hq, t, _) = q.dims4()?;
    let groups = hq / k.dim(1)?;
    let q = q.to_dtype(DType::F32)?.contiguous()?;
    let k = repeat_kv(&k.to_dtype(DType::F32)?, groups)?;
    let v = repeat_kv(&v.to_dtype(DType::F32)?, groups)?;
    let scores = (q.matmul(&k.t()?)? * scale)?;
    let mask = causal_mask(t, q.device())?;
    let probs = candle_nn::ops::softmax_last_dim(&scores.broadcast_add(&mask)?)?;
    probs.matmul(&v)
}

/// Attention of `n` new queries (`q` `[B, Hq, n, D]`, at positions `past..past+n`) over
/// all `past + n` keys and values: query `i` sees keys `..=past+i`. Computed in f32 like
/// [`causal_attention`]; returns `[B, n, Hq·D]` in `q`'s dtype. Incremental decoding.
pub fn offset_attention(q: &Tensor, k: &Tensor, v: &Tensor, past: usize) -> Result<Tensor> {
    let (b, hq, n, d) = q.dims4()?;
    let dtype = q.dtype();
    let total = k.dim(2)?;
    let groups = hq / k.dim(1)?;
    let q = q.to_dtype(DType::F32)?.contiguous()?;
    let k = repeat_kv(&k.to_dtype(DType::F32)?, groups)?;
    let v = repeat_kv(&v.to_dtype(DType::F32)?, groups)?;
    let scores = (q.matmul(&k.t()?)? * (1.0 / (d as f64).sqrt()))?;
    let mask: Vec<f32> = (0..n)
        .flat_map(|i| (0..total).map(move |j| if j > past + i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    let mask = Tensor::from_vec(mask, (n, total), q.device())?;
    let probs = candle_nn::ops::softmax_last_dim(&scores.broadcast_add(&mask)?)?;
    probs
        .matmul(&v)?
        .transpose(1, 2)?
        .reshape((b, n, hq * d))?
        .to_dtype(dtype)
}

/// `[B, Hkv, T, D]` → `[B, Hkv·groups, T, D]`, each key/value head serving `groups`
/// consecutive query heads.
pub(crate) fn repeat_kv(x: &Tensor, groups: usize) -> Result<Tensor> {
    if groups == 1 {
        return x.contiguous();
    }
    let (b, h, t, d) = x.dims4()?;
    x.unsqueeze(2)?
        .expand((b, h, groups, t, d))?
        .reshape((b, h * groups, t, d))
}

/// `[T, T]`: 0 where a query may look, −∞ above the diagonal.
fn causal_mask(t: usize, device: &Device) -> Result<Tensor> {
    let mask: Vec<f32> = (0..t)
        .flat_map(|i| (0..t).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(mask, (t, t), device)
}

/// The largest absolute difference between two tensors of one shape, for tests.
#[cfg(test)]
pub(crate) fn max_abs_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
    (a.to_dtype(DType::F32)? - b.to_dtype(DType::F32)?)?
        .abs()?
        .flatten_all()?
        .max(candle_core::D::Minus1)?
        .to_scalar::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(shape: (usize, usize, usize, usize), seed: u64) -> Tensor {
        let n = shape.0 * shape.1 * shape.2 * shape.3;
        let mut s = seed;
        let v: Vec<f32> = (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 4.0
            })
            .collect();
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    #[test]
    fn flash_and_standard_paths_agree_with_grouped_heads_and_batches() {
        for (b, t) in [(1, 7), (3, 11)] {
            let q = random((b, 4, t, 8), 1);
            let k = random((b, 2, t, 8), 2);
            let v = random((b, 2, t, 8), 3);
            let flash = causal_attention(&q, &k, &v, AttentionPath::CpuFlash).unwrap();
            let plain = causal_attention(&q, &k, &v, AttentionPath::Standard).unwrap();
            assert_eq!(flash.dims(), &[b, t, 32]);
            assert!(max_abs_diff(&flash, &plain).unwrap() < 1e-5);
        }
    }

    #[test]
    fn a_position_never_sees_the_future() {
        let q = random((1, 2, 6, 4), 4);
        let k = random((1, 2, 6, 4), 5);
        let v = random((1, 2, 6, 4), 6);
        let full = causal_attention(&q, &k, &v, AttentionPath::Standard).unwrap();
        let cut = |x: &Tensor| x.narrow(2, 0, 3).unwrap().contiguous().unwrap();
        let prefix =
            causal_attention(&cut(&q), &cut(&k), &cut(&v), AttentionPath::Standard).unwrap();
        let head = full.narrow(1, 0, 3).unwrap();
        assert!(max_abs_diff(&head, &prefix).unwrap() < 1e-6);
    }
}
