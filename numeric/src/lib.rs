//! dtac's numeric core, on candle: local Hugging Face checkpoints (Qwen2, Qwen3, Llama),
//! teacher-forced log-probability scoring, and the distillation objectives of METHODS.md
//! §5 as fused CPU ops with a composed-op reference beside them.
//!
//! Nothing here knows about recipes: the stdlib ops and the CLI call into it.

pub mod fixtures;
pub mod model;
pub mod objectives;
pub mod train;

/// candle itself, for callers that hand tensors to the numeric core without depending on
/// candle directly (one version across the workspace).
pub use candle_core as candle;
