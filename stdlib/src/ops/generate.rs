//! `generate`: a teacher ensemble writes `n` candidate solutions per problem (DTA
//! synthesize).

use std::sync::Arc;

use dtac_interpreter::resolve::{ModelDecl, Node, PromptText};
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::hash::{hash_json, short};
use dtac_runtime::llm::{ChatRequest, Message};
use dtac_runtime::op::{
    BuildError, Estimate, OpError, RecordOp, RequestEstimate, StageCtx, StageImpl,
};
use dtac_runtime::record::Record;
use futures::future::{join_all, BoxFuture};

use crate::settings::Settings;

use super::{MAX_TOKENS, SEED, TEMPERATURE};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records(
        "problems",
        "The problems, one record each; the prompt reads their fields.",
    )],
    settings: &[
        FieldSpec::required(
            "teachers",
            Type::List(&Type::Teacher),
            "The ensemble. Every teacher writes `n` solutions for every problem.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The user message, a template over the problem's fields. When left out, the DTA \
             synthesis prompt, which reads `{{question}}` and `{{answer}}`.",
        ),
        FieldSpec::optional(
            "n",
            Type::Int,
            "1",
            "Solutions per teacher per problem, each a separate request with its own seed.",
        ),
        FieldSpec::maybe(
            "system",
            Type::Str,
            "A system message for this stage, replacing the teacher's own.",
        ),
        TEMPERATURE,
        FieldSpec::maybe(
            "top_p",
            Type::Float,
            "Nucleus sampling threshold for this stage.",
        ),
        MAX_TOKENS,
        SEED,
        FieldSpec::maybe(
            "logprobs",
            Type::Int,
            "Keep this many top log-probabilities per generated token in `logprobs`, for \
             `distill { signal = \"topk_logprobs\" }`.",
        ),
    ],
    output: Output::Extends(&[
        FieldSpec::output("solution", Type::Str, "The teacher's answer text."),
        FieldSpec::output(
            "teacher",
            Type::Str,
            "The name of the teacher declaration that wrote it.",
        ),
        FieldSpec::output(
            "sample",
            Type::Int,
            "The sample index, 0 to n − 1, per teacher.",
        ),
        FieldSpec::output(
            "candidate_id",
            Type::Str,
            "`ID/TEACHER/SAMPLE`: unique per candidate, stable across runs.",
        ),
        FieldSpec::output(
            "prompt_hash",
            Type::Str,
            "Hash of the rendered messages: which prompt produced the candidate.",
        ),
        FieldSpec::output("tokens", Type::Int, "Completion tokens used."),
        FieldSpec::output(
            "finish_reason",
            Type::Str,
            "Why generation stopped: `stop`, or `length` when `max_tokens` cut it.",
        ),
        FieldSpec::output(
            "logprobs",
            Type::List(&Type::Any),
            "Per generated token: the token, its log-probability and the top alternatives \
             (only with `logprobs`).",
        ),
    ]),
    ..Signature::new(
        "generate",
        SignatureKind::Transform,
        "A teacher ensemble writes n candidate solutions per problem",
    )
};

const DOC: &str = r#"DTA phase I step 1, **synthesize** [paper]: an ensemble of teachers writes `n` solutions
per problem, given the problem *and* its correct answer; the answer is a hint, and the
solution must justify it. Each input record yields `teachers × n` output records: the
problem's fields plus the candidate.

The default prompt (when `prompt` is left out) is:

> Solve the following problem step by step. The correct final answer is {{answer}};
> derive it rigorously, and put the final answer within \boxed{}.
>
> Problem: {{question}}

Each sample is its own request with its own cache key (the sample index and `seed + i`
are part of it), so raising `n` later only asks for the new samples. Sampling settings
given here override the teacher's for this stage.

Output fields: `solution`, `teacher`, `sample`, `candidate_id`, `prompt_hash`, `tokens`,
`finish_reason`, and `logprobs` when asked for.

```dta
prompt solve """
    Solve the problem step by step. The correct final answer is {{answer}}; derive it.
    Problem: {{question}}
    """
stage candidates: generate(train) { teachers = [gpt, qwen], prompt = solve, n = 4 }
```
"#;

/// The DTA synthesis prompt, used when `prompt` is left out.
pub const DEFAULT_PROMPT: &str = "Solve the following problem step by step. The correct final \
answer is {{answer}}; derive it rigorously, and put the final answer within \\boxed{}.\n\n\
Problem: {{question}}";

