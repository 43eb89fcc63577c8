//! From `distill`'s input records to training examples: what the student sees, which
//! tokens it is trained on, their weights, and the teacher's side of each.
//!
//! - The student's context is `prompt` rendered over the record, else the record's own
//!   `prompt` field (what `rollout` asked), else `{{question}}`; it is the user turn of the
//!   student's chat template, and the `target` field is the assistant's reply, followed by
//!   the template's end-of-turn token so the student also learns to stop.
//! - Long examples lose the end of their target (`max_seq_len`); a context that leaves no
//!   room for the target skips the record, with the reason in the report.
//! - `weights` names a per-token weight list (TOPD's `token_weights`) with one entry per
//!   target token; the end-of-turn token gets weight 1. With it, each `guidance` entry of
//!   the record (`{ position, tokens, weights }`) becomes one more example: the target's
//!   first `position` tokens followed by the teacher's continuation, trained on the
//!   continuation with the guidance weights.
//! - `signal = "logits"`: the local teacher reads the same target after its own context,
//!   the record's `teacher_prompt` when there is one (TRD's refine prompt) and otherwise
//!   the student's. `signal = "topk_logprobs"`: the record's `logprobs` (see
//!   [`super::distill_topk`]) fix both the trained tokens and the teacher's top-k.

use std::sync::Arc;

use dtac_interpreter::resolve::PromptText;
use dtac_numeric::model::{ChatMessage, LocalModel};
use dtac_numeric::train::{Example, ExampleTeacher};
use dtac_runtime::record::Record;
use serde_json::Value as Json;

use super::distill_topk::{topk_entries, TopK};
use crate::local::ScoreText;

/// Where the teacher distribution comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Text,
    Logits,
    TopK,
}

/// How records become examples.
#[derive(Debug, Clone)]
pub struct DataSpec {
    pub prompt: Option<Arc<PromptText>>,
    pub target: String,
    pub weights: Option<String>,
    pub signal: Signal,
    pub max_seq_len: usize,
}

/// The examples of a set of records, and what could not be used.
#[derive(Debug, Default)]
pub struct Prepared {
    pub examples: Vec<Example>,
    /// `(record, why)` for records that gave no example.
    pub skipped: Vec<(String, String)>,
    pub truncated: usize,
    pub guidance: usize,
}

/// The examples of `records`.
pub fn prepare(
    records: &[Record],
    spec: &DataSpec,
    student: &LocalModel,
    teacher: Option<&LocalModel>,
) -> Prepared {
    let mut out = Prepared::default();
    for r in records {
        match examples_of(r, spec, student, teacher) {
            Ok((examples, truncated)) => {
                out.truncated += usize::from(truncated);
                out.guidance += examples.len().saturating_sub(1);
                out.examples.extend(examples);
            }
            Err(why) => {
                let id = match r.key_of("candidate_id") {
                    c if !c.is_empty() => c,
                    _ => r.key_of("id"),
                };
                out.skipped.push((id, why));
            }
        }
    }
    out
}

/// The student's context text of `record`.
pub fn context_text(record: &Record, prompt: Option<&PromptText>) -> Result<String, String> {
    if let Some(p) = prompt {
        return p.render(&record.fields, &[]);
    }
    if let Some(p) = record.str("prompt") {
        return Ok(p.to_string());
    }
    record.str("question").map(str::to_string).ok_or_else(|| {
        "the record has no `question` (or `prompt`); set `prompt` to say what the student sees"
            .into()
    })
}

/// The id that ends an assistant turn in `model`'s template, when its vocabulary has one.
pub fn end_of_turn(model: &LocalModel) -> Option<u32> {
    let tokenizer = model.tokenizer();
    ["<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>"]
        .iter()
        .find_map(|t| tokenizer.token_id(t))
        .or_else(|| model.info().config.eos_token_ids.first().copied())
}

