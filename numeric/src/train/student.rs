//! The trainable decoder: the scoring decoder's architecture (Qwen2, Qwen3, Llama,
//! Mistral; same tensor names, same checkpoints) built from differentiable ops, with its
//! weights as candle `Var`s (full fine-tuning) or frozen beside LoRA adapters.
//!
//! Master weights are f32 whatever the compute dtype: with `compute = bf16` each weight is
//! cast on the way into the forward pass (mixed precision), so small updates are never
//! rounded away. The LM head is not applied here: the trainer applies it in row chunks
//! with a hand-written gradient (see `head.rs`), which keeps `[tokens, vocab]` logits for
//! one chunk at a time.

use std::collections::HashMap;

use candle_core::{DType, Device, Result, Tensor, Var};

use super::layers::{causal_attention, rms_norm, rope};
use super::lora::{Adapter, LoraConfig};
use super::prng::Prng;
use crate::model::layout::{LayerNames, EMBED, FINAL_NORM, LM_HEAD};
use crate::model::rope::{inverse_frequencies, RopeTables};
use crate::model::ModelConfig;

/// A trained tensor: its name in the saved file, the variable, and whether AdamW's weight
/// decay applies (not to norms and biases, as `transformers`' Trainer does).
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub var: Var,
    pub decay: bool,
}

#[derive(Debug, Clone)]
struct TrainLinear {
    weight: Tensor,
    bias: Option<Tensor>,
    adapter: Option<Adapter>,
}

impl TrainLinear {
    fn forward(&self, x: &Tensor, compute: DType, rng: Option<&mut Prng>) -> Result<Tensor> {
        let mut y = x.broadcast_matmul(&self.weight.to_dtype(compute)?.t()?)?;
        if let Some(b) = &self.bias {
            y = y.broadcast_add(&b.to_dtype(compute)?)?;
        }
        if let Some(adapter) = &self.adapter {
            y = (y + adapter.forward(x, rng)?)?;
        }
        Ok(y)
    }
}

#[derive(Debug, Clone)]
struct TrainLayer {
    input_norm: Tensor,
    post_attention_norm: Tensor,
    q: TrainLinear,
    k: TrainLinear,
    v: TrainLinear,
    o: TrainLinear,
    qk_norm: Option<(Tensor, Tensor)>,
    gate: TrainLinear,
    up: TrainLinear,
    down: TrainLinear,
}

/// How the weights are trained.
#[derive(Debug, Clone, PartialEq)]
pub enum Tuning {
    Full,
    Lora(LoraConfig),
}

/// The trainable model.
#[derive(Debug, Clone)]
pub struct TrainableModel {
    cfg: ModelConfig,
    embed: Tensor,
    layers: Vec<TrainLayer>,
    final_norm: Tensor,
    lm_head: Tensor,
    inv_freq: Vec<f32>,
    compute: DType,
    device: Device,
    params: Vec<Param>,
    /// Index into `params` of the LM head's variable (the embedding when tied), when trained.
    lm_head_param: Option<usize>,
    tuning: Tuning,
}

/// Builds tensors as variables (full fine-tuning) or frozen tensors, recording the params.
struct Builder<'a> {
    tensors: &'a mut HashMap<String, Tensor>,
    params: Vec<Param>,
    full: bool,
}

impl Builder<'_> {
    fn take(&mut self, name: &str, decay: bool) -> Result<Tensor> {
        let t = self
            .tensors
            .remove(name)
            .ok_or_else(|| candle_core::Error::Msg(format!("the tensor `{name}` was not loaded")))?
            .to_dtype(DType::F32)?;
        if !self.full {
            return Ok(t);
        }
        let var = Var::from_tensor(&t)?;
        let tensor = var.as_tensor().clone();
        self.params.push(Param {
            name: name.to_string(),
            var,
            decay,
        });
        Ok(tensor)
    }
}

