//! `inspect`: everything `dtac check` needs to know about a checkpoint directory without
//! loading its weights: the family and sizes from `config.json`, the tokenizer, the chat
//! template, and every tensor's presence, shape and dtype from the safetensors headers.
//! A checkpoint that passes loads (short of running out of memory).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::chat::{ChatError, ChatTemplate, SpecialTokens};
use super::layout::expected_tensors;
use super::tokenizer_config::TokenizerConfig;
use super::weight_index::WeightIndex;
use super::{Arch, CheckpointError, ModelConfig, Tokenizer, VocabFingerprint};

pub const CONFIG_FILE: &str = "config.json";
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// What a checkpoint directory holds, checked.
#[derive(Debug, Clone)]
pub struct CheckpointInfo {
    pub dir: PathBuf,
    pub arch: Arch,
    /// The full decoder description (sizes, RoPE, biases, …).
    pub config: ModelConfig,
    /// Rows of the embedding (`vocab_size` in `config.json`).
    pub vocab_size: usize,
    /// One past the tokenizer's largest id, added tokens included; at most `vocab_size`.
    pub tokenizer_vocab: usize,
    pub hidden_size: usize,
    pub num_layers: usize,
    pub weight_files: Vec<PathBuf>,
    pub tie_word_embeddings: bool,
    /// The default chat template's Jinja source, if the checkpoint has one.
    pub chat_template: Option<String>,
    /// The file the chat template came from.
    pub chat_template_origin: Option<PathBuf>,
    pub special_tokens: SpecialTokens,
    /// The tokenizer's BOS token (`bos_token` in `tokenizer_config.json`; `config.json`'s
    /// `bos_token_id` only when there is no tokenizer config). Qwen has none.
    pub bos_token_id: Option<u32>,
    /// `config.json`'s `eos_token_id` (one or several) and the tokenizer's `eos_token`.
    pub eos_token_ids: Vec<u32>,
    /// The dtype most weight elements are stored in: `bf16`, `f16`, `f32`, ….
    pub weight_dtype: String,
    /// Elements across all stored tensors.
    pub parameter_count: u64,
    fingerprint: VocabFingerprint,
}

impl CheckpointInfo {
    /// The tokenizer vocabulary's fingerprint: equal fingerprints mean every id maps to
    /// the same token string in both checkpoints.
    pub fn vocab_fingerprint(&self) -> VocabFingerprint {
        self.fingerprint
    }

    pub fn tokenizer_path(&self) -> PathBuf {
        self.dir.join(TOKENIZER_FILE)
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join(CONFIG_FILE)
    }

    /// Compiles the checkpoint's chat template, or `override_path` when given.
    pub fn chat_template(&self, override_path: Option<&Path>) -> Result<ChatTemplate, ChatError> {
        let special = self.special_tokens.clone();
        if let Some(path) = override_path {
            return ChatTemplate::from_file(path, special);
        }
        match (&self.chat_template, &self.chat_template_origin) {
            (Some(source), Some(origin)) => ChatTemplate::new(source, origin, special),
            _ => Err(ChatError::NoTemplate {
                dir: self.dir.clone(),
            }),
        }
    }
}

