//! `distill`: train the student on records, with an objective and a teacher signal.

use dtac_interpreter::resolve::Node;
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, StageImpl};

/// Builds the training op (see `distill_run`).
pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    super::distill_run::build(node)
}

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("examples", "The training examples.")],
    settings: &[
        FieldSpec::required("student", Type::Student, "The model trained."),
        FieldSpec::optional(
            "objective",
            Type::Objective,
            "forward_kl",
            "The per-token loss (METHODS.md §5).",
        ),
        FieldSpec::optional(
            "signal",
            Type::Enum(&["text", "logits", "topk_logprobs"]),
            "\"text\"",
            "The teacher distribution q: `text` a one-hot target (SFT); `logits` a local \
             teacher's full distribution; `topk_logprobs` an endpoint's top log-probs (the \
             records' `logprobs`, or asked for).",
        ),
        FieldSpec::maybe(
            "teacher",
            Type::Model,
            "The teacher for `logits` and `topk_logprobs`.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "What the student sees before the target; `{{question}}` when left out.",
        ),
        FieldSpec::optional(
            "target",
            Type::Str,
            "\"solution\"",
            "The field trained on: the response span the loss covers.",
        ),
        FieldSpec::maybe(
            "weights",
            Type::Str,
            "A field of per-token loss weights (`token_weights` from `divergence`).",
        ),
        FieldSpec::optional("epochs", Type::Int, "1", "Passes over the data."),
        FieldSpec::optional("lr", Type::Float, "1e-5", "Peak learning rate (AdamW)."),
        FieldSpec::optional(
            "batch_size",
            Type::Int,
            "8",
            "Examples per optimizer step, before accumulation.",
        ),
        FieldSpec::optional(
            "grad_accum",
            Type::Int,
            "1",
            "Batches accumulated per optimizer step.",
        ),
        FieldSpec::optional(
            "max_seq_len",
            Type::Int,
            "4096",
            "Longer examples are truncated from the end of the target.",
        ),
        FieldSpec::optional(
            "warmup",
            Type::Float,
            "0.03",
            "Share of steps with linear warm-up.",
        ),
        FieldSpec::optional(
            "schedule",
            Type::Enum(&["cosine", "linear", "constant"]),
            "\"cosine\"",
            "The learning-rate schedule after warm-up.",
        ),
        FieldSpec::optional("weight_decay", Type::Float, "0.0", "AdamW weight decay."),
        FieldSpec::optional(
            "max_grad_norm",
            Type::Float,
            "1.0",
            "Gradient clipping norm.",
        ),
        FieldSpec::maybe(
            "lora",
            Type::Record(LORA_SPEC),
            "Train LoRA adapters instead of all weights.",
        ),
        FieldSpec::maybe(
            "eval",
            Type::Records,
            "Held-out examples; their loss is reported every `eval_every` steps.",
        ),
        FieldSpec::optional("eval_every", Type::Int, "100", "Steps between evaluations."),
        FieldSpec::optional(
            "save_every",
            Type::Int,
            "500",
            "Steps between checkpoints (a crashed run resumes from the last).",
        ),
        FieldSpec::maybe(
            "output",
            Type::Str,
            "Where the final checkpoint (or LoRA adapter) is copied; it stays in the state \
             dir's `work/<stage key>/final` either way.",
        )
        .file(),
        FieldSpec::optional(
            "seed",
            Type::Int,
            "0",
            "Data order and initialization seed.",
        ),
    ],
    output: Output::Artifact("a trained student checkpoint"),
    lint: Some(super::distill_lint::lint),
    resources: Some(super::distill_lint::resources),
    ..Signature::new(
        "distill",
        SignatureKind::Transform,
        "Train the student on the records with a distillation objective",
    )
};

/// The keys of a `lora = { ... }` record.
pub const LORA_SPEC: &[FieldSpec] = &[
    FieldSpec::optional("rank", Type::Int, "16", "r: adapter rank."),
    FieldSpec::optional(
        "alpha",
        Type::Float,
        "32",
        "Scaling α; the update is scaled by α / r.",
    ),
    FieldSpec::optional(
        "dropout",
        Type::Float,
        "0.0",
        "Dropout on the adapter input.",
    ),
    FieldSpec::optional(
        "targets",
        Type::List(&Type::Str),
        "[\"q_proj\", \"k_proj\", \"v_proj\", \"o_proj\"]",
        "Module names that get adapters.",
    ),
];

const DOC: &str = r#"Trains the student in-process (candle; CPU, or CUDA with `--features cuda`): DTA step 8,
TRD step 3, TOPD's guided objective, DART step 5. The student sees `prompt` (rendered
with its chat template) and the loss covers the tokens of `target` only.

The teacher signal q per target token:
- `text`: one-hot on the target token; with `forward_kl` this is SFT (cross-entropy).
- `logits`: the full distribution of a local `teacher` on the same tokens. When the
  records have `teacher_prompt` (from `refine`), the teacher is conditioned on it while
  the student sees only `prompt` [paper: TRD].
- `topk_logprobs`: an endpoint's top log-probabilities; use `top_k { tail = true }` or
  `sampled`.

With `weights`, each token's loss is multiplied by its weight (TOPD), and `guidance`
terms are added when present. Loss curve, learning rate and tokens/s go into the run
report; checkpoints (or LoRA adapters) are saved as safetensors in the Hugging Face
layout.

```dta
stage tuned: distill(ranked) { student = small, objective = forward_kl, epochs = 2,
                               lora = { rank = 16, alpha = 32 } }
```
"#;
