//! The `teacher` block: a model behind an OpenAI-compatible endpoint, its sampling
//! defaults, limits and prices.

use dtac_interpreter::signature::{FieldSpec, Lint, LintValues, Signature, SignatureKind, Type};

use super::student::device_lint;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: SETTINGS,
    lint: Some(lint),
    resources: Some(crate::local::checkpoints::model_block),
    ..Signature::new(
        "teacher",
        SignatureKind::Teacher,
        "A model behind an OpenAI-compatible endpoint, with its limits and prices",
    )
};

const SETTINGS: &[FieldSpec] = &[
    FieldSpec::required(
        "model",
        Type::Str,
        "The model name the endpoint serves: \"gpt-4o-2024-08-06\", \"Qwen/Qwen3-32B\". For a \
         local teacher, the name it is reported under.",
    ),
    FieldSpec::optional(
        "endpoint",
        Type::Str,
        "env(\"OPENAI_BASE_URL\", \"https://api.openai.com/v1\")",
        "The base URL of the OpenAI-compatible API, up to and including `/v1`.",
    ),
    FieldSpec::optional(
        "api_key",
        Type::Secret,
        "env(\"OPENAI_API_KEY\")",
        "The API key, from an environment variable only. When the variable is unset, requests \
         carry no key (enough for most local servers).",
    ),
    FieldSpec::optional(
        "mode",
        Type::Enum(&["online", "batch", "replay"]),
        "\"online\"",
        "How requests are answered: `online` one request at a time; `batch` through the \
         provider's Batch API; `replay` from the recorded file `replay`, never the network.",
    ),
    FieldSpec::maybe(
        "replay",
        Type::Str,
        "The recorded answers for `mode = \"replay\"`: a JSONL file of `{ key, response }` or `{ \
         id, model, response }` lines.",
    )
    .file(),
    FieldSpec::maybe(
        "temperature",
        Type::Float,
        "Sampling temperature; the endpoint's default when left out. Ops may override it per \
         stage.",
    ),
    FieldSpec::maybe("top_p", Type::Float, "Nucleus sampling threshold."),
    FieldSpec::maybe(
        "top_k",
        Type::Int,
        "Top-k sampling (vLLM, SGLang, Ollama; OpenAI ignores it).",
    ),
    FieldSpec::maybe(
        "max_tokens",
        Type::Int,
        "The most tokens one answer may have.",
    ),
    FieldSpec::maybe(
        "seed",
        Type::Int,
        "The sampling seed sent with each request; an op adds the sample index.",
    ),
    FieldSpec::maybe("stop", Type::List(&Type::Str), "Stop sequences."),
    FieldSpec::maybe(
        "system",
        Type::Str,
        "A system message put before every conversation with this teacher.",
    ),
    FieldSpec::maybe(
        "logprobs",
        Type::Int,
        "Ask for this many top log-probabilities per generated token (`top_logprobs`, 0–20), for \
         distillation from an API teacher.",
    ),
    FieldSpec::optional(
        "max_concurrency",
        Type::Int,
        "16",
        "The most requests in flight to this endpoint, shared by every stage using it.",
    )
    .operational(),
    FieldSpec::maybe(
        "rpm",
        Type::Int,
        "Requests per minute allowed on this endpoint, shared by every stage.",
    )
    .operational(),
    FieldSpec::maybe(
        "tpm",
        Type::Int,
        "Tokens per minute allowed on this endpoint (estimated before a request, corrected by its \
         usage).",
    )
    .operational(),
    FieldSpec::optional(
        "timeout",
        Type::Duration,
        "10m",
        "How long one request may take before it is retried.",
    )
    .operational(),
    FieldSpec::optional(
        "max_attempts",
        Type::Int,
        "6",
        "Attempts per request, the first included, on 429, 5xx, timeouts and dropped connections.",
    )
    .operational(),
    FieldSpec::optional(
        "batch_window",
        Type::Duration,
        "24h",
        "The completion window asked of the Batch API in `mode = \"batch\"`.",
    )
    .operational(),
    FieldSpec::optional(
        "poll_interval",
        Type::Duration,
        "30s",
        "How often a submitted batch is asked for its status in `mode = \"batch\"`.",
    )
    .operational(),
    FieldSpec::optional(
        "structured_outputs",
        Type::Bool,
        "true",
        "Send an op's JSON schema as `response_format` (OpenAI, vLLM, SGLang, Ollama, llama.cpp \
         and LM Studio accept it). Set `false` for a server that refuses it; answers are \
         validated against the schema either way.",
    ),
    FieldSpec::maybe(
        "price",
        Type::Record(PRICE),
        "The price table used by `--dry-run` estimates, spend reports and `--budget-usd`. \
         Without it the teacher's spend counts as zero.",
    )
    .operational(),
    FieldSpec::maybe(
        "path",
        Type::Str,
        "A local Hugging Face checkpoint directory: the teacher also runs in-process, giving full \
         logits to `distill` and `divergence`. Text generation still goes to the endpoint when \
         one is set.",
    )
    .file(),
    FieldSpec::optional(
        "device",
        Type::Str,
        "\"auto\"",
        "Where a local teacher runs: `\"auto\"`, `\"cpu\"` or `\"cuda:N\"`.",
    ),
    FieldSpec::optional(
        "dtype",
        Type::Enum(&["f32", "bf16", "f16"]),
        "\"bf16\"",
        "The precision a local teacher is loaded in.",
    ),
];

