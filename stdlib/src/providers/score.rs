//! Prompt scoring on `/v1/completions`: the text is sent as the prompt with `echo` and
//! `logprobs`, and no tokens are generated (`max_tokens = 0`), so the answer carries the
//! log-probability of every prompt token (vLLM and SGLang do this; OpenAI's current
//! models do not).
//!
//! Which tokens are the target's is read from `text_offset`, in characters into the
//! prompt: a token that starts before the target begins (one straddling the boundary)
//! counts as context. The first token of a prompt has no log-probability (nothing comes
//! before it), so with an empty context the target's first token is not scored.

use dtac_runtime::llm::{ScoreRequest, ScoreResponse};
use serde_json::{json, Value as Json};

use super::wire;

pub(crate) fn body(request: &ScoreRequest) -> Json {
    json!({
        "model": request.model,
        "prompt": format!("{}{}", request.context, request.target),
        "echo": true,
        "max_tokens": 0,
        "logprobs": 1,
        "temperature": 0,
        "stream": false,
    })
}

/// The target's tokens from an answer; `Err` says what the endpoint left out.
pub(crate) fn response(request: &ScoreRequest, answer: &Json) -> Result<ScoreResponse, String> {
    let missing = || {
        "the endpoint returned no prompt log-probabilities: scoring needs `/v1/completions` \
         with `echo` and `logprobs` (vLLM and SGLang support it; OpenAI's chat models do not)"
            .to_string()
    };
    let logprobs = answer
        .pointer("/choices/0/logprobs")
        .filter(|l| !l.is_null())
        .ok_or_else(missing)?;
    let list = |name: &str| logprobs.get(name).and_then(Json::as_array);
    let (Some(tokens), Some(values), Some(offsets)) =
        (list("tokens"), list("token_logprobs"), list("text_offset"))
    else {
        return Err(missing());
    };
    if tokens.len() != values.len() || tokens.len() != offsets.len() {
        return Err("the endpoint's log-probabilities have lists of different lengths".into());
    }
    let start = request.context.chars().count() as u64;
    let end = start + request.target.chars().count() as u64;
    let mut out = ScoreResponse {
        tokens: Vec::new(),
        logprobs: Vec::new(),
        usage: wire::usage(answer),
    };
    for ((token, value), offset) in tokens.iter().zip(values).zip(offsets) {
        let Some(offset) = offset.as_u64() else {
            return Err("the endpoint's `text_offset` is not a list of positions".into());
        };
        if offset < start || offset >= end {
            continue;
        }
        // `null`: the prompt's first token, which has no context to be scored in.
        let Some(value) = value.as_f64() else {
            continue;
        };
        out.tokens
            .push(token.as_str().unwrap_or_default().to_string());
        out.logprobs.push(value);
    }
    if out.tokens.is_empty() && !request.target.is_empty() {
        return Err(
            "none of the target's tokens were scored (is the target empty after \
                    tokenization?)"
                .into(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(context: &str, target: &str) -> ScoreRequest {
        ScoreRequest {
            endpoint: "http://h/v1".into(),
            model: "m".into(),
            context: context.into(),
            target: target.into(),
        }
    }

    fn answer(tokens: &[&str], values: &[Option<f64>]) -> Json {
        let mut offset = 0;
        let offsets: Vec<usize> = tokens
            .iter()
            .map(|t| {
                let at = offset;
                offset += t.chars().count();
                at
            })
            .collect();
        json!({
            "choices": [{"text": tokens.concat(), "logprobs": {
                "tokens": tokens, "token_logprobs": values, "text_offset": offsets,
            }}],
            "usage": {"prompt_tokens": tokens.len(), "completion_tokens": 0},
        })
    }

    #[test]
    fn the_body_generates_nothing() {
        let b = body(&request("Q: 2+2?\nA:", " 4"));
        assert_eq!(b["prompt"], "Q: 2+2?\nA: 4");
        assert_eq!(
            (b["echo"].clone(), b["max_tokens"].clone()),
            (json!(true), json!(0))
        );
    }

    #[test]
    fn only_the_targets_tokens_count() {
        let a = answer(
            &["Q", ":", " é", " 4"],
            &[None, Some(-1.0), Some(-2.0), Some(-0.5)],
        );
        let r = response(&request("Q: é", " 4"), &a).expect("scored");
        assert_eq!(r.tokens, [" 4"]);
        assert_eq!(r.logprobs, [-0.5]);
        assert_eq!(r.usage.prompt_tokens, 4);
        // With no context, the first token has no score.
        let r = response(&request("", "Q: é 4"), &a).expect("scored");
        assert_eq!(r.logprobs, [-1.0, -2.0, -0.5]);
        assert_eq!(r.total(), -3.5);
    }

    #[test]
    fn servers_without_prompt_logprobs_are_named() {
        let none = json!({"choices": [{"text": "x", "logprobs": null}]});
        let err = response(&request("a", "b"), &none).unwrap_err();
        assert!(err.contains("echo"), "{err}");
        let bad = json!({"choices": [{"logprobs": {"tokens": ["a"], "token_logprobs": [], "text_offset": [0]}}]});
        assert!(response(&request("", "a"), &bad).is_err());
    }
}
