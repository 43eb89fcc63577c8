//! A checkpoint's tokenizer (`tokenizer.json`, the `tokenizers` crate's format), behind a
//! small interface: text to ids and back, the vocabulary's size and token strings.

use std::path::{Path, PathBuf};

use super::VocabFingerprint;

/// Tokenizing or detokenizing failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("the tokenizer `{path}` cannot be loaded: {message}")]
    Load { path: PathBuf, message: String },
    #[error("the tokenizer `{path}` cannot encode the text: {message}")]
    Encode { path: PathBuf, message: String },
    #[error("the tokenizer `{path}` cannot decode the ids: {message}")]
    Decode { path: PathBuf, message: String },
}

impl TokenizerError {
    /// How to fix it, in a sentence.
    pub fn help(&self) -> String {
        match self {
            TokenizerError::Load { .. } => {
                "use the checkpoint's own `tokenizer.json` (a fast tokenizer saved by \
                 `transformers` or `tokenizers`)"
                    .into()
            }
            TokenizerError::Encode { .. } | TokenizerError::Decode { .. } => {
                "check that the ids come from this model's tokenizer".into()
            }
        }
    }
}

/// A loaded `tokenizer.json`.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    path: PathBuf,
    vocab_size: usize,
}

impl Tokenizer {
    /// Loads `tokenizer.json` from `path`.
    pub fn load(path: &Path) -> Result<Tokenizer, TokenizerError> {
        let inner = tokenizers::Tokenizer::from_file(path).map_err(|e| TokenizerError::Load {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        // Ids, not entries, are what must fit the embedding: count to the largest id.
        let vocab_size = inner
            .get_vocab(true)
            .values()
            .max()
            .map_or(0, |&id| id as usize + 1);
        Ok(Tokenizer {
            inner,
            path: path.to_path_buf(),
            vocab_size,
        })
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The ids of `text`. With `add_special_tokens` the tokenizer's post-processor runs
    /// (for Llama it prepends `<|begin_of_text|>`; Qwen adds nothing). Text rendered from
    /// a chat template already holds its special tokens: encode it without.
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, TokenizerError> {
        self.inner
            .encode(text, add_special_tokens)
            .map(|enc| enc.get_ids().to_vec())
            .map_err(|e| TokenizerError::Encode {
                path: self.path.clone(),
                message: e.to_string(),
            })
    }

    /// The text of `ids`; with `skip_special_tokens`, special tokens are left out.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String, TokenizerError> {
        self.inner
            .decode(ids, skip_special_tokens)
            .map_err(|e| TokenizerError::Decode {
                path: self.path.clone(),
                message: e.to_string(),
            })
    }

    /// One past the largest token id, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// The token string of `id` as the vocabulary spells it (byte-level BPE shows a
    /// leading space as `Ġ`), or `None` for an id the vocabulary lacks.
    pub fn token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// The id of a token string (for example `"<|im_end|>"`).
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The vocabulary's fingerprint, to compare with another checkpoint's.
    pub fn fingerprint(&self) -> VocabFingerprint {
        VocabFingerprint::of(self.vocab_size, |id| self.inner.id_to_token(id))
    }
}
