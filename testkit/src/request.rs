//! Parsing and validating request bodies into a [`RequestView`] plus endpoint parameters.
//!
//! Bodies are read as loose JSON and checked field by field rather than through serde
//! structs: the error message can then name the field, and nothing a client sends can make
//! the server panic. `null` counts as absent everywhere, as OpenAI's API treats it.

use serde_json::{Map, Value};

use crate::hash::key_of;

/// One chat message as the server saw it. Content given as a list of parts keeps only the
/// text parts, concatenated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub role: String,
    pub content: String,
}

/// Which answering endpoint a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/chat/completions`
    Chat,
    /// `POST /v1/completions` (legacy)
    Completions,
}

/// What rules and reply closures see of a request.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub endpoint: Endpoint,
    pub model: String,
    /// The conversation; a legacy completion is one `user` message holding the prompt.
    pub messages: Vec<Message>,
    /// The content of the last `user` message, or "" when there is none.
    pub last_user: String,
    pub seed: Option<i64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u64>,
    /// [`key_of`] over `model` and `messages`.
    pub key: String,
    /// Which attempt of this key this request is, counting from 1.
    pub attempt: u64,
    /// The whole request body.
    pub body: Value,
}

/// Output options of a chat request.
#[derive(Debug, Clone)]
pub(crate) struct ChatParams {
    pub(crate) logprobs: bool,
    pub(crate) top_logprobs: usize,
    pub(crate) stop: Vec<String>,
}

/// Output options of a legacy completion request.
#[derive(Debug, Clone)]
pub(crate) struct CompletionParams {
    pub(crate) prompt: String,
    pub(crate) echo: bool,
    pub(crate) logprobs: Option<usize>,
    pub(crate) stop: Vec<String>,
}

/// The most alternatives per position a client may ask for, as on OpenAI's API.
const MAX_TOP_LOGPROBS: u64 = 20;

pub(crate) fn parse_chat(bytes: &[u8]) -> Result<(RequestView, ChatParams), String> {
    let body = parse_object(bytes)?;
    let obj = as_object(&body)?;
    let messages = match obj.get("messages") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, m)| parse_message(i, m))
            .collect::<Result<Vec<_>, _>>()?,
        Some(Value::Array(_)) => return Err("'messages' must not be empty".into()),
        Some(_) => return Err("'messages' must be an array".into()),
        None => return Err("'messages' is a required property".into()),
    };
    let params = ChatParams {
        logprobs: opt_bool(obj, "logprobs")?.unwrap_or(false),
        top_logprobs: bounded(obj, "top_logprobs", MAX_TOP_LOGPROBS)?.unwrap_or(0),
        stop: parse_stop(obj)?,
    };
    // Newer clients send `max_completion_tokens`; it wins over the deprecated name.
    let max_tokens = match opt_u64(obj, "max_completion_tokens")? {
        Some(n) => Some(n),
        None => opt_u64(obj, "max_tokens")?,
    };
    let view = common(&body, obj, Endpoint::Chat, messages, max_tokens)?;
    Ok((view, params))
}

pub(crate) fn parse_completion(bytes: &[u8]) -> Result<(RequestView, CompletionParams), String> {
    let body = parse_object(bytes)?;
    let obj = as_object(&body)?;
    let prompt = match obj.get("prompt") {
        Some(Value::String(s)) => s.clone(),
        // A batch of one is common in clients that always send lists.
        Some(Value::Array(items)) => match items.as_slice() {
            [Value::String(s)] => s.clone(),
            _ => return Err("'prompt' must be a string or a list of exactly one string".into()),
        },
        Some(_) => return Err("'prompt' must be a string".into()),
        None => return Err("'prompt' is a required property".into()),
    };
    let params = CompletionParams {
        echo: opt_bool(obj, "echo")?.unwrap_or(false),
        logprobs: bounded(obj, "logprobs", MAX_TOP_LOGPROBS)?,
        stop: parse_stop(obj)?,
        prompt: prompt.clone(),
    };
    let messages = vec![Message {
        role: "user".into(),
        content: prompt,
    }];
    let max_tokens = opt_u64(obj, "max_tokens")?;
    let view = common(&body, obj, Endpoint::Completions, messages, max_tokens)?;
    Ok((view, params))
}

/// The fields both endpoints share, and the view built from them.
fn common(
    body: &Value,
    obj: &Map<String, Value>,
    endpoint: Endpoint,
    messages: Vec<Message>,
    max_tokens: Option<u64>,
) -> Result<RequestView, String> {
    let model = match obj.get("model") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) => return Err("'model' must not be empty".into()),
        Some(_) => return Err("'model' must be a string".into()),
        None => return Err("'model' is a required property".into()),
    };
    if let Some(n) = opt_u64(obj, "n")? {
        if n != 1 {
            return Err(format!(
                "'n' = {n} is not supported by the test server; use 1"
            ));
        }
    }
    if opt_bool(obj, "stream")? == Some(true) {
        return Err("'stream' is not supported by the test server".into());
    }
    let seed = match present(obj, "seed") {
        None => None,
        Some(v) => Some(v.as_i64().ok_or("'seed' must be an integer")?),
    };
    let temperature = opt_f64(obj, "temperature")?;
    let top_p = opt_f64(obj, "top_p")?;
    if let Some(rf) = present(obj, "response_format") {
        if !rf.is_object() {
            return Err("'response_format' must be an object".into());
        }
    }
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| m.content.clone())
        .unwrap_or_default();
    let key = key_of(
        &model,
        messages
            .iter()
            .map(|m| (m.role.as_str(), m.content.as_str())),
    );
    Ok(RequestView {
        endpoint,
        model,
        messages,
        last_user,
        seed,
        temperature,
        top_p,
        max_tokens,
        key,
        attempt: 0,
        body: body.clone(),
    })
}

