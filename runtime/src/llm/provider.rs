//! The provider interface: something that answers a teacher's requests. The stdlib
//! implements it for OpenAI-compatible endpoints (online and Batch API) and for recorded
//! answers (replay); tests implement it too.

use std::fmt::Debug;
use std::sync::Arc;

use futures::future::BoxFuture;

use dtac_interpreter::resolve::ModelDecl;

use super::request::{ChatRequest, ChatResponse, ScoreRequest, ScoreResponse};
use crate::stop::Stop;
use crate::store::Store;

/// Why a request failed after the provider's own retries.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// This request cannot succeed (a refused prompt, a context overflow): the record fails,
    /// the run goes on.
    #[error("{0}")]
    Request(String),
    /// No request to this endpoint can succeed (bad key, exhausted quota, unreachable):
    /// the run stops.
    #[error("{0}")]
    Endpoint(String),
    /// The run is stopping: the request was not sent (or its answer not awaited).
    #[error("stopped")]
    Stopped,
}

/// On whose behalf a request is made: what errors name, and what recorded answers are
/// matched by.
#[derive(Clone, Copy, Debug)]
pub struct Caller<'a> {
    pub stage: &'a str,
    /// The record's provenance id (`STAGE/HASH`).
    pub record: &'a str,
    /// The record's own `id` field, when it has one (the dataset's problem id).
    pub id: Option<&'a str>,
}

/// Answers requests for one teacher. Implementations do their own limits and retries.
pub trait Provider: Send + Sync + Debug {
    fn chat<'a>(
        &'a self,
        caller: Caller<'a>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>>;

    /// log p(target | context) token by token. Providers that cannot score say so.
    fn score<'a>(
        &'a self,
        caller: Caller<'a>,
        request: &'a ScoreRequest,
    ) -> BoxFuture<'a, Result<ScoreResponse, ProviderError>> {
        let _ = request;
        Box::pin(async move {
            Err(ProviderError::Request(format!(
                "stage `{}`: this teacher cannot score text (only online OpenAI-compatible \
                 endpoints with `/v1/completions` can)",
                caller.stage
            )))
        })
    }
}

/// What a provider may use besides its teacher's declaration: the run store (the Batch
/// API keeps its submitted jobs there, so a killed run collects them instead of paying
/// again) and the run's stop signal.
#[derive(Clone, Debug)]
pub struct ProviderEnv {
    pub store: Store,
    pub stop: Stop,
}

/// Builds the provider for a teacher declaration (once per teacher per run). The error
/// explains what is missing.
pub trait ProviderFactory: Send + Sync + Debug {
    fn provider(&self, teacher: &ModelDecl, env: &ProviderEnv)
        -> Result<Arc<dyn Provider>, String>;

    /// The endpoint's identity as it goes into request keys: the base URL without
    /// credentials, or what else decides the answers (a replay file's content).
    fn endpoint(&self, teacher: &ModelDecl) -> String;

    /// Whether the teacher answers from something the recipe names (a replay file)
    /// rather than a model: its answers are neither cached nor priced, and it works
    /// offline.
    fn is_local(&self, teacher: &ModelDecl) -> bool {
        let _ = teacher;
        false
    }
}