impl TrainableModel {
    /// Builds the model from f32 (or any float) tensors named as in the checkpoint.
    /// `seed` draws the LoRA initialization.
    pub fn new(
        cfg: &ModelConfig,
        mut tensors: HashMap<String, Tensor>,
        tuning: Tuning,
        compute: DType,
        seed: u64,
    ) -> Result<TrainableModel> {
        let lora = match &tuning {
            Tuning::Lora(l) => Some(l.clone()),
            Tuning::Full => None,
        };
        let mut b = Builder {
            tensors: &mut tensors,
            params: Vec::new(),
            full: lora.is_none(),
        };
        let embed = b.take(EMBED, true)?;
        let device = embed.device().clone();
        let mut rng = Prng::derive(seed, 0x10a);
        let mut adapters: Vec<Param> = Vec::new();
        let mut layers = Vec::with_capacity(cfg.num_layers);
        for i in 0..cfg.num_layers {
            let n = LayerNames::new(i);
            let mut linear =
                |b: &mut Builder, module: &str, short: &str, bias: bool| -> Result<TrainLinear> {
                    let full = n.name(module);
                    let weight = b.take(&format!("{full}.weight"), true)?;
                    let bias = if bias {
                        Some(b.take(&format!("{full}.bias"), false)?)
                    } else {
                        None
                    };
                    let adapter = match &lora {
                        Some(l) if l.targets(short) => {
                            let (out, inp) = weight.dims2()?;
                            let a = Adapter::new(out, inp, l, &mut rng, &device)?;
                            for (half, var) in [('A', &a.a), ('B', &a.b)] {
                                adapters.push(Param {
                                    name: super::lora::peft_name(&full, half),
                                    var: var.clone(),
                                    decay: true,
                                });
                            }
                            Some(a)
                        }
                        _ => None,
                    };
                    Ok(TrainLinear {
                        weight,
                        bias,
                        adapter,
                    })
                };
            layers.push(TrainLayer {
                input_norm: b.take(&n.name("input_layernorm.weight"), false)?,
                post_attention_norm: b.take(&n.name("post_attention_layernorm.weight"), false)?,
                q: linear(&mut b, "self_attn.q_proj", "q_proj", cfg.qkv_bias)?,
                k: linear(&mut b, "self_attn.k_proj", "k_proj", cfg.qkv_bias)?,
                v: linear(&mut b, "self_attn.v_proj", "v_proj", cfg.qkv_bias)?,
                o: linear(&mut b, "self_attn.o_proj", "o_proj", cfg.o_bias)?,
                qk_norm: if cfg.qk_norm {
                    Some((
                        b.take(&n.name("self_attn.q_norm.weight"), false)?,
                        b.take(&n.name("self_attn.k_norm.weight"), false)?,
                    ))
                } else {
                    None
                },
                gate: linear(&mut b, "mlp.gate_proj", "gate_proj", cfg.mlp_bias)?,
                up: linear(&mut b, "mlp.up_proj", "up_proj", cfg.mlp_bias)?,
                down: linear(&mut b, "mlp.down_proj", "down_proj", cfg.mlp_bias)?,
            });
        }
        let final_norm = b.take(FINAL_NORM, false)?;
        let lm_head = if cfg.tie_word_embeddings {
            embed.clone()
        } else {
            b.take(LM_HEAD, true)?
        };
        let mut params = b.params;
        let head_name = if cfg.tie_word_embeddings {
            EMBED
        } else {
            LM_HEAD
        };
        let lm_head_param = params.iter().position(|p| p.name == head_name);
        params.extend(adapters);
        Ok(TrainableModel {
            cfg: cfg.clone(),
            embed,
            layers,
            final_norm,
            lm_head,
            inv_freq: inverse_frequencies(cfg),
            compute,
            device,
            params,
            lm_head_param,
            tuning,
        })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn tuning(&self) -> &Tuning {
        &self.tuning
    }

    /// The trained tensors, in a fixed order (checkpoints and optimizer state use it).
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The LM head `[vocab, hidden]`, f32 (the embedding when tied).
    pub fn lm_head(&self) -> &Tensor {
        &self.lm_head
    }

    /// Which param is the LM head, when it is trained (full fine-tuning).
    pub fn lm_head_param(&self) -> Option<usize> {
        self.lm_head_param
    }

    /// Every tensor of the model under its checkpoint name, with the trained values
    /// (LoRA adapters not merged): what a full checkpoint saves.
    pub fn base_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![(EMBED.to_string(), self.embed.clone())];
        for (i, l) in self.layers.iter().enumerate() {
            let n = LayerNames::new(i);
            out.push((n.name("input_layernorm.weight"), l.input_norm.clone()));
            out.push((
                n.name("post_attention_layernorm.weight"),
                l.post_attention_norm.clone(),
            ));
            for (module, lin) in [
                ("self_attn.q_proj", &l.q),
                ("self_attn.k_proj", &l.k),
                ("self_attn.v_proj", &l.v),
                ("self_attn.o_proj", &l.o),
                ("mlp.gate_proj", &l.gate),
                ("mlp.up_proj", &l.up),
                ("mlp.down_proj", &l.down),
            ] {
                out.push((n.name(&format!("{module}.weight")), lin.weight.clone()));
                if let Some(b) = &lin.bias {
                    out.push((n.name(&format!("{module}.bias")), b.clone()));
                }
            }
            if let Some((q, k)) = &l.qk_norm {
                out.push((n.name("self_attn.q_norm.weight"), q.clone()));
                out.push((n.name("self_attn.k_norm.weight"), k.clone()));
            }
        }
        out.push((FINAL_NORM.to_string(), self.final_norm.clone()));
        if !self.cfg.tie_word_embeddings {
            out.push((LM_HEAD.to_string(), self.lm_head.clone()));
        }
        out
    }

