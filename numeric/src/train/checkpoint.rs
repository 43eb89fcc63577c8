//! Saving what training produced in the Hugging Face layout, and resuming from it.
//!
//! - Full fine-tuning: `model.safetensors` under `transformers`' tensor names, beside
//!   copies of the source checkpoint's `config.json`, tokenizer and template files, so the
//!   directory loads like the original (`from_pretrained`, dtac's own `student { path }`).
//! - LoRA: `adapter_model.safetensors` under PEFT's names and `adapter_config.json`.
//! - Intermediate checkpoints (`checkpoint-N/`) are the same export in f32 plus
//!   `optimizer.safetensors` (AdamW's moments) and `trainer_state.json`, which is written
//!   last: a directory without it is incomplete and never resumed from.
//!
//! Every directory is written under a temporary name and renamed into place, so a crash
//! leaves either the previous checkpoint or the new one, never half of one.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use super::adamw::AdamW;
use super::lora::adapter_config;
use super::student::{TrainableModel, Tuning};
use super::TrainError;
use crate::model::CheckpointInfo;

pub const MODEL_FILE: &str = "model.safetensors";
pub const ADAPTER_FILE: &str = "adapter_model.safetensors";
pub const ADAPTER_CONFIG: &str = "adapter_config.json";
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
pub const STATE_FILE: &str = "trainer_state.json";

/// Where a run stands, saved with each checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Optimizer steps done.
    pub step: u64,
    pub total_steps: u64,
    /// A digest of the data and settings: a checkpoint of other data is not resumed.
    pub fingerprint: String,
}

/// Writes the model (or its adapters) to `dir` in the Hugging Face layout, in `dtype`.
pub fn export(
    model: &TrainableModel,
    source: &CheckpointInfo,
    dir: &Path,
    dtype: DType,
) -> Result<(), TrainError> {
    atomic_dir(dir, |tmp| write_export(model, source, tmp, dtype))
}

fn write_export(
    model: &TrainableModel,
    source: &CheckpointInfo,
    dir: &Path,
    dtype: DType,
) -> Result<(), TrainError> {
    copy_support_files(&source.dir, dir)?;
    match model.tuning() {
        Tuning::Full => {
            let tensors = model
                .base_tensors()
                .into_iter()
                .map(|(n, t)| Ok((n, t.to_dtype(dtype)?)))
                .collect::<candle_core::Result<HashMap<_, _>>>()?;
            save_tensors(&tensors, &dir.join(MODEL_FILE))?;
            // The stored dtype, so loaders pick the right one by default.
            patch_dtype(&dir.join(crate::model::CONFIG_FILE), dtype)?;
        }
        Tuning::Lora(cfg) => {
            let tensors = model
                .params()
                .iter()
                .map(|p| Ok((p.name.clone(), p.var.as_tensor().to_dtype(dtype)?)))
                .collect::<candle_core::Result<HashMap<_, _>>>()?;
            save_tensors(&tensors, &dir.join(ADAPTER_FILE))?;
            let config = adapter_config(cfg, &source.dir.display().to_string());
            write_file(
                &dir.join(ADAPTER_CONFIG),
                serde_json::to_string_pretty(&config)
                    .unwrap_or_default()
                    .as_bytes(),
            )?;
        }
    }
    Ok(())
}

/// Saves checkpoint `step` into `run_dir/checkpoint-{step}` and keeps the newest `keep`.
pub fn save_checkpoint(
    model: &TrainableModel,
    optimizer: &AdamW,
    source: &CheckpointInfo,
    run_dir: &Path,
    state: &TrainerState,
    keep: usize,
) -> Result<PathBuf, TrainError> {
    let dir = run_dir.join(format!("checkpoint-{}", state.step));
    atomic_dir(&dir, |tmp| {
        write_export(model, source, tmp, DType::F32)?;
        let mut moments = HashMap::new();
        for (i, p) in model.params().iter().enumerate() {
            let shape = p.var.shape().clone();
            let dev = &Device::Cpu;
            moments.insert(
                format!("m.{}", p.name),
                Tensor::from_slice(&optimizer.m[i], shape.clone(), dev)?,
            );
            moments.insert(
                format!("v.{}", p.name),
                Tensor::from_slice(&optimizer.v[i], shape, dev)?,
            );
        }
        moments.insert(
            "adam_steps".to_string(),
            Tensor::new(&[optimizer.steps as f64], &Device::Cpu)?,
        );
        save_tensors(&moments, &tmp.join(OPTIMIZER_FILE))?;
        let json = serde_json::to_string_pretty(state).unwrap_or_default();
        write_file(&tmp.join(STATE_FILE), json.as_bytes())
    })?;
    let mut all = checkpoints(run_dir);
    all.sort();
    while all.len() > keep.max(1) {
        let (_, old) = all.remove(0);
        let _ = fs::remove_dir_all(old);
    }
    Ok(dir)
}

/// Complete checkpoints in `run_dir`, as `(step, dir)`.
pub fn checkpoints(run_dir: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(entries) = fs::read_dir(run_dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let step = name.strip_prefix("checkpoint-")?.parse::<u64>().ok()?;
            e.path()
                .join(STATE_FILE)
                .is_file()
                .then(|| (step, e.path()))
        })
        .collect()
}

