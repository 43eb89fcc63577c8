//! AdamW (Loshchilov & Hutter) as `torch.optim.AdamW` computes it: decoupled weight
//! decay `p ← p − lr·λ·p`, then `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, and
//! `p ← p − lr · m̂ / (√v̂ + ε)` with bias-corrected `m̂`, `v̂`. The moments are f32 and
//! are saved with each checkpoint so a resumed run continues exactly.
//!
//! The update is one pass over each parameter's f32 buffer (not a chain of tensor ops,
//! which would allocate five temporaries per parameter per step).

use candle_core::{DType, Result, Tensor};
use rayon::prelude::*;

use super::student::Param;

/// The hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// The optimizer and its state for an ordered list of params.
#[derive(Debug)]
pub struct AdamW {
    pub cfg: AdamWConfig,
    /// Updates taken so far.
    pub steps: u64,
    pub m: Vec<Vec<f32>>,
    pub v: Vec<Vec<f32>>,
}

impl AdamW {
    pub fn new(cfg: AdamWConfig, params: &[Param]) -> AdamW {
        let zeros = || -> Vec<Vec<f32>> {
            params
                .iter()
                .map(|p| vec![0f32; p.var.elem_count()])
                .collect()
        };
        AdamW {
            cfg,
            steps: 0,
            m: zeros(),
            v: zeros(),
        }
    }

    /// One update with `grads[i]` for `params[i]` (`None`: no gradient reached it this
    /// step; its moments still decay, as torch does for a zero gradient).
    pub fn step(&mut self, params: &[Param], grads: &[Option<Tensor>], lr: f64) -> Result<()> {
        self.steps += 1;
        let t = self.steps as i32;
        let c = self.cfg;
        let bc1 = 1.0 - c.beta1.powi(t);
        let bc2 = 1.0 - c.beta2.powi(t);
        for (i, p) in params.iter().enumerate() {
            let mut values = p.var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
            let g = match &grads[i] {
                Some(g) => g.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?,
                None => vec![0f32; values.len()],
            };
            let decay = if p.decay { lr * c.weight_decay } else { 0.0 };
            let (m, v) = (&mut self.m[i], &mut self.v[i]);
            values
                .par_iter_mut()
                .zip(m.par_iter_mut())
                .zip(v.par_iter_mut())
                .zip(g.par_iter())
                .for_each(|(((x, m), v), &g)| {
                    let g = g as f64;
                    let mut w = *x as f64 * (1.0 - decay);
                    let mn = c.beta1 * *m as f64 + (1.0 - c.beta1) * g;
                    let vn = c.beta2 * *v as f64 + (1.0 - c.beta2) * g * g;
                    w -= lr * (mn / bc1) / ((vn / bc2).sqrt() + c.eps);
                    *m = mn as f32;
                    *v = vn as f32;
                    *x = w as f32;
                });
            let shape = p.var.shape().clone();
            p.var
                .set(&Tensor::from_vec(values, shape, p.var.device())?)?;
        }
        Ok(())
    }
}

/// The global L2 norm of the gradients, and the factor `min(1, max / (norm + 1e-6))` that
/// clipping multiplies them by (torch's `clip_grad_norm_`).
pub fn clip_factor(grads: &[Option<Tensor>], max_norm: f64) -> Result<(f64, f64)> {
    let mut sum = 0f64;
    for g in grads.iter().flatten() {
        sum += g
            .to_dtype(DType::F64)?
            .sqr()?
            .sum_all()?
            .to_scalar::<f64>()?;
    }
    let norm = sum.sqrt();
    let factor = if max_norm > 0.0 && norm > max_norm {
        max_norm / (norm + 1e-6)
    } else {
        1.0
    };
    Ok((norm, factor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn matches_torch_adamw_by_hand() {
        // torch.optim.AdamW(lr=0.1, weight_decay=0.01) on p = [1.0, -2.0] with g = [0.5, 0.5],
        // two steps (reference values computed from the update rule in f64).
        let var = Var::from_tensor(&Tensor::new(&[1.0f32, -2.0], &Device::Cpu).unwrap()).unwrap();
        let params = vec![Param {
            name: "p".into(),
            var: var.clone(),
            decay: true,
        }];
        let cfg = AdamWConfig {
            weight_decay: 0.01,
            ..Default::default()
        };
        let mut opt = AdamW::new(cfg, &params);
        let g = Tensor::new(&[0.5f32, 0.5], &Device::Cpu).unwrap();
        let mut expect = [1.0f64, -2.0];
        let (mut m, mut v) = ([0f64; 2], [0f64; 2]);
        for t in 1..=2 {
            opt.step(&params, &[Some(g.clone())], 0.1).unwrap();
            for j in 0..2 {
                expect[j] *= 1.0 - 0.1 * 0.01;
                m[j] = 0.9 * m[j] + 0.1 * 0.5;
                v[j] = 0.999 * v[j] + 0.001 * 0.25;
                let mh = m[j] / (1.0 - 0.9f64.powi(t));
                let vh = v[j] / (1.0 - 0.999f64.powi(t));
                expect[j] -= 0.1 * mh / (vh.sqrt() + 1e-8);
            }
        }
        let got = var.as_tensor().to_vec1::<f32>().unwrap();
        for j in 0..2 {
            assert!(
                (got[j] as f64 - expect[j]).abs() < 1e-6,
                "{got:?} vs {expect:?}"
            );
        }
    }

    #[test]
    fn clipping_scales_only_above_the_cap() {
        let g = Some(Tensor::new(&[3.0f32, 4.0], &Device::Cpu).unwrap());
        let (norm, f) = clip_factor(&[g.clone(), None], 1.0).unwrap();
        assert!((norm - 5.0).abs() < 1e-9 && (f - 1.0 / (5.0 + 1e-6)).abs() < 1e-9);
        assert_eq!(clip_factor(&[g], 10.0).unwrap().1, 1.0);
    }
}
