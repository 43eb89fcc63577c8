//! One stage's task: answer from the store when its key is complete there, otherwise
//! wait for its other inputs, run its op over its first input as records arrive, store
//! and forward what it emits, and account for every record it loses.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::stream::{FuturesOrdered, StreamExt};
use tokio::sync::{mpsc, oneshot, watch};

use dtac_interpreter::resolve::{Node, Value};

use super::emit::Emitter;
use super::feed::{feeder, read_all};
use super::summary::StageSummary;
use super::{Run, Status};
use crate::op::{OpError, SideInput, StageCtx, StageImpl};
use crate::record::Record;
use crate::stop::StopReason;
use crate::store::read;

/// The channels of one stage.
pub(super) struct Wiring {
    /// The first input's upstream name and the channel its records arrive on.
    pub main: Option<(String, mpsc::Receiver<Arc<Record>>)>,
    pub outs: Vec<mpsc::Sender<Arc<Record>>>,
    pub done: watch::Sender<Status>,
    /// Completion of every upstream node, by name.
    pub upstream: BTreeMap<String, watch::Receiver<Status>>,
}

/// Per-record outcomes of the op, shared with the ops through the context.
#[derive(Default)]
struct Tally {
    records_in: u64,
    errors: u64,
    error_samples: Vec<(String, String)>,
}

const ERROR_SAMPLES: usize = 20;