fn parse_object(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(bytes)
        .map_err(|e| format!("We could not parse the JSON body of your request: {e}"))
}

fn as_object(body: &Value) -> Result<&Map<String, Value>, String> {
    body.as_object()
        .ok_or_else(|| "the request body must be a JSON object".to_string())
}

fn parse_message(i: usize, m: &Value) -> Result<Message, String> {
    let obj = m
        .as_object()
        .ok_or_else(|| format!("'messages[{i}]' must be an object"))?;
    let role = match obj.get("role") {
        Some(Value::String(r)) => r.clone(),
        _ => return Err(format!("'messages[{i}].role' must be a string")),
    };
    let content = match present(obj, "content") {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for part in parts {
                // Non-text parts (images, audio) carry nothing the toy model reads.
                if part.get("type").and_then(Value::as_str) == Some("text") {
                    match part.get("text") {
                        Some(Value::String(t)) => text.push_str(t),
                        _ => {
                            return Err(format!(
                                "'messages[{i}].content' has a text part without text"
                            ))
                        }
                    }
                }
            }
            text
        }
        Some(_) => {
            return Err(format!(
                "'messages[{i}].content' must be a string or a list of parts"
            ))
        }
    };
    Ok(Message { role, content })
}

fn parse_stop(obj: &Map<String, Value>) -> Result<Vec<String>, String> {
    match present(obj, "stop") {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| "'stop' must be a string or a list of strings".to_string())
            })
            .collect(),
        Some(_) => Err("'stop' must be a string or a list of strings".into()),
    }
    // An empty stop string would match everywhere and blank every answer.
    .map(|v| v.into_iter().filter(|s| !s.is_empty()).collect())
}

/// The field's value unless it is missing or `null`.
fn present<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

fn opt_bool(obj: &Map<String, Value>, name: &str) -> Result<Option<bool>, String> {
    present(obj, name)
        .map(|v| {
            v.as_bool()
                .ok_or_else(|| format!("'{name}' must be a boolean"))
        })
        .transpose()
}

fn opt_u64(obj: &Map<String, Value>, name: &str) -> Result<Option<u64>, String> {
    present(obj, name)
        .map(|v| {
            v.as_u64()
                .ok_or_else(|| format!("'{name}' must be a non-negative integer"))
        })
        .transpose()
}

fn opt_f64(obj: &Map<String, Value>, name: &str) -> Result<Option<f64>, String> {
    present(obj, name)
        .map(|v| {
            v.as_f64()
                .ok_or_else(|| format!("'{name}' must be a number"))
        })
        .transpose()
}

fn bounded(obj: &Map<String, Value>, name: &str, max: u64) -> Result<Option<usize>, String> {
    match opt_u64(obj, name)? {
        Some(n) if n > max => Err(format!("'{name}' must be at most {max}")),
        Some(n) => Ok(Some(n as usize)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_with_parts_and_nulls() {
        let body = br#"{"model":"m","messages":[{"role":"system","content":null},
            {"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url"},{"type":"text","text":"b"}]}],
            "seed":null,"max_tokens":5,"logprobs":true,"top_logprobs":2,"stop":"x"}"#;
        let (view, params) = parse_chat(body).unwrap();
        assert_eq!(view.last_user, "ab");
        assert_eq!(view.max_tokens, Some(5));
        assert_eq!(view.seed, None);
        assert!(params.logprobs);
        assert_eq!(params.top_logprobs, 2);
        assert_eq!(params.stop, ["x"]);
        assert_eq!(view.key, key_of("m", [("system", ""), ("user", "ab")]));
    }

    #[test]
    fn bad_fields_are_named() {
        let cases: &[(&[u8], &str)] = &[
            (b"{", "parse"),
            (b"[]", "JSON object"),
            (
                br#"{"messages":[{"role":"user","content":"x"}]}"#,
                "'model'",
            ),
            (br#"{"model":"m"}"#, "'messages'"),
            (br#"{"model":"m","messages":[]}"#, "empty"),
            (br#"{"model":"m","messages":[{"content":"x"}]}"#, "role"),
            (
                br#"{"model":"m","messages":[{"role":"user","content":1}]}"#,
                "content",
            ),
            (
                br#"{"model":"m","messages":[{"role":"user"}],"n":2}"#,
                "'n'",
            ),
            (
                br#"{"model":"m","messages":[{"role":"user"}],"max_tokens":-1}"#,
                "max_tokens",
            ),
            (
                br#"{"model":"m","messages":[{"role":"user"}],"top_logprobs":99}"#,
                "at most",
            ),
            (
                br#"{"model":"m","messages":[{"role":"user"}],"stream":true}"#,
                "stream",
            ),
            (
                br#"{"model":"m","messages":[{"role":"user"}],"stop":[1]}"#,
                "stop",
            ),
        ];
        for (body, needle) in cases {
            let err = parse_chat(body).unwrap_err();
            assert!(err.contains(needle), "{err} lacks {needle}");
        }
    }

    #[test]
    fn completion_prompt_forms() {
        let (view, p) =
            parse_completion(br#"{"model":"m","prompt":["hi"],"echo":true,"logprobs":1}"#).unwrap();
        assert_eq!(view.last_user, "hi");
        assert!(p.echo);
        assert_eq!(p.logprobs, Some(1));
        assert!(parse_completion(br#"{"model":"m","prompt":["a","b"]}"#).is_err());
        assert!(parse_completion(br#"{"model":"m","prompt":[1,2]}"#).is_err());
    }
}
