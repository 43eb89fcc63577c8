//! Providers: what answers a teacher's chat requests. One implementation covers every
//! OpenAI-compatible server (OpenAI, vLLM, SGLang, Ollama, llama.cpp, LM Studio,
//! gateways), built on the async-openai client.
//!
//! The pieces, each in its own file:
//! - [`openai`]: the factory the gateway asks for a teacher's provider, and the provider's
//!   attempt loop;
//! - `config`: a teacher's connection settings and its key, read from the declaration and
//!   the environment;
//! - `wire`: dtac's request as an OpenAI body, and the answer back;
//! - `classify`: what a failed attempt means (retry, fail the record, stop the run);
//! - `retry`: the backoff schedule, its jitter and the servers' retry hints;
//! - `limits`: the in-flight limit each endpoint's teachers share.

mod classify;
mod config;
mod limits;
pub mod openai;
mod retry;
mod wire;

pub use openai::{OpenAiFactory, OpenAiProvider};
