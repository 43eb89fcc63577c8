//! The wire format: dtac's [`ChatRequest`] as an OpenAI chat-completion body, and the
//! answer back as a [`ChatResponse`].
//!
//! Both sides are plain JSON rather than async-openai's typed structs: the typed request
//! has no `top_k` (which vLLM, SGLang and Ollama accept), and the typed answer rejects
//! what many compatible servers send (unknown finish reasons, missing `created`).

use dtac_runtime::llm::{ChatRequest, ChatResponse, Usage};
use serde_json::{json, Map, Value as Json};

/// The request body. Settings left out are left out of the body too, so the server's
/// defaults apply.
pub(crate) fn body(request: &ChatRequest) -> Json {
    let messages: Vec<Json> = request
        .messages
        .iter()
        .map(|m| json!({ "role": m.role, "content": m.content }))
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert("messages".into(), Json::Array(messages));
    // One whole answer per request: dtac never streams.
    body.insert("stream".into(), json!(false));
    let mut put = |name: &str, value: Option<Json>| {
        if let Some(v) = value {
            body.insert(name.into(), v);
        }
    };
    put("temperature", request.temperature.map(|v| json!(v)));
    put("top_p", request.top_p.map(|v| json!(v)));
    // Not part of OpenAI's API (it ignores unknown sampling fields or refuses them);
    // only sent when the teacher or op sets it, for the servers that accept it.
    put("top_k", request.top_k.map(|v| json!(v)));
    put("max_tokens", request.max_tokens.map(|v| json!(v)));
    put(
        "stop",
        (!request.stop.is_empty()).then(|| json!(request.stop)),
    );
    put("seed", request.seed.map(|v| json!(v)));
    if let Some(n) = request.logprobs {
        put("logprobs", Some(json!(true)));
        put("top_logprobs", Some(json!(n)));
    }
    put("response_format", request.response_format.clone());
    Json::Object(body)
}

/// The first choice of an answer. `Err` says how the answer is malformed (it is retried:
/// a cut-off or garbled answer is usually the connection's fault, not the request's).
pub(crate) fn response(answer: &Json) -> Result<ChatResponse, String> {
    let Some(choice) = answer
        .get("choices")
        .and_then(Json::as_array)
        .and_then(|c| c.first())
    else {
        return Err(match answer.get("error") {
            Some(error) => format!(
                "the endpoint answered with an error instead of choices: {}",
                super::classify::summary(&error.to_string())
            ),
            None => "the endpoint's answer has no choices".into(),
        });
    };
    let text = match choice.pointer("/message/content") {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => s.clone(),
        // Some servers answer in content parts, as requests may be written.
        Some(Json::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Json::as_str))
            .collect(),
        Some(_) => return Err("the answer's message content is not text".into()),
    };
    let finish_reason = choice
        .get("finish_reason")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let usage = usage(answer);
    let logprobs = choice
        .get("logprobs")
        .filter(|l| !l.is_null())
        .map(token_logprobs);
    Ok(ChatResponse {
        text,
        finish_reason,
        usage,
        logprobs,
    })
}

/// The tokens an answer reports (zero where a server leaves `usage` out).
pub(crate) fn usage(answer: &Json) -> Usage {
    let tokens = |name: &str| {
        answer
            .get("usage")
            .and_then(|u| u.get(name))
            .and_then(Json::as_u64)
            .unwrap_or(0)
    };
    Usage {
        prompt_tokens: tokens("prompt_tokens"),
        completion_tokens: tokens("completion_tokens"),
    }
}

/// Chat log-probabilities in dtac's record shape, the same from every server:
/// `[{"token", "logprob", "top": [{"token", "logprob"}, …]}, …]` per generated token,
/// alternatives most likely first. OpenAI's `bytes` are left out (the token text says it).
pub(crate) fn token_logprobs(logprobs: &Json) -> Json {
    let entry = |e: &Json| {
        json!({
            "token": e.get("token").cloned().unwrap_or(Json::Null),
            "logprob": e.get("logprob").cloned().unwrap_or(Json::Null),
        })
    };
    let content = logprobs.get("content").and_then(Json::as_array);
    let tokens: Vec<Json> = content
        .into_iter()
        .flatten()
        .map(|e| {
            let mut out = entry(e);
            let top: Vec<Json> = e
                .get("top_logprobs")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .map(entry)
                .collect();
            out["top"] = Json::Array(top);
            out
        })
        .collect();
    Json::Array(tokens)
}

