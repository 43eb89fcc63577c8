//! The training loop on tiny models: it lowers the objective and the held-out loss for
//! each teacher signal, accumulation equals a larger batch, a stopped run resumes to the
//! same weights, and what it saves loads again (full checkpoints and LoRA adapters).

#[path = "common/train.rs"]
mod common;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, D};
use common::{config, pattern, tiny, trainable};
use dtac_numeric::fixtures::ScratchDir;
use dtac_numeric::model::{inspect, Arch, DeviceSpec, LocalModel, Precision};
use dtac_numeric::objectives::Objective;
use dtac_numeric::train::{
    checkpoint, read_log, train, Event, Example, ExampleTeacher, LoraConfig, Outcome, Run,
    TrainConfig, TrainError, Tuning,
};

fn data(n: u32) -> Vec<Example> {
    (0..n)
        .map(|i| pattern(3 + (i % 4) * 20, 12, None))
        .collect()
}

fn run_training(
    info: &dtac_numeric::model::CheckpointInfo,
    tuning: Tuning,
    teacher: Option<&LocalModel>,
    (train_set, eval_set): (&[Example], &[Example]),
    cfg: &TrainConfig,
    dir: &std::path::Path,
    stop_at: Option<u64>,
) -> Result<Outcome, TrainError> {
    let run = Run {
        model: trainable(info, tuning),
        source: info,
        teacher,
        train: train_set,
        eval: eval_set,
        dir,
        fingerprint: "test".into(),
    };
    train(
        run,
        cfg,
        &mut |e| !matches!((e, stop_at), (Event::Step(s), Some(k)) if s.step == k),
    )
}

#[test]
fn sft_lowers_training_and_held_out_loss() {
    let (_d, info) = tiny(Arch::Qwen3, 1, 0.05);
    let out = ScratchDir::new("sft").unwrap();
    let mut cfg = config(Objective::ForwardKl);
    cfg.epochs = 4;
    cfg.eval_every = 4;
    let train_set = data(8);
    let eval_set = vec![pattern(3, 12, None), pattern(63, 12, None)];
    let outcome = run_training(
        &info,
        Tuning::Full,
        None,
        (&train_set, &eval_set),
        &cfg,
        out.path(),
        None,
    )
    .unwrap();
    let (before, after) = (outcome.eval_before.unwrap(), outcome.eval_after.unwrap());
    assert!(after < before * 0.7, "held-out loss {before} → {after}");
    let log = read_log(&out.path().join("log.jsonl"));
    assert_eq!(log.len() as u64, outcome.steps);
    assert_eq!(outcome.steps, 16);
    assert!(log.last().unwrap().loss < log[0].loss);
    assert!(outcome.evals.len() >= 4, "{:?}", outcome.evals);
    assert!(outcome.tokens_per_second > 0.0);
}

#[test]
fn distilling_a_teachers_logits_moves_the_student_towards_it() {
    for (objective, sparse) in [
        (Objective::ForwardKl, false),
        (Objective::ReverseKl, false),
        (Objective::TopK { k: 5, tail: true }, true),
    ] {
        let (_d, info) = tiny(Arch::Llama, 1, 0.05);
        let (_t, tinfo) = tiny(Arch::Llama, 2, 0.3);
        let teacher = LocalModel::load(&tinfo, &DeviceSpec::Cpu, Precision::F32).unwrap();
        let with_teacher = |e: Example| -> Example {
            let teacher_side = if sparse {
                // An API's top-5 log-probabilities, from the teacher's distribution.
                let logits = teacher.logits(&e.ids).unwrap();
                let lp = candle_nn::ops::log_softmax(&logits, D::Minus1)
                    .unwrap()
                    .to_vec2::<f32>()
                    .unwrap();
                let entries = (e.start..e.ids.len())
                    .map(|i| {
                        let row = &lp[i - 1];
                        let mut idx: Vec<usize> = (0..row.len()).collect();
                        idx.sort_by(|a, b| row[*b].total_cmp(&row[*a]));
                        idx[..5].iter().map(|&j| (j as u32, row[j])).collect()
                    })
                    .collect();
                ExampleTeacher::TopK { entries }
            } else {
                ExampleTeacher::Logits {
                    ids: e.ids.clone(),
                    start: e.start,
                }
            };
            Example {
                teacher: teacher_side,
                ..e
            }
        };
        let train_set: Vec<Example> = data(8).into_iter().map(with_teacher).collect();
        // A random teacher's distributions do not generalize to other prompts, so the
        // objective is measured on training sequences: distillation must lower it.
        let eval_set: Vec<Example> = train_set[..2].to_vec();
        let out = ScratchDir::new("kd").unwrap();
        let mut cfg = config(objective);
        cfg.epochs = 4;
        let outcome = run_training(
            &info,
            Tuning::Full,
            Some(&teacher),
            (&train_set, &eval_set),
            &cfg,
            out.path(),
            None,
        )
        .unwrap();
        let (before, after) = (outcome.eval_before.unwrap(), outcome.eval_after.unwrap());
        assert!(
            after < before * 0.8,
            "{objective:?}: held-out objective {before} → {after}"
        );
    }
}

