//! `export_trainer`'s translation of dtac's training settings into TRL's and verl's option
//! names, and the objectives they cannot express. Pure functions over plain data; the
//! full tables are in docs/trainers.md.

use serde_json::{json, Map, Value as Json};

/// The settings being translated.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub model: String,
    pub teacher: Option<String>,
    /// dtac's objective name and its settings.
    pub objective: String,
    pub beta: Option<f64>,
    pub temperature: f64,
    pub epochs: i64,
    pub lr: f64,
    pub batch_size: i64,
    pub grad_accum: i64,
    pub max_seq_len: i64,
    pub lora: Option<Lora>,
}

/// `lora = { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Lora {
    pub rank: i64,
    pub alpha: f64,
    pub dropout: f64,
    pub targets: Vec<String>,
}

/// Which TRL trainer a plan becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrlMode {
    Sft,
    Gkd,
}

impl TrlMode {
    pub fn name(&self) -> &'static str {
        match self {
            TrlMode::Sft => "sft",
            TrlMode::Gkd => "gkd",
        }
    }
}

/// Why a plan cannot be expressed, and what to do instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub message: String,
    pub help: String,
}

fn refuse(message: String, help: &str) -> Refusal {
    Refusal {
        message,
        help: help.into(),
    }
}

/// TRL's GKD β for dtac's objective: GKD's generalized JSD with mixture `βq + (1−β)p` is
/// dtac's `jsd` with the same β, forward KL at β = 0 and reverse KL at β = 1 (TRL ≥ 0.16;
/// see docs/objectives.md "Mapping to TRL").
pub fn gkd_beta(objective: &str, beta: Option<f64>) -> Option<f64> {
    match objective {
        "forward_kl" => Some(0.0),
        "reverse_kl" => Some(1.0),
        "jsd" => Some(beta.unwrap_or(0.5)),
        _ => None,
    }
}

/// The TRL trainer and its config (`SFTConfig` or `GKDConfig` keyword arguments).
pub fn trl(plan: &Plan, output_dir: &str) -> Result<(TrlMode, Map<String, Json>), Refusal> {
    let mode = match (&plan.teacher, plan.objective.as_str()) {
        (None, "forward_kl") => TrlMode::Sft,
        (None, other) => {
            return Err(refuse(
                format!("`{other}` needs a teacher distribution, but no `teacher` is given"),
                "set `teacher` to the teacher's Hugging Face id or path (GKD), or use `forward_kl` for SFT",
            ))
        }
        (Some(_), "forward_kl" | "reverse_kl" | "jsd") => TrlMode::Gkd,
        (Some(_), other) => {
            return Err(refuse(
                format!("TRL's GKDTrainer has no counterpart of `{other}`"),
                "use forward_kl, reverse_kl or jsd with TRL, or train in-process with `distill`",
            ))
        }
    };
    if mode == TrlMode::Gkd && (plan.temperature - 1.0).abs() > 1e-12 {
        return Err(refuse(
            format!(
                "temperature {} cannot be expressed: GKDTrainer computes its loss at temperature 1 \
                 (its `temperature` only samples on-policy generations)",
                plan.temperature
            ),
            "use temperature 1 with TRL, or train in-process with `distill`",
        ));
    }
    let mut c = Map::new();
    c.insert("output_dir".into(), json!(output_dir));
    c.insert("num_train_epochs".into(), json!(plan.epochs));
    c.insert("learning_rate".into(), json!(plan.lr));
    c.insert("per_device_train_batch_size".into(), json!(plan.batch_size));
    c.insert("gradient_accumulation_steps".into(), json!(plan.grad_accum));
    c.insert("max_length".into(), json!(plan.max_seq_len));
    c.insert("lr_scheduler_type".into(), json!("cosine"));
    c.insert("logging_steps".into(), json!(10));
    c.insert("bf16".into(), json!(true));
    if let (TrlMode::Gkd, Some(teacher)) = (mode, &plan.teacher) {
        let beta = gkd_beta(&plan.objective, plan.beta).unwrap_or(0.0);
        c.insert("teacher_model_name_or_path".into(), json!(teacher));
        c.insert("beta".into(), json!(beta));
        // Offline distillation of the exported completions: no on-policy student samples.
        c.insert("lmbda".into(), json!(0.0));
        c.insert("seq_kd".into(), json!(false));
    }
    Ok((mode, c))
}

