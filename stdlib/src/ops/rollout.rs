//! `rollout`: the student answers each problem itself (on-policy samples for TRD and TOPD).

use std::sync::Arc;

use dtac_interpreter::resolve::{Node, PromptText};
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{
    BuildError, Estimate, OpError, RecordOp, RequestEstimate, StageCtx, StageImpl,
};
use dtac_runtime::record::Record;
use futures::future::{join_all, BoxFuture};

use super::sampling::{SampleRequest, Sampler};
use super::SEED;
use crate::settings::Settings;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records(
        "problems",
        "The problems, one record each.",
    )],
    settings: &[
        FieldSpec::required(
            "student",
            Type::Model,
            "The model that answers: a student (its endpoint when it has one, else local \
             sampling), or a teacher.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The user message, over the problem's fields; `{{question}}` when left out. \
             `suffix` is appended either way.",
        ),
        FieldSpec::optional(
            "suffix",
            Type::Str,
            "\"Please reason step by step, and put your final answer within \\\\boxed{}.\"",
            "Appended to the prompt after a blank line (TRD's default); `\"\"` for none.",
        ),
        FieldSpec::optional("n", Type::Int, "1", "Rollouts per problem."),
        FieldSpec::optional("temperature", Type::Float, "0.6", "Sampling temperature."),
        FieldSpec::optional("top_p", Type::Float, "0.95", "Nucleus sampling threshold."),
        FieldSpec::optional("top_k", Type::Int, "20", "Top-k sampling; 0 for none."),
        FieldSpec::maybe(
            "max_tokens",
            Type::Int,
            "The most tokens per rollout; the model's own limit when left out.",
        ),
        SEED,
    ],
    output: Output::Extends(&[
        FieldSpec::output("solution", Type::Str, "The rollout text y_o."),
        FieldSpec::output("sample", Type::Int, "The rollout index, 0 to n − 1."),
        FieldSpec::output("candidate_id", Type::Str, "`ID/MODEL/SAMPLE`."),
        FieldSpec::output(
            "teacher",
            Type::Str,
            "The name of the model declaration that wrote it.",
        ),
        FieldSpec::output("tokens", Type::Int, "Tokens generated."),
        FieldSpec::output(
            "finish_reason",
            Type::Str,
            "`stop`, or `length` when cut at `max_tokens`.",
        ),
        FieldSpec::output(
            "prompt",
            Type::Str,
            "The user message the student answered (prompt and suffix): what `divergence` and \
             `distill` condition the student on.",
        ),
    ]),
    ..Signature::new(
        "rollout",
        SignatureKind::Transform,
        "The student samples its own solutions (on-policy rollouts)",
    )
};

const DOC: &str = r#"TRD step 1 and TOPD step 1, **student rollout** [paper]: `y_o ~ p(·|x)`. The defaults
are TRD's: temperature 0.6, top_p 0.95, top_k 20, and the suffix "Please reason step by
step, and put your final answer within \boxed{}." [paper].

Rollouts are ordinary candidates (`solution`, `sample`, `candidate_id`), so `verify`,
`refine`, `divergence` and `distill` read them like teacher candidates; `prompt` keeps the
user message the student answered, which `divergence` and `distill` condition on.

A student with an `endpoint` is sampled through it, and each rollout is cached by its seed
like any generation, so re-running is free. A student with only a `path` is sampled
in-process (incremental decoding, the same temperature/top-k/top-p filters as
transformers), seeded per record and sample so a rerun draws the same text; `max_tokens`
defaults to the student's own, else 1024.

```dta
stage rollouts: rollout(train) { student = small, n = 4 }
```
"#;

/// The built op.
#[derive(Debug)]
pub struct Rollout {
    sampler: Sampler,
    prompt: Arc<PromptText>,
    suffix: String,
    n: u64,
    temperature: f64,
    top_p: f64,
    top_k: i64,
    max_tokens: Option<i64>,
    seed: i64,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let student = s.model("student").ok_or_else(|| BuildError::Invalid {
        message: "`rollout` needs `student`".into(),
        help: "set `student = NAME`".into(),
    })?;
    let n = s.int("n").unwrap_or(1);
    if n < 1 {
        return Err(BuildError::Invalid {
            message: format!("`n` is {n}"),
            help: "ask for at least one rollout per problem".into(),
        });
    }
    Ok(StageImpl::Each(Arc::new(Rollout {
        sampler: Sampler::for_model(student)?,
        prompt: match s.prompt("prompt") {
            Some(p) => p,
            None => crate::prompts::builtin("{{question}}")?,
        },
        suffix: s
            .str("suffix")
            .unwrap_or("Please reason step by step, and put your final answer within \\boxed{}.")
            .to_string(),
        n: n as u64,
        temperature: s.float("temperature").unwrap_or(0.6),
        top_p: s.float("top_p").unwrap_or(0.95),
        top_k: s.int("top_k").unwrap_or(20),
        max_tokens: s.int("max_tokens"),
        seed: s.int("seed").unwrap_or(0),
    })))
}

impl Rollout {
    /// The user message: the prompt, then the suffix after a blank line.
    fn user(&self, record: &Record) -> Result<String, OpError> {
        let body = self
            .prompt
            .render(&record.fields, &[])
            .map_err(OpError::Record)?;
        Ok(if self.suffix.is_empty() {
            body
        } else {
            format!("{body}\n\n{}", self.suffix)
        })
    }
}

impl RecordOp for Rollout {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let user = self.user(&record)?;
            // `--rerun` moves to fresh sample indices; earlier rollouts stay cached.
            let samples: Vec<u64> = (0..self.n).map(|i| cx.round * self.n + i).collect();
            let requests: Vec<SampleRequest<'_>> = samples
                .iter()
                .map(|&sample| SampleRequest {
                    user: &user,
                    temperature: Some(self.temperature),
                    top_p: Some(self.top_p),
                    top_k: Some(self.top_k),
                    max_tokens: self.max_tokens,
                    seed: self.seed,
                    sample,
                    ..SampleRequest::default()
                })
                .collect();
            let answers =
                join_all(requests.iter().map(|r| self.sampler.sample(cx, &record, r))).await;
            let id = record.key_of("id");
            let name = &self.sampler.model().name;
            let mut out = Vec::with_capacity(answers.len());
            for (i, answer) in answers.into_iter().enumerate() {
                let answer = answer.map_err(|e| match e {
                    OpError::Record(m) => OpError::Record(format!("rollout {i}: {m}")),
                    other => other,
                })?;
                let mut r = record.derive();
                r.set("solution", answer.text);
                r.set("sample", i);
                r.set("candidate_id", format!("{id}/{name}/{i}"));
                r.set("teacher", name.as_str());
                r.set("tokens", answer.tokens);
                r.set("finish_reason", answer.finish);
                r.set("prompt", user.as_str());
                r.meta.teacher = Some(name.clone());
                out.push(r);
            }
            Ok(out)
        })
    }

    fn estimate(&self, inputs: u64) -> Estimate {
        let records = inputs * self.n;
        if self.sampler.is_local() {
            return Estimate::passthrough(records);
        }
        let completion = self.max_tokens.unwrap_or(1024).max(0) as u64;
        Estimate {
            records,
            requests: vec![RequestEstimate {
                teacher: self.sampler.model().clone(),
                requests: records,
                prompt_tokens: records * (self.prompt.source_text().len() as u64 / 4 + 40),
                completion_tokens: records * completion,
            }],
        }
    }
}
