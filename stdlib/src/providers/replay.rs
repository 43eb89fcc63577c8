//! The replay provider: answers from a recorded JSONL file, never the network, so a
//! recipe can run offline on generations recorded elsewhere (another team's run, a
//! notebook, a vendor's dump).
//!
//! Each line holds a `response` and says which request it answers, either
//! - by request key: `{"key": "…", "response": …}` (a `dtac cache export` file is such a
//!   file: its keys match when the replay teacher keeps the recorded teacher's `model`,
//!   `endpoint` and sampling settings), or
//! - by record and model: `{"id": "…", "model": "…", "sample": 0, "response": …}`, where
//!   `id` is the record's `id` field (or its provenance id) and `sample` defaults to 0.
//!
//! A `response` is the answer's text, an OpenAI chat-completion body (`{"choices": …}`),
//! or dtac's own answer object (`{"text", "finish_reason", "usage"}`, the last two optional). The file is read
//! once, when the teacher is first used; it counts in stage keys by its content, and its
//! answers are not copied into the response cache (the file is the record).

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::Path;

use dtac_runtime::llm::{Caller, ChatRequest, ChatResponse, Provider, ProviderError, Usage};
use futures::future::BoxFuture;
use serde_json::Value as Json;

use super::wire;

pub struct ReplayProvider {
    path: String,
    by_key: HashMap<String, ChatResponse>,
    /// (record id, model, sample) → answer.
    by_record: HashMap<(String, String, u64), ChatResponse>,
}

impl ReplayProvider {
    /// Reads `path`; the error names the line that cannot be used.
    pub(crate) fn open(path: &str) -> Result<ReplayProvider, String> {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read the replay file `{path}`: {e}"))?;
        let mut provider = ReplayProvider {
            path: path.to_string(),
            by_key: HashMap::new(),
            by_record: HashMap::new(),
        };
        for (n, line) in BufReader::new(file).lines().enumerate() {
            let at = || format!("replay file `{path}`, line {}", n + 1);
            let line = line.map_err(|e| format!("{}: {e}", at()))?;
            if line.trim().is_empty() {
                continue;
            }
            let json: Json =
                serde_json::from_str(&line).map_err(|e| format!("{}: not JSON ({e})", at()))?;
            provider.add(&json).map_err(|m| format!("{}: {m}", at()))?;
        }
        Ok(provider)
    }

    fn add(&mut self, line: &Json) -> Result<(), String> {
        let response = answer(line.get("response").ok_or("no `response`")?)?;
        let text = |name: &str| line.get(name).and_then(Json::as_str).map(str::to_string);
        if let Some(key) = text("key") {
            self.by_key.insert(key, response);
            return Ok(());
        }
        let (Some(id), Some(model)) = (id_of(line.get("id")), text("model")) else {
            return Err("each line needs `key`, or `id` and `model`".into());
        };
        let sample = match line.get("sample") {
            None | Some(Json::Null) => 0,
            Some(v) => v.as_u64().ok_or("`sample` must be a whole number")?,
        };
        self.by_record.insert((id, model, sample), response);
        Ok(())
    }

    fn find(&self, caller: Caller<'_>, request: &ChatRequest) -> Option<&ChatResponse> {
        if let Some(found) = self.by_key.get(&request.key()) {
            return Some(found);
        }
        [caller.id, Some(caller.record)]
            .into_iter()
            .flatten()
            .find_map(|id| {
                self.by_record
                    .get(&(id.to_string(), request.model.clone(), request.sample))
            })
    }

    pub(crate) fn answers(&self) -> usize {
        self.by_key.len() + self.by_record.len()
    }
}

