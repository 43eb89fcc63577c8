//! The Batch API's files: the JSONL of requests dtac uploads, and the result lines it
//! downloads (output and error files share one shape).
//!
//! A request's `custom_id` is its request key, so results map back to the cache without
//! any table of our own, and a resumed run knows which answers a batch holds.

use std::collections::BTreeMap;

use dtac_runtime::llm::{ChatRequest, ChatResponse};
use serde_json::{json, Value as Json};

use super::super::classify::{classify_status, Failure};
use super::super::transport::Exchange;
use super::super::wire;

pub(crate) const CHAT_URL: &str = "/v1/chat/completions";

/// The input file: one line per distinct request.
pub(crate) fn input_file(requests: &BTreeMap<String, ChatRequest>) -> Vec<u8> {
    let mut out = Vec::new();
    for (key, request) in requests {
        let line = json!({
            "custom_id": key,
            "method": "POST",
            "url": CHAT_URL,
            "body": wire::body(request),
        });
        out.extend_from_slice(line.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

/// What one result line says about its request.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    Answer(ChatResponse),
    /// Classified like an online response of the same status.
    Failed(Failure),
}

/// The result lines of an output or error file, by `custom_id`. Lines that cannot be read
/// are skipped: their requests count as unanswered and are sent again.
pub(crate) fn results(file: &[u8]) -> BTreeMap<String, Outcome> {
    let mut out = BTreeMap::new();
    for line in String::from_utf8_lossy(file).lines() {
        let Ok(json) = serde_json::from_str::<Json>(line) else {
            continue;
        };
        let Some(id) = json.get("custom_id").and_then(Json::as_str) else {
            continue;
        };
        out.insert(id.to_string(), outcome(&json));
    }
    out
}

fn outcome(line: &Json) -> Outcome {
    let response = line.get("response").filter(|r| !r.is_null());
    if let Some(response) = response {
        let status = response
            .get("status_code")
            .and_then(Json::as_u64)
            .unwrap_or(0) as u16;
        let body = response.get("body").cloned().unwrap_or(Json::Null);
        if (200..300).contains(&status) {
            return match wire::response(&body) {
                Ok(answer) => Outcome::Answer(answer),
                Err(message) => Outcome::Failed(Failure::retry(message)),
            };
        }
        return Outcome::Failed(classify_status(&Exchange {
            status,
            retry_after: None,
            body: body.to_string().into_bytes(),
        }));
    }
    // No response: a line-level error (`batch_expired`, `batch_cancelled`, …), which a
    // new batch may well succeed with.
    let message = line
        .pointer("/error/message")
        .or(line.pointer("/error/code"))
        .and_then(Json::as_str)
        .unwrap_or("no result");
    Outcome::Failed(Failure::retry(format!(
        "the batch did not answer it: {message}"
    )))
}

#[cfg(test)]
mod tests {
    use dtac_runtime::llm::Message;

    use super::*;

    #[test]
    fn requests_go_out_keyed() {
        let r = ChatRequest::new("http://h/v1", "m", vec![Message::user("hi")]);
        let mut map = BTreeMap::new();
        map.insert(r.key(), r.clone());
        let file = input_file(&map);
        let line: Json = serde_json::from_slice(file.trim_ascii_end()).expect("one line");
        assert_eq!(line["custom_id"], json!(r.key()));
        assert_eq!(line["url"], json!(CHAT_URL));
        assert_eq!(line["body"]["messages"][0]["content"], json!("hi"));
    }

    #[test]
    fn results_are_read_by_status() {
        let file = [
            r#"{"id":"b1","custom_id":"k1","response":{"status_code":200,"body":{"choices":[{"message":{"content":"4"},"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":1}}},"error":null}"#,
            r#"{"id":"b2","custom_id":"k2","response":{"status_code":500,"body":{"error":{"message":"boom"}}},"error":null}"#,
            r#"{"id":"b3","custom_id":"k3","response":{"status_code":400,"body":{"error":{"message":"context too long","type":"invalid_request_error"}}},"error":null}"#,
            r#"{"id":"b4","custom_id":"k4","response":null,"error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}}"#,
            "garbage",
        ]
        .join("\n");
        let r = results(file.as_bytes());
        assert_eq!(r.len(), 4);
        assert!(
            matches!(&r["k1"], Outcome::Answer(a) if a.text == "4" && a.usage.prompt_tokens == 2)
        );
        assert!(matches!(&r["k2"], Outcome::Failed(Failure::Retry { .. })));
        assert!(
            matches!(&r["k3"], Outcome::Failed(Failure::Request(m)) if m.contains("context too long"))
        );
        assert!(
            matches!(&r["k4"], Outcome::Failed(Failure::Retry { message, .. }) if message.contains("completion window"))
        );
    }
}
