//! Errors of loading a model and running it.

use std::path::PathBuf;

use super::{ChatError, CheckpointError, DeviceError, TokenizerError};

/// Loading or running a local model failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error(transparent)]
    Chat(#[from] ChatError),
    #[error("cannot read the weights `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the weights `{path}` cannot be loaded: {message}")]
    Weights { path: PathBuf, message: String },
    #[error("{during} failed: {message}")]
    Compute { during: String, message: String },
    #[error(
        "item {item} holds the token id {token}, but the model's vocabulary has {vocab_size} ids"
    )]
    TokenOutOfRange {
        item: usize,
        token: u32,
        vocab_size: usize,
    },
    #[error(
        "item {item} is {len} tokens long, more than the model's sliding window of {window}, \
         which dtac does not implement"
    )]
    BeyondSlidingWindow {
        item: usize,
        len: usize,
        window: usize,
    },
    #[error("{what} needs at least one token")]
    EmptySequence { what: &'static str },
    #[error("{rows} hidden-state rows were given for {targets} target tokens")]
    TargetCount { rows: usize, targets: usize },
}

impl ModelError {
    /// How to fix it, in a sentence.
    pub fn help(&self) -> String {
        match self {
            ModelError::Checkpoint(e) => e.help(),
            ModelError::Device(e) => e.help(),
            ModelError::Tokenizer(e) => e.help(),
            ModelError::Chat(e) => e.help(),
            ModelError::Read { .. } | ModelError::Weights { .. } => {
                "run `dtac check` on the recipe: it inspects the checkpoint's files; a file \
                 changed since, or memory ran out"
                    .into()
            }
            ModelError::Compute { .. } => {
                "lower the batch budget, use `dtype = \"f32\"`, or report the message as a bug"
                    .into()
            }
            ModelError::TokenOutOfRange { .. } => {
                "tokenize with this model's own tokenizer (a teacher's ids may not fit the \
                 student)"
                    .into()
            }
            ModelError::BeyondSlidingWindow { .. } => {
                "shorten the text, or use a model without a sliding window".into()
            }
            ModelError::EmptySequence { .. } | ModelError::TargetCount { .. } => {
                "this is a bug in the caller: report it".into()
            }
        }
    }

    /// Wraps a candle error with what was being done.
    pub(crate) fn compute(
        during: impl Into<String>,
    ) -> impl FnOnce(candle_core::Error) -> ModelError {
        let during = during.into();
        move |e| ModelError::Compute {
            during,
            message: e.to_string(),
        }
    }
}
