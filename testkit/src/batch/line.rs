//! Answering one batch line, and the result line written for it.
//!
//! A line goes through the same parsing, attempt counting, rules and faults as an online
//! request to its endpoint; only the wait and the transport are skipped. A fault becomes
//! the line's HTTP result, with the body an online request would have received, since
//! OpenAI's result lines carry an HTTP status and body per request.

use serde_json::{json, Value};

use crate::batch::input::InputLine;
use crate::call::Call;
use crate::engine::Outcome;
use crate::error_body;
use crate::faults::Fault;
use crate::reply;
use crate::request::Endpoint;
use crate::shared::Shared;

/// A result line, and whether it belongs in the output file (2xx) or the error file.
#[derive(Debug)]
pub(crate) struct LineResult {
    pub(crate) ok: bool,
    pub(crate) json: Value,
}

/// Answers the `index`-th (0-based) line of batch number `batch`.
pub(crate) fn answer(
    shared: &Shared,
    batch: u64,
    index: usize,
    endpoint: Endpoint,
    line: &InputLine,
) -> LineResult {
    // Re-serialising a parsed object cannot fail (its keys are strings); an empty body
    // would only make the endpoint refuse the line.
    let bytes = serde_json::to_vec(&line.body).unwrap_or_default();
    let (status, body) = match Call::parse(endpoint, &bytes) {
        Err(message) => (
            400,
            error_body::openai(&message, "invalid_request_error", None, None),
        ),
        Ok(mut call) => {
            let attempt = shared.counters.attempt(&call.view().key);
            call.view_mut().attempt = attempt;
            match shared.engine.decide(call.view()).outcome {
                // A slow body still delivers the answer; there is no body to trickle here.
                Outcome::Answer { text, .. } => {
                    (200, call.render(response_seq(batch, index), &text))
                }
                Outcome::Fail(fault) => fault_result(&fault),
            }
        }
    };
    let ok = (200..300).contains(&status);
    shared.counters.batch_line(ok);
    LineResult {
        ok,
        json: json!({
            "id": line_id(batch, index),
            "custom_id": line.custom_id,
            "response": {
                "status_code": status,
                "request_id": format!("req_testkit{batch:08x}{index:06x}"),
                "body": body,
            },
            "error": null,
        }),
    }
}

/// The error-file line of a line that never ran because its batch expired.
pub(crate) fn expired(batch: u64, index: usize, custom_id: &str) -> Value {
    json!({
        "id": line_id(batch, index),
        "custom_id": custom_id,
        "response": null,
        "error": {
            "code": "batch_expired",
            "message": "This request could not be executed before the completion window expired.",
        },
    })
}

fn line_id(batch: u64, index: usize) -> String {
    format!("batch_req_testkit{batch:08x}{index:06x}")
}

/// The number behind a line's `chatcmpl-...` id: above every online request's, so ids
/// never collide.
fn response_seq(batch: u64, index: usize) -> u64 {
    (batch << 32) | (index as u64 + 1)
}

/// The status and body a fault gives a line. Faults that are about the transport (a
/// dropped connection, a broken body) become the 500 a batch runner records for them.
fn fault_result(fault: &Fault) -> (u16, Value) {
    match fault {
        Fault::Http { status, body, .. } => (
            error_body::effective_status(*status),
            error_body::payload(*status, *body).into_json(),
        ),
        Fault::InsufficientQuota => (429, reply::insufficient_quota()),
        Fault::MalformedJson | Fault::Drop | Fault::SlowBody(_) => (500, reply::server_error()),
    }
}
