//! The JSON of successful answers: `chat.completion`, `text_completion` and the model list.
//!
//! Shapes follow OpenAI's API closely enough for async-openai 0.28's response types to
//! deserialize them (`object`, `created` as seconds, `refusal: null`, `usage`), and the
//! legacy logprobs follow vLLM where OpenAI says nothing (prompt scoring with echo).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::request::{ChatParams, CompletionParams, RequestView};
use crate::tokenize::{count_tokens, logprob, tokenize, top_alternatives, truncate};

/// The fingerprint every answer carries, so clients that log it have something to log.
const FINGERPRINT: &str = "fp_dtac_testkit";

/// A fixed creation time for listed models, so the list is the same on every run.
const MODEL_CREATED: u32 = 1_700_000_000;

/// Seconds since the Unix epoch, as OpenAI's `created` fields count them.
pub(crate) fn now_secs() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

/// Cuts the answer at the first stop string, then at `max_tokens` tokens; returns the
/// text and the finish reason.
fn finish(answer: &str, stop: &[String], max_tokens: Option<u64>) -> (String, &'static str) {
    let stop_at = stop.iter().filter_map(|s| answer.find(s.as_str())).min();
    let text = stop_at.map_or(answer, |i| &answer[..i]);
    match max_tokens {
        Some(max) => {
            let max = usize::try_from(max).unwrap_or(usize::MAX);
            let (kept, cut) = truncate(text, max);
            (kept.to_string(), if cut { "length" } else { "stop" })
        }
        None => (text.to_string(), "stop"),
    }
}

fn usage(prompt: usize, completion: usize) -> Value {
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    })
}

fn prompt_tokens(view: &RequestView) -> usize {
    view.messages.iter().map(|m| count_tokens(&m.content)).sum()
}

pub(crate) fn chat(seq: u64, view: &RequestView, params: &ChatParams, answer: &str) -> Value {
    let (text, reason) = finish(answer, &params.stop, view.max_tokens);
    let tokens = tokenize(&text);
    let logprobs = if params.logprobs {
        let content: Vec<Value> = tokens
            .iter()
            .enumerate()
            .map(|(pos, tok)| {
                let top: Vec<Value> = top_alternatives(tok, pos, params.top_logprobs)
                    .into_iter()
                    .map(|(t, lp)| json!({"token": t, "logprob": lp, "bytes": t.as_bytes()}))
                    .collect();
                json!({
                    "token": tok,
                    "logprob": logprob(tok, pos),
                    "bytes": tok.as_bytes(),
                    "top_logprobs": top,
                })
            })
            .collect();
        json!({"content": content, "refusal": null})
    } else {
        Value::Null
    };
    json!({
        "id": format!("chatcmpl-testkit{seq:08x}"),
        "object": "chat.completion",
        "created": now_secs(),
        "model": view.model,
        "system_fingerprint": FINGERPRINT,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text, "refusal": null},
            "logprobs": logprobs,
            "finish_reason": reason,
        }],
        "usage": usage(prompt_tokens(view), tokens.len()),
    })
}

pub(crate) fn text(seq: u64, view: &RequestView, params: &CompletionParams, answer: &str) -> Value {
    let (generated, reason) = finish(answer, &params.stop, view.max_tokens);
    let prompt = tokenize(&params.prompt);
    let answer_tokens = tokenize(&generated);
    let text = if params.echo {
        format!("{}{generated}", params.prompt)
    } else {
        generated.clone()
    };
    let logprobs = match params.logprobs {
        Some(k) => completion_logprobs(&params.prompt, &prompt, &answer_tokens, params.echo, k),
        None => Value::Null,
    };
    json!({
        "id": format!("cmpl-testkit{seq:08x}"),
        "object": "text_completion",
        "created": now_secs(),
        "model": view.model,
        "system_fingerprint": FINGERPRINT,
        "choices": [{
            "text": text,
            "index": 0,
            "logprobs": logprobs,
            "finish_reason": reason,
        }],
        "usage": usage(prompt.len(), answer_tokens.len()),
    })
}

