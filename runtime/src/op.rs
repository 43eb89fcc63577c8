//! The interface between the executor and op implementations.
//!
//! The stdlib builds one [`StageImpl`] per dataset or stage from its resolved node. Three
//! shapes cover every op:
//! - a [`SourceOp`] reads records from outside (on a blocking thread);
//! - a [`RecordOp`] turns each input record into zero or more records; the executor runs
//!   many at once and keeps the input order;
//! - a [`GroupOp`] sees all records of one group (by the signature's `groups_by` field)
//!   at once, for per-problem decisions such as voting.
//!
//! Records from inputs other than the first (a `train.answer` reference, `against`
//! datasets) are complete before the op starts: see [`StageCtx::side`].

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;

use dtac_interpreter::resolve::{ExportNode, ModelDecl, Node};

use crate::llm::{
    Caller, ChatRequest, ChatResponse, Gateway, ScoreRequest, ScoreResponse, Structured,
};
use crate::record::{Fields, Record};
use crate::stop::Stop;

/// How an op failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OpError {
    /// This record failed (a refused request, an unparsable answer); counted, and with
    /// `on_error = "skip"` the run goes on.
    #[error("{0}")]
    Record(String),
    /// Nothing more can succeed: the run stops (work done so far is kept).
    #[error("{message}")]
    Fatal { message: String, help: String },
    /// The next request would pass `--budget-usd`.
    #[error("the budget of ${budget:.2} is reached (${spent:.4} spent)")]
    Budget { spent: f64, budget: f64 },
    /// The run is stopping (SIGINT/SIGTERM or another stage's failure).
    #[error("stopped")]
    Stopped,
}

/// What a stage sees while it runs.
#[derive(Debug)]
pub struct StageCtx {
    pub name: String,
    /// The stage's cache key.
    pub key: String,
    pub gateway: Arc<Gateway>,
    /// Incremented by `dtac run --rerun STAGE`: ops that sample draw new sample indices.
    pub round: u64,
    /// Complete inputs other than the first, by dataset or stage name.
    pub side: BTreeMap<String, Arc<SideInput>>,
    pub stop: Stop,
    /// Records dropped on purpose, by reason.
    pub dropped: Mutex<BTreeMap<String, u64>>,
    /// Why particular records were dropped (the matching n-gram, the kept duplicate).
    pub notes: Mutex<Vec<DropNote>>,
    /// Tables the op adds to the run report.
    pub tables: Mutex<Vec<ReportTable>>,
    /// Line charts the op adds to the run report.
    pub curves: Mutex<Vec<ReportCurve>>,
    /// A directory of this stage's own in the state dir (`work/<stage key>`), for what
    /// an op keeps between runs beside records: training checkpoints. Not created.
    pub work_dir: PathBuf,
    /// Who watches the run: ops with long steps of their own (training) report progress.
    pub observer: Arc<dyn crate::progress::Observer>,
}

/// Why one record was dropped, for the run report.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DropNote {
    /// The record's `candidate_id`, else its `id` (the problem), else its provenance id.
    pub record: String,
    pub reason: String,
    /// What the op found: `{ "ngram": "...", "benchmark": "bench", "benchmark_id": "17" }`.
    pub detail: serde_json::Value,
}

/// A table an op puts in the run report (the token-shift table).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReportTable {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// A line chart an op puts in the run report (training loss and learning rate by step).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReportCurve {
    /// "tuned: loss".
    pub title: String,
    /// "step".
    pub x_label: String,
    /// "loss".
    pub y_label: String,
    pub series: Vec<CurveSeries>,
}

