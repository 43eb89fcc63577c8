//! `verify`: extract each candidate's final answer and compare it with the reference
//! answer after normalization. The rules live in [`crate::answers`]; this file reads the
//! reference, asks the optional judge when the rules cannot decide, and keeps or drops.

use std::sync::Arc;

use dtac_interpreter::resolve::{ModelDecl, Node, Value};
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{
    BuildError, Estimate, OpError, RecordOp, RequestEstimate, StageCtx, StageImpl,
};
use dtac_runtime::record::Record;
use futures::future::BoxFuture;
use serde_json::{json, Value as Json};

use super::ask::teacher_request;
use super::EXTRACT;
use crate::answers::{equivalent, extract, Extract, DEFAULT_TOLERANCE};
use crate::settings::Settings;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("candidates", "The candidates to check.").needing(&["solution"])],
    settings: &[
        FieldSpec::maybe(
            "answer",
            Type::FieldRef,
            "The reference answers, as a field of another dataset (`train.answer`), joined \
             on `id`. When left out, each record's own `answer` field.",
        ),
        FieldSpec::optional(
            "keep",
            Type::Enum(&["correct", "all", "incorrect"]),
            "\"correct\"",
            "Which records leave the stage: `correct` drops wrong and unanswered candidates; \
             `all` only annotates.",
        ),
        EXTRACT,
        FieldSpec::optional(
            "tolerance",
            Type::Float,
            "1e-6",
            "Relative tolerance when both answers are numbers.",
        ),
        FieldSpec::maybe(
            "judge",
            Type::Teacher,
            "A model asked whether the answers are equivalent, only when the rules cannot \
             decide (either side is plain text and the normalized texts differ).",
        ),
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "extracted",
            Type::Str,
            "The final answer found, as written; empty when none.",
        ),
        FieldSpec::output("correct", Type::Bool, "Whether it matches the reference."),
        FieldSpec::output(
            "verify_rule",
            Type::Str,
            "Which extraction and comparison decided: `boxed/fraction`, `last_number/numeric`, \
             `judge`, `none` (nothing extracted).",
        ),
    ]),
    ..Signature::new(
        "verify",
        SignatureKind::Transform,
        "Extract each candidate's final answer and compare it with the reference",
    )
};

const DOC: &str = r#"DTA phase I step 3, **verify** [related]: the rule-based answer check of math evaluation
harnesses. Deterministic, no model call unless `judge` is given.

**Extraction** from `solution` (`extract = "auto"` tries these in order; `boxed` and
`last_number` use one rule only):
- `boxed`: the last `\boxed{...}` or `\fbox{...}`, nested braces balanced (`\boxed 5`
  without braces takes the next word). An empty or unclosed last box gives nothing.
- `final_answer_is`, `answer_colon`: the text after the last "final answer is" or
  "answer:" (any case, whichever comes later, `**Answer:**` too), up to the end of its
  line (the next line when its own is empty) or the first ". ".
- `last_number`: the last number: an optional minus sign, digits with optional thousands
  groups (`1,000`, `1{,}000`), an optional decimal part, an optional `/b`.
- `leading_yes_no`: with `auto`, when the reference is yes/no (or true/false) and the
  rules above found no box and no plain yes/no, a "Yes" or "No" opening the answer
  phrase found ("Answer: Yes, for n = 3"), else opening the solution's last non-empty
  line (after `**`, `#`, `>` and an "Answer:" label): "No, such a polyhedron cannot
  exist." answers No.

**Normalization** of both sides: `$`, `\(`…`\)`, `\[`…`\]`, the wrappers `\text{}`,
`\textbf{}`, `\mathrm{}`, `\mathbf{}`, `\operatorname{}`, `\boxed{}` (and similar),
`\left`/`\right`, `\displaystyle`, and the spacing `\!`, `\,`, `\;`, `\quad` are removed;
`\dfrac` and `\tfrac` read as `\frac`, `\{`…`\}` as braces, `\langle`…`\rangle` as
parentheses; degree marks (`^\circ`, `°`) are dropped, not converted; trailing
`. , ; : ?`, surrounding `**` and quotes are trimmed. A leading variable is dropped
(`x = 5` → `5`, `x \in [0, 1]` → `[0, 1]`); thousands separators go (`1,000`, `1{,}000`,
`1\,000`); a unit after a number is ignored, not converted (`5 cm`, `9.8 m/s^2`, `5cm` for
common unit symbols; a single letter only if it is a unit symbol such as `m`, so
`\pi r^2` stays an expression).

