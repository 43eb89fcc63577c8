//! The trainable decoder: its forward pass against the scoring decoder (every family) and
//! candle-transformers (Qwen3 and Llama), its hand-made head gradient against finite
//! differences, and LoRA starting from the base model exactly.

#[path = "common/train.rs"]
mod common;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::VarBuilder;
use candle_transformers::models::{llama, qwen3};
use common::{config, pattern, tiny, trainable};
use dtac_numeric::model::{Arch, DeviceSpec, LocalModel, Precision};
use dtac_numeric::objectives::Objective;
use dtac_numeric::train::{gradients, Example, ExampleTeacher, LoraConfig, Run, Tuning};

const TOL: f32 = 1e-4;

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(D::Minus1)
        .unwrap()
        .to_scalar()
        .unwrap()
}

fn ids(len: usize) -> Vec<u32> {
    (0..len as u32).map(|i| (i * 37 + 11) % 269).collect()
}

#[test]
fn every_family_matches_the_scoring_decoder_at_every_position() {
    for arch in [Arch::Qwen2, Arch::Qwen3, Arch::Llama, Arch::Mistral] {
        let (_dir, info) = tiny(arch, 7, 0.15);
        let scoring = LocalModel::load(&info, &DeviceSpec::Cpu, Precision::F32).unwrap();
        let model = trainable(&info, Tuning::Full);
        let seq = ids(40);
        let input = Tensor::new(seq.as_slice(), &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let ours = model.logits(&input).unwrap().squeeze(0).unwrap();
        let theirs = scoring.logits(&seq).unwrap();
        let diff = max_abs_diff(&ours, &theirs);
        assert!(diff <= TOL, "{arch}: logits differ by {diff}");
    }
}

#[test]
fn qwen3_and_llama_match_candle_transformers() {
    let seq = ids(33);
    let input = Tensor::new(seq.as_slice(), &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();

    let (dir, info) = tiny(Arch::Qwen3, 7, 0.15);
    let tensors =
        candle_core::safetensors::load(dir.path().join("model.safetensors"), &Device::Cpu).unwrap();
    let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
    let cfg: qwen3::Config =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap())
            .unwrap();
    let head = vb
        .get(
            (info.config.vocab_size, info.config.hidden_size),
            "lm_head.weight",
        )
        .unwrap();
    let hidden = qwen3::Model::new(&cfg, vb)
        .unwrap()
        .forward(&input, 0)
        .unwrap();
    let theirs = hidden
        .squeeze(0)
        .unwrap()
        .matmul(&head.t().unwrap())
        .unwrap();
    let ours = trainable(&info, Tuning::Full)
        .logits(&input)
        .unwrap()
        .squeeze(0)
        .unwrap();
    let diff = max_abs_diff(&ours, &theirs);
    assert!(diff <= TOL, "qwen3 differs by {diff}");

    let (dir, _info) = tiny(Arch::Llama, 7, 0.15);
    let tensors =
        candle_core::safetensors::load(dir.path().join("model.safetensors"), &Device::Cpu).unwrap();
    let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
    let cfg: llama::LlamaConfig =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap())
            .unwrap();
    let cfg = cfg.into_config(false);
    let reference = llama::Llama::load(vb, &cfg).unwrap();
    let mut cache = llama::Cache::new(false, DType::F32, &cfg, &Device::Cpu).unwrap();
    let theirs = reference
        .forward(&input, 0, &mut cache)
        .unwrap()
        .squeeze(0)
        .unwrap();
    let ours = trainable(&_info, Tuning::Full)
        .logits(&input)
        .unwrap()
        .squeeze(0)
        .unwrap();
    let last = ours.get(seq.len() - 1).unwrap();
    let diff = max_abs_diff(&last, &theirs);
    assert!(diff <= TOL, "llama differs by {diff}");
}

/// The loss of `examples` as evaluation computes it (weighted sum over the step's tokens).
fn step_loss(run: &Run<'_>, cfg: &dtac_numeric::train::TrainConfig, examples: &[&Example]) -> f64 {
    gradients(run, cfg, examples).unwrap().0
}

