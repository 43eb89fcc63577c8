//! `adapt`: DART's feasibility-aware adaptation of expert demonstrations to the student.

use std::sync::Arc;

use dtac_interpreter::resolve::{Node, PromptText};
use dtac_interpreter::signature::{
    FieldSpec, InputSpec, Lint, LintValues, Output, Signature, SignatureKind, Type,
};
use dtac_runtime::op::{BuildError, GroupOp, OpError, ReportTable, StageCtx, StageImpl};
use dtac_runtime::record::Record;
use futures::future::{join_all, BoxFuture};
use futures::stream::{self, StreamExt};
use serde_json::json;

use super::adapt_rules::{first_consistent, gap, prefixes, split_steps};
use super::joined::{as_text, FieldRef};
use super::sampling::{SampleRequest, Sampler};
use super::verify::check;
use super::{MAX_TOKENS, SEED};
use crate::answers::{Extract, DEFAULT_TOLERANCE};
use crate::settings::Settings;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[
        InputSpec::records("demonstrations", "Expert solutions in `solution`.")
            .needing(&["solution"]),
    ],
    settings: &[
        FieldSpec::required(
            "student",
            Type::Model,
            "The student that simulates and explores.",
        ),
        FieldSpec::maybe(
            "answer",
            Type::FieldRef,
            "Reference answers a* (`train.answer`), joined on `id`; each record's own `answer` \
             when left out.",
        ),
        FieldSpec::optional(
            "step_separator",
            Type::Str,
            "\"\\n\\n\"",
            "Splits the expert solution into steps (blank lines [paper code]).",
        ),
        FieldSpec::optional(
            "simulations",
            Type::Int,
            "4",
            "N: student continuations from each prefix.",
        ),
        FieldSpec::optional(
            "temperature",
            Type::Float,
            "0.1",
            "Sampling temperature of the simulations.",
        ),
        FieldSpec::optional(
            "tau",
            Type::Float,
            "0.25",
            "τ: the gap is the first step whose adaptability f_t is below it.",
        ),
        FieldSpec::optional(
            "delta",
            Type::Float,
            "0.5",
            "δ: or the first step where adaptability drops by more than this.",
        ),
        FieldSpec::optional(
            "explore_samples",
            Type::Int,
            "16",
            "Continuations the student writes from the prefix before the gap.",
        ),
        FieldSpec::optional(
            "explore_temperature",
            Type::Float,
            "1.0",
            "Sampling temperature of the exploration.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The exploration request, over the problem's fields and `{{prefix}}`; the \
             DART prompt (continue in your own style, prefix read-only) when left out.",
        )
        .with_template_vars(&["prefix"]),
        FieldSpec::optional(
            "on_failure",
            Type::Enum(&["keep", "drop"]),
            "\"keep\"",
            "When no exploration reaches a*: `keep` the expert trajectory, or `drop` the problem.",
        ),
        MAX_TOKENS,
        SEED,
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "solution",
            Type::Str,
            "prefix ⊕ continuation, or the expert text when kept unchanged.",
        ),
        FieldSpec::output("original", Type::Str, "The expert solution."),
        FieldSpec::output(
            "adaptability",
            Type::List(&Type::Float),
            "f_t for each prefix s≤t.",
        ),
        FieldSpec::output(
            "gap_step",
            Type::Int,
            "The step index where the gap fell; −1 when none.",
        ),
        FieldSpec::output(
            "adapted",
            Type::Bool,
            "Whether `solution` is the student's continuation.",
        ),
        FieldSpec::output(
            "explore_success",
            Type::Float,
            "Share of exploration samples that reached a*.",
        ),
    ]),
    lint: Some(lint),
    ..Signature::new(
        "adapt",
        SignatureKind::Transform,
        "DART: find where the student can no longer follow an expert solution, let it continue",
    )
};

const DOC: &str = r#"DART [paper code, METHODS.md §4]: adapt expert demonstrations to what the student can
actually follow.

1. **Split** the expert solution into steps on `step_separator`; prefixes `s≤t`. The
   whole solution is not simulated (it states its own answer), so a one-step solution
   passes unchanged.
2. **Simulate**: from each prefix the student continues `simulations` times (N = 4,
   temperature 0.1) as its own answer to the problem (the prefix is the start of its
   reply); adaptability `f_t` = share of continuations whose final boxed answer equals
   a*.
3. **Imitation gap** [rule: choice]: the first `t` with `f_t < tau`, or with
   `f_{t−1} − f_t > delta`. No gap: the record passes with `adapted = false`.
4. **Explore**: from the prefix before the gap (empty when the gap is the first step),
   the student writes `explore_samples` continuations in its own style: the DART prompt
   shows the prefix as read-only, and the reply starts with it. Only outcome-consistent
   ones (answer = a*) count; the first consistent continuation in sample order is used.
