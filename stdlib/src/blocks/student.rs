//! The `student` block: the model being taught, a local Hugging Face checkpoint, optionally
//! also served by an endpoint for fast rollouts.

use dtac_interpreter::signature::{FieldSpec, Lint, LintValues, Signature, SignatureKind, Type};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: SETTINGS,
    lint: Some(lint),
    resources: Some(crate::local::checkpoints::model_block),
    ..Signature::new(
        "student",
        SignatureKind::Student,
        "The model being taught: a local Hugging Face checkpoint directory",
    )
};

const SETTINGS: &[FieldSpec] = &[
    FieldSpec::required(
        "path",
        Type::Str,
        "The checkpoint directory: `config.json`, `tokenizer.json` and one or more \
         `*.safetensors`. Qwen2, Qwen3 and Llama families.",
    )
    .file(),
    FieldSpec::optional(
        "device",
        Type::Str,
        "\"auto\"",
        "Where the model runs: `\"auto\"` (the first CUDA device when built with `cuda` and \
         one is present, else the CPU), `\"cpu\"`, or `\"cuda:N\"`.",
    ),
    FieldSpec::optional(
        "dtype",
        Type::Enum(&["f32", "bf16", "f16"]),
        "\"f32\"",
        "The precision weights are loaded and computed in.",
    ),
    FieldSpec::maybe(
        "chat_template",
        Type::Str,
        "A Jinja chat template file replacing the checkpoint's own (`tokenizer_config.json`).",
    )
    .file(),
    FieldSpec::maybe(
        "endpoint",
        Type::Str,
        "An OpenAI-compatible server (vLLM, SGLang) serving the same weights: rollouts and \
         probes are sampled there; scoring and training stay local.",
    ),
    FieldSpec::maybe(
        "api_key",
        Type::Secret,
        "The key for `endpoint`, from an environment variable.",
    ),
    FieldSpec::maybe(
        "model",
        Type::Str,
        "The model name `endpoint` serves it under; the checkpoint directory's name when left out.",
    ),
    FieldSpec::maybe(
        "max_tokens",
        Type::Int,
        "The most tokens one sampled answer may have.",
    ),
    FieldSpec::maybe(
        "temperature",
        Type::Float,
        "Default sampling temperature; ops that sample (rollout, adapt) set their own.",
    ),
];

const DOC: &str = r#"Declares a student: the model a recipe distills into. It is loaded from a local Hugging
Face checkpoint directory with candle, for scoring (`informativeness`, `perplexity`,
`score`, `divergence`) and training (`distill`). A missing file, an unsupported
architecture or a tokenizer that does not match the teacher's vocabulary is reported by
`dtac check`, not mid-run.

Sampling many student answers (`style_probe`, `rollout`, `adapt`) is much faster on a
serving engine: give `endpoint` (and `model`) for a vLLM or SGLang server with the same
weights, and those ops sample there while the numeric work stays local.

A student can stand wherever a teacher or student is accepted (`Type::Model`), e.g. as its
own privileged teacher in TRD's OPSD mode.

```dta
student small { path = "models/qwen3-1.7b", device = "cuda:0", dtype = "bf16" }
student fast  { path = "models/qwen3-1.7b", endpoint = env("STUDENT_URL"), model = "qwen3-1.7b" }
```
"#;

fn lint(values: &dyn LintValues) -> Vec<Lint> {
    device_lint(values).into_iter().collect()
}

/// `device` must be `auto`, `cpu` or `cuda:N`; shared with local teachers.
pub fn device_lint(values: &dyn LintValues) -> Option<Lint> {
    let device = values.str("device")?;
    let valid = device == "auto"
        || device == "cpu"
        || device
            .strip_prefix("cuda:")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if valid {
        return cuda_lint(&device);
    }
    let help = if device == "cuda" || device == "gpu" {
        "write `\"cuda:0\"` for the first GPU, or `\"auto\"`".to_string()
    } else {
        "use `\"auto\"`, `\"cpu\"` or `\"cuda:N\"` (N the GPU's index)".to_string()
    };
    Some(Lint {
        setting: Some("device"),
        message: format!("`{device}` is not a device dtac knows"),
        help,
    })
}

/// `cuda:N` on a build or machine that cannot provide it. A warning, not an error: a
/// recipe is often checked on a laptop and run on a GPU server.
fn cuda_lint(device: &str) -> Option<Lint> {
    let index: usize = device.strip_prefix("cuda:")?.parse().ok()?;
    if !crate::device::CUDA_BUILT {
        return Some(Lint {
            setting: Some("device"),
            message: format!(
                "this dtac was built without CUDA support, so `{device}` cannot be used"
            ),
            help: "rebuild with `--features cuda` on the GPU machine, or use `\"auto\"`"
                .to_string(),
        });
    }
    match crate::device::cuda_device_count() {
        None => Some(Lint {
            setting: Some("device"),
            message: format!("no CUDA driver found on this machine for `{device}`"),
            help: "run on a machine with an NVIDIA driver, or use `\"auto\"`".to_string(),
        }),
        Some(count) if index >= count => Some(Lint {
            setting: Some("device"),
            message: format!("`{device}` does not exist: this machine has {count} CUDA device(s)"),
            help: format!("use an index below {count}, or `\"auto\"`"),
        }),
        Some(_) => None,
    }
}
