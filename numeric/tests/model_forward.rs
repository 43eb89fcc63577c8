//! dtac's decoder against candle-transformers' implementations of the same families, on
//! tiny random checkpoints in f32: Llama and Mistral through their last-position logits,
//! Qwen2 and Qwen3 through hidden states at every position times the LM head.

use std::path::Path;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::VarBuilder;
use candle_transformers::models::{llama, mistral, qwen2, qwen3};
use dtac_numeric::fixtures::{write_tiny_checkpoint, ScratchDir, TinySpec};
use dtac_numeric::model::{inspect, Arch, DeviceSpec, LocalModel, Precision};
use serde_json::json;

/// Weights bigger than the default 0.02, so every difference in the computation moves
/// the logits by far more than the tolerance.
const STD: f32 = 0.15;
const TOL: f32 = 1e-4;

fn checkpoint(spec: &TinySpec) -> (ScratchDir, LocalModel) {
    let dir = ScratchDir::new("forward").unwrap();
    write_tiny_checkpoint(dir.path(), spec).unwrap();
    let info = inspect(dir.path()).unwrap();
    let model = LocalModel::load(&info, &DeviceSpec::Cpu, Precision::F32).unwrap();
    (dir, model)
}

fn spec(arch: Arch) -> TinySpec {
    let mut s = TinySpec::new(arch);
    s.init_std = STD;
    s.seed = 7;
    s
}

fn var_builder(dir: &Path) -> VarBuilder<'static> {
    let tensors =
        candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu).unwrap();
    VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu)
}

fn config_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("config.json")).unwrap()
}

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

/// A sequence touching most of the vocabulary, long enough for RoPE to matter.
fn ids(len: usize) -> Vec<u32> {
    (0..len as u32).map(|i| (i * 37 + 11) % 269).collect()
}

fn our_last_logits(model: &LocalModel, ids: &[u32]) -> Tensor {
    let logits = model.logits(ids).unwrap();
    logits.get(ids.len() - 1).unwrap()
}

fn logit_spread(logits: &Tensor) -> f32 {
    let max: f32 = logits.max(D::Minus1).unwrap().to_scalar().unwrap();
    let min: f32 = logits.min(D::Minus1).unwrap().to_scalar().unwrap();
    max - min
}

fn check_llama(spec: &TinySpec, len: usize) {
    let (dir, model) = checkpoint(spec);
    let cfg: llama::LlamaConfig = serde_json::from_str(&config_text(dir.path())).unwrap();
    let cfg = cfg.into_config(false);
    let reference = llama::Llama::load(var_builder(dir.path()), &cfg).unwrap();
    let seq = ids(len);
    for end in [1, len / 2, len] {
        let input = Tensor::new(&seq[..end], &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let mut cache = llama::Cache::new(false, DType::F32, &cfg, &Device::Cpu).unwrap();
        let theirs = reference
            .forward(&input, 0, &mut cache)
            .unwrap()
            .squeeze(0)
            .unwrap();
        let ours = our_last_logits(&model, &seq[..end]);
        let diff = max_abs_diff(&ours, &theirs);
        assert!(diff <= TOL, "llama logits differ by {diff} at length {end}");
        assert!(
            logit_spread(&ours) > 0.5,
            "the test weights are too small to discriminate"
        );
    }
}

#[test]
fn llama_matches_candle_transformers() {
    check_llama(&spec(Arch::Llama), 40);
}

#[test]
fn llama_with_llama3_rope_scaling_matches_candle_transformers() {
    let mut s = spec(Arch::Llama);
    s.tie_embeddings = true;
    s.extra_config.insert(
        "rope_scaling".into(),
        json!({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 16}),
    );
    s.extra_config.insert("rope_theta".into(), json!(500000.0));
    check_llama(&s, 60);
}

#[test]
fn mistral_with_an_explicit_head_dim_matches_candle_transformers() {
    let mut s = spec(Arch::Mistral);
    s.head_dim = Some(12); // not hidden / heads
    let (dir, model) = checkpoint(&s);
    let cfg: mistral::Config = serde_json::from_str(&config_text(dir.path())).unwrap();
    let mut reference = mistral::Model::new(&cfg, var_builder(dir.path())).unwrap();
    let seq = ids(33);
    let input = Tensor::new(seq.as_slice(), &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let theirs = reference.forward(&input, 0).unwrap().flatten_all().unwrap();
    let ours = our_last_logits(&model, &seq);
    let diff = max_abs_diff(&ours, &theirs);
    assert!(diff <= TOL, "mistral logits differ by {diff}");
}

/// Qwen: candle's models return the final hidden states; both sides use our LM head.
fn check_qwen(arch: Arch, tie: bool) {
    let mut s = spec(arch);
    s.tie_embeddings = tie;
    let (dir, model) = checkpoint(&s);
    let vb = var_builder(dir.path());
    let head_name = if tie {
        "model.embed_tokens.weight"
    } else {
        "lm_head.weight"
    };
    let head = vb.get((s.vocab, s.hidden), head_name).unwrap();
    let seq = ids(45);
    let input = Tensor::new(seq.as_slice(), &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let hidden = match arch {
        Arch::Qwen2 => {
            let cfg: qwen2::Config = serde_json::from_str(&config_text(dir.path())).unwrap();
            qwen2::Model::new(&cfg, vb)
                .unwrap()
                .forward(&input, 0, None)
                .unwrap()
        }
        _ => {
            let cfg: qwen3::Config = serde_json::from_str(&config_text(dir.path())).unwrap();
            qwen3::Model::new(&cfg, vb)
                .unwrap()
                .forward(&input, 0)
                .unwrap()
        }
    };
    let theirs = hidden
        .squeeze(0)
        .unwrap()
        .matmul(&head.t().unwrap())
        .unwrap();
    let ours = model.logits(&seq).unwrap();
    assert_eq!(ours.dims(), &[seq.len(), s.vocab]);
    let diff = max_abs_diff(&ours, &theirs);
    assert!(diff <= TOL, "{arch} logits differ by {diff}");
    assert!(logit_spread(&ours.get(10).unwrap()) > 0.5);
}

#[test]
fn qwen2_matches_candle_transformers_at_every_position() {
    check_qwen(Arch::Qwen2, false);
    check_qwen(Arch::Qwen2, true);
}

#[test]
fn qwen3_matches_candle_transformers_at_every_position() {
    check_qwen(Arch::Qwen3, false);
    check_qwen(Arch::Qwen3, true);
}