5. **Fallback**: no consistent continuation → `on_failure` keeps the expert trajectory
   or drops the problem.

`distill` then trains on `solution` (SFT on prefix ⊕ continuation). The run report lists
where the gap fell per problem.

```dta
stage adapted: adapt(train) { student = small, answer = train.answer, explore_samples = 16 }
```
"#;

fn lint(values: &dyn LintValues) -> Vec<Lint> {
    let mut lints = Vec::new();
    if let Some(tau) = values.float("tau").filter(|t| !(0.0..=1.0).contains(t)) {
        lints.push(Lint {
            setting: Some("tau"),
            message: format!(
                "tau {tau} is outside [0, 1]: adaptability is a share of continuations"
            ),
            help: "use a share such as 0.25".into(),
        });
    }
    lints
}

/// The exploration request (DART: continue in your own style, the prefix read-only).
pub const EXPLORE_PROMPT: &str = r#"Solve the problem below. The beginning of a solution is given; treat it as read-only and continue from where it stops, in your own words and style. Put your final answer within \boxed{}.

Problem:
{{question}}

Beginning of the solution:
{{prefix}}"#;

/// What simulations ask: the problem, as the student's rollouts see it.
const SIMULATE_SUFFIX: &str =
    "Please reason step by step, and put your final answer within \\boxed{}.";

/// Problems adapted at once.
const CONCURRENCY: usize = 16;

/// The built op.
#[derive(Debug)]
pub struct Adapt {
    sampler: Sampler,
    answer: Option<FieldRef>,
    separator: String,
    simulations: u64,
    temperature: f64,
    tau: f64,
    delta: f64,
    explore_samples: u64,
    explore_temperature: f64,
    prompt: Arc<PromptText>,
    drop_on_failure: bool,
    max_tokens: Option<i64>,
    seed: i64,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let student = s.model("student").ok_or_else(|| BuildError::Invalid {
        message: "`adapt` needs `student`".into(),
        help: "set `student = NAME`".into(),
    })?;
    let count = |name: &str, default: i64| -> Result<u64, BuildError> {
        let v = s.int(name).unwrap_or(default);
        if v < 1 {
            return Err(BuildError::Invalid {
                message: format!("`{name}` is {v}"),
                help: format!("use at least 1 (the default is {default})"),
            });
        }
        Ok(v as u64)
    };
    Ok(StageImpl::whole(Arc::new(Adapt {
        sampler: Sampler::for_model(student)?,
        answer: FieldRef::from_value(s.get("answer")),
        separator: s.str("step_separator").unwrap_or("\n\n").to_string(),
        simulations: count("simulations", 4)?,
        temperature: s.float("temperature").unwrap_or(0.1),
        tau: s.float("tau").unwrap_or(0.25),
        delta: s.float("delta").unwrap_or(0.5),
        explore_samples: count("explore_samples", 16)?,
        explore_temperature: s.float("explore_temperature").unwrap_or(1.0),
        prompt: match s.prompt("prompt") {
            Some(p) => p,
            None => crate::prompts::builtin(EXPLORE_PROMPT)?,
        },
        drop_on_failure: s.str("on_failure") == Some("drop"),
        max_tokens: s.int("max_tokens"),
        seed: s.int("seed").unwrap_or(0),
    })))
}

/// What happened to one problem.
struct Adapted {
    record: Record,
    keep: bool,
    steps: usize,
}

impl Adapt {
    /// a* for `record`: the joined reference, else the record's own `answer`.
    fn reference(&self, cx: &StageCtx, record: &Record) -> Result<String, OpError> {
        match &self.answer {
            Some(f) => f.text(cx, record),
            None => record.get("answer").and_then(as_text).ok_or_else(|| {
                OpError::Record(
                    "the record has no `answer` (a*): give one with `answer = DATASET.FIELD`"
                        .into(),
                )
            }),
        }
    }

    /// Whether each of `n` continuations of `prefix` reaches `answer`; `first` numbers
    /// the samples so every request is its own cache entry.
    #[allow(clippy::too_many_arguments)]
    async fn continuations(
        &self,
        cx: &StageCtx,
        record: &Record,
        user: &str,
        prefix: &str,
        temperature: f64,
        n: u64,
        first: u64,
        answer: &str,
    ) -> Result<Vec<(String, bool)>, OpError> {
        let requests: Vec<SampleRequest<'_>> = (0..n)
            .map(|i| SampleRequest {
                user,
                assistant_prefix: prefix,
                temperature: Some(temperature),
                max_tokens: self.max_tokens,
                seed: self.seed,
                sample: first + i,
                ..SampleRequest::default()
            })
            .collect();
        let answers = join_all(requests.iter().map(|r| self.sampler.sample(cx, record, r))).await;
        answers
            .into_iter()
            .map(|a| {
                let text = a?.text;
                let full = format!("{prefix}{text}");
                let reached = check(&full, answer, Extract::Boxed, DEFAULT_TOLERANCE).correct;
                Ok((text, reached))
            })
            .collect()
    }

