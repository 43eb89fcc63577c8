//! `peer_review`: the other teachers of the ensemble review each candidate and give it a
//! credibility score.

use std::sync::Arc;

use dtac_interpreter::resolve::{ModelDecl, Node, PromptText};
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{
    BuildError, Estimate, OpError, RecordOp, RequestEstimate, StageCtx, StageImpl,
};
use dtac_runtime::record::Record;
use futures::future::{join_all, BoxFuture};
use serde_json::{json, Value as Json};

use super::ask::teacher_request;
use super::review_schema::{aggregate, review_schema, Aggregate, Review};
use crate::settings::Settings;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records(
        "candidates",
        "The candidates, with the teacher that wrote each.",
    )
    .needing(&["solution", "teacher"])],
    settings: &[
        FieldSpec::required(
            "reviewers",
            Type::List(&Type::Teacher),
            "The reviewing teachers, usually the ensemble that wrote the candidates.",
        ),
        FieldSpec::optional(
            "exclude_author",
            Type::Bool,
            "true",
            "Never let a teacher review its own candidate (the method's rule).",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The review request, over the problem's fields and `{{candidate}}`. When left \
             out, the DTA review prompt, which reads `{{question}}`.",
        )
        .with_template_vars(&["candidate", "author"]),
        FieldSpec::optional(
            "aggregate",
            Type::Enum(&["mean", "min", "median"]),
            "\"mean\"",
            "How reviewers' credibilities combine into the candidate's.",
        ),
        FieldSpec::maybe(
            "min_credibility",
            Type::Float,
            "Drop candidates whose aggregated credibility is below this (0 to 1).",
        ),
        FieldSpec::optional(
            "repair_attempts",
            Type::Int,
            "1",
            "Re-asks when a review is not valid JSON of the expected shape; then the review \
             is recorded as an error and left out of the aggregate.",
        ),
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "credibility",
            Type::Float,
            "The aggregated credibility in [0, 1]; absent when no valid review came back.",
        ),
        FieldSpec::output(
            "reviews",
            Type::List(&Type::Any),
            "Every review: `{ reviewer, credibility, verdict, rationale }`.",
        ),
    ]),
    ..Signature::new(
        "peer_review",
        SignatureKind::Transform,
        "Other teachers review each candidate; credibility = mean, min or median of their scores",
    )
};

const DOC: &str = r#"DTA phase I step 2, **peer review** [paper]: every candidate is reviewed by the *other*
teachers (with `exclude_author`, never the one named in its `teacher` field). Each
reviewer answers with JSON, validated on receipt:

```json
{"credibility": 0.85, "verdict": "correct", "rationale": "one or two sentences"}
```

`credibility` is in [0, 1]; `verdict` is `correct`, `flawed` or `wrong`. The candidate's
credibility aggregates the reviewers' with `aggregate` (`mean` [paper]; `min` and
`median` [choice]); `min_credibility` drops the candidates below the threshold.

The prompt sees the problem's fields plus `{{candidate}}` (the solution under review)
and `{{author}}` (the teacher that wrote it; the default prompt does not reveal it).
The reviews of one candidate are asked at once. A reviewer list that leaves a candidate
with no eligible reviewer is a run error for that record, and so is a candidate without
a `teacher` field when `exclude_author` is on.

A review that is still not valid JSON of the expected shape after `repair_attempts` is
kept in `reviews` as `{ reviewer, error }` and left out of the aggregate [choice]. When
no review of a candidate is valid, `credibility` is absent; with `min_credibility` that
is a run error for the record, since whether it passes cannot be known [choice].
Candidates dropped for low credibility are counted in the report with their
credibility and verdicts.

```dta
stage reviewed: peer_review(checked) { reviewers = [gpt, qwen], min_credibility = 0.7 }
```
"#;

/// The DTA review prompt, used when `prompt` is left out.
pub const DEFAULT_PROMPT: &str = r#"You are reviewing a solution that another model wrote.

Problem:
{{question}}

Solution under review:
{{candidate}}

Check every step: the reasoning, each computation and the final answer. Then rate how
credible the solution is, from 0 (certainly wrong) to 1 (certainly correct), and give a
verdict: "correct" (sound and complete), "flawed" (the answer may be right but a step is
wrong or missing) or "wrong" (the method or the final answer is incorrect). Justify your
rating in one or two sentences.
Answer with only a JSON object of the form
{"credibility": <number from 0 to 1>, "verdict": "correct" | "flawed" | "wrong", "rationale": "<text>"}"#;

/// The runnable op.
#[derive(Debug)]
pub struct PeerReview {
    reviewers: Vec<Arc<ModelDecl>>,
    exclude_author: bool,
    prompt: Arc<PromptText>,
    aggregate: Aggregate,
    min_credibility: Option<f64>,
    repairs: u32,
    schema: Json,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let reviewers = s.models("reviewers")?;
    if reviewers.is_empty() {
        return Err(BuildError::Invalid {
            message: "`reviewers` is empty".into(),
            help: "list the reviewing teachers, e.g. `reviewers = [gpt, qwen]`".into(),
        });
    }
    let prompt = match s.prompt("prompt") {
        Some(p) => p,
        None => crate::prompts::builtin(DEFAULT_PROMPT)?,
    };
    Ok(StageImpl::Each(Arc::new(PeerReview {
        reviewers,
        exclude_author: s.bool("exclude_author").unwrap_or(true),
        prompt,
        aggregate: Aggregate::from_setting(s.str("aggregate")),
        min_credibility: s.float("min_credibility"),
        repairs: s.int("repair_attempts").unwrap_or(1).clamp(0, 10) as u32,
        schema: review_schema(),
    })))
}

