//! Turning bodies, errors and injected faults into HTTP responses.
//!
//! OpenAI-shaped errors carry the `type` and `code` that real clients branch on: a 429
//! with code `rate_limit_exceeded` is retried, one with `insufficient_quota` is not.

use std::time::Duration;

use hyper::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Response, StatusCode};
use serde_json::{json, Value};

use crate::body::ReplyBody;
use crate::faults::{ErrorBody, Fault};

/// A response with a content type and a body sent at once.
pub(crate) fn raw(
    status: u16,
    content_type: &'static str,
    body: impl Into<hyper::body::Bytes>,
) -> Response<ReplyBody> {
    let mut res = Response::new(ReplyBody::full(body));
    // A script's status that is not a final HTTP status (an informational 1xx would
    // confuse the connection) becomes a 500 rather than a panic.
    *res.status_mut() = StatusCode::from_u16(status)
        .ok()
        .filter(|s| s.as_u16() >= 200)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// A 200 JSON answer whose body trickles out over `over` after the headers.
pub(crate) fn trickled(body: String, over: Duration) -> Response<ReplyBody> {
    let mut res = Response::new(ReplyBody::trickle(body, over));
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

pub(crate) fn json(status: u16, value: &Value) -> Response<ReplyBody> {
    raw(status, "application/json", value.to_string())
}

/// The body OpenAI sends with an error.
pub(crate) fn openai_error_body(message: &str, kind: &str, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// A 400 for a request the server could not make sense of.
pub(crate) fn bad_request(message: &str) -> Response<ReplyBody> {
    json(
        400,
        &openai_error_body(message, "invalid_request_error", None),
    )
}

/// A 404 for a path or method the server does not serve.
pub(crate) fn not_found(method: &str, path: &str) -> Response<ReplyBody> {
    let message = format!("Invalid URL ({method} {path})");
    json(
        404,
        &openai_error_body(&message, "invalid_request_error", Some("unknown_url")),
    )
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

/// The response for an injected fault; `None` for [`Fault::Drop`], which sends nothing.
/// [`Fault::SlowBody`] is an answer and never reaches here; it is treated as a 500.
pub(crate) fn fault(f: &Fault) -> Option<Response<ReplyBody>> {
    match f {
        Fault::Drop => None,
        Fault::MalformedJson => Some(raw(
            200,
            "application/json",
            r#"{"id":"chatcmpl-broken","object":"chat.completion","choices":[{"index":0,"message":{"role":"assist"#,
        )),
        Fault::InsufficientQuota => Some(json(
            429,
            &openai_error_body(
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                Some("insufficient_quota"),
            ),
        )),
        Fault::Http {
            status,
            body,
            retry_after,
        } => {
            let mut res = http_error(*status, *body);
            if let Some(after) = retry_after {
                add_retry_after(&mut res, *after);
            }
            Some(res)
        }
        Fault::SlowBody(_) => Some(http_error(500, ErrorBody::OpenAi)),
    }
}

fn http_error(status: u16, shape: ErrorBody) -> Response<ReplyBody> {
    let (message, kind, code) = describe(status);
    match shape {
        ErrorBody::OpenAi => json(status, &openai_error_body(message, kind, code)),
        ErrorBody::Detail => json(status, &json!({"detail": message})),
        ErrorBody::Text => raw(status, "text/plain; charset=utf-8", message),
        ErrorBody::Html => raw(
            status,
            "text/html",
            format!("<html><head><title>{status}</title></head><body><h1>{status}</h1><p>{message}</p></body></html>"),
        ),
    }
}

/// `Retry-After` in whole seconds (the HTTP standard allows no fractions, so round up),
/// and `retry-after-ms` exactly, as OpenAI sends both.
fn add_retry_after(res: &mut Response<ReplyBody>, after: Duration) {
    let millis = after.as_millis();
    let secs = millis.div_ceil(1000);
    let headers = res.headers_mut();
    headers.insert(RETRY_AFTER, HeaderValue::from(secs as u64));
    headers.insert("retry-after-ms", HeaderValue::from(millis as u64));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up() {
        let res = fault(&Fault::rate_limit_after(Duration::from_millis(1500))).unwrap();
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()[RETRY_AFTER], "2");
        assert_eq!(res.headers()["retry-after-ms"], "1500");
        assert!(fault(&Fault::rate_limit())
            .unwrap()
            .headers()
            .get(RETRY_AFTER)
            .is_none());
    }

    #[test]
    fn odd_statuses_do_not_panic() {
        assert_eq!(fault(&Fault::status(42)).unwrap().status(), 500);
        assert_eq!(fault(&Fault::status(101)).unwrap().status(), 500);
        assert!(fault(&Fault::Drop).is_none());
    }
}