pub(super) async fn run_stage(
    run: Arc<Run>,
    node_index: usize,
    imp: StageImpl,
    mut w: Wiring,
) -> StageSummary {
    let node = &run.recipe.nodes[node_index];
    let key = run.keys[&node.name].key.clone();
    let started = Instant::now();
    let mut summary = StageSummary {
        name: node.name.clone(),
        op: node.sig.name.to_string(),
        ..StageSummary::default()
    };

    // Answer from the store when this exact definition has completed before.
    if !run.fresh {
        if let Ok(Some(row)) = run.store.with_reader(|c| read::stage(c, &key)) {
            if let Some((_, rx)) = w.main.take() {
                tokio::spawn(drain(rx));
            }
            let mut stored: StageSummary = serde_json::from_str(&row.summary).unwrap_or_default();
            run.observer.stage_started(&node.name, Some(row.records));
            match replay_cached(&run, &key, &w.outs).await {
                Ok(()) => {
                    stored.cached = true;
                    stored.seconds = started.elapsed().as_secs_f64();
                    for u in stored.usage.values_mut() {
                        u.cached += u.requests;
                        u.requests = 0;
                        u.cost = 0.0;
                    }
                    let _ = w.done.send(Status::Done);
                    run.observer.stage_finished(&stored);
                    return stored;
                }
                Err(e) => {
                    return fail(&run, &w, summary, &format!("reading stored outputs: {e}"));
                }
            }
        }
    }

    if let Err(e) = run.store.writer().clear_stage(&key).await {
        run.fail(&node.name, &e.to_string(), &e.help());
        return fail(&run, &w, summary, &e.to_string());
    }

    // Feed the first input through a feeder that drains while we wait (see feed.rs).
    let (go_tx, go_rx) = oneshot::channel();
    let (feed_tx, mut feed_rx) = mpsc::channel::<Arc<Record>>(run.capacity);
    let main_name = w.main.as_ref().map(|(n, _)| n.clone());
    let grouped = matches!(imp, StageImpl::Group { .. });
    if let Some((upstream, rx)) = w.main.take() {
        if grouped {
            tokio::spawn(drain(rx));
        } else {
            let upstream_key = run.keys[&upstream].key.clone();
            tokio::spawn(feeder(run.store.clone(), upstream_key, rx, go_rx, feed_tx));
        }
    }

    // Wait for every input that must be complete first.
    let mut unfinished = None;
    for (name, status) in w.upstream.iter_mut() {
        let must_wait = grouped || Some(name) != main_name.as_ref();
        if !must_wait {
            continue;
        }
        let ok = loop {
            match *status.borrow_and_update() {
                Status::Done => break true,
                Status::Failed => break false,
                Status::Running => {}
            }
            if status.changed().await.is_err() {
                break false;
            }
        };
        if !ok {
            unfinished = Some(name.clone());
            break;
        }
    }
    if let Some(name) = unfinished {
        return skip(
            &run,
            &w,
            summary,
            &format!("its input `{name}` did not finish"),
        );
    }
    let mut side = BTreeMap::new();
    for name in w.upstream.keys() {
        if Some(name) == main_name.as_ref() && !grouped {
            continue;
        }
        match read_all(&run.store, &run.keys[name].key) {
            Ok(records) => {
                side.insert(name.clone(), Arc::new(SideInput::new(records)));
            }
            Err(e) => return fail(&run, &w, summary, &format!("reading `{name}`: {e}")),
        }
    }
    let round = run.rounds.get(&node.name).copied().unwrap_or(0);
    let cx = StageCtx {
        name: node.name.clone(),
        key: key.clone(),
        gateway: run.gateway.clone(),
        round,
        side,
        stop: run.stop.clone(),
        dropped: Default::default(),
        notes: Default::default(),
        tables: Default::default(),
        curves: Default::default(),
        work_dir: run
            .store
            .path()
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join("work")
            .join(&key),
        observer: run.observer.clone(),
    };
    let _ = go_tx.send(());

    let mut emitter = Emitter::new(
        &node.name,
        &key,
        run.store.clone(),
        w.outs.clone(),
        node.sig,
    );
    w.outs.clear();
    let tally = Mutex::new(Tally::default());
    let policy = Policy::of(node);
    let total = match &imp {
        StageImpl::Source(s) => s.count(),
        _ => None,
    };
    run.observer.stage_started(&node.name, total);

    let complete = match &imp {
        StageImpl::Source(source) => {
            run_source(&run, node, source.clone(), &mut emitter, &tally, policy).await
        }
        StageImpl::Each(op) => {
            let concurrency = policy.concurrency;
            let mut inflight = FuturesOrdered::new();
            let mut input_open = true;
            let mut complete = true;
            let mut done = 0u64;
            loop {
                if !input_open && inflight.is_empty() {
                    break;
                }
                tokio::select! {
                    next = feed_rx.recv(), if input_open && inflight.len() < concurrency => {
                        match next {
                            Some(record) => {
                                let record: Record = Arc::unwrap_or_clone(record);
                                let anchor = record.meta.id.clone();
                                let cx = &cx;
                                let op = op.clone();
                                inflight.push_back(async move { (anchor, op.run(cx, record).await) });
                            }
                            None => input_open = false,
                        }
                    }
                    Some((anchor, result)) = inflight.next(), if !inflight.is_empty() => {
                        match handle(&run, node, &tally, policy, &anchor, result) {
                            Handled::Emit(records) => {
                                if let Err(e) = emitter.emit(&anchor, records).await {
                                    run.fail(&node.name, &e.to_string(), &e.help());
                                    complete = false;
                                    break;
                                }
                            }
                            Handled::Skipped => {}
                            Handled::Stop => { complete = false; break; }
                        }
                        run.observer.records_done(&node.name, 1);
                        done += 1;
                        if done.is_multiple_of(16) {
                            let (tokens, cost) = run.gateway.stage_usage(&node.name);
                            run.observer.usage(&node.name, tokens, cost);
                        }
                    }
                }
            }
            complete && !run.stop.is_stopping()
        }
        StageImpl::Group { op, by } => {
            let upstream_key = main_name
                .as_ref()
                .map(|n| run.keys[n].key.clone())
                .unwrap_or_default();
            run_groups(
                &run,
                node,
                &cx,
                op.clone(),
                by,
                &upstream_key,
                &mut emitter,
                &tally,
                policy,
            )
            .await
        }
    };
    emitter.close();
    drop(feed_rx);

    let tally = tally.into_inner().unwrap_or_else(|e| e.into_inner());
    summary.records_in = tally.records_in;
    summary.records_out = emitter.count();
    summary.errors = tally.errors;
    summary.error_samples = tally.error_samples;
    summary.dropped = cx.drops();
    (summary.drop_notes, summary.tables) = cx.take_notes();
    summary.curves = cx.take_curves();
    summary.seconds = started.elapsed().as_secs_f64();
    for ((stage, teacher), usage) in run.gateway.usage() {
        if stage == node.name {
            summary.usage.insert(teacher, usage);
        }
    }
    summary.scores = std::mem::take(&mut emitter.scores);
    for h in summary.scores.values_mut() {
        h.finish();
    }
    summary.scores.retain(|_, h| h.count > 0);

    if !complete {
        let why = match run.stop.reason() {
            Some(StopReason::Interrupted) => "interrupted",
            Some(StopReason::Budget) => "stopped at the budget",
            _ => "stopped",
        };
        return skip(&run, &w, summary, why);
    }
    if let Err(e) = emitter.flush_rows() {
        return fail(&run, &w, summary, &e.to_string());
    }
    if summary.error_rate() > policy.max_error_rate {
        // Not marked complete: a later run retries the failed records (the answers that
        // succeeded are in the response cache).
        let _ = run.store.writer().flush().await;
        run.error_rate_exceeded(&node.name, summary.error_rate(), policy.max_error_rate);
        let _ = w.done.send(Status::Done);
        run.observer.stage_finished(&summary);
        return summary;
    }
    let stored = serde_json::to_string(&summary).unwrap_or_default();
    let writer = run.store.writer();
    let definition = run.keys[&node.name].definition.to_string();
    let _ = writer.definition(&run.recipe_id, &node.name, &key, definition);
    if let Err(e) = writer
        .finish_stage(
            &key,
            &node.name,
            summary.records_out,
            summary.errors,
            stored,
        )
        .await
    {
        run.fail(&node.name, &e.to_string(), &e.help());
        return fail(&run, &w, summary, &e.to_string());
    }
    let _ = w.done.send(Status::Done);
    run.observer.stage_finished(&summary);
    summary
}

