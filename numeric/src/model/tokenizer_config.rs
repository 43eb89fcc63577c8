//! `tokenizer_config.json`: the chat template and the special tokens a template refers to
//! (`bos_token`, `eos_token`, …). Newer `transformers` versions save the template beside
//! it as `chat_template.jinja`; that file is read when the JSON has no template.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::CheckpointError;

pub const TOKENIZER_CONFIG_FILE: &str = "tokenizer_config.json";
pub const CHAT_TEMPLATE_FILE: &str = "chat_template.jinja";

/// What dtac reads from `tokenizer_config.json`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenizerConfig {
    /// The default chat template's source, and the file it came from.
    pub chat_template: Option<(String, PathBuf)>,
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
    pub unk_token: Option<String>,
    pub pad_token: Option<String>,
    /// Whether the file exists at all: without it, `config.json`'s `bos_token_id` is the
    /// only word on a BOS token.
    pub present: bool,
}

impl TokenizerConfig {
    /// Reads the files in `dir`; both are optional.
    pub fn read(dir: &Path) -> Result<TokenizerConfig, CheckpointError> {
        let path = dir.join(TOKENIZER_CONFIG_FILE);
        let mut config = TokenizerConfig::default();
        if path.is_file() {
            let text = std::fs::read_to_string(&path).map_err(|source| CheckpointError::Io {
                path: path.clone(),
                source,
            })?;
            config = parse(&path, &text)?;
        }
        let jinja = dir.join(CHAT_TEMPLATE_FILE);
        if config.chat_template.is_none() && jinja.is_file() {
            let source = std::fs::read_to_string(&jinja).map_err(|source| CheckpointError::Io {
                path: jinja.clone(),
                source,
            })?;
            config.chat_template = Some((source, jinja));
        }
        Ok(config)
    }
}

fn parse(path: &Path, text: &str) -> Result<TokenizerConfig, CheckpointError> {
    let invalid = |message: String| CheckpointError::TokenizerConfigInvalid {
        path: path.to_path_buf(),
        message,
    };
    let value: Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let obj = value
        .as_object()
        .ok_or_else(|| invalid("the top level is not an object".into()))?;
    let chat_template = match obj.get("chat_template") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        // A list of named templates: "default" is the one `apply_chat_template` uses.
        Some(Value::Array(named)) => {
            let find = |name: &str| {
                named.iter().find_map(|t| {
                    (t.get("name")?.as_str()? == name)
                        .then(|| t.get("template")?.as_str().map(str::to_string))
                        .flatten()
                })
            };
            Some(find("default").ok_or_else(|| {
                invalid("`chat_template` lists named templates but none is named `default`".into())
            })?)
        }
        Some(_) => {
            return Err(invalid(
                "`chat_template` is neither a string nor a list".into(),
            ))
        }
    };
    let token = |key: &str| -> Result<Option<String>, CheckpointError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            // `AddedToken` objects: `{"content": "<s>", "special": true, …}`.
            Some(Value::Object(t)) => match t.get("content") {
                Some(Value::String(s)) => Ok(Some(s.clone())),
                _ => Err(invalid(format!("`{key}` has no `content` string"))),
            },
            Some(_) => Err(invalid(format!(
                "`{key}` is neither a string nor a token object"
            ))),
        }
    };
    Ok(TokenizerConfig {
        chat_template: chat_template.map(|t| (t, path.to_path_buf())),
        bos_token: token("bos_token")?,
        eos_token: token("eos_token")?,
        unk_token: token("unk_token")?,
        pad_token: token("pad_token")?,
        present: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_templates_pick_default_and_token_objects_give_content() {
        let text = r#"{"chat_template": [{"name": "tool_use", "template": "T"},
                                         {"name": "default", "template": "D"}],
                       "bos_token": {"content": "<s>", "special": true}, "eos_token": "</s>"}"#;
        let c = parse(Path::new("tc.json"), text).unwrap();
        assert_eq!(c.chat_template.unwrap().0, "D");
        assert_eq!(c.bos_token.as_deref(), Some("<s>"));
        assert_eq!(c.eos_token.as_deref(), Some("</s>"));
        let bad = parse(Path::new("tc.json"), r#"{"chat_template": 3}"#).unwrap_err();
        assert!(matches!(
            bad,
            CheckpointError::TokenizerConfigInvalid { .. }
        ));
    }
}