/// peft's `LoraConfig` keyword arguments.
pub fn peft(lora: &Lora) -> Map<String, Json> {
    let mut c = Map::new();
    c.insert("r".into(), json!(lora.rank));
    c.insert("lora_alpha".into(), json!(lora.alpha));
    c.insert("lora_dropout".into(), json!(lora.dropout));
    c.insert("target_modules".into(), json!(lora.targets));
    c.insert("task_type".into(), json!("CAUSAL_LM"));
    c
}

/// verl's SFT trainer (`verl.trainer.fsdp_sft_trainer`) options, as dotted overrides.
pub fn verl(plan: &Plan, data: &str, output_dir: &str) -> Result<Vec<(String, Json)>, Refusal> {
    if plan.teacher.is_some() || plan.objective != "forward_kl" {
        return Err(refuse(
            format!(
                "verl's SFT trainer trains on the target text only; `{}`{} needs a teacher \
                 distribution it does not take",
                plan.objective,
                if plan.teacher.is_some() { " with a teacher" } else { "" }
            ),
            "use `trainer = \"trl\"` (GKD) for distillation, or `forward_kl` without a teacher for verl",
        ));
    }
    let mut o = vec![
        ("data.train_files".to_string(), json!(data)),
        ("data.val_files".to_string(), json!(data)),
        ("data.prompt_key".to_string(), json!("prompt")),
        ("data.response_key".to_string(), json!("response")),
        ("data.max_length".to_string(), json!(plan.max_seq_len)),
        ("data.truncation".to_string(), json!("right")),
        (
            "data.micro_batch_size_per_gpu".to_string(),
            json!(plan.batch_size),
        ),
        (
            "data.train_batch_size".to_string(),
            json!(plan.batch_size * plan.grad_accum),
        ),
        ("model.partial_pretrain".to_string(), json!(plan.model)),
        ("optim.lr".to_string(), json!(plan.lr)),
        ("trainer.total_epochs".to_string(), json!(plan.epochs)),
        ("trainer.default_local_dir".to_string(), json!(output_dir)),
        ("trainer.project_name".to_string(), json!("dtac")),
        ("trainer.experiment_name".to_string(), json!("export")),
        ("trainer.logger".to_string(), json!(["console"])),
    ];
    if let Some(l) = &plan.lora {
        o.push(("model.lora_rank".into(), json!(l.rank)));
        o.push(("model.lora_alpha".into(), json!(l.alpha)));
        o.push(("model.target_modules".into(), json!(l.targets)));
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(objective: &str, teacher: Option<&str>) -> Plan {
        Plan {
            model: "Qwen/Qwen3-8B".into(),
            teacher: teacher.map(String::from),
            objective: objective.into(),
            beta: None,
            temperature: 1.0,
            epochs: 2,
            lr: 1e-5,
            batch_size: 4,
            grad_accum: 8,
            max_seq_len: 4096,
            lora: None,
        }
    }

    #[test]
    fn every_objective_and_trainer() {
        let t = Some("Qwen/Qwen3-32B");
        let (mode, c) = trl(&plan("forward_kl", None), "out").unwrap();
        assert_eq!(mode, TrlMode::Sft);
        assert!(!c.contains_key("beta"));
        assert_eq!(c["gradient_accumulation_steps"], 8);
        for (objective, beta) in [("forward_kl", 0.0), ("reverse_kl", 1.0), ("jsd", 0.5)] {
            let (mode, c) = trl(&plan(objective, t), "out").unwrap();
            assert_eq!(mode, TrlMode::Gkd);
            assert_eq!(c["beta"], beta, "{objective}");
            assert_eq!(c["lmbda"], 0.0);
            assert_eq!(c["teacher_model_name_or_path"], "Qwen/Qwen3-32B");
        }
        let mut j = plan("jsd", t);
        j.beta = Some(0.3);
        assert_eq!(trl(&j, "out").unwrap().1["beta"], 0.3);
        for bad in ["clipped_kl", "top_k", "sampled"] {
            let e = trl(&plan(bad, t), "out").unwrap_err();
            assert!(e.message.contains(bad), "{e:?}");
        }
        assert!(trl(&plan("reverse_kl", None), "out")
            .unwrap_err()
            .message
            .contains("teacher"));
        let mut hot = plan("forward_kl", t);
        hot.temperature = 2.0;
        assert!(trl(&hot, "out")
            .unwrap_err()
            .message
            .contains("temperature"));

        let v = verl(&plan("forward_kl", None), "d.parquet", "out").unwrap();
        assert!(v
            .iter()
            .any(|(k, val)| k == "data.train_batch_size" && *val == 32));
        assert!(verl(&plan("forward_kl", t), "d", "o").is_err());
        assert!(verl(&plan("jsd", None), "d", "o").is_err());
    }
}
