//! One batch's life: upload its requests, create it, record it in the store, poll it,
//! download its results, and settle each request (answer, resubmit or fail).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use async_openai::error::OpenAIError;
use async_openai::types::{CreateFileRequest, FileInput, FilePurpose};
use dtac_runtime::llm::{ChatRequest, ProviderError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::classify::{classify, show, Failure};
use super::lines::{self, Outcome};
use super::{Inner, JOB_KIND};

/// A submitted batch as the store keeps it: enough to collect it after a restart.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Stored {
    pub endpoint: String,
    pub batch_id: String,
    /// By request key: the request and the batches it has been in, this one included.
    pub requests: BTreeMap<String, (ChatRequest, u32)>,
}

impl Stored {
    pub(crate) fn parse(data: &str) -> Option<Stored> {
        serde_json::from_str(data).ok()
    }
}

impl Inner {
    /// Sends `requests` as a new batch and collects it.
    pub(super) async fn submit_and_collect(
        self: Arc<Self>,
        requests: BTreeMap<String, (ChatRequest, u32)>,
    ) {
        let requests: BTreeMap<String, (ChatRequest, u32)> = requests
            .into_iter()
            .map(|(k, (r, attempts))| (k, (r, attempts + 1)))
            .collect();
        let batch_id = match self.submit(&requests).await {
            Ok(id) => id,
            Err(failure) => {
                let error = self.final_error(failure, "could not submit the batch");
                for key in requests.keys() {
                    self.deliver(key, Err(error.clone()));
                }
                return;
            }
        };
        let job = Stored {
            endpoint: self.endpoint_id.clone(),
            batch_id,
            requests,
        };
        // Recorded before waiting: a run killed from here on collects this batch when
        // it resumes. If the store refuses, the answers still arrive in this run.
        if let Ok(data) = serde_json::to_string(&job) {
            let _ = self
                .env
                .store
                .writer()
                .put_job(JOB_KIND, &job.batch_id, data)
                .await;
        }
        self.collect(job).await;
    }

    async fn submit(
        &self,
        requests: &BTreeMap<String, (ChatRequest, u32)>,
    ) -> Result<String, Failure> {
        let only_requests: BTreeMap<String, ChatRequest> = requests
            .iter()
            .map(|(k, (r, _))| (k.clone(), r.clone()))
            .collect();
        let bytes = lines::input_file(&only_requests);
        let file: Json = self
            .call(|| {
                let upload = CreateFileRequest {
                    file: FileInput::from_vec_u8("dtac-batch.jsonl".into(), bytes.clone()),
                    purpose: FilePurpose::Batch,
                };
                async move { self.client.files().create_byot(upload).await }
            })
            .await?;
        let file_id = id_of(&file, "the uploaded file")?;
        let body = json!({
            "input_file_id": file_id,
            "endpoint": lines::CHAT_URL,
            "completion_window": window_text(self.window),
            "metadata": {"created_by": "dtac"},
        });
        let batch: Json = self
            .call(|| {
                let body = body.clone();
                async move { self.client.batches().create_byot(body).await }
            })
            .await?;
        id_of(&batch, "the created batch")
    }

