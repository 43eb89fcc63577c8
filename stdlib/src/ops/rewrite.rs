//! `rewrite`: a teacher rewrites each solution in the student's style, keeping its
//! mathematics and final answer.

use std::sync::Arc;

use dtac_interpreter::resolve::{ModelDecl, Node, PromptText, Value};
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{
    BuildError, Estimate, OpError, RecordOp, RequestEstimate, StageCtx, StageImpl,
};
use dtac_runtime::record::Record;
use futures::future::BoxFuture;
use serde_json::{json, Value as Json};

use super::ask::teacher_request;
use super::edit_ratio::edit_ratio;
use crate::answers::{self, Extract};
use crate::settings::Settings;

use super::{EXTRACT, MAX_TOKENS, TEMPERATURE};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("candidates", "The solutions to rewrite.").needing(&["solution"])],
    settings: &[
        FieldSpec::required("teacher", Type::Teacher, "The rewriter."),
        FieldSpec::maybe(
            "style",
            Type::Records,
            "A `style_probe` stage: its style guide, features and examples go into the prompt.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The rewrite request, over the record's fields and the style profile. When left \
             out, the DTA rewrite prompt.",
        )
        .with_template_vars(&["style_guide", "features", "examples"]),
        FieldSpec::optional(
            "check_answer",
            Type::Bool,
            "true",
            "Re-extract the final answer after rewriting and compare it with the one before.",
        ),
        FieldSpec::optional(
            "on_changed_answer",
            Type::Enum(&["drop", "keep_original"]),
            "\"drop\"",
            "What happens to a rewrite whose final answer changed: `drop` the record (counted \
             in the report), or `keep_original` text.",
        ),
        EXTRACT,
        TEMPERATURE,
        MAX_TOKENS,
    ],
    output: Output::Extends(&[
        FieldSpec::output("solution", Type::Str, "The rewritten solution."),
        FieldSpec::output("original", Type::Str, "The solution before rewriting."),
        FieldSpec::output(
            "edit_ratio",
            Type::Float,
            "How much the text changed: word-level edit distance over the longer length, 0 to 1.",
        ),
        FieldSpec::output("rewriter", Type::Str, "The teacher that rewrote it."),
        FieldSpec::output(
            "reverted",
            Type::Bool,
            "True when the rewrite changed the final answer and `keep_original` kept the \
             text before it.",
        ),
    ]),
    ..Signature::new(
        "rewrite",
        SignatureKind::Transform,
        "A teacher rewrites each solution to follow the student's style guide",
    )
};

const DOC: &str = r#"DTA phase II step 6, **rewrite** [paper]: each surviving solution is rewritten so its
intermediate steps and presentation follow the student's style (from `style_probe`),
while its mathematics and final answer stay. The default prompt gives the problem, the
solution, the style guide, the features and two of the student's answers as examples,
and asks for the rewritten solution only.

