//! `signal = "topk_logprobs"`: an endpoint's per-token log-probabilities (the record's
//! `logprobs`, as `generate { logprobs = K }` keeps them: OpenAI's `choices[0].logprobs`,
//! `{ "content": [{ "token", "logprob", "top_logprobs": [{ "token", "logprob" }] }] }`,
//! or its `content` list alone) turned into student token ids.
//!
//! The API names tokens by their text. Each text must be exactly one token of the
//! student's vocabulary (the same tokenizer family as the teacher's); the generated tokens
//! then *are* the trained sequence, so the student is trained on exactly the positions the
//! teacher's distributions describe. An alternative that is not one student token is left
//! out of that position's top-k (its mass goes to the tail bucket); a generated token that
//! is not one student token makes the record unusable, with a message that says so.

use dtac_numeric::model::LocalModel;
use dtac_runtime::record::Record;
use serde_json::Value as Json;

/// Per position, the `(token id, log-probability)` entries of the teacher's top-k.
pub type TopK = Vec<Vec<(u32, f32)>>;

/// The generated tokens as student ids, and per position the `(id, log-prob)` entries.
pub fn topk_entries(record: &Record, student: &LocalModel) -> Result<(Vec<u32>, TopK), String> {
    let value = record.get("logprobs").ok_or(
        "the record has no `logprobs`; ask the teacher for them with `generate { logprobs = 20 }`",
    )?;
    let content = match value {
        Json::Array(list) => list,
        Json::Object(o) => o
            .get("content")
            .and_then(Json::as_array)
            .ok_or("`logprobs` has no `content` list")?,
        _ => return Err("`logprobs` is neither a list nor an object with `content`".into()),
    };
    if content.is_empty() {
        return Err("`logprobs` is empty".into());
    }
    let id_of = |text: &str| -> Option<u32> {
        match student.tokenizer().encode(text, false) {
            Ok(ids) if ids.len() == 1 => Some(ids[0]),
            _ => None,
        }
    };
    let mut ids = Vec::with_capacity(content.len());
    let mut entries = Vec::with_capacity(content.len());
    for (i, position) in content.iter().enumerate() {
        let token = position
            .get("token")
            .and_then(Json::as_str)
            .ok_or_else(|| format!("`logprobs` position {i} has no `token`"))?;
        let id = id_of(token).ok_or_else(|| {
            format!(
                "the teacher's token {token:?} at position {i} is not one token of the student's \
                 vocabulary: top-k distillation needs teacher and student to share a tokenizer \
                 (use `signal = \"text\"` otherwise)"
            )
        })?;
        ids.push(id);
        let mut top: Vec<(u32, f32)> = Vec::new();
        if let Some(list) = position.get("top_logprobs").and_then(Json::as_array) {
            for alt in list {
                let (Some(t), Some(lp)) = (
                    alt.get("token").and_then(Json::as_str),
                    alt.get("logprob").and_then(Json::as_f64),
                ) else {
                    continue;
                };
                if let Some(alt_id) = id_of(t) {
                    if lp.is_finite() && !top.iter().any(|(x, _)| *x == alt_id) {
                        top.push((alt_id, lp as f32));
                    }
                }
            }
        }
        if !top.iter().any(|(x, _)| *x == id) {
            if let Some(lp) = position.get("logprob").and_then(Json::as_f64) {
                top.push((id, lp as f32));
            }
        }
        entries.push(top);
    }
    Ok((ids, entries))
}
