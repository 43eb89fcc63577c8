//! Batch mode (`mode = "batch"`): a teacher's requests go through the provider's Batch
//! API (upload a JSONL file, create a batch, poll it, download the results) at about half
//! the price of online requests, for large offline stages.
//!
//! Requests are collected as the stage hands them over (a stage with a batch teacher
//! keeps all its records in flight), and sent as one batch once none has arrived for a
//! short while, or when a batch is full. Results map back by `custom_id`, which is the
//! request key. Each answer is committed to the response cache before anyone sees it,
//! like an online answer. Lines that failed in a way another try may fix (5xx, 429, an
//! expired window) go into a new batch, up to `max_attempts` in all; the others fail
//! their records with the line's own error.
//!
//! A submitted batch is recorded in the run store (its id and its requests) before dtac
//! waits for it, so a killed run collects the same batch when it resumes instead of
//! submitting, and paying for, the requests again.

mod job;
mod lines;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_openai::config::OpenAIConfig;
use async_openai::Client;
use dtac_runtime::llm::{Caller, ChatRequest, ChatResponse, Provider, ProviderEnv, ProviderError};
use futures::future::BoxFuture;
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use super::config::Connection;
use super::retry::Jitter;

/// Lines in one batch at most (OpenAI's limit is 50,000).
const MAX_LINES: usize = 50_000;
/// A batch is sent once no request has arrived for this long.
const QUIET: Duration = Duration::from_millis(300);
/// The store's name for this provider's jobs.
const JOB_KIND: &str = "openai-batch";

type Waiter = oneshot::Sender<Result<ChatResponse, ProviderError>>;

pub struct BatchProvider {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    endpoint_id: String,
    /// One model per batch (the Batch API refuses files that mix models), so each batch
    /// teacher has its own batches.
    model: String,
    client: Client<OpenAIConfig>,
    key: Option<String>,
    url_credentials: Option<String>,
    poll: Duration,
    window: Duration,
    max_attempts: u32,
    env: ProviderEnv,
    jitter: Jitter,
    state: Mutex<State>,
    wake: Notify,
}

#[derive(Default)]
struct State {
    /// Requests for the next batch, by key, with the attempts they have had.
    pending: BTreeMap<String, (ChatRequest, u32)>,
    /// Keys of requests in a submitted batch.
    submitted: HashMap<String, String>,
    waiters: HashMap<String, Vec<Waiter>>,
    last_added: Option<Instant>,
    collector_running: bool,
}

impl BatchProvider {
    pub(crate) fn new(
        connection: &Connection,
        model: &str,
        key: Option<String>,
        env: ProviderEnv,
    ) -> Result<BatchProvider, String> {
        let config = OpenAIConfig::new()
            .with_api_base(connection.base_url.as_str())
            .with_api_key(key.clone().unwrap_or_default());
        // A zero elapsed-time budget makes async-openai give up on its first failure,
        // so only dtac's loops retry.
        let no_retries = backoff::ExponentialBackoffBuilder::new()
            .with_max_elapsed_time(Some(Duration::ZERO))
            .build();
        let inner = Arc::new(Inner {
            endpoint_id: connection.endpoint.clone(),
            model: model.to_string(),
            client: Client::with_config(config).with_backoff(no_retries),
            key,
            url_credentials: connection.url_credentials.clone(),
            poll: connection.poll_interval,
            window: connection.batch_window,
            max_attempts: connection.max_attempts.max(1),
            env,
            jitter: Jitter::new(),
            state: Mutex::new(State::default()),
            wake: Notify::new(),
        });
        inner.resume()?;
        Ok(BatchProvider { inner })
    }
}

impl Inner {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn scrub(&self, message: String) -> String {
        super::online::scrub(
            message,
            self.key.as_deref(),
            self.url_credentials.as_deref(),
        )
    }