/// Executor settings of one stage (`on_error`, `max_error_rate`, `concurrency`).
#[derive(Clone, Copy)]
struct Policy {
    fail_fast: bool,
    max_error_rate: f64,
    concurrency: usize,
}

impl Policy {
    fn of(node: &Node) -> Policy {
        Policy {
            fail_fast: node.get("on_error").and_then(Value::as_str) == Some("fail"),
            max_error_rate: node
                .get("max_error_rate")
                .and_then(Value::as_float)
                .unwrap_or(0.05),
            concurrency: (node
                .get("concurrency")
                .and_then(Value::as_int)
                .unwrap_or(64)
                .clamp(1, 100_000) as usize)
                .max(batch_in_flight(node)),
        }
    }
}

/// Records a stage keeps in flight when one of its teachers answers through the Batch
/// API: a batch is only worth sending with many requests in it, and its requests wait
/// hours, so the stage hands over everything it has instead of `concurrency` at a time.
const BATCH_IN_FLIGHT: usize = 50_000;

fn batch_in_flight(node: &Node) -> usize {
    let batch = node
        .settings
        .values()
        .flat_map(Value::models)
        .any(|m| m.str("mode") == Some("batch"));
    if batch {
        BATCH_IN_FLIGHT
    } else {
        1
    }
}

enum Handled {
    Emit(Vec<Record>),
    Skipped,
    Stop,
}

