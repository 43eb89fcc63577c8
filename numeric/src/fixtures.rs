//! Tiny random checkpoints for tests, written exactly as a Hugging Face snapshot is laid
//! out: `config.json` with the family's fields, weights in `model.safetensors` (or two
//! shards and an index), a byte-level BPE `tokenizer.json` that tokenizes any text, and
//! `tokenizer_config.json` with a ChatML template. Same spec, same bytes.
//!
//! Compiled in every build, not only under `cfg(test)`, so other crates' tests can make
//! checkpoints too.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Map, Value};

use crate::model::{Arch, ModelConfig, Precision};

/// The merges of the tiny tokenizer, in the byte-level alphabet (`Ġ` is a space). As
/// many as fit in `vocab - 259` are used.
const MERGES: [(&str, &str); 10] = [
    ("Ġ", "t"),
    ("h", "e"),
    ("Ġt", "he"),
    ("i", "n"),
    ("e", "r"),
    ("a", "n"),
    ("Ġ", "a"),
    ("o", "n"),
    ("r", "e"),
    ("Ġ", "s"),
];

/// The added tokens, after the byte tokens and merges. Llama-family fixtures use
/// `<|endoftext|>` as their BOS token.
pub const SPECIAL_TOKENS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/// The ChatML template every fixture carries (Llama-family ones prefix `bos_token`).
pub const CHATML_TEMPLATE: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/// What to write.
#[derive(Debug, Clone, PartialEq)]
pub struct TinySpec {
    pub arch: Arch,
    /// Embedding rows. 259 fits the byte tokens and the three special tokens; each row
    /// beyond adds a merge, up to 10; more rows are padding, as real models have. Fewer
    /// than 259 writes a checkpoint whose tokenizer outgrows its embedding.
    pub vocab: usize,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub intermediate: usize,
    /// Written as `head_dim` when set (Qwen3 always writes it, as `hidden / heads` when
    /// unset).
    pub head_dim: Option<usize>,
    pub tie_embeddings: bool,
    pub seed: u64,
    /// Standard deviation of the random weights; norm weights are 1 plus noise of this
    /// size, so a swapped norm changes results.
    pub init_std: f32,
    /// 1 writes `model.safetensors`; 2 or more split the tensors over shards and write
    /// `model.safetensors.index.json`.
    pub shards: usize,
    /// The dtype the weights are stored in.
    pub stored: Precision,
    /// Extra `config.json` fields, written last (for example `attention_bias`,
    /// `rope_scaling`); tensors follow the resulting config.
    pub extra_config: Map<String, Value>,
}

impl TinySpec {
    /// Hidden 32, 2 layers, 4 heads, 2 key/value heads, intermediate 64, 272 rows, untied,
    /// std 0.02, f32, one file.
    pub fn new(arch: Arch) -> TinySpec {
        TinySpec {
            arch,
            vocab: 272,
            hidden: 32,
            layers: 2,
            heads: 4,
            kv_heads: 2,
            intermediate: 64,
            head_dim: None,
            tie_embeddings: false,
            seed: 0,
            init_std: 0.02,
            shards: 1,
            stored: Precision::F32,
            extra_config: Map::new(),
        }
    }

    /// Number of merges the tokenizer gets.
    pub fn merges(&self) -> usize {
        self.vocab
            .saturating_sub(256 + SPECIAL_TOKENS.len())
            .min(MERGES.len())
    }

    /// The id of an added token (`SPECIAL_TOKENS[i]`).
    pub fn special_id(&self, i: usize) -> u32 {
        (256 + self.merges() + i) as u32
    }

    fn llama_like(&self) -> bool {
        matches!(self.arch, Arch::Llama | Arch::Mistral)
    }
}

/// A fresh directory under the system temp dir, removed (with its contents) on drop.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates `<tmp>/dtac-<label>-<pid>-<n>`, unique within and across processes.
    pub fn new(label: &str) -> io::Result<ScratchDir> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("dtac-{label}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(ScratchDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // Best effort: a leftover temp dir is not worth a panic in a test's teardown.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Writes the checkpoint into `dir` (created if needed).
pub fn write_tiny_checkpoint(dir: &Path, spec: &TinySpec) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let config = config_json(spec);
    let text = serde_json::to_string_pretty(&config).map_err(io::Error::other)?;
    std::fs::write(dir.join("config.json"), &text)?;
    let parsed = ModelConfig::parse(&dir.join("config.json"), &text)
        .map_err(|e| io::Error::other(e.to_string()))?;
    write_weights(dir, spec, &parsed)?;
    std::fs::write(dir.join("tokenizer.json"), tokenizer_json(spec).to_string())?;
    std::fs::write(
        dir.join("tokenizer_config.json"),
        tokenizer_config_json(spec).to_string(),
    )
}