    /// Polls the batch until it ends, then settles every request in it.
    pub(super) async fn collect(self: Arc<Self>, job: Stored) {
        let batch = loop {
            let polled: Result<Json, Failure> = self
                .call(|| async { self.client.batches().retrieve_byot(&job.batch_id).await })
                .await;
            match polled {
                Ok(batch) => {
                    let status = batch.get("status").and_then(Json::as_str).unwrap_or("");
                    if matches!(status, "completed" | "expired" | "cancelled" | "failed") {
                        break batch;
                    }
                }
                Err(failure) => {
                    // The batch stays recorded: the next run picks it up again.
                    let error = self.final_error(failure, "lost track of the batch");
                    for key in job.requests.keys() {
                        self.deliver(key, Err(error.clone()));
                    }
                    return;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {}
                _ = self.env.stop.stopped() => return,
            }
        };
        if batch.get("status").and_then(Json::as_str) == Some("failed") {
            let why = batch
                .pointer("/errors/data/0/message")
                .and_then(Json::as_str)
                .unwrap_or("no reason given");
            let error = ProviderError::Endpoint(self.scrub(format!(
                "the Batch API refused batch {}: {why}",
                job.batch_id
            )));
            for key in job.requests.keys() {
                self.deliver(key, Err(error.clone()));
            }
            let _ = self
                .env
                .store
                .writer()
                .delete_job(JOB_KIND, &job.batch_id)
                .await;
            return;
        }
        let mut results = BTreeMap::new();
        for field in ["output_file_id", "error_file_id"] {
            let Some(file_id) = batch.get(field).and_then(Json::as_str) else {
                continue;
            };
            let content = self
                .call(|| async { self.client.files().content(file_id).await })
                .await;
            match content {
                Ok(bytes) => results.extend(lines::results(&bytes)),
                // Its requests count as unanswered and go into the next batch.
                Err(_) => continue,
            }
        }
        self.settle(&job, results).await;
        let _ = self
            .env
            .store
            .writer()
            .delete_job(JOB_KIND, &job.batch_id)
            .await;
    }

    /// Answers, resubmits or fails each request of a finished batch.
    async fn settle(self: &Arc<Self>, job: &Stored, mut results: BTreeMap<String, Outcome>) {
        for (key, (request, attempts)) in &job.requests {
            let outcome = results.remove(key).unwrap_or_else(|| {
                Outcome::Failed(Failure::retry("the batch ended without answering it"))
            });
            match outcome {
                Outcome::Answer(answer) => {
                    // Into the cache before anyone sees it, as online answers are.
                    let stored = self
                        .env
                        .store
                        .writer()
                        .put_response(
                            key.clone(),
                            serde_json::to_string(request).unwrap_or_default(),
                            serde_json::to_string(&answer).unwrap_or_default(),
                            answer.usage.prompt_tokens,
                            answer.usage.completion_tokens,
                        )
                        .await;
                    match stored {
                        Ok(()) => self.deliver(key, Ok(answer)),
                        Err(e) => self.deliver(key, Err(ProviderError::Endpoint(e.to_string()))),
                    }
                }
                Outcome::Failed(Failure::Retry { message, .. }) => {
                    if *attempts < self.max_attempts {
                        self.requeue(key.clone(), request.clone(), *attempts);
                    } else {
                        let batches = if *attempts == 1 { "batch" } else { "batches" };
                        self.deliver(
                            key,
                            Err(ProviderError::Request(self.scrub(format!(
                                "gave up after {attempts} {batches}: {message}"
                            )))),
                        );
                    }
                }
                Outcome::Failed(Failure::Request(m)) => {
                    self.deliver(key, Err(ProviderError::Request(self.scrub(m))))
                }
                Outcome::Failed(Failure::Endpoint(m)) => {
                    self.deliver(key, Err(ProviderError::Endpoint(self.scrub(m))))
                }
            }
        }
    }

    /// One Batch API call, retried like an online request.
    async fn call<T, F, Fut>(&self, make: F) -> Result<T, Failure>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, OpenAIError>>,
    {
        let mut failed = 0;
        loop {
            if self.env.stop.is_stopping() {
                return Err(Failure::Endpoint("stopped".into()));
            }
            let error = match make().await {
                Ok(value) => return Ok(value),
                Err(e) => classify(&e),
            };
            failed += 1;
            match error {
                Failure::Retry { after, .. } if failed < self.max_attempts => {
                    tokio::time::sleep(self.jitter.delay(failed, after)).await;
                }
                other => return Err(other),
            }
        }
    }

    fn final_error(&self, failure: Failure, doing: &str) -> ProviderError {
        if self.env.stop.is_stopping() {
            return ProviderError::Stopped;
        }
        match failure {
            Failure::Endpoint(m) => ProviderError::Endpoint(self.scrub(format!("{doing}: {m}"))),
            Failure::Request(m) | Failure::Retry { message: m, .. } => {
                ProviderError::Request(self.scrub(format!("{doing}: {m}")))
            }
        }
    }
}

/// The `id` of an API object.
fn id_of(object: &Json, what: &str) -> Result<String, Failure> {
    object
        .get("id")
        .and_then(Json::as_str)
        .map(str::to_string)
        .ok_or_else(|| Failure::Endpoint(format!("{what} has no `id`: {}", short(object))))
}

fn short(json: &Json) -> String {
    let text = json.to_string();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The completion window as the Batch API writes it: `24h`. OpenAI accepts only `24h`;
/// other servers may accept more.
fn window_text(window: std::time::Duration) -> String {
    let secs = window.as_secs();
    if secs > 0 && secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else {
        show(window)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn windows_read_like_the_api() {
        assert_eq!(window_text(Duration::from_secs(86_400)), "24h");
        assert_eq!(window_text(Duration::from_secs(90)), "90s");
    }

    #[test]
    fn stored_jobs_round_trip() {
        let r = ChatRequest::new("http://h/v1", "m", vec![]);
        let mut requests = BTreeMap::new();
        requests.insert(r.key(), (r, 2));
        let job = Stored {
            endpoint: "http://h/v1".into(),
            batch_id: "batch_1".into(),
            requests,
        };
        let back = Stored::parse(&serde_json::to_string(&job).expect("json")).expect("parses");
        assert_eq!(back.batch_id, "batch_1");
        assert_eq!(back.requests.values().next().map(|(_, n)| *n), Some(2));
        assert!(Stored::parse("{}").is_none());
    }
}
