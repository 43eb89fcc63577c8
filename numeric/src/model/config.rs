//! `config.json`, read into the one decoder description dtac runs: which family the
//! checkpoint is, its sizes, and the few switches that tell the families apart.
//!
//! Defaults follow `transformers`' config classes, so a config that leaves a field out
//! means here what it means there (for example Qwen3's `head_dim` defaults to 128, and
//! `tie_word_embeddings` to false for all four families).

use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};

use super::CheckpointError;

/// A model family dtac can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    Qwen2,
    Qwen3,
    Llama,
    Mistral,
}

impl Arch {
    pub const ALL: [Arch; 4] = [Arch::Qwen2, Arch::Qwen3, Arch::Llama, Arch::Mistral];

    /// The `architectures` entry `transformers` writes.
    pub fn hf_class(&self) -> &'static str {
        match self {
            Arch::Qwen2 => "Qwen2ForCausalLM",
            Arch::Qwen3 => "Qwen3ForCausalLM",
            Arch::Llama => "LlamaForCausalLM",
            Arch::Mistral => "MistralForCausalLM",
        }
    }

    /// The `model_type` `transformers` writes.
    pub fn model_type(&self) -> &'static str {
        match self {
            Arch::Qwen2 => "qwen2",
            Arch::Qwen3 => "qwen3",
            Arch::Llama => "llama",
            Arch::Mistral => "mistral",
        }
    }

    fn supported_list() -> String {
        let names: Vec<String> = Arch::ALL
            .iter()
            .map(|a| format!("`{}`", a.hf_class()))
            .collect();
        names.join(", ")
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.model_type())
    }
}

/// How rotary position frequencies are derived from `rope_theta`.
#[derive(Debug, Clone, PartialEq)]
pub enum RopeScaling {
    /// Plain RoPE.
    None,
    /// `"linear"`: positions divided by `factor`.
    Linear { factor: f64 },
    /// `"llama3"`: long wavelengths stretched by `factor`, short ones kept, a smooth ramp
    /// between (Llama 3.1 and later).
    Llama3 {
        factor: f64,
        low_freq_factor: f64,
        high_freq_factor: f64,
        original_max_position_embeddings: f64,
    },
}

/// The decoder a checkpoint describes. All four families are the same pre-norm
/// transformer (RMSNorm, RoPE, grouped-query attention, SwiGLU); these fields are where
/// they differ.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    pub arch: Arch,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub rope_scaling: RopeScaling,
    pub tie_word_embeddings: bool,
    /// Bias on the q, k and v projections (Qwen2 always; Llama/Qwen3 with `attention_bias`).
    pub qkv_bias: bool,
    /// Bias on the output projection (Llama/Qwen3 with `attention_bias`).
    pub o_bias: bool,
    /// Bias on the MLP projections (Llama's `mlp_bias`).
    pub mlp_bias: bool,
    /// Per-head RMSNorm of queries and keys before RoPE (Qwen3).
    pub qk_norm: bool,
    /// Mistral's sliding window: a sequence longer than this is refused at scoring time,
    /// since the window is not implemented (shorter sequences are unaffected by it).
    pub sliding_window: Option<usize>,
    pub bos_token_id: Option<u32>,
    pub eos_token_ids: Vec<u32>,
    /// `torch_dtype` (or `dtype`), as written.
    pub torch_dtype: Option<String>,
}

/// Reads fields out of the parsed JSON, collecting every missing one so a user learns
/// them all at once.
struct Fields<'a> {
    path: &'a Path,
    obj: &'a Map<String, Value>,
    missing: Vec<String>,
}

impl<'a> Fields<'a> {
    fn bad(&self, field: &str, message: &str) -> CheckpointError {
        CheckpointError::ConfigBadField {
            path: self.path.to_path_buf(),
            field: field.to_string(),
            message: message.to_string(),
        }
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.obj.get(field).filter(|v| !v.is_null())
    }

    /// A required positive integer; 0 stands in until the missing list is reported.
    fn usize(&mut self, field: &str) -> Result<usize, CheckpointError> {
        match self.opt_usize(field)? {
            Some(v) => Ok(v),
            None => {
                self.missing.push(field.to_string());
                Ok(0)
            }
        }
    }

