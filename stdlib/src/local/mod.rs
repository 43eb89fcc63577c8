//! Local models in the stdlib: what `dtac check` verifies about a checkpoint directory,
//! one loaded copy of each model per process, and a scorer that gathers the requests of
//! many records into token-budget batches.
//!
//! Ops see [`LocalScorer`]: they turn a record into a [`ScoreText`] (a context, a target,
//! whether the chat template wraps them) and await the log-probabilities.

pub mod batcher;
pub mod checkpoints;
pub mod generate;
pub mod loaded;
pub mod text;

pub use batcher::LocalScorer;
pub use loaded::loaded;
pub use text::ScoreText;
