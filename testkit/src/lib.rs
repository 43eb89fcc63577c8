//! dtac-testkit: an OpenAI-compatible HTTP server on 127.0.0.1 for dtac's tests and
//! benchmarks.
//!
//! A [`Script`] of [`Rule`]s decides each answer; [`Fault`]s make requests fail the ways
//! real providers do; the server counts and records what it sees so tests can check a
//! client's retries, rate limits and concurrency. Answers, token counts and logprobs are
//! deterministic: identical requests get identical responses on every run.
//!
//! Endpoints: `POST /v1/chat/completions`, `POST /v1/completions`, `GET /v1/models`, and
//! the Batch API: `POST /v1/files` (multipart upload), `GET /v1/files[/{id}[/content]]`,
//! `DELETE /v1/files/{id}`, `POST /v1/batches`, `GET /v1/batches[/{id}]` and
//! `POST /v1/batches/{id}/cancel`. A batch's lines are answered by the same rules and
//! faults as online requests and count as attempts of their key, so a line that failed
//! with `Trigger::FirstAttempts(1)` succeeds when resubmitted. A batch runs in the
//! background over [`Script::batch_delay`] (`validating`, `in_progress`, `finalizing`,
//! `completed`); [`Script::batch_expire_after`] makes batches end `expired`. Results are
//! OpenAI-shaped output and error files; [`TestServer::batches`] and the `files_uploaded`,
//! `batches_created` and `batch_lines_*` fields of [`StatsSnapshot`] let tests check what
//! a client did.
//!
//! ```no_run
//! # async fn demo() {
//! use std::time::Duration;
//! use dtac_testkit::{Fault, Rule, Script, TestServer, Trigger};
//!
//! let script = Script::new()
//!     .rule(Rule::contains("review").reply("LGTM"))
//!     .fault(Trigger::FirstAttempts(1), Fault::rate_limit_after(Duration::from_millis(50)))
//!     .latency(Duration::from_millis(5));
//! let server = TestServer::start(script).await;
//! let base = server.base_url(); // http://127.0.0.1:PORT/v1
//! // ... point a client at `base` ...
//! assert_eq!(server.stats().max_in_flight, 0);
//! # }
//! ```

mod batch;
mod body;
mod call;
mod completion;
mod counter;
mod engine;
mod error_body;
mod faults;
mod files;
mod hash;
mod reply;
mod request;
mod rng;
mod script;
mod server;
mod shared;
mod tokenize;

pub use batch::{BatchStatus, BatchSummary, RequestCounts, DEFAULT_BATCH_DELAY};
pub use counter::{RecordedRequest, StatsSnapshot, ARRIVALS_KEPT};
pub use engine::default_answer;
pub use faults::{ErrorBody, Fault, FaultPlan, Trigger};
pub use hash::key_of;
pub use request::{Endpoint, Message, RequestView};
pub use script::{Matcher, Reply, Rule, Script, DEFAULT_MODEL, DEFAULT_RECORD};
pub use server::TestServer;
pub use tokenize::{count_tokens, logprob, tokenize};
