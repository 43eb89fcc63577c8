//! A chat request to a teacher with the teacher's own defaults: its system message, model
//! and sampling settings. Ops that ask a teacher start here and override what the stage
//! sets.

use dtac_interpreter::resolve::ModelDecl;
use dtac_runtime::llm::{ChatRequest, Message};
use dtac_runtime::op::StageCtx;

use crate::settings::Settings;

/// `user` as the teacher would be asked it by default (sample 0).
pub fn teacher_request(cx: &StageCtx, teacher: &ModelDecl, user: &str) -> ChatRequest {
    let t = Settings(&teacher.settings);
    let mut messages = Vec::new();
    if let Some(system) = t.str("system") {
        messages.push(Message::system(system));
    }
    messages.push(Message::user(user));
    ChatRequest {
        temperature: t.float("temperature"),
        top_p: t.float("top_p"),
        top_k: t.int("top_k"),
        max_tokens: t.int("max_tokens"),
        stop: t.strings("stop"),
        seed: t.int("seed"),
        ..ChatRequest::new(
            cx.gateway.endpoint(teacher),
            t.str("model").unwrap_or_default(),
            messages,
        )
    }
}
