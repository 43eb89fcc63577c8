//! `refine`: a teacher rewrites each student rollout into a refined trajectory (TRD).

use std::sync::Arc;

use dtac_interpreter::resolve::{Node, PromptText};
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, GroupOp, OpError, ReportTable, StageCtx, StageImpl};
use dtac_runtime::record::Record;
use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};
use serde_json::json;

use super::joined::FieldRef;
use super::refine_prompts::{
    clean_reply, estimate_tokens, truncate, Truncate, OPD_PROMPT, OPSD_PROMPT,
};
use super::sampling::{SampleRequest, Sampler};
use super::verify::check;
use super::{MAX_TOKENS, TEMPERATURE};
use crate::answers::{Extract, DEFAULT_TOLERANCE};
use crate::settings::Settings;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[
        InputSpec::records("rollouts", "Student rollouts (`rollout`).").needing(&["solution"]),
    ],
    settings: &[
        FieldSpec::optional(
            "mode",
            Type::Enum(&["opd", "opsd"]),
            "\"opd\"",
            "`opd`: a separate teacher fixes the rollout; `opsd`: the student itself, given \
             the reference solution as privileged context.",
        ),
        FieldSpec::required(
            "teacher",
            Type::Model,
            "The refiner: a stronger teacher for `opd`, the student itself for `opsd`.",
        ),
        FieldSpec::maybe(
            "reference",
            Type::FieldRef,
            "Reference solutions y* (`train.solution`), joined on `id`. Required by `opsd`.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The refine request; the paper's OPD or OPSD prompt when left out. Besides the \
             problem's fields it sees `{{solution}}` (the rollout) and `{{reference}}`.",
        )
        .with_template_vars(&["reference"]),
        FieldSpec::optional(
            "max_prompt_tokens",
            Type::Int,
            "32768",
            "When the rendered prompt is longer, the initial solution is truncated (never the \
             reference).",
        ),
        FieldSpec::optional(
            "truncate",
            Type::Enum(&["end", "middle"]),
            "\"end\"",
            "Which part of a too-long initial solution is cut: `end` keeps its beginning; \
             `middle` keeps its beginning and end.",
        ),
        FieldSpec::optional(
            "keep",
            Type::Enum(&["all", "correct"]),
            "\"all\"",
            "`all` keeps every refined trajectory [paper]; `correct` keeps only those whose \
             answer matches the record's `answer` (hurts Pass@16 in the paper).",
        ),
        TEMPERATURE,
        MAX_TOKENS,
    ],
    output: Output::Extends(&[
        FieldSpec::output("solution", Type::Str, "The refined trajectory y_r."),
        FieldSpec::output("original", Type::Str, "The rollout y_o."),
        FieldSpec::output(
            "teacher_prompt",
            Type::Str,
            "The rendered refine prompt: the teacher's context when `distill` computes its \
             logits on y_r.",
        ),
        FieldSpec::output(
            "refiner",
            Type::Str,
            "The model declaration that refined it.",
        ),
        FieldSpec::output("refine_mode", Type::Str, "`opd` or `opsd`."),
        FieldSpec::output(
            "truncated",
            Type::Bool,
            "Whether the initial solution was truncated.",
        ),
    ]),
    ..Signature::new(
        "refine",
        SignatureKind::Transform,
        "A teacher rewrites each student rollout into a corrected trajectory (TRD refine)",
    )
};

const DOC: &str = r#"TRD step 2, **refine** [paper]: a teacher rewrites the student's rollout `y_o` into
`y_r`.

- **OPD**: a separate teacher sees `x` and `y_o` and is told to keep the overall
  structure and reasoning path, find and fix computation or logic errors, keep correct
  steps, and output only the rewritten solution.
- **OPSD**: the student acts as its own teacher with privileged context `y*` (the
  `reference`): rewrite so the solution is consistent with the reference, keeping useful
  structure and style.

No correctness filter by default [paper]: filtering to failed-then-fixed cases hurts
Pass@16 by 10–15 points, so failures and successes are both kept. When the prompt is too
long, the initial-solution block is truncated, never the reference [paper].

