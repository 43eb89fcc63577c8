//! `distill` at run time: the settings read once, the records turned into examples, and
//! the numeric core's trainer run on a blocking thread, reporting progress, the loss and
//! learning-rate curves and a summary table. The stage's one output record describes the
//! trained checkpoint.
//!
//! Checkpoints live in the stage's work directory (`<state dir>/work/<stage key>/`), so a
//! run that is killed or stopped resumes from the newest one when run again with the same
//! data and settings; a changed setting makes a new key and a fresh run.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use dtac_interpreter::resolve::{ModelDecl, Node, ObjectiveDecl, Value};
use dtac_numeric::model::DeviceSpec;
use dtac_numeric::objectives::ObjectiveSpec;
use dtac_numeric::train::DType;
use dtac_numeric::train::{
    load_trainable, train, AdamWConfig, Decay, Event, LoraConfig, Outcome, Run, TrainConfig,
    TrainError, Tuning,
};
use dtac_runtime::op::{
    BuildError, CurveSeries, GroupOp, OpError, ReportCurve, ReportTable, StageCtx, StageImpl,
};
use dtac_runtime::progress::TrainingProgress;
use dtac_runtime::record::{Fields, Provenance, Record};
use futures::future::BoxFuture;
use serde_json::json;

use super::distill_data::{prepare, DataSpec, Signal};
use crate::settings::Settings;

/// The built op.
#[derive(Debug)]
pub struct Distill {
    student: Arc<ModelDecl>,
    teacher: Option<Arc<ModelDecl>>,
    data: DataSpec,
    eval: Option<String>,
    cfg: TrainConfig,
    tuning: Tuning,
    output: Option<PathBuf>,
    objective_name: String,
    signal_name: String,
}

fn invalid(message: impl Into<String>, help: impl Into<String>) -> BuildError {
    BuildError::Invalid {
        message: message.into(),
        help: help.into(),
    }
}

/// The objective declaration (or built-in name) as the numeric core's spec.
pub fn objective_spec(decl: &ObjectiveDecl) -> Result<ObjectiveSpec, String> {
    let s = Settings(&decl.settings);
    let spec = ObjectiveSpec::from_name(
        &decl.kind,
        s.float("beta"),
        s.float("temperature"),
        s.int("k").map(|k| k.max(0) as usize),
        s.float("clip"),
        s.bool("tail"),
    )
    .map_err(|e| e.to_string())?;
    match s.float("clamp") {
        Some(c) if decl.kind == "sampled" => spec.with_clamp(c).map_err(|e| e.to_string()),
        _ => Ok(spec),
    }
}

