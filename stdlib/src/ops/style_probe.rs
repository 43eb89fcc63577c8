//! `style_probe`: measure and describe the student's own style from its answers.

use std::sync::Arc;

use dtac_interpreter::resolve::{ModelDecl, Node, PromptText};
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::hash::hash_json;
use dtac_runtime::op::{
    BuildError, Estimate, GroupOp, OpError, RequestEstimate, StageCtx, StageImpl,
};
use dtac_runtime::record::{Fields, Provenance, Record};
use futures::future::{join_all, BoxFuture};
use serde_json::{json, Value as Json};

use super::ask::teacher_request;
use super::sampling::{SampleRequest, Sampler};
use super::style_features::{measure, typical};
use crate::settings::Settings;

use super::{MAX_TOKENS, SEED, TEMPERATURE};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records(
        "probes",
        "Probe questions, or the student's recorded answers (with `answers`).",
    )],
    settings: &[
        FieldSpec::maybe(
            "student",
            Type::Model,
            "The model whose style is probed; it answers the probe questions. Leave out \
             when `answers` names recorded answers.",
        ),
        FieldSpec::maybe(
            "answers",
            Type::Str,
            "A field of the input records already holding the student's answers; no model \
             is called.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "How a probe question is put to the student; `{{question}}` when left out.",
        ),
        FieldSpec::optional(
            "samples",
            Type::Int,
            "64",
            "How many probe records are used (a seeded sample when there are more).",
        ),
        FieldSpec::optional(
            "markers",
            Type::List(&Type::Str),
            "[\"therefore\", \"so\", \"thus\", \"hence\", \"we get\", \"since\"]",
            "Discourse markers whose rate per 1,000 words is measured.",
        ),
        FieldSpec::maybe(
            "writer",
            Type::Teacher,
            "A teacher that writes the style guide from the answers and the measured \
             features. Without it, `style_guide` is rendered from the features alone.",
        ),
        FieldSpec::maybe(
            "writer_prompt",
            Type::Prompt,
            "The writer's request; it sees `{{answers}}` (a selection of the student's \
             answers) and `{{features}}` (the measurements, as text).",
        )
        .with_template_vars(&["answers", "features"]),
        TEMPERATURE,
        MAX_TOKENS,
        SEED,
    ],
    output: Output::Fixed(&[
        FieldSpec::output(
            "features",
            Type::Any,
            "Measured features: words and lines (mean, median), steps, markdown lists and \
             headers per answer, LaTeX density, `\\boxed{}` rate, marker rates, language.",
        ),
        FieldSpec::output("style_guide", Type::Str, "The written style guide."),
        FieldSpec::output(
            "examples",
            Type::List(&Type::Str),
            "A few of the student's answers, chosen to be typical by length.",
        ),
        FieldSpec::output("probes", Type::Int, "How many answers were measured."),
    ]),
    ..Signature::new(
        "style_probe",
        SignatureKind::Transform,
        "Measure the student's own answer style and write a style guide (one profile record)",
    )
};

const DOC: &str = r#"DTA phase II step 5, **style probe** [paper]: before aligning teacher data to the
student, find out how the student writes. The student answers `samples` probe questions
(or its recorded answers are read from the `answers` field), and two things come out, in
one record:

- **features** [choice: the measured set]: length in words and lines, number of steps
  (paragraphs or numbered items), markdown lists and headers, LaTeX density (math
  characters per word), `\boxed{}` use, rate of each `markers` phrase per 1,000 words,
  and the dominant language;
- **style_guide**: a written description of tone, formatting, granularity of steps and
  answer convention, by `writer` when given.

The stage emits a single record, with `id = "style"`, after reading all probes;
`rewrite { style = ... }` reads it. `examples` holds the three answers closest to the
median length. Give exactly one of `student` and `answers`.

The student answers on its endpoint (a teacher, or a `student` block with `endpoint`),
or, for a student with only a `path`, by sampling in-process. Its requests use the stage's
`temperature`, `max_tokens` and `seed` over the model's own; a probe it fails to answer
is left out and noted in the report. The writer sees the measured features and up to
eight typical answers (each cut to 6,000 characters); without a writer the guide is
rendered from the features alone by fixed rules (a habit of about half the answers is
one to follow). How each feature is counted: words split on whitespace, steps are
numbered items (or paragraphs), and the language is a script-and-stopword heuristic
(`en`, `fr`, `de`, `es`, `pt`, `it`, `zh`, `ja`, `ko`, `ru`, `ar`, `hi`; `latin` or
`unknown` when it cannot tell).

```dta
stage style: style_probe(train) { student = small, samples = 64, writer = gpt }
```
"#;

/// The writer's request when `writer_prompt` is left out.
pub const WRITER_PROMPT: &str = r#"You are describing how a language model (the student) writes its solutions, so that
another model can rewrite solutions in the same style.

Measurements of the student's answers:
{{features}}

Some of the student's answers:
{{answers}}

