//! The provider for OpenAI-compatible endpoints, on the async-openai client.
//!
//! [`OpenAiFactory`] builds one [`OpenAiProvider`] per teacher, reading the teacher's key
//! from the environment at that moment and nowhere else, and hands teachers on the same
//! endpoint one shared in-flight limit. The provider sends each request through
//! async-openai's "bring your own types" call (`create_byot`), so the body is exactly
//! dtac's JSON, and runs the only retry loop: async-openai's own 429 backoff (up to 15
//! minutes by default) is switched off, so every attempt is one counted HTTP request.
//!
//! Each attempt takes a place in the endpoint's limit and has the teacher's `timeout`;
//! the place is given back before any wait, so a backing-off request holds nothing.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_openai::config::OpenAIConfig;
use async_openai::Client;
use dtac_interpreter::resolve::ModelDecl;
use dtac_runtime::llm::{ChatRequest, ChatResponse, Provider, ProviderError, ProviderFactory};
use futures::future::BoxFuture;
use serde_json::Value as Json;

use super::classify::{classify, Failure};
use super::config::{self, Connection};
use super::limits::{EndpointLimits, Limit};
use super::retry::Jitter;
use super::wire;

/// Builds providers for `teacher` declarations and keeps each endpoint's shared limit.
#[derive(Debug, Default)]
pub struct OpenAiFactory {
    limits: EndpointLimits,
}

impl OpenAiFactory {
    pub fn new() -> OpenAiFactory {
        OpenAiFactory::default()
    }
}

impl ProviderFactory for OpenAiFactory {
    fn provider(&self, teacher: &ModelDecl) -> Result<Arc<dyn Provider>, String> {
        let connection = config::read(teacher)?;
        // The only place a key is read: when the provider that sends it is built.
        let key = match &connection.key_var {
            Some(var) => config::key_from(var, |name: &str| std::env::var(name))?,
            None => None,
        };
        let limit = self
            .limits
            .for_endpoint(&connection.endpoint, connection.max_concurrency);
        Ok(Arc::new(OpenAiProvider::new(&connection, key, limit)))
    }

    fn endpoint(&self, teacher: &ModelDecl) -> String {
        config::endpoint_of(teacher)
    }
}

/// Answers one teacher's chat requests at its endpoint. Its `Debug` shows whether a key
/// is set, never the key.
pub struct OpenAiProvider {
    endpoint: String,
    client: Client<OpenAIConfig>,
    /// Kept only to scrub them from error messages, in case a server echoes the key or
    /// an error quotes the URL.
    key: Option<String>,
    url_credentials: Option<String>,
    timeout: Duration,
    max_attempts: u32,
    limit: Arc<Limit>,
    jitter: Jitter,
}

impl OpenAiProvider {
    fn new(connection: &Connection, key: Option<String>, limit: Arc<Limit>) -> OpenAiProvider {
        // Always set the key, even to nothing: async-openai's default config would
        // otherwise send OPENAI_API_KEY to an endpoint the teacher never gave it to.
        let config = OpenAIConfig::new()
            .with_api_base(connection.base_url.as_str())
            .with_api_key(key.clone().unwrap_or_default());
        // A zero elapsed-time budget makes async-openai give up on its first failure,
        // so only the loop below retries, and every attempt is one request.
        let no_retries = backoff::ExponentialBackoffBuilder::new()
            .with_max_elapsed_time(Some(Duration::ZERO))
            .build();
        OpenAiProvider {
            endpoint: connection.endpoint.clone(),
            client: Client::with_config(config).with_backoff(no_retries),
            key,
            url_credentials: connection.url_credentials.clone(),
            timeout: connection.timeout,
            max_attempts: connection.max_attempts.max(1),
            limit,
            jitter: Jitter::new(),
        }
    }

    async fn answer(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let body = wire::body(request);
        let mut failed = 0u32;
        loop {
            let failure = match self.attempt(&body).await {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            failed += 1;
            match failure {
                Failure::Request(message) => {
                    return Err(ProviderError::Request(self.scrub(message)))
                }
                Failure::Endpoint(message) => {
                    return Err(ProviderError::Endpoint(self.scrub(message)))
                }
                Failure::Retry { message, after } => {
                    if failed >= self.max_attempts {
                        let attempts = if failed == 1 { "attempt" } else { "attempts" };
                        return Err(ProviderError::Request(
                            self.scrub(format!("gave up after {failed} {attempts}: {message}")),
                        ));
                    }
                    tokio::time::sleep(self.jitter.delay(failed, after)).await;
                }
            }
        }
    }

    /// One HTTP request, holding a place in the endpoint's limit until it ends.
    async fn attempt(&self, body: &Json) -> Result<ChatResponse, Failure> {
        let _slot = self.limit.acquire().await;
        let chat = self.client.chat();
        let call = chat.create_byot::<&Json, Json>(body);
        match tokio::time::timeout(self.timeout, call).await {
            Err(_) => Err(Failure::retry(format!(
                "no complete answer within the timeout of {}",
                show(self.timeout)
            ))),
            Ok(Err(error)) => Err(classify(&error)),
            Ok(Ok(answer)) => wire::response(&answer).map_err(Failure::retry),
        }
    }

    /// The message without the key or the URL's credentials. Servers do not normally echo
    /// keys, but an error page from a proxy might, and messages end up in logs and reports.
    fn scrub(&self, mut message: String) -> String {
        if let Some(credentials) = &self.url_credentials {
            message = message.replace(&format!("{credentials}@"), "");
        }
        match &self.key {
            // Shorter "keys" (placeholders like "x") would garble the message instead.
            Some(key) if key.len() >= 4 => message.replace(key.as_str(), "[the key]"),
            _ => message,
        }
    }
}

impl Provider for OpenAiProvider {
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
        Box::pin(self.answer(request))
    }
}