**Comparison**: both sides are parsed into a shape, and the matching rule decides; its
name goes into `verify_rule`:
- `integer`: two integers, exactly (no tolerance, any size).
- `numeric`: decimals and powers, within the relative `tolerance`:
  |a − b| ≤ tolerance · max(|a|, |b|).
- `fraction`: `a/b`, `\frac{a}{b}`, `\frac12`; `2\frac{1}{2}` is the mixed number 2.5.
- `percent`: `50%` (`50\%`, `50 percent`) is 0.5, and a percent sign on one side only
  may also be dropped: a reference `50%` accepts `50%`, `0.5` and `50`.
- `scientific`: `1.2e3`, `1.2 \times 10^{3}`, `10^{3}`.
- `sqrt_pi`: `\sqrt{x}`, `\sqrt[n]{x}` and `\pi` in expressions of `+ − × ÷`, powers and
  implicit products, compared as numbers (`2\sqrt{3}` = `\sqrt{12}`,
  `\frac{\sqrt{2}}{2}` = `\frac{1}{\sqrt{2}}`, `3\pi`, `\pi/2`).
- `interval`: `[a, b)`, `(a, b]`, `[a, b]`, any pair with `\infty`, and unions (`\cup`);
  ends and open/closed sides must agree. `(a, b)` against an interval is the open one.
- `set`: `\{…\}` and bare lists (`a, b`, also joined by `;`, `or`, `and`) in any order,
  same size. `{5}` with one element is grouping, not a set; `\emptyset` is `\{\}`.
- `tuple`: `(…)` and `\langle…\rangle` of two or more elements (a pair with `\infty` is
  an interval), `[…]` of three or more, in order; a bare list against a tuple is ordered
  too.
- `yes_no`: yes/true and no/false, any case.
- `text`: the normalized texts, without case and spaces, are equal.

Answers of different shapes are unequal. When either side is plain text (a variable, a
function, words) and the texts differ, the rules cannot decide: with `judge`, the teacher
is shown the problem (the candidate's `question`, else the reference record's) and both
answers, and says whether they are equivalent (JSON `{"equivalent": bool, "rationale":
str}`, rule `judge`); without, the candidate counts as wrong (rule `…/text`). Answers
over 2,000 characters compare as text only. A reference that is a JSON number reads as
its digits, a JSON list as a bare list. The full table of cases is in
`stdlib/src/answers/tests_table.rs`.

Output fields: `extracted`, `correct`, and `verify_rule` = `EXTRACTION/COMPARISON`
(`boxed/fraction`, `last_number/integer`), `judge`, or `none` when nothing was
extracted. `keep = "correct"` drops the rest, counted as "wrong answer" or "no answer";
`keep = "incorrect"` drops the correct ones ("correct answer"); `keep = "all"` only
annotates, which TRD uses to report pass rates without filtering.

```dta
stage checked: verify(candidates) { answer = train.answer }
stage scored:  verify(rollouts) { keep = "all" }
```
"#;

/// The judge's question about `candidate` against `reference`, with the problem when the
/// record has a `question`.
fn judge_prompt(problem: Option<&str>, reference: &str, candidate: &str) -> String {
    let problem = problem
        .map(|q| format!("\nProblem:\n{q}\n"))
        .unwrap_or_default();
    format!(
        "Two final answers to the same problem are given. Decide whether they are \
         mathematically equivalent: the same value, expression, set or interval, possibly \
         written differently. Formatting, units and rounding to the precision shown do not \
         matter.\n{problem}\nReference answer: {reference}\nCandidate answer: {candidate}\n\n\
         Answer with only a JSON object of the form\n\
         {{\"equivalent\": true or false, \"rationale\": \"<one sentence>\"}}"
    )
}

/// One record in this many is assumed to need the judge, for plans and budgets.
const JUDGED_ONE_IN: u64 = 10;

/// Which records leave the stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    Correct,
    All,
    Incorrect,
}

impl Keep {
    fn from_setting(s: Option<&str>) -> Keep {
        match s {
            Some("all") => Keep::All,
            Some("incorrect") => Keep::Incorrect,
            _ => Keep::Correct,
        }
    }