fn config_json(spec: &TinySpec) -> Value {
    let im_end = spec.special_id(2);
    let eot = spec.special_id(0);
    let mut c = json!({
        "architectures": [spec.arch.hf_class()],
        "model_type": spec.arch.model_type(),
        "vocab_size": spec.vocab,
        "hidden_size": spec.hidden,
        "intermediate_size": spec.intermediate,
        "num_hidden_layers": spec.layers,
        "num_attention_heads": spec.heads,
        "num_key_value_heads": spec.kv_heads,
        "max_position_embeddings": 512,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "hidden_act": "silu",
        "tie_word_embeddings": spec.tie_embeddings,
        "torch_dtype": match spec.stored { Precision::F32 => "float32", Precision::Bf16 => "bfloat16", Precision::F16 => "float16" },
        "initializer_range": spec.init_std,
        "attention_dropout": 0.0,
        "use_cache": true,
        "rope_scaling": null,
        "transformers_version": "4.51.0",
    });
    let obj = c.as_object_mut().expect("a JSON object literal");
    let mut set = |k: &str, v: Value| {
        obj.insert(k.to_string(), v);
    };
    match spec.arch {
        Arch::Qwen2 | Arch::Qwen3 => {
            set("bos_token_id", json!(eot));
            set("eos_token_id", json!(im_end));
            set("sliding_window", json!(512));
            set("max_window_layers", json!(spec.layers));
            set("use_sliding_window", json!(false));
            if spec.arch == Arch::Qwen3 {
                set(
                    "head_dim",
                    json!(spec.head_dim.unwrap_or(spec.hidden / spec.heads)),
                );
                set("attention_bias", json!(false));
            }
        }
        Arch::Llama | Arch::Mistral => {
            set("bos_token_id", json!(eot));
            set("eos_token_id", json!([eot, im_end]));
            set("head_dim", json!(spec.head_dim));
            if spec.arch == Arch::Llama {
                set("attention_bias", json!(false));
                set("mlp_bias", json!(false));
                set("pretraining_tp", json!(1));
            } else {
                set("sliding_window", Value::Null);
            }
        }
    }
    for (k, v) in &spec.extra_config {
        set(k, v.clone());
    }
    c
}

/// splitmix64: tiny, good enough, and fixed by definition.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Roughly normal: a sum of four uniforms (Irwin-Hall), scaled to unit variance.
    fn normal(&mut self) -> f32 {
        let s: f32 = (0..4).map(|_| self.uniform()).sum();
        (s - 2.0) * 3f32.sqrt()
    }
}

fn write_weights(dir: &Path, spec: &TinySpec, cfg: &ModelConfig) -> io::Result<()> {
    let mut rng = Rng(spec.seed ^ 0x005e_ed0f_d7ac);
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, shape) in crate::model::expected_tensors(cfg) {
        let n: usize = shape.iter().product();
        let is_norm = name.ends_with("norm.weight");
        let values: Vec<f32> = (0..n)
            .map(|_| {
                let x = rng.normal() * spec.init_std;
                if is_norm {
                    1.0 + x
                } else {
                    x
                }
            })
            .collect();
        tensors.push((name, shape, encode(&values, spec.stored)));
    }
    let dtype = match spec.stored {
        Precision::F32 => safetensors::Dtype::F32,
        Precision::Bf16 => safetensors::Dtype::BF16,
        Precision::F16 => safetensors::Dtype::F16,
    };
    let shards = spec.shards.max(1);
    if shards == 1 {
        return write_safetensors(&dir.join("model.safetensors"), dtype, &tensors);
    }
    let per_shard = tensors.len().div_ceil(shards);
    let mut weight_map = Map::new();
    let mut total = 0usize;
    for (i, chunk) in tensors.chunks(per_shard).enumerate() {
        let file = format!("model-{:05}-of-{:05}.safetensors", i + 1, shards);
        for (name, _, bytes) in chunk {
            weight_map.insert(name.clone(), json!(file));
            total += bytes.len();
        }
        write_safetensors(&dir.join(&file), dtype, chunk)?;
    }
    let index = json!({"metadata": {"total_size": total}, "weight_map": weight_map});
    std::fs::write(dir.join(crate::model::INDEX_FILE), index.to_string())
}

