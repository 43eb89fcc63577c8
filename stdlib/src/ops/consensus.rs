//! `consensus`: how much the candidates of one problem agree on the final answer.
//!
//! The voting is a pure function ([`standings`]) over the candidates' answers and voters;
//! the op extracts the answers, calls it per problem, and writes or drops.

use std::collections::HashMap;
use std::sync::Arc;

use dtac_interpreter::resolve::Node;
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, GroupOp, OpError, StageCtx, StageImpl};
use dtac_runtime::record::Record;
use futures::future::BoxFuture;

use super::EXTRACT;
use crate::answers::{canonical, equivalent, extract, Extract, DEFAULT_TOLERANCE};
use crate::settings::Settings;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records(
        "candidates",
        "Candidates of many problems; grouped by `id`.",
    )
    .needing(&["solution"])],
    settings: &[
        FieldSpec::optional(
            "by",
            Type::Enum(&["teacher", "sample"]),
            "\"teacher\"",
            "What votes: `teacher` counts each teacher's most common answer once, so a \
             teacher with many samples cannot outvote the others; `sample` counts every \
             candidate.",
        ),
        EXTRACT,
        FieldSpec::maybe(
            "min_agreement",
            Type::Float,
            "Drop candidates whose `agreement` is below this share (0 to 1).",
        ),
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "agreement",
            Type::Float,
            "The share of voters (teachers or samples) whose answer equals this candidate's.",
        ),
        FieldSpec::output("majority", Type::Str, "The problem's most common answer."),
        FieldSpec::output(
            "in_majority",
            Type::Bool,
            "Whether this candidate's answer is it.",
        ),
    ]),
    groups_by: Some("problem id (`id` field)"),
    ..Signature::new(
        "consensus",
        SignatureKind::Transform,
        "Score each candidate by how many teachers agree with its final answer",
    )
};

const DOC: &str = r#"DTA phase I step 3, the second signal [paper: "agreement across teachers"]. For each
problem, the final answers of its candidates are found (the `extracted` field when
`verify` already ran, an empty one meaning no answer; else the `extract` rules of
`verify` on `solution`) and compared with `verify`'s equivalence rules at the default
tolerance: two answers agree when they have the same canonical form or the rules say
they are equal (plain texts that differ never agree). Needs no reference answer, so it
also works on problems without one.

Voters: with `by = "sample"` every candidate is a voter; with `by = "teacher"` every
distinct `teacher` field is one voter, whose answer is its most common one (ties go to
the answer it gave first), and a candidate without a `teacher` field is a voter of its
own. A voter whose candidates have no answer still counts, voting for nothing.
`agreement` is the share of voters whose answer equals the candidate's; a candidate
without an answer gets 0 and `in_majority = false`.

The majority is the answer with the most votes; ties are broken by the answer's first
appearance in input order. `majority` is its text as first written, empty when no
candidate of the problem has an answer. The stage waits for all candidates of a problem
(grouped by `id`) before emitting them, in input order. With `min_agreement`, candidates
below it are dropped (counted as "low agreement"). `agreement` is also recorded as a
score, so the run report shows its histogram.

Output fields: `agreement` in [0, 1], `majority`, `in_majority`.

```dta
stage agreed: consensus(candidates) { by = "teacher", min_agreement = 0.5 }
```
"#;

/// What votes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Teacher,
    Sample,
}

/// One candidate's standing among the candidates of its problem.
#[derive(Clone, Debug, PartialEq)]
pub struct Standing {
    pub agreement: f64,
    /// The majority answer as first written; empty when nothing was answered.
    pub majority: String,
    pub in_majority: bool,
}