Write a concise style guide, at most 200 words, covering: language and tone; formatting
(markdown lists, headers, LaTeX); how fine-grained the steps are and how they are
connected; and how the final answer is stated. Write it as instructions ("Use ...",
"Avoid ..."). Answer with the style guide only."#;

/// Answers shown in `examples`.
const EXAMPLES: usize = 3;
/// Answers shown to the writer, and the characters kept of each.
const WRITER_ANSWERS: usize = 8;
const WRITER_ANSWER_CHARS: usize = 6000;

/// Where the answers come from.
#[derive(Debug)]
enum Answers {
    /// A field of the probe records.
    Field(String),
    /// The model answers each probe.
    Model {
        model: Arc<ModelDecl>,
        prompt: Arc<PromptText>,
    },
}

/// The runnable op.
#[derive(Debug)]
pub struct StyleProbe {
    answers: Answers,
    samples: usize,
    markers: Vec<String>,
    writer: Option<(Arc<ModelDecl>, Arc<PromptText>)>,
    temperature: Option<f64>,
    max_tokens: Option<i64>,
    seed: i64,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let answers = match (s.model("student"), s.str("answers")) {
        (Some(_), Some(_)) => {
            return Err(BuildError::Invalid {
                message: "`style_probe` has both `student` and `answers`".into(),
                help: "keep `answers` to read recorded answers, or `student` to ask the model"
                    .into(),
            })
        }
        (None, None) => {
            return Err(BuildError::Invalid {
                message: "`style_probe` needs `student` or `answers`".into(),
                help: "set `student = NAME` to ask the model, or `answers = \"FIELD\"`".into(),
            })
        }
        (None, Some(field)) => Answers::Field(field.to_string()),
        (Some(model), None) => {
            // Through its endpoint when it has one, else sampled in-process.
            Sampler::for_model(model.clone())?;
            let prompt = match s.prompt("prompt") {
                Some(p) => p,
                None => crate::prompts::builtin("{{question}}")?,
            };
            Answers::Model { model, prompt }
        }
    };
    let writer = match s.model("writer") {
        Some(w) => Some((
            w,
            match s.prompt("writer_prompt") {
                Some(p) => p,
                None => crate::prompts::builtin(WRITER_PROMPT)?,
            },
        )),
        None => None,
    };
    Ok(StageImpl::whole(Arc::new(StyleProbe {
        answers,
        samples: s.int("samples").unwrap_or(64).max(1) as usize,
        markers: s.strings("markers"),
        writer,
        temperature: s.float("temperature"),
        max_tokens: s.int("max_tokens"),
        seed: s.int("seed").unwrap_or(0),
    })))
}

/// Positions of the records used: all when there are at most `samples`, else the
/// `samples` whose hash under `seed` is smallest, in input order. The hash covers the
/// record's provenance id, so the choice does not depend on the input's order.
pub fn select(records: &[Record], samples: usize, seed: i64) -> Vec<usize> {
    if records.len() <= samples {
        return (0..records.len()).collect();
    }
    let mut keyed: Vec<(String, usize)> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (hash_json(&json!([seed, r.meta.id])), i))
        .collect();
    keyed.sort();
    let mut chosen: Vec<usize> = keyed.into_iter().take(samples).map(|(_, i)| i).collect();
    chosen.sort_unstable();
    chosen
}

impl StyleProbe {
    /// The model's answer to one probe; a record error becomes `Ok(Err(message))`.
    async fn ask(
        &self,
        cx: &StageCtx,
        model: &ModelDecl,
        prompt: &PromptText,
        record: &Record,
    ) -> Result<Result<String, String>, OpError> {
        let user = match prompt.render(&record.fields, &[]) {
            Ok(u) => u,
            Err(e) => return Ok(Err(e)),
        };
        // `--rerun` draws fresh answers; the earlier ones stay cached.
        let request = SampleRequest {
            user: &user,
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            seed: self.seed.wrapping_add(cx.round as i64),
            sample: cx.round,
            ..SampleRequest::default()
        };
        let sampler = Sampler::for_model(Arc::new(model.clone())).map_err(|e| match e {
            BuildError::Invalid { message, help } => OpError::Fatal { message, help },
            other => OpError::Fatal {
                message: format!("{other:?}"),
                help: String::new(),
            },
        })?;
        match sampler.sample(cx, record, &request).await {
            Ok(answer) => Ok(Ok(answer.text)),
            Err(OpError::Record(m)) => Ok(Err(m)),
            Err(other) => Err(other),
        }
    }