    /// Why a checked record is dropped, or `None` when it stays.
    pub fn drop_reason(self, check: &Check) -> Option<&'static str> {
        match (self, check.correct) {
            (Keep::All, _) | (Keep::Correct, true) | (Keep::Incorrect, false) => None,
            (Keep::Correct, false) if check.extracted.is_empty() => Some("no answer"),
            (Keep::Correct, false) => Some("wrong answer"),
            (Keep::Incorrect, true) => Some("correct answer"),
        }
    }
}

/// One candidate checked by the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The final answer as written; empty when none was found.
    pub extracted: String,
    pub correct: bool,
    /// `EXTRACTION/COMPARISON`, or `none`.
    pub rule: String,
    /// The rules could not decide: a judge, when there is one, decides instead.
    pub undecided: bool,
}

/// Checks `solution` against `reference` by the rules alone.
pub fn check(solution: &str, reference: &str, how: Extract, tolerance: f64) -> Check {
    let mut found = extract(solution, how);
    // A yes/no question answered in words: the number the usual rules find is rarely the
    // answer, the "Yes," or "No," opening the last line is.
    if how == Extract::Auto
        && crate::answers::is_yes_no(reference)
        && found
            .as_ref()
            .is_none_or(|f| f.rule != "boxed" && !crate::answers::is_yes_no(&f.text))
    {
        // The phrase found ("Answer: Yes, for n = 3") first, then the last line.
        let phrase = found
            .as_ref()
            .filter(|f| f.rule != "last_number")
            .and_then(|f| crate::answers::leading_yes_no(&f.text));
        if let Some(verdict) = phrase.or_else(|| crate::answers::leading_yes_no(solution)) {
            found = Some(verdict);
        }
    }
    let Some(found) = found else {
        return Check {
            extracted: String::new(),
            correct: false,
            rule: "none".into(),
            undecided: false,
        };
    };
    let verdict = equivalent(&found.text, reference, tolerance);
    Check {
        correct: verdict.is_some_and(|v| v.equal),
        rule: format!("{}/{}", found.rule, verdict.map_or("text", |v| v.rule)),
        undecided: verdict.is_none(),
        extracted: found.text,
    }
}

#[derive(Debug)]
struct Verify {
    /// `(dataset, field)` of the reference answers; the record's own `answer` otherwise.
    reference: Option<(String, String)>,
    keep: Keep,
    extract: Extract,
    tolerance: f64,
    judge: Option<Arc<ModelDecl>>,
    schema: Json,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let reference = match s.get("answer") {
        Some(Value::Field { records, field }) => Some((records.clone(), field.clone())),
        _ => None,
    };
    let tolerance = s.float("tolerance").unwrap_or(DEFAULT_TOLERANCE);
    if tolerance.is_nan() || tolerance < 0.0 {
        return Err(BuildError::Invalid {
            message: format!("`tolerance` is {tolerance}, which is not a tolerance"),
            help: "use 0 for exact comparison, or a small positive share such as 1e-6".into(),
        });
    }
    Ok(StageImpl::Each(Arc::new(Verify {
        reference,
        keep: Keep::from_setting(s.str("keep")),
        extract: Extract::from_setting(s.str("extract")),
        tolerance,
        judge: s.model("judge"),
        schema: judge_schema(),
    })))
}

/// The judge's answer: a verdict and a one-sentence reason, nothing else.
pub fn judge_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "equivalent": {"type": "boolean"},
            "rationale": {"type": "string"},
        },
        "required": ["equivalent", "rationale"],
        "additionalProperties": false,
    })
}

