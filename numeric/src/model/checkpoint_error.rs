//! What can be wrong with a checkpoint directory, found by [`inspect`](super::inspect)
//! without loading a single weight. Every message names the file at fault; every
//! [`help`](CheckpointError::help) says what to do about it.

use std::path::PathBuf;

/// A checkpoint directory that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("the checkpoint directory `{dir}` does not exist")]
    DirMissing { dir: PathBuf },
    #[error("the checkpoint path `{dir}` is not a directory")]
    NotADirectory { dir: PathBuf },
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the checkpoint has no `config.json` (looked for `{path}`)")]
    ConfigMissing { path: PathBuf },
    #[error("`{path}` is not valid JSON: {message}")]
    ConfigInvalidJson { path: PathBuf, message: String },
    #[error("`{path}` lacks {}", list_fields(.fields))]
    ConfigMissingFields { path: PathBuf, fields: Vec<String> },
    #[error("`{path}`: `{field}` {message}")]
    ConfigBadField {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error(
        "`{path}` describes a `{found}` model, which dtac cannot run (supported: {supported})"
    )]
    UnsupportedArchitecture {
        path: PathBuf,
        found: String,
        supported: String,
    },
    #[error("`{path}`: {setting} is not supported: {reason}")]
    UnsupportedSetting {
        path: PathBuf,
        setting: String,
        reason: String,
    },
    #[error("the checkpoint has no `tokenizer.json` (looked for `{path}`)")]
    TokenizerMissing { path: PathBuf },
    #[error("the tokenizer `{path}` cannot be loaded: {message}")]
    TokenizerUnloadable { path: PathBuf, message: String },
    #[error("`{path}` is not a usable tokenizer config: {message}")]
    TokenizerConfigInvalid { path: PathBuf, message: String },
    #[error("the checkpoint directory `{dir}` has no `*.safetensors` weight files")]
    NoWeights { dir: PathBuf },
    #[error("the shard index `{path}` is invalid: {message}")]
    IndexInvalid { path: PathBuf, message: String },
    #[error("the shard index `{index}` names `{shard}`, which is not in the directory")]
    ShardMissing { index: PathBuf, shard: String },
    #[error("the safetensors header of `{path}` does not parse: {message}")]
    HeaderInvalid { path: PathBuf, message: String },
    #[error("the weights lack the tensor `{name}` (searched {searched})")]
    TensorMissing { name: String, searched: String },
    #[error(
        "the tensor `{name}` in `{path}` has shape {found:?}, but `config.json` implies {expected:?}"
    )]
    TensorShape {
        name: String,
        path: PathBuf,
        found: Vec<usize>,
        expected: Vec<usize>,
    },
    #[error("the tensor `{name}` in `{path}` is stored as `{dtype}`, which is not a float type")]
    TensorDtype {
        name: String,
        path: PathBuf,
        dtype: String,
    },
    #[error(
        "the tokenizer `{tokenizer}` has ids up to {}, but the model's embedding has only \
         {vocab_size} rows (`vocab_size` in `{config}`)",
        .tokenizer_vocab.saturating_sub(1)
    )]
    TokenizerLargerThanVocab {
        tokenizer: PathBuf,
        tokenizer_vocab: usize,
        config: PathBuf,
        vocab_size: usize,
    },
}

fn list_fields(fields: &[String]) -> String {
    let names: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
    match names.len() {
        1 => format!("the field {}", names[0]),
        _ => format!("the fields {}", names.join(", ")),
    }
}

impl CheckpointError {
    /// How to fix it, in a sentence.
    pub fn help(&self) -> String {
        use CheckpointError::*;
        match self {
            DirMissing { dir } => format!(
                "download the checkpoint there first (`huggingface-cli download ORG/MODEL \
                 --local-dir {}`), or point `path` at the directory holding `config.json`, \
                 `tokenizer.json` and the `*.safetensors` files; a relative path starts at \
                 the recipe's directory",
                dir.display()
            ),
            NotADirectory { .. } => {
                "point `path` at the directory holding `config.json`, `tokenizer.json` and the \
                 `*.safetensors` files (a Hugging Face snapshot directory)"
                    .into()
            }
            Io { .. } => "check that the file exists and is readable".into(),
            ConfigMissing { .. } => {
                "download the checkpoint's `config.json` into the directory (for example with \
                 `huggingface-cli download <repo> config.json --local-dir <dir>`)"
                    .into()
            }
            ConfigInvalidJson { .. } | ConfigMissingFields { .. } | ConfigBadField { .. } => {
                "re-download `config.json` from the model's Hugging Face repository; a config \
                 written by `transformers` has every field dtac reads"
                    .into()
            }
            UnsupportedArchitecture { .. } => {
                "use a Qwen2, Qwen3, Llama or Mistral checkpoint, or score with a teacher \
                 endpoint instead"
                    .into()
            }
            UnsupportedSetting { .. } => {
                "use a checkpoint without this setting, or score with a teacher endpoint".into()
            }
            TokenizerMissing { .. } | TokenizerUnloadable { .. } => {
                "download the checkpoint's `tokenizer.json` (a fast tokenizer); checkpoints with \
                 only `tokenizer.model` or `vocab.json` can be converted by loading them with \
                 `transformers.AutoTokenizer` and calling `save_pretrained`"
                    .into()
            }
            TokenizerConfigInvalid { .. } => {
                "re-download `tokenizer_config.json`, or delete it if the model needs no chat \
                 template"
                    .into()
            }
            NoWeights { .. } => {
                "download the `*.safetensors` files; `.bin` and `.pt` weights must be converted \
                 to safetensors first"
                    .into()
            }
            IndexInvalid { .. } | ShardMissing { .. } => {
                "download every shard listed in `model.safetensors.index.json` (an interrupted \
                 download leaves some out)"
                    .into()
            }
            HeaderInvalid { .. } => {
                "the file is truncated or corrupt: download it again and compare its size with \
                 the repository's"
                    .into()
            }
            TensorMissing { name, .. } if name == "lm_head.weight" => {
                "if the model shares its input embedding with the output layer, set \
                 `\"tie_word_embeddings\": true` in `config.json`; otherwise a shard is missing"
                    .into()
            }
            TensorMissing { .. } | TensorShape { .. } | TensorDtype { .. } => {
                "the weights and `config.json` come from different models, or the weights are \
                 quantized: use an unquantized checkpoint whose files all come from one snapshot"
                    .into()
            }
            TokenizerLargerThanVocab { .. } => {
                "the tokenizer belongs to another model: use the `tokenizer.json` from the same \
                 checkpoint"
                    .into()
            }
        }
    }
}