fn positive(s: &Settings<'_>, name: &str, default: i64) -> Result<usize, BuildError> {
    let v = s.int(name).unwrap_or(default);
    if v < 1 {
        return Err(invalid(
            format!("`{name}` is {v}"),
            format!("use a positive number (the default is {default})"),
        ));
    }
    Ok(v as usize)
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let student = s
        .model("student")
        .ok_or_else(|| invalid("`distill` needs `student`", "set `student = NAME`"))?;
    if student.str("path").is_none() {
        return Err(invalid(
            format!(
                "student `{}` has no `path`: training needs the checkpoint",
                student.name
            ),
            "set `path` to the student's Hugging Face checkpoint directory",
        ));
    }
    let (objective_name, spec) = match s.get("objective") {
        Some(Value::Objective(o)) => (
            o.kind.clone(),
            objective_spec(o).map_err(|e| invalid(e, "fix the objective's settings"))?,
        ),
        _ => (
            "forward_kl".to_string(),
            ObjectiveSpec::from_name("forward_kl", None, None, None, None, None)
                .map_err(|e| invalid(e.to_string(), ""))?,
        ),
    };
    let signal_name = s.str("signal").unwrap_or("text").to_string();
    let signal = match signal_name.as_str() {
        "logits" => Signal::Logits,
        "topk_logprobs" => Signal::TopK,
        _ => Signal::Text,
    };
    let teacher = s.model("teacher");
    match signal {
        Signal::Text if objective_name != "forward_kl" => {
            return Err(invalid(
                format!("`{objective_name}` needs a teacher distribution, but `signal = \"text\"` gives a one-hot target"),
                "use `objective = forward_kl` for SFT, or `signal = \"logits\"` with a local teacher",
            ))
        }
        Signal::Logits => match &teacher {
            Some(t) if t.str("path").is_some() => {}
            Some(t) => {
                return Err(invalid(
                    format!("teacher `{}` has no `path`: `signal = \"logits\"` needs its full distribution", t.name),
                    "give the teacher a local checkpoint `path`, or use `signal = \"topk_logprobs\"` with an endpoint",
                ))
            }
            None => return Err(invalid("`signal = \"logits\"` needs `teacher`", "set `teacher = NAME` (a local checkpoint, or the student itself)")),
        },
        Signal::TopK if !matches!(objective_name.as_str(), "top_k" | "sampled") => {
            return Err(invalid(
                format!("`{objective_name}` compares whole distributions, but top log-probabilities cover only k tokens"),
                "use `objective = top_k { tail = true }` or `sampled` with `signal = \"topk_logprobs\"`",
            ))
        }
        _ => {}
    }
    let tuning = match s.get("lora") {
        Some(Value::Record(fields)) => {
            let l = Settings(fields);
            let cfg = LoraConfig {
                rank: l.int("rank").unwrap_or(16).max(0) as usize,
                alpha: l.float("alpha").unwrap_or(32.0),
                dropout: l.float("dropout").unwrap_or(0.0) as f32,
                targets: match l.get("targets") {
                    Some(_) => l.strings("targets"),
                    None => ["q_proj", "k_proj", "v_proj", "o_proj"]
                        .map(String::from)
                        .to_vec(),
                },
            };
            cfg.validate()
                .map_err(|e| invalid(format!("lora: {e}"), "fix the `lora` record"))?;
            Tuning::Lora(cfg)
        }
        _ => Tuning::Full,
    };
    let schedule: Decay = s
        .str("schedule")
        .unwrap_or("cosine")
        .parse()
        .map_err(|e: String| invalid(e, ""))?;
    let lr = s.float("lr").unwrap_or(1e-5);
    if !(lr > 0.0 && lr.is_finite()) {
        return Err(invalid(
            format!("`lr` is {lr}"),
            "use a small positive rate such as 1e-5",
        ));
    }
    let cfg = TrainConfig {
        objective: spec,
        epochs: positive(&s, "epochs", 1)?,
        lr,
        batch_size: positive(&s, "batch_size", 8)?,
        grad_accum: positive(&s, "grad_accum", 1)?,
        warmup: s.float("warmup").unwrap_or(0.03),
        decay: schedule,
        adamw: AdamWConfig {
            weight_decay: s.float("weight_decay").unwrap_or(0.0),
            ..AdamWConfig::default()
        },
        max_grad_norm: s.float("max_grad_norm").unwrap_or(1.0),
        eval_every: s.int("eval_every").unwrap_or(100).max(0) as u64,
        save_every: s.int("save_every").unwrap_or(500).max(0) as u64,
        seed: s.int("seed").unwrap_or(0) as u64,
        keep_checkpoints: 2,
        export_dtype: DType::F32,
    };
    let data = DataSpec {
        prompt: s.prompt("prompt"),
        target: s.str("target").unwrap_or("solution").to_string(),
        weights: s.str("weights").map(str::to_string),
        signal,
        max_seq_len: positive(&s, "max_seq_len", 4096)?,
    };
    let eval = match s.get("eval") {
        Some(Value::Records(name)) => Some(name.clone()),
        _ => None,
    };
    Ok(StageImpl::whole(Arc::new(Distill {
        student,
        teacher,
        data,
        eval,
        cfg,
        tuning,
        output: s.str("output").map(PathBuf::from),
        objective_name,
        signal_name,
    })))
}

/// The dtype a trained checkpoint is saved in: the one its source was stored in.
fn export_dtype(torch_dtype: Option<&str>) -> DType {
    match torch_dtype {
        Some("bfloat16") => DType::BF16,
        Some("float16") => DType::F16,
        _ => DType::F32,
    }
}

