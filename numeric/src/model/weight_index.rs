//! Which weight files a checkpoint has and which tensors each holds, from the safetensors
//! headers alone: a header is the file's first 8 bytes (its length) and a JSON object,
//! so a multi-gigabyte checkpoint is checked in milliseconds.
//!
//! With `model.safetensors.index.json` the shards are the files its `weight_map` names;
//! without it, every `*.safetensors` file in the directory.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use safetensors::tensor::TensorInfo;
use serde_json::Value;

use super::CheckpointError;

pub const INDEX_FILE: &str = "model.safetensors.index.json";

/// Headers larger than this are refused as corrupt (safetensors itself allows 100 MB).
const MAX_HEADER: u64 = 100_000_000;

/// One tensor as its header describes it.
#[derive(Debug, Clone)]
pub struct TensorEntry {
    pub file: PathBuf,
    pub dtype: safetensors::Dtype,
    pub shape: Vec<usize>,
}

/// Every tensor of a checkpoint, by name, and the files they live in.
#[derive(Debug, Clone)]
pub struct WeightIndex {
    pub files: Vec<PathBuf>,
    pub tensors: HashMap<String, TensorEntry>,
}

impl WeightIndex {
    /// Lists and reads the headers of the weight files in `dir`.
    pub fn read(dir: &Path) -> Result<WeightIndex, CheckpointError> {
        let index_path = dir.join(INDEX_FILE);
        let (files, weight_map) = if index_path.is_file() {
            let map = read_weight_map(&index_path)?;
            let shards: BTreeSet<&String> = map.values().collect();
            let mut files = Vec::new();
            for shard in shards {
                let file = dir.join(shard);
                if !file.is_file() {
                    return Err(CheckpointError::ShardMissing {
                        index: index_path.clone(),
                        shard: shard.clone(),
                    });
                }
                files.push(file);
            }
            (files, Some(map))
        } else {
            (list_safetensors(dir)?, None)
        };
        if files.is_empty() {
            return Err(CheckpointError::NoWeights {
                dir: dir.to_path_buf(),
            });
        }
        let mut tensors = HashMap::new();
        for file in &files {
            for (name, info) in read_header(file)? {
                tensors.insert(
                    name,
                    TensorEntry {
                        file: file.clone(),
                        dtype: info.dtype,
                        shape: info.shape,
                    },
                );
            }
        }
        // The index promises where each tensor is; a shard that lacks one is incomplete.
        if let Some(map) = weight_map {
            for (name, shard) in map {
                let file = dir.join(&shard);
                if tensors.get(&name).map(|t| &t.file) != Some(&file) {
                    return Err(CheckpointError::TensorMissing {
                        name,
                        searched: format!("`{}`, where `{INDEX_FILE}` puts it", file.display()),
                    });
                }
            }
        }
        Ok(WeightIndex { files, tensors })
    }

    /// A short list of the files searched, for "tensor missing" messages.
    pub fn searched(&self) -> String {
        let names: Vec<String> = self
            .files
            .iter()
            .map(|f| format!("`{}`", f.display()))
            .collect();
        names.join(", ")
    }
}

fn read_weight_map(path: &Path) -> Result<HashMap<String, String>, CheckpointError> {
    let invalid = |message: String| CheckpointError::IndexInvalid {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let map = value
        .get("weight_map")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("it has no `weight_map` object".into()))?;
    map.iter()
        .map(|(name, file)| match file.as_str() {
            // A shard name must stay inside the checkpoint directory.
            Some(f) if !f.contains('/') && !f.contains('\\') && f != ".." => {
                Ok((name.clone(), f.to_string()))
            }
            _ => Err(invalid(format!(
                "the entry for `{name}` is not a file name"
            ))),
        })
        .collect()
}

fn list_safetensors(dir: &Path) -> Result<Vec<PathBuf>, CheckpointError> {
    let entries = std::fs::read_dir(dir).map_err(|source| CheckpointError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "safetensors"))
        .collect();
    files.sort();
    Ok(files)
}

/// Reads one file's header and checks it against the file's length, so a truncated
/// download is caught here rather than at load time.
pub fn read_header(path: &Path) -> Result<Vec<(String, TensorInfo)>, CheckpointError> {
    let invalid = |message: String| CheckpointError::HeaderInvalid {
        path: path.to_path_buf(),
        message,
    };
    let io = |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let mut len_bytes = [0u8; 8];
    file.read_exact(&mut len_bytes)
        .map_err(|_| invalid(format!("the file is only {file_len} bytes long")))?;
    let header_len = u64::from_le_bytes(len_bytes);
    if header_len > MAX_HEADER || 8 + header_len > file_len {
        return Err(invalid(format!(
            "it declares a {header_len}-byte header in a {file_len}-byte file"
        )));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header).map_err(io)?;
    let entries: HashMap<String, Value> = serde_json::from_slice(&header)
        .map_err(|e| invalid(format!("the header is not a JSON object: {e}")))?;
    let mut out = Vec::with_capacity(entries.len());
    let mut data_end = 0usize;
    for (name, entry) in entries {
        if name == "__metadata__" {
            continue;
        }
        let info: TensorInfo = serde_json::from_value(entry)
            .map_err(|e| invalid(format!("the entry for `{name}` is malformed: {e}")))?;
        let (start, end) = info.data_offsets;
        let bits = info.shape.iter().product::<usize>() * info.dtype.bitsize();
        if end < start || (end - start) * 8 != bits {
            return Err(invalid(format!(
                "`{name}` spans bytes {start}..{end}, which does not fit its shape {:?} of {}",
                info.shape, info.dtype
            )));
        }
        data_end = data_end.max(end);
        out.push((name, info));
    }
    let expected = 8 + header_len + data_end as u64;
    if expected != file_len {
        return Err(invalid(format!(
            "the header describes {expected} bytes but the file has {file_len} (truncated?)"
        )));
    }
    Ok(out)
}
