//! `LocalModel`: a checkpoint loaded for scoring. It holds the decoder's weights, the
//! tokenizer and the chat template; every method takes `&self` and keeps no state
//! between calls, so one model can be shared by threads.

use std::path::Path;

use candle_core::{DType, Device, Tensor};

use super::decoder::Decoder;
use super::generate::{self, Generation};
use super::lm_head;
use super::sampling::Sampling;
use super::score::{self, ScoreItem};
use super::weights::load_weights;
use super::{
    ChatError, ChatMessage, ChatTemplate, CheckpointInfo, DeviceSpec, ModelError, Precision,
    Tokenizer,
};

/// A loaded local model.
#[derive(Debug, Clone)]
pub struct LocalModel {
    info: CheckpointInfo,
    tokenizer: Tokenizer,
    /// The compiled template, or why there is none (reported when it is asked for, so a
    /// model whose template is broken still scores raw ids).
    chat: Result<ChatTemplate, ChatError>,
    decoder: Decoder,
    precision: Precision,
}

impl LocalModel {
    /// Loads the weights of an inspected checkpoint onto `device` in `precision`.
    pub fn load(
        info: &CheckpointInfo,
        device: &DeviceSpec,
        precision: Precision,
    ) -> Result<LocalModel, ModelError> {
        let device = device.resolve()?;
        let tokenizer = Tokenizer::load(&info.tokenizer_path())?;
        let tensors = load_weights(info, precision.dtype(), &device)?;
        let decoder = Decoder::new(&info.config, tensors).map_err(ModelError::compute(format!(
            "building the model from `{}`",
            info.dir.display()
        )))?;
        Ok(LocalModel {
            chat: info.chat_template(None),
            info: info.clone(),
            tokenizer,
            decoder,
            precision,
        })
    }

