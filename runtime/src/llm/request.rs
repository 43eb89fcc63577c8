//! LLM requests and responses in dtac's own shape: what is hashed into a request key,
//! stored in the response cache, and exported to cache files.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::hash::hash_json;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Message {
        Message {
            role: "system".into(),
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Message {
        Message {
            role: "assistant".into(),
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: "user".into(),
            content: content.into(),
        }
    }
}

/// A chat request. Every field is part of the request key: the endpoint's identity (its
/// base URL, never its key), the model, the rendered messages, the sampling parameters,
/// the sample index and the seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub endpoint: String,
    pub model: String,
    pub messages: Vec<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Top log-probabilities per generated token, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<i64>,
    /// A JSON schema the answer must follow (`response_format`), for reviewers and judges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Json>,
    /// Which sample of the same prompt this is: 0, 1, ... Two samples are two requests.
    pub sample: u64,
}

impl ChatRequest {
    /// A request with the endpoint's defaults for every sampling parameter; sample 0.
    pub fn new(
        endpoint: impl Into<String>,
        model: impl Into<String>,
        messages: Vec<Message>,
    ) -> Self {
        ChatRequest {
            endpoint: endpoint.into(),
            model: model.into(),
            messages,
            temperature: None,
            top_p: None,
            top_k: None,
            max_tokens: None,
            stop: Vec::new(),
            seed: None,
            logprobs: None,
            response_format: None,
            sample: 0,
        }
    }

    /// The request key: the hash of everything above.
    pub fn key(&self) -> String {
        hash_json(&serde_json::to_value(self).unwrap_or(Json::Null))
    }

    /// A rough token count of the prompt (4 characters a token), for estimates and
    /// budget checks before the real usage is known.
    pub fn estimated_prompt_tokens(&self) -> u64 {
        let chars: usize = self.messages.iter().map(|m| m.content.len() + 4).sum();
        (chars as u64).div_ceil(4)
    }
}

/// Tokens used by one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// A chat answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub text: String,
    /// `stop`, `length`, ...; `stop` when a recorded answer leaves it out.
    #[serde(default = "stopped")]
    pub finish_reason: String,
    /// Zero when a recorded answer leaves it out.
    #[serde(default)]
    pub usage: Usage,
    /// Per generated token: token, logprob, top alternatives (when asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Json>,
}

fn stopped() -> String {
    "stop".into()
}

/// A scoring request: the log-probability of `target` right after `context`, token by
/// token, under `model` (prompt scoring through `/v1/completions` with `echo`). The text
/// is sent as it is: no chat template is applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreRequest {
    pub endpoint: String,
    pub model: String,
    pub context: String,
    pub target: String,
}

impl ScoreRequest {
    /// The request key; tagged so it can never equal a chat request's.
    pub fn key(&self) -> String {
        hash_json(&serde_json::json!({ "score": self }))
    }
}

/// The target's tokens and their log-probabilities (natural log).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreResponse {
    pub tokens: Vec<String>,
    pub logprobs: Vec<f64>,
    pub usage: Usage,
}

impl ScoreResponse {
    /// Σ log p over the target's tokens.
    pub fn total(&self) -> f64 {
        self.logprobs.iter().sum()
    }
}
