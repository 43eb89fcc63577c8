//! What a stage did: counts, drops by reason, errors, usage and time. Stored with the
//! stage (a cached stage reports what it did when it ran) and shown at the end of a run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::llm::UsageStats;
use crate::op::{DropNote, ReportCurve, ReportTable};

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct StageSummary {
    pub name: String,
    pub op: String,
    /// Records read from the first input (for sources: records read from the file).
    pub records_in: u64,
    pub records_out: u64,
    /// Records the op dropped on purpose, by reason ("wrong answer").
    pub dropped: BTreeMap<String, u64>,
    /// Why particular records were dropped (up to `op::MAX_DROP_NOTES`).
    #[serde(default)]
    pub drop_notes: Vec<DropNote>,
    /// Tables the op added to the report.
    #[serde(default)]
    pub tables: Vec<ReportTable>,
    /// Line charts the op added to the report (training curves).
    #[serde(default)]
    pub curves: Vec<ReportCurve>,
    /// Records lost to errors.
    pub errors: u64,
    /// A few of the errors, for the report: `(record id, message)`.
    pub error_samples: Vec<(String, String)>,
    /// Usage by teacher.
    pub usage: BTreeMap<String, UsageStats>,
    pub seconds: f64,
    /// Answered entirely from the store (nothing ran).
    #[serde(default)]
    pub cached: bool,
    /// Numeric fields this stage added or changed, each with its values' histogram.
    #[serde(default)]
    pub scores: BTreeMap<String, Histogram>,
}

impl StageSummary {
    pub fn error_rate(&self) -> f64 {
        if self.records_in == 0 {
            0.0
        } else {
            self.errors as f64 / self.records_in as f64
        }
    }

    pub fn requests(&self) -> u64 {
        self.usage.values().map(|u| u.requests).sum()
    }

    pub fn cached_requests(&self) -> u64 {
        self.usage.values().map(|u| u.cached).sum()
    }

    pub fn tokens(&self) -> u64 {
        self.usage
            .values()
            .map(|u| u.prompt_tokens + u.completion_tokens)
            .sum()
    }

    pub fn cost(&self) -> f64 {
        self.usage.values().map(|u| u.cost).sum()
    }
}

/// A fixed 20-bin histogram between the observed min and max.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Histogram {
    pub min: f64,
    pub max: f64,
    pub count: u64,
    pub sum: f64,
    pub bins: Vec<u64>,
    #[serde(skip)]
    values: Vec<f64>,
}

const BINS: usize = 20;
/// Values kept to build the histogram at the end; beyond this, later values only update
/// the count, sum and range.
const MAX_KEPT: usize = 100_000;

impl Histogram {
    pub fn add(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        if self.count == 0 {
            self.min = v;
            self.max = v;
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.count += 1;
        self.sum += v;
        if self.values.len() < MAX_KEPT {
            self.values.push(v);
        }
    }

    /// Fills `bins` from the values seen.
    pub fn finish(&mut self) {
        self.bins = vec![0; BINS];
        let width = (self.max - self.min) / BINS as f64;
        for &v in &self.values {
            let i = if width > 0.0 {
                (((v - self.min) / width) as usize).min(BINS - 1)
            } else {
                0
            };
            self.bins[i] += 1;
        }
        self.values.clear();
    }
}
