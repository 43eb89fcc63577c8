//! The training loop: data order, micro-batches, gradient accumulation, clipping, AdamW
//! with a schedule, evaluation, checkpoints and resume.
//!
//! One optimizer step sees `batch_size × grad_accum` examples. Its loss is the sum of the
//! weighted per-token losses over all of them divided by the number of trained tokens in
//! the step, so accumulating micro-batches gives exactly the gradient of one large batch
//! ("mean over tokens of the batch", TRD). Token weights scale a token's loss without
//! changing the denominator: a weight of 0 (TOPD's surface variation) removes the token's
//! pull but not its share of the mean.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use super::adamw::{clip_factor, AdamW, AdamWConfig};
use super::checkpoint::{self, TrainerState};
use super::example::{make_batch, Batch, BatchTeacher, Example};
use super::head::{head_loss, HeadTeacher};
use super::prng::Prng;
use super::schedule::{Decay, Schedule};
use super::student::TrainableModel;
use super::TrainError;
use crate::model::{CheckpointInfo, LocalModel};
use crate::objectives::ObjectiveSpec;

/// Everything about a run but the data and the models.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub objective: ObjectiveSpec,
    pub epochs: usize,
    pub lr: f64,
    pub batch_size: usize,
    pub grad_accum: usize,
    pub warmup: f64,
    pub decay: Decay,
    pub adamw: AdamWConfig,
    pub max_grad_norm: f64,
    /// Steps between evaluations (0: only before and after).
    pub eval_every: u64,
    /// Steps between checkpoints (0: only at the end).
    pub save_every: u64,
    pub seed: u64,
    /// Checkpoints kept in the run directory.
    pub keep_checkpoints: usize,
    /// The dtype of the final export.
    pub export_dtype: DType,
}

/// One optimizer step, as logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepLog {
    /// 1-based: the number of updates after this one.
    pub step: u64,
    pub total: u64,
    pub epoch: f64,
    pub loss: f64,
    pub lr: f64,
    pub grad_norm: f64,
    /// Trained tokens in this step.
    pub tokens: usize,
    /// Sequence tokens processed in this step (student side, no padding).
    pub seq_tokens: usize,
    pub seconds: f64,
}

/// What the loop tells its caller as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    Resumed { step: u64 },
    Step(&'a StepLog),
    Eval { step: u64, loss: f64 },
    Saved { step: u64, dir: &'a Path },
}

/// The finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub steps: u64,
    pub resumed_from: Option<u64>,
    /// The final export.
    pub output: PathBuf,
    pub final_loss: Option<f64>,
    /// Held-out loss before the first step and after the last (when there is eval data).
    pub eval_before: Option<f64>,
    pub eval_after: Option<f64>,
    pub evals: Vec<(u64, f64)>,
    /// Sequence tokens per second over the steps this process ran.
    pub tokens_per_second: f64,
}

/// The data and models of a run.
#[derive(Debug)]
pub struct Run<'a> {
    pub model: TrainableModel,
    pub source: &'a CheckpointInfo,
    pub teacher: Option<&'a LocalModel>,
    pub train: &'a [Example],
    pub eval: &'a [Example],
    /// Checkpoints, the step log and the final export (`final/`) go here.
    pub dir: &'a Path,
    /// Identifies data and settings; a checkpoint with another fingerprint is ignored.
    pub fingerprint: String,
}

