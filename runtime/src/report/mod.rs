//! The run report: `report.json` and a self-contained `report.html` in the state dir, and
//! the summary table printed at the end of a run.

mod cells;
mod curve;
mod date;
mod html;
mod notes;
mod table;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::exec::{ExportResult, Outcome, RunResult, StageSummary};

pub use html::render_html;
pub use table::render_table;

/// Everything a report shows.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub recipe: PathBuf,
    pub dtac_version: String,
    /// Seconds since the Unix epoch when the run started.
    pub started_at: u64,
    pub seconds: f64,
    /// `completed`, `too_many_errors`, `failed`, `interrupted`, `budget`.
    pub outcome: String,
    /// The failure or stop, in words; empty when completed.
    pub message: String,
    /// Stages in execution order.
    pub stages: Vec<StageSummary>,
    pub exports: Vec<ExportResult>,
    /// Dollars spent by this run (cached answers cost nothing).
    pub spent: f64,
}

impl Report {
    pub fn new(recipe: &Path, result: &RunResult, started_at: u64, seconds: f64) -> Report {
        let (outcome, message) = match &result.outcome {
            Outcome::Completed => ("completed", String::new()),
            Outcome::TooManyErrors(stages) => (
                "too_many_errors",
                stages
                    .iter()
                    .map(|(s, rate, max)| {
                        format!(
                            "stage `{s}` lost {:.1}% of its records (max {:.1}%)",
                            rate * 100.0,
                            max * 100.0
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Outcome::Failed(f) => ("failed", format!("stage `{}`: {}", f.stage, f.message)),
            Outcome::Interrupted => ("interrupted", "interrupted; run again to resume".into()),
            Outcome::Budget { spent, budget } => (
                "budget",
                format!("stopped at the budget of ${budget:.2} (${spent:.4} spent)"),
            ),
        };
        Report {
            recipe: recipe.to_path_buf(),
            dtac_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at,
            seconds,
            outcome: outcome.to_string(),
            message,
            stages: result.stages.clone(),
            exports: result.exports.clone(),
            spent: result.spent,
        }
    }

    /// Writes `report.json` and `report.html` into `dir`, atomically.
    pub fn write(&self, dir: &Path) -> std::io::Result<(PathBuf, PathBuf)> {
        let json_path = dir.join("report.json");
        let html_path = dir.join("report.html");
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        crate::exec::write_atomically(&json_path, |out| {
            out.write_all(json.as_bytes())?;
            Ok(0)
        })?;
        let html = render_html(self);
        crate::exec::write_atomically(&html_path, |out| {
            out.write_all(html.as_bytes())?;
            Ok(0)
        })?;
        Ok((json_path, html_path))
    }
}
