//! What `token_shift` counts: normalized words, or a model's own tokens.
//!
//! A model's tokens are counted by their text with surrounding whitespace trimmed, so a
//! byte-level BPE's `therefore` and `Ġtherefore` (the same word, at a line start and
//! after a space) are one row; tokens that are only whitespace are not counted.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dtac_interpreter::resolve::ModelDecl;
use dtac_numeric::model::Tokenizer;
use dtac_runtime::op::BuildError;

use crate::local::checkpoints::inspect_cached;
use crate::text::words::{for_each_word, words};

/// The unit of counting.
#[derive(Debug)]
pub enum Units {
    Words,
    Model(ModelTokens),
}

/// A model's tokenizer, with the text of each id it has met (decoding one id at a time is
/// the slow part).
#[derive(Debug)]
pub struct ModelTokens {
    pub model: String,
    tokenizer: Arc<Tokenizer>,
    text_of: Mutex<HashMap<u32, String>>,
}

impl Units {
    /// The tokenizer of `model`, which must be local: a student, or a teacher with a
    /// `path` (an endpoint does not say how it tokenizes).
    pub fn of_model(model: &ModelDecl) -> Result<Units, BuildError> {
        let Some(dir) = model.str("path") else {
            return Err(BuildError::Invalid {
                message: format!(
                    "`tokenizer = {}`: teacher `{}` has no local checkpoint to read a \
                     tokenizer from",
                    model.name, model.name
                ),
                help: "name a student, or a teacher with `path = \"...\"`; leave `tokenizer` \
                       out to count words"
                    .into(),
            });
        };
        let invalid = |message: String, help: String| BuildError::Invalid { message, help };
        let info = inspect_cached(dir.as_ref()).map_err(|p| invalid(p.message, p.help))?;
        let tokenizer = Tokenizer::load(&info.tokenizer_path())
            .map_err(|e| invalid(e.to_string(), e.help()))?;
        Ok(Units::Model(ModelTokens {
            model: model.name.clone(),
            tokenizer: Arc::new(tokenizer),
            text_of: Mutex::default(),
        }))
    }

    /// "words" or "tokens", for the report.
    pub fn name(&self) -> &'static str {
        match self {
            Units::Words => "words",
            Units::Model(_) => "tokens",
        }
    }

    /// The units of a marker (a word or a phrase), or an error message when it has none.
    pub fn marker(&self, text: &str) -> Result<Vec<String>, String> {
        let units = match self {
            Units::Words => words(text),
            // Markers occur inside text, after a space: tokenize them there.
            Units::Model(m) => m.split(&format!(" {}", text.trim()))?,
        };
        if units.is_empty() {
            return Err(format!("the marker `{text}` has no {}", self.name()));
        }
        Ok(units)
    }

    /// How a marker is shown: its normalized words, or as written when a model's tokens
    /// split it into pieces (`therefore` may be `there` + `fore`).
    pub fn shown(&self, marker: &str, units: &[String]) -> String {
        match self {
            Units::Words => units.join(" "),
            Units::Model(_) => marker.trim().to_string(),
        }
    }

    /// Calls `f` with each unit of `text`, in order.
    pub fn for_each(&self, text: &str, mut f: impl FnMut(&str)) -> Result<(), String> {
        match self {
            Units::Words => {
                for_each_word(text, f);
                Ok(())
            }
            Units::Model(m) => {
                for unit in m.split(text)? {
                    f(&unit);
                }
                Ok(())
            }
        }
    }
}

impl ModelTokens {
    fn split(&self, text: &str) -> Result<Vec<String>, String> {
        let ids = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| e.to_string())?;
        let mut known = self.text_of.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let piece = match known.entry(id) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(slot) => {
                    let piece = self
                        .tokenizer
                        .decode(&[id], false)
                        .map_err(|e| e.to_string())?;
                    slot.insert(piece.trim().to_string())
                }
            };
            if !piece.is_empty() {
                out.push(piece.clone());
            }
        }
        Ok(out)
    }
}