    fn opt_usize(&self, field: &str) -> Result<Option<usize>, CheckpointError> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if n > 0 => Ok(Some(n as usize)),
                _ => Err(self.bad(field, &format!("must be a positive integer, found `{v}`"))),
            },
        }
    }

    fn f64_or(&self, field: &str, default: f64) -> Result<f64, CheckpointError> {
        match self.get(field) {
            None => Ok(default),
            Some(v) => match v.as_f64() {
                Some(x) if x > 0.0 && x.is_finite() => Ok(x),
                _ => Err(self.bad(field, &format!("must be a positive number, found `{v}`"))),
            },
        }
    }

    fn bool_or(&self, field: &str, default: bool) -> Result<bool, CheckpointError> {
        match self.get(field) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(self.bad(field, &format!("must be true or false, found `{v}`"))),
        }
    }

    fn token_ids(&self, field: &str) -> Result<Vec<u32>, CheckpointError> {
        let one = |v: &Value| v.as_u64().and_then(|n| u32::try_from(n).ok());
        match self.get(field) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| one(v).ok_or_else(|| self.bad(field, "must list token ids")))
                .collect(),
            Some(v) => one(v)
                .map(|id| vec![id])
                .ok_or_else(|| self.bad(field, "must be a token id or a list of them")),
        }
    }
}

/// Which family `config.json` describes: `architectures` first, `model_type` when that
/// is absent.
fn detect_arch(path: &Path, obj: &Map<String, Value>) -> Result<Arch, CheckpointError> {
    let unsupported = |found: String| CheckpointError::UnsupportedArchitecture {
        path: path.to_path_buf(),
        found,
        supported: Arch::supported_list(),
    };
    if let Some(Value::Array(classes)) = obj.get("architectures") {
        let names: Vec<&str> = classes.iter().filter_map(Value::as_str).collect();
        for name in &names {
            if let Some(arch) = Arch::ALL.iter().find(|a| a.hf_class() == *name) {
                return Ok(*arch);
            }
        }
        if !names.is_empty() {
            return Err(unsupported(names.join(", ")));
        }
    }
    match obj.get("model_type").and_then(Value::as_str) {
        Some(t) => Arch::ALL
            .iter()
            .find(|a| a.model_type() == t)
            .copied()
            .ok_or_else(|| unsupported(t.to_string())),
        None => Err(CheckpointError::ConfigMissingFields {
            path: path.to_path_buf(),
            fields: vec!["architectures".into(), "model_type".into()],
        }),
    }
}