/// Applies the stage's error policy to one op result.
fn handle(
    run: &Run,
    node: &Node,
    tally: &Mutex<Tally>,
    policy: Policy,
    record_id: &str,
    result: Result<Vec<Record>, OpError>,
) -> Handled {
    let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
    t.records_in += 1;
    match result {
        Ok(records) => Handled::Emit(records),
        Err(OpError::Record(message)) => {
            t.errors += 1;
            if t.error_samples.len() < ERROR_SAMPLES {
                t.error_samples
                    .push((record_id.to_string(), message.clone()));
            }
            let key = &run.keys[&node.name].key;
            let _ = run.store.writer().record_error(key, record_id, &message);
            if policy.fail_fast {
                run.fail(
                    &node.name,
                    &format!("record `{record_id}`: {message}"),
                    "the stage has `on_error = \"fail\"`; use \"skip\" to drop failing records \
                     and go on",
                );
                return Handled::Stop;
            }
            Handled::Skipped
        }
        Err(OpError::Fatal { message, help }) => {
            run.fail(&node.name, &message, &help);
            Handled::Stop
        }
        Err(OpError::Budget { spent, budget }) => {
            run.budget_reached(spent, budget);
            Handled::Stop
        }
        Err(OpError::Stopped) => Handled::Stop,
    }
}