    async fn one(&self, cx: &StageCtx, record: Record) -> Result<Adapted, OpError> {
        let expert = record
            .str("solution")
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| OpError::Record("the record has no expert `solution`".into()))?
            .to_string();
        let answer = self.reference(cx, &record)?;
        let question = record.str("question").unwrap_or_default().to_string();
        let user = format!("{question}\n\n{SIMULATE_SUFFIX}");
        let steps = split_steps(&expert, &self.separator);
        let prefixes = prefixes(&steps);
        // Every prefix's simulations at once; sample indices keep them apart in the cache.
        let n = self.simulations;
        let round = cx.round * 1_000_000;
        let sims = join_all(prefixes.iter().enumerate().map(|(t, p)| {
            self.continuations(
                cx,
                &record,
                &user,
                p,
                self.temperature,
                n,
                round + t as u64 * n,
                &answer,
            )
        }))
        .await;
        let mut adaptability = Vec::with_capacity(prefixes.len());
        for s in sims {
            let s = s?;
            adaptability.push(s.iter().filter(|(_, ok)| *ok).count() as f64 / n as f64);
        }
        let mut r = record.derive();
        r.set("original", expert.as_str());
        r.set("adaptability", adaptability.clone());
        let Some(g) = gap(&adaptability, self.tau, self.delta) else {
            r.set("gap_step", -1);
            r.set("adapted", false);
            r.set("explore_success", serde_json::Value::Null);
            return Ok(Adapted {
                record: r,
                keep: true,
                steps: steps.len(),
            });
        };
        // Explore from the prefix before the gap: steps before index g.
        let prefix = steps[..g].concat();
        let explore_user = self
            .prompt
            .render(&record.fields, &[("prefix", prefix.as_str())])
            .map_err(OpError::Record)?;
        let first = round + 500_000;
        let explored = self
            .continuations(
                cx,
                &record,
                &explore_user,
                &prefix,
                self.explore_temperature,
                self.explore_samples,
                first,
                &answer,
            )
            .await?;
        let reached: Vec<bool> = explored.iter().map(|(_, ok)| *ok).collect();
        let (chosen, share) = first_consistent(&reached);
        r.set("gap_step", g as i64);
        r.set("explore_success", share);
        match chosen {
            Some(i) => {
                r.set("solution", format!("{prefix}{}", explored[i].0));
                r.set("adapted", true);
                Ok(Adapted {
                    record: r,
                    keep: true,
                    steps: steps.len(),
                })
            }
            None => {
                r.set("adapted", false);
                Ok(Adapted {
                    record: r,
                    keep: !self.drop_on_failure,
                    steps: steps.len(),
                })
            }
        }
    }
}

impl GroupOp for Adapt {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        group: Vec<Record>,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let results: Vec<(Record, Result<Adapted, OpError>)> = stream::iter(group)
                .map(|r| async move { (r.clone(), self.one(cx, r).await) })
                .buffered(CONCURRENCY)
                .collect()
                .await;
            let mut out = Vec::new();
            let mut rows = Vec::new();
            for (input, result) in results {
                match result {
                    Ok(a) => {
                        let r = &a.record;
                        rows.push(vec![
                            json!(r.key_of("id")),
                            json!(a.steps),
                            r.get("adaptability").cloned().unwrap_or_default(),
                            r.get("gap_step").cloned().unwrap_or_default(),
                            r.get("adapted").cloned().unwrap_or_default(),
                            r.get("explore_success").cloned().unwrap_or_default(),
                        ]);
                        if a.keep {
                            out.push(a.record);
                        } else {
                            cx.drop_because(
                                &a.record,
                                "no consistent exploration",
                                json!({ "gap_step": r.get("gap_step") }),
                            );
                        }
                    }
                    Err(OpError::Record(m)) => {
                        cx.drop_because(&input, "not adapted", json!({ "error": m }))
                    }
                    Err(other) => return Err(other),
                }
            }
            cx.report_table(ReportTable {
                title: "adapt: where the imitation gap fell".into(),
                columns: [
                    "id",
                    "steps",
                    "adaptability f_t",
                    "gap step",
                    "adapted",
                    "explore success",
                ]
                .map(String::from)
                .to_vec(),
                rows,
            });
            Ok(out)
        })
    }
}
