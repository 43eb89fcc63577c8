//! What a failed attempt means: worth another try, the request's own fault (the record
//! fails), or the endpoint's (the run stops).
//!
//! async-openai 0.28 reports neither the HTTP status nor the headers of a failed
//! response, so the class is read from what it does report (with its own retries off):
//! - a 5xx arrives as an error object whose `type`, `code` and `param` are all empty and
//!   whose message is the raw body (async-openai never parses 5xx bodies);
//! - any other error status with an OpenAI error body arrives as that object, and its
//!   `type` and `code` tell a rate limit from a refused key or a bad request;
//! - any other error status with another body (vLLM's `{"detail": …}`, an integer
//!   `code`, text or HTML from a proxy) arrives as a JSON error: a *data* error means a
//!   JSON body of another shape, which a successful answer cannot produce (dtac reads
//!   answers as plain JSON values), so a refusal; a *syntax* or *end-of-input* error may
//!   be a cut-off answer as well as a text error page, so it is retried;
//! - transport failures arrive as reqwest errors: all retried, except a request that
//!   could not even be built (a malformed endpoint URL).

use std::time::Duration;

use async_openai::error::{ApiError, OpenAIError};
use serde_json::Value as Json;

use super::retry::hint_in_message;

/// A failed attempt, classified.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Failure {
    /// Another attempt may succeed; `after` is the server's hint, when it gave one.
    Retry {
        message: String,
        after: Option<Duration>,
    },
    /// This request cannot succeed: the record fails.
    Request(String),
    /// No request to this endpoint can succeed: the run stops.
    Endpoint(String),
}

impl Failure {
    pub(crate) fn retry(message: impl Into<String>) -> Failure {
        Failure::Retry {
            message: message.into(),
            after: None,
        }
    }
}

/// Error bodies are quoted up to this many characters: enough to read, not a page of HTML.
const QUOTED: usize = 300;

pub(crate) fn classify(error: &OpenAIError) -> Failure {
    match error {
        OpenAIError::ApiError(api) => api_error(api),
        OpenAIError::JSONDeserialize(e) => match e.classify() {
            serde_json::error::Category::Data => Failure::Request(format!(
                "the endpoint refused the request with an error body that is not an OpenAI \
                 error object ({e})"
            )),
            _ => Failure::retry(format!("the endpoint's answer is not valid JSON ({e})")),
        },
        OpenAIError::Reqwest(e) => {
            let detail = chain(e);
            if e.is_builder() {
                Failure::Endpoint(format!(
                    "the request could not be built; is the endpoint a valid URL? ({detail})"
                ))
            } else if e.is_timeout() {
                Failure::retry(format!("the request timed out ({detail})"))
            } else if e.is_connect() {
                Failure::retry(format!("could not connect to the endpoint ({detail})"))
            } else {
                Failure::retry(format!("the connection failed ({detail})"))
            }
        }
        other => Failure::Request(format!("the request could not be sent: {other}")),
    }
}

/// Error `type`s and `code`s, lower-cased, that mean the key or account is refused.
const REFUSED: &[&str] = &[
    "invalid_api_key",
    "invalid_authentication",
    "authentication_error",
    "unauthorized",
    "401",
    "account_deactivated",
];
const FORBIDDEN: &[&str] = &[
    "permission_error",
    "permission_denied",
    "forbidden",
    "403",
    "unsupported_country_region_territory",
];
const RATE_LIMITED: &[&str] = &[
    "rate_limit_exceeded",
    "rate_limit_error",
    "rate_limited",
    "requests",
    "tokens",
    "429",
];
const SERVER_SIDE: &[&str] = &[
    "server_error",
    "internal_error",
    "internal_server_error",
    "api_error",
    "overloaded_error",
    "service_unavailable",
    "500",
    "502",
    "503",
    "504",
];

fn api_error(api: &ApiError) -> Failure {
    let kind = api.r#type.as_deref().map(str::to_ascii_lowercase);
    let code = api.code.as_deref().map(str::to_ascii_lowercase);
    if kind.is_none() && code.is_none() && api.param.is_none() {
        // The 5xx shape: the message is the raw body.
        return Failure::retry(format!(
            "the endpoint failed with a server error: {}",
            summary(&api.message)
        ));
    }
    let is = |set: &[&str]| {
        [&kind, &code]
            .into_iter()
            .flatten()
            .any(|v| set.contains(&v.as_str()))
    };
    // The label says which of the object's fields decided, since the status is unknown.
    let label = code.clone().or(kind.clone()).unwrap_or_default();
    let message = summary(&api.message);
    if is(&["insufficient_quota"]) {
        Failure::Endpoint(format!(
            "the account behind the key has no quota left ({label}): {message}"
        ))
    } else if is(REFUSED) {
        Failure::Endpoint(format!("the endpoint refused the key ({label}): {message}"))
    } else if is(FORBIDDEN) {
        Failure::Endpoint(format!("the endpoint refused access ({label}): {message}"))
    } else if is(RATE_LIMITED) {
        Failure::Retry {
            after: hint_in_message(&api.message),
            message: format!("the endpoint is limiting requests ({label}): {message}"),
        }
    } else if is(SERVER_SIDE) {
        Failure::retry(format!("the endpoint failed ({label}): {message}"))
    } else {
        Failure::Request(format!(
            "the endpoint refused the request ({label}): {message}"
        ))
    }
}

