//! Built-in prompt texts (an op's default prompt) as templates.

use std::sync::Arc;

use dtac_grammar::ast::{StrKind, StrLit, Trivia};
use dtac_interpreter::resolve::PromptText;
use dtac_runtime::op::BuildError;

/// Parses a built-in template; a failure is a bug in dtac.
pub fn builtin(text: &str) -> Result<Arc<PromptText>, BuildError> {
    let lit = StrLit {
        value: text.to_string(),
        kind: Trivia(StrKind::Block),
        map: Trivia(Default::default()),
    };
    let template =
        dtac_grammar::template::parse_template(&lit).map_err(|_| BuildError::Invalid {
            message: "a built-in prompt does not parse".into(),
            help: "this is a bug in dtac: please report it".into(),
        })?;
    Ok(Arc::new(PromptText {
        name: Some("default".into()),
        segments: template.segments,
    }))
}