    /// The answers of the selected probes, noting the ones that have none.
    async fn answers(&self, cx: &StageCtx, probes: &[&Record]) -> Result<Vec<String>, OpError> {
        let found: Vec<Result<String, String>> = match &self.answers {
            Answers::Field(field) => probes
                .iter()
                .map(|r| match r.get(field) {
                    Some(Json::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
                    _ => Err(format!("no text in `{field}`")),
                })
                .collect(),
            Answers::Model { model, prompt } => {
                join_all(probes.iter().map(|r| self.ask(cx, model, prompt, r)))
                    .await
                    .into_iter()
                    .collect::<Result<_, _>>()?
            }
        };
        let mut out = Vec::new();
        for (record, answer) in probes.iter().zip(found) {
            match answer {
                Ok(text) => out.push(text),
                Err(why) => cx.drop_because(record, "probe unanswered", json!({"error": why})),
            }
        }
        Ok(out)
    }
}

impl GroupOp for StyleProbe {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        group: Vec<Record>,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let chosen = select(&group, self.samples, self.seed);
            let probes: Vec<&Record> = chosen.iter().map(|&i| &group[i]).collect();
            let answers = self.answers(cx, &probes).await?;
            if answers.is_empty() {
                return Err(OpError::Record(
                    "no probe was answered, so there is no style to measure".into(),
                ));
            }
            let texts: Vec<&str> = answers.iter().map(String::as_str).collect();
            let features = measure(&texts, &self.markers);
            let examples: Vec<Json> = typical(&texts, EXAMPLES)
                .into_iter()
                .map(|i| Json::from(texts[i]))
                .collect();
            let mut fields = Fields::new();
            fields.insert("id".into(), json!("style"));
            let mut out = Record {
                fields,
                meta: Provenance {
                    parents: probes.iter().map(|r| r.meta.id.clone()).collect(),
                    ..Provenance::default()
                },
            };
            let guide = match &self.writer {
                None => features.guide(),
                Some((writer, prompt)) => {
                    let shown: Vec<String> = typical(&texts, WRITER_ANSWERS)
                        .into_iter()
                        .enumerate()
                        .map(|(n, i)| format!("--- answer {} ---\n{}", n + 1, cut(texts[i])))
                        .collect();
                    let user = prompt
                        .render(
                            &Fields::new(),
                            &[
                                ("answers", &shown.join("\n\n")),
                                ("features", &features.describe()),
                            ],
                        )
                        .map_err(OpError::Record)?;
                    let request = teacher_request(cx, writer, &user);
                    out.meta.teacher = Some(writer.name.clone());
                    cx.chat(&out, writer, &request)
                        .await?
                        .text
                        .trim()
                        .to_string()
                }
            };
            out.set("features", features.to_json());
            out.set("style_guide", guide);
            out.set("examples", Json::Array(examples));
            out.set("probes", answers.len() as u64);
            Ok(vec![out])
        })
    }

    fn estimate(&self, inputs: u64) -> Estimate {
        let probes = inputs.min(self.samples as u64);
        let mut requests = Vec::new();
        if let Answers::Model { model, prompt } = &self.answers {
            let completion = self
                .max_tokens
                .or(Settings(&model.settings).int("max_tokens"))
                .unwrap_or(1024)
                .max(0) as u64;
            requests.push(RequestEstimate {
                teacher: model.clone(),
                requests: probes,
                prompt_tokens: probes * (prompt.source_text().len() as u64 / 4 + 150),
                completion_tokens: probes * completion,
            });
        }
        if let Some((writer, _)) = &self.writer {
            requests.push(RequestEstimate {
                teacher: writer.clone(),
                requests: 1,
                prompt_tokens: 8 * 600 + 500,
                completion_tokens: 400,
            });
        }
        Estimate {
            records: inputs.min(1),
            requests,
        }
    }
}

/// At most [`WRITER_ANSWER_CHARS`] characters of an answer, marked when cut.
fn cut(text: &str) -> String {
    match text.char_indices().nth(WRITER_ANSWER_CHARS) {
        Some((at, _)) => format!("{} [...]", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| Record::source("probes", "data.jsonl", i as u64, Fields::new()))
            .collect()
    }

    #[test]
    fn selection_is_seeded_ordered_and_independent_of_input_order() {
        let all = records(20);
        let chosen = select(&all, 5, 7);
        assert_eq!(chosen.len(), 5);
        assert!(chosen.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(select(&all, 5, 7), chosen, "the same seed, the same choice");
        assert_ne!(select(&all, 5, 8), chosen, "another seed, another choice");
        let reversed: Vec<Record> = all.iter().rev().cloned().collect();
        let mut ids: Vec<&str> = select(&reversed, 5, 7)
            .into_iter()
            .map(|i| reversed[i].meta.id.as_str())
            .collect();
        ids.sort_unstable();
        let mut expected: Vec<&str> = chosen.iter().map(|&i| all[i].meta.id.as_str()).collect();
        expected.sort_unstable();
        assert_eq!(ids, expected);
        assert_eq!(select(&all[..3], 5, 7), vec![0, 1, 2]);
    }

    #[test]
    fn long_answers_are_cut_for_the_writer() {
        let long = "é".repeat(WRITER_ANSWER_CHARS + 5);
        let shown = cut(&long);
        assert!(shown.ends_with(" [...]"));
        assert_eq!(shown.chars().count(), WRITER_ANSWER_CHARS + 6);
        assert_eq!(cut("short"), "short");
    }

    #[test]
    fn the_writer_prompt_parses() {
        assert!(crate::prompts::builtin(WRITER_PROMPT).is_ok());
    }
}