With `style`, the prompt variables `{{style_guide}}`, `{{features}}` (the measurements,
as JSON) and `{{examples}}` (the student's example answers) come from the style stage's
single record; without it they are empty, and the default prompt asks for a clear,
concise step-by-step style instead.

The final answer must survive [paper]: with `check_answer`, the answer extracted after
rewriting (by `extract`) is compared with the one before using `verify`'s rules. A
rewrite whose answer differs, cannot be found any more, or cannot be shown equal (two
texts the rules cannot decide) counts as changed [choice]; it is dropped (counted in the
report with both answers) or reverted (`reverted = true`, the original text kept) per
`on_changed_answer`. A solution with no final answer to find is not checked.

`edit_ratio` is the word-level edit distance over the longer text's length in words;
texts of more than 4,000 differing words are compared on their first 4,000 (an
estimate that bounds the cost).

Output fields: `solution` (rewritten), `original`, `edit_ratio`, `rewriter`, `reverted`.

```dta
stage aligned: rewrite(clean) { teacher = gpt, style = style }
```
"#;

/// The DTA rewrite prompt, used when `prompt` is left out. `{{style}}` is filled by the op
/// with the style guide, the features and two of the student's answers.
pub const DEFAULT_PROMPT: &str = r#"Rewrite the solution below so that it follows the student's style, described after it.
Keep the mathematics: every reasoning step, every computed value and the final answer
must stay the same. Change only how the steps are presented: their granularity,
formatting, notation and the words that connect them.

Problem:
{{question}}

Solution to rewrite:
{{solution}}

{{style}}
Answer with the rewritten solution only, with nothing before or after it."#;

/// When no `style` stage is given.
const NO_STYLE: &str = "Write it in a clear, concise, step-by-step style.\n";

/// Examples the default prompt shows.
const EXAMPLES: usize = 2;

/// The runnable op.
#[derive(Debug)]
pub struct Rewrite {
    teacher: Arc<ModelDecl>,
    style: Option<String>,
    prompt: Arc<PromptText>,
    check_answer: bool,
    keep_original: bool,
    extract: Extract,
    temperature: Option<f64>,
    max_tokens: Option<i64>,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let teacher = s.model("teacher").ok_or_else(|| BuildError::Invalid {
        message: "`rewrite` needs a `teacher`".into(),
        help: "set `teacher = NAME`".into(),
    })?;
    let style = match s.get("style") {
        Some(Value::Records(name)) => Some(name.clone()),
        _ => None,
    };
    let prompt = match s.prompt("prompt") {
        Some(p) => p,
        None => crate::prompts::builtin(DEFAULT_PROMPT)?,
    };
    Ok(StageImpl::Each(Arc::new(Rewrite {
        teacher,
        style,
        prompt,
        check_answer: s.bool("check_answer").unwrap_or(true),
        keep_original: s.str("on_changed_answer") == Some("keep_original"),
        extract: Extract::from_setting(s.str("extract")),
        temperature: s.float("temperature"),
        max_tokens: s.int("max_tokens"),
    })))
}

/// The style stage's profile as prompt variables.
#[derive(Debug, Default, PartialEq)]
struct Style {
    guide: String,
    /// The measured features as JSON text.
    features: String,
    examples: Vec<String>,
}

impl Style {
    fn of(profile: &Record) -> Style {
        Style {
            guide: profile.str("style_guide").unwrap_or_default().to_string(),
            features: profile
                .get("features")
                .filter(|f| !f.is_null())
                .and_then(|f| serde_json::to_string_pretty(f).ok())
                .unwrap_or_default(),
            examples: profile
                .get("examples")
                .and_then(Json::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|e| e.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The `{{examples}}` variable: the answers, each under a numbered line.
    fn examples_text(&self, n: usize) -> String {
        self.examples
            .iter()
            .take(n)
            .enumerate()
            .map(|(i, e)| format!("--- example {} ---\n{e}", i + 1))
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// The default prompt's `{{style}}` section.
    fn section(&self) -> String {
        let mut out = String::new();
        if !self.guide.is_empty() {
            out += &format!("The student's style guide:\n{}\n\n", self.guide);
        }
        if !self.features.is_empty() {
            out += &format!(
                "Measured features of the student's answers:\n{}\n\n",
                self.features
            );
        }
        if !self.examples.is_empty() {
            out += &format!(
                "Answers the student wrote itself, as examples of its style:\n{}\n\n",
                self.examples_text(EXAMPLES)
            );
        }
        if out.is_empty() {
            NO_STYLE.to_string()
        } else {
            out
        }
    }
}

/// Whether the final answer of `after` is still the one of `before`: `Ok` when it is
/// (or `before` has none to keep), `Err((before, after))` with the answers found.
fn same_answer(before: &str, after: &str, how: Extract) -> Result<(), (String, Option<String>)> {
    let Some(was) = answers::extract(before, how) else {
        return Ok(());
    };
    let Some(now) = answers::extract(after, how) else {
        return Err((was.text, None));
    };
    match answers::equivalent(&now.text, &was.text, answers::DEFAULT_TOLERANCE) {
        Some(v) if v.equal => Ok(()),
        _ => Err((was.text, Some(now.text))),
    }
}

impl Rewrite {
    fn style(&self, cx: &StageCtx) -> Result<Style, OpError> {
        let Some(name) = &self.style else {
            return Ok(Style::default());
        };
        let side = cx.side(name)?;
        let profile = side.records.first().ok_or_else(|| {
            OpError::Record(format!("the style stage `{name}` produced no profile"))
        })?;
        Ok(Style::of(profile))
    }
}

impl RecordOp for Rewrite {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let original = record
                .str("solution")
                .ok_or_else(|| OpError::Record("the record has no `solution` to rewrite".into()))?
                .to_string();
            let style = self.style(cx)?;
            let user = self
                .prompt
                .render(
                    &record.fields,
                    &[
                        ("style_guide", &style.guide),
                        ("features", &style.features),
                        ("examples", &style.examples_text(style.examples.len())),
                        ("style", &style.section()),
                    ],
                )
                .map_err(OpError::Record)?;
            let mut request = teacher_request(cx, &self.teacher, &user);
            request.temperature = self.temperature.or(request.temperature);
            request.max_tokens = self.max_tokens.or(request.max_tokens);
            let answer = cx.chat(&record, &self.teacher, &request).await?;
            let rewritten = answer.text.trim().to_string();
            if rewritten.is_empty() {
                return Err(OpError::Record(format!(
                    "`{}` returned an empty rewrite",
                    self.teacher.name
                )));
            }
            let mut reverted = false;
            if self.check_answer {
                if let Err((before, after)) = same_answer(&original, &rewritten, self.extract) {
                    if !self.keep_original {
                        cx.drop_because(
                            &record,
                            "answer changed by rewrite",
                            json!({"before": before, "after": after}),
                        );
                        return Ok(vec![]);
                    }
                    reverted = true;
                }
            }
            let solution = if reverted { &original } else { &rewritten };
            let mut out = record.derive();
            out.score("edit_ratio", edit_ratio(&original, solution));
            out.set("solution", solution.as_str());
            out.set("original", original.as_str());
            out.set("rewriter", self.teacher.name.as_str());
            out.set("reverted", reverted);
            if !reverted {
                out.meta.teacher = Some(self.teacher.name.clone());
            }
            Ok(vec![out])
        })
    }

    fn estimate(&self, inputs: u64) -> Estimate {
        let completion = self
            .max_tokens
            .or(Settings(&self.teacher.settings).int("max_tokens"))
            .unwrap_or(1024)
            .max(0) as u64;
        Estimate {
            records: inputs,
            requests: vec![RequestEstimate {
                teacher: self.teacher.clone(),
                requests: inputs,
                // The solution, the style guide and two examples.
                prompt_tokens: inputs * (self.prompt.source_text().len() as u64 / 4 + 2500),
                completion_tokens: inputs * completion,
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_or_equivalent_answer_passes_and_a_changed_or_lost_one_does_not() {
        let how = Extract::Auto;
        assert_eq!(
            same_answer("so \\boxed{1/2}", "thus \\boxed{0.5}", how),
            Ok(())
        );
        assert_eq!(
            same_answer("so \\boxed{3}", "thus \\boxed{4}", how),
            Err(("3".into(), Some("4".into())))
        );
        assert_eq!(
            same_answer("so \\boxed{3}", "no answer here", how),
            Err(("3".into(), None))
        );
        assert_eq!(same_answer("no answer", "still none", how), Ok(()));
    }

    #[test]
    fn the_style_section_shows_what_the_profile_has() {
        let mut fields = serde_json::Map::new();
        fields.insert("style_guide".into(), json!("Be brief."));
        fields.insert("features".into(), json!({"boxed_rate": 1.0}));
        fields.insert("examples".into(), json!(["one", "two", "three"]));
        let style = Style::of(&Record::source("style", "x", 0, fields));
        let section = style.section();
        assert!(section.contains("Be brief."));
        assert!(section.contains("\"boxed_rate\": 1.0"));
        assert!(section.contains("--- example 2 ---\ntwo"));
        assert!(!section.contains("three"), "two examples only");
        assert_eq!(Style::default().section(), NO_STYLE);
    }

    #[test]
    fn the_builtin_prompt_parses() {
        assert!(crate::prompts::builtin(DEFAULT_PROMPT).is_ok());
    }
}
