//! Rotary position embeddings: the cos/sin tables for positions `0..len`, computed as
//! `transformers` computes them (inverse frequencies and angles in f32, cast to the
//! model's dtype at the end), for plain, `linear` and `llama3` scaling.
//!
//! Tables are built per forward call for exactly the positions used, so there is no
//! `max_position_embeddings`-sized cache, and no position is ever rounded: building the
//! angles in bf16, as some implementations do, rounds positions above 256.

use std::f64::consts::PI;

use candle_core::{DType, Device, Result, Tensor};

use super::{ModelConfig, RopeScaling};

/// The inverse frequencies `1 / theta^(2i/d)` for `i < d/2`, after scaling.
pub fn inverse_frequencies(cfg: &ModelConfig) -> Vec<f32> {
    let d = cfg.head_dim;
    let base: Vec<f64> = (0..d)
        .step_by(2)
        .map(|i| 1.0 / cfg.rope_theta.powf(i as f64 / d as f64))
        .collect();
    let scaled = match cfg.rope_scaling {
        RopeScaling::None => base,
        RopeScaling::Linear { factor } => base.into_iter().map(|f| f / factor).collect(),
        RopeScaling::Llama3 {
            factor,
            low_freq_factor,
            high_freq_factor,
            original_max_position_embeddings: old_len,
        } => {
            let low_freq_wavelen = old_len / low_freq_factor;
            let high_freq_wavelen = old_len / high_freq_factor;
            base.into_iter()
                .map(|freq| {
                    let wavelen = 2.0 * PI / freq;
                    if wavelen < high_freq_wavelen {
                        freq
                    } else if wavelen > low_freq_wavelen {
                        freq / factor
                    } else {
                        let smooth = (old_len / wavelen - low_freq_factor)
                            / (high_freq_factor - low_freq_factor);
                        (1.0 - smooth) * freq / factor + smooth * freq
                    }
                })
                .collect()
        }
    };
    scaled.into_iter().map(|f| f as f32).collect()
}

/// cos and sin tables of shape `[len, head_dim / 2]`, in `dtype`.
#[derive(Debug, Clone)]
pub struct RopeTables {
    pub cos: Tensor,
    pub sin: Tensor,
}

impl RopeTables {
    pub fn new(inv_freq: &[f32], len: usize, dtype: DType, device: &Device) -> Result<RopeTables> {
        let half = inv_freq.len();
        let mut cos = Vec::with_capacity(len * half);
        let mut sin = Vec::with_capacity(len * half);
        for pos in 0..len {
            for &f in inv_freq {
                // The f32 product, as torch's `inv_freq @ position_ids` gives it.
                let angle = pos as f32 * f;
                cos.push(angle.cos());
                sin.push(angle.sin());
            }
        }
        let table = |v: Vec<f32>| Tensor::from_vec(v, (len, half), device)?.to_dtype(dtype);
        Ok(RopeTables {
            cos: table(cos)?,
            sin: table(sin)?,
        })
    }

    /// Rotates `x` of shape `[batch, heads, len, head_dim]` (contiguous) by position, in
    /// the half-split layout (`rotate_half`) all four families use.
    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        candle_nn::rotary_emb::rope(x, &self.cos, &self.sin)
    }
}
