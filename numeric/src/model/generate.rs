//! Sampling a continuation from a local model: the prompt runs once through the decoder
//! into a key/value cache, then one token per step. Stops at a stop token (not included
//! in the result) or after `max_tokens`.

use candle_core::{DType, Tensor};

use super::decoder::{Decoder, KvCache};
use super::sampling::{next_token, Sampling};
use super::ModelError;
use crate::train::Prng;

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    Stop,
    Length,
}

impl Finish {
    /// `stop` or `length`, as OpenAI-compatible servers say it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Finish::Stop => "stop",
            Finish::Length => "length",
        }
    }
}

/// A sampled continuation.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub tokens: Vec<u32>,
    pub finish: Finish,
}

pub(crate) fn generate(
    decoder: &Decoder,
    prompt: &[u32],
    sampling: &Sampling,
    stops: &[u32],
) -> Result<Generation, ModelError> {
    let fail = |what: &str| ModelError::compute(format!("generation ({what})"));
    let mut cache = KvCache::default();
    let mut rng = Prng::new(sampling.seed);
    let mut tokens = Vec::new();
    let mut input = prompt.to_vec();
    let window = decoder.config().sliding_window;
    while tokens.len() < sampling.max_tokens {
        if window.is_some_and(|w| cache.len() + input.len() > w) {
            break;
        }
        let ids =
            Tensor::from_slice(&input, (1, input.len()), decoder.device()).map_err(fail("ids"))?;
        let hidden = decoder
            .hidden_states_cached(&ids, &mut cache)
            .map_err(fail("forward"))?;
        let last = hidden
            .narrow(1, input.len() - 1, 1)
            .and_then(|h| h.flatten_all())
            .map_err(fail("hidden"))?;
        let logits = last
            .unsqueeze(0)
            .and_then(|h| h.matmul(&decoder.lm_head().t()?))
            .and_then(|l| l.to_dtype(DType::F32))
            .and_then(|l| l.squeeze(0))
            .and_then(|l| l.to_vec1::<f32>())
            .map_err(fail("LM head"))?;
        let token = next_token(&logits, sampling, &mut rng) as u32;
        if stops.contains(&token) {
            return Ok(Generation {
                tokens,
                finish: Finish::Stop,
            });
        }
        tokens.push(token);
        input = vec![token];
    }
    Ok(Generation {
        tokens,
        finish: Finish::Length,
    })
}

/// Rows of the input embedding as f32 `[ids.len(), hidden]`.
pub(crate) fn embeddings(decoder: &Decoder, ids: &[u32]) -> Result<Tensor, ModelError> {
    let fail = ModelError::compute("reading token embeddings".to_string());
    Tensor::from_slice(ids, ids.len(), decoder.device())
        .and_then(|i| decoder.embedding().index_select(&i, 0))
        .and_then(|e| e.to_dtype(DType::F32))
        .map_err(fail)
}