/// The dtype the forward pass computes in: the student's `dtype` where the device has fast
/// kernels for it; on the CPU always f32 (candle's CPU bf16 matmul is slower than f32).
fn compute_dtype(model: &ModelDecl, device: &DeviceSpec) -> DType {
    match (model.str("dtype"), device) {
        (_, DeviceSpec::Cpu) => DType::F32,
        (Some("bf16"), _) => DType::BF16,
        (Some("f16"), _) => DType::F16,
        _ => DType::F32,
    }
}

fn fatal(message: String, help: &str) -> OpError {
    OpError::Fatal {
        message,
        help: help.into(),
    }
}

impl GroupOp for Distill {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        group: Vec<Record>,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let student = crate::local::loaded(&self.student)
                .map_err(|e| fatal(e, "check the student's checkpoint"))?;
            let teacher = match (&self.teacher, self.data.signal) {
                (Some(t), Signal::Logits) => Some(
                    crate::local::loaded(t)
                        .map_err(|e| fatal(e, "check the teacher's checkpoint"))?,
                ),
                _ => None,
            };
            let eval_records = match &self.eval {
                Some(name) => cx.side(name)?.records.clone(),
                None => Vec::new(),
            };
            let data = self.data.clone();
            let (s_model, t_model) = (student.shared(), teacher.as_ref().map(|t| t.shared()));
            let (train_records, t2) = (group, t_model.clone());
            let prepared = tokio::task::spawn_blocking(move || {
                let train = prepare(&train_records, &data, &s_model, t2.as_deref());
                let eval = prepare(&eval_records, &data, &s_model, t2.as_deref());
                (train, eval, train_records.len())
            })
            .await
            .map_err(|e| {
                fatal(
                    format!("preparing the examples failed: {e}"),
                    "please report this",
                )
            })?;
            let (train_set, eval_set, records_in) = prepared;
            for (id, why) in &train_set.skipped {
                cx.drop_because(
                    &Record {
                        fields: Fields::from_iter([("id".to_string(), json!(id))]),
                        meta: Provenance::default(),
                    },
                    "not trainable",
                    json!({ "why": why }),
                );
            }
            if train_set.examples.is_empty() {
                return Err(fatal(
                    format!(
                        "none of the {records_in} records could be trained on{}",
                        train_set
                            .skipped
                            .first()
                            .map(|(_, w)| format!(" (first: {w})"))
                            .unwrap_or_default()
                    ),
                    "check `target`, `prompt` and `max_seq_len`",
                ));
            }
            let info = student.model().info().clone();
            let device: DeviceSpec = self
                .student
                .str("device")
                .unwrap_or("auto")
                .parse()
                .map_err(|e| {
                    fatal(
                        format!("student `{}`: {e}", self.student.name),
                        "use device = \"cpu\" or \"auto\"",
                    )
                })?;
            let mut cfg = self.cfg.clone();
            cfg.export_dtype = export_dtype(info.config.torch_dtype.as_deref());
            let compute = compute_dtype(&self.student, &device);
            let tuning = self.tuning.clone();
            let work = cx.work_dir.clone();
            let fingerprint = cx.key.clone();
            let stop = cx.stop.clone();
            let observer = cx.observer.clone();
            let stage = cx.name.clone();
            let steps_log: Arc<std::sync::Mutex<Vec<(u64, f64, f64)>>> = Arc::default();
            let log = steps_log.clone();
            let (train_examples, eval_examples) = (train_set.examples, eval_set.examples);
            let outcome = tokio::task::spawn_blocking(move || -> Result<Outcome, TrainError> {
                let model = load_trainable(&info, &device, tuning, compute, cfg.seed)?;
                let started = Instant::now();
                let mut tokens = 0usize;
                let run = Run {
                    model,
                    source: &info,
                    teacher: t_model.as_deref(),
                    train: &train_examples,
                    eval: &eval_examples,
                    dir: &work,
                    fingerprint,
                };
                train(run, &cfg, &mut |event| {
                    if let Event::Step(s) = event {
                        tokens += s.seq_tokens;
                        log.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((s.step, s.loss, s.lr));
                        observer.training(
                            &stage,
                            &TrainingProgress {
                                step: s.step,
                                total: s.total,
                                loss: s.loss,
                                lr: s.lr,
                                tokens_per_second: tokens as f64
                                    / started.elapsed().as_secs_f64().max(1e-9),
                            },
                        );
                    }
                    !stop.is_stopping()
                })
            })
            .await
            .map_err(|e| fatal(format!("training failed: {e}"), "please report this"))?;
            let outcome = match outcome {
                Ok(o) => o,
                Err(TrainError::Stopped { .. }) => return Err(OpError::Stopped),
                Err(e) => {
                    return Err(fatal(
                        format!("training the student `{}`: {e}", self.student.name),
                        "see the message; a run that stopped resumes from its last checkpoint",
                    ))
                }
            };
            let checkpoint = match &self.output {
                Some(out) => {
                    dtac_numeric::train::checkpoint::copy_export(&outcome.output, out).map_err(
                        |e| {
                            fatal(
                                format!("writing `{}`: {e}", out.display()),
                                "check the path and free disk space",
                            )
                        },
                    )?;
                    out.clone()
                }
                None => outcome.output.clone(),
            };
            self.report(
                cx,
                &outcome,
                &dtac_numeric::train::read_log(&cx.work_dir.join("log.jsonl")),
            );
            let mut fields = Fields::new();
            fields.insert("id".into(), json!(cx.name));
            fields.insert("checkpoint".into(), json!(checkpoint.display().to_string()));
            fields.insert(
                "tuning".into(),
                json!(match &self.tuning {
                    Tuning::Full => "full",
                    Tuning::Lora(_) => "lora",
                }),
            );
            fields.insert("objective".into(), json!(self.objective_name));
            fields.insert("signal".into(), json!(self.signal_name));
            fields.insert(
                "examples".into(),
                json!(train_examples_len(records_in, &train_set.skipped)),
            );
            fields.insert("guidance_examples".into(), json!(train_set.guidance));
            fields.insert("truncated".into(), json!(train_set.truncated));
            fields.insert("steps".into(), json!(outcome.steps));
            fields.insert("final_loss".into(), json!(outcome.final_loss));
            fields.insert("eval_loss_before".into(), json!(outcome.eval_before));
            fields.insert("eval_loss_after".into(), json!(outcome.eval_after));
            fields.insert("tokens_per_second".into(), json!(outcome.tokens_per_second));
            fields.insert("resumed_from".into(), json!(outcome.resumed_from));
            drop(steps_log);
            Ok(vec![Record {
                fields,
                meta: Provenance::default(),
            }])
        })
    }
}

