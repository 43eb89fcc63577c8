//! One HTTP exchange with an endpoint, on reqwest (the client under async-openai).
//!
//! Online attempts go through here rather than through async-openai's client because a
//! retry policy needs what that client hides on failure: the status code and the
//! `Retry-After` / `retry-after-ms` headers. The whole exchange, body included, has the
//! teacher's timeout, so a body that trickles in forever counts as a timeout.

use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE};

/// A complete response of any status.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub status: u16,
    /// The server's retry hint, from `retry-after-ms` (exact) or `Retry-After` (seconds).
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

/// Why no complete response arrived.
#[derive(Debug)]
pub(crate) enum Broken {
    Timeout,
    /// Could not connect (refused, unresolvable).
    Connect(String),
    /// The connection broke mid-way (reset, closed without a response, cut body).
    Connection(String),
    /// The request itself could not be made (a malformed URL).
    Build(String),
}

/// A connection pool shared by every provider of a run.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    client: reqwest::Client,
}

impl Transport {
    pub(crate) fn new() -> Transport {
        // Building only fails when the TLS backend cannot start; then requests fail with
        // a clear message at the first attempt instead.
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .build()
            .unwrap_or_default();
        Transport { client }
    }

    /// POSTs a JSON `body` to `url`, with the key as a bearer token when there is one.
    pub(crate) async fn post_json(
        &self,
        url: &str,
        key: Option<&str>,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Exchange, Broken> {
        let mut request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        // No key, no header: an empty `Bearer ` confuses some gateways.
        if let Some(key) = key {
            request = request.header(AUTHORIZATION, format!("Bearer {key}"));
        }
        let exchange = async {
            let response = request.send().await.map_err(broken)?;
            let status = response.status().as_u16();
            let retry_after = retry_hint(response.headers());
            let body = response.bytes().await.map_err(broken)?.to_vec();
            Ok(Exchange {
                status,
                retry_after,
                body,
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Broken::Timeout),
        }
    }
}

fn broken(e: reqwest::Error) -> Broken {
    let detail = chain(&e);
    if e.is_builder() {
        Broken::Build(detail)
    } else if e.is_timeout() {
        Broken::Timeout
    } else if e.is_connect() {
        Broken::Connect(detail)
    } else {
        Broken::Connection(detail)
    }
}

/// `retry-after-ms` (OpenAI and Azure send it, in milliseconds, possibly fractional), else
/// `Retry-After` in whole seconds. An HTTP-date `Retry-After` is rare from model servers
/// and is left to the message's hint and the backoff.
pub(crate) fn retry_hint(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Duration::try_from_secs_f64(ms / 1000.0).ok();
        }
    }
    let secs = text("retry-after").and_then(|v| v.parse::<f64>().ok())?;
    (secs.is_finite() && secs >= 0.0)
        .then(|| Duration::try_from_secs_f64(secs).ok())
        .flatten()
}

/// An error with its sources, which say what actually happened ("connection refused").
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
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
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn retry_hints_prefer_milliseconds() {
        let ms = Duration::from_millis;
        assert_eq!(
            retry_hint(&headers(&[("retry-after", "2")])),
            Some(ms(2000))
        );
        assert_eq!(
            retry_hint(&headers(&[
                ("retry-after", "2"),
                ("retry-after-ms", "1500.5")
            ])),
            Some(Duration::from_micros(1_500_500))
        );
        assert_eq!(
            retry_hint(&headers(&[("retry-after", "0.25")])),
            Some(ms(250))
        );
        assert_eq!(retry_hint(&headers(&[])), None);
        assert_eq!(
            retry_hint(&headers(&[(
                "retry-after",
                "Wed, 21 Oct 2015 07:28:00 GMT"
            )])),
            None
        );
        assert_eq!(retry_hint(&headers(&[("retry-after", "-3")])), None);
    }
}
