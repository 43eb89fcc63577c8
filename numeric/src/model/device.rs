//! Where a model runs and in which precision: the `device = "auto" | "cpu" | "cuda:N"` and
//! `dtype = "f32" | "bf16" | "f16"` settings of a `student { … }` block, parsed and resolved
//! to candle's `Device` and `DType`.
//!
//! candle decides CUDA support at compile time. This build has none unless candle was
//! compiled with its `cuda` feature, so `cuda:N` is refused with a message saying so and
//! `auto` falls back to the CPU. On the CPU all three precisions work: candle's matmul has
//! f32 and f16 kernels and widens bf16 to f32 per product (correct, but slower than f32).

use std::fmt;
use std::str::FromStr;

use candle_core::{DType, Device};

/// A `device = "…"` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceSpec {
    /// The first CUDA device when candle has CUDA support, otherwise the CPU.
    #[default]
    Auto,
    Cpu,
    /// `cuda:N`, the N-th CUDA device.
    Cuda(usize),
}

/// A `dtype = "…"` setting: the precision weights and activations are held in. Log
/// probabilities are always computed in f32 from the logits, whatever this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    #[default]
    F32,
    Bf16,
    F16,
}

/// A device or precision setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("unknown device `{given}`")]
    UnknownDevice { given: String },
    #[error("unknown dtype `{given}`")]
    UnknownPrecision { given: String },
    #[error(
        "device `cuda:{index}` was asked for, but dtac was built without CUDA support for models"
    )]
    CudaNotBuilt { index: usize },
    #[error("cannot open CUDA device `cuda:{index}`: {message}")]
    CudaOpen { index: usize, message: String },
}

impl DeviceError {
    /// How to fix it, in a sentence.
    pub fn help(&self) -> String {
        match self {
            DeviceError::UnknownDevice { .. } => {
                "write `device = \"auto\"`, `\"cpu\"` or `\"cuda:N\"` (N a device number, e.g. `cuda:0`)"
                    .into()
            }
            DeviceError::UnknownPrecision { .. } => {
                "write `dtype = \"f32\"`, `\"bf16\"` or `\"f16\"`".into()
            }
            DeviceError::CudaNotBuilt { .. } => {
                "use `device = \"cpu\"` (or `\"auto\"`), or rebuild dtac with `--features cuda`"
                    .into()
            }
            DeviceError::CudaOpen { .. } => {
                "check the device number against `nvidia-smi`, or use `device = \"cpu\"`".into()
            }
        }
    }
}

impl FromStr for DeviceSpec {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || DeviceError::UnknownDevice {
            given: s.to_string(),
        };
        match s.trim() {
            "auto" => Ok(DeviceSpec::Auto),
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            other => {
                let index = other.strip_prefix("cuda:").ok_or_else(unknown)?;
                // Digits only: `usize::from_str` would also take a leading `+`.
                if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(unknown());
                }
                index.parse().map(DeviceSpec::Cuda).map_err(|_| unknown())
            }
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Auto => f.write_str("auto"),
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl DeviceSpec {
    /// The candle device this setting names, opened.
    pub fn resolve(&self) -> Result<Device, DeviceError> {
        match *self {
            DeviceSpec::Cpu => Ok(Device::Cpu),
            DeviceSpec::Auto if candle_core::utils::cuda_is_available() => open_cuda(0),
            DeviceSpec::Auto => Ok(Device::Cpu),
            DeviceSpec::Cuda(index) if candle_core::utils::cuda_is_available() => open_cuda(index),
            DeviceSpec::Cuda(index) => Err(DeviceError::CudaNotBuilt { index }),
        }
    }
}

fn open_cuda(index: usize) -> Result<Device, DeviceError> {
    Device::new_cuda(index).map_err(|e| DeviceError::CudaOpen {
        index,
        message: e.to_string(),
    })
}

impl FromStr for Precision {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "f32" | "float32" => Ok(Precision::F32),
            "bf16" | "bfloat16" => Ok(Precision::Bf16),
            "f16" | "float16" => Ok(Precision::F16),
            _ => Err(DeviceError::UnknownPrecision {
                given: s.to_string(),
            }),
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
            Precision::F16 => "f16",
        })
    }
}

impl Precision {
    /// The candle dtype weights are converted to at load time.
    pub fn dtype(&self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::Bf16 => DType::BF16,
            Precision::F16 => DType::F16,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_recipe_spellings() {
        assert_eq!("auto".parse::<DeviceSpec>().unwrap(), DeviceSpec::Auto);
        assert_eq!("cpu".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
        assert_eq!("cuda:3".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(3));
        for bad in ["gpu", "cuda:", "cuda:x", "cuda:+1", "CPU", ""] {
            assert!(bad.parse::<DeviceSpec>().is_err(), "{bad:?} was accepted");
        }
        assert_eq!("bf16".parse::<Precision>().unwrap(), Precision::Bf16);
        assert!("f8".parse::<Precision>().is_err());
    }

    #[test]
    fn cuda_without_candle_cuda_is_a_clear_error() {
        if candle_core::utils::cuda_is_available() {
            return;
        }
        let err = DeviceSpec::Cuda(1).resolve().unwrap_err();
        assert!(matches!(err, DeviceError::CudaNotBuilt { index: 1 }));
        assert!(err.to_string().contains("without CUDA support"));
        assert!(DeviceSpec::Auto.resolve().unwrap().is_cpu());
    }
}
