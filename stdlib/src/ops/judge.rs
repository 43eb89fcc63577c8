//! `judge`: rubric scoring of each candidate by a teacher, as validated JSON.

use std::sync::Arc;

use dtac_interpreter::resolve::{ModelDecl, Node, PromptText, Value};
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{
    BuildError, Estimate, OpError, RecordOp, RequestEstimate, StageCtx, StageImpl,
};
use dtac_runtime::record::Record;
use futures::future::BoxFuture;
use serde_json::{json, Map, Value as Json};

use super::ask::teacher_request;
use crate::settings::Settings;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("candidates", "The candidates to score.").needing(&["solution"])],
    settings: &[
        FieldSpec::required("teacher", Type::Teacher, "The judge."),
        FieldSpec::optional(
            "rubric",
            Type::List(&Type::Str),
            "[\"correctness\", \"completeness\", \"clarity\", \"conciseness\"]",
            "The criteria, each scored 1 to 10.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The judging request, over the record's fields and `{{rubric}}`. When left out, \
             the built-in rubric prompt, which reads `{{question}}`.",
        )
        .with_template_vars(&["rubric"]),
        FieldSpec::maybe(
            "reference",
            Type::FieldRef,
            "Reference solutions shown to the judge (`train.solution`), joined on `id`.",
        ),
        FieldSpec::optional(
            "repair_attempts",
            Type::Int,
            "1",
            "Re-asks when the answer is not valid JSON of the expected shape; then the \
             record gets an error and no scores.",
        ),
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "judge_scores",
            Type::Map(&Type::Int),
            "Each rubric criterion's score, 1 to 10.",
        ),
        FieldSpec::output(
            "reward",
            Type::Float,
            "The overall score mapped to [0, 1]: (overall − 1) / 9.",
        ),
        FieldSpec::output(
            "judge_rationale",
            Type::Str,
            "The judge's short justification.",
        ),
    ]),
    ..Signature::new(
        "judge",
        SignatureKind::Transform,
        "A teacher scores each candidate on a rubric (1–10 per criterion, plus overall)",
    )
};

const DOC: &str = r#"The *reward* signal of DTA phase II step 7 [paper]: a judge scores correctness,
completeness, clarity and conciseness. The judge answers with JSON, validated on receipt
(`response_format` where the endpoint supports it):

```json
{"scores": {"correctness": 9, "completeness": 8, "clarity": 7, "conciseness": 6},
 "overall": 8, "rationale": "..."}
```

Every rubric criterion must be present with an integer from 1 to 10. `reward` is the
overall score rescaled to [0, 1], ready for `vote { weights = { reward = ... } }`.

```dta
stage judged: judge(aligned) { teacher = gpt, reference = train.solution }
```
"#;

/// The built-in judging prompt. `{{reference}}` is filled by the op (empty without one).
const DEFAULT_PROMPT: &str = r#"You are grading a solution to a problem.

Problem:
{{question}}
{{reference}}
Solution to grade:
{{solution}}

Score the solution on each of these criteria from 1 (worst) to 10 (best): {{rubric}}.
Then give an overall score from 1 to 10, and a rationale of one or two sentences.
Answer with only a JSON object of the form
{"scores": {"<criterion>": <integer>, ...}, "overall": <integer>, "rationale": "<text>"}"#;

/// The runnable op; also used by `vote { judge = ... }`.
#[derive(Debug)]
pub struct Judge {
    teacher: Arc<ModelDecl>,
    rubric: Vec<String>,
    prompt: Arc<PromptText>,
    /// Whether the prompt is the built-in one (which shows the reference).
    builtin: bool,
    /// `(dataset, field)` of the reference solutions.
    reference: Option<(String, String)>,
    repairs: u32,
    schema: Json,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let teacher = s.model("teacher").ok_or_else(|| BuildError::Invalid {
        message: "`judge` needs a `teacher`".into(),
        help: "set `teacher = NAME`".into(),
    })?;
    let rubric = s.strings("rubric");
    if rubric.is_empty() {
        return Err(BuildError::Invalid {
            message: "`rubric` is empty".into(),
            help: "list at least one criterion, e.g. `rubric = [\"correctness\"]`".into(),
        });
    }
    let (prompt, builtin) = match s.prompt("prompt") {
        Some(p) => (p, false),
        None => (crate::prompts::builtin(DEFAULT_PROMPT)?, true),
    };
    let reference = match s.get("reference") {
        Some(Value::Field { records, field }) => Some((records.clone(), field.clone())),
        _ => None,
    };
    Ok(StageImpl::Each(Arc::new(Judge {
        schema: rubric_schema(&rubric),
        teacher,
        rubric,
        prompt,
        builtin,
        reference,
        repairs: s.int("repair_attempts").unwrap_or(1).clamp(0, 10) as u32,
    })))
}

/// The signature's default rubric, for inline judges (a stage gets it filled in by the
/// resolver).
fn default_rubric() -> Vec<String> {
    ["correctness", "completeness", "clarity", "conciseness"]
        .map(String::from)
        .to_vec()
}