fn params_of(dir: &std::path::Path, file: &str) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(dir.join(file), &Device::Cpu).unwrap()
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a.to_dtype(DType::F32).unwrap() - b.to_dtype(DType::F32).unwrap())
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap()
}

#[test]
fn accumulating_two_micro_batches_equals_one_batch_of_both() {
    let (_d, info) = tiny(Arch::Qwen2, 1, 0.05);
    let train_set = data(4);
    let mut one = config(Objective::ForwardKl);
    one.batch_size = 4;
    let mut two = one.clone();
    two.batch_size = 2;
    two.grad_accum = 2;
    let (a, b) = (
        ScratchDir::new("acc1").unwrap(),
        ScratchDir::new("acc2").unwrap(),
    );
    run_training(
        &info,
        Tuning::Full,
        None,
        (&train_set, &[]),
        &one,
        a.path(),
        None,
    )
    .unwrap();
    run_training(
        &info,
        Tuning::Full,
        None,
        (&train_set, &[]),
        &two,
        b.path(),
        None,
    )
    .unwrap();
    let (pa, pb) = (
        params_of(&a.path().join("final"), "model.safetensors"),
        params_of(&b.path().join("final"), "model.safetensors"),
    );
    for (name, t) in &pa {
        assert!(max_diff(t, &pb[name]) < 1e-5, "{name}");
    }
}

#[test]
fn a_stopped_run_resumes_from_its_checkpoint_to_the_same_weights() {
    let (_d, info) = tiny(Arch::Qwen3, 1, 0.05);
    let lora = LoraConfig {
        rank: 4,
        alpha: 8.0,
        dropout: 0.1,
        targets: vec!["q_proj".into(), "v_proj".into()],
    };
    for tuning in [Tuning::Full, Tuning::Lora(lora)] {
        let mut cfg = config(Objective::ForwardKl);
        cfg.epochs = 3;
        cfg.warmup = 0.2;
        cfg.decay = dtac_numeric::train::Decay::Cosine;
        cfg.save_every = 100;
        let train_set = data(6);
        let (whole, parts) = (
            ScratchDir::new("whole").unwrap(),
            ScratchDir::new("parts").unwrap(),
        );
        let straight = run_training(
            &info,
            tuning.clone(),
            None,
            (&train_set, &[]),
            &cfg,
            whole.path(),
            None,
        )
        .unwrap();
        let err = run_training(
            &info,
            tuning.clone(),
            None,
            (&train_set, &[]),
            &cfg,
            parts.path(),
            Some(4),
        )
        .unwrap_err();
        assert!(matches!(err, TrainError::Stopped { step: 4 }), "{err}");
        assert!(parts
            .path()
            .join("checkpoint-4")
            .join("trainer_state.json")
            .is_file());
        let resumed = run_training(
            &info,
            tuning.clone(),
            None,
            (&train_set, &[]),
            &cfg,
            parts.path(),
            None,
        )
        .unwrap();
        assert_eq!(resumed.resumed_from, Some(4));
        assert_eq!(resumed.steps, straight.steps);
        let file = match tuning {
            Tuning::Full => "model.safetensors",
            Tuning::Lora(_) => "adapter_model.safetensors",
        };
        let (a, b) = (
            params_of(&whole.path().join("final"), file),
            params_of(&parts.path().join("final"), file),
        );
        assert_eq!(a.len(), b.len());
        for (name, t) in &a {
            assert!(max_diff(t, &b[name]) < 1e-6, "{name} differs after resume");
        }
        let log = read_log(&parts.path().join("log.jsonl"));
        let steps: Vec<u64> = log.iter().map(|l| l.step).collect();
        assert_eq!(steps, (1..=straight.steps).collect::<Vec<_>>());
        // A checkpoint of other data is not resumed from.
        assert!(checkpoint::latest(parts.path(), "other").is_none());
    }
}