The refined text replaces `solution`; the rendered prompt is kept in `teacher_prompt`
because TRD's dense distillation conditions the *teacher* on it while the student sees
only `x` [paper: TRD step 3]. The run report compares verifier pass rate and median
length of `original` and `solution` (the paper: 65.8% → 81.4%, 7.7K → 0.88K tokens).

```dta
stage refined: refine(rollouts) { mode = "opsd", teacher = small, reference = train.solution }
objective fkl: forward_kl {}
stage tuned: distill(refined) { student = small, teacher = small, signal = "logits", objective = fkl }
```
"#;

/// Refinements in flight at once.
const CONCURRENCY: usize = 64;

/// The built op.
#[derive(Debug)]
pub struct Refine {
    opsd: bool,
    sampler: Sampler,
    reference: Option<FieldRef>,
    prompt: Arc<PromptText>,
    max_prompt_tokens: usize,
    truncate: Truncate,
    keep_correct: bool,
    temperature: Option<f64>,
    max_tokens: Option<i64>,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let opsd = s.str("mode") == Some("opsd");
    let reference = FieldRef::from_value(s.get("reference"));
    if opsd && reference.is_none() {
        return Err(BuildError::Invalid {
            message: "`mode = \"opsd\"` needs the reference solutions".into(),
            help: "set `reference = DATASET.FIELD`, e.g. `reference = train.solution`".into(),
        });
    }
    let teacher = s.model("teacher").ok_or_else(|| BuildError::Invalid {
        message: "`refine` needs `teacher`".into(),
        help: "set `teacher = NAME` (the student itself for OPSD)".into(),
    })?;
    let prompt = match s.prompt("prompt") {
        Some(p) => p,
        None => crate::prompts::builtin(if opsd { OPSD_PROMPT } else { OPD_PROMPT })?,
    };
    Ok(StageImpl::whole(Arc::new(Refine {
        opsd,
        sampler: Sampler::for_model(teacher)?,
        reference,
        prompt,
        max_prompt_tokens: s.int("max_prompt_tokens").unwrap_or(32768).max(1) as usize,
        truncate: if s.str("truncate") == Some("middle") {
            Truncate::Middle
        } else {
            Truncate::End
        },
        keep_correct: s.str("keep") == Some("correct"),
        temperature: s.float("temperature"),
        max_tokens: s.int("max_tokens"),
    })))
}

/// One refined record, or why it was dropped.
enum Outcome {
    Kept(Box<Record>),
    Dropped { record: Box<Record>, answer: String },
}

impl Refine {
    /// The rendered refine request for `attempt`, truncated to the prompt budget.
    fn request(
        &self,
        record: &Record,
        attempt: &str,
        reference: &str,
    ) -> Result<(String, bool), OpError> {
        let render = |solution: &str| {
            self.prompt
                .render(
                    &record.fields,
                    &[("solution", solution), ("reference", reference)],
                )
                .map_err(OpError::Record)
        };
        let full = render(attempt)?;
        if estimate_tokens(&full) <= self.max_prompt_tokens {
            return Ok((full, false));
        }
        // Only the attempt is cut, never the reference or the problem.
        let rest = estimate_tokens(&render("")?);
        let budget = self.max_prompt_tokens.saturating_sub(rest);
        let (cut, truncated) = truncate(attempt, budget, self.truncate);
        Ok((render(&cut)?, truncated))
    }

