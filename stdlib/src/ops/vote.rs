//! `vote`: per problem, combine normalized scores with weights and keep the top k.

use std::sync::Arc;

use dtac_interpreter::resolve::{Node, Value};
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, Estimate, GroupOp, OpError, StageCtx, StageImpl};
use dtac_runtime::record::Record;
use futures::future::{join_all, BoxFuture};
use serde_json::{json, Value as Json};

use super::informativeness::Informativeness;
use super::judge::Judge;
use super::vote_rank::{normalize, order, Normalize, TieBreak};
use crate::settings::Settings;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records(
        "candidates",
        "Candidates of many problems; grouped by `id`.",
    )],
    settings: &[
        FieldSpec::required(
            "weights",
            Type::Map(&Type::Float),
            "Score fields and their weights: `{ informativeness = 0.4, reward = 0.6 }`.",
        ),
        FieldSpec::optional(
            "normalize",
            Type::Enum(&["rank", "zscore", "none"]),
            "\"rank\"",
            "How each score is normalized within a problem before weighting: `rank` to [0, 1] \
             by rank, `zscore` by the group's mean and deviation, `none` as is.",
        ),
        FieldSpec::optional("keep", Type::Int, "1", "Candidates kept per problem."),
        FieldSpec::optional(
            "minimize",
            Type::List(&Type::Str),
            "[]",
            "Score fields where lower is better (their sign is flipped before normalizing).",
        ),
        FieldSpec::maybe(
            "informativeness",
            Type::Model,
            "Compute the `informativeness` score first with this model (as the \
             `informativeness` op with its defaults; an endpoint scores raw text, as with \
             `chat_template = false`).",
        ),
        FieldSpec::maybe(
            "judge",
            Type::Teacher,
            "Compute the `reward` score first with this judge (as the `judge` op with its \
             defaults).",
        ),
        FieldSpec::optional(
            "emit",
            Type::Enum(&["kept", "all"]),
            "\"kept\"",
            "`kept` emits the top `keep` of each problem; `all` emits every candidate with \
             `chosen` set.",
        ),
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "vote_score",
            Type::Float,
            "The weighted sum of normalized scores.",
        ),
        FieldSpec::output(
            "vote_rank",
            Type::Int,
            "1 for the best candidate of its problem.",
        ),
        FieldSpec::output(
            "chosen",
            Type::Bool,
            "Whether the candidate is among the top `keep`.",
        ),
        FieldSpec::output(
            "rejected",
            Type::List(&Type::Str),
            "The solutions of the problem's candidates that were not kept, best first \
             (for `preference` export).",
        ),
    ]),
    groups_by: Some("problem id (`id` field)"),
    ..Signature::new(
        "vote",
        SignatureKind::Transform,
        "Per problem, rank candidates by weighted normalized scores and keep the top k",
    )
};

const DOC: &str = r#"DTA phase II step 7, **reflection and voting** [paper]: rank the rewritten candidates of
each problem by a weighted combination of scores, and keep the top `keep`.

1. For each field in `weights` (fields in `minimize` negated first), normalize within the
   problem [choice]: `rank` maps ranks to [0, 1] (ties share the mean rank), `zscore`
   subtracts the mean and divides by the standard deviation (0 when all are equal).
2. `vote_score = Σ weight · normalized score`.
3. Sort by `vote_score`; ties break by `teacher`, then `sample`, then `candidate_id`, then
   the record's provenance id, so runs are deterministic.