/// The standing of each candidate, from its answer (`None`: none found) and its voter
/// (`None`: a voter of its own). `answers` and `voters` have one entry per candidate.
pub fn standings(answers: &[Option<String>], voters: &[Option<String>], by: By) -> Vec<Standing> {
    let (clusters, texts) = clusters(answers);
    // Votes per cluster, and the number of voters.
    let mut votes = vec![0usize; texts.len()];
    let voter_count = match by {
        By::Sample => {
            for c in clusters.iter().flatten() {
                votes[*c] += 1;
            }
            answers.len()
        }
        By::Teacher => {
            let ballots = teacher_ballots(&clusters, voters);
            for c in ballots.iter().flatten() {
                votes[*c] += 1;
            }
            ballots.len()
        }
    };
    // Clusters are numbered in order of first appearance, so the first maximum wins ties.
    let majority = (0..votes.len()).filter(|&c| votes[c] > 0).fold(
        None,
        |best: Option<usize>, c| match best {
            Some(b) if votes[b] >= votes[c] => Some(b),
            _ => Some(c),
        },
    );
    let majority_text = majority.map(|c| texts[c].clone()).unwrap_or_default();
    clusters
        .iter()
        .map(|cluster| Standing {
            agreement: match cluster {
                Some(c) if voter_count > 0 => votes[*c] as f64 / voter_count as f64,
                _ => 0.0,
            },
            majority: majority_text.clone(),
            in_majority: cluster.is_some() && *cluster == majority,
        })
        .collect()
}

/// Groups equal answers: each answer's cluster (numbered by first appearance), and each
/// cluster's first text.
fn clusters(answers: &[Option<String>]) -> (Vec<Option<usize>>, Vec<String>) {
    let mut texts: Vec<String> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    let mut of = Vec::with_capacity(answers.len());
    for answer in answers {
        let Some(answer) = answer else {
            of.push(None);
            continue;
        };
        let key = canonical(answer);
        let found = (0..texts.len()).find(|&c| {
            keys[c] == key
                || equivalent(answer, &texts[c], DEFAULT_TOLERANCE).is_some_and(|v| v.equal)
        });
        of.push(Some(found.unwrap_or_else(|| {
            texts.push(answer.clone());
            keys.push(key);
            texts.len() - 1
        })));
    }
    (of, texts)
}

/// Each voter's answer cluster, in order of the voters' first candidates: a teacher's most
/// common cluster (ties to the one it gave first); `None` for a voter with no answer.
fn teacher_ballots(clusters: &[Option<usize>], voters: &[Option<String>]) -> Vec<Option<usize>> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    // Per voter: its clusters in the order it gave them.
    let mut given: Vec<Vec<usize>> = Vec::new();
    for (i, cluster) in clusters.iter().enumerate() {
        let voter = match voters.get(i).and_then(|v| v.as_deref()) {
            Some(name) => *index.entry(name).or_insert_with(|| {
                given.push(Vec::new());
                given.len() - 1
            }),
            None => {
                given.push(Vec::new());
                given.len() - 1
            }
        };
        given[voter].extend(*cluster);
    }
    given
        .iter()
        .map(|own| {
            own.iter().copied().fold(None, |best: Option<usize>, c| {
                let count = |x: usize| own.iter().filter(|&&y| y == x).count();
                match best {
                    Some(b) if count(b) >= count(c) => Some(b),
                    _ => Some(c),
                }
            })
        })
        .collect()
}

#[derive(Debug)]
struct Consensus {
    by: By,
    extract: Extract,
    min_agreement: Option<f64>,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let min_agreement = s.float("min_agreement");
    if let Some(m) = min_agreement {
        if !(0.0..=1.0).contains(&m) {
            return Err(BuildError::Invalid {
                message: format!("`min_agreement` is {m}, outside 0 to 1"),
                help: "give a share of voters, e.g. `min_agreement = 0.5`".into(),
            });
        }
    }
    Ok(StageImpl::Group {
        op: Arc::new(Consensus {
            by: match s.str("by") {
                Some("sample") => By::Sample,
                _ => By::Teacher,
            },
            extract: Extract::from_setting(s.str("extract")),
            min_agreement,
        }),
        by: "id".into(),
    })
}

impl Consensus {
    /// The candidate's final answer: `extracted` when `verify` ran, else from `solution`.
    fn answer(&self, record: &Record) -> Option<String> {
        match record.str("extracted") {
            Some(text) => (!text.trim().is_empty()).then(|| text.to_string()),
            None => extract(record.str("solution")?, self.extract).map(|e| e.text),
        }
    }
}