/// Trains; `observe` sees every event and returns `false` to stop (a checkpoint is saved
/// first, and the result is [`TrainError::Stopped`]).
pub fn train(
    run: Run<'_>,
    cfg: &TrainConfig,
    observe: &mut dyn FnMut(Event<'_>) -> bool,
) -> Result<Outcome, TrainError> {
    let vocab = run.model.config().vocab_size;
    for (i, e) in run.train.iter().chain(run.eval).enumerate() {
        e.check(vocab)
            .map_err(|message| TrainError::Example { index: i, message })?;
    }
    if run.train.is_empty() {
        return Err(TrainError::NoData);
    }
    if cfg.batch_size == 0 || cfg.grad_accum == 0 || cfg.epochs == 0 {
        return Err(TrainError::Setting(
            "batch_size, grad_accum and epochs must be at least 1".into(),
        ));
    }
    let per_step = cfg.batch_size * cfg.grad_accum;
    let steps_per_epoch = run.train.len().div_ceil(per_step) as u64;
    let total = steps_per_epoch * cfg.epochs as u64;
    let schedule = Schedule::new(cfg.lr, total, cfg.warmup, cfg.decay);
    let model = &run.model;
    let mut optimizer = AdamW::new(
        AdamWConfig {
            weight_decay: cfg.adamw.weight_decay,
            ..cfg.adamw
        },
        model.params(),
    );
    let log_path = run.dir.join("log.jsonl");
    std::fs::create_dir_all(run.dir).map_err(|e| TrainError::io(run.dir, e))?;

    let mut start_step = 0;
    let mut resumed_from = None;
    if let Some((state, dir)) = checkpoint::latest(run.dir, &run.fingerprint) {
        checkpoint::restore(model, &mut optimizer, &dir)?;
        start_step = state.step.min(total);
        resumed_from = Some(start_step);
        truncate_log(&log_path, start_step)?;
        observe(Event::Resumed { step: start_step });
    } else {
        let _ = std::fs::remove_file(&log_path);
    }

    let mut evals = Vec::new();
    let eval_before = if run.eval.is_empty() || resumed_from.is_some() {
        None
    } else {
        let loss = evaluate(&run, cfg)?;
        evals.push((0, loss));
        observe(Event::Eval { step: 0, loss });
        Some(loss)
    };

    let started = Instant::now();
    let mut seq_tokens_done = 0usize;
    let mut final_loss = None;
    let mut epoch_order: Option<(u64, Vec<usize>)> = None;
    for step in start_step..total {
        let epoch = step / steps_per_epoch;
        if epoch_order.as_ref().map(|(e, _)| *e) != Some(epoch) {
            let mut order: Vec<usize> = (0..run.train.len()).collect();
            Prng::derive(cfg.seed, epoch).shuffle(&mut order);
            epoch_order = Some((epoch, order));
        }
        let order = &epoch_order
            .as_ref()
            .map(|(_, o)| o.as_slice())
            .unwrap_or(&[]);
        let within = (step % steps_per_epoch) as usize;
        let chosen = &order[within * per_step..((within + 1) * per_step).min(order.len())];
        let examples: Vec<&Example> = chosen.iter().map(|&i| &run.train[i]).collect();

        let lr = schedule.lr(step);
        let t0 = Instant::now();
        // Dropout masks drawn per step, so a resumed run draws what the straight one did.
        let mut dropout = Prng::derive(cfg.seed, 0xd0_0000 + step);
        let stats = accumulate(&run, cfg, &examples, &mut dropout)?;
        let (grad_norm, factor) = clip_factor(&stats.grads, cfg.max_grad_norm)?;
        let grads = if factor < 1.0 {
            stats
                .grads
                .iter()
                .map(|g| g.as_ref().map(|g| g * factor).transpose())
                .collect::<candle_core::Result<Vec<_>>>()?
        } else {
            stats.grads
        };
        optimizer.step(model.params(), &grads, lr)?;
        seq_tokens_done += stats.seq_tokens;
        let log = StepLog {
            step: step + 1,
            total,
            epoch: (step + 1) as f64 / steps_per_epoch as f64,
            loss: stats.loss,
            lr,
            grad_norm,
            tokens: stats.tokens,
            seq_tokens: stats.seq_tokens,
            seconds: t0.elapsed().as_secs_f64(),
        };
        append_log(&log_path, &log)?;
        final_loss = Some(log.loss);
        let go_on = observe(Event::Step(&log));
        let done = step + 1;
        if cfg.eval_every > 0 && done % cfg.eval_every == 0 && done < total && !run.eval.is_empty()
        {
            let loss = evaluate(&run, cfg)?;
            evals.push((done, loss));
            observe(Event::Eval { step: done, loss });
        }
        let save_now = cfg.save_every > 0 && done % cfg.save_every == 0;
        if save_now || !go_on || done == total {
            let state = TrainerState {
                step: done,
                total_steps: total,
                fingerprint: run.fingerprint.clone(),
            };
            let dir = checkpoint::save_checkpoint(
                model,
                &optimizer,
                run.source,
                run.dir,
                &state,
                cfg.keep_checkpoints,
            )?;
            observe(Event::Saved {
                step: done,
                dir: &dir,
            });
        }
        if !go_on {
            return Err(TrainError::Stopped { step: done });
        }
    }

    let eval_after = if run.eval.is_empty() {
        None
    } else {
        let loss = evaluate(&run, cfg)?;
        evals.push((total, loss));
        observe(Event::Eval { step: total, loss });
        Some(loss)
    };
    let output = run.dir.join("final");
    checkpoint::export(model, run.source, &output, cfg.export_dtype)?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(Outcome {
        steps: total,
        resumed_from,
        output,
        final_loss,
        eval_before,
        eval_after,
        evals,
        tokens_per_second: if seconds > 0.0 {
            seq_tokens_done as f64 / seconds
        } else {
            0.0
        },
    })
}

/// The loss and gradients (one per param, in [`TrainableModel::params`] order) that one
/// optimizer step over `examples` would use, before clipping; nothing is updated. For
/// gradient checks.
pub fn gradients(
    run: &Run<'_>,
    cfg: &TrainConfig,
    examples: &[&Example],
) -> Result<(f64, Vec<Option<Tensor>>), TrainError> {
    let mut no_dropout = Prng::new(cfg.seed);
    let stats = accumulate(run, cfg, examples, &mut no_dropout)?;
    Ok((stats.loss, stats.grads))
}

/// The gradients and loss of one optimizer step.
struct StepStats {
    grads: Vec<Option<Tensor>>,
    loss: f64,
    tokens: usize,
    seq_tokens: usize,
}

fn accumulate(
    run: &Run<'_>,
    cfg: &TrainConfig,
    examples: &[&Example],
    dropout: &mut Prng,
) -> Result<StepStats, TrainError> {
    let model = &run.model;
    let tokens: usize = examples.iter().map(|e| e.targets()).sum();
    let denom = tokens.max(1) as f32;
    let mut grads: Vec<Option<Tensor>> = vec![None; model.params().len()];
    let (mut loss, mut seq_tokens) = (0f64, 0usize);
    for micro in examples.chunks(cfg.batch_size) {
        let batch = make_batch(micro, model.device())?;
        seq_tokens += batch.seq_tokens;
        if batch.targets.is_empty() {
            continue;
        }
        let hidden = model.hidden_states(&batch.ids, Some(dropout))?;
        let (b, t, h) = hidden.dims3()?;
        let rows = hidden
            .reshape((b * t, h))?
            .index_select(&batch.rows, 0)?
            .to_dtype(DType::F32)?;
        let scales: Vec<f32> = batch.weights.iter().map(|w| w / denom).collect();
        let out = run_head(
            run,
            cfg,
            &batch,
            &rows.detach(),
            &scales,
            model.lm_head_param().is_some(),
        )?;
        loss += out
            .losses
            .iter()
            .zip(&scales)
            .map(|(l, s)| l * *s as f64)
            .sum::<f64>();
        // Backpropagate through the decoder from the hand-made gradient at the rows.
        let surrogate = (rows * out.grad_hidden.to_device(model.device())?)?.sum_all()?;
        let store = surrogate.backward()?;
        for (i, p) in model.params().iter().enumerate() {
            let mut g = store.get(p.var.as_tensor()).cloned();
            if Some(i) == model.lm_head_param() {
                if let Some(gh) = &out.grad_head {
                    let gh = gh.to_device(model.device())?;
                    g = Some(match g {
                        Some(g) => (g + gh)?,
                        None => gh,
                    });
                }
            }
            if let Some(g) = g {
                grads[i] = Some(match grads[i].take() {
                    Some(acc) => (acc + g)?,
                    None => g,
                });
            }
        }
    }
    Ok(StepStats {
        grads,
        loss,
        tokens,
        seq_tokens,
    })
}

/// The head and loss for one batch, with the teacher's side prepared.
fn run_head(
    run: &Run<'_>,
    cfg: &TrainConfig,
    batch: &Batch,
    rows: &Tensor,
    scales: &[f32],
    head_grad: bool,
) -> Result<super::head::HeadOutput, TrainError> {
    let head = run.model.lm_head();
    let rows = rows.to_device(&Device::Cpu)?;
    let head_cpu = head.to_device(&Device::Cpu)?;
    let out = match &batch.teacher {
        BatchTeacher::Text => head_loss(
            &cfg.objective,
            &rows,
            &head_cpu,
            HeadTeacher::Text,
            &batch.targets,
            scales,
            head_grad,
        )?,
        BatchTeacher::TopK { indices, logprobs } => head_loss(
            &cfg.objective,
            &rows,
            &head_cpu,
            HeadTeacher::Sparse { indices, logprobs },
            &batch.targets,
            scales,
            head_grad,
        )?,
        BatchTeacher::Logits(seqs) => {
            let teacher = run.teacher.ok_or(TrainError::Setting(
                "the examples need a local teacher's logits but no teacher was given".into(),
            ))?;
            let mut parts = Vec::with_capacity(seqs.len());
            for (ids, start) in seqs {
                let hidden = teacher.hidden_states(ids)?;
                let n = ids.len() - start;
                parts.push(hidden.narrow(0, start - 1, n)?.to_dtype(DType::F32)?);
            }
            let t_rows = Tensor::cat(&parts, 0)?.to_device(&Device::Cpu)?;
            let t_head = teacher.lm_head().to_device(&Device::Cpu)?;
            head_loss(
                &cfg.objective,
                &rows,
                &head_cpu,
                HeadTeacher::Dense {
                    hidden: &t_rows,
                    head: &t_head,
                },
                &batch.targets,
                scales,
                head_grad,
            )?
        }
    };
    Ok(out)
}

/// The weighted token-mean loss over the held-out examples.
pub fn evaluate(run: &Run<'_>, cfg: &TrainConfig) -> Result<f64, TrainError> {
    let (mut sum, mut tokens) = (0f64, 0usize);
    let refs: Vec<&Example> = run.eval.iter().collect();
    for micro in refs.chunks(cfg.batch_size.max(1)) {
        let batch = make_batch(micro, run.model.device())?;
        if batch.targets.is_empty() {
            continue;
        }
        let hidden = run.model.hidden_states(&batch.ids, None)?;
        let (b, t, h) = hidden.dims3()?;
        let rows = hidden
            .reshape((b * t, h))?
            .index_select(&batch.rows, 0)?
            .to_dtype(DType::F32)?
            .detach();
        let out = run_head(run, cfg, &batch, &rows, &batch.weights, false)?;
        sum += out
            .losses
            .iter()
            .zip(&batch.weights)
            .map(|(l, w)| l * *w as f64)
            .sum::<f64>();
        tokens += batch.targets.len();
    }
    Ok(sum / tokens.max(1) as f64)
}

fn append_log(path: &Path, log: &StepLog) -> Result<(), TrainError> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| TrainError::io(path, e))?;
    let line = serde_json::to_string(log).unwrap_or_default();
    writeln!(f, "{line}").map_err(|e| TrainError::io(path, e))
}

/// The logged steps, oldest first (a resumed run's log holds the steps before it).
pub fn read_log(path: &Path) -> Vec<StepLog> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Drops logged steps after `step` (they were redone after a resume).
fn truncate_log(path: &Path, step: u64) -> Result<(), TrainError> {
    let mut seen = HashMap::new();
    for log in read_log(path).into_iter().filter(|l| l.step <= step) {
        seen.insert(log.step, log);
    }
    let mut kept: Vec<StepLog> = seen.into_values().collect();
    kept.sort_by_key(|l| l.step);
    let text: String = kept
        .iter()
        .map(|l| serde_json::to_string(l).unwrap_or_default() + "\n")
        .collect();
    std::fs::write(path, text).map_err(|e| TrainError::io(path, e))
}
