//! The Batch API: `/v1/batches` over JSONL files uploaded to `/v1/files`.
//!
//! A batch's lines are answered by the same engine as online requests (rules, faults,
//! attempt counts per key), in the background, and their results land in output and
//! error files in OpenAI's line shape. Passes are kept apart: [`input`] checks the file
//! into requests, [`line`] answers one request, [`run`] drives a batch's states.

pub(crate) mod api;
mod input;
mod line;
mod run;
mod state;
mod store;

pub use state::{BatchStatus, BatchSummary, RequestCounts};
pub(crate) use store::BatchStore;

/// How long a batch takes by default, from creation to its final status.
pub const DEFAULT_BATCH_DELAY: std::time::Duration = std::time::Duration::from_millis(50);
