//! Structured answers from reviewers and judges: the `response_format` that asks for a JSON
//! object following a schema, the extraction of that object from whatever the model wrote,
//! its validation, and the user message of the repair turn when it is not valid.
//!
//! Servers are free to ignore `response_format`, so every answer is validated on receipt.
//! The validator covers the JSON Schema subset that OpenAI structured outputs accept:
//! `type`, `properties`, `required`, `additionalProperties`, `items`, `minItems`,
//! `maxItems`, `enum`, `const`, `minimum`, `maximum`, `exclusiveMinimum`,
//! `exclusiveMaximum`, `minLength`, `maxLength`, `anyOf` and local `$ref`s (`#`,
//! `#/$defs/...`, `#/definitions/...`). Any other keyword (`description`, `title`,
//! `pattern`, `format`, ...) is ignored, so it constrains nothing.
//!
//! Error messages are read by the model in the repair turn as well as by people, so each
//! is one short line starting with a JSON-path-like location: `$.scores.clarity: expected
//! integer, got string "7"`.

mod check;
mod describe;
mod parse;
mod validate;

pub use check::check_schema;
pub use parse::parse_answer;
pub use validate::{validate, MAX_ERRORS};

use serde_json::{json, Value};

/// The `response_format` body asking for a JSON object that follows `schema`. OpenAI
/// accepts only `[A-Za-z0-9_-]{1,64}` as the name, so other characters become `_`.
pub fn response_format(name: &str, schema: &Value) -> Value {
    let mut name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        name.push_str("answer");
    }
    json!({
        "type": "json_schema",
        "json_schema": { "name": name, "schema": schema, "strict": true },
    })
}

/// The user message of a repair turn: what was wrong with the previous answer and the
/// schema to follow, compact so that it costs few tokens.
pub fn repair_message(errors: &[String], schema: &Value) -> String {
    let mut message = String::from("Your previous answer was not valid");
    if errors.is_empty() {
        message.push_str(".\n");
    } else {
        message.push_str(":\n");
        for error in errors {
            message.push_str("- ");
            message.push_str(error);
            message.push('\n');
        }
    }
    message.push_str(
        "\nReply with only a JSON object that follows this JSON schema, with no other text:\n",
    );
    message.push_str(&schema.to_string());
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_format_is_the_openai_json_schema_body() {
        let schema = json!({ "type": "object" });
        assert_eq!(
            response_format("judge", &schema),
            json!({
                "type": "json_schema",
                "json_schema": { "name": "judge", "schema": schema, "strict": true },
            })
        );
    }

    #[test]
    fn response_format_names_are_made_acceptable_to_openai() {
        let name = |raw: &str| response_format(raw, &json!({}))["json_schema"]["name"].clone();
        assert_eq!(name("review step.v2"), "review_step_v2");
        assert_eq!(name(""), "answer");
        assert_eq!(name(&"n".repeat(100)).as_str().unwrap().len(), 64);
    }

    #[test]
    fn repair_message_lists_the_errors_and_the_compact_schema() {
        let schema = json!({ "type": "object", "required": ["verdict"] });
        let errors = vec![
            r#"$: missing required property "verdict""#.to_owned(),
            "$.x: expected integer, got number 1.5".to_owned(),
        ];
        assert_eq!(
            repair_message(&errors, &schema),
            concat!(
                "Your previous answer was not valid:\n",
                "- $: missing required property \"verdict\"\n",
                "- $.x: expected integer, got number 1.5\n",
                "\nReply with only a JSON object that follows this JSON schema, ",
                "with no other text:\n",
                r#"{"required":["verdict"],"type":"object"}"#,
            )
        );
        assert!(repair_message(&[], &schema).starts_with("Your previous answer was not valid.\n"));
    }
}