impl ModelConfig {
    /// Parses `config.json`'s text; `path` is only for messages.
    pub fn parse(path: &Path, text: &str) -> Result<ModelConfig, CheckpointError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| CheckpointError::ConfigInvalidJson {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        let Value::Object(obj) = &value else {
            return Err(CheckpointError::ConfigInvalidJson {
                path: path.to_path_buf(),
                message: "the top level is not an object".into(),
            });
        };
        let arch = detect_arch(path, obj)?;
        let mut f = Fields {
            path,
            obj,
            missing: Vec::new(),
        };
        let vocab_size = f.usize("vocab_size")?;
        let hidden_size = f.usize("hidden_size")?;
        let intermediate_size = f.usize("intermediate_size")?;
        let num_layers = f.usize("num_hidden_layers")?;
        let num_heads = f.usize("num_attention_heads")?;
        let rms_norm_eps = f.f64_or("rms_norm_eps", 1e-6)?;
        if !f.missing.is_empty() {
            return Err(CheckpointError::ConfigMissingFields {
                path: path.to_path_buf(),
                fields: f.missing,
            });
        }
        let num_kv_heads = f.opt_usize("num_key_value_heads")?.unwrap_or(num_heads);
        let head_dim = match (arch, f.opt_usize("head_dim")?) {
            (Arch::Qwen2, _) => hidden_size / num_heads,
            (_, Some(d)) => d,
            (Arch::Qwen3, None) => 128,
            (_, None) => hidden_size / num_heads,
        };
        if num_heads % num_kv_heads != 0 {
            return Err(f.bad(
                "num_key_value_heads",
                &format!("({num_kv_heads}) must divide `num_attention_heads` ({num_heads})"),
            ));
        }
        if head_dim == 0 || head_dim % 2 != 0 {
            return Err(f.bad(
                "head_dim",
                &format!("must be even and positive for rotary embeddings, found {head_dim}"),
            ));
        }
        let act = f
            .get("hidden_act")
            .and_then(Value::as_str)
            .unwrap_or("silu");
        if act != "silu" && act != "swish" {
            return Err(unsupported(
                path,
                "`hidden_act`",
                &format!("`{act}` (only `silu`)"),
            ));
        }
        let sliding = f.bool_or("use_sliding_window", false)?;
        if matches!(arch, Arch::Qwen2 | Arch::Qwen3) && sliding {
            return Err(unsupported(
                path,
                "`use_sliding_window: true`",
                "dtac implements full attention only",
            ));
        }
        let attention_bias = f.bool_or("attention_bias", false)?;
        let (qkv_bias, o_bias) = match arch {
            Arch::Qwen2 => (true, false),
            Arch::Mistral => (false, false),
            Arch::Llama | Arch::Qwen3 => (attention_bias, attention_bias),
        };
        Ok(ModelConfig {
            arch,
            vocab_size,
            hidden_size,
            intermediate_size,
            num_layers,
            num_heads,
            num_kv_heads,
            head_dim,
            rms_norm_eps,
            rope_theta: f.f64_or("rope_theta", 10_000.0)?,
            rope_scaling: parse_rope_scaling(path, f.get("rope_scaling"))?,
            tie_word_embeddings: f.bool_or("tie_word_embeddings", false)?,
            qkv_bias,
            o_bias,
            mlp_bias: arch == Arch::Llama && f.bool_or("mlp_bias", false)?,
            qk_norm: arch == Arch::Qwen3,
            sliding_window: match arch {
                Arch::Mistral => f.opt_usize("sliding_window")?,
                _ => None,
            },
            bos_token_id: f.token_ids("bos_token_id")?.first().copied(),
            eos_token_ids: f.token_ids("eos_token_id")?,
            torch_dtype: f
                .get("torch_dtype")
                .or_else(|| f.get("dtype"))
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }
}

fn unsupported(path: &Path, setting: &str, reason: &str) -> CheckpointError {
    CheckpointError::UnsupportedSetting {
        path: path.to_path_buf(),
        setting: setting.to_string(),
        reason: reason.to_string(),
    }
}

/// `rope_scaling`: null, or an object whose `rope_type` (older configs: `type`) is
/// `default`, `linear` or `llama3`. Other kinds (yarn, dynamic, longrope) change results
/// in ways dtac does not reproduce, so they are refused rather than ignored.
fn parse_rope_scaling(path: &Path, value: Option<&Value>) -> Result<RopeScaling, CheckpointError> {
    let Some(value) = value else {
        return Ok(RopeScaling::None);
    };
    let Some(obj) = value.as_object() else {
        return Err(unsupported(
            path,
            "`rope_scaling`",
            "it must be an object or null",
        ));
    };
    let kind = obj
        .get("rope_type")
        .or_else(|| obj.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("default");
    let num = |key: &str| -> Result<f64, CheckpointError> {
        obj.get(key).and_then(Value::as_f64).ok_or_else(|| {
            unsupported(
                path,
                &format!("`rope_scaling` of type `{kind}`"),
                &format!("the number `{key}` is missing"),
            )
        })
    };
    match kind {
        "default" => Ok(RopeScaling::None),
        "linear" => Ok(RopeScaling::Linear {
            factor: num("factor")?,
        }),
        "llama3" => Ok(RopeScaling::Llama3 {
            factor: num("factor")?,
            low_freq_factor: num("low_freq_factor")?,
            high_freq_factor: num("high_freq_factor")?,
            original_max_position_embeddings: num("original_max_position_embeddings")?,
        }),
        other => Err(unsupported(
            path,
            &format!("`rope_scaling` of type `{other}`"),
            "dtac implements `default`, `linear` and `llama3`",
        )),
    }
}
