//! The decoder all four families share, written once: token embedding, then per layer
//! `x += attn(rmsnorm(x))` and `x += mlp(rmsnorm(x))`, then a final RMSNorm. Attention
//! is grouped-query with RoPE (and, for Qwen3, a per-head RMSNorm of q and k before it);
//! the MLP is SwiGLU, `down(silu(gate(x)) · up(x))`. [`ModelConfig`] holds the
//! differences (biases, head size, RoPE scaling, q/k norm).
//!
//! Why not candle-transformers' models: `llama::Llama` returns only the last position's
//! logits; `qwen2::Model` builds its RoPE angles in the model's dtype, so in bf16 every
//! position above 256 is rounded; all of them carry a KV cache that must be reset between
//! calls. Here a forward pass is a pure function of the ids (`&self`, no state), so one
//! loaded model serves concurrent callers. The tests check this decoder against
//! candle-transformers' Qwen2, Qwen3, Llama and Mistral on tiny random checkpoints.

use std::collections::HashMap;

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::Linear;

use super::attention::{causal_attention, AttentionPath};
use super::layout::{LayerNames, EMBED, FINAL_NORM, LM_HEAD};
use super::rope::{inverse_frequencies, RopeTables};
use super::ModelConfig;

#[derive(Debug, Clone)]
struct Layer {
    input_norm: Tensor,
    post_attention_norm: Tensor,
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    /// Qwen3's per-head norms of q and k.
    qk_norm: Option<(Tensor, Tensor)>,
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
}

/// A loaded decoder: hidden states for whole sequences, and the LM head's weight.
#[derive(Debug, Clone)]
pub struct Decoder {
    cfg: ModelConfig,
    embed: Tensor,
    layers: Vec<Layer>,
    final_norm: Tensor,
    /// `[vocab, hidden]`: `lm_head.weight`, or the embedding when tied.
    lm_head: Tensor,
    inv_freq: Vec<f32>,
    dtype: DType,
    device: Device,
    attention: AttentionPath,
}

/// Takes tensors out of the loaded map by name.
struct Take<'a>(&'a mut HashMap<String, Tensor>);

impl Take<'_> {
    fn tensor(&mut self, name: &str) -> Result<Tensor> {
        self.0
            .remove(name)
            .ok_or_else(|| candle_core::Error::Msg(format!("the tensor `{name}` was not loaded")))
    }

    fn linear(&mut self, n: &LayerNames, proj: &str, bias: bool) -> Result<Linear> {
        let weight = self.tensor(&n.name(&format!("{proj}.weight")))?;
        let bias = if bias {
            Some(self.tensor(&n.name(&format!("{proj}.bias")))?)
        } else {
            None
        };
        Ok(Linear::new(weight, bias))
    }
}

