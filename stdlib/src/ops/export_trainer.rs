//! `export_trainer`: write the data and a ready trainer config (TRL, verl) for students too
//! large to train in-process.

use dtac_interpreter::resolve::Node;
use dtac_interpreter::signature::{
    FieldSpec, InputSpec, Lint, LintValues, Output, Signature, SignatureKind, Type,
};
use dtac_runtime::op::{BuildError, StageImpl};

/// Builds the op (see `export_trainer_run`).
pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    super::export_trainer_run::build(node)
}

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("examples", "The training examples.")],
    settings: &[
        FieldSpec::required(
            "trainer",
            Type::Enum(&["trl", "verl"]),
            "The trainer the config is for.",
        ),
        FieldSpec::required(
            "dir",
            Type::Str,
            "The output directory: data, config and a launch script.",
        )
        .file(),
        FieldSpec::required(
            "model",
            Type::Str,
            "The student's Hugging Face id or path, as the trainer loads it.",
        ),
        FieldSpec::optional(
            "objective",
            Type::Objective,
            "forward_kl",
            "Mapped to the trainer's options (see below).",
        ),
        FieldSpec::maybe(
            "teacher",
            Type::Str,
            "The teacher's Hugging Face id or path, for distillation configs.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The user turn; `{{question}}` when left out.",
        ),
        FieldSpec::optional(
            "target",
            Type::Str,
            "\"solution\"",
            "The field written as the assistant turn.",
        ),
        FieldSpec::optional("epochs", Type::Int, "1", "Passes over the data."),
        FieldSpec::optional("lr", Type::Float, "1e-5", "Peak learning rate."),
        FieldSpec::optional("batch_size", Type::Int, "8", "Per-device batch size."),
        FieldSpec::optional("grad_accum", Type::Int, "1", "Gradient accumulation steps."),
        FieldSpec::optional("max_seq_len", Type::Int, "4096", "Maximum sequence length."),
        FieldSpec::maybe(
            "lora",
            Type::Record(super::distill::LORA_SPEC),
            "LoRA settings, as in `distill`.",
        ),
    ],
    output: Output::Artifact("a trainer config and data directory"),
    lint: Some(lint),
    ..Signature::new(
        "export_trainer",
        SignatureKind::Transform,
        "Write the selected data and a ready TRL or verl config for large-scale training",
    )
};

const DOC: &str = r#"For students too large for one machine: writes the examples (chat format) and a config
for the trainer users already run across nodes, with `distill`'s settings translated.

**TRL**: `forward_kl` with no teacher → `SFTTrainer` (`SFTConfig`); with a `teacher` →
`GKDTrainer` (`GKDConfig`) with `beta = 0`; `reverse_kl` → `beta = 1`; `jsd { beta }` →
`beta`; `temperature` → `temperature`. `epochs` → `num_train_epochs`, `lr` →
`learning_rate`, `batch_size` → `per_device_train_batch_size`, `grad_accum` →
`gradient_accumulation_steps`, `max_seq_len` → `max_length`; `lora` → peft `LoraConfig`
(`r`, `lora_alpha`, `lora_dropout`, `target_modules`).

**verl**: its SFT trainer (`verl.trainer.fsdp_sft_trainer`, `forward_kl` without a
teacher); data as Parquet with `prompt` and `response` columns; `launch.sh` passes the
options as overrides (`data.train_files`, `model.partial_pretrain`, `optim.lr`,
`trainer.total_epochs`, `model.lora_rank`, ...).

Written into `dir`: `data/train.jsonl` (TRL: `prompt`/`completion` for SFT, `messages` for
GKD) or `data/train.parquet` (verl), `config.yaml`, `train.py` (TRL) and `launch.sh`,
each atomically; paths inside are relative, so the directory can be copied to a cluster.
The stage's one record describes them.

An objective a trainer cannot express (`clipped_kl`, `top_k`, `sampled`, a temperature
other than 1 for GKD, or verl with a teacher) is an error naming the objective, never a
silent substitute; `dtac check` warns about it already. The mapping is documented in
docs/trainers.md.

```dta
stage handoff: export_trainer(ranked) { trainer = "trl", dir = "out/trl", model = "Qwen/Qwen3-32B" }
```
"#;

fn lint(values: &dyn LintValues) -> Vec<Lint> {
    let trainer = values.str("trainer").unwrap_or_default();
    let teacher = values.str("teacher").is_some();
    let (kind, temperature) = match values.referenced("objective") {
        Some(o) => (o.kind.clone(), o.values.float("temperature").unwrap_or(1.0)),
        None => ("forward_kl".to_string(), 1.0),
    };
    let problem = match (trainer.as_str(), kind.as_str()) {
        ("trl", "clipped_kl" | "top_k" | "sampled") => {
            Some(format!("TRL's GKDTrainer has no counterpart of `{kind}`"))
        }
        ("trl", _) if teacher && (temperature - 1.0).abs() > 1e-12 => Some(format!(
            "temperature {temperature} cannot be expressed: GKDTrainer computes its loss at temperature 1"
        )),
        ("verl", k) if teacher || k != "forward_kl" => Some(format!(
            "verl's SFT trainer takes no teacher distribution, so `{k}` cannot be exported to it"
        )),
        _ => None,
    };
    problem
        .map(|message| Lint {
            setting: Some("objective"),
            message,
            help: "see docs/trainers.md for what each trainer can express".into(),
        })
        .into_iter()
        .collect()
}