With `informativeness` or `judge`, the stage computes `informativeness` or `reward`
itself first, for every candidate of the problem at once (as those ops with their
defaults; an endpoint's informativeness is scored on raw text, without a chat template).

A candidate missing a weighted score (absent, not a number, or its inline judge or
scoring failed) is left out of its problem's vote and dropped, with a note in the report
naming the score [choice]; when no candidate of a problem has every weighted score, the
problem is a run error (usually a misspelt field in `weights`).

The stage waits for all candidates of a problem. Output fields: `vote_score`,
`vote_rank`, `chosen`, and `rejected` on every emitted record; records come out best
first. With `emit = "kept"`, candidates not kept are counted as dropped ("not chosen").

```dta
stage ranked: vote(aligned) {
    weights = { informativeness = 0.4, reward = 0.6 },
    informativeness = small,
    judge = gpt,
    keep = 1,
}
```
"#;

/// The runnable op.
#[derive(Debug)]
pub struct Vote {
    weights: Vec<(String, f64)>,
    normalize: Normalize,
    keep: usize,
    minimize: Vec<String>,
    informativeness: Option<Informativeness>,
    judge: Option<Judge>,
    emit_all: bool,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let weights: Vec<(String, f64)> = match s.get("weights") {
        Some(Value::Record(fields)) => fields
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_float()?)))
            .collect(),
        _ => Vec::new(),
    };
    if weights.is_empty() {
        return Err(BuildError::Invalid {
            message: "`weights` names no score".into(),
            help: "give at least one score field, e.g. `weights = { reward = 1.0 }`".into(),
        });
    }
    let informativeness = s
        .model("informativeness")
        .map(Informativeness::with_defaults);
    let judge = match s.model("judge") {
        Some(t) => Some(Judge::with_defaults(t)?),
        None => None,
    };
    Ok(StageImpl::Group {
        op: Arc::new(Vote {
            weights,
            normalize: Normalize::from_setting(s.str("normalize")),
            keep: s.int("keep").unwrap_or(1).max(0) as usize,
            minimize: s.strings("minimize"),
            informativeness,
            judge,
            emit_all: s.str("emit") == Some("all"),
        }),
        by: "id".into(),
    })
}

/// A candidate and its weighted scores, or why it has none.
type Scored = (Record, Result<Vec<f64>, Json>);

impl Vote {
    /// Computes the inline scores of one candidate. A record error of an inline judge or
    /// scorer leaves the score out (the candidate then misses it); anything that stops the
    /// run is returned.
    async fn inline(&self, cx: &StageCtx, mut record: Record) -> Result<Scored, OpError> {
        let mut failed = None;
        if let Some(judge) = &self.judge {
            match judge.judge(cx, &record).await {
                Ok(j) => j.apply(&mut record),
                Err(OpError::Record(m)) => failed = Some(json!({"score": "reward", "error": m})),
                Err(other) => return Err(other),
            }
        }
        if let Some(inf) = &self.informativeness {
            match inf.measure(cx, &record).await {
                Ok(m) => m.apply(&mut record),
                Err(OpError::Record(m)) => {
                    failed = failed.or(Some(json!({"score": "informativeness", "error": m})))
                }
                Err(other) => return Err(other),
            }
        }
        let scores = self
            .scores(&record)
            .map_err(|missing| failed.unwrap_or(missing));
        Ok((record, scores))
    }

    /// The candidate's weighted scores, signs flipped for `minimize`; `Err` names the
    /// first one missing.
    fn scores(&self, record: &Record) -> Result<Vec<f64>, Json> {
        self.weights
            .iter()
            .map(|(field, _)| {
                let value = record
                    .get(field)
                    .and_then(Json::as_f64)
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| json!({"score": field, "found": record.get(field)}))?;
                Ok(if self.minimize.contains(field) {
                    -value
                } else {
                    value
                })
            })
            .collect()
    }

    /// Σ weight · normalized score, per candidate.
    fn vote_scores(&self, scores: &[Vec<f64>]) -> Vec<f64> {
        let mut total = vec![0.0; scores.len()];
        for (f, (_, weight)) in self.weights.iter().enumerate() {
            let column: Vec<f64> = scores.iter().map(|s| s[f]).collect();
            for (t, v) in total.iter_mut().zip(normalize(&column, self.normalize)) {
                *t += weight * v;
            }
        }
        total
    }
}

fn tie_break(record: &Record) -> TieBreak {
    TieBreak {
        teacher: record.key_of("teacher"),
        sample: record.get("sample").and_then(Json::as_i64),
        candidate_id: record.key_of("candidate_id"),
        provenance: record.meta.id.clone(),
    }
}