/// Legacy logprobs over the returned text. Positions count from the start of the prompt,
/// so an answer token scores the same with or without echo. With echo the first prompt
/// token has no context, hence a `null` logprob, as vLLM reports it.
fn completion_logprobs(
    prompt_text: &str,
    prompt: &[&str],
    answer: &[&str],
    echo: bool,
    k: usize,
) -> Value {
    let first = if echo { 0 } else { prompt.len() };
    let all: Vec<&str> = prompt.iter().chain(answer).copied().collect();
    // Offsets are in characters into prompt + answer, as OpenAI reports them.
    let mut offset = if echo { 0 } else { prompt_text.chars().count() };
    let mut tokens = Vec::new();
    let mut token_logprobs = Vec::new();
    let mut top_logprobs = Vec::new();
    let mut text_offset = Vec::new();
    for (pos, tok) in all.iter().enumerate().skip(first) {
        tokens.push(json!(tok));
        text_offset.push(json!(offset));
        offset += tok.chars().count();
        if pos == 0 {
            token_logprobs.push(Value::Null);
            top_logprobs.push(Value::Null);
            continue;
        }
        token_logprobs.push(json!(logprob(tok, pos)));
        // The chosen token is always listed, as vLLM does, even when k is 0.
        let top: Map<String, Value> = top_alternatives(tok, pos, k.max(1))
            .into_iter()
            .map(|(t, lp)| (t, json!(lp)))
            .collect();
        top_logprobs.push(Value::Object(top));
    }
    json!({
        "tokens": tokens,
        "token_logprobs": token_logprobs,
        "top_logprobs": top_logprobs,
        "text_offset": text_offset,
    })
}

pub(crate) fn models(names: &[String]) -> Value {
    let data: Vec<Value> = names
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": MODEL_CREATED, "owned_by": "dtac-testkit"}))
        .collect();
    json!({"object": "list", "data": data})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{parse_chat, parse_completion};

    #[test]
    fn stop_then_length() {
        let stop = vec!["STOP".to_string()];
        assert_eq!(
            finish("a b STOP c", &stop, None),
            ("a b ".to_string(), "stop")
        );
        assert_eq!(finish("a b c", &[], Some(2)), ("a b".to_string(), "length"));
        assert_eq!(finish("a b", &[], Some(2)), ("a b".to_string(), "stop"));
    }

    #[test]
    fn chat_shape_with_logprobs() {
        let (view, params) = parse_chat(
            br#"{"model":"m","messages":[{"role":"user","content":"hi there"}],"logprobs":true,"top_logprobs":2,"max_tokens":2}"#,
        )
        .unwrap();
        let v = chat(1, &view, &params, "one two three");
        assert_eq!(v["choices"][0]["message"]["content"], "one two");
        assert_eq!(v["choices"][0]["finish_reason"], "length");
        let content = v["choices"][0]["logprobs"]["content"].as_array().unwrap();
        assert_eq!(content.len(), 2);
        assert_eq!(content[1]["token"], " two");
        assert_eq!(content[1]["top_logprobs"].as_array().unwrap().len(), 2);
        assert_eq!(v["usage"]["prompt_tokens"], 2);
        assert_eq!(v["usage"]["total_tokens"], 4);
    }

    #[test]
    fn echo_scoring() {
        let (view, params) = parse_completion(
            br#"{"model":"m","prompt":"the cat sat","echo":true,"max_tokens":0,"logprobs":0}"#,
        )
        .unwrap();
        let v = text(1, &view, &params, "ignored answer");
        let c = &v["choices"][0];
        assert_eq!(c["text"], "the cat sat");
        assert_eq!(c["finish_reason"], "length");
        assert_eq!(c["logprobs"]["tokens"], json!(["the", " cat", " sat"]));
        assert_eq!(c["logprobs"]["token_logprobs"][0], Value::Null);
        assert_eq!(
            c["logprobs"]["token_logprobs"][1],
            json!(logprob(" cat", 1))
        );
        assert_eq!(c["logprobs"]["text_offset"], json!([0, 3, 7]));
        assert_eq!(v["usage"]["completion_tokens"], 0);
    }
}
