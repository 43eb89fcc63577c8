//! What a failed attempt means: worth another try, the request's own fault (the record
//! fails), or the endpoint's (the run stops).
//!
//! Online attempts are classified by their HTTP status first ([`classify_status`]), then by
//! the error body, whatever its shape: OpenAI's `{"error": {type, code, message}}`,
//! vLLM's `{"object": "error", type, code: 429, message}`, FastAPI's `{"detail": …}`, text
//! or a proxy's HTML page. The body can overrule the status where providers are known to
//! bend it (OpenAI answers an exhausted quota with a 429 that must not be retried).
//!
//! Batch API calls go through async-openai's client, which reports neither the status
//! nor the headers of a failed response, so [`classify`] reads the class from what it
//! does report (with its own retries off):
//! - a 5xx arrives as an error object whose `type`, `code` and `param` are all empty and
//!   whose message is the raw body (async-openai never parses 5xx bodies);
//! - any other error status with an OpenAI error body arrives as that object, and its
//!   `type` and `code` tell a rate limit from a refused key or a bad request;
//! - any other error status with another body arrives as a JSON error: a *data* error
//!   means a JSON body of another shape, so a refusal; a *syntax* or *end-of-input* error
//!   may be a cut-off answer as well as a text error page, so it is retried;
//! - transport failures arrive as reqwest errors: all retried, except a request that
//!   could not even be built (a malformed endpoint URL).

use std::time::Duration;

use async_openai::error::{ApiError, OpenAIError};
use serde_json::Value as Json;

use super::retry::hint_in_message;
use super::transport::{chain, Broken, Exchange};

/// A failed attempt, classified.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Failure {
    /// Another attempt may succeed; `after` is the server's hint, when it gave one.
    /// `pressure` marks a refusal that says the endpoint is overloaded or rate limited
    /// (429, 503): the whole endpoint slows down, not only this request.
    Retry {
        message: String,
        after: Option<Duration>,
        pressure: bool,
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
            pressure: false,
        }
    }

    /// A refusal that asks the whole endpoint to slow down.
    pub(crate) fn pressure(message: impl Into<String>, after: Option<Duration>) -> Failure {
        Failure::Retry {
            message: message.into(),
            after,
            pressure: true,
        }
    }
}

/// Error bodies are quoted up to this many characters: enough to read, not a page of HTML.
const QUOTED: usize = 300;

/// A complete response with an error status (anything but 2xx).
pub(crate) fn classify_status(exchange: &Exchange) -> Failure {
    let text = String::from_utf8_lossy(&exchange.body);
    let message = summary(&text);
    let status = exchange.status;
    let labels = body_labels(&text);
    let is = |set: &[&str]| labels.iter().any(|l| set.contains(&l.as_str()));
    let hint = exchange.retry_after.or_else(|| hint_in_message(&text));
    // Codes that outrank the status: no retry can buy quota or fix a key.
    if is(&["insufficient_quota"]) {
        return Failure::Endpoint(format!(
            "the account behind the key has no quota left ({status}): {message}"
        ));
    }
    match status {
        429 => Failure::pressure(
            format!("the endpoint is limiting requests (429): {message}"),
            hint,
        ),
        503 | 529 => Failure::pressure(
            format!("the endpoint is overloaded ({status}): {message}"),
            hint,
        ),
        500..=599 => Failure::Retry {
            message: format!("the endpoint failed ({status}): {message}"),
            after: exchange.retry_after,
            pressure: false,
        },
        // Request timeout, conflict, too early: transient by definition.
        408 | 409 | 425 => Failure::Retry {
            message: format!("the endpoint asked to try again ({status}): {message}"),
            after: exchange.retry_after,
            pressure: false,
        },
        401 => Failure::Endpoint(format!("the endpoint refused the key (401): {message}")),
        403 => Failure::Endpoint(format!("the endpoint refused access (403): {message}")),
        _ if is(REFUSED) => Failure::Endpoint(format!(
            "the endpoint refused the key ({status}): {message}"
        )),
        // Every request goes to the same path with the same model: a 404 will not pass
        // on the next record either.
        404 => Failure::Endpoint(format!(
            "the endpoint has no such model or path (404): {message}"
        )),
        _ if is(RATE_LIMITED) => Failure::pressure(
            format!("the endpoint is limiting requests ({status}): {message}"),
            hint,
        ),
        _ => Failure::Request(format!(
            "the endpoint refused the request ({status}): {message}"
        )),
    }
}

