//! Scoring text on an endpoint, shared by `score`, `perplexity` and `informativeness`:
//! log p(target | context) through `/v1/completions` with `echo` (vLLM, SGLang). Local
//! models are scored in-process instead (see [`super::scoring`]).
//!
//! Endpoints receive raw text, so no chat template can be applied: such a stage must say
//! `chat_template = false`, and its context and target are joined by a blank line.

use std::sync::Arc;

use dtac_interpreter::resolve::ModelDecl;
use dtac_runtime::op::{Estimate, OpError, RequestEstimate};
use dtac_runtime::record::Record;
use serde_json::Value as Json;

/// Between the context and the target when there is a context.
pub const SEPARATOR: &str = "\n\n";

/// The text of `field` in `record`, or a record error naming it.
pub fn text_of(record: &Record, field: &str) -> Result<String, OpError> {
    match record.fields.get(field) {
        Some(Json::String(s)) => Ok(s.clone()),
        Some(Json::Null) | None => Err(OpError::Record(format!(
            "the record has no `{field}` to score"
        ))),
        Some(other) => Ok(other.to_string()),
    }
}

/// One scoring request per record, about 500 prompt tokens each, nothing generated.
pub fn estimate(model: &Arc<ModelDecl>, inputs: u64) -> Estimate {
    Estimate {
        records: inputs,
        requests: vec![RequestEstimate {
            teacher: model.clone(),
            requests: inputs,
            prompt_tokens: inputs * 500,
            completion_tokens: 0,
        }],
    }
}
