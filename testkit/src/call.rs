//! One answering call, parsed: the request view plus its endpoint's output options.
//!
//! Online requests and batch lines both go through here, so a batch line is answered by
//! exactly the code that answers the same body sent to the endpoint directly.

use serde_json::Value;

use crate::completion;
use crate::request::{
    parse_chat, parse_completion, ChatParams, CompletionParams, Endpoint, RequestView,
};

#[derive(Debug)]
pub(crate) enum Call {
    Chat(RequestView, ChatParams),
    Text(RequestView, CompletionParams),
}

impl Call {
    /// Parses and validates a body for `endpoint`; the error is the 400's message.
    pub(crate) fn parse(endpoint: Endpoint, bytes: &[u8]) -> Result<Self, String> {
        match endpoint {
            Endpoint::Chat => parse_chat(bytes).map(|(v, p)| Call::Chat(v, p)),
            Endpoint::Completions => parse_completion(bytes).map(|(v, p)| Call::Text(v, p)),
        }
    }

    pub(crate) fn view(&self) -> &RequestView {
        match self {
            Call::Chat(v, _) | Call::Text(v, _) => v,
        }
    }

    pub(crate) fn view_mut(&mut self) -> &mut RequestView {
        match self {
            Call::Chat(v, _) | Call::Text(v, _) => v,
        }
    }

    /// The endpoint's success body for this answer text; `seq` makes the response id.
    pub(crate) fn render(&self, seq: u64, text: &str) -> Value {
        match self {
            Call::Chat(view, params) => completion::chat(seq, view, params, text),
            Call::Text(view, params) => completion::text(seq, view, params, text),
        }
    }
}

impl Endpoint {
    /// The endpoint's path, as batch requests name it.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Chat => "/v1/chat/completions",
            Endpoint::Completions => "/v1/completions",
        }
    }

    /// The endpoint at this path, if it is an answering one.
    pub fn from_path(path: &str) -> Option<Self> {
        [Endpoint::Chat, Endpoint::Completions]
            .into_iter()
            .find(|e| e.path() == path)
    }
}
