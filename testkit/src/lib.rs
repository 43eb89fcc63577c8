//! dtac-testkit: an OpenAI-compatible HTTP server on 127.0.0.1 for dtac's tests and
//! benchmarks.
//!
//! A [`Script`] of [`Rule`]s decides each answer; [`Fault`]s make requests fail the ways
//! real providers do; the server counts and records what it sees so tests can check a
//! client's retries, rate limits and concurrency. Answers, token counts and logprobs are
//! deterministic: identical requests get identical responses on every run.
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

mod body;
mod completion;
mod counter;
mod engine;
mod faults;
mod hash;
mod reply;
mod request;
mod rng;
mod script;
mod server;
mod tokenize;

pub use counter::{RecordedRequest, StatsSnapshot, ARRIVALS_KEPT};
pub use engine::default_answer;
pub use faults::{ErrorBody, Fault, FaultPlan, Trigger};
pub use hash::key_of;
pub use request::{Endpoint, Message, RequestView};
pub use script::{Matcher, Reply, Rule, Script, DEFAULT_MODEL, DEFAULT_RECORD};
pub use server::TestServer;
pub use tokenize::{count_tokens, logprob, tokenize};