/// An `id` written as text or as a number.
fn id_of(value: Option<&Json>) -> Option<String> {
    match value? {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A recorded answer in any of the three shapes.
fn answer(response: &Json) -> Result<ChatResponse, String> {
    match response {
        Json::String(text) => Ok(ChatResponse {
            text: text.clone(),
            finish_reason: "stop".into(),
            usage: Usage::default(),
            logprobs: None,
        }),
        Json::Object(o) if o.contains_key("choices") => wire::response(response),
        Json::Object(o) if o.contains_key("text") => serde_json::from_value(response.clone())
            .map_err(|e| format!("`response` is not a dtac answer object ({e})")),
        _ => Err(
            "`response` must be the answer's text, an OpenAI chat completion or a dtac answer \
             object"
                .into(),
        ),
    }
}

impl Provider for ReplayProvider {
    fn chat<'a>(
        &'a self,
        caller: Caller<'a>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
        let found = self.find(caller, request).cloned();
        Box::pin(async move {
            found.ok_or_else(|| {
                let id = caller.id.unwrap_or(caller.record);
                ProviderError::Request(format!(
                    "the replay file `{}` has no answer for stage `{}`, record `{id}` (model \
                     `{}`, sample {}, request key {})",
                    Path::new(&self.path)
                        .file_name()
                        .map_or(self.path.as_str(), |n| n.to_str().unwrap_or_default()),
                    caller.stage,
                    request.model,
                    request.sample,
                    dtac_runtime::hash::short(&request.key()),
                ))
            })
        })
    }
}

impl fmt::Debug for ReplayProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayProvider")
            .field("path", &self.path)
            .field("answers", &self.answers())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use dtac_runtime::llm::Message;

    use super::*;

    fn file(lines: &[&str]) -> tempfile_path::Temp {
        tempfile_path::Temp::with(&lines.join("\n"))
    }

    /// A file in the temp dir, removed on drop.
    mod tempfile_path {
        pub struct Temp(pub std::path::PathBuf);
        impl Temp {
            pub fn with(text: &str) -> Temp {
                use std::sync::atomic::{AtomicU64, Ordering};
                static N: AtomicU64 = AtomicU64::new(0);
                let path = std::env::temp_dir().join(format!(
                    "dtac-replay-{}-{}.jsonl",
                    std::process::id(),
                    N.fetch_add(1, Ordering::SeqCst)
                ));
                std::fs::write(&path, text).expect("write");
                Temp(path)
            }
            pub fn path(&self) -> &str {
                self.0.to_str().expect("utf-8")
            }
        }
        impl Drop for Temp {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    fn request(model: &str, sample: u64) -> ChatRequest {
        ChatRequest {
            sample,
            ..ChatRequest::new("http://h/v1", model, vec![Message::user("2+2?")])
        }
    }

    fn caller<'a>(id: Option<&'a str>) -> Caller<'a> {
        Caller {
            stage: "gen",
            record: "train/abc",
            id,
        }
    }

    #[tokio::test]
    async fn answers_by_key_and_by_record() {
        let by_key = request("m", 0).key();
        let f = file(&[
            &format!(r#"{{"key": "{by_key}", "response": "four"}}"#),
            r#"{"id": "p1", "model": "m", "sample": 1, "response": {"choices": [{"message": {"content": "4"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}}"#,
            "",
            r#"{"id": 7, "model": "m2", "response": {"text": "seven", "finish_reason": "length", "usage": {"prompt_tokens": 1, "completion_tokens": 2}}}"#,
            r#"{"id": 8, "model": "m2", "response": {"text": "eight"}}"#,
        ]);
        let p = ReplayProvider::open(f.path()).expect("valid file");
        assert_eq!(p.answers(), 4);
        let d = p
            .chat(caller(Some("8")), &request("m2", 0))
            .await
            .expect("a bare answer object");
        assert_eq!(
            (d.text.as_str(), d.finish_reason.as_str()),
            ("eight", "stop")
        );
        let a = p
            .chat(caller(None), &request("m", 0))
            .await
            .expect("by key");
        assert_eq!(a.text, "four");
        let b = p
            .chat(caller(Some("p1")), &request("m", 1))
            .await
            .expect("by id");
        assert_eq!((b.text.as_str(), b.usage.completion_tokens), ("4", 1));
        let c = p
            .chat(caller(Some("7")), &request("m2", 0))
            .await
            .expect("number id");
        assert_eq!(c.finish_reason, "length");
        // Another model, or another sample, is not answered; the error says for whom.
        match p.chat(caller(Some("p1")), &request("other", 1)).await {
            Err(ProviderError::Request(m)) => {
                assert!(
                    m.contains("stage `gen`") && m.contains("record `p1`"),
                    "{m}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_lines_are_named() {
        for (text, want) in [
            ("{\"id\": \"a\"}", "line 1: no `response`"),
            ("\n{\"response\": \"x\"}", "line 2: each line needs"),
            ("not json", "line 1: not JSON"),
            (
                "{\"id\": \"a\", \"model\": \"m\", \"response\": 4}",
                "`response` must be",
            ),
        ] {
            let f = file(&[text]);
            let err = ReplayProvider::open(f.path()).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
        let err = ReplayProvider::open("/nonexistent/replay.jsonl").unwrap_err();
        assert!(err.contains("cannot read"), "{err}");
    }
}
