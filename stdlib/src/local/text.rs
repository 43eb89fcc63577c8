//! From record text to token ids: what a scoring op conditions on and what it scores,
//! with or without the model's chat template.
//!
//! - With `chat` and a context: the context is the user turn, rendered with the template
//!   and its generation prompt (`<|im_start|>assistant\n`); the target follows as the
//!   assistant's reply. This is how the student sees an instruction and its answer.
//! - Without `chat`, a context is followed by a blank line and the target, as raw text;
//!   the tokenizer adds its own special tokens (a BOS) to the context.
//! - Without a context, the target is scored as raw text. A model with a BOS token
//!   conditions the first token on it; one without (Qwen) leaves it unscored.
//!   That is r-IFD's `PPL(x)`: the instruction alone, no template (METHODS.md §1.7).

use dtac_numeric::model::{ChatMessage, LocalModel, ScoreItem};

use crate::ops::endpoint_scoring::SEPARATOR;

/// What to score, as text.
#[derive(Clone, Debug)]
pub struct ScoreText {
    pub context: Option<String>,
    pub target: String,
    pub chat: bool,
}

impl ScoreText {
    /// The token ids of this text for `model`, or a record error's message.
    pub fn tokens(&self, model: &LocalModel) -> Result<ScoreItem, String> {
        let tokenizer = model.tokenizer();
        let target = tokenizer
            .encode(&self.target, false)
            .map_err(|e| e.to_string())?;
        let context = match (&self.context, self.chat) {
            (Some(context), true) => model
                .encode_chat(&[ChatMessage::new("user", context.as_str())], true)
                .map_err(|e| e.to_string())?,
            (Some(context), false) => tokenizer
                .encode(&format!("{context}{SEPARATOR}"), true)
                .map_err(|e| e.to_string())?,
            (None, _) => Vec::new(),
        };
        if target.is_empty() {
            return Err("the text to score is empty".into());
        }
        Ok(ScoreItem::new(context, target))
    }
}
