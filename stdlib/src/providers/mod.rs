//! Providers: what answers a teacher's requests. One family covers every
//! OpenAI-compatible server (OpenAI, vLLM, SGLang, Ollama, llama.cpp, LM Studio,
//! gateways); see docs/providers.md for each one's base URL.
//!
//! The pieces, each in its own file:
//! - [`openai`]: the factory the gateway asks for a teacher's provider, by `mode`;
//! - `online`: one HTTP request per attempt, for chat and prompt scoring, and its retries;
//! - `batch`: the Batch API (upload, create, poll, download, resubmit, resume);
//! - `replay`: answers from a recorded file;
//! - `config`: a teacher's connection settings and its key;
//! - `endpoint`, `window`, `bucket`: the limits every teacher on one endpoint shares
//!   (adaptive concurrency, requests and tokens per minute, server-requested pauses);
//! - `transport`: one HTTP exchange, with status and retry headers;
//! - `classify`: what a failed attempt means (retry, fail the record, stop the run);
//! - `retry`: the backoff schedule, its jitter and the servers' retry hints;
//! - `wire` and `score`: dtac's requests as OpenAI bodies, and the answers back.

mod batch;
mod bucket;
mod classify;
mod config;
mod endpoint;
mod online;
pub mod openai;
mod replay;
mod retry;
mod score;
mod transport;
mod window;
mod wire;

pub use batch::BatchProvider;
pub use online::OnlineProvider;
pub use openai::OpenAiFactory;
pub use replay::ReplayProvider;