fn examples_of(
    record: &Record,
    spec: &DataSpec,
    student: &LocalModel,
    teacher: Option<&LocalModel>,
) -> Result<(Vec<Example>, bool), String> {
    let context_text = context_text(record, spec.prompt.as_deref())?;
    let target_text = match record.get(&spec.target) {
        Some(Json::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Json::String(_)) => return Err(format!("`{}` is empty", spec.target)),
        Some(_) => return Err(format!("`{}` is not text", spec.target)),
        None => return Err(format!("the record has no `{}` to train on", spec.target)),
    };
    let item = ScoreText {
        context: Some(context_text.clone()),
        target: target_text,
        chat: true,
    }
    .tokens(student)?;
    let context = item.context;
    let (mut target, teacher_topk) = match spec.signal {
        Signal::TopK => {
            let (ids, entries) = topk_entries(record, student)?;
            (ids, Some(entries))
        }
        _ => (item.target, None),
    };
    let solution_len = target.len();
    if teacher_topk.is_none() {
        if let Some(eot) = end_of_turn(student) {
            target.push(eot);
        }
    }
    let mut weights: Option<Vec<f32>> = match &spec.weights {
        None => None,
        Some(field) => Some(read_weights(record, field, solution_len)?),
    };
    if let Some(w) = &mut weights {
        w.resize(target.len(), 1.0);
    }
    if context.len() + 1 >= spec.max_seq_len {
        return Err(format!(
            "the prompt alone is {} tokens, leaving no room for the target within max_seq_len = {}",
            context.len(),
            spec.max_seq_len
        ));
    }
    let room = spec.max_seq_len - context.len();
    let truncated = target.len() > room;
    target.truncate(room);
    if let Some(w) = &mut weights {
        w.truncate(room);
    }
    let mut topk = teacher_topk;
    if let Some(t) = &mut topk {
        t.truncate(room);
    }
    let teacher_context = match (spec.signal, teacher) {
        (Signal::Logits, Some(t)) => {
            let text = record.str("teacher_prompt").unwrap_or(&context_text);
            Some(
                t.encode_chat(&[ChatMessage::new("user", text)], true)
                    .map_err(|e| format!("the teacher's chat template: {e}"))?,
            )
        }
        (Signal::Logits, None) => {
            return Err("`signal = \"logits\"` needs a local `teacher`".into())
        }
        _ => None,
    };
    // The teacher reads its context, then `tail`, and is compared on `tail[skip..]`.
    let teacher_side =
        |ctx: Option<&Vec<u32>>, tail: &[u32], skip: usize, topk: Option<TopK>| match (ctx, topk) {
            (Some(ctx), _) => ExampleTeacher::Logits {
                ids: ctx.iter().chain(tail).copied().collect(),
                start: ctx.len() + skip,
            },
            (None, Some(entries)) => ExampleTeacher::TopK { entries },
            (None, None) => ExampleTeacher::Text,
        };
    let mut out = vec![Example {
        ids: context.iter().chain(&target).copied().collect(),
        start: context.len(),
        weights: weights.clone(),
        teacher: teacher_side(teacher_context.as_ref(), &target, 0, topk),
    }];
    if spec.weights.is_some() {
        for g in guidance(record, solution_len)? {
            let head = &target[..g.position.min(target.len())];
            let tail: Vec<u32> = head.iter().chain(&g.tokens).copied().collect();
            let mut ids: Vec<u32> = context.iter().chain(&tail).copied().collect();
            ids.truncate(spec.max_seq_len);
            let start = context.len() + head.len();
            if ids.len() <= start {
                continue;
            }
            let mut w = g.weights.clone();
            w.truncate(ids.len() - start);
            out.push(Example {
                teacher: teacher_side(
                    teacher_context.as_ref(),
                    &ids[context.len()..],
                    head.len(),
                    None,
                ),
                ids,
                start,
                weights: Some(w),
            });
        }
    }
    Ok((out, truncated))
}

fn read_weights(record: &Record, field: &str, expected: usize) -> Result<Vec<f32>, String> {
    let list = record
        .get(field)
        .and_then(Json::as_array)
        .ok_or_else(|| format!("the record has no list `{field}` of token weights"))?;
    let weights: Vec<f32> = list
        .iter()
        .map(|v| v.as_f64().map(|x| x as f32))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("`{field}` holds something that is not a number"))?;
    if weights.len() != expected {
        return Err(format!(
            "`{field}` has {} weights but the target has {expected} tokens for this student \
             (were the weights computed with another student or prompt?)",
            weights.len()
        ));
    }
    if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return Err(format!("`{field}` holds a negative or non-finite weight"));
    }
    Ok(weights)
}

/// One `guidance` entry from `divergence`.
#[derive(Debug, Clone, PartialEq)]
pub struct Guidance {
    pub position: usize,
    pub tokens: Vec<u32>,
    pub weights: Vec<f32>,
}

