//! Shared by the training tests: tiny checkpoints, example builders, a default config.

use candle_core::DType;
use dtac_numeric::fixtures::{write_tiny_checkpoint, ScratchDir, TinySpec};
use dtac_numeric::model::{inspect, Arch, CheckpointInfo, DeviceSpec};
use dtac_numeric::objectives::{Objective, ObjectiveSpec};
use dtac_numeric::train::{
    load_trainable, AdamWConfig, Decay, Example, ExampleTeacher, TrainConfig, TrainableModel,
    Tuning,
};

pub fn tiny(arch: Arch, seed: u64, std: f32) -> (ScratchDir, CheckpointInfo) {
    tiny_with(arch, seed, std, false)
}

pub fn tiny_with(arch: Arch, seed: u64, std: f32, tie: bool) -> (ScratchDir, CheckpointInfo) {
    let dir = ScratchDir::new("train").unwrap();
    let mut spec = TinySpec::new(arch);
    spec.tie_embeddings = tie;
    spec.seed = seed;
    spec.init_std = std;
    write_tiny_checkpoint(dir.path(), &spec).unwrap();
    let info = inspect(dir.path()).unwrap();
    (dir, info)
}

pub fn trainable(info: &CheckpointInfo, tuning: Tuning) -> TrainableModel {
    load_trainable(info, &DeviceSpec::Cpu, tuning, DType::F32, 3).unwrap()
}

pub fn config(objective: Objective) -> TrainConfig {
    TrainConfig {
        objective: ObjectiveSpec {
            objective,
            temperature: 1.0,
        },
        epochs: 1,
        lr: 1e-2,
        batch_size: 2,
        grad_accum: 1,
        warmup: 0.0,
        decay: Decay::Constant,
        adamw: AdamWConfig::default(),
        max_grad_norm: 1.0,
        eval_every: 0,
        save_every: 0,
        seed: 5,
        keep_checkpoints: 2,
        export_dtype: DType::F32,
    }
}

/// A sequence with a learnable pattern: `prompt` then a periodic target.
pub fn pattern(prompt: u32, len: usize, weights: Option<Vec<f32>>) -> Example {
    let mut ids = vec![prompt, prompt + 1];
    ids.extend((0..len as u32).map(|i| 40 + (i * 7 + prompt) % 13));
    Example {
        ids,
        start: 2,
        weights,
        teacher: ExampleTeacher::Text,
    }
}