/// A reference or field value as answer text: strings as they are, numbers as written,
/// lists as a bare list.
fn answer_text(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        Json::Array(items) => Some(
            items
                .iter()
                .map(|i| answer_text(i).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        other => Some(other.to_string()),
    }
}

/// The reference answer, and the problem statement for the judge: the candidate's own
/// `question`, else the reference record's.
struct Reference {
    answer: String,
    question: Option<String>,
}

impl Verify {
    fn reference(&self, cx: &StageCtx, record: &Record) -> Result<Reference, OpError> {
        let own_question = record.str("question").map(str::to_string);
        let Some((dataset, field)) = &self.reference else {
            let answer = record.get("answer").and_then(answer_text).ok_or_else(|| {
                OpError::Record(
                    "the record has no `answer` to compare with: give the reference answers \
                     with `answer = DATASET.FIELD`"
                        .into(),
                )
            })?;
            return Ok(Reference {
                answer,
                question: own_question,
            });
        };
        let id = record.key_of("id");
        let side = cx.side(dataset)?.by_id(&id);
        let answer = side
            .and_then(|r| r.get(field))
            .and_then(answer_text)
            .ok_or_else(|| {
                OpError::Record(format!(
                    "no `{dataset}` record with id `{id}` has `{field}`"
                ))
            })?;
        let question = own_question.or_else(|| side?.str("question").map(str::to_string));
        Ok(Reference { answer, question })
    }

    /// Asks the judge whether `candidate` and `reference` are equivalent.
    async fn ask_judge(
        &self,
        cx: &StageCtx,
        judge: &ModelDecl,
        record: &Record,
        candidate: &str,
        reference: &Reference,
    ) -> Result<bool, OpError> {
        let user = judge_prompt(reference.question.as_deref(), &reference.answer, candidate);
        let request = teacher_request(cx, judge, &user);
        let answer = cx
            .chat_json(record, judge, &request, "equivalence", &self.schema, 1)
            .await?;
        answer.value["equivalent"]
            .as_bool()
            .ok_or_else(|| OpError::Record("the judge's answer has no boolean `equivalent`".into()))
    }
}

impl RecordOp for Verify {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let solution = record
                .str("solution")
                .ok_or_else(|| OpError::Record("the record has no `solution` text".into()))?;
            let reference = self.reference(cx, &record)?;
            let mut checked = check(solution, &reference.answer, self.extract, self.tolerance);
            if let (true, Some(judge)) = (checked.undecided, &self.judge) {
                checked.correct = self
                    .ask_judge(cx, judge, &record, &checked.extracted, &reference)
                    .await?;
                checked.rule = "judge".into();
            }
            if let Some(reason) = self.keep.drop_reason(&checked) {
                cx.drop_record(reason);
                return Ok(Vec::new());
            }
            let mut out = record.derive();
            out.set("extracted", checked.extracted);
            out.set("correct", checked.correct);
            out.set("verify_rule", checked.rule);
            Ok(vec![out])
        })
    }

    fn estimate(&self, inputs: u64) -> Estimate {
        let Some(judge) = &self.judge else {
            return Estimate::passthrough(inputs);
        };
        // Only answers the rules cannot decide go to the judge: assume one in ten.
        let requests = inputs.div_ceil(JUDGED_ONE_IN);
        Estimate {
            records: inputs,
            requests: vec![RequestEstimate {
                teacher: judge.clone(),
                requests,
                prompt_tokens: requests * 300,
                completion_tokens: requests * 60,
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_yes_no_reference_reads_the_verdict_opening_the_last_line() {
        let cases = [
            (
                "Euler: 7 faces...\n\nNo, a polyhedron with 7 odd faces cannot exist.",
                "No",
                true,
            ),
            ("So 3 works.\n**Answer:** Yes, for n = 3.", "Yes", true),
            ("We find 12 labels.\n\nNo, it is impossible.", "Yes", false),
            ("It cannot be done for 12 edges.", "No", false),
            ("Hence \\boxed{no}.\nYes, 5.", "No", true),
            ("No at first, but the answer is 5.\nIt is 5.", "5", true),
            ("No, it is 4.", "5", false),
        ];
        for (solution, reference, correct) in cases {
            let c = super::check(solution, reference, super::Extract::Auto, 1e-6);
            assert_eq!(c.correct, correct, "{solution:?} vs {reference}: {c:?}");
        }
        let c = super::check("7 faces.\nNo, never.", "No", super::Extract::Auto, 1e-6);
        assert_eq!(c.rule, "leading_yes_no/yes_no");
        let c = super::check(
            "7 faces.\nNo, never.",
            "No",
            super::Extract::LastNumber,
            1e-6,
        );
        assert!(!c.correct);
    }

    use dtac_runtime::llm::schema::{check_schema, validate};

    use super::*;

    #[test]
    fn checks_name_the_extraction_and_the_comparison() {
        let c = check("so $\\boxed{\\frac{1}{2}}$", "0.5", Extract::Auto, 1e-6);
        assert_eq!(
            (
                c.extracted.as_str(),
                c.correct,
                c.rule.as_str(),
                c.undecided
            ),
            ("\\frac{1}{2}", true, "boxed/fraction", false)
        );
        let c = check("we get 41 apples", "42", Extract::Auto, 1e-6);
        assert_eq!((c.correct, c.rule.as_str()), (false, "last_number/integer"));
        let c = check("Final answer: x + 1", "1 + x", Extract::Auto, 1e-6);
        assert_eq!(
            (
                c.extracted.as_str(),
                c.correct,
                c.rule.as_str(),
                c.undecided
            ),
            ("x + 1", false, "answer_colon/text", true)
        );
        let c = check("no idea", "3", Extract::Auto, 1e-6);
        assert_eq!(
            (
                c.extracted.as_str(),
                c.correct,
                c.rule.as_str(),
                c.undecided
            ),
            ("", false, "none", false)
        );
        // `boxed` alone does not fall back to the last number.
        let c = check("it is 3", "3", Extract::Boxed, 1e-6);
        assert_eq!(c.rule, "none");
    }

    #[test]
    fn keep_decides_what_is_dropped_and_why() {
        let checked = |extracted: &str, correct| Check {
            extracted: extracted.into(),
            correct,
            rule: String::new(),
            undecided: false,
        };
        let right = checked("5", true);
        let wrong = checked("6", false);
        let none = checked("", false);
        assert_eq!(Keep::Correct.drop_reason(&right), None);
        assert_eq!(Keep::Correct.drop_reason(&wrong), Some("wrong answer"));
        assert_eq!(Keep::Correct.drop_reason(&none), Some("no answer"));
        assert_eq!(Keep::Incorrect.drop_reason(&right), Some("correct answer"));
        assert_eq!(Keep::Incorrect.drop_reason(&wrong), None);
        assert_eq!(Keep::Incorrect.drop_reason(&none), None);
        for c in [&right, &wrong, &none] {
            assert_eq!(Keep::All.drop_reason(c), None);
        }
        assert_eq!(Keep::from_setting(Some("all")), Keep::All);
        assert_eq!(Keep::from_setting(None), Keep::Correct);
    }

    #[test]
    fn references_read_from_json_values() {
        assert_eq!(answer_text(&json!("1/2")).as_deref(), Some("1/2"));
        assert_eq!(answer_text(&json!(42)).as_deref(), Some("42"));
        assert_eq!(answer_text(&json!(0.5)).as_deref(), Some("0.5"));
        assert_eq!(answer_text(&json!([1, 2])).as_deref(), Some("1, 2"));
        assert_eq!(answer_text(&Json::Null), None);
        // A list reference is unordered.
        let reference = answer_text(&json!([2, 1])).unwrap_or_default();
        assert!(check("\\boxed{1, 2}", &reference, Extract::Auto, 1e-6).correct);
    }

    #[test]
    fn a_judge_is_planned_for_one_record_in_ten() {
        let judge = Arc::new(ModelDecl {
            name: "j".into(),
            kind: SignatureKind::Teacher,
            settings: Default::default(),
            sig: &crate::blocks::teacher::SIGNATURE,
        });
        let judged = Verify {
            reference: None,
            keep: Keep::Correct,
            extract: Extract::Auto,
            tolerance: DEFAULT_TOLERANCE,
            judge: Some(judge),
            schema: judge_schema(),
        };
        let plan = judged.estimate(95);
        assert_eq!(plan.records, 95);
        assert_eq!(plan.requests.len(), 1);
        assert_eq!(plan.requests[0].requests, 10);
        let rules_only = Verify {
            judge: None,
            ..judged
        };
        assert!(rules_only.estimate(95).requests.is_empty());
    }

    #[test]
    fn the_judge_schema_is_valid_and_strict() {
        let schema = judge_schema();
        assert_eq!(check_schema(&schema), Ok(()));
        assert!(validate(&schema, &json!({"equivalent": true, "rationale": "same"})).is_empty());
        assert!(!validate(&schema, &json!({"equivalent": "yes", "rationale": "x"})).is_empty());
        assert!(!validate(&schema, &json!({"equivalent": true})).is_empty());
    }

    #[test]
    fn the_judge_prompt_shows_the_problem_and_both_answers() {
        let prompt = judge_prompt(Some("What is {x}?"), "1/2", "0.50");
        assert!(prompt.contains("Problem:\nWhat is {x}?"), "{prompt}");
        assert!(
            prompt.contains("Reference answer: 1/2\nCandidate answer: 0.50"),
            "{prompt}"
        );
        assert!(prompt.ends_with(r#"{"equivalent": true or false, "rationale": "<one sentence>"}"#));
        assert!(!judge_prompt(None, "a", "b").contains("Problem:"));
    }
}
