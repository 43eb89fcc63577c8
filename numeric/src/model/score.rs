//! Teacher-forced scoring: log p(target_i | context, target_<i) for every target token,
//! many items at once.
//!
//! Each item becomes one sequence, `context ++ target`; the hidden state before each
//! target token, through the LM head, gives that token's log-probability. Sequences are
//! packed into right-padded batches by [`plan_batches`]; padding is never read, and a
//! causal model's real positions never see it, so an item scores the same alone or in any
//! batch.
//!
//! An empty context leaves the first target token nothing to condition on. If the
//! tokenizer has a BOS token it is put in front (as `transformers` would have when
//! tokenizing with special tokens) and every target token is scored; otherwise (Qwen) the
//! first target token is left unscored and its value is NaN. Results always have one value
//! per target token; [`mean_log_prob`] skips the NaN.

use candle_core::{Tensor, D};

use super::batching::plan_batches;
use super::decoder::Decoder;
use super::lm_head::{chunk_rows, target_log_probs};
use super::ModelError;

/// One sequence to score: the tokens conditioned on, and the tokens scored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScoreItem {
    pub context: Vec<u32>,
    pub target: Vec<u32>,
}

impl ScoreItem {
    pub fn new(context: Vec<u32>, target: Vec<u32>) -> ScoreItem {
        ScoreItem { context, target }
    }
}

/// The mean of the scored values (NaN, for an unscored first token, skipped), or `None`
/// when nothing was scored. `exp(-mean)` is the perplexity.
pub fn mean_log_prob(scores: &[f32]) -> Option<f64> {
    let scored: Vec<f64> = scores
        .iter()
        .filter(|v| !v.is_nan())
        .map(|&v| f64::from(v))
        .collect();
    (!scored.is_empty()).then(|| scored.iter().sum::<f64>() / scored.len() as f64)
}

/// An item laid out for the model.
struct Sequence {
    ids: Vec<u32>,
    /// Tokens before the target (context, or the BOS token).
    prefix: usize,
}

impl Sequence {
    /// Target indices that get a value: all of them after a prefix, all but the first
    /// without one.
    fn first_scored(&self) -> usize {
        usize::from(self.prefix == 0)
    }

    fn scored(&self) -> usize {
        (self.ids.len() - self.prefix).saturating_sub(self.first_scored())
    }
}

/// Scores `items` with `decoder`; see the module docs.
pub fn score(
    decoder: &Decoder,
    bos: Option<u32>,
    items: &[ScoreItem],
    budget_tokens: usize,
) -> Result<Vec<Vec<f32>>, ModelError> {
    let cfg = decoder.config();
    let mut sequences = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(&token) = item
            .context
            .iter()
            .chain(&item.target)
            .find(|&&t| t as usize >= cfg.vocab_size)
        {
            return Err(ModelError::TokenOutOfRange {
                item: i,
                token,
                vocab_size: cfg.vocab_size,
            });
        }
        let prefix: &[u32] = match (item.context.is_empty(), &bos) {
            (false, _) => &item.context,
            (true, Some(b)) => std::slice::from_ref(b),
            (true, None) => &[],
        };
        let ids: Vec<u32> = prefix.iter().chain(&item.target).copied().collect();
        if let Some(window) = cfg.sliding_window.filter(|&w| ids.len() > w) {
            return Err(ModelError::BeyondSlidingWindow {
                item: i,
                len: ids.len(),
                window,
            });
        }
        sequences.push(Sequence {
            prefix: prefix.len(),
            ids,
        });
    }
    let mut results: Vec<Vec<f32>> = items
        .iter()
        .map(|it| vec![f32::NAN; it.target.len()])
        .collect();
    let runnable: Vec<usize> = (0..sequences.len())
        .filter(|&i| sequences[i].scored() > 0)
        .collect();
    let lengths: Vec<usize> = runnable.iter().map(|&i| sequences[i].ids.len()).collect();
    for batch in plan_batches(&lengths, budget_tokens) {
        let members: Vec<usize> = batch.iter().map(|&b| runnable[b]).collect();
        let values = run_batch(decoder, &sequences, &members)?;
        for (item, scores) in members.into_iter().zip(values) {
            let first = sequences[item].first_scored();
            results[item][first..].copy_from_slice(&scores);
        }
    }
    Ok(results)
}

/// One padded forward pass; returns each member's scored values in order.
fn run_batch(
    decoder: &Decoder,
    sequences: &[Sequence],
    members: &[usize],
) -> Result<Vec<Vec<f32>>, ModelError> {
    let longest = members
        .iter()
        .map(|&i| sequences[i].ids.len())
        .max()
        .unwrap_or(0);
    let mut ids = vec![0u32; members.len() * longest];
    let mut rows = Vec::new();
    let mut targets = Vec::new();
    for (r, &i) in members.iter().enumerate() {
        let seq = &sequences[i];
        ids[r * longest..r * longest + seq.ids.len()].copy_from_slice(&seq.ids);
        // The hidden state at position p predicts the token at p + 1.
        for pos in seq.prefix + seq.first_scored()..seq.ids.len() {
            rows.push((r * longest + pos - 1) as u32);
            targets.push(seq.ids[pos]);
        }
    }
    let during = format!(
        "scoring a batch of {} sequences of up to {longest} tokens",
        members.len()
    );
    let fail = ModelError::compute(during.clone());
    let device = decoder.device();
    let hidden = Tensor::from_vec(ids, (members.len(), longest), device)
        .and_then(|ids| decoder.hidden_states(&ids))
        .and_then(|h| h.flatten_to(D::Minus2))
        .and_then(|h| h.index_select(&Tensor::from_vec(rows, targets.len(), device)?, 0))
        .map_err(fail)?;
    let lm_head = decoder.lm_head();
    let values = target_log_probs(
        &hidden,
        lm_head,
        &targets,
        chunk_rows(lm_head.dim(0).unwrap_or(1)),
    )
    .map_err(ModelError::compute(during))?;
    let mut out = Vec::with_capacity(members.len());
    let mut at = 0;
    for &i in members {
        let n = sequences[i].scored();
        out.push(values[at..at + n].to_vec());
        at += n;
    }
    Ok(out)
}