fn guidance(record: &Record, solution_len: usize) -> Result<Vec<Guidance>, String> {
    let Some(list) = record.get("guidance").and_then(Json::as_array) else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|g| {
            let position = g.get("position").and_then(Json::as_u64).ok_or("a guidance entry has no `position`")? as usize;
            let tokens: Vec<u32> = g
                .get("tokens")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(|t| t.as_u64().map(|t| t as u32)).collect())
                .ok_or("a guidance entry has no `tokens`")?;
            let weights: Vec<f32> = g
                .get("weights")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(|t| t.as_f64().map(|t| t as f32)).collect())
                .ok_or("a guidance entry has no `weights`")?;
            if position > solution_len || weights.len() != tokens.len() {
                return Err(format!(
                    "a guidance entry at position {position} does not fit a target of {solution_len} tokens, \
                     or its weights and tokens differ in number"
                ));
            }
            Ok(Guidance { position, tokens, weights })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dtac_numeric::fixtures::{write_tiny_checkpoint, ScratchDir, TinySpec};
    use dtac_numeric::model::{inspect, Arch, DeviceSpec, Precision};
    use serde_json::json;

    fn model() -> (ScratchDir, LocalModel) {
        let dir = ScratchDir::new("distill-data").unwrap();
        write_tiny_checkpoint(dir.path(), &TinySpec::new(Arch::Qwen3)).unwrap();
        let info = inspect(dir.path()).unwrap();
        let m = LocalModel::load(&info, &DeviceSpec::Cpu, Precision::F32).unwrap();
        (dir, m)
    }

    fn record(fields: serde_json::Value) -> Record {
        Record {
            fields: fields.as_object().unwrap().clone(),
            meta: Default::default(),
        }
    }

    fn spec(weights: Option<&str>, max: usize) -> DataSpec {
        DataSpec {
            prompt: None,
            target: "solution".into(),
            weights: weights.map(String::from),
            signal: Signal::Text,
            max_seq_len: max,
        }
    }

    #[test]
    fn the_target_follows_the_chat_context_and_ends_the_turn() {
        let (_d, m) = model();
        let r = record(json!({"question": "2 + 2?", "solution": "4"}));
        let out = prepare(&[r], &spec(None, 4096), &m, None);
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        let e = &out.examples[0];
        let context = m
            .encode_chat(&[ChatMessage::new("user", "2 + 2?")], true)
            .unwrap();
        assert_eq!(&e.ids[..e.start], context.as_slice());
        let eot = m.tokenizer().token_id("<|im_end|>").unwrap();
        assert_eq!(*e.ids.last().unwrap(), eot);
        assert_eq!(
            m.tokenizer()
                .decode(&e.ids[e.start..e.ids.len() - 1], false)
                .unwrap(),
            "4"
        );
    }

    #[test]
    fn weights_guidance_and_truncation() {
        let (_d, m) = model();
        let n = m.tokenizer().encode("abcdef", false).unwrap().len();
        let r = record(json!({"question": "q", "solution": "abcdef",
            "w": vec![0.5; n],
            "guidance": [{"position": 2, "tokens": [60, 61], "weights": [1.0, 0.5]}]}));
        let out = prepare(std::slice::from_ref(&r), &spec(Some("w"), 4096), &m, None);
        assert_eq!(out.examples.len(), 2);
        let main = &out.examples[0];
        let w = main.weights.as_ref().unwrap();
        assert_eq!(w.len(), n + 1);
        assert_eq!(w[n], 1.0, "the end-of-turn token keeps weight 1");
        let g = &out.examples[1];
        assert_eq!(&g.ids[g.start..], &[60, 61]);
        assert_eq!(g.weights.as_deref(), Some(&[1.0f32, 0.5][..]));
        assert_eq!(
            g.ids[main.start..g.start],
            main.ids[main.start..main.start + 2]
        );

        // A weight list of another length is refused, with the reason.
        let bad = record(json!({"question": "q", "solution": "abcdef", "w": [1.0]}));
        let out = prepare(&[bad], &spec(Some("w"), 4096), &m, None);
        assert!(out.skipped[0].1.contains("weights"), "{:?}", out.skipped);

        // Too long: the target loses its end; a context that fills everything is skipped.
        let start = main.start;
        let out = prepare(std::slice::from_ref(&r), &spec(None, start + 3), &m, None);
        assert_eq!(out.truncated, 1);
        assert_eq!(out.examples[0].ids.len(), start + 3);
        let out = prepare(&[r], &spec(None, start), &m, None);
        assert!(out.examples.is_empty());
        assert!(out.skipped[0].1.contains("max_seq_len"));
    }

    #[test]
    fn missing_fields_are_named() {
        let (_d, m) = model();
        let out = prepare(
            &[record(json!({"question": "q"}))],
            &spec(None, 64),
            &m,
            None,
        );
        assert!(out.skipped[0].1.contains("`solution`"));
        let out = prepare(
            &[record(json!({"solution": "s"}))],
            &spec(None, 64),
            &m,
            None,
        );
        assert!(out.skipped[0].1.contains("question"));
    }
}
