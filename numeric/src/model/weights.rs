//! Reading the weights: each safetensors file in turn, read into memory, parsed, and the
//! tensors the decoder needs copied out in the chosen dtype and onto the device. One file
//! is in memory at a time, and nothing is memory-mapped (mapping needs `unsafe`, which
//! this workspace denies: a file changed underneath a map is undefined behaviour).

use std::collections::{HashMap, HashSet};

use candle_core::safetensors::Load;
use candle_core::{DType, Device, Tensor};

use super::layout::expected_tensors;
use super::{CheckpointInfo, ModelError};

/// The tensors `expected_tensors` lists, by name, in `dtype` on `device`.
pub fn load_weights(
    info: &CheckpointInfo,
    dtype: DType,
    device: &Device,
) -> Result<HashMap<String, Tensor>, ModelError> {
    let wanted: HashSet<String> = expected_tensors(&info.config)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let mut out = HashMap::with_capacity(wanted.len());
    for path in &info.weight_files {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Read {
            path: path.clone(),
            source,
        })?;
        let bad = |message: String| ModelError::Weights {
            path: path.clone(),
            message,
        };
        let file = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
        for (name, view) in file.tensors() {
            if !wanted.contains(&name) {
                continue;
            }
            // Convert on the CPU, then move: the device never holds the stored dtype.
            let tensor = view
                .load(&Device::Cpu)
                .and_then(|t| t.to_dtype(dtype))
                .and_then(|t| t.to_device(device))
                .map_err(|e| bad(format!("`{name}`: {e}")))?;
            out.insert(name, tensor);
        }
    }
    if let Some(name) = wanted.iter().find(|n| !out.contains_key(*n)) {
        return Err(ModelError::Checkpoint(
            super::CheckpointError::TensorMissing {
                name: name.clone(),
                searched: format!("{} weight files", info.weight_files.len()),
            },
        ));
    }
    Ok(out)
}