/// The newest complete checkpoint whose fingerprint matches, with its state.
pub fn latest(run_dir: &Path, fingerprint: &str) -> Option<(TrainerState, PathBuf)> {
    let mut all = checkpoints(run_dir);
    all.sort();
    all.into_iter().rev().find_map(|(_, dir)| {
        let text = fs::read_to_string(dir.join(STATE_FILE)).ok()?;
        let state: TrainerState = serde_json::from_str(&text).ok()?;
        (state.fingerprint == fingerprint).then_some((state, dir))
    })
}

/// Loads the params and optimizer moments of a checkpoint into `model` and `optimizer`.
pub fn restore(
    model: &TrainableModel,
    optimizer: &mut AdamW,
    dir: &Path,
) -> Result<(), TrainError> {
    let weights_file = match model.tuning() {
        Tuning::Full => dir.join(MODEL_FILE),
        Tuning::Lora(_) => dir.join(ADAPTER_FILE),
    };
    let weights = load_tensors(&weights_file)?;
    let moments = load_tensors(&dir.join(OPTIMIZER_FILE))?;
    let damaged = |what: String| TrainError::Checkpoint {
        path: dir.to_path_buf(),
        message: what,
    };
    for (i, p) in model.params().iter().enumerate() {
        let w = weights
            .get(&p.name)
            .ok_or_else(|| damaged(format!("`{}` is missing", p.name)))?;
        if w.dims() != p.var.dims() {
            return Err(damaged(format!(
                "`{}` has shape {:?}, expected {:?}",
                p.name,
                w.dims(),
                p.var.dims()
            )));
        }
        p.var
            .set(&w.to_dtype(DType::F32)?.to_device(p.var.device())?)?;
        for (key, slot) in [("m", &mut optimizer.m[i]), ("v", &mut optimizer.v[i])] {
            let t = moments.get(&format!("{key}.{}", p.name)).ok_or_else(|| {
                damaged(format!("the optimizer state of `{}` is missing", p.name))
            })?;
            *slot = t.flatten_all()?.to_vec1::<f32>()?;
        }
    }
    optimizer.steps = moments
        .get("adam_steps")
        .and_then(|t| t.to_vec1::<f64>().ok())
        .and_then(|v| v.first().copied())
        .unwrap_or(0.0) as u64;
    Ok(())
}

fn load_tensors(path: &Path) -> Result<HashMap<String, Tensor>, TrainError> {
    let bytes = fs::read(path).map_err(|e| TrainError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).map_err(|e| {
        TrainError::Checkpoint {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    })
}

fn save_tensors(tensors: &HashMap<String, Tensor>, path: &Path) -> Result<(), TrainError> {
    let cpu = tensors
        .iter()
        .map(|(n, t)| Ok((n.clone(), t.to_device(&Device::Cpu)?.contiguous()?)))
        .collect::<candle_core::Result<HashMap<_, _>>>()?;
    candle_core::safetensors::save(&cpu, path).map_err(|e| TrainError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Files a loader needs besides the weights: configs, tokenizer, templates.
fn copy_support_files(from: &Path, to: &Path) -> Result<(), TrainError> {
    let io = |path: &Path, e: std::io::Error| TrainError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    for entry in fs::read_dir(from).map_err(|e| io(from, e))?.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let support = (name.ends_with(".json") && name != crate::model::INDEX_FILE)
            || name.ends_with(".jinja")
            || name.ends_with(".txt")
            || name.ends_with(".model");
        if support && entry.path().is_file() {
            fs::copy(entry.path(), to.join(&name)).map_err(|e| io(&entry.path(), e))?;
        }
    }
    Ok(())
}

fn patch_dtype(config: &Path, dtype: DType) -> Result<(), TrainError> {
    let Ok(text) = fs::read_to_string(config) else {
        return Ok(());
    };
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Ok(());
    };
    let name = match dtype {
        DType::BF16 => "bfloat16",
        DType::F16 => "float16",
        _ => "float32",
    };
    if let Some(obj) = value.as_object_mut() {
        obj.insert("torch_dtype".into(), name.into());
    }
    write_file(
        config,
        serde_json::to_string_pretty(&value)
            .unwrap_or(text)
            .as_bytes(),
    )
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    fs::write(path, bytes).map_err(|e| TrainError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Copies the files of the export `from` to `to` (replacing it) through a temporary
/// sibling, so `to` is either the old directory or the complete new one.
pub fn copy_export(from: &Path, to: &Path) -> Result<(), TrainError> {
    atomic_dir(to, |tmp| {
        let entries = fs::read_dir(from).map_err(|e| TrainError::io(from, e))?;
        for entry in entries.flatten() {
            if entry.path().is_file() {
                fs::copy(entry.path(), tmp.join(entry.file_name()))
                    .map_err(|e| TrainError::io(&entry.path(), e))?;
            }
        }
        Ok(())
    })
}

/// Fills a fresh temporary sibling of `dir`, then swaps it into place.
fn atomic_dir(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<(), TrainError>,
) -> Result<(), TrainError> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let parent = dir.parent().unwrap_or(Path::new("."));
    let io = |path: &Path, e: std::io::Error| TrainError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    if let Err(e) = fill(&tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if dir.exists() {
        // Renaming over a non-empty directory fails; the old one goes first. A crash in
        // between leaves the complete temporary copy, and the older checkpoints.
        fs::remove_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    fs::rename(&tmp, dir).map_err(|e| io(dir, e))
}