/// The answer's schema: every criterion an integer from 1 to 10, an overall score, and a
/// rationale; nothing else.
pub fn rubric_schema(rubric: &[String]) -> Json {
    let score = json!({"type": "integer", "minimum": 1, "maximum": 10});
    let criteria: Map<String, Json> = rubric.iter().map(|c| (c.clone(), score.clone())).collect();
    json!({
        "type": "object",
        "properties": {
            "scores": {
                "type": "object",
                "properties": criteria,
                "required": rubric,
                "additionalProperties": false,
            },
            "overall": score,
            "rationale": {"type": "string"},
        },
        "required": ["scores", "overall", "rationale"],
        "additionalProperties": false,
    })
}

/// One judgement: the validated answer, read.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    /// Each rubric criterion's score, 1 to 10.
    pub scores: Map<String, Json>,
    /// The overall score, 1 to 10.
    pub overall: f64,
    pub rationale: String,
}

impl Judgement {
    /// The overall score mapped to [0, 1].
    pub fn reward(&self) -> f64 {
        (self.overall - 1.0) / 9.0
    }

    /// Sets `judge_scores`, `reward` (also as a score) and `judge_rationale` on `out`.
    pub fn apply(&self, out: &mut Record) {
        out.set("judge_scores", Json::Object(self.scores.clone()));
        out.score("reward", self.reward());
        out.set("judge_rationale", self.rationale.as_str());
    }
}

impl Judge {
    /// The judge with every setting at its default (the built-in prompt and rubric, no
    /// reference, one repair turn), for ops that judge inline (`vote { judge = ... }`).
    pub fn with_defaults(teacher: Arc<ModelDecl>) -> Result<Judge, BuildError> {
        let rubric = default_rubric();
        Ok(Judge {
            schema: rubric_schema(&rubric),
            teacher,
            rubric,
            prompt: crate::prompts::builtin(DEFAULT_PROMPT)?,
            builtin: true,
            reference: None,
            repairs: 1,
        })
    }

    /// Asks the judge about `record`.
    pub async fn judge(&self, cx: &StageCtx, record: &Record) -> Result<Judgement, OpError> {
        let rubric = self.rubric.join(", ");
        let reference = self.reference_text(cx, record)?;
        let shown = if self.builtin && !reference.is_empty() {
            format!("\nA reference solution (correct, for comparison):\n{reference}\n")
        } else {
            reference
        };
        let user = self
            .prompt
            .render(
                &record.fields,
                &[("rubric", &rubric), ("reference", &shown)],
            )
            .map_err(OpError::Record)?;
        let request = teacher_request(cx, &self.teacher, &user);
        let answer = cx
            .chat_json(
                record,
                &self.teacher,
                &request,
                "judgement",
                &self.schema,
                self.repairs,
            )
            .await?;
        let scores: Map<String, Json> = self
            .rubric
            .iter()
            .map(|c| {
                let v = answer
                    .value
                    .pointer(&format!("/scores/{}", pointer_escape(c)));
                (
                    c.clone(),
                    json!(v.and_then(Json::as_f64).unwrap_or(0.0).round() as i64),
                )
            })
            .collect();
        Ok(Judgement {
            scores,
            overall: answer.value["overall"].as_f64().unwrap_or(1.0),
            rationale: answer.value["rationale"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// The requests judging `inputs` records takes.
    pub fn estimate(&self, inputs: u64) -> Estimate {
        Estimate {
            records: inputs,
            requests: vec![RequestEstimate {
                teacher: self.teacher.clone(),
                requests: inputs,
                prompt_tokens: inputs * (self.prompt.source_text().len() as u64 / 4 + 600),
                completion_tokens: inputs * 120,
            }],
        }
    }

    fn reference_text(&self, cx: &StageCtx, record: &Record) -> Result<String, OpError> {
        let Some((dataset, field)) = &self.reference else {
            return Ok(String::new());
        };
        let id = record.key_of("id");
        let side = cx.side(dataset)?;
        let text = side
            .by_id(&id)
            .and_then(|r| r.fields.get(field))
            .ok_or_else(|| {
                OpError::Record(format!(
                    "no `{dataset}` record with id `{id}` has `{field}`"
                ))
            })?;
        Ok(match text {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

impl RecordOp for Judge {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let judgement = self.judge(cx, &record).await?;
            let mut out = record.derive();
            judgement.apply(&mut out);
            Ok(vec![out])
        })
    }

    fn estimate(&self, inputs: u64) -> Estimate {
        Judge::estimate(self, inputs)
    }
}

/// A JSON pointer segment for a key (`~` and `/` escaped).
fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use dtac_runtime::llm::schema::{check_schema, validate};

    use super::*;

    #[test]
    fn the_rubric_schema_is_valid_and_strict() {
        let rubric: Vec<String> = ["correctness", "clarity"].map(String::from).to_vec();
        let schema = rubric_schema(&rubric);
        assert_eq!(check_schema(&schema), Ok(()));
        let good =
            json!({"scores": {"correctness": 9, "clarity": 7}, "overall": 8, "rationale": "ok"});
        assert!(validate(&schema, &good).is_empty());
        let bad = json!({"scores": {"correctness": 11}, "overall": 8, "rationale": "ok"});
        let errors = validate(&schema, &bad);
        assert!(errors.iter().any(|e| e.contains("clarity")), "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("maximum")), "{errors:?}");
    }

    #[test]
    fn the_builtin_prompt_parses() {
        assert!(crate::prompts::builtin(DEFAULT_PROMPT).is_ok());
    }
}
