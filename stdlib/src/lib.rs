//! dtac's standard library: the builtin sources, stage ops, objectives, export formats and
//! the `teacher` and `student` blocks.
//!
//! Each builtin lives in its own file with its [`Signature`]: what the checker reads, and
//! the documentation the docs generator reads. Implementations join them in the same files
//! as the runtime lands.
//!
//! Record conventions the ops share, so that they compose without configuration:
//! - `id` names the problem; sources set it from their `id_field`, and ops that need every
//!   candidate of a problem group by it.
//! - `solution` is the current candidate text. An op that replaces it (`rewrite`,
//!   `refine`, `adapt`) keeps the text it replaced in `original`.
//! - `teacher` names the declaration that wrote the candidate.

pub mod answers;
pub mod blocks;
pub mod device;
pub mod expr;
pub mod formats;
pub mod impls;
pub mod local;
pub mod objectives;
pub mod ops;
mod prompts;
pub mod providers;
mod settings;
pub mod sources;
pub mod text;

#[cfg(test)]
mod tests;

use dtac_interpreter::signature::Signature;
use dtac_interpreter::Registry;

/// Every builtin signature: sources, ops, objectives, formats, then the two blocks.
pub fn all() -> impl Iterator<Item = &'static Signature> {
    sources::ALL
        .iter()
        .chain(ops::ALL)
        .chain(objectives::ALL)
        .chain(formats::ALL)
        .chain(blocks::ALL)
        .copied()
}

/// A registry holding every builtin.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    for sig in all() {
        registry.register(sig);
    }
    registry
}

/// The runtime implementations of the builtins.
pub fn implementations() -> std::sync::Arc<dyn dtac_runtime::op::Implementations> {
    std::sync::Arc::new(impls::Stdlib)
}

/// The provider for `teacher` blocks: any OpenAI-compatible endpoint.
pub fn provider_factory() -> std::sync::Arc<dyn dtac_runtime::llm::ProviderFactory> {
    std::sync::Arc::new(providers::OpenAiFactory::new())
}
