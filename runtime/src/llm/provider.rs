//! The provider interface: something that answers chat requests. The stdlib implements it
//! for OpenAI-compatible endpoints; tests and the replay teacher implement it too.

use std::fmt::Debug;
use std::sync::Arc;

use futures::future::BoxFuture;

use dtac_interpreter::resolve::ModelDecl;

use super::request::{ChatRequest, ChatResponse};

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
}

/// Answers chat requests for one teacher. Implementations do their own limits and retries.
pub trait Provider: Send + Sync + Debug {
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>>;
}

/// Builds the provider for a teacher declaration (once per teacher per run). The error
/// explains what is missing.
pub trait ProviderFactory: Send + Sync + Debug {
    fn provider(&self, teacher: &ModelDecl) -> Result<Arc<dyn Provider>, String>;

    /// The endpoint's identity as it goes into request keys: the base URL without
    /// credentials. `None` for teachers that never reach the network.
    fn endpoint(&self, teacher: &ModelDecl) -> String;
}
