//! The distillation objectives, dtac's fused CPU ops against PyTorch on the same tensors,
//! in one run: `cargo bench --bench objectives`.
//!
//! For each shape ([4096 × 32000] and [512 × 151936], f32) and each objective, the loss
//! alone and the loss with its gradient are timed (median of several runs after a
//! warm-up) in dtac and in a pinned CPU PyTorch, each in its own process so that the peak
//! memory above the loaded inputs can be read from the kernel (`VmHWM`, reset through
//! `/proc/self/clear_refs`). Printed: the times, the ratio torch / dtac (above 1: dtac
//! is faster), both peaks, and the difference between the two losses (a cross-check of
//! the definitions).
//!
//! The PyTorch side lives in `benches/objectives/torch_objectives.py`; this bench makes
//! its virtual environment under `target/bench-venv` on first use (`pip install
//! torch==2.9.1 safetensors numpy` from PyPI). `DTAC_BENCH_SCALE=small` runs small shapes
//! for a quick look; `DTAC_BENCH_REPS` sets the repetitions (default 5);
//! `DTAC_BENCH_ONLY=top_k,sampled` times only those objectives.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use dtac_numeric::objectives::{self, ObjectiveSpec, Teacher};

#[path = "support/python.rs"]
mod python;

use python::{reset_peak, run_json, status_bytes, venv};