const PRICE: &[FieldSpec] = &[
    FieldSpec::required("input", Type::Float, "Dollars per million prompt tokens."),
    FieldSpec::required(
        "output",
        Type::Float,
        "Dollars per million completion tokens.",
    ),
    FieldSpec::maybe(
        "cached_input",
        Type::Float,
        "Dollars per million cached prompt tokens; `input` when left out.",
    ),
];

const DOC: &str = r#"Declares a teacher: a model that writes, reviews, judges or rewrites text through an
OpenAI-compatible API. One provider covers OpenAI, vLLM, SGLang, Ollama, llama.cpp
server, LM Studio and gateways; only `endpoint` changes:

| server | `endpoint` |
|---|---|
| OpenAI | `https://api.openai.com/v1` (the default) |
| vLLM, SGLang | `http://HOST:8000/v1` (SGLang's default port is 30000) |
| Ollama | `http://localhost:11434/v1` |
| llama.cpp server | `http://localhost:8080/v1` |
| LM Studio | `http://localhost:1234/v1` |

**Limits** (`max_concurrency`, `rpm`, `tpm`) belong to the endpoint: stages that share a
teacher share its budget. Failed requests (429, 5xx, timeouts, dropped connections) are
retried up to `max_attempts` with exponential backoff and jitter, honouring `Retry-After`;
errors that cannot succeed (bad request, authentication, exhausted quota) stop at once.

**Modes.** `batch` sends a stage's requests through the provider's Batch API and waits up
to `batch_window`; results land in the same response cache as online answers. `replay`
answers only from the recorded file `replay`: a request it lacks is an error naming the
stage and record, so a recipe runs offline on recorded generations.

With `path`, the teacher is also a local model (Qwen2, Qwen3, Llama families, loaded like
a `student`), for objectives that need its full distribution.

Sampling settings here are the teacher's defaults; ops that generate may override them.
All of them, with `model` and the endpoint (never the key), are part of each request's
cache key. The key comes only from the environment and is never stored or printed.

```dta
teacher gpt  { model = "gpt-4o-2024-08-06", rpm = 500, max_concurrency = 64,
               price = { input = 2.5, output = 10.0 } }
teacher qwen { model = "Qwen/Qwen3-32B", endpoint = env("VLLM_URL"), temperature = 0.6 }
teacher rec  { model = "gpt-4", mode = "replay", replay = "data/champ_answers.jsonl" }
teacher big  { model = "qwen3-8b", path = "models/qwen3-8b", device = "cuda:0" }
```
"#;

fn lint(values: &dyn LintValues) -> Vec<Lint> {
    let mut lints: Vec<Lint> = device_lint(values).into_iter().collect();
    if let Some(n) = values.int("logprobs").filter(|n| !(0..=20).contains(n)) {
        lints.push(Lint {
            setting: Some("logprobs"),
            message: format!(
                "{n} top log-probabilities per token: OpenAI and vLLM give at most 20"
            ),
            help: "use at most 20, or raise the server's limit (vLLM `--max-logprobs`)".into(),
        });
    }
    if let Some(t) = values
        .float("temperature")
        .filter(|t| !(0.0..=2.0).contains(t))
    {
        lints.push(Lint {
            setting: Some("temperature"),
            message: format!(
                "temperature {t} is outside [0, 2], which OpenAI-compatible servers accept"
            ),
            help: "use a temperature between 0 and 2".into(),
        });
    }
    // A replay teacher never contacts its endpoint, but keeps it: request keys name the
    // endpoint, so answers recorded by key (a `dtac cache export`) match only under it.
    if values.str("mode").as_deref() == Some("replay") && values.str("replay").is_none() {
        lints.push(Lint {
            setting: Some("mode"),
            message: "a replay teacher needs the file of recorded answers".into(),
            help: "add `replay = \"answers.jsonl\"` (see docs/providers.md)".into(),
        });
    }
    lints
}
