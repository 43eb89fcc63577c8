//! Differentiable building blocks of the trainable decoder, made of plain candle ops that
//! candle's autograd can differentiate.
//!
//! The scoring decoder uses candle's fused kernels (RMSNorm, rotary embedding, CPU flash
//! attention); those have no backward pass, so gradients would silently stop at them.
//! Here the same math is written out: slower per call, but every op has a gradient. The
//! trainable model is tested against the scoring decoder and candle-transformers.

use candle_core::{DType, Device, Result, Tensor, D};

use crate::model::attention::repeat_kv;

/// RMSNorm over the last dimension, computed in f32 (as `transformers` does) and returned
/// in `x`'s dtype: `x / sqrt(mean(x²) + eps) · weight`.
pub fn rms_norm(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    let dtype = x.dtype();
    let x = x.to_dtype(DType::F32)?;
    let mean_square = x.sqr()?.mean_keepdim(D::Minus1)?;
    let normed = x.broadcast_div(&(mean_square + eps)?.sqrt()?)?;
    normed
        .to_dtype(dtype)?
        .broadcast_mul(&weight.to_dtype(dtype)?)
}

/// Rotary embedding in the half-split layout: for `x` `[B, H, T, D]` and tables `[T, D/2]`,
/// `[x1·cos − x2·sin, x2·cos + x1·sin]` where `x1`, `x2` are the two halves of the last dim.
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let half = x.dim(D::Minus1)? / 2;
    let x1 = x.narrow(D::Minus1, 0, half)?;
    let x2 = x.narrow(D::Minus1, half, half)?;
    let first = (x1.broadcast_mul(cos)? - x2.broadcast_mul(sin)?)?;
    let second = (x2.broadcast_mul(cos)? + x1.broadcast_mul(sin)?)?;
    Tensor::cat(&[first, second], D::Minus1)
}

/// Causal grouped-query attention: `q` `[B, Hq, T, D]`, `k`, `v` `[B, Hkv, T, D]`; returns
/// `[B, T, Hq·D]`. Scores and softmax in f32. Batches are right-padded, so the causal
/// mask is also the padding mask.
pub fn causal_attention(q: &Tensor, k: &Tensor, v: &Tensor) -> Result<Tensor> {
    let (b, hq, t, d) = q.dims4()?;
    let dtype = q.dtype();
    let groups = hq / k.dim(1)?;
    let q = q.to_dtype(DType::F32)?;
    let k = repeat_kv(&k.to_dtype(DType::F32)?, groups)?;
    let v = repeat_kv(&v.to_dtype(DType::F32)?, groups)?;
    let scores = (q.matmul(&k.t()?)? * (1.0 / (d as f64).sqrt()))?;
    let scores = scores.broadcast_add(&causal_mask(t, q.device())?)?;
    // The composed softmax (max, exp, sum, divide): differentiable, unlike the fused one.
    let probs = candle_nn::ops::softmax(&scores, D::Minus1)?;
    probs
        .matmul(&v)?
        .transpose(1, 2)?
        .reshape((b, t, hq * d))?
        .to_dtype(dtype)
}

/// `[T, T]`: 0 where a query may look, a large negative number above the diagonal. Not
/// −∞: `0 · −∞` would turn into NaN in the backward pass of the addition.
fn causal_mask(t: usize, device: &Device) -> Result<Tensor> {
    let mask: Vec<f32> = (0..t)
        .flat_map(|i| (0..t).map(move |j| if j > i { -1e30 } else { 0.0 }))
        .collect();
    Tensor::from_vec(mask, (t, t), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(shape: (usize, usize, usize, usize)) -> Tensor {
        let n = shape.0 * shape.1 * shape.2 * shape.3;
        let v: Vec<f32> = (0..n)
            .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
            .collect();
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    }

    #[test]
    fn composed_ops_match_candles_fused_kernels() {
        let x = ramp((2, 3, 5, 8));
        let w = Tensor::from_vec(
            (0..8).map(|i| 0.5 + i as f32 / 8.0).collect(),
            8,
            &Device::Cpu,
        )
        .unwrap();
        let fused = candle_nn::ops::rms_norm(&x, &w, 1e-6).unwrap();
        assert!(max_diff(&rms_norm(&x, &w, 1e-6).unwrap(), &fused) < 1e-5);

        let cos = ramp((1, 1, 5, 4)).reshape((5, 4)).unwrap().cos().unwrap();
        let sin = ramp((1, 1, 5, 4)).reshape((5, 4)).unwrap().sin().unwrap();
        let fused = candle_nn::rotary_emb::rope(&x, &cos, &sin).unwrap();
        assert!(max_diff(&rope(&x, &cos, &sin).unwrap(), &fused) < 1e-5);
    }

    #[test]
    fn attention_gradients_flow_to_queries_keys_and_values() {
        let q = candle_core::Var::from_tensor(&ramp((1, 4, 6, 8))).unwrap();
        let k = candle_core::Var::from_tensor(&ramp((1, 2, 6, 8))).unwrap();
        let v = candle_core::Var::from_tensor(&ramp((1, 2, 6, 8))).unwrap();
        let out = causal_attention(&q, &k, &v).unwrap();
        assert_eq!(out.dims(), &[1, 6, 32]);
        let grads = out.sqr().unwrap().sum_all().unwrap().backward().unwrap();
        for var in [&q, &k, &v] {
            let g = grads.get(var).expect("a gradient");
            let norm = g
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(norm.is_finite() && norm > 0.0);
        }
    }
}