#[cfg(test)]
mod tests {
    use dtac_runtime::llm::Message;

    use super::*;

    fn request() -> ChatRequest {
        ChatRequest::new(
            "http://h/v1",
            "m",
            vec![Message::system("be brief"), Message::user("2+2?")],
        )
    }

    #[test]
    fn a_bare_request_sends_only_what_it_has() {
        assert_eq!(
            body(&request()),
            json!({
                "model": "m",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "2+2?"}
                ],
                "stream": false
            })
        );
    }

    #[test]
    fn every_setting_reaches_the_body() {
        let format = json!({"type": "json_schema", "json_schema": {"name": "v", "schema": {}}});
        let r = ChatRequest {
            temperature: Some(0.6),
            top_p: Some(0.95),
            top_k: Some(20),
            max_tokens: Some(512),
            stop: vec!["</s>".into()],
            seed: Some(7),
            logprobs: Some(5),
            response_format: Some(format.clone()),
            sample: 3,
            ..request()
        };
        let b = body(&r);
        assert_eq!(b["temperature"], json!(0.6));
        assert_eq!(b["top_p"], json!(0.95));
        assert_eq!(b["top_k"], json!(20));
        assert_eq!(b["max_tokens"], json!(512));
        assert_eq!(b["stop"], json!(["</s>"]));
        assert_eq!(b["seed"], json!(7));
        assert_eq!(b["logprobs"], json!(true));
        assert_eq!(b["top_logprobs"], json!(5));
        assert_eq!(b["response_format"], format);
        // The sample index and endpoint identify the request; they are not sent.
        assert!(b.get("sample").is_none() && b.get("endpoint").is_none());
    }

    #[test]
    fn answers_are_read_from_the_first_choice() {
        let lp = json!({"content": [{"token": "4", "logprob": -0.1, "bytes": [52], "top_logprobs": [
            {"token": "4", "logprob": -0.1, "bytes": [52]}, {"token": "5", "logprob": -2.5, "bytes": [53]}
        ]}]});
        let answer = json!({
            "choices": [
                {"message": {"role": "assistant", "content": "4"}, "finish_reason": "stop", "logprobs": lp},
                {"message": {"role": "assistant", "content": "5"}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13}
        });
        let r = response(&answer).expect("well formed");
        assert_eq!(r.text, "4");
        assert_eq!(r.finish_reason, "stop");
        assert_eq!(r.usage.prompt_tokens, 12);
        assert_eq!(r.usage.completion_tokens, 1);
        assert_eq!(
            r.logprobs,
            Some(json!([{"token": "4", "logprob": -0.1, "top": [
                {"token": "4", "logprob": -0.1}, {"token": "5", "logprob": -2.5}
            ]}]))
        );
    }

    #[test]
    fn missing_parts_have_defaults() {
        let answer = json!({"choices": [{"message": {"content": null}, "finish_reason": null, "logprobs": null}]});
        let r = response(&answer).expect("well formed");
        assert_eq!((r.text.as_str(), r.finish_reason.as_str()), ("", ""));
        assert_eq!(r.usage, Usage::default());
        assert_eq!(r.logprobs, None);
        let parts = json!({"choices": [{"message": {"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}}]});
        assert_eq!(response(&parts).expect("parts").text, "ab");
    }

    #[test]
    fn answers_without_choices_are_malformed() {
        assert!(response(&json!({"choices": []})).is_err());
        assert!(response(&json!([1, 2])).is_err());
        let err = response(&json!({"error": {"message": "overloaded"}})).unwrap_err();
        assert!(err.contains("overloaded"), "{err}");
        let odd = json!({"choices": [{"message": {"content": 4}}]});
        assert!(response(&odd).is_err());
    }
}