    /// Collects the batches a killed run left submitted on this endpoint.
    fn resume(self: &Arc<Self>) -> Result<(), String> {
        let jobs = self
            .env
            .store
            .with_reader(|conn| dtac_runtime::store::read::jobs(conn, JOB_KIND))
            .map_err(|e| e.to_string())?;
        for (_, data) in jobs {
            let Some(job) = job::Stored::parse(&data) else {
                continue;
            };
            let model = job.requests.values().next().map(|(r, _)| r.model.as_str());
            if job.endpoint != self.endpoint_id || model != Some(self.model.as_str()) {
                continue;
            }
            {
                let mut state = self.state();
                for key in job.requests.keys() {
                    state.submitted.insert(key.clone(), job.batch_id.clone());
                }
            }
            let inner = Arc::clone(self);
            tokio::spawn(async move { inner.collect(job).await });
        }
        Ok(())
    }

    async fn answer(
        self: &Arc<Self>,
        request: &ChatRequest,
    ) -> Result<ChatResponse, ProviderError> {
        let key = request.key();
        let (tx, rx) = oneshot::channel();
        let start_collector = {
            let mut state = self.state();
            state.waiters.entry(key.clone()).or_default().push(tx);
            if !state.submitted.contains_key(&key) && !state.pending.contains_key(&key) {
                state.pending.insert(key, (request.clone(), 0));
                state.last_added = Some(Instant::now());
            }
            !std::mem::replace(&mut state.collector_running, true)
        };
        if start_collector {
            let inner = Arc::clone(self);
            tokio::spawn(async move { inner.collector().await });
        }
        self.wake.notify_one();
        tokio::select! {
            answer = rx => answer.unwrap_or(Err(ProviderError::Stopped)),
            _ = self.env.stop.stopped() => Err(ProviderError::Stopped),
        }
    }

    /// Sends the pending requests as batches: when a batch is full, or once none has
    /// arrived for [`QUIET`]. Ends when nothing is pending.
    async fn collector(self: Arc<Self>) {
        loop {
            let (due, full) = {
                let mut state = self.state();
                if state.pending.is_empty() {
                    state.collector_running = false;
                    return;
                }
                let due = state.last_added.map_or(Instant::now(), |t| t + QUIET);
                (due, state.pending.len() >= MAX_LINES)
            };
            if !full && Instant::now() < due {
                tokio::select! {
                    _ = tokio::time::sleep_until(due) => {}
                    _ = self.env.stop.stopped() => {
                        self.state().collector_running = false;
                        return;
                    }
                }
                continue;
            }
            let requests = {
                let mut state = self.state();
                let keys: Vec<String> = state.pending.keys().take(MAX_LINES).cloned().collect();
                let mut requests = BTreeMap::new();
                for key in keys {
                    if let Some(entry) = state.pending.remove(&key) {
                        state.submitted.insert(key.clone(), String::new());
                        requests.insert(key, entry);
                    }
                }
                requests
            };
            let inner = Arc::clone(&self);
            tokio::spawn(async move { inner.submit_and_collect(requests).await });
        }
    }

    /// Delivers a request's final result to everyone waiting for it.
    fn deliver(&self, key: &str, result: Result<ChatResponse, ProviderError>) {
        let waiters = {
            let mut state = self.state();
            state.submitted.remove(key);
            state.waiters.remove(key).unwrap_or_default()
        };
        for w in waiters {
            let _ = w.send(result.clone());
        }
    }

    /// Puts a request back for the next batch (its waiters keep waiting).
    fn requeue(self: &Arc<Self>, key: String, request: ChatRequest, attempts: u32) {
        let start_collector = {
            let mut state = self.state();
            state.submitted.remove(&key);
            state.pending.insert(key, (request, attempts));
            state.last_added = Some(Instant::now());
            !std::mem::replace(&mut state.collector_running, true)
        };
        if start_collector {
            let inner = Arc::clone(self);
            tokio::spawn(async move { inner.collector().await });
        }
    }
}

impl Provider for BatchProvider {
    fn chat<'a>(
        &'a self,
        _caller: Caller<'a>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
        Box::pin(self.inner.answer(request))
    }
}

impl fmt::Debug for BatchProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.inner.key.is_some() {
            "set"
        } else {
            "none"
        };
        f.debug_struct("BatchProvider")
            .field("endpoint", &self.inner.endpoint_id)
            .field("key", &key)
            .field("poll_interval", &self.inner.poll)
            .field("max_attempts", &self.inner.max_attempts)
            .finish_non_exhaustive()
    }
}