impl GroupOp for Consensus {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        group: Vec<Record>,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        let answers: Vec<Option<String>> = group.iter().map(|r| self.answer(r)).collect();
        let voters: Vec<Option<String>> = group
            .iter()
            .map(|r| r.str("teacher").map(str::to_string))
            .collect();
        let mut out = Vec::with_capacity(group.len());
        for (record, standing) in group.iter().zip(standings(&answers, &voters, self.by)) {
            if self.min_agreement.is_some_and(|m| standing.agreement < m) {
                cx.drop_record("low agreement");
                continue;
            }
            let mut r = record.derive();
            r.score("agreement", standing.agreement);
            r.set("majority", standing.majority);
            r.set("in_majority", standing.in_majority);
            out.push(r);
        }
        Box::pin(std::future::ready(Ok(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(xs: &[&str]) -> Vec<Option<String>> {
        xs.iter()
            .map(|x| (!x.is_empty()).then(|| x.to_string()))
            .collect()
    }

    fn agreements(s: &[Standing]) -> Vec<f64> {
        s.iter().map(|x| x.agreement).collect()
    }

    #[test]
    fn samples_vote_and_equal_answers_agree_across_notations() {
        let answers = some(&["1/2", "0.5", "\\frac{1}{2}", "3", ""]);
        let voters = vec![None; 5];
        let s = standings(&answers, &voters, By::Sample);
        assert_eq!(agreements(&s), [0.6, 0.6, 0.6, 0.2, 0.0]);
        assert!(s.iter().all(|x| x.majority == "1/2"));
        assert_eq!(
            s.iter().map(|x| x.in_majority).collect::<Vec<_>>(),
            [true, true, true, false, false]
        );
    }

    #[test]
    fn a_teacher_with_many_samples_votes_once() {
        // `a` says 7 four times; `b` and `c` say 5: by teacher, 5 wins two to one.
        let answers = some(&["7", "7", "7", "7", "5", "5"]);
        let voters: Vec<Option<String>> = ["a", "a", "a", "a", "b", "c"]
            .iter()
            .map(|t| Some(t.to_string()))
            .collect();
        let by_teacher = standings(&answers, &voters, By::Teacher);
        let third = 1.0 / 3.0;
        assert_eq!(
            agreements(&by_teacher),
            [third, third, third, third, 2.0 * third, 2.0 * third]
        );
        assert_eq!(by_teacher[0].majority, "5");
        assert!(by_teacher[4].in_majority && !by_teacher[0].in_majority);
        let by_sample = standings(&answers, &voters, By::Sample);
        assert_eq!(by_sample[0].majority, "7");
        assert!((by_sample[0].agreement - 4.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn a_teachers_vote_is_its_most_common_answer_ties_to_its_first() {
        // `a` gives 1, 2, 2: it votes 2. `b` gives 3, 4: a tie, it votes 3 (its first).
        let answers = some(&["1", "2", "2", "3", "4"]);
        let voters: Vec<Option<String>> = ["a", "a", "a", "b", "b"]
            .iter()
            .map(|t| Some(t.to_string()))
            .collect();
        let s = standings(&answers, &voters, By::Teacher);
        assert_eq!(agreements(&s), [0.0, 0.5, 0.5, 0.5, 0.0]);
        // 2 and 3 tie at one vote each; 2 appeared first.
        assert_eq!(s[0].majority, "2");
    }

    #[test]
    fn records_without_a_teacher_vote_alone_and_unanswered_voters_still_count() {
        let answers = some(&["4", "4", "", "9"]);
        let voters = vec![Some("a".to_string()), None, Some("b".to_string()), None];
        let s = standings(&answers, &voters, By::Teacher);
        // Four voters: a (4), the first anonymous (4), b (nothing), the second (9).
        assert_eq!(agreements(&s), [0.5, 0.5, 0.0, 0.25]);
        assert!(!s[2].in_majority);
    }

    #[test]
    fn ties_go_to_the_first_answer_and_no_answers_give_no_majority() {
        let s = standings(
            &some(&["b", "a", "a", "b"]),
            &[None, None, None, None],
            By::Sample,
        );
        assert_eq!(s[0].majority, "b");
        let s = standings(&some(&["", ""]), &[None, None], By::Sample);
        assert!(s
            .iter()
            .all(|x| x.majority.is_empty() && !x.in_majority && x.agreement == 0.0));
    }

    #[test]
    fn different_texts_never_agree() {
        let s = standings(
            &some(&["x+1", "1+x", "x + 1"]),
            &[None, None, None],
            By::Sample,
        );
        let third = 1.0 / 3.0;
        assert_eq!(agreements(&s), [2.0 * third, third, 2.0 * third]);
    }
}