/// One line of a [`ReportCurve`].
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CurveSeries {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Drop notes kept per stage; beyond this only the counts grow (the report says so).
pub const MAX_DROP_NOTES: usize = 10_000;

impl StageCtx {
    /// Asks `teacher`, through the response cache, on behalf of `record`.
    pub async fn chat(
        &self,
        record: &Record,
        teacher: &ModelDecl,
        request: &ChatRequest,
    ) -> Result<ChatResponse, OpError> {
        let id = record.key_of("id");
        self.gateway
            .chat(self.caller(record, &id), &self.key, teacher, request)
            .await
    }

    /// log p(target | context) under `teacher`, through the response cache.
    pub async fn score(
        &self,
        record: &Record,
        teacher: &ModelDecl,
        request: &ScoreRequest,
    ) -> Result<ScoreResponse, OpError> {
        let id = record.key_of("id");
        self.gateway
            .score(self.caller(record, &id), &self.key, teacher, request)
            .await
    }

    /// Asks `teacher` for JSON following `schema`, validated, with up to `repairs` repair
    /// turns (see [`Gateway::chat_json`]).
    pub async fn chat_json(
        &self,
        record: &Record,
        teacher: &ModelDecl,
        request: &ChatRequest,
        name: &str,
        schema: &serde_json::Value,
        repairs: u32,
    ) -> Result<Structured, OpError> {
        let id = record.key_of("id");
        self.gateway
            .chat_json(
                self.caller(record, &id),
                &self.key,
                teacher,
                request,
                name,
                schema,
                repairs,
            )
            .await
    }

    fn caller<'a>(&'a self, record: &'a Record, id: &'a str) -> Caller<'a> {
        Caller {
            stage: &self.name,
            record: &record.meta.id,
            id: (!id.is_empty()).then_some(id),
        }
    }

    /// Counts a record the op drops on purpose ("wrong answer"), for the summary.
    pub fn drop_record(&self, reason: &str) {
        *self
            .dropped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(reason.to_string())
            .or_default() += 1;
    }

    /// Counts a dropped record like [`StageCtx::drop_record`] and keeps why, so the run
    /// report can show it ("shares the 13-gram `...` with `bench` record 17").
    pub fn drop_because(&self, record: &Record, reason: &str, detail: serde_json::Value) {
        self.drop_record(reason);
        let mut notes = self.notes.lock().unwrap_or_else(|e| e.into_inner());
        if notes.len() < MAX_DROP_NOTES {
            // The candidate when there is one (several share a problem id), else the
            // problem, else the provenance id.
            let id = match record.key_of("candidate_id") {
                c if !c.is_empty() => c,
                _ => record.key_of("id"),
            };
            notes.push(DropNote {
                record: if id.is_empty() {
                    record.meta.id.clone()
                } else {
                    id
                },
                reason: reason.to_string(),
                detail,
            });
        }
    }

    /// Adds a table to the run report.
    pub fn report_table(&self, table: ReportTable) {
        self.tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(table);
    }

    /// Adds a line chart to the run report.
    pub fn report_curve(&self, curve: ReportCurve) {
        self.curves
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(curve);
    }

    /// The charts added so far, taken out.
    pub fn take_curves(&self) -> Vec<ReportCurve> {
        std::mem::take(&mut *self.curves.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn take_notes(&self) -> (Vec<DropNote>, Vec<ReportTable>) {
        let notes = std::mem::take(&mut *self.notes.lock().unwrap_or_else(|e| e.into_inner()));
        let tables = std::mem::take(&mut *self.tables.lock().unwrap_or_else(|e| e.into_inner()));
        (notes, tables)
    }

    pub fn drops(&self) -> BTreeMap<String, u64> {
        self.dropped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn side(&self, name: &str) -> Result<&Arc<SideInput>, OpError> {
        self.side.get(name).ok_or_else(|| OpError::Fatal {
            message: format!(
                "internal error: input `{name}` of stage `{}` was not read",
                self.name
            ),
            help: "please report this".into(),
        })
    }
}

/// A complete input, with lookup by `id`.
#[derive(Debug, Default)]
pub struct SideInput {
    pub records: Vec<Record>,
    by_id: HashMap<String, usize>,
}

impl SideInput {
    pub fn new(records: Vec<Record>) -> SideInput {
        let mut by_id = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            by_id.entry(r.key_of("id")).or_insert(i);
        }
        SideInput { records, by_id }
    }

    /// The first record whose `id` is `id`.
    pub fn by_id(&self, id: &str) -> Option<&Record> {
        self.by_id.get(id).map(|&i| &self.records[i])
    }
}

/// Reads records from outside.
pub trait SourceOp: Send + Sync + Debug {
    /// Calls `emit` for each record in order (a per-record problem is an `Err` with a
    /// message naming the file and line); stops early when `emit` returns `false`.
    fn read(&self, emit: &mut dyn FnMut(Result<Fields, String>) -> bool) -> Result<(), OpError>;

    /// The files read, whose digests go into the cache key and the lockfile.
    fn files(&self) -> Vec<PathBuf>;

    /// The number of records it will produce, when cheap to know (for plans and progress).
    fn count(&self) -> Option<u64> {
        None
    }
}

/// Per-record transformation.
pub trait RecordOp: Send + Sync + Debug {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>>;

    /// Expected outputs and requests for `inputs` input records.
    fn estimate(&self, inputs: u64) -> Estimate {
        Estimate::passthrough(inputs)
    }
}

/// Per-group transformation.
pub trait GroupOp: Send + Sync + Debug {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        group: Vec<Record>,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>>;

    fn estimate(&self, inputs: u64) -> Estimate {
        Estimate::passthrough(inputs)
    }
}

/// Writes a stage's records to a file in some format.
pub trait Exporter: Send + Sync + Debug {
    /// Writes every record; returns how many examples were written.
    fn write(
        &self,
        records: &mut dyn Iterator<Item = Record>,
        out: &mut dyn Write,
    ) -> std::io::Result<u64>;
}

/// An op ready to run.
#[derive(Clone, Debug)]
pub enum StageImpl {
    Source(Arc<dyn SourceOp>),
    Each(Arc<dyn RecordOp>),
    Group {
        op: Arc<dyn GroupOp>,
        /// The field records are grouped by; empty: the whole input is one group.
        by: String,
    },
}

impl StageImpl {
    /// An op that needs its whole input at once (a style profile, a frequency table): one
    /// group of every record, in input order. An empty input makes no group.
    pub fn whole(op: Arc<dyn GroupOp>) -> StageImpl {
        StageImpl::Group {
            op,
            by: String::new(),
        }
    }

    pub fn estimate(&self, inputs: u64) -> Estimate {
        match self {
            StageImpl::Source(s) => Estimate::passthrough(s.count().unwrap_or(0)),
            StageImpl::Each(op) => op.estimate(inputs),
            StageImpl::Group { op, .. } => op.estimate(inputs),
        }
    }
}

/// What a stage is expected to cost.
#[derive(Clone, Debug, Default)]
pub struct Estimate {
    pub records: u64,
    pub requests: Vec<RequestEstimate>,
}

/// Requests one teacher is expected to answer.
#[derive(Clone, Debug)]
pub struct RequestEstimate {
    pub teacher: Arc<ModelDecl>,
    pub requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl Estimate {
    pub fn passthrough(records: u64) -> Estimate {
        Estimate {
            records,
            requests: Vec::new(),
        }
    }
}

/// Why an op could not be built.
#[derive(Clone, Debug, PartialEq)]
pub enum BuildError {
    /// Declared (so recipes check) but not runnable yet.
    NotImplemented { op: String, issue: &'static str },
    /// A setting that passed the check but cannot be used (a file that vanished, ...).
    Invalid { message: String, help: String },
}

/// Op implementations by name: the stdlib's side of the interface.
pub trait Implementations: Send + Sync + Debug {
    fn build(&self, node: &Node) -> Result<StageImpl, BuildError>;

    fn exporter(&self, export: &ExportNode) -> Result<Arc<dyn Exporter>, BuildError>;

    /// The implementation's version, part of every stage key: a fix that changes an op's
    /// output bumps it, and exactly the stages using that op rerun.
    fn version(&self, op: &str) -> u32;
}
