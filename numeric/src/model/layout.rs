//! The tensors a checkpoint must hold for its config, by name and shape: checked against
//! the safetensors headers by [`inspect`](super::inspect), and the list the loader reads.
//! Names follow `transformers` (`model.layers.N.self_attn.q_proj.weight`, …).

use super::ModelConfig;

/// The names of one decoder layer's tensors.
#[derive(Debug, Clone)]
pub struct LayerNames {
    pub prefix: String,
}

impl LayerNames {
    pub fn new(layer: usize) -> LayerNames {
        LayerNames {
            prefix: format!("model.layers.{layer}"),
        }
    }

    pub fn name(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.prefix)
    }
}

pub const EMBED: &str = "model.embed_tokens.weight";
pub const FINAL_NORM: &str = "model.norm.weight";
pub const LM_HEAD: &str = "lm_head.weight";

/// Every tensor the decoder reads, with the shape the config implies, in load order.
pub fn expected_tensors(cfg: &ModelConfig) -> Vec<(String, Vec<usize>)> {
    let h = cfg.hidden_size;
    let q = cfg.num_heads * cfg.head_dim;
    let kv = cfg.num_kv_heads * cfg.head_dim;
    let i = cfg.intermediate_size;
    let mut out = vec![(EMBED.to_string(), vec![cfg.vocab_size, h])];
    for layer in 0..cfg.num_layers {
        let n = LayerNames::new(layer);
        let mut push = |suffix: &str, shape: Vec<usize>| out.push((n.name(suffix), shape));
        push("input_layernorm.weight", vec![h]);
        push("post_attention_layernorm.weight", vec![h]);
        for (proj, rows) in [("q_proj", q), ("k_proj", kv), ("v_proj", kv)] {
            push(&format!("self_attn.{proj}.weight"), vec![rows, h]);
            if cfg.qkv_bias {
                push(&format!("self_attn.{proj}.bias"), vec![rows]);
            }
        }
        push("self_attn.o_proj.weight", vec![h, q]);
        if cfg.o_bias {
            push("self_attn.o_proj.bias", vec![h]);
        }
        if cfg.qk_norm {
            push("self_attn.q_norm.weight", vec![cfg.head_dim]);
            push("self_attn.k_norm.weight", vec![cfg.head_dim]);
        }
        for (proj, shape) in [
            ("gate_proj", [i, h]),
            ("up_proj", [i, h]),
            ("down_proj", [h, i]),
        ] {
            push(&format!("mlp.{proj}.weight"), shape.to_vec());
            if cfg.mlp_bias {
                push(&format!("mlp.{proj}.bias"), vec![shape[0]]);
            }
        }
    }
    out.push((FINAL_NORM.to_string(), vec![h]));
    if !cfg.tie_word_embeddings {
        out.push((LM_HEAD.to_string(), vec![cfg.vocab_size, h]));
    }
    out
}