impl PeerReview {
    /// The reviewers of a candidate written by `author`.
    fn eligible(&self, author: Option<&str>) -> Vec<&Arc<ModelDecl>> {
        self.reviewers
            .iter()
            .filter(|r| !(self.exclude_author && author == Some(r.name.as_str())))
            .collect()
    }

    /// One reviewer's review of the candidate; a record error becomes `Err(message)`, and
    /// anything that stops the run is returned as the outer error.
    async fn review(
        &self,
        cx: &StageCtx,
        record: &Record,
        reviewer: &ModelDecl,
        user: &str,
    ) -> Result<Result<Review, String>, OpError> {
        let request = teacher_request(cx, reviewer, user);
        let answer = cx
            .chat_json(
                record,
                reviewer,
                &request,
                "review",
                &self.schema,
                self.repairs,
            )
            .await;
        match answer {
            Ok(answer) => Ok(Review::from_value(&reviewer.name, &answer.value)
                .ok_or_else(|| "the review does not follow the schema `review`".to_string())),
            Err(OpError::Record(message)) => Ok(Err(message)),
            Err(other) => Err(other),
        }
    }
}

impl RecordOp for PeerReview {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let author = record.str("teacher").map(str::to_string);
            if self.exclude_author && author.is_none() {
                return Err(OpError::Record(
                    "the candidate has no `teacher` field, so its author cannot be excluded \
                     from its reviewers"
                        .into(),
                ));
            }
            let reviewers = self.eligible(author.as_deref());
            if reviewers.is_empty() {
                return Err(OpError::Record(format!(
                    "no reviewer is left for a candidate by `{}`: a teacher never reviews \
                     its own candidate",
                    author.unwrap_or_default()
                )));
            }
            let candidate = record.str("solution").unwrap_or_default().to_string();
            let user = self
                .prompt
                .render(
                    &record.fields,
                    &[
                        ("candidate", &candidate),
                        ("author", author.as_deref().unwrap_or_default()),
                    ],
                )
                .map_err(OpError::Record)?;
            let answers =
                join_all(reviewers.iter().map(|r| self.review(cx, &record, r, &user))).await;
            let mut reviews = Vec::new();
            let mut valid = Vec::new();
            let mut failures = Vec::new();
            for (reviewer, answer) in reviewers.iter().zip(answers) {
                match answer? {
                    Ok(review) => {
                        reviews.push(review.to_json());
                        valid.push(review);
                    }
                    Err(error) => {
                        reviews.push(json!({"reviewer": reviewer.name, "error": error}));
                        failures.push(format!("`{}`: {error}", reviewer.name));
                    }
                }
            }
            let credibilities: Vec<f64> = valid.iter().map(|r| r.credibility).collect();
            let credibility = aggregate(&credibilities, self.aggregate);
            match (credibility, self.min_credibility) {
                (None, Some(_)) => {
                    return Err(OpError::Record(format!(
                        "no reviewer returned a valid review ({})",
                        failures.join("; ")
                    )))
                }
                (Some(c), Some(min)) if c < min => {
                    let verdicts: Vec<Json> = valid
                        .iter()
                        .map(|r| json!({"reviewer": r.reviewer, "verdict": r.verdict}))
                        .collect();
                    cx.drop_because(
                        &record,
                        "low credibility",
                        json!({"credibility": c, "verdicts": verdicts}),
                    );
                    return Ok(vec![]);
                }
                _ => {}
            }
            let mut out = record.derive();
            out.set("reviews", Json::Array(reviews));
            if let Some(c) = credibility {
                out.score("credibility", c);
            }
            Ok(vec![out])
        })
    }

    fn estimate(&self, inputs: u64) -> Estimate {
        // Authors are unknown before the run: assume the candidates are spread evenly
        // over the reviewers, so each reviews the others' share.
        let n = self.reviewers.len() as u64;
        let per = if self.exclude_author && n > 1 {
            (inputs * (n - 1)).div_ceil(n)
        } else {
            inputs
        };
        let prompt_tokens = self.prompt.source_text().len() as u64 / 4 + 800;
        Estimate {
            records: inputs,
            requests: self
                .reviewers
                .iter()
                .map(|r| RequestEstimate {
                    teacher: r.clone(),
                    requests: per,
                    prompt_tokens: per * prompt_tokens,
                    completion_tokens: per * 120,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_prompt_parses_and_reads_the_candidate() {
        let prompt = crate::prompts::builtin(DEFAULT_PROMPT).unwrap();
        let mut fields = serde_json::Map::new();
        fields.insert("question".into(), json!("What is 2 + 2?"));
        let text = prompt
            .render(&fields, &[("candidate", "2 + 2 = 4"), ("author", "gpt")])
            .unwrap();
        assert!(text.contains("What is 2 + 2?") && text.contains("2 + 2 = 4"));
        assert!(!text.contains("gpt"), "the default prompt hides the author");
    }
}
