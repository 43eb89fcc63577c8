//! What a run tells the person (or program) watching it. The CLI implements this with
//! progress bars on a terminal, JSON lines for `--log-format json`, or nothing.

use std::fmt::Debug;

use crate::exec::StageSummary;

pub trait Observer: Send + Sync + Debug {
    /// A stage starts; `total` is its expected number of input records, when known.
    fn stage_started(&self, _stage: &str, _total: Option<u64>) {}
    /// `n` more input records of `stage` are done.
    fn records_done(&self, _stage: &str, _n: u64) {}
    /// Usage so far of a stage: tokens and dollars.
    fn usage(&self, _stage: &str, _tokens: u64, _cost: f64) {}
    fn stage_finished(&self, _summary: &StageSummary) {}
    /// A stage did not finish (an upstream failure, a stop, too many errors).
    fn stage_failed(&self, _stage: &str, _why: &str) {}
    /// Something worth a line of its own (an export written, a stop requested).
    fn note(&self, _message: &str) {}
    /// A training stage finished optimizer step `progress.step` of `progress.total`.
    fn training(&self, _stage: &str, _progress: &TrainingProgress) {}
}

/// Where a training stage stands, for a progress bar.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainingProgress {
    pub step: u64,
    pub total: u64,
    pub loss: f64,
    pub lr: f64,
    /// Sequence tokens per second over the steps so far.
    pub tokens_per_second: f64,
}

/// Says nothing.
#[derive(Debug, Default)]
pub struct Quiet;

impl Observer for Quiet {}
