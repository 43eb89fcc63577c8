//! How a run shows progress: a bar per running stage on a terminal, one JSON object per
//! event with `--log-format json`, or a line per finished stage otherwise.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use dtac_runtime::exec::StageSummary;
use dtac_runtime::progress::{Observer, TrainingProgress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

/// Progress bars on stderr.
#[derive(Debug)]
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    pub fn new() -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn bar(&self, stage: &str) -> Option<ProgressBar> {
        self.bars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(stage)
            .cloned()
    }
}

impl Observer for Bars {
    fn stage_started(&self, stage: &str, total: Option<u64>) {
        let bar = match total {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::no_length(),
        };
        let bar = self.multi.add(bar);
        let template = if total.is_some() {
            "{prefix:>16} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}"
        } else {
            "{prefix:>16} {spinner} {pos} records {per_sec} {msg}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(stage.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(stage.to_string(), bar);
    }

    fn records_done(&self, stage: &str, n: u64) {
        if let Some(bar) = self.bar(stage) {
            bar.inc(n);
        }
    }

    fn usage(&self, stage: &str, tokens: u64, cost: f64) {
        if let Some(bar) = self.bar(stage) {
            bar.set_message(format!("{tokens} tokens ${cost:.4}"));
        }
    }

    fn stage_finished(&self, summary: &StageSummary) {
        if let Some(bar) = self.bar(&summary.name) {
            let how = if summary.cached { "cached" } else { "done" };
            bar.finish_with_message(format!(
                "{how}: {} out, {} tokens, ${:.4}",
                summary.records_out,
                summary.tokens(),
                summary.cost()
            ));
        }
    }

    fn stage_failed(&self, stage: &str, why: &str) {
        match self.bar(stage) {
            Some(bar) => bar.abandon_with_message(format!("not finished: {why}")),
            None => {
                let _ = self.multi.println(format!("{stage}: not run ({why})"));
            }
        }
    }

    fn note(&self, message: &str) {
        let _ = self.multi.println(message);
    }

    fn training(&self, stage: &str, p: &TrainingProgress) {
        if let Some(bar) = self.bar(stage) {
            // The stage's bar counts records until training starts, then optimizer steps.
            if bar.length() != Some(p.total) {
                bar.set_length(p.total);
                if let Ok(style) = ProgressStyle::with_template(
                    "{prefix:>16} [{bar:30}] step {pos}/{len} eta {eta} {msg}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
            }
            bar.set_position(p.step);
            bar.set_message(format!(
                "loss {:.4} lr {:.2e} {:.0} tok/s",
                p.loss, p.lr, p.tokens_per_second
            ));
        }
    }
}

/// One line per finished stage, for logs that are not a terminal.
#[derive(Debug, Default)]
pub struct Lines;

impl Observer for Lines {
    fn stage_finished(&self, s: &StageSummary) {
        let how = if s.cached { " (cached)" } else { "" };
        eprintln!(
            "{}: {} in, {} out{how}, {} errors, {:.1}s",
            s.name, s.records_in, s.records_out, s.errors, s.seconds
        );
    }

    fn stage_failed(&self, stage: &str, why: &str) {
        eprintln!("{stage}: not finished ({why})");
    }

    fn note(&self, message: &str) {
        eprintln!("{message}");
    }

    fn training(&self, stage: &str, p: &TrainingProgress) {
        // About twenty lines per run, and always the last step.
        if p.step == p.total || p.step.is_multiple_of((p.total / 20).max(1)) {
            eprintln!(
                "{stage}: step {}/{} loss {:.4} lr {:.2e} {:.0} tok/s",
                p.step, p.total, p.loss, p.lr, p.tokens_per_second
            );
        }
    }
}

/// One JSON object per event on stdout (`--log-format json`).
#[derive(Debug, Default)]
pub struct JsonLog;

fn emit(value: serde_json::Value) {
    println!("{value}");
}

impl Observer for JsonLog {
    fn stage_started(&self, stage: &str, total: Option<u64>) {
        emit(json!({"event": "stage_started", "stage": stage, "total": total}));
    }

    fn stage_finished(&self, s: &StageSummary) {
        emit(json!({"event": "stage_finished", "summary": s}));
    }

    fn stage_failed(&self, stage: &str, why: &str) {
        emit(json!({"event": "stage_failed", "stage": stage, "why": why}));
    }

    fn note(&self, message: &str) {
        emit(json!({"event": "note", "message": message}));
    }

    fn training(&self, stage: &str, p: &TrainingProgress) {
        emit(json!({
            "event": "training_step", "stage": stage, "step": p.step, "total": p.total,
            "loss": p.loss, "lr": p.lr, "tokens_per_second": p.tokens_per_second,
        }));
    }
}