#[test]
fn saved_checkpoints_and_adapters_load_again() {
    let (_d, info) = tiny(Arch::Qwen3, 1, 0.05);
    let train_set = data(4);
    let mut cfg = config(Objective::ForwardKl);
    cfg.epochs = 2;
    // Full: the export is a checkpoint dtac (and transformers) load as it was.
    let full = ScratchDir::new("full").unwrap();
    let outcome = run_training(
        &info,
        Tuning::Full,
        None,
        (&train_set, &[]),
        &cfg,
        full.path(),
        None,
    )
    .unwrap();
    let reloaded = inspect(&outcome.output).unwrap();
    let trained = LocalModel::load(&reloaded, &DeviceSpec::Cpu, Precision::F32).unwrap();
    let original = LocalModel::load(&info, &DeviceSpec::Cpu, Precision::F32).unwrap();
    let ids = train_set[0].ids.clone();
    assert!(
        max_diff(
            &trained.logits(&ids).unwrap(),
            &original.logits(&ids).unwrap()
        ) > 1e-3
    );
    assert!(outcome.output.join("tokenizer.json").is_file());
    // LoRA: PEFT's names and config; merging the adapter reproduces the trained model.
    let lora = LoraConfig {
        rank: 4,
        alpha: 16.0,
        dropout: 0.0,
        targets: vec!["q_proj".into(), "down_proj".into()],
    };
    let out = ScratchDir::new("lora").unwrap();
    let outcome = run_training(
        &info,
        Tuning::Lora(lora.clone()),
        None,
        (&train_set, &[]),
        &cfg,
        out.path(),
        None,
    )
    .unwrap();
    let adapter = params_of(&outcome.output, "adapter_model.safetensors");
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(outcome.output.join("adapter_config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(config["r"], 4);
    assert_eq!(config["peft_type"], "LORA");
    let mut merged = params_of(&info.dir, "model.safetensors");
    for layer in 0..info.config.num_layers {
        for module in ["self_attn.q_proj", "mlp.down_proj"] {
            let base = format!("model.layers.{layer}.{module}");
            let a = &adapter[&format!("base_model.model.{base}.lora_A.weight")];
            let b = &adapter[&format!("base_model.model.{base}.lora_B.weight")];
            assert!(
                b.abs()
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap()
                    > 0.0
            );
            let w = &merged[&format!("{base}.weight")];
            let delta = (b.matmul(a).unwrap() * (lora.alpha / lora.rank as f64)).unwrap();
            let new = (w + delta).unwrap();
            merged.insert(format!("{base}.weight"), new);
        }
    }
    let merged_model =
        dtac_numeric::train::TrainableModel::new(&info.config, merged, Tuning::Full, DType::F32, 0)
            .unwrap();
    let mut lora_model = trainable(&info, Tuning::Lora(lora));
    // Load the trained adapters into a fresh LoRA model through the resume path.
    let last = checkpoint::checkpoints(out.path())
        .into_iter()
        .max()
        .unwrap()
        .1;
    let mut opt = dtac_numeric::train::AdamW::new(Default::default(), lora_model.params());
    checkpoint::restore(&lora_model, &mut opt, &last).unwrap();
    let input = Tensor::new(ids.as_slice(), &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let diff = max_diff(
        &merged_model.logits(&input).unwrap(),
        &lora_model.logits(&input).unwrap(),
    );
    assert!(diff < 1e-4, "merged adapter differs by {diff}");
    lora_model = merged_model;
    drop(lora_model);
}
