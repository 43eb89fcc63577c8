//! Chat templates, rendered the way `transformers`' `apply_chat_template` renders them:
//! the Jinja source from `tokenizer_config.json` (or an override file), `trim_blocks`
//! and `lstrip_blocks` on, a context of `messages`, `add_generation_prompt` and the
//! special tokens (`bos_token`, `eos_token`, `unk_token`, `pad_token`), plus the
//! `raise_exception` function and a Python-compatible `tojson` filter.
//!
//! `strftime_now` is deliberately not defined: Llama 3.2 templates then fall back to a
//! fixed date instead of today's, so a rendered prompt, and every score computed from
//! it, is the same on every run.

use std::path::{Path, PathBuf};

use minijinja::{Environment, Error, ErrorKind, Value};
use serde::Serialize;
use serde_json::Map;

use super::chat_python;

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> ChatMessage {
        ChatMessage {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// A chat template could not be read, compiled or rendered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ChatError {
    #[error("the checkpoint `{dir}` has no chat template")]
    NoTemplate { dir: PathBuf },
    #[error("cannot read the chat template `{path}`: {message}")]
    Read { path: PathBuf, message: String },
    #[error("the chat template from `{origin}` does not compile: {message}")]
    Syntax { origin: PathBuf, message: String },
    #[error("the chat template from `{origin}` failed: {message}")]
    Render { origin: PathBuf, message: String },
    #[error("the chat template from `{origin}` refused the conversation: {message}")]
    Raised { origin: PathBuf, message: String },
}

impl ChatError {
    /// How to fix it, in a sentence.
    pub fn help(&self) -> String {
        match self {
            ChatError::NoTemplate { .. } => {
                "base models have no chat template: give one with the student's \
                 `chat_template = \"path/to/template.jinja\"`, or use the instruct checkpoint"
                    .into()
            }
            ChatError::Read { .. } => "check the template path".into(),
            ChatError::Syntax { .. } | ChatError::Render { .. } => {
                "the template uses Jinja that dtac does not support: give a simpler template \
                 with `chat_template = \"path/to/template.jinja\"`"
                    .into()
            }
            ChatError::Raised { .. } => {
                "the template itself rejected the messages (often: roles must alternate \
                 user/assistant, or a system message must come first); fix the conversation"
                    .into()
            }
        }
    }
}

/// The special tokens a template may refer to by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SpecialTokens {
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
    pub unk_token: Option<String>,
    pub pad_token: Option<String>,
}

const NAME: &str = "chat_template";
const RAISED: &str = "raise_exception: ";

/// A compiled chat template.
#[derive(Debug, Clone)]
pub struct ChatTemplate {
    env: Environment<'static>,
    origin: PathBuf,
    special: SpecialTokens,
}

impl ChatTemplate {
    /// Compiles `source`; `origin` names where it came from, for messages.
    pub fn new(
        source: &str,
        origin: &Path,
        special: SpecialTokens,
    ) -> Result<ChatTemplate, ChatError> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_unknown_method_callback(chat_python::call_method);
        env.add_filter("tojson", chat_python::tojson);
        env.add_function(
            "raise_exception",
            |message: String| -> Result<Value, Error> {
                Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("{RAISED}{message}"),
                ))
            },
        );
        env.add_template_owned(NAME, source.to_string())
            .map_err(|e| ChatError::Syntax {
                origin: origin.to_path_buf(),
                message: describe(&e),
            })?;
        Ok(ChatTemplate {
            env,
            origin: origin.to_path_buf(),
            special,
        })
    }

    /// Reads and compiles a template file (a `chat_template` override).
    pub fn from_file(path: &Path, special: SpecialTokens) -> Result<ChatTemplate, ChatError> {
        let source = std::fs::read_to_string(path).map_err(|e| ChatError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        ChatTemplate::new(&source, path, special)
    }

    /// Where the template came from.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// Renders a conversation. With `add_generation_prompt` the text ends where the
    /// assistant's reply would begin. Encode the result without adding special tokens:
    /// the template already wrote them.
    pub fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String, ChatError> {
        self.render_with(messages, add_generation_prompt, &Map::new())
    }

    /// [`render`](Self::render) with extra template variables, as `apply_chat_template`'s
    /// keyword arguments (for example `{"enable_thinking": false}` for Qwen3).
    pub fn render_with(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
        extra: &Map<String, serde_json::Value>,
    ) -> Result<String, ChatError> {
        let mut ctx = extra.clone();
        let special = serde_json::to_value(&self.special).unwrap_or_default();
        if let serde_json::Value::Object(tokens) = special {
            ctx.extend(tokens.into_iter().filter(|(_, v)| !v.is_null()));
        }
        ctx.insert(
            "messages".into(),
            serde_json::to_value(messages).unwrap_or_default(),
        );
        ctx.insert("add_generation_prompt".into(), add_generation_prompt.into());
        let template = self
            .env
            .get_template(NAME)
            .map_err(|e| self.render_error(&e))?;
        template
            .render(Value::from_serialize(&ctx))
            .map_err(|e| self.render_error(&e))
    }

    fn render_error(&self, e: &Error) -> ChatError {
        let origin = self.origin.clone();
        match e.detail().and_then(|d| d.strip_prefix(RAISED)) {
            Some(message) => ChatError::Raised {
                origin,
                message: message.to_string(),
            },
            None => ChatError::Render {
                origin,
                message: describe(e),
            },
        }
    }
}

/// minijinja's message with the template line, without the debug dump.
fn describe(e: &Error) -> String {
    let mut message = e.to_string();
    if let Some(line) = e.line() {
        if !message.contains("line") {
            message.push_str(&format!(" (line {line})"));
        }
    }
    message
}