/// A readable line from an error body: the message inside a JSON body when there is one,
/// else the text with its whitespace collapsed; cut at [`QUOTED`] characters.
pub(crate) fn summary(body: &str) -> String {
    let inner = serde_json::from_str::<Json>(body).ok().and_then(|json| {
        let found = [
            json.pointer("/error/message"),
            json.get("error"),
            json.get("detail"),
            json.get("message"),
        ]
        .into_iter()
        .flatten()
        .next()?;
        Some(match found {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        })
    });
    let text = inner.unwrap_or_else(|| without_tags(body));
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return "(no message)".into();
    }
    let line = words.join(" ");
    match line.char_indices().nth(QUOTED) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// The text of an HTML error page (a proxy's 502), without its markup; other text as it is.
fn without_tags(body: &str) -> String {
    if !body.trim_start().starts_with('<') {
        return body.to_string();
    }
    let mut text = String::with_capacity(body.len());
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            // A space where a tag was, so `<h1>502</h1><p>Bad` reads `502 Bad`.
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// An error with its sources, which say what actually happened ("connection refused").
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn api(kind: Option<&str>, code: Option<&str>, message: &str) -> OpenAIError {
        OpenAIError::ApiError(ApiError {
            message: message.into(),
            r#type: kind.map(Into::into),
            param: None,
            code: code.map(Into::into),
        })
    }

    fn json_error(text: &str) -> OpenAIError {
        match serde_json::from_str::<Json>(text) {
            Err(e) => OpenAIError::JSONDeserialize(e),
            Ok(_) => panic!("{text} parses"),
        }
    }

    #[test]
    fn server_errors_are_retried() {
        let body = r#"{"error":{"message":"The server had an error","type":"server_error"}}"#;
        let f = classify(&api(None, None, body));
        assert_eq!(
            f,
            Failure::retry("the endpoint failed with a server error: The server had an error")
        );
        assert!(matches!(
            classify(&api(Some("server_error"), None, "x")),
            Failure::Retry { .. }
        ));
    }

    #[test]
    fn rate_limits_are_retried_with_their_hint() {
        let f = classify(&api(
            Some("requests"),
            Some("rate_limit_exceeded"),
            "Rate limit reached. Please try again in 1.5s.",
        ));
        match f {
            Failure::Retry { message, after } => {
                assert_eq!(after, Some(Duration::from_millis(1500)));
                assert!(message.contains("rate_limit_exceeded"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn quota_and_keys_stop_the_run() {
        let quota = classify(&api(
            Some("insufficient_quota"),
            Some("insufficient_quota"),
            "You exceeded your current quota",
        ));
        assert!(
            matches!(&quota, Failure::Endpoint(m) if m.contains("no quota left")),
            "{quota:?}"
        );
        let key = classify(&api(
            Some("invalid_request_error"),
            Some("invalid_api_key"),
            "Incorrect API key provided: sk-abc***xyz.",
        ));
        assert!(
            matches!(&key, Failure::Endpoint(m) if m.starts_with("the endpoint refused the key (invalid_api_key)")),
            "{key:?}"
        );
        let forbidden = classify(&api(Some("permission_error"), None, "Forbidden"));
        assert!(matches!(forbidden, Failure::Endpoint(_)));
    }

    #[test]
    fn bad_requests_fail_the_record() {
        let f = classify(&api(
            Some("invalid_request_error"),
            Some("context_length_exceeded"),
            "This model's maximum context length is 8192 tokens.",
        ));
        assert!(matches!(f, Failure::Request(_)), "{f:?}");
        let not_found = classify(&api(Some("invalid_request_error"), None, "Not found"));
        assert!(matches!(not_found, Failure::Request(_)));
    }

    #[test]
    fn bodies_of_other_shapes() {
        // A JSON body of another shape (`{"detail": …}`) fails as a *data* error.
        let data = match serde_json::from_str::<BTreeMap<String, u32>>(r#"{"detail":"bad"}"#) {
            Err(e) => OpenAIError::JSONDeserialize(e),
            Ok(_) => panic!("parses"),
        };
        assert!(matches!(classify(&data), Failure::Request(_)));
        // Cut-off JSON and text pages may be broken answers: retried.
        assert!(matches!(
            classify(&json_error(r#"{"choices":[{"#)),
            Failure::Retry { .. }
        ));
        assert!(matches!(
            classify(&json_error("<html>502</html>")),
            Failure::Retry { .. }
        ));
    }

    #[test]
    fn summaries_are_short_and_readable() {
        assert_eq!(summary(r#"{"detail":"Not Found"}"#), "Not Found");
        assert_eq!(summary(r#"{"error":"Unauthorized"}"#), "Unauthorized");
        assert_eq!(summary("  bad\n\n gateway "), "bad gateway");
        assert_eq!(
            summary("<html><head><title>502</title></head><body><h1>502</h1><p>Bad gateway</p></body></html>"),
            "502 502 Bad gateway"
        );
        assert_eq!(summary("a < b > c"), "a < b > c");
        assert_eq!(summary(""), "(no message)");
        let long = "é".repeat(1000);
        let cut = summary(&long);
        assert_eq!(cut.chars().count(), QUOTED + 1);
    }
}
