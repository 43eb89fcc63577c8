//! Training a student in-process (issue 7): a differentiable copy of the decoder with
//! full fine-tuning or LoRA, the objectives' fused loss and gradient through a chunked LM
//! head, AdamW with warm-up and decay, gradient accumulation and clipping, checkpoints in
//! the Hugging Face layout, and resume from the newest checkpoint.

mod adamw;
pub mod checkpoint;
mod cross_entropy;
mod example;
mod head;
mod layers;
mod lora;
mod prng;
mod schedule;
mod student;
mod trainer;

use std::path::{Path, PathBuf};

pub use adamw::{clip_factor, AdamW, AdamWConfig};
/// Re-exported so callers choose precisions without depending on candle.
pub use candle_core::DType;
pub use cross_entropy::cross_entropy_rows;
pub use example::{make_batch, Batch, BatchTeacher, Example, ExampleTeacher};
pub use head::{head_loss, HeadOutput, HeadTeacher};
pub use lora::{LoraConfig, LORA_MODULES};
pub use prng::Prng;
pub use schedule::{Decay, Schedule};
pub use student::{Param, TrainableModel, Tuning};
pub use trainer::{
    evaluate, gradients, read_log, train, Event, Outcome, Run, StepLog, TrainConfig,
};

use crate::model::{CheckpointInfo, DeviceSpec, ModelError};

/// Why training could not go on, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("training example {index}: {message}")]
    Example { index: usize, message: String },
    #[error("there is nothing to train on: no example has a trained token")]
    NoData,
    #[error("{0}")]
    Setting(String),
    #[error("the checkpoint `{path}` cannot be used: {message}")]
    Checkpoint { path: PathBuf, message: String },
    #[error("cannot write `{path}`: {message}")]
    Io { path: PathBuf, message: String },
    #[error("training stopped after step {step} (a checkpoint was saved; run again to resume)")]
    Stopped { step: u64 },
    #[error("a training computation failed: {0}")]
    Compute(#[from] candle_core::Error),
}

impl TrainError {
    pub(crate) fn io(path: &Path, e: std::io::Error) -> TrainError {
        TrainError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}

/// Loads a checkpoint as a trainable model: f32 master weights on `device`, computing in
/// `compute` (f32, or bf16/f16 for mixed precision).
pub fn load_trainable(
    info: &CheckpointInfo,
    device: &DeviceSpec,
    tuning: Tuning,
    compute: candle_core::DType,
    seed: u64,
) -> Result<TrainableModel, TrainError> {
    if let Tuning::Lora(cfg) = &tuning {
        cfg.validate().map_err(TrainError::Setting)?;
    }
    let device = device.resolve().map_err(ModelError::from)?;
    let tensors = crate::model::weights::load_weights(info, candle_core::DType::F32, &device)?;
    Ok(TrainableModel::new(
        &info.config,
        tensors,
        tuning,
        compute,
        seed,
    )?)
}