impl fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.key.is_some() { "set" } else { "none" };
        f.debug_struct("OpenAiProvider")
            .field("endpoint", &self.endpoint)
            .field("key", &key)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("max_concurrency", &self.limit.max())
            .finish_non_exhaustive()
    }
}

/// A duration as a recipe writes it: `10m`, `30s`, `1500ms`.
fn show(d: Duration) -> String {
    let ms = d.as_millis();
    if ms >= 60_000 && ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use dtac_interpreter::resolve::Value;

    use super::super::config::tests::teacher;
    use super::*;

    const KEY: &str = "sk-test-0123456789abcdef";

    fn provider(key: Option<&str>) -> OpenAiProvider {
        let t = teacher(&[("endpoint", Value::Str("http://127.0.0.1:9/v1/".into()))]);
        let connection = config::read(&t).expect("valid teacher");
        let limit = EndpointLimits::default().for_endpoint(&connection.endpoint, 2);
        OpenAiProvider::new(&connection, key.map(String::from), limit)
    }

    #[test]
    fn debug_never_shows_the_key() {
        let p = provider(Some(KEY));
        for text in [format!("{p:?}"), format!("{p:#?}")] {
            assert!(!text.contains(KEY) && !text.contains("sk-test"), "{text}");
            assert!(text.contains("key: \"set\"") || text.contains("key: \"set\","));
            assert!(text.contains("http://127.0.0.1:9/v1"), "{text}");
        }
        assert!(format!("{:?}", provider(None)).contains("\"none\""));
    }

    #[test]
    fn messages_are_scrubbed_of_the_key() {
        let p = provider(Some(KEY));
        let echoed = format!("<p>bad header Authorization: Bearer {KEY}</p>");
        let scrubbed = p.scrub(echoed);
        assert!(!scrubbed.contains(KEY), "{scrubbed}");
        assert!(scrubbed.contains("[the key]"));
    }

    #[test]
    fn teachers_on_one_endpoint_share_a_limit() {
        let factory = OpenAiFactory::new();
        let on = |url: &str, n: i64| {
            teacher(&[
                ("endpoint", Value::Str(url.into())),
                ("max_concurrency", Value::Int(n)),
            ])
        };
        let a = factory.provider(&on("http://h:1/v1", 8)).expect("a");
        let b = factory.provider(&on("http://h:1/v1/", 3)).expect("b");
        let c = factory.provider(&on("http://other:1/v1", 5)).expect("c");
        assert!(format!("{a:?}").contains("max_concurrency: 3"), "{a:?}");
        assert!(format!("{b:?}").contains("max_concurrency: 3"), "{b:?}");
        assert!(format!("{c:?}").contains("max_concurrency: 5"), "{c:?}");
        assert_eq!(factory.endpoint(&on("http://h:1/v1/", 3)), "http://h:1/v1");
    }

    #[test]
    fn unavailable_modes_build_no_provider() {
        let factory = OpenAiFactory::new();
        let t = teacher(&[("mode", Value::Str("batch".into()))]);
        let err = factory.provider(&t).unwrap_err();
        assert!(err.contains("batch"), "{err}");
    }

    #[test]
    fn durations_read_like_recipes() {
        assert_eq!(show(Duration::from_secs(600)), "10m");
        assert_eq!(show(Duration::from_secs(30)), "30s");
        assert_eq!(show(Duration::from_millis(1500)), "1500ms");
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_gives_up_after_its_attempts() {
        // Port 9 (discard) on localhost refuses connections at once: no network needed.
        // The URL's credentials must not reach the message.
        let t = teacher(&[
            (
                "endpoint",
                Value::Str("http://me:pw-in-url@127.0.0.1:9/v1".into()),
            ),
            ("max_attempts", Value::Int(2)),
            ("timeout", Value::Duration(Duration::from_secs(5))),
        ]);
        let provider = OpenAiFactory::new().provider(&t).expect("provider");
        let request = ChatRequest::new(
            "http://127.0.0.1:9/v1",
            "m",
            vec![dtac_runtime::llm::Message::user("hi")],
        );
        match provider.chat(&request).await {
            Err(ProviderError::Request(m)) => {
                assert!(m.starts_with("gave up after 2 attempts: "), "{m}");
                assert!(m.contains("connect"), "{m}");
                assert!(!m.contains("pw-in-url"), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }
}