impl Decoder {
    /// Builds the decoder from the tensors [`load_weights`](super::weights::load_weights)
    /// read (all of the same dtype, on one device).
    pub fn new(cfg: &ModelConfig, mut tensors: HashMap<String, Tensor>) -> Result<Decoder> {
        let mut take = Take(&mut tensors);
        let embed = take.tensor(EMBED)?;
        let (dtype, device) = (embed.dtype(), embed.device().clone());
        let mut layers = Vec::with_capacity(cfg.num_layers);
        for i in 0..cfg.num_layers {
            let n = LayerNames::new(i);
            layers.push(Layer {
                input_norm: take.tensor(&n.name("input_layernorm.weight"))?,
                post_attention_norm: take.tensor(&n.name("post_attention_layernorm.weight"))?,
                q_proj: take.linear(&n, "self_attn.q_proj", cfg.qkv_bias)?,
                k_proj: take.linear(&n, "self_attn.k_proj", cfg.qkv_bias)?,
                v_proj: take.linear(&n, "self_attn.v_proj", cfg.qkv_bias)?,
                o_proj: take.linear(&n, "self_attn.o_proj", cfg.o_bias)?,
                qk_norm: if cfg.qk_norm {
                    Some((
                        take.tensor(&n.name("self_attn.q_norm.weight"))?,
                        take.tensor(&n.name("self_attn.k_norm.weight"))?,
                    ))
                } else {
                    None
                },
                gate_proj: take.linear(&n, "mlp.gate_proj", cfg.mlp_bias)?,
                up_proj: take.linear(&n, "mlp.up_proj", cfg.mlp_bias)?,
                down_proj: take.linear(&n, "mlp.down_proj", cfg.mlp_bias)?,
            });
        }
        let final_norm = take.tensor(FINAL_NORM)?;
        let lm_head = if cfg.tie_word_embeddings {
            embed.clone()
        } else {
            take.tensor(LM_HEAD)?
        };
        Ok(Decoder {
            cfg: cfg.clone(),
            embed,
            layers,
            final_norm,
            lm_head,
            inv_freq: inverse_frequencies(cfg),
            dtype,
            device: device.clone(),
            attention: AttentionPath::for_device(&device),
        })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The input embedding `[vocab, hidden]`, in the model's dtype.
    pub fn embedding(&self) -> &Tensor {
        &self.embed
    }

    /// `[vocab, hidden]`, in the model's dtype.
    pub fn lm_head(&self) -> &Tensor {
        &self.lm_head
    }

    /// Chooses the attention implementation (tests compare the two).
    #[cfg(test)]
    pub(crate) fn set_attention_path(&mut self, path: AttentionPath) {
        self.attention = path;
    }

    /// Final hidden states `[B, T, hidden]` for right-padded ids `[B, T]` (u32). Row `b`
    /// at position `t` depends only on row `b`'s ids at positions `..=t`.
    pub fn hidden_states(&self, ids: &Tensor) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let mut x = self.embed.index_select(&ids.flatten_all()?, 0)?.reshape((
            b,
            t,
            self.cfg.hidden_size,
        ))?;
        let rope = RopeTables::new(&self.inv_freq, t, self.dtype, &self.device)?;
        for layer in &self.layers {
            let h = rms_norm(&x, &layer.input_norm, self.cfg.rms_norm_eps)?;
            x = (x + self.attention(layer, &h, &rope)?)?;
            let h = rms_norm(&x, &layer.post_attention_norm, self.cfg.rms_norm_eps)?;
            let mlp = (layer.gate_proj.forward(&h)?.silu()? * layer.up_proj.forward(&h)?)?;
            x = (x + layer.down_proj.forward(&mlp)?)?;
        }
        rms_norm(&x, &self.final_norm, self.cfg.rms_norm_eps)
    }

    fn attention(&self, layer: &Layer, h: &Tensor, rope: &RopeTables) -> Result<Tensor> {
        let (b, t, _) = h.dims3()?;
        let d = self.cfg.head_dim;
        let heads = |proj: &Linear, n: usize, norm: Option<&Tensor>| -> Result<Tensor> {
            let x = proj.forward(h)?.reshape((b, t, n, d))?;
            let x = match norm {
                Some(w) => rms_norm(&x, w, self.cfg.rms_norm_eps)?,
                None => x,
            };
            rope.apply(&x.transpose(1, 2)?.contiguous()?)
        };
        let (q_norm, k_norm) = match &layer.qk_norm {
            Some((q, k)) => (Some(q), Some(k)),
            None => (None, None),
        };
        let q = heads(&layer.q_proj, self.cfg.num_heads, q_norm)?;
        let k = heads(&layer.k_proj, self.cfg.num_kv_heads, k_norm)?;
        let v = layer
            .v_proj
            .forward(h)?
            .reshape((b, t, self.cfg.num_kv_heads, d))?
            .transpose(1, 2)?
            .contiguous()?;
        let out = causal_attention(&q, &k, &v, self.attention)?;
        layer.o_proj.forward(&out)
    }
}

/// Each layer's keys (after RoPE) and values so far, `[1, Hkv, past, D]`: what
/// incremental decoding keeps between steps. Owned by the caller, so the model stays
/// shared and stateless.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    layers: Vec<(Tensor, Tensor)>,
}

impl KvCache {
    /// Positions cached so far.
    pub(crate) fn len(&self) -> usize {
        self.layers
            .first()
            .and_then(|(k, _)| k.dim(2).ok())
            .unwrap_or(0)
    }
}

