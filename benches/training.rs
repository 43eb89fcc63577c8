//! Training throughput: dtac's in-process trainer against a plain PyTorch training loop on
//! the same checkpoint, batch and objective, in one run: `cargo bench --bench training`.
//!
//! Two Qwen3-shaped random checkpoints ("tiny": the test fixture, 0.03M parameters;
//! "small": hidden 256, 4 layers, vocabulary 32000, about 20M) and two objectives: SFT
//! (cross-entropy on the target tokens) and forward KL against a frozen teacher of the
//! same shape. Full fine-tuning with AdamW, batches of B sequences of T tokens whose last
//! three quarters are trained. Each side runs in its own process with the same number of
//! threads; tokens/s counts sequence tokens over the timed steps (after warm-up steps),
//! and the peak resident memory is the kernel's VmHWM. The first step's loss is printed
//! for both as a cross-check that they compute the same thing.
//!
//! The PyTorch side is `benches/training/torch_train.py` (a faithful Qwen3 decoder in
//! plain torch, loading the same safetensors). `DTAC_BENCH_SCALE=tiny` runs only the
//! tiny model; `DTAC_BENCH_STEPS` sets the timed steps (default 5).

#[path = "support/python.rs"]
mod python;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use dtac_numeric::fixtures::{write_tiny_checkpoint, TinySpec};
use dtac_numeric::model::{inspect, Arch, DeviceSpec, LocalModel, Precision};
use dtac_numeric::objectives::{Objective, ObjectiveSpec};
use dtac_numeric::train::{
    load_trainable, train, AdamWConfig, Decay, Event, Example, ExampleTeacher, Run, TrainConfig,
    Tuning,
};
use python::{reset_peak, run_json, status_bytes, venv};

const WARMUP: usize = 2;

struct Scale {
    name: &'static str,
    spec: TinySpec,
    batch: usize,
    len: usize,
}

fn scales() -> Vec<Scale> {
    let tiny = Scale {
        name: "tiny",
        spec: TinySpec::new(Arch::Qwen3),
        batch: 4,
        len: 128,
    };
    let mut small = TinySpec::new(Arch::Qwen3);
    small.vocab = 32000;
    small.hidden = 256;
    small.layers = 4;
    small.heads = 4;
    small.kv_heads = 2;
    small.intermediate = 768;
    let small = Scale {
        name: "small",
        spec: small,
        batch: 4,
        len: 256,
    };
    if std::env::var("DTAC_BENCH_SCALE").is_ok_and(|s| s == "tiny") {
        vec![tiny]
    } else {
        vec![tiny, small]
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--measure") {
        measure(&args[at + 1..]);
        return;
    }
    let steps: usize = std::env::var("DTAC_BENCH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let python = venv();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/training/torch_train.py");
    let me = std::env::current_exe().expect("own path");
    let root = std::env::temp_dir().join(format!("dtac-bench-training-{}", std::process::id()));
    println!("{WARMUP} warm-up steps, then {steps} timed steps; {threads} threads each side; full fine-tuning, AdamW");
    println!(
        "\n{:<6} {:<8} {:>9} {:>10} {:>10} {:>7} {:>9} {:>9} {:>10} {:>10}",
        "model",
        "loss",
        "params M",
        "dtac tok/s",
        "torch tok/s",
        "ratio",
        "dtac MB",
        "torch MB",
        "dtac loss",
        "torch loss"
    );
    for scale in scales() {
        let dir = root.join(scale.name);
        let (student, teacher) = (dir.join("student"), dir.join("teacher"));
        write_tiny_checkpoint(&student, &scale.spec).expect("student");
        let mut t = scale.spec.clone();
        t.seed = 99;
        t.init_std = 0.05;
        write_tiny_checkpoint(&teacher, &t).expect("teacher");
        let params = param_count(&scale.spec);
        for mode in ["sft", "kd"] {
            let common = [
                student.display().to_string(),
                teacher.display().to_string(),
                mode.to_string(),
                scale.batch.to_string(),
                scale.len.to_string(),
                steps.to_string(),
                threads.to_string(),
            ];
            let ours = run_json(
                Command::new(&me)
                    .arg("--measure")
                    .args(&common)
                    .env("RAYON_NUM_THREADS", threads.to_string()),
            );
            let theirs = run_json(Command::new(&python).arg(&script).args(&common));
            let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
            println!(
                "{:<6} {:<8} {:>9.2} {:>10.0} {:>10.0} {:>6.2}× {:>9.0} {:>9.0} {:>10.4} {:>10.4}",
                scale.name,
                if mode == "sft" { "SFT" } else { "fwd KL" },
                params as f64 / 1e6,
                f(&ours, "tokens_per_second"),
                f(&theirs, "tokens_per_second"),
                f(&ours, "tokens_per_second") / f(&theirs, "tokens_per_second"),
                f(&ours, "peak_bytes") / 1e6,
                f(&theirs, "peak_bytes") / 1e6,
                f(&ours, "first_loss"),
                f(&theirs, "first_loss"),
            );
        }
    }
    if std::env::var("DTAC_BENCH_KEEP").is_err() {
        let _ = std::fs::remove_dir_all(&root);
    }
    println!("\nratio = dtac tokens/s / torch tokens/s (above 1: dtac is faster); MB = peak resident memory of the process");
}

