//! Scoring text on an endpoint, shared by `score` and `perplexity`: log p(target |
//! context) through `/v1/completions` with `echo` (vLLM, SGLang). Local models are scored
//! in-process by the numeric core instead (issue 6).
//!
//! Endpoints receive raw text, so no chat template can be applied: such a stage must say
//! `chat_template = false`, and its context and target are joined by a blank line.

use std::sync::Arc;

use dtac_interpreter::resolve::{ModelDecl, Node};
use dtac_interpreter::signature::SignatureKind;
use dtac_runtime::llm::{ScoreRequest, ScoreResponse};
use dtac_runtime::op::{BuildError, Estimate, OpError, RequestEstimate, StageCtx};
use dtac_runtime::record::Record;
use serde_json::Value as Json;

use crate::settings::Settings;

/// Between the context and the target when there is a context.
pub const SEPARATOR: &str = "\n\n";

/// The teacher a scoring stage asks, or why it cannot run yet.
pub fn scorer(node: &Node) -> Result<Arc<ModelDecl>, BuildError> {
    let s = Settings(&node.settings);
    let model = s.model("model").ok_or_else(|| BuildError::Invalid {
        message: format!("`{}` needs a `model`", node.sig.name),
        help: "set `model = NAME`, a student or a teacher".into(),
    })?;
    let local = model.kind == SignatureKind::Student || model.get("path").is_some();
    if local {
        return Err(BuildError::NotImplemented {
            op: format!("{} on a local model", node.sig.name),
            issue: "issue 6 (the numeric core)",
        });
    }
    if s.bool("chat_template") != Some(false) {
        return Err(BuildError::Invalid {
            message: format!(
                "`{}` on the endpoint of teacher `{}` cannot apply a chat template: the \
                 endpoint scores raw text",
                node.sig.name, model.name
            ),
            help: "set `chat_template = false` (context and text are then joined by a blank \
                   line), or score with a local model"
                .into(),
        });
    }
    Ok(model)
}

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

/// Scores `target` after the optional `context` field of `record`.
pub async fn score(
    cx: &StageCtx,
    record: &Record,
    teacher: &ModelDecl,
    context: Option<&str>,
    target: &str,
) -> Result<ScoreResponse, OpError> {
    let context = match context {
        Some(field) => text_of(record, field)? + SEPARATOR,
        None => String::new(),
    };
    let request = ScoreRequest {
        endpoint: cx.gateway.endpoint(teacher),
        model: Settings(&teacher.settings)
            .str("model")
            .unwrap_or_default()
            .to_string(),
        context,
        target: text_of(record, target)?,
    };
    cx.score(record, teacher, &request).await
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