    async fn one(&self, cx: &StageCtx, record: Record) -> Result<Outcome, OpError> {
        let original = record
            .str("solution")
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                OpError::Record("the record has no `solution` (rollout) to refine".into())
            })?
            .to_string();
        let reference = match &self.reference {
            Some(r) => r.text(cx, &record)?,
            None => String::new(),
        };
        let (user, truncated) = self.request(&record, &original, &reference)?;
        let answer = self
            .sampler
            .sample(
                cx,
                &record,
                &SampleRequest {
                    user: &user,
                    temperature: self.temperature,
                    max_tokens: self.max_tokens,
                    sample: cx.round,
                    ..SampleRequest::default()
                },
            )
            .await?;
        let refined = clean_reply(&answer.text);
        if refined.is_empty() {
            return Err(OpError::Record("the refiner answered with nothing".into()));
        }
        let mut r = record.derive();
        r.set("solution", refined.as_str());
        r.set("original", original);
        r.set("teacher_prompt", user);
        r.set("refiner", self.sampler.model().name.as_str());
        r.set("refine_mode", if self.opsd { "opsd" } else { "opd" });
        r.set("truncated", truncated);
        if self.keep_correct {
            let target = record
                .get("answer")
                .and_then(super::joined::as_text)
                .ok_or_else(|| {
                    OpError::Record("`keep = \"correct\"` needs the record's `answer`".into())
                })?;
            if !check(&refined, &target, Extract::Auto, DEFAULT_TOLERANCE).correct {
                return Ok(Outcome::Dropped {
                    record: Box::new(r),
                    answer: target,
                });
            }
        }
        Ok(Outcome::Kept(Box::new(r)))
    }
}

/// A refined record's original text, refined text and reference answer.
type Pair = (String, String, Option<String>);

/// Raw against refined: how many pass the verifier and how long they are.
fn evidence(pairs: &[Pair]) -> ReportTable {
    let row = |name: &str, pick: &dyn Fn(&Pair) -> &str| {
        let mut lengths: Vec<usize> = pairs.iter().map(|p| estimate_tokens(pick(p))).collect();
        lengths.sort_unstable();
        let median = if lengths.is_empty() {
            json!(null)
        } else {
            let n = lengths.len();
            json!(if n % 2 == 1 {
                lengths[n / 2] as f64
            } else {
                (lengths[n / 2 - 1] + lengths[n / 2]) as f64 / 2.0
            })
        };
        let checked: Vec<bool> = pairs
            .iter()
            .filter_map(|p| {
                p.2.as_ref()
                    .map(|a| check(pick(p), a, Extract::Auto, DEFAULT_TOLERANCE).correct)
            })
            .collect();
        let rate = if checked.is_empty() {
            json!(null)
        } else {
            json!(checked.iter().filter(|c| **c).count() as f64 / checked.len() as f64)
        };
        vec![
            json!(name),
            json!(pairs.len()),
            json!(checked.len()),
            rate,
            median,
        ]
    };
    ReportTable {
        title: "refine: raw vs refined trajectories".into(),
        columns: [
            "trajectories",
            "records",
            "with answer",
            "pass rate",
            "median tokens (est.)",
        ]
        .map(String::from)
        .to_vec(),
        rows: vec![row("raw (rollout)", &|p| &p.0), row("refined", &|p| &p.1)],
    }
}

impl GroupOp for Refine {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        group: Vec<Record>,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let results: Vec<(Record, Result<Outcome, OpError>)> = stream::iter(group)
                .map(|r| async move { (r.clone(), self.one(cx, r).await) })
                .buffered(CONCURRENCY)
                .collect()
                .await;
            let mut out = Vec::new();
            let mut pairs = Vec::new();
            for (input, result) in results {
                match result {
                    Ok(Outcome::Kept(r)) => {
                        pairs.push(pair(&r));
                        out.push(*r);
                    }
                    Ok(Outcome::Dropped { record, answer }) => {
                        pairs.push(pair(&record));
                        cx.drop_because(
                            &record,
                            "refined answer wrong",
                            json!({ "answer": answer }),
                        );
                    }
                    // One record's failure (a refused request, no reply) drops that record
                    // with the reason; the others go on.
                    Err(OpError::Record(m)) => {
                        cx.drop_because(&input, "not refined", json!({ "error": m }));
                    }
                    Err(other) => return Err(other),
                }
            }
            cx.report_table(evidence(&pairs));
            Ok(out)
        })
    }
}

fn pair(r: &Record) -> Pair {
    (
        r.str("original").unwrap_or_default().to_string(),
        r.str("solution").unwrap_or_default().to_string(),
        r.get("answer").and_then(super::joined::as_text),
    )
}