async fn run_source(
    run: &Arc<Run>,
    node: &Node,
    source: Arc<dyn crate::op::SourceOp>,
    emitter: &mut Emitter,
    tally: &Mutex<Tally>,
    policy: Policy,
) -> bool {
    let (tx, mut rx) = mpsc::channel(run.capacity);
    let stop = run.stop.clone();
    let reader = tokio::task::spawn_blocking(move || {
        source.read(&mut |item| !stop.is_stopping() && tx.blocking_send(item).is_ok())
    });
    let origin = match node.inputs.first() {
        Some(Value::Str(path)) => path.clone(),
        _ => node.name.clone(),
    };
    let mut position = 0u64;
    let mut complete = true;
    while let Some(item) = rx.recv().await {
        let id = crate::record::record_id(&node.name, std::slice::from_ref(&origin), position);
        position += 1;
        let result = item.map_err(OpError::Record).map(|fields| {
            let mut r = Record::source(&node.name, &origin, position - 1, fields);
            r.meta.id = id.clone();
            vec![r]
        });
        match handle(run, node, tally, policy, &id, result) {
            Handled::Emit(records) => {
                for r in records {
                    if let Err(e) = emitter.emit_source(r).await {
                        run.fail(&node.name, &e.to_string(), &e.help());
                        return false;
                    }
                }
            }
            Handled::Skipped => {}
            Handled::Stop => {
                complete = false;
                break;
            }
        }
        run.observer.records_done(&node.name, 1);
    }
    drop(rx);
    match reader.await {
        Ok(Ok(())) => complete && !run.stop.is_stopping(),
        Ok(Err(e)) => {
            let (message, help) = match e {
                OpError::Fatal { message, help } => (message, help),
                other => (other.to_string(), String::new()),
            };
            run.fail(&node.name, &message, &help);
            false
        }
        Err(_) => {
            run.fail(
                &node.name,
                "the reader stopped unexpectedly",
                "please report this",
            );
            false
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_groups(
    run: &Arc<Run>,
    node: &Node,
    cx: &StageCtx,
    op: Arc<dyn crate::op::GroupOp>,
    by: &str,
    upstream_key: &str,
    emitter: &mut Emitter,
    tally: &Mutex<Tally>,
    policy: Policy,
) -> bool {
    let mut groups = match Groups::open(run, upstream_key, by) {
        Ok(g) => g,
        Err(e) => {
            run.fail(
                &node.name,
                &e,
                "check free disk space and permissions of the state dir",
            );
            return false;
        }
    };
    // Groups run `concurrency` at a time and are emitted in order, like records.
    let mut inflight = FuturesOrdered::new();
    let mut exhausted = false;
    loop {
        while !exhausted && inflight.len() < policy.concurrency && !run.stop.is_stopping() {
            match groups.next(run, upstream_key) {
                Ok(Some(group)) => {
                    let anchor = group.first().map(|r| r.meta.id.clone()).unwrap_or_default();
                    let n = group.len() as u64;
                    let op = op.clone();
                    inflight.push_back(async move { (anchor, n, op.run(cx, group).await) });
                }
                Ok(None) => exhausted = true,
                Err(e) => {
                    run.fail(&node.name, &e, "check the state dir");
                    return false;
                }
            }
        }
        let Some((anchor, n, result)) = inflight.next().await else {
            break;
        };
        {
            let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
            t.records_in += n.saturating_sub(1);
        }
        match handle(run, node, tally, policy, &anchor, result) {
            Handled::Emit(records) => {
                if let Err(e) = emitter.emit(&anchor, records).await {
                    run.fail(&node.name, &e.to_string(), &e.help());
                    return false;
                }
            }
            Handled::Skipped => {}
            Handled::Stop => return false,
        }
        run.observer.records_done(&node.name, n);
    }
    exhausted && !run.stop.is_stopping()
}

/// A grouped stage's input, one group at a time. Groups by `id` are read from the
/// store's index, so only one group is in memory; other keys are grouped in memory.
enum Groups {
    Indexed(std::vec::IntoIter<String>),
    InMemory(std::vec::IntoIter<Vec<Record>>),
}

impl Groups {
    fn open(run: &Run, upstream_key: &str, by: &str) -> Result<Groups, String> {
        if by.is_empty() {
            let all = read_all(&run.store, upstream_key)?;
            let groups = if all.is_empty() {
                Vec::new()
            } else {
                vec![all]
            };
            return Ok(Groups::InMemory(groups.into_iter()));
        }
        if by == "id" {
            let keys = run
                .store
                .with_reader(|c| read::groups(c, upstream_key))
                .map_err(|e| e.to_string())?;
            return Ok(Groups::Indexed(keys.into_iter()));
        }
        let mut order: Vec<String> = Vec::new();
        let mut by_key: std::collections::HashMap<String, Vec<Record>> = Default::default();
        for r in read_all(&run.store, upstream_key)? {
            let k = r.key_of(by);
            if !by_key.contains_key(&k) {
                order.push(k.clone());
            }
            by_key.entry(k).or_default().push(r);
        }
        let groups: Vec<Vec<Record>> = order
            .into_iter()
            .filter_map(|k| by_key.remove(&k))
            .collect();
        Ok(Groups::InMemory(groups.into_iter()))
    }

    fn next(&mut self, run: &Run, upstream_key: &str) -> Result<Option<Vec<Record>>, String> {
        match self {
            Groups::InMemory(groups) => Ok(groups.next()),
            Groups::Indexed(keys) => {
                let Some(key) = keys.next() else {
                    return Ok(None);
                };
                let rows = run
                    .store
                    .with_reader(|c| read::group(c, upstream_key, &key))
                    .map_err(|e| e.to_string())?;
                rows.iter()
                    .map(|d| serde_json::from_str(d).map_err(|e| e.to_string()))
                    .collect::<Result<Vec<Record>, String>>()
                    .map(Some)
            }
        }
    }
}

async fn replay_cached(
    run: &Run,
    key: &str,
    outs: &[mpsc::Sender<Arc<Record>>],
) -> Result<(), String> {
    let mut from = 0;
    loop {
        let rows = run
            .store
            .with_reader(|c| read::outputs(c, key, from, 512))
            .map_err(|e| e.to_string())?;
        if rows.is_empty() {
            return Ok(());
        }
        for (seq, data) in rows {
            from = seq + 1;
            let record: Record = serde_json::from_str(&data).map_err(|e| e.to_string())?;
            let record = Arc::new(record);
            for out in outs {
                let _ = out.send(record.clone()).await;
            }
        }
    }
}

async fn drain(mut rx: mpsc::Receiver<Arc<Record>>) {
    while rx.recv().await.is_some() {}
}

/// The stage could not run because of something outside it (an upstream failure, a stop).
fn skip(run: &Run, w: &Wiring, summary: StageSummary, why: &str) -> StageSummary {
    let _ = w.done.send(Status::Failed);
    run.observer.stage_failed(&summary.name, why);
    summary
}

/// The stage itself failed.
fn fail(run: &Run, w: &Wiring, summary: StageSummary, message: &str) -> StageSummary {
    run.fail(&summary.name, message, "");
    skip(run, w, summary, message)
}
