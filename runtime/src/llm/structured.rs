//! Structured answers for reviewers and judges: the op's JSON schema goes out as
//! `response_format` (unless the teacher sets `structured_outputs = false`), and every
//! answer is validated on receipt, because servers may ignore the format or honour it
//! loosely. An invalid answer gets a bounded repair turn that quotes the errors; every
//! turn is an ordinary cached request, so a resumed run replays the same conversation.

use dtac_interpreter::resolve::{ModelDecl, Value};
use serde_json::Value as Json;

use super::gateway::Gateway;
use super::provider::Caller;
use super::request::{ChatRequest, ChatResponse, Message};
use super::schema;
use crate::op::OpError;

/// The JSON an op asked for, and the answer that carried it.
#[derive(Clone, Debug, PartialEq)]
pub struct Structured {
    pub value: Json,
    pub response: ChatResponse,
    /// Repair turns it took (0 when the first answer was valid).
    pub repairs: u32,
}

impl Gateway {
    /// Asks `teacher` for a JSON value following `schema` (named `name` in the request),
    /// with at most `repairs` repair turns after the first answer.
    #[allow(clippy::too_many_arguments)]
    pub async fn chat_json(
        &self,
        caller: Caller<'_>,
        stage_key: &str,
        teacher: &ModelDecl,
        request: &ChatRequest,
        name: &str,
        schema: &Json,
        repairs: u32,
    ) -> Result<Structured, OpError> {
        let mut request = request.clone();
        let structured = !matches!(teacher.get("structured_outputs"), Some(Value::Bool(false)));
        if structured {
            request.response_format = Some(schema::response_format(name, schema));
        }
        let mut turn = 0;
        loop {
            let response = self.chat(caller, stage_key, teacher, &request).await?;
            let errors = match schema::parse_answer(&response.text) {
                Ok(value) => {
                    let errors = schema::validate(schema, &value);
                    if errors.is_empty() {
                        return Ok(Structured {
                            value,
                            response,
                            repairs: turn,
                        });
                    }
                    errors
                }
                Err(e) => vec![e],
            };
            if turn >= repairs {
                let answers = if turn == 0 { "answer" } else { "answers" };
                return Err(OpError::Record(format!(
                    "{} {answers} did not follow the schema `{name}`: {}",
                    turn + 1,
                    errors.join("; ")
                )));
            }
            turn += 1;
            request.messages.push(Message::assistant(response.text));
            request
                .messages
                .push(Message::user(schema::repair_message(&errors, schema)));
        }
    }
}