impl Decoder {
    /// Runs `ids` (`[1, n]`) at positions `cache.len()..`, extending `cache`; returns the
    /// final hidden states `[1, n, hidden]`. Equal to [`Decoder::hidden_states`] over the
    /// whole sequence at those positions (tested), at a cost linear in the new tokens.
    pub fn hidden_states_cached(&self, ids: &Tensor, cache: &mut KvCache) -> Result<Tensor> {
        let (b, n) = ids.dims2()?;
        let past = cache.len();
        let mut x = self.embed.index_select(&ids.flatten_all()?, 0)?.reshape((
            b,
            n,
            self.cfg.hidden_size,
        ))?;
        let rope = RopeTables::new(&self.inv_freq, past + n, self.dtype, &self.device)?;
        let rope = RopeTables {
            cos: rope.cos.narrow(0, past, n)?,
            sin: rope.sin.narrow(0, past, n)?,
        };
        let d = self.cfg.head_dim;
        let eps = self.cfg.rms_norm_eps;
        let mut fresh = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            let h = rms_norm(&x, &layer.input_norm, eps)?;
            let heads = |proj: &Linear, count: usize, norm: Option<&Tensor>| -> Result<Tensor> {
                let t = proj.forward(&h)?.reshape((b, n, count, d))?;
                let t = match norm {
                    Some(w) => rms_norm(&t, w, eps)?,
                    None => t,
                };
                rope.apply(&t.transpose(1, 2)?.contiguous()?)
            };
            let (q_norm, k_norm) = match &layer.qk_norm {
                Some((q, k)) => (Some(q), Some(k)),
                None => (None, None),
            };
            let q = heads(&layer.q_proj, self.cfg.num_heads, q_norm)?;
            let k = heads(&layer.k_proj, self.cfg.num_kv_heads, k_norm)?;
            let v = layer
                .v_proj
                .forward(&h)?
                .reshape((b, n, self.cfg.num_kv_heads, d))?
                .transpose(1, 2)?
                .contiguous()?;
            let (k, v) = match cache.layers.get(i) {
                Some((pk, pv)) => (Tensor::cat(&[pk, &k], 2)?, Tensor::cat(&[pv, &v], 2)?),
                None => (k, v),
            };
            let out = super::attention::offset_attention(&q, &k, &v, past)?;
            fresh.push((k, v));
            x = (x + layer.o_proj.forward(&out)?)?;
            let h = rms_norm(&x, &layer.post_attention_norm, eps)?;
            let mlp = (layer.gate_proj.forward(&h)?.silu()? * layer.up_proj.forward(&h)?)?;
            x = (x + layer.down_proj.forward(&mlp)?)?;
        }
        cache.layers = fresh;
        rms_norm(&x, &self.final_norm, eps)
    }
}

/// RMSNorm over the last dimension; candle's kernel accumulates in f32.
fn rms_norm(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    candle_nn::ops::rms_norm(&x.contiguous()?, weight, eps as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{write_tiny_checkpoint, ScratchDir, TinySpec};
    use crate::model::attention::max_abs_diff;
    use crate::model::weights::load_weights;
    use crate::model::{inspect, Arch};

    #[test]
    fn both_attention_paths_give_the_same_model_on_padded_batches() {
        for arch in [Arch::Qwen2, Arch::Qwen3, Arch::Llama] {
            let dir = ScratchDir::new("decoder").unwrap();
            let mut spec = TinySpec::new(arch);
            spec.init_std = 0.15;
            write_tiny_checkpoint(dir.path(), &spec).unwrap();
            let info = inspect(dir.path()).unwrap();
            let weights = load_weights(&info, DType::F32, &Device::Cpu).unwrap();
            let mut decoder = Decoder::new(&info.config, weights).unwrap();
            let ids: Vec<u32> = (0..3 * 13).map(|i| (i * 31 + 5) % 260).collect();
            let ids = Tensor::from_vec(ids, (3, 13), &Device::Cpu).unwrap();
            let flash = decoder.hidden_states(&ids).unwrap();
            decoder.set_attention_path(AttentionPath::Standard);
            let plain = decoder.hidden_states(&ids).unwrap();
            assert_eq!(flash.dims(), &[3, 13, 32]);
            assert!(max_abs_diff(&flash, &plain).unwrap() < 1e-5, "{arch}");
        }
    }
}
