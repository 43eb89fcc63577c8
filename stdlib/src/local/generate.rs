//! Sampling from a local model without blocking the async executor: the process-wide
//! loaded copy (see [`super::loaded`]) generates on tokio's blocking pool.

use dtac_interpreter::resolve::ModelDecl;
use dtac_numeric::model::{ChatMessage, Sampling};

/// Sampling settings, as ops hold them.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleParams {
    pub temperature: f64,
    pub top_p: f64,
    pub top_k: usize,
    pub max_tokens: usize,
    pub seed: u64,
}

impl SampleParams {
    fn sampling(&self) -> Sampling {
        Sampling {
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: self.top_k,
            max_tokens: self.max_tokens,
            seed: self.seed,
        }
    }
}

/// A local continuation: its text (the continuation only) and ids.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalSample {
    pub text: String,
    pub token_ids: Vec<u32>,
    pub finish: &'static str,
}

/// The model's chat template over `[system?, user]` with the generation prompt, then
/// `assistant_prefix` verbatim (the student continuing its own answer), continued.
pub async fn sample_chat(
    model: &ModelDecl,
    system: Option<&str>,
    user: &str,
    assistant_prefix: &str,
    params: &SampleParams,
) -> Result<LocalSample, String> {
    let scorer = super::loaded(model)?;
    let m = scorer.shared();
    let mut messages = Vec::new();
    if let Some(s) = system {
        messages.push(ChatMessage::new("system", s));
    }
    messages.push(ChatMessage::new("user", user));
    let (prefix, sampling, what) = (
        assistant_prefix.to_string(),
        params.sampling(),
        scorer.what().to_string(),
    );
    tokio::task::spawn_blocking(move || {
        let mut ids = m
            .encode_chat(&messages, true)
            .map_err(|e| format!("{what}: {e}"))?;
        if !prefix.is_empty() {
            ids.extend(
                m.tokenizer()
                    .encode(&prefix, false)
                    .map_err(|e| format!("{what}: {e}"))?,
            );
        }
        let out = m
            .generate(&ids, &sampling)
            .map_err(|e| format!("{what}: {e}"))?;
        let text = m
            .tokenizer()
            .decode(&out.tokens, true)
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(LocalSample {
            text,
            token_ids: out.tokens,
            finish: out.finish.as_str(),
        })
    })
    .await
    .map_err(|e| format!("local sampling failed: {e}"))?
}

/// Continues raw token ids (no template): TOPD's probes.
pub async fn continue_ids(
    model: &ModelDecl,
    ids: Vec<u32>,
    params: &SampleParams,
) -> Result<Vec<u32>, String> {
    let scorer = super::loaded(model)?;
    let (m, sampling, what) = (
        scorer.shared(),
        params.sampling(),
        scorer.what().to_string(),
    );
    tokio::task::spawn_blocking(move || {
        m.generate(&ids, &sampling)
            .map(|g| g.tokens)
            .map_err(|e| format!("{what}: {e}"))
    })
    .await
    .map_err(|e| format!("local sampling failed: {e}"))?
}