fn param_count(s: &TinySpec) -> usize {
    let head_dim = s.head_dim.unwrap_or(s.hidden / s.heads);
    let layer =
        s.hidden * head_dim * (2 * s.heads + 2 * s.kv_heads) + 3 * s.hidden * s.intermediate;
    let embed = s.vocab * s.hidden * if s.tie_embeddings { 1 } else { 2 };
    embed + s.layers * layer
}

/// The batch both sides train on: deterministic ids, the last three quarters trained.
fn batch(vocab: usize, b: usize, t: usize) -> Vec<Vec<u32>> {
    let mut s = 0x2545_f491_4f6c_dd1du64;
    (0..b)
        .map(|_| {
            (0..t)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    (s % vocab.min(259) as u64) as u32
                })
                .collect()
        })
        .collect()
}

/// `--measure STUDENT TEACHER MODE B T STEPS THREADS`: prints one JSON line.
fn measure(args: &[String]) {
    let (student, teacher, mode) = (PathBuf::from(&args[0]), PathBuf::from(&args[1]), &args[2]);
    let n = |i: usize| args[i].parse::<usize>().expect("a number");
    let (b, t, steps, threads) = (n(3), n(4), n(5), n(6));
    // The parent sets RAYON_NUM_THREADS; candle's CPU matmul reads the same count.
    let _ = threads;
    let info = inspect(&student).expect("student");
    let tinfo = inspect(&teacher).expect("teacher");
    let teacher_model = (mode == "kd").then(|| {
        LocalModel::load(&tinfo, &DeviceSpec::Cpu, Precision::F32).expect("teacher loads")
    });
    let start = t / 4;
    let examples: Vec<Example> = batch(info.config.vocab_size, b, t)
        .into_iter()
        .map(|ids| Example {
            teacher: if mode == "kd" {
                ExampleTeacher::Logits {
                    ids: ids.clone(),
                    start,
                }
            } else {
                ExampleTeacher::Text
            },
            ids,
            start,
            weights: None,
        })
        .collect();
    // One optimizer step per pass over the batch: `epochs` counts the steps.
    let cfg = TrainConfig {
        objective: ObjectiveSpec {
            objective: Objective::ForwardKl,
            temperature: 1.0,
        },
        epochs: WARMUP + steps,
        lr: 1e-4,
        batch_size: b,
        grad_accum: 1,
        warmup: 0.0,
        decay: Decay::Constant,
        adamw: AdamWConfig::default(),
        max_grad_norm: 1.0,
        eval_every: 0,
        save_every: 0,
        seed: 0,
        keep_checkpoints: 1,
        export_dtype: dtac_numeric::train::DType::F32,
    };
    let work = std::env::temp_dir().join(format!("dtac-bench-train-run-{}", std::process::id()));
    let model = load_trainable(
        &info,
        &DeviceSpec::Cpu,
        Tuning::Full,
        dtac_numeric::train::DType::F32,
        0,
    )
    .expect("model");
    reset_peak();
    let mut first_loss = f64::NAN;
    let mut timed_from = None;
    let mut timed_tokens = 0usize;
    let mut last = Instant::now();
    let result = train(
        Run {
            model,
            source: &info,
            teacher: teacher_model.as_ref(),
            train: &examples,
            eval: &[],
            dir: &work,
            fingerprint: "bench".into(),
        },
        &cfg,
        &mut |e| {
            if let Event::Step(s) = e {
                if s.step == 1 {
                    first_loss = s.loss;
                }
                if s.step as usize == WARMUP {
                    timed_from = Some(Instant::now());
                } else if s.step as usize > WARMUP {
                    timed_tokens += s.seq_tokens;
                    last = Instant::now();
                }
            }
            true
        },
    );
    result.expect("training");
    let seconds = timed_from.map_or(f64::NAN, |t0| last.duration_since(t0).as_secs_f64());
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "{}",
        serde_json::json!({
            "tokens_per_second": timed_tokens as f64 / seconds,
            "first_loss": first_loss,
            "peak_bytes": status_bytes("VmHWM"),
        })
    );
}