/// Checks a checkpoint directory and describes it; reads headers, never weights.
pub fn inspect(dir: &Path) -> Result<CheckpointInfo, CheckpointError> {
    if !dir.exists() {
        return Err(CheckpointError::DirMissing {
            dir: dir.to_path_buf(),
        });
    }
    if !dir.is_dir() {
        return Err(CheckpointError::NotADirectory {
            dir: dir.to_path_buf(),
        });
    }
    let config_path = dir.join(CONFIG_FILE);
    if !config_path.is_file() {
        return Err(CheckpointError::ConfigMissing { path: config_path });
    }
    let text = std::fs::read_to_string(&config_path).map_err(|source| CheckpointError::Io {
        path: config_path.clone(),
        source,
    })?;
    let config = ModelConfig::parse(&config_path, &text)?;

    let tokenizer_path = dir.join(TOKENIZER_FILE);
    if !tokenizer_path.is_file() {
        return Err(CheckpointError::TokenizerMissing {
            path: tokenizer_path,
        });
    }
    let tokenizer =
        Tokenizer::load(&tokenizer_path).map_err(|e| CheckpointError::TokenizerUnloadable {
            path: tokenizer_path.clone(),
            message: match e {
                super::TokenizerError::Load { message, .. } => message,
                other => other.to_string(),
            },
        })?;
    if tokenizer.vocab_size() > config.vocab_size {
        return Err(CheckpointError::TokenizerLargerThanVocab {
            tokenizer: tokenizer_path,
            tokenizer_vocab: tokenizer.vocab_size(),
            config: config_path,
            vocab_size: config.vocab_size,
        });
    }
    let tok_config = TokenizerConfig::read(dir)?;

    let weights = WeightIndex::read(dir)?;
    check_tensors(&config, &weights)?;

    let token_id = |t: &Option<String>| t.as_deref().and_then(|t| tokenizer.token_id(t));
    let bos_token_id = if tok_config.present {
        token_id(&tok_config.bos_token)
    } else {
        config.bos_token_id
    };
    let mut eos_token_ids = config.eos_token_ids.clone();
    if let Some(id) = token_id(&tok_config.eos_token) {
        if !eos_token_ids.contains(&id) {
            eos_token_ids.push(id);
        }
    }
    let (chat_template, chat_template_origin) = match tok_config.chat_template {
        Some((source, origin)) => (Some(source), Some(origin)),
        None => (None, None),
    };
    let (weight_dtype, parameter_count) = dominant_dtype(&weights);
    Ok(CheckpointInfo {
        dir: dir.to_path_buf(),
        arch: config.arch,
        vocab_size: config.vocab_size,
        tokenizer_vocab: tokenizer.vocab_size(),
        hidden_size: config.hidden_size,
        num_layers: config.num_layers,
        weight_files: weights.files.clone(),
        tie_word_embeddings: config.tie_word_embeddings,
        chat_template,
        chat_template_origin,
        special_tokens: SpecialTokens {
            bos_token: tok_config.bos_token,
            eos_token: tok_config.eos_token,
            unk_token: tok_config.unk_token,
            pad_token: tok_config.pad_token,
        },
        bos_token_id,
        eos_token_ids,
        weight_dtype,
        parameter_count,
        fingerprint: tokenizer.fingerprint(),
        config,
    })
}

/// Every tensor the config implies must be present, float, and of the implied shape.
fn check_tensors(config: &ModelConfig, weights: &WeightIndex) -> Result<(), CheckpointError> {
    use safetensors::Dtype;
    for (name, shape) in expected_tensors(config) {
        let entry = weights
            .tensors
            .get(&name)
            .ok_or_else(|| CheckpointError::TensorMissing {
                name: name.clone(),
                searched: weights.searched(),
            })?;
        if !matches!(
            entry.dtype,
            Dtype::F16 | Dtype::BF16 | Dtype::F32 | Dtype::F64
        ) {
            return Err(CheckpointError::TensorDtype {
                name,
                path: entry.file.clone(),
                dtype: entry.dtype.to_string(),
            });
        }
        if entry.shape != shape {
            return Err(CheckpointError::TensorShape {
                name,
                path: entry.file.clone(),
                found: entry.shape.clone(),
                expected: shape,
            });
        }
    }
    Ok(())
}

/// The dtype holding the most elements, spelled as dtac spells dtypes, and the total
/// element count.
fn dominant_dtype(weights: &WeightIndex) -> (String, u64) {
    let mut by_dtype: HashMap<String, u64> = HashMap::new();
    let mut total = 0u64;
    for entry in weights.tensors.values() {
        let n = entry.shape.iter().product::<usize>() as u64;
        total += n;
        *by_dtype.entry(entry.dtype.to_string()).or_default() += n;
    }
    let name = by_dtype
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .map(|(d, _)| d.to_lowercase())
        .unwrap_or_default();
    (name, total)
}