fn train_examples_len(records: usize, skipped: &[(String, String)]) -> usize {
    records - skipped.len()
}

impl Distill {
    fn report(&self, cx: &StageCtx, outcome: &Outcome, log: &[dtac_numeric::train::StepLog]) {
        let points = |f: &dyn Fn(&dtac_numeric::train::StepLog) -> f64| -> Vec<(f64, f64)> {
            log.iter().map(|l| (l.step as f64, f(l))).collect()
        };
        let mut loss = vec![CurveSeries {
            name: "train".into(),
            points: points(&|l| l.loss),
        }];
        if !outcome.evals.is_empty() {
            loss.push(CurveSeries {
                name: "held-out".into(),
                points: outcome.evals.iter().map(|(s, l)| (*s as f64, *l)).collect(),
            });
        }
        cx.report_curve(ReportCurve {
            title: format!("{}: loss ({})", cx.name, self.objective_name),
            x_label: "step".into(),
            y_label: "loss".into(),
            series: loss,
        });
        cx.report_curve(ReportCurve {
            title: format!("{}: learning rate", cx.name),
            x_label: "step".into(),
            y_label: "lr".into(),
            series: vec![CurveSeries {
                name: "lr".into(),
                points: points(&|l| l.lr),
            }],
        });
        let num = |v: Option<f64>| v.map_or(json!(null), |x| json!(x));
        cx.report_table(ReportTable {
            title: format!("{}: training", cx.name),
            columns: [
                "steps",
                "final loss",
                "held-out before",
                "held-out after",
                "tokens/s",
                "resumed from",
            ]
            .map(String::from)
            .to_vec(),
            rows: vec![vec![
                json!(outcome.steps),
                num(outcome.final_loss),
                num(outcome.eval_before),
                num(outcome.eval_after),
                json!((outcome.tokens_per_second * 10.0).round() / 10.0),
                outcome.resumed_from.map_or(json!(null), |s| json!(s)),
            ]],
        });
    }
}
