//! Turning bodies, errors and injected faults into HTTP responses.
//!
//! OpenAI-shaped errors carry the `type` and `code` that real clients branch on: a 429
//! with code `rate_limit_exceeded` is retried, one with `insufficient_quota` is not.

use std::time::Duration;

use hyper::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Response, StatusCode};
use serde_json::Value;

use crate::body::ReplyBody;
use crate::error_body::{self, Payload};
use crate::faults::{ErrorBody, Fault};

/// A response with a content type and a body sent at once.
pub(crate) fn raw(
    status: u16,
    content_type: &'static str,
    body: impl Into<hyper::body::Bytes>,
) -> Response<ReplyBody> {
    let mut res = Response::new(ReplyBody::full(body));
    *res.status_mut() = StatusCode::from_u16(error_body::effective_status(status))
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

/// A 400 for a request the server could not make sense of.
pub(crate) fn bad_request(message: &str) -> Response<ReplyBody> {
    invalid(400, message, None)
}

/// An `invalid_request_error` with this status, naming the offending parameter if any.
pub(crate) fn invalid(status: u16, message: &str, param: Option<&str>) -> Response<ReplyBody> {
    json(
        status,
        &error_body::openai(message, "invalid_request_error", param, None),
    )
}

/// A 404 for a path or method the server does not serve.
pub(crate) fn not_found(method: &str, path: &str) -> Response<ReplyBody> {
    let message = format!("Invalid URL ({method} {path})");
    json(
        404,
        &error_body::openai(&message, "invalid_request_error", None, Some("unknown_url")),
    )
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
        Fault::InsufficientQuota => Some(json(429, &insufficient_quota())),
        Fault::Http {
            status,
            body,
            retry_after,
        } => {
            let mut res = match error_body::payload(*status, *body) {
                Payload::Json(v) => json(*status, &v),
                Payload::Text { content_type, text } => raw(*status, content_type, text),
            };
            if let Some(after) = retry_after {
                add_retry_after(&mut res, *after);
            }
            Some(res)
        }
        Fault::SlowBody(_) => Some(json(500, &server_error())),
    }
}

/// The body of [`Fault::InsufficientQuota`].
pub(crate) fn insufficient_quota() -> Value {
    error_body::openai(
        "You exceeded your current quota, please check your plan and billing details.",
        "insufficient_quota",
        None,
        Some("insufficient_quota"),
    )
}

/// The body of a plain 500.
pub(crate) fn server_error() -> Value {
    error_body::payload(500, ErrorBody::OpenAi).into_json()
}

/// `Retry-After` in whole seconds (the HTTP standard allows no fractions, so round up),
/// and `retry-after-ms` exactly, as OpenAI sends both.
fn add_retry_after(res: &mut Response<ReplyBody>, after: Duration) {
    let millis = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
    let secs = millis.div_ceil(1000);
    let headers = res.headers_mut();
    headers.insert(RETRY_AFTER, HeaderValue::from(secs));
    headers.insert("retry-after-ms", HeaderValue::from(millis));
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

    #[test]
    fn retry_after_with_every_body_shape() {
        for shape in [
            ErrorBody::OpenAi,
            ErrorBody::Vllm,
            ErrorBody::Detail,
            ErrorBody::Text,
        ] {
            let f = Fault::status(503)
                .body(shape)
                .retry_after(Duration::from_millis(250));
            let res = fault(&f).unwrap();
            assert_eq!(res.headers()[RETRY_AFTER], "1", "{shape:?}");
            assert_eq!(res.headers()["retry-after-ms"], "250", "{shape:?}");
        }
    }
}
