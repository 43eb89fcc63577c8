//! The bodies of injected error responses, in each [`ErrorBody`] shape.
//!
//! Kept apart from HTTP so that a batch line that gets a fault can carry the very body
//! an online request would have received.

use serde_json::{json, Value};

use crate::faults::ErrorBody;

/// An error body ready to send: JSON, or text with its content type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Payload {
    Json(Value),
    Text {
        content_type: &'static str,
        text: String,
    },
}

impl Payload {
    /// The body as a JSON value, for places (batch result lines) that can only hold
    /// JSON: text bodies become a JSON string.
    pub(crate) fn into_json(self) -> Value {
        match self {
            Payload::Json(v) => v,
            Payload::Text { text, .. } => Value::String(text),
        }
    }
}

/// The body OpenAI sends with an error.
pub(crate) fn openai(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

/// The status a response really gets: a script's status that is not a final HTTP status
/// (an informational 1xx would confuse the connection) becomes a 500 rather than a panic.
pub(crate) fn effective_status(status: u16) -> u16 {
    if (200..=999).contains(&status) {
        status
    } else {
        500
    }
}

/// The body of an injected error with this status and shape.
pub(crate) fn payload(status: u16, shape: ErrorBody) -> Payload {
    let (message, kind, code) = describe(status);
    match shape {
        ErrorBody::OpenAi => Payload::Json(openai(message, kind, None, code)),
        ErrorBody::Detail => Payload::Json(json!({"detail": message})),
        ErrorBody::Vllm => Payload::Json(json!({
            "object": "error",
            "message": message,
            "type": vllm_type(status),
            "param": null,
            "code": status,
        })),
        ErrorBody::Text => Payload::Text {
            content_type: "text/plain; charset=utf-8",
            text: message.to_string(),
        },
        ErrorBody::Html => Payload::Text {
            content_type: "text/html",
            text: format!(
                "<html><head><title>{status}</title></head><body><h1>{status}</h1><p>{message}</p></body></html>"
            ),
        },
    }
}

/// The message, OpenAI error type and code OpenAI uses for a status.
fn describe(status: u16) -> (&'static str, &'static str, Option<&'static str>) {
    match status {
        400 => (
            "Bad request (injected by dtac-testkit).",
            "invalid_request_error",
            None,
        ),
        401 => (
            "Incorrect API key provided (injected by dtac-testkit).",
            "invalid_request_error",
            Some("invalid_api_key"),
        ),
        403 => (
            "Forbidden (injected by dtac-testkit).",
            "permission_error",
            None,
        ),
        404 => (
            "Not found (injected by dtac-testkit).",
            "invalid_request_error",
            None,
        ),
        429 => (
            "Rate limit reached (injected by dtac-testkit).",
            "requests",
            Some("rate_limit_exceeded"),
        ),
        502 => (
            "Bad gateway (injected by dtac-testkit).",
            "server_error",
            None,
        ),
        503 => (
            "The server is overloaded or not ready yet (injected by dtac-testkit).",
            "server_error",
            None,
        ),
        _ => (
            "The server had an error (injected by dtac-testkit).",
            "server_error",
            None,
        ),
    }
}

/// The `type` vLLM's OpenAI server puts in its errors: the name of the exception class
/// its handler maps the status from.
fn vllm_type(status: u16) -> &'static str {
    match status {
        400 => "BadRequestError",
        401 => "AuthenticationError",
        403 => "PermissionDeniedError",
        404 => "NotFoundError",
        429 => "RateLimitError",
        503 => "ServiceUnavailableError",
        s if s >= 500 => "InternalServerError",
        _ => "BadRequestError",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vllm_shape_has_an_integer_code() {
        let Payload::Json(v) = payload(429, ErrorBody::Vllm) else {
            panic!("vLLM bodies are JSON");
        };
        assert_eq!(v["object"], "error");
        assert_eq!(v["type"], "RateLimitError");
        assert_eq!(v["code"], 429);
        assert!(v["param"].is_null());
        assert!(v["message"].is_string());
        assert_eq!(
            payload(500, ErrorBody::Vllm).into_json()["type"],
            "InternalServerError"
        );
    }

    #[test]
    fn text_bodies_become_json_strings() {
        let v = payload(502, ErrorBody::Html).into_json();
        assert!(v.as_str().unwrap().contains("<h1>502</h1>"));
    }

    #[test]
    fn statuses_outside_http_become_500() {
        assert_eq!(effective_status(42), 500);
        assert_eq!(effective_status(101), 500);
        assert_eq!(effective_status(429), 429);
    }
}