/// The `type` and `code` an error body carries, lower-cased, whatever its shape.
fn body_labels(text: &str) -> Vec<String> {
    let Ok(json) = serde_json::from_str::<Json>(text) else {
        return Vec::new();
    };
    let object = json.get("error").filter(|e| e.is_object()).unwrap_or(&json);
    ["type", "code"]
        .iter()
        .filter_map(|k| match object.get(*k)? {
            Json::String(s) => Some(s.to_ascii_lowercase()),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

/// A request that got no complete response.
pub(crate) fn classify_broken(broken: &Broken, timeout: Duration) -> Failure {
    match broken {
        Broken::Timeout => Failure::retry(format!(
            "no complete answer within the timeout of {}",
            show(timeout)
        )),
        Broken::Connect(detail) => {
            Failure::retry(format!("could not connect to the endpoint ({detail})"))
        }
        Broken::Connection(detail) => Failure::retry(format!("the connection failed ({detail})")),
        Broken::Build(detail) => Failure::Endpoint(format!(
            "the request could not be built; is the endpoint a valid URL? ({detail})"
        )),
    }
}

/// A duration as a recipe writes it: `10m`, `30s`, `1500ms`.
pub(crate) fn show(d: Duration) -> String {
    let ms = d.as_millis();
    if ms >= 60_000 && ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// A failed call of async-openai's client (the Batch API's files and batches).
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
        Failure::pressure(
            format!("the endpoint is limiting requests ({label}): {message}"),
            hint_in_message(&api.message),
        )
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
            Failure::Retry { message, after, .. } => {
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

    fn exchange(status: u16, body: &str, after: Option<Duration>) -> Exchange {
        Exchange {
            status,
            retry_after: after,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn statuses_decide_first() {
        let secs = Duration::from_secs;
        let openai = r#"{"error":{"message":"Rate limit reached. Please try again in 2s.","type":"requests","code":"rate_limit_exceeded"}}"#;
        // The header wins over the message's hint.
        assert_eq!(
            classify_status(&exchange(429, openai, Some(secs(3)))),
            Failure::pressure("the endpoint is limiting requests (429): Rate limit reached. Please try again in 2s.", Some(secs(3)))
        );
        match classify_status(&exchange(429, openai, None)) {
            Failure::Retry {
                after, pressure, ..
            } => {
                assert_eq!(after, Some(secs(2)));
                assert!(pressure);
            }
            other => panic!("{other:?}"),
        }
        // vLLM's own shape, and a text body, are still rate limits.
        let vllm = r#"{"object":"error","message":"Too many requests","type":"TooManyRequests","param":null,"code":429}"#;
        assert!(matches!(
            classify_status(&exchange(429, vllm, None)),
            Failure::Retry { pressure: true, .. }
        ));
        assert!(matches!(
            classify_status(&exchange(429, "slow down", None)),
            Failure::Retry { pressure: true, .. }
        ));
        assert!(matches!(
            classify_status(&exchange(503, "<h1>busy</h1>", Some(secs(1)))),
            Failure::Retry {
                pressure: true,
                after: Some(_),
                ..
            }
        ));
        assert!(matches!(
            classify_status(&exchange(500, "{}", None)),
            Failure::Retry {
                pressure: false,
                ..
            }
        ));
        assert!(matches!(
            classify_status(&exchange(502, "<html>bad gateway</html>", None)),
            Failure::Retry { .. }
        ));
        assert!(matches!(
            classify_status(&exchange(408, "", None)),
            Failure::Retry { .. }
        ));
    }

    #[test]
    fn refusals_that_no_retry_fixes() {
        let quota = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        let f = classify_status(&exchange(429, quota, Some(Duration::from_secs(1))));
        assert!(
            matches!(&f, Failure::Endpoint(m) if m.contains("no quota left")),
            "{f:?}"
        );
        let vllm_auth = r#"{"error":"Unauthorized"}"#;
        assert!(
            matches!(classify_status(&exchange(401, vllm_auth, None)), Failure::Endpoint(m) if m.contains("refused the key (401): Unauthorized"))
        );
        assert!(matches!(
            classify_status(&exchange(403, "no", None)),
            Failure::Endpoint(_)
        ));
        assert!(
            matches!(classify_status(&exchange(404, r#"{"detail":"Not Found"}"#, None)), Failure::Endpoint(m) if m.contains("Not Found"))
        );
        let context = r#"{"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400}"#;
        let f = classify_status(&exchange(400, context, None));
        assert!(
            matches!(&f, Failure::Request(m) if m.contains("maximum context length")),
            "{f:?}"
        );
        assert!(matches!(
            classify_status(&exchange(
                422,
                r#"{"detail":[{"msg":"field required"}]}"#,
                None
            )),
            Failure::Request(_)
        ));
    }

    #[test]
    fn broken_exchanges() {
        let t = Duration::from_secs(30);
        assert!(
            matches!(classify_broken(&Broken::Timeout, t), Failure::Retry { message, .. } if message.contains("30s"))
        );
        assert!(matches!(
            classify_broken(&Broken::Connect("refused".into()), t),
            Failure::Retry { .. }
        ));
        assert!(matches!(
            classify_broken(&Broken::Connection("reset".into()), t),
            Failure::Retry { .. }
        ));
        assert!(matches!(
            classify_broken(&Broken::Build("bad url".into()), t),
            Failure::Endpoint(_)
        ));
    }

    #[test]
    fn durations_read_like_recipes() {
        assert_eq!(show(Duration::from_secs(600)), "10m");
        assert_eq!(show(Duration::from_secs(30)), "30s");
        assert_eq!(show(Duration::from_millis(1500)), "1500ms");
    }
}
