//! The executor: every dataset and stage is a tokio task; a stage's first input streams
//! to it through a bounded channel, so a downstream stage starts on the first record and
//! memory stays bounded; other inputs are read complete from the store (see `feed`).
//! Exports are written, atomically, once every stage has finished.

mod emit;
mod export;
mod feed;
mod stage;
pub mod summary;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use dtac_interpreter::resolve::Recipe;

use crate::keys::StageKey;
use crate::llm::Gateway;
use crate::op::{Exporter, StageImpl};
use crate::progress::Observer;
use crate::stop::{Stop, StopReason};
use crate::store::Store;

pub use export::{write_atomically, ExportResult};
pub use summary::{Histogram, StageSummary};

/// A node's state as its consumers see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Running,
    Done,
    Failed,
}

/// The first fatal problem of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub stage: String,
    pub message: String,
    pub help: String,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Completed,
    /// Stages that lost more records than their `max_error_rate`: `(stage, rate, max)`.
    TooManyErrors(Vec<(String, f64, f64)>),
    Failed(Failure),
    /// SIGINT or SIGTERM: what arrived is stored; `dtac run` again resumes.
    Interrupted,
    Budget {
        spent: f64,
        budget: f64,
    },
}

#[derive(Debug)]
pub struct RunResult {
    pub stages: Vec<StageSummary>,
    pub outcome: Outcome,
    pub exports: Vec<ExportResult>,
    pub spent: f64,
}

/// Everything the stage tasks share.
#[derive(Debug)]
pub struct Run {
    pub recipe: Arc<Recipe>,
    /// Identifies the recipe in the store (its canonical path), for "what changed".
    pub recipe_id: String,
    pub store: Store,
    pub gateway: Arc<Gateway>,
    pub keys: BTreeMap<String, StageKey>,
    pub rounds: HashMap<String, u64>,
    pub stop: Stop,
    pub observer: Arc<dyn Observer>,
    /// Ignore stored stage outputs.
    pub fresh: bool,
    /// Records buffered per channel.
    pub capacity: usize,
    failure: Mutex<Option<Failure>>,
    error_rates: Mutex<Vec<(String, f64, f64)>>,
    budget: Mutex<Option<(f64, f64)>>,
}

impl Run {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        recipe: Arc<Recipe>,
        recipe_id: String,
        store: Store,
        gateway: Arc<Gateway>,
        keys: BTreeMap<String, StageKey>,
        rounds: HashMap<String, u64>,
        stop: Stop,
        observer: Arc<dyn Observer>,
        fresh: bool,
    ) -> Run {
        Run {
            recipe,
            recipe_id,
            store,
            gateway,
            keys,
            rounds,
            stop,
            observer,
            fresh,
            capacity: 256,
            failure: Mutex::new(None),
            error_rates: Mutex::new(Vec::new()),
            budget: Mutex::new(None),
        }
    }

    /// Records the run's first fatal problem and stops the run.
    pub(crate) fn fail(&self, stage: &str, message: &str, help: &str) {
        let mut f = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if f.is_none() && !self.stop.is_stopping() {
            *f = Some(Failure {
                stage: stage.to_string(),
                message: message.to_string(),
                help: help.to_string(),
            });
        }
        drop(f);
        self.stop.stop(StopReason::Failed);
    }

    pub(crate) fn budget_reached(&self, spent: f64, budget: f64) {
        *self.budget.lock().unwrap_or_else(|e| e.into_inner()) = Some((spent, budget));
        self.stop.stop(StopReason::Budget);
    }

    pub(crate) fn error_rate_exceeded(&self, stage: &str, rate: f64, max: f64) {
        self.error_rates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((stage.to_string(), rate, max));
    }
}

/// Runs every node with its implementation, then the exports.
pub async fn execute(
    run: Arc<Run>,
    mut impls: BTreeMap<String, StageImpl>,
    exporters: Vec<Arc<dyn Exporter>>,
) -> RunResult {
    let nodes = &run.recipe.nodes;
    let mut done_tx = HashMap::new();
    let mut done_rx = HashMap::new();
    for node in nodes {
        let (tx, rx) = watch::channel(Status::Running);
        done_tx.insert(node.name.clone(), tx);
        done_rx.insert(node.name.clone(), rx);
    }
    let mut outs: HashMap<String, Vec<mpsc::Sender<_>>> = HashMap::new();
    let mut mains = HashMap::new();
    for node in nodes {
        if let Some(main) = node.main_input() {
            let (tx, rx) = mpsc::channel(run.capacity);
            outs.entry(main.to_string()).or_default().push(tx);
            mains.insert(node.name.clone(), (main.to_string(), rx));
        }
    }
    let mut tasks = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        let Some(imp) = impls.remove(&node.name) else {
            continue;
        };
        let wiring = stage::Wiring {
            main: mains.remove(&node.name),
            outs: outs.remove(&node.name).unwrap_or_default(),
            done: done_tx.remove(&node.name).expect("one watch per node"),
            upstream: node
                .upstream
                .iter()
                .filter_map(|u| Some((u.clone(), done_rx.get(u)?.clone())))
                .collect(),
        };
        tasks.push(tokio::spawn(stage::run_stage(
            run.clone(),
            index,
            imp,
            wiring,
        )));
    }
    let mut stages = Vec::new();
    for task in tasks {
        match task.await {
            Ok(summary) => stages.push(summary),
            Err(e) => run.fail(
                "",
                &format!("a stage task failed: {e}"),
                "please report this",
            ),
        }
    }
    let outcome = outcome(&run);
    let exports = if outcome == Outcome::Completed {
        match export::write_all(&run, &exporters, &stages).await {
            Ok(results) => results,
            Err(f) => {
                return RunResult {
                    stages,
                    outcome: Outcome::Failed(f),
                    exports: Vec::new(),
                    spent: run.gateway.spent(),
                }
            }
        }
    } else {
        Vec::new()
    };
    RunResult {
        stages,
        outcome,
        exports,
        spent: run.gateway.spent(),
    }
}

fn outcome(run: &Run) -> Outcome {
    if let Some(f) = run
        .failure
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
    {
        return Outcome::Failed(f);
    }
    match run.stop.reason() {
        Some(StopReason::Interrupted) => return Outcome::Interrupted,
        Some(StopReason::Budget) => {
            let (spent, budget) = run
                .budget
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or((run.gateway.spent(), 0.0));
            return Outcome::Budget { spent, budget };
        }
        _ => {}
    }
    let rates = run
        .error_rates
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if rates.is_empty() {
        Outcome::Completed
    } else {
        Outcome::TooManyErrors(rates)
    }
}
