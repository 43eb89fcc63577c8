//! LoRA: low-rank adapters beside frozen linear layers, `y = x Wᵀ + (α/r) · drop(x) Aᵀ Bᵀ`,
//! with A `[r, in]` drawn like PEFT's default (Kaiming-uniform, bound 1/√in) and B `[out,
//! r]` zero, so training starts from the base model exactly.
//!
//! Adapters are saved under PEFT's names (`base_model.model.<module>.lora_A.weight`) with
//! an `adapter_config.json`, so `peft` loads them onto the base checkpoint.

use candle_core::{DType, Device, Result, Tensor, Var};

use super::prng::Prng;

/// The modules of a decoder layer that can take an adapter, as `transformers` names them.
pub const LORA_MODULES: [&str; 7] = [
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
];

/// The `lora = { ... }` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraConfig {
    pub rank: usize,
    pub alpha: f64,
    pub dropout: f32,
    /// Module names from [`LORA_MODULES`].
    pub targets: Vec<String>,
}

impl LoraConfig {
    /// The settings checked: a positive rank, a dropout in [0, 1), known module names.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.rank == 0 {
            return Err("the LoRA rank must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("LoRA dropout {} is outside [0, 1)", self.dropout));
        }
        if self.targets.is_empty() {
            return Err("LoRA needs at least one target module".into());
        }
        if let Some(bad) = self
            .targets
            .iter()
            .find(|t| !LORA_MODULES.contains(&t.as_str()))
        {
            return Err(format!(
                "`{bad}` is not a module of the decoder layers; use some of {}",
                LORA_MODULES.join(", ")
            ));
        }
        Ok(())
    }

    pub fn scale(&self) -> f64 {
        self.alpha / self.rank as f64
    }

    pub fn targets(&self, module: &str) -> bool {
        self.targets.iter().any(|t| t == module)
    }
}

/// One adapter pair.
#[derive(Debug, Clone)]
pub struct Adapter {
    pub a: Var,
    pub b: Var,
    pub scale: f64,
    pub dropout: f32,
}

impl Adapter {
    /// A fresh adapter for a `[out, in]` weight.
    pub fn new(
        out: usize,
        inp: usize,
        cfg: &LoraConfig,
        rng: &mut Prng,
        device: &Device,
    ) -> Result<Adapter> {
        let bound = 1.0 / (inp as f32).sqrt();
        let a: Vec<f32> = (0..cfg.rank * inp)
            .map(|_| (rng.next_f32() * 2.0 - 1.0) * bound)
            .collect();
        Ok(Adapter {
            a: Var::from_tensor(&Tensor::from_vec(a, (cfg.rank, inp), device)?)?,
            b: Var::from_tensor(&Tensor::zeros((out, cfg.rank), DType::F32, device)?)?,
            scale: cfg.scale(),
            dropout: cfg.dropout,
        })
    }

    /// `(α/r) · drop(x) Aᵀ Bᵀ` for `x` `[..., in]`; dropout only when `rng` is given
    /// (training), with the inverted scaling so evaluation needs none.
    pub fn forward(&self, x: &Tensor, rng: Option<&mut Prng>) -> Result<Tensor> {
        let dtype = x.dtype();
        let x = match rng {
            Some(rng) if self.dropout > 0.0 => {
                let keep = 1.0 - self.dropout;
                let mask: Vec<f32> = (0..x.elem_count())
                    .map(|_| {
                        if rng.next_f32() < keep {
                            1.0 / keep
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(dtype)?;
                (x * mask)?
            }
            _ => x.clone(),
        };
        let a = self.a.as_tensor().to_dtype(dtype)?;
        let b = self.b.as_tensor().to_dtype(dtype)?;
        x.broadcast_matmul(&a.t()?)?.broadcast_matmul(&b.t()?)? * self.scale
    }
}

/// PEFT's tensor name for one half of the adapter on `module` (e.g.
/// `model.layers.0.self_attn.q_proj`).
pub fn peft_name(module: &str, half: char) -> String {
    format!("base_model.model.{module}.lora_{half}.weight")
}

/// The `adapter_config.json` PEFT reads.
pub fn adapter_config(cfg: &LoraConfig, base: &str) -> serde_json::Value {
    serde_json::json!({
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "base_model_name_or_path": base,
        "r": cfg.rank,
        "lora_alpha": cfg.alpha,
        "lora_dropout": cfg.dropout,
        "target_modules": cfg.targets,
        "bias": "none",
        "fan_in_fan_out": false,
        "inference_mode": true,
        "init_lora_weights": true,
        "use_rslora": false,
        "use_dora": false,
        "modules_to_save": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> LoraConfig {
        LoraConfig {
            rank: 4,
            alpha: 8.0,
            dropout: 0.0,
            targets: vec!["q_proj".into()],
        }
    }

    #[test]
    fn a_fresh_adapter_adds_nothing_and_bad_settings_are_named() {
        let mut rng = Prng::new(1);
        let adapter = Adapter::new(6, 5, &cfg(), &mut rng, &Device::Cpu).unwrap();
        let x = Tensor::ones((2, 3, 5), DType::F32, &Device::Cpu).unwrap();
        let y = adapter.forward(&x, None).unwrap();
        assert_eq!(y.dims(), &[2, 3, 6]);
        assert_eq!(
            y.abs()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap(),
            0.0
        );
        let mut bad = cfg();
        bad.targets = vec!["qproj".into()];
        assert!(bad.validate().unwrap_err().contains("qproj"));
        bad = cfg();
        bad.rank = 0;
        assert!(bad.validate().is_err());
        assert_eq!(cfg().scale(), 2.0);
        assert_eq!(
            peft_name("model.layers.0.self_attn.q_proj", 'A'),
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"
        );
    }
}
