//! Who scores text for `score`, `perplexity` and `informativeness`: an endpoint
//! (`/v1/completions` with `echo`, see [`endpoint_scoring`]) or a local model in this
//! process (the numeric core, batched by [`crate::local::LocalScorer`]).

use std::sync::Arc;

use dtac_interpreter::resolve::{ModelDecl, Node};
use dtac_interpreter::signature::SignatureKind;
use dtac_runtime::llm::ScoreRequest;
use dtac_runtime::op::{BuildError, Estimate, OpError, StageCtx};
use dtac_runtime::record::Record;
use tokio::sync::OnceCell;

use super::endpoint_scoring::{self, text_of, SEPARATOR};
use crate::local::{self, LocalScorer, ScoreText};
use crate::settings::Settings;

/// Whether `model` is scored in-process: a student, or a teacher with local weights.
pub fn is_local(model: &ModelDecl) -> bool {
    model.kind == SignatureKind::Student || model.get("path").is_some()
}

/// The model a scoring stage asks, and how.
#[derive(Debug)]
pub enum Scorer {
    Endpoint(Arc<ModelDecl>),
    /// Loaded on the first record: a stage whose output is cached never loads weights.
    Local {
        model: Arc<ModelDecl>,
        loaded: OnceCell<LocalScorer>,
        budget: usize,
    },
}

impl Scorer {
    /// The scorer of `node`'s `model` setting. An endpoint scores raw text, so there the
    /// stage must say `chat_template = false`.
    pub fn of(node: &Node) -> Result<Scorer, BuildError> {
        let s = Settings(&node.settings);
        let model = s.model("model").ok_or_else(|| BuildError::Invalid {
            message: format!("`{}` needs a `model`", node.sig.name),
            help: "set `model = NAME`, a student or a teacher".into(),
        })?;
        let budget = s.int("batch_tokens").unwrap_or(16384).max(1) as usize;
        if is_local(&model) {
            return Ok(Scorer::local(model, budget));
        }
        if s.bool("chat_template") != Some(false) {
            return Err(BuildError::Invalid {
                message: format!(
                    "`{}` on the endpoint of teacher `{}` cannot apply a chat template: the \
                     endpoint scores raw text",
                    node.sig.name, model.name
                ),
                help: "set `chat_template = false` (context and text are then joined by a \
                       blank line), or score with a local model"
                    .into(),
            });
        }
        Ok(Scorer::Endpoint(model))
    }

    /// A local model's scorer with a token budget per batch.
    pub fn local(model: Arc<ModelDecl>, budget: usize) -> Scorer {
        Scorer::Local {
            model,
            loaded: OnceCell::new(),
            budget,
        }
    }

    pub fn model(&self) -> &Arc<ModelDecl> {
        match self {
            Scorer::Endpoint(model) | Scorer::Local { model, .. } => model,
        }
    }

    /// The natural-log probabilities of the target's scored tokens (a first token with
    /// nothing before it is left out).
    pub async fn logprobs(
        &self,
        cx: &StageCtx,
        record: &Record,
        text: ScoreText,
    ) -> Result<Vec<f64>, OpError> {
        match self {
            Scorer::Endpoint(model) => {
                let request = ScoreRequest {
                    endpoint: cx.gateway.endpoint(model),
                    model: Settings(&model.settings)
                        .str("model")
                        .unwrap_or_default()
                        .to_string(),
                    context: text.context.map(|c| c + SEPARATOR).unwrap_or_default(),
                    target: text.target,
                };
                Ok(cx.score(record, model, &request).await?.logprobs)
            }
            Scorer::Local {
                model,
                loaded,
                budget,
            } => {
                let scorer = loaded.get_or_try_init(|| load(model.clone())).await?;
                let item = text.tokens(scorer.model()).map_err(OpError::Record)?;
                let scores = scorer.score(item, *budget).await.map_err(OpError::Record)?;
                Ok(scores
                    .into_iter()
                    .filter(|v| !v.is_nan())
                    .map(f64::from)
                    .collect())
            }
        }
    }

    /// `requests` scoring requests per record: endpoint requests are priced like any
    /// other; a local model costs nothing.
    pub fn estimate(&self, inputs: u64, requests: u64) -> Estimate {
        match self {
            Scorer::Endpoint(model) => {
                let mut one = endpoint_scoring::estimate(model, inputs);
                for r in &mut one.requests {
                    r.requests *= requests;
                    r.prompt_tokens *= requests;
                }
                one
            }
            Scorer::Local { .. } => Estimate {
                records: inputs,
                requests: Vec::new(),
            },
        }
    }
}

/// The text of `target` in `record`, after the text of `context` when given.
pub fn fields_text(
    record: &Record,
    context: Option<&str>,
    target: &str,
    chat: bool,
) -> Result<ScoreText, OpError> {
    Ok(ScoreText {
        context: context.map(|f| text_of(record, f)).transpose()?,
        target: text_of(record, target)?,
        chat,
    })
}

/// Loads the weights off the async threads; a model that cannot load stops the run (no
/// record of this stage could be scored).
async fn load(model: Arc<ModelDecl>) -> Result<LocalScorer, OpError> {
    let loaded = tokio::task::spawn_blocking(move || local::loaded(&model)).await;
    match loaded {
        Ok(Ok(scorer)) => Ok(scorer),
        Ok(Err(message)) => Err(OpError::Fatal {
            message,
            help: "check the checkpoint with `dtac check`, and that the machine has memory \
                   for its weights (or use `dtype = \"bf16\"`)"
                .into(),
        }),
        Err(_) => Err(OpError::Fatal {
            message: "loading the model failed inside the numeric library".into(),
            help: "run `dtac check` on the recipe; report the checkpoint if it passes".into(),
        }),
    }
}