    pub fn info(&self) -> &CheckpointInfo {
        &self.info
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The chat template (the checkpoint's, or the override), or why there is none.
    pub fn chat(&self) -> Result<&ChatTemplate, ChatError> {
        self.chat.as_ref().map_err(Clone::clone)
    }

    /// Replaces the checkpoint's chat template with the one in `path`.
    pub fn set_chat_template(&mut self, path: &Path) -> Result<(), ChatError> {
        self.chat = Ok(ChatTemplate::from_file(
            path,
            self.info.special_tokens.clone(),
        )?);
        Ok(())
    }

    pub fn device(&self) -> &Device {
        self.decoder.device()
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Renders `messages` with the chat template and tokenizes the text without adding
    /// special tokens (the template wrote them), as `apply_chat_template(tokenize=True)`.
    pub fn encode_chat(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<Vec<u32>, ModelError> {
        let text = self.chat()?.render(messages, add_generation_prompt)?;
        Ok(self.tokenizer.encode(&text, false)?)
    }

    /// Teacher-forced log p(target_i | context, target_<i), natural log, f32, one value per
    /// target token, in input order. Items are packed into batches of at most
    /// `budget_tokens` padded tokens (an item longer than that runs alone). With an empty
    /// context the tokenizer's BOS token is put in front; a model without one (Qwen)
    /// leaves the first target token unscored, as NaN. See [`score::mean_log_prob`].
    pub fn score(
        &self,
        items: &[ScoreItem],
        budget_tokens: usize,
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        score::score(&self.decoder, self.info.bos_token_id, items, budget_tokens)
    }

    /// Final hidden states `[T, hidden]` of one sequence, in the model's dtype.
    pub fn hidden_states(&self, ids: &[u32]) -> Result<Tensor, ModelError> {
        self.check_ids(ids, "a forward pass")?;
        let fail = ModelError::compute(format!("a forward pass over {} tokens", ids.len()));
        Tensor::from_slice(ids, (1, ids.len()), self.device())
            .and_then(|t| self.decoder.hidden_states(&t))
            .and_then(|h| h.squeeze(0))
            .map_err(fail)
    }

    /// Full-sequence logits `[T, vocab]` in f32 for one sequence: row `t` is the
    /// distribution of token `t + 1`. Materializes `T × vocab`; for log-probabilities of
    /// given tokens over long sequences use [`target_log_probs`](Self::target_log_probs).
    pub fn logits(&self, ids: &[u32]) -> Result<Tensor, ModelError> {
        let hidden = self.hidden_states(ids)?;
        lm_head::logits(&hidden, self.decoder.lm_head()).map_err(ModelError::compute(format!(
            "logits over {} tokens",
            ids.len()
        )))
    }

    /// log p(`targets[i]`) from hidden-state row `i` (`hidden` is `[N, hidden]`, as
    /// [`hidden_states`](Self::hidden_states) returns), through the LM head in row chunks
    /// so `N × vocab` logits never exist at once.
    pub fn target_log_probs(
        &self,
        hidden: &Tensor,
        targets: &[u32],
    ) -> Result<Vec<f32>, ModelError> {
        let rows = hidden
            .dim(0)
            .map_err(ModelError::compute("reading hidden states"))?;
        if rows != targets.len() {
            return Err(ModelError::TargetCount {
                rows,
                targets: targets.len(),
            });
        }
        self.check_range(targets)?;
        let head = self.decoder.lm_head();
        lm_head::target_log_probs(
            hidden,
            head,
            targets,
            lm_head::chunk_rows(self.info.vocab_size),
        )
        .map_err(ModelError::compute("the LM head"))
    }

    /// The dtype weights are held in.
    pub fn dtype(&self) -> DType {
        self.decoder.dtype()
    }

    /// The LM head `[vocab, hidden]` in the model's dtype (the embedding when tied): a
    /// frozen teacher's logits are made from it chunk by chunk during training.
    pub fn lm_head(&self) -> &Tensor {
        self.decoder.lm_head()
    }

    /// Samples a continuation of `prompt` (token ids) until a stop token or
    /// `sampling.max_tokens`; the stop token is not included.
    pub fn generate(&self, prompt: &[u32], sampling: &Sampling) -> Result<Generation, ModelError> {
        self.check_ids(prompt, "generation")?;
        generate::generate(&self.decoder, prompt, sampling, &self.stop_tokens())
    }

    /// The ids that end a turn or a text: `eos_token_id` from the config, and the
    /// end-of-turn and end-of-text tokens of the common templates when the vocabulary
    /// has them.
    pub fn stop_tokens(&self) -> Vec<u32> {
        let mut out = self.info.config.eos_token_ids.clone();
        for name in [
            "<|im_end|>",
            "<|eot_id|>",
            "<|end|>",
            "<|endoftext|>",
            "<end_of_turn>",
            "</s>",
        ] {
            if let Some(id) = self.tokenizer.token_id(name) {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
        out
    }

    /// Input-embedding rows for `ids`, `[ids.len(), hidden]` in f32.
    pub fn token_embeddings(&self, ids: &[u32]) -> Result<Tensor, ModelError> {
        self.check_range(ids)?;
        generate::embeddings(&self.decoder, ids)
    }

    fn check_ids(&self, ids: &[u32], what: &'static str) -> Result<(), ModelError> {
        if ids.is_empty() {
            return Err(ModelError::EmptySequence { what });
        }
        self.check_range(ids)?;
        if let Some(window) = self.info.config.sliding_window.filter(|&w| ids.len() > w) {
            return Err(ModelError::BeyondSlidingWindow {
                item: 0,
                len: ids.len(),
                window,
            });
        }
        Ok(())
    }

    fn check_range(&self, ids: &[u32]) -> Result<(), ModelError> {
        if let Some(&token) = ids.iter().find(|&&t| t as usize >= self.info.vocab_size) {
            return Err(ModelError::TokenOutOfRange {
                item: 0,
                token,
                vocab_size: self.info.vocab_size,
            });
        }
        Ok(())
    }
}
