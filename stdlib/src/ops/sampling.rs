//! The one way ops sample a model, through its endpoint or in-process.
//!
//! A model with an `endpoint` (every teacher; a student that sets one) is asked through
//! the gateway, so each answer is cached in the run store and a rerun re-pays nothing. A
//! student (or a teacher with a `path` and no endpoint) without one samples locally; its
//! seed is derived from the request's seed, its sample index and the record's `id`, so
//! every record and sample draws its own stream and a rerun draws the same text.
//!
//! `assistant_prefix` makes the model continue an answer already begun (DART's
//! simulations from a prefix): locally the prefix follows the template's generation prompt
//! verbatim; through an endpoint it is sent as a final assistant message, which servers
//! such as vLLM continue (`continue_final_message`) and others answer afresh.

use std::sync::Arc;

use dtac_interpreter::resolve::ModelDecl;
use dtac_interpreter::signature::SignatureKind;
use dtac_runtime::hash::hash_json;
use dtac_runtime::llm::{ChatRequest, Message};
use dtac_runtime::op::{BuildError, OpError, StageCtx};
use dtac_runtime::record::Record;

use super::ask::teacher_request;
use crate::local::generate::{sample_chat, SampleParams};
use crate::settings::Settings;

/// The most tokens a local sample has when neither the op nor the model says.
pub const LOCAL_MAX_TOKENS: usize = 1024;

/// How a model is sampled.
#[derive(Debug, Clone)]
pub enum Sampler {
    Endpoint(Arc<ModelDecl>),
    Local(Arc<ModelDecl>),
}

/// One sampling request.
#[derive(Debug, Clone, Default)]
pub struct SampleRequest<'a> {
    pub system: Option<&'a str>,
    pub user: &'a str,
    pub assistant_prefix: &'a str,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<i64>,
    pub max_tokens: Option<i64>,
    pub seed: i64,
    /// Which sample of the same request this is: 0, 1, ... (distinct cache entries).
    pub sample: u64,
}

/// A sampled answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub text: String,
    pub tokens: u64,
    pub finish: String,
}

impl Sampler {
    /// Through the endpoint when the model has one, else locally from its `path`.
    pub fn for_model(model: Arc<ModelDecl>) -> Result<Sampler, BuildError> {
        let s = Settings(&model.settings);
        let is_teacher = model.kind == SignatureKind::Teacher;
        if s.str("endpoint").is_some() || (is_teacher && s.str("path").is_none()) {
            return Ok(Sampler::Endpoint(model));
        }
        if s.str("path").is_some() {
            return Ok(Sampler::Local(model));
        }
        Err(BuildError::Invalid {
            message: format!(
                "`{}` can be sampled neither through an endpoint nor locally",
                model.name
            ),
            help: "set `endpoint` to a server that runs it, or `path` to its checkpoint".into(),
        })
    }

    pub fn model(&self) -> &Arc<ModelDecl> {
        match self {
            Sampler::Endpoint(m) | Sampler::Local(m) => m,
        }
    }

    pub fn is_local(&self) -> bool {
        matches!(self, Sampler::Local(_))
    }

    /// Samples one answer for `record`.
    pub async fn sample(
        &self,
        cx: &StageCtx,
        record: &Record,
        req: &SampleRequest<'_>,
    ) -> Result<Sample, OpError> {
        match self {
            Sampler::Endpoint(model) => {
                let request = endpoint_request(cx, model, req);
                let answer = cx.chat(record, model, &request).await?;
                Ok(Sample {
                    tokens: answer.usage.completion_tokens,
                    text: answer.text,
                    finish: answer.finish_reason,
                })
            }
            Sampler::Local(model) => {
                let s = Settings(&model.settings);
                let params = SampleParams {
                    temperature: req.temperature.or(s.float("temperature")).unwrap_or(1.0),
                    top_p: req.top_p.unwrap_or(1.0),
                    top_k: req.top_k.unwrap_or(0).max(0) as usize,
                    max_tokens: req
                        .max_tokens
                        .or(s.int("max_tokens"))
                        .map_or(LOCAL_MAX_TOKENS, |m| m.max(1) as usize),
                    seed: local_seed(req.seed, req.sample, &record.key_of("id")),
                };
                let out = sample_chat(model, req.system, req.user, req.assistant_prefix, &params)
                    .await
                    .map_err(OpError::Record)?;
                Ok(Sample {
                    tokens: out.token_ids.len() as u64,
                    text: out.text,
                    finish: out.finish.to_string(),
                })
            }
        }
    }
}

/// The chat request for an endpoint: the model's own settings, overridden by the op's.
pub fn endpoint_request(cx: &StageCtx, model: &ModelDecl, req: &SampleRequest<'_>) -> ChatRequest {
    let mut request = teacher_request(cx, model, req.user);
    if let Some(system) = req.system {
        request.messages.retain(|m| m.role != "system");
        request.messages.insert(0, Message::system(system));
    }
    if !req.assistant_prefix.is_empty() {
        request
            .messages
            .push(Message::assistant(req.assistant_prefix));
    }
    if model.kind == SignatureKind::Student {
        request.model = served_name(model);
    }
    request.temperature = req.temperature.or(request.temperature);
    request.top_p = req.top_p.or(request.top_p);
    request.top_k = req.top_k.filter(|k| *k > 0).or(request.top_k);
    request.max_tokens = req.max_tokens.or(request.max_tokens);
    request.seed = Some(req.seed.wrapping_add(req.sample as i64));
    request.sample = req.sample;
    request
}

/// The model name a student's endpoint serves it under: `model`, else the checkpoint
/// directory's name.
pub fn served_name(model: &ModelDecl) -> String {
    let s = Settings(&model.settings);
    match s.str("model") {
        Some(name) => name.to_string(),
        None => s
            .str("path")
            .map(|p| {
                let p = p.trim_end_matches(['/', '\\']);
                p.rsplit(['/', '\\']).next().unwrap_or(p).to_string()
            })
            .unwrap_or_default(),
    }
}

/// A local sample's seed: one stream per (seed, sample, record).
pub fn local_seed(seed: i64, sample: u64, id: &str) -> u64 {
    let digest = hash_json(&serde_json::json!([seed, sample, id]));
    u64::from_str_radix(&digest[..16.min(digest.len())], 16).unwrap_or(seed as u64 ^ sample)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_seeds_differ_by_sample_and_record_and_repeat() {
        let a = local_seed(0, 0, "p1");
        assert_eq!(a, local_seed(0, 0, "p1"));
        assert_ne!(a, local_seed(0, 1, "p1"));
        assert_ne!(a, local_seed(0, 0, "p2"));
        assert_ne!(a, local_seed(1, 0, "p1"));
    }
}