    /// Final hidden states `[B, T, hidden]` (compute dtype) for right-padded ids `[B, T]`.
    /// `dropout` draws LoRA dropout masks (training); `None` evaluates.
    pub fn hidden_states(&self, ids: &Tensor, mut dropout: Option<&mut Prng>) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let h = self.cfg.hidden_size;
        let mut x = self
            .embed
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((b, t, h))?
            .to_dtype(self.compute)?;
        let tables = RopeTables::new(&self.inv_freq, t, self.compute, &self.device)?;
        let eps = self.cfg.rms_norm_eps;
        for layer in &self.layers {
            let hn = rms_norm(&x, &layer.input_norm, eps)?;
            let attn = self.attention(layer, &hn, &tables, dropout.as_deref_mut())?;
            x = (x + attn)?;
            let hn = rms_norm(&x, &layer.post_attention_norm, eps)?;
            let gate = layer
                .gate
                .forward(&hn, self.compute, dropout.as_deref_mut())?;
            let up = layer
                .up
                .forward(&hn, self.compute, dropout.as_deref_mut())?;
            let mlp =
                layer
                    .down
                    .forward(&(gate.silu()? * up)?, self.compute, dropout.as_deref_mut())?;
            x = (x + mlp)?;
        }
        rms_norm(&x, &self.final_norm, eps)
    }

    fn attention(
        &self,
        layer: &TrainLayer,
        h: &Tensor,
        tables: &RopeTables,
        mut rng: Option<&mut Prng>,
    ) -> Result<Tensor> {
        let (b, t, _) = h.dims3()?;
        let d = self.cfg.head_dim;
        let eps = self.cfg.rms_norm_eps;
        let mut heads =
            |lin: &TrainLinear, n: usize, norm: Option<&Tensor>, rotate: bool| -> Result<Tensor> {
                let x = lin
                    .forward(h, self.compute, rng.as_deref_mut())?
                    .reshape((b, t, n, d))?;
                let x = match norm {
                    Some(w) => rms_norm(&x, w, eps)?,
                    None => x,
                };
                let x = x.transpose(1, 2)?.contiguous()?;
                if rotate {
                    rope(&x, &tables.cos, &tables.sin)
                } else {
                    Ok(x)
                }
            };
        let (q_norm, k_norm) = match &layer.qk_norm {
            Some((q, k)) => (Some(q), Some(k)),
            None => (None, None),
        };
        let q = heads(&layer.q, self.cfg.num_heads, q_norm, true)?;
        let k = heads(&layer.k, self.cfg.num_kv_heads, k_norm, true)?;
        let v = heads(&layer.v, self.cfg.num_kv_heads, None, false)?;
        let out = causal_attention(&q, &k, &v)?;
        layer.o.forward(&out, self.compute, rng)
    }

    /// Logits `[B, T, vocab]` in f32 for every position: for tests and small evaluations
    /// (the trainer never builds them for a whole batch).
    pub fn logits(&self, ids: &Tensor) -> Result<Tensor> {
        let hidden = self.hidden_states(ids, None)?.to_dtype(DType::F32)?;
        hidden.broadcast_matmul(&self.lm_head.t()?)
    }
}