impl GroupOp for Vote {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        group: Vec<Record>,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let problem = group.first().map(|r| r.key_of("id")).unwrap_or_default();
            let scored = join_all(group.into_iter().map(|r| self.inline(cx, r))).await;
            let mut candidates = Vec::new();
            let mut scores = Vec::new();
            let mut first_missing = None;
            for result in scored {
                let (record, s) = result?;
                match s {
                    Ok(s) => {
                        candidates.push(record);
                        scores.push(s);
                    }
                    Err(why) => {
                        cx.drop_because(&record, "missing score", why.clone());
                        first_missing.get_or_insert(why);
                    }
                }
            }
            if candidates.is_empty() {
                return Err(OpError::Record(format!(
                    "no candidate of problem `{problem}` has every weighted score; the first \
                     lacks {}",
                    first_missing.unwrap_or(Json::Null)
                )));
            }
            let totals = self.vote_scores(&scores);
            let ties: Vec<TieBreak> = candidates.iter().map(tie_break).collect();
            let ranked = order(&totals, &ties);
            let rejected: Vec<Json> = ranked
                .iter()
                .skip(self.keep)
                .filter_map(|&i| candidates[i].str("solution").map(Json::from))
                .collect();
            let mut out = Vec::new();
            for (position, &i) in ranked.iter().enumerate() {
                let chosen = position < self.keep;
                if !chosen && !self.emit_all {
                    cx.drop_record("not chosen");
                    continue;
                }
                let mut r = candidates[i].derive();
                r.score("vote_score", totals[i]);
                r.set("vote_rank", position as u64 + 1);
                r.set("chosen", chosen);
                r.set("rejected", Json::Array(rejected.clone()));
                out.push(r);
            }
            Ok(out)
        })
    }

    fn estimate(&self, inputs: u64) -> Estimate {
        // How many candidates a problem has is unknown before the run: every candidate is
        // an upper bound on what comes out.
        let mut requests = Vec::new();
        if let Some(judge) = &self.judge {
            requests.extend(judge.estimate(inputs).requests);
        }
        if let Some(inf) = &self.informativeness {
            requests.extend(inf.estimate(inputs).requests);
        }
        Estimate {
            records: inputs,
            requests,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(weights: &[(&str, f64)], minimize: &[&str], how: Normalize) -> Vote {
        Vote {
            weights: weights.iter().map(|(k, w)| (k.to_string(), *w)).collect(),
            normalize: how,
            keep: 1,
            minimize: minimize.iter().map(|s| s.to_string()).collect(),
            informativeness: None,
            judge: None,
            emit_all: false,
        }
    }

    fn record(fields: Json) -> Record {
        let Json::Object(fields) = fields else {
            unreachable!("a test record is an object")
        };
        Record::source("t", "test", 0, fields)
    }

    #[test]
    fn minimized_scores_are_negated_and_missing_ones_named() {
        let v = vote(
            &[("reward", 0.6), ("ifd_ratio", 0.4)],
            &["ifd_ratio"],
            Normalize::None,
        );
        let r = record(json!({"reward": 0.8, "ifd_ratio": 0.5}));
        assert_eq!(v.scores(&r), Ok(vec![0.8, -0.5]));
        let missing = record(json!({"reward": 0.8, "ifd_ratio": "high"}));
        assert_eq!(
            v.scores(&missing),
            Err(json!({"score": "ifd_ratio", "found": "high"}))
        );
    }

    #[test]
    fn weighted_sums_combine_normalized_columns() {
        let v = vote(&[("a", 0.25), ("b", 0.75)], &[], Normalize::Rank);
        // a ranks 0, 0.5, 1; b ranks 1, 0, 0.5.
        let totals = v.vote_scores(&[vec![1.0, 9.0], vec![2.0, 1.0], vec![3.0, 5.0]]);
        let expected = [0.75, 0.125, 0.25 + 0.375];
        assert!(
            totals
                .iter()
                .zip(expected)
                .all(|(t, e)| (t - e).abs() < 1e-12),
            "{totals:?}"
        );
    }
}