/// (name, dtac settings, torch key=value settings)
const OBJECTIVES: &[(&str, &[&str])] = &[
    ("forward_kl", &[]),
    ("reverse_kl", &[]),
    ("jsd", &["beta=0.5"]),
    ("clipped_kl", &["clip=0.1"]),
    ("top_k", &["k=32", "tail=true"]),
    ("sampled", &["clamp=20"]),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--measure") {
        measure(&args[at + 1..]);
        return;
    }
    let small = std::env::var("DTAC_BENCH_SCALE").is_ok_and(|s| s == "small");
    let shapes: &[(usize, usize)] = if small {
        &[(256, 4000), (64, 15000)]
    } else {
        &[(4096, 32000), (512, 151936)]
    };
    let reps: usize = std::env::var("DTAC_BENCH_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let python = venv();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/objectives/torch_objectives.py");
    let dir = std::env::temp_dir().join(format!("dtac-bench-objectives-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let me = std::env::current_exe().expect("own path");
    for &(rows, vocab) in shapes {
        let input = dir.join(format!("logits-{rows}x{vocab}.safetensors"));
        write_inputs(&input, rows, vocab);
        let copy_mb = (rows * vocab * 4) as f64 / 1e6;
        println!(
            "\n[{rows} × {vocab}] f32, one logits copy = {copy_mb:.0} MB, {reps} runs, median"
        );
        println!(
            "{:<11} {:<5} {:>10} {:>10} {:>7} {:>11} {:>11} {:>10}",
            "objective", "mode", "dtac ms", "torch ms", "ratio", "dtac MB", "torch MB", "rel Δloss"
        );
        let only = std::env::var("DTAC_BENCH_ONLY").unwrap_or_default();
        let chosen = |name: &str| only.is_empty() || only.split(',').any(|o| o == name);
        for (name, settings) in OBJECTIVES.iter().filter(|(n, _)| chosen(n)) {
            for mode in ["loss", "grad"] {
                let mut ours = Command::new(&me);
                ours.arg("--measure")
                    .arg(&input)
                    .arg(name)
                    .arg(mode)
                    .arg(reps.to_string())
                    .args(*settings);
                let ours = run_json(&mut ours);
                let mut theirs = Command::new(&python);
                theirs
                    .arg(&script)
                    .arg(&input)
                    .arg(name)
                    .arg(mode)
                    .arg(reps.to_string())
                    .args(*settings);
                let theirs = run_json(&mut theirs);
                let t_ours = ours["median_s"].as_f64().unwrap_or(f64::NAN);
                let t_theirs = theirs["median_s"].as_f64().unwrap_or(f64::NAN);
                let mb = |v: &serde_json::Value| {
                    v["peak_extra_bytes"].as_f64().unwrap_or(f64::NAN) / 1e6
                };
                let (a, b) = (
                    ours["loss"].as_f64().unwrap_or(f64::NAN),
                    theirs["loss"].as_f64().unwrap_or(f64::NAN),
                );
                let delta = (a - b).abs() / b.abs().max(f64::MIN_POSITIVE);
                println!(
                    "{:<11} {:<5} {:>10.1} {:>10.1} {:>6.2}× {:>11.0} {:>11.0} {:>10.2e}",
                    name,
                    mode,
                    t_ours * 1e3,
                    t_theirs * 1e3,
                    t_theirs / t_ours,
                    mb(&ours),
                    mb(&theirs),
                    delta
                );
            }
        }
        let _ = std::fs::remove_file(&input);
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("\nratio = torch time / dtac time (above 1: dtac is faster); MB = peak resident memory above the loaded inputs, outputs included");
}

/// Student and teacher logits (normal, σ = 3: peaked like a language model's), a mask
/// keeping 90% of the rows, and sampled tokens.
fn write_inputs(path: &Path, rows: usize, vocab: usize) {
    let mut rng = Rng(0x0005_eed0_b1ec_71e5_u64);
    let mut normal = |n: usize| (0..n).map(|_| 3.0 * rng.normal()).collect::<Vec<f32>>();
    let student = normal(rows * vocab);
    let teacher = normal(rows * vocab);
    let mut rng = Rng(7);
    let mask: Vec<f32> = (0..rows)
        .map(|_| f32::from(!rng.next().is_multiple_of(10)))
        .collect();
    let tokens: Vec<u32> = (0..rows)
        .map(|_| (rng.next() % vocab as u64) as u32)
        .collect();
    let cpu = Device::Cpu;
    let tensors = [
        (
            "student",
            Tensor::from_vec(student, (rows, vocab), &cpu).expect("student"),
        ),
        (
            "teacher",
            Tensor::from_vec(teacher, (rows, vocab), &cpu).expect("teacher"),
        ),
        ("mask", Tensor::from_vec(mask, rows, &cpu).expect("mask")),
        (
            "tokens",
            Tensor::from_vec(tokens, rows, &cpu).expect("tokens"),
        ),
    ];
    candle_core::safetensors::save(&tensors.into_iter().collect(), path).expect("write inputs");
}

/// The child process: `--measure INPUT OBJECTIVE MODE REPS key=value...`.
fn measure(args: &[String]) {
    let [input, name, mode, reps, settings @ ..] = args else {
        panic!("--measure INPUT OBJECTIVE MODE REPS [key=value...]");
    };
    let reps: usize = reps.parse().expect("reps");
    let setting = |key: &str| {
        settings
            .iter()
            .find_map(|s| s.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_string)
    };
    let float = |key: &str| setting(key).map(|v| v.parse::<f64>().expect("a number"));
    let spec = ObjectiveSpec::from_name(
        name,
        float("beta"),
        float("temperature"),
        setting("k").map(|k| k.parse().expect("k")),
        float("clip"),
        setting("tail").map(|t| t == "true"),
    )
    .expect("objective");
    let spec = match (name.as_str(), float("clamp")) {
        ("sampled", Some(clamp)) => ObjectiveSpec {
            objective: objectives::Objective::Sampled { clamp },
            ..spec
        },
        _ => spec,
    };
    let tensors = candle_core::safetensors::load(input, &Device::Cpu).expect("inputs");
    let student = &tensors["student"];
    let teacher = &tensors["teacher"];
    let mask = &tensors["mask"];
    let tokens = &tensors["tokens"];
    assert_eq!(student.dtype(), DType::F32);
    let run = || -> (f64, Option<Tensor>) {
        if mode == "grad" {
            let (loss, grad) = objectives::loss_and_grad(
                &spec,
                student,
                Teacher::Dense(teacher),
                Some(mask),
                Some(tokens),
            )
            .expect("loss and grad");
            (f64::from(loss), Some(grad))
        } else {
            let loss = objectives::loss(
                &spec,
                student,
                Teacher::Dense(teacher),
                Some(mask),
                Some(tokens),
            )
            .expect("loss");
            (loss.to_scalar::<f32>().expect("scalar").into(), None)
        }
    };
    drop(run()); // warm-up: thread pool start-up is not what is measured
    reset_peak();
    let base = status_bytes("VmRSS");
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let start = Instant::now();
        let result = run();
        times.push(start.elapsed().as_secs_f64());
        drop(result);
    }
    let peak = status_bytes("VmHWM").saturating_sub(base);
    let (loss, grad) = run();
    times.sort_by(f64::total_cmp);
    let grad_sum = grad.map(|g| {
        g.abs()
            .and_then(|g| g.to_dtype(DType::F64))
            .and_then(|g| g.sum_all())
            .and_then(|s| s.to_scalar::<f64>())
            .expect("grad sum")
    });
    println!(
        "{}",
        serde_json::json!({
            "loss": loss,
            "median_s": times[times.len() / 2],
            "peak_extra_bytes": peak,
            "grad_sum": grad_sum,
        })
    );
}

/// xorshift64*, with Box–Muller for normals: no dependency, same numbers every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn uniform(&mut self) -> f32 {
        ((self.next() >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }

    fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}
