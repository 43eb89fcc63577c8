//! Local checkpoints: inspection for `dtac check`, loading, tokenizers, scoring.
//!
//! A checkpoint is a Hugging Face snapshot directory: `config.json`, `tokenizer.json`,
//! `*.safetensors` (optionally sharded with `model.safetensors.index.json`) and usually
//! `tokenizer_config.json` with a chat template. [`inspect`] checks one from its headers
//! alone; [`LocalModel::load`] reads the weights and [`LocalModel::score`] computes
//! teacher-forced log-probabilities in batches.

pub(crate) mod attention;
mod batching;
mod chat;
mod chat_python;
mod checkpoint_error;
mod config;
mod decoder;
mod device;
mod error;
mod fingerprint;
mod generate;
mod inspect;
pub(crate) mod layout;
mod lm_head;
mod local;
pub(crate) mod rope;
mod sampling;
mod score;
mod tokenizer;
mod tokenizer_config;
mod weight_index;
pub(crate) mod weights;

pub use chat::{ChatError, ChatMessage, ChatTemplate, SpecialTokens};
pub use checkpoint_error::CheckpointError;
pub use config::{Arch, ModelConfig, RopeScaling};
pub use device::{DeviceError, DeviceSpec, Precision};
pub use error::ModelError;
pub use fingerprint::VocabFingerprint;
pub use generate::{Finish, Generation};
pub use inspect::{inspect, CheckpointInfo, CONFIG_FILE, TOKENIZER_FILE};
pub use layout::expected_tensors;
pub use local::LocalModel;
pub use sampling::{argmax, candidates, next_token, Sampling};
pub use score::{mean_log_prob, ScoreItem};
pub use tokenizer::{Tokenizer, TokenizerError};
pub use weight_index::INDEX_FILE;
