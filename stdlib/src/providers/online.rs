//! The online provider: one HTTP request per attempt to an OpenAI-compatible endpoint,
//! for chat answers (`/chat/completions`) and prompt scoring (`/completions` with `echo`).
//!
//! Each attempt is admitted by the endpoint shared with every other teacher on it (window,
//! `rpm`, `tpm`, pause), has the teacher's `timeout`, and gives its place back before any
//! wait, so a backing-off request holds nothing. This loop is the only retry loop, and
//! every attempt is one request the server sees.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use dtac_runtime::llm::{
    Caller, ChatRequest, ChatResponse, Provider, ProviderError, ScoreRequest, ScoreResponse,
};
use dtac_runtime::stop::Stop;
use futures::future::BoxFuture;
use serde_json::Value as Json;

use super::classify::{classify_broken, classify_status, Failure};
use super::config::Connection;
use super::endpoint::Endpoint;
use super::retry::Jitter;
use super::transport::Transport;
use super::{score, wire};

/// Answers one teacher's requests at its endpoint. Its `Debug` shows whether a key is
/// set, never the key.
pub struct OnlineProvider {
    endpoint_id: String,
    /// Base URL as written, credentials included (reqwest sends them as basic auth).
    base_url: String,
    /// Kept only to scrub them from error messages, in case a server echoes the key or
    /// an error quotes the URL.
    key: Option<String>,
    url_credentials: Option<String>,
    timeout: Duration,
    max_attempts: u32,
    endpoint: Arc<Endpoint>,
    transport: Transport,
    jitter: Jitter,
    stop: Stop,
}

impl OnlineProvider {
    pub(crate) fn new(
        connection: &Connection,
        key: Option<String>,
        endpoint: Arc<Endpoint>,
        transport: Transport,
        stop: Stop,
    ) -> OnlineProvider {
        OnlineProvider {
            endpoint_id: connection.endpoint.clone(),
            base_url: connection.base_url.clone(),
            key,
            url_credentials: connection.url_credentials.clone(),
            timeout: connection.timeout,
            max_attempts: connection.max_attempts.max(1),
            endpoint,
            transport,
            jitter: Jitter::new(),
            stop,
        }
    }

    async fn chat_answer(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let body = serde_json::to_vec(&wire::body(request)).unwrap_or_default();
        let tokens =
            request.estimated_prompt_tokens() + request.max_tokens.unwrap_or(0).max(0) as u64;
        self.send("chat/completions", body, tokens, |json| {
            let answer = wire::response(json)?;
            let used = answer.usage.prompt_tokens + answer.usage.completion_tokens;
            Ok((answer, used))
        })
        .await
    }

    async fn score_answer(&self, request: &ScoreRequest) -> Result<ScoreResponse, ProviderError> {
        let body = serde_json::to_vec(&score::body(request)).unwrap_or_default();
        let tokens = ((request.context.len() + request.target.len()) as u64).div_ceil(4);
        let answer = self
            .send("completions", body, tokens, |json| {
                Ok((json.clone(), wire::usage(json).prompt_tokens))
            })
            .await?;
        // A well-formed answer without the scores is the server's limit, not a glitch:
        // retrying would not help.
        score::response(request, &answer).map_err(|m| ProviderError::Request(self.scrub(m)))
    }

    /// Sends `body` to `path` under the base URL until an answer parses, a failure is
    /// final, or the attempts run out.
    /// `parse` reads an answer and the tokens it used.
    async fn send<T>(
        &self,
        path: &str,
        body: Vec<u8>,
        tokens: u64,
        parse: impl Fn(&Json) -> Result<(T, u64), String>,
    ) -> Result<T, ProviderError> {
        let url = format!("{}/{path}", self.base_url);
        let mut failed = 0u32;
        loop {
            if self.stop.is_stopping() {
                return Err(ProviderError::Stopped);
            }
            let failure = match self.attempt(&url, &body, tokens, &parse).await {
                Ok(answer) => return Ok(answer),
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
                Failure::Retry { message, after, .. } => {
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

    /// One HTTP request, holding a place at the endpoint until it ends.
    async fn attempt<T>(
        &self,
        url: &str,
        body: &[u8],
        tokens: u64,
        parse: &impl Fn(&Json) -> Result<(T, u64), String>,
    ) -> Result<T, Failure> {
        let Some(admission) = self.endpoint.admit(tokens).await else {
            return Err(Failure::Endpoint(
                "the endpoint's limiter was closed".into(),
            ));
        };
        if self.stop.is_stopping() {
            return Err(Failure::Endpoint("stopped".into()));
        }
        let sent = self
            .transport
            .post_json(url, self.key.as_deref(), body.to_vec(), self.timeout)
            .await;
        let exchange = match sent {
            Ok(exchange) => exchange,
            Err(broken) => return Err(classify_broken(&broken, self.timeout)),
        };
        if !(200..300).contains(&exchange.status) {
            let failure = classify_status(&exchange);
            if let Failure::Retry {
                pressure: true,
                after,
                ..
            } = &failure
            {
                self.endpoint.pushed_back(&admission, *after);
            }
            return Err(failure);
        }
        let (answer, used) = serde_json::from_slice::<Json>(&exchange.body)
            .map_err(|e| Failure::retry(format!("the endpoint's answer is not valid JSON ({e})")))
            .and_then(|json| parse(&json).map_err(Failure::retry))?;
        self.endpoint.used(&admission, used);
        self.endpoint.succeeded();
        Ok(answer)
    }

    /// The message without the key or the URL's credentials. Servers do not normally echo
    /// keys, but an error page from a proxy might, and messages end up in logs and reports.
    fn scrub(&self, message: String) -> String {
        scrub(
            message,
            self.key.as_deref(),
            self.url_credentials.as_deref(),
        )
    }
}

/// `message` without `key` or the URL's `credentials`.
pub(crate) fn scrub(mut message: String, key: Option<&str>, credentials: Option<&str>) -> String {
    if let Some(credentials) = credentials {
        message = message.replace(&format!("{credentials}@"), "");
    }
    match key {
        // Shorter "keys" (placeholders like "x") would garble the message instead.
        Some(key) if key.len() >= 4 => message.replace(key, "[the key]"),
        _ => message,
    }
}

impl Provider for OnlineProvider {
    fn chat<'a>(
        &'a self,
        _caller: Caller<'a>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
        Box::pin(self.chat_answer(request))
    }

    fn score<'a>(
        &'a self,
        _caller: Caller<'a>,
        request: &'a ScoreRequest,
    ) -> BoxFuture<'a, Result<ScoreResponse, ProviderError>> {
        Box::pin(self.score_answer(request))
    }
}

impl fmt::Debug for OnlineProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.key.is_some() { "set" } else { "none" };
        f.debug_struct("OnlineProvider")
            .field("endpoint", &self.endpoint_id)
            .field("key", &key)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("max_concurrency", &self.endpoint.max_concurrency())
            .field("window", &self.endpoint.window())
            .field("rpm", &self.endpoint.rpm())
            .field("tpm", &self.endpoint.tpm())
            .finish_non_exhaustive()
    }
}