fn encode(values: &[f32], stored: Precision) -> Vec<u8> {
    match stored {
        Precision::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        Precision::Bf16 => values
            .iter()
            .flat_map(|v| half::bf16::from_f32(*v).to_le_bytes())
            .collect(),
        Precision::F16 => values
            .iter()
            .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
            .collect(),
    }
}

fn write_safetensors(
    path: &Path,
    dtype: safetensors::Dtype,
    tensors: &[(String, Vec<usize>, Vec<u8>)],
) -> io::Result<()> {
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            safetensors::tensor::TensorView::new(dtype, shape.clone(), bytes)
                .map(|view| (name.as_str(), view))
                .map_err(io::Error::other)
        })
        .collect::<io::Result<Vec<_>>>()?;
    let bytes = safetensors::serialize(views, None).map_err(io::Error::other)?;
    std::fs::write(path, bytes)
}

/// GPT-2's byte-to-character table: printable bytes stand for themselves, the rest are
/// shifted to code points from 256 up, so every byte is a visible character.
fn byte_char(b: u8) -> char {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    if printable(b) {
        return char::from(b);
    }
    let shift = (0..b).filter(|&x| !printable(x)).count() as u32;
    char::from_u32(256 + shift).expect("code points 256..512 are valid")
}

fn tokenizer_json(spec: &TinySpec) -> Value {
    let mut vocab = Map::new();
    for b in 0..=255u8 {
        vocab.insert(byte_char(b).to_string(), json!(b));
    }
    let merges = &MERGES[..spec.merges()];
    for (i, (a, b)) in merges.iter().enumerate() {
        vocab.insert(format!("{a}{b}"), json!(256 + i));
    }
    let added: Vec<Value> = SPECIAL_TOKENS
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"id": spec.special_id(i), "content": t, "single_word": false,
                   "lstrip": false, "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let bos = SPECIAL_TOKENS[0];
    let bos_piece = json!({"SpecialToken": {"id": bos, "type_id": 0}});
    let post_processor = if spec.llama_like() {
        json!({"type": "TemplateProcessing",
               "single": [bos_piece, {"Sequence": {"id": "A", "type_id": 0}}],
               "pair": [bos_piece, {"Sequence": {"id": "A", "type_id": 0}},
                        {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
               "special_tokens": {bos: {"id": bos, "ids": [spec.special_id(0)], "tokens": [bos]}}})
    } else {
        Value::Null
    };
    let byte_level = json!({"type": "ByteLevel", "add_prefix_space": false,
                            "trim_offsets": true, "use_regex": true});
    json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": byte_level,
        "post_processor": post_processor,
        "decoder": byte_level,
        "model": {
            "type": "BPE", "dropout": null, "unk_token": null,
            "continuing_subword_prefix": null, "end_of_word_suffix": null,
            "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": vocab,
            "merges": merges.iter().map(|(a, b)| format!("{a} {b}")).collect::<Vec<_>>(),
        }
    })
}

fn tokenizer_config_json(spec: &TinySpec) -> Value {
    let (bos, template) = if spec.llama_like() {
        (
            json!(SPECIAL_TOKENS[0]),
            format!("{{{{ bos_token }}}}{CHATML_TEMPLATE}"),
        )
    } else {
        (Value::Null, CHATML_TEMPLATE.to_string())
    };
    json!({
        "bos_token": bos,
        "eos_token": SPECIAL_TOKENS[2],
        "pad_token": SPECIAL_TOKENS[0],
        "chat_template": template,
        "model_max_length": 512,
        "tokenizer_class": "PreTrainedTokenizerFast",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_table_is_a_bijection_onto_gpt2_characters() {
        let chars: std::collections::HashSet<char> = (0..=255u8).map(byte_char).collect();
        assert_eq!(chars.len(), 256);
        assert_eq!(byte_char(b' '), 'Ġ');
        assert_eq!(byte_char(b'\n'), 'Ċ');
        assert_eq!(byte_char(b'a'), 'a');
    }
}