/// The runnable op.
#[derive(Debug)]
pub struct Generate {
    teachers: Vec<Arc<ModelDecl>>,
    prompt: Arc<PromptText>,
    n: u64,
    system: Option<String>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    max_tokens: Option<i64>,
    seed: i64,
    logprobs: Option<i64>,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let prompt = match s.prompt("prompt") {
        Some(p) => p,
        None => crate::prompts::builtin(DEFAULT_PROMPT)?,
    };
    Ok(StageImpl::Each(Arc::new(Generate {
        teachers: s.models("teachers")?,
        prompt,
        n: s.int("n").unwrap_or(1).max(0) as u64,
        system: s.str("system").map(str::to_string),
        temperature: s.float("temperature"),
        top_p: s.float("top_p"),
        max_tokens: s.int("max_tokens"),
        seed: s.int("seed").unwrap_or(0),
        logprobs: s.int("logprobs"),
    })))
}

impl Generate {
    fn request(&self, cx: &StageCtx, teacher: &ModelDecl, user: &str, sample: u64) -> ChatRequest {
        let t = Settings(&teacher.settings);
        let mut messages = Vec::new();
        if let Some(system) = self.system.as_deref().or(t.str("system")) {
            messages.push(Message::system(system));
        }
        messages.push(Message::user(user));
        // The teacher's seed, else the stage's; each sample adds its index.
        let base = t.int("seed").unwrap_or(self.seed);
        ChatRequest {
            endpoint: cx.gateway.endpoint(teacher),
            model: t.str("model").unwrap_or_default().to_string(),
            messages,
            temperature: self.temperature.or(t.float("temperature")),
            top_p: self.top_p.or(t.float("top_p")),
            top_k: t.int("top_k"),
            max_tokens: self.max_tokens.or(t.int("max_tokens")),
            stop: t.strings("stop"),
            seed: Some(base.wrapping_add(sample as i64)),
            logprobs: self.logprobs.or(t.int("logprobs")),
            response_format: None,
            sample,
        }
    }
}

impl RecordOp for Generate {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let user = self
                .prompt
                .render(&record.fields, &[])
                .map_err(OpError::Record)?;
            let mut jobs = Vec::new();
            for teacher in &self.teachers {
                for i in 0..self.n {
                    // `--rerun` moves to fresh sample indices; old answers stay cached.
                    let sample = cx.round * self.n + i;
                    let request = self.request(cx, teacher, &user, sample);
                    jobs.push((teacher.clone(), i, request));
                }
            }
            let answers = join_all(
                jobs.iter()
                    .map(|(teacher, _, request)| cx.chat(&record, teacher, request)),
            )
            .await;
            let id = record.key_of("id");
            let prompt_name = self.prompt.name.clone().unwrap_or_else(|| "inline".into());
            let mut out = Vec::with_capacity(jobs.len());
            for ((teacher, i, request), answer) in jobs.iter().zip(answers) {
                let answer = answer.map_err(|e| match e {
                    OpError::Record(m) => {
                        OpError::Record(format!("teacher `{}`, sample {i}: {m}", teacher.name))
                    }
                    other => other,
                })?;
                let prompt_hash =
                    short(&hash_json(&serde_json::json!(request.messages))).to_string();
                let mut r = record.derive();
                r.set("solution", answer.text);
                r.set("teacher", teacher.name.as_str());
                r.set("sample", *i);
                r.set("candidate_id", format!("{id}/{}/{i}", teacher.name));
                r.set("prompt_hash", prompt_hash.as_str());
                r.set("tokens", answer.usage.completion_tokens);
                r.set("finish_reason", answer.finish_reason);
                if let Some(lp) = answer.logprobs {
                    r.set("logprobs", lp);
                }
                r.meta.teacher = Some(teacher.name.clone());
                r.meta.prompt = Some(format!("{prompt_name}#{prompt_hash}"));
                out.push(r);
            }
            Ok(out)
        })
    }

    fn estimate(&self, inputs: u64) -> Estimate {
        let prompt_tokens = (self.prompt.source_text().len() as u64 / 4) + 150;
        Estimate {
            records: inputs * self.n * self.teachers.len() as u64,
            requests: self
                .teachers
                .iter()
                .map(|t| {
                    let per = inputs * self.n;
                    let completion = self
                        .max_tokens
                        .or(Settings(&t.settings).int("max_tokens"))
                        .unwrap_or(1024)
                        .max(0) as u64;
                    RequestEstimate {
                        teacher: t.clone(),
                        requests: per,
                        prompt_tokens: per * prompt_tokens,
                        completion_tokens: per * completion,
                    }
                })
                .collect(),
        }
    }
}