#[test]
fn parameter_gradients_match_finite_differences() {
    for (arch, objective, teacher_too, tie) in [
        (Arch::Qwen3, Objective::ForwardKl, false, false),
        (Arch::Qwen3, Objective::ForwardKl, false, true),
        (Arch::Llama, Objective::ReverseKl, true, false),
        (Arch::Qwen2, Objective::Jsd { beta: 0.3 }, true, true),
    ] {
        let (_dir, info) = common::tiny_with(arch, 11, 0.1, tie);
        let (_tdir, tinfo) = tiny(arch, 12, 0.1);
        let teacher = LocalModel::load(&tinfo, &DeviceSpec::Cpu, Precision::F32).unwrap();
        let mut examples = vec![
            pattern(3, 6, Some(vec![1.0, 0.5, 2.0, 1.0, 0.0, 1.0])),
            pattern(9, 4, None),
        ];
        if teacher_too {
            for e in &mut examples {
                e.teacher = ExampleTeacher::Logits {
                    ids: e.ids.clone(),
                    start: e.start,
                };
            }
        }
        let cfg = config(objective);
        let run = Run {
            model: trainable(&info, Tuning::Full),
            source: &info,
            teacher: Some(&teacher),
            train: &examples,
            eval: &[],
            dir: std::path::Path::new("/nonexistent"),
            fingerprint: String::new(),
        };
        let refs: Vec<&Example> = examples.iter().collect();
        let (_, grads) = gradients(&run, &cfg, &refs).unwrap();
        // Probe a few elements of several params: the embedding (also the LM head when
        // tied, where the hand-made head gradient lands), a projection, a norm.
        let params = run.model.params();
        for name in [
            "model.embed_tokens.weight",
            "model.layers.0.self_attn.q_proj.weight",
            "model.layers.1.mlp.down_proj.weight",
            "model.norm.weight",
            "lm_head.weight",
        ] {
            let Some(i) = params.iter().position(|p| p.name == name) else {
                continue;
            };
            let var = &params[i].var;
            let g = grads[i]
                .as_ref()
                .expect("a gradient")
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let original = var
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            // The element with the largest gradient, and one more.
            let big = (0..g.len())
                .max_by(|&a, &b| g[a].abs().total_cmp(&g[b].abs()))
                .unwrap();
            for j in [big, (big * 7 + 3) % g.len()] {
                let eps = 1e-2f32;
                let bump = |delta: f32| {
                    let mut v = original.clone();
                    v[j] += delta;
                    var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap())
                        .unwrap();
                    let l = step_loss(&run, &cfg, &refs);
                    var.set(
                        &Tensor::from_vec(original.clone(), var.shape(), &Device::Cpu).unwrap(),
                    )
                    .unwrap();
                    l
                };
                let fd = (bump(eps) - bump(-eps)) / (2.0 * eps as f64);
                let tol = 2e-3 + 2e-2 * fd.abs();
                assert!(
                    (fd - g[j] as f64).abs() <= tol,
                    "{arch} {name}[{j}]: finite difference {fd} vs gradient {}",
                    g[j]
                );
            }
        }
    }
}

#[test]
fn lora_starts_from_the_base_model_and_trains_only_adapters() {
    let (_dir, info) = tiny(Arch::Qwen3, 7, 0.15);
    let lora = LoraConfig {
        rank: 4,
        alpha: 8.0,
        dropout: 0.0,
        targets: vec!["q_proj".into(), "v_proj".into(), "down_proj".into()],
    };
    let model = trainable(&info, Tuning::Lora(lora));
    let full = trainable(&info, Tuning::Full);
    let seq = ids(20);
    let input = Tensor::new(seq.as_slice(), &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    assert!(
        max_abs_diff(
            &model.logits(&input).unwrap(),
            &full.logits(&input).unwrap()
        ) < 1e-6
    );
    let names: Vec<&str> = model.params().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), info.config.num_layers * 3 * 2);
    assert!(names.contains(&"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
    assert!(names.iter().all(|n| n.contains(".lora_")));
    let bad = LoraConfig {
        rank: 4,
        alpha: 8.0,
        dropout: 0.0,
        targets: vec!["attn".into()],
    };
    let err = dtac_numeric::train::load_trainable(
        &info,
        &DeviceSpec::Cpu,
        Tuning::Lora(bad),
        DType::F32,
        0,
    )
    .unwrap_err();
    assert!(err.to_string().contains("`attn`"), "{err}");
}
