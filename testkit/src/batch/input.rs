//! Checking a batch's JSONL input file, line by line, the way OpenAI does before it runs
//! anything.
//!
//! Any problem fails the whole batch, with every problem listed (code, message, param,
//! 1-based line) in the batch's `errors`. Request bodies are not checked here: as on
//! OpenAI, a body the endpoint refuses becomes that line's 400 result.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::batch::state::InputError;
use crate::request::Endpoint;

/// OpenAI's limit on requests in one batch.
pub(crate) const MAX_REQUESTS: usize = 50_000;

/// One request of a checked input file.
#[derive(Debug, Clone)]
pub(crate) struct InputLine {
    pub(crate) custom_id: String,
    pub(crate) body: Value,
}

/// The file's requests in order, or everything wrong with it. Blank lines are skipped,
/// but still counted in the line numbers errors report.
pub(crate) fn check(data: &[u8], endpoint: Endpoint) -> Result<Vec<InputLine>, Vec<InputError>> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut model: Option<String> = None;
    for (i, raw) in data.split(|&b| b == b'\n').enumerate() {
        let number = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match check_line(raw, endpoint) {
            Ok(line) => {
                if !seen.insert(line.custom_id.clone()) {
                    errors.push(error(
                        "duplicate_custom_id",
                        "The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each individual request in a batch.",
                        Some("custom_id"),
                        number,
                    ));
                }
                // One batch, one model: OpenAI refuses files that mix them.
                if let Some(m) = line.body.get("model").and_then(Value::as_str) {
                    match &model {
                        None => model = Some(m.to_string()),
                        Some(first) if first != m => errors.push(error(
                            "model_mismatch",
                            &format!("The provided model '{m}' does not match the model '{first}' of the other requests in the batch. Each batch must use a single model."),
                            Some("body.model"),
                            number,
                        )),
                        Some(_) => {}
                    }
                }
                lines.push(line);
            }
            Err(e) => errors.push(InputError {
                line: Some(number),
                ..e
            }),
        }
    }
    if lines.is_empty() && errors.is_empty() {
        errors.push(InputError {
            code: "empty_file",
            message:
                "The batch input file is empty. Please provide a file with at least one request."
                    .into(),
            param: None,
            line: None,
        });
    }
    if lines.len() > MAX_REQUESTS {
        errors.push(InputError {
            code: "too_many_tasks",
            message: format!(
                "The batch input file has {} requests; the limit is {MAX_REQUESTS}.",
                lines.len()
            ),
            param: None,
            line: None,
        });
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(errors)
    }
}

fn error(
    code: &'static str,
    message: &str,
    param: Option<&'static str>,
    line: usize,
) -> InputError {
    InputError {
        code,
        message: message.to_string(),
        param,
        line: Some(line),
    }
}

/// One line's request; the error's line number is filled in by the caller.
fn check_line(raw: &[u8], endpoint: Endpoint) -> Result<InputLine, InputError> {
    let invalid = |code, message: String, param| InputError {
        code,
        message,
        param,
        line: None,
    };
    let value: Value = serde_json::from_slice(raw).map_err(|_| {
        invalid(
            "invalid_json_line",
            "This line is not parseable as valid JSON.".into(),
            None,
        )
    })?;
    let Value::Object(obj) = value else {
        return Err(invalid(
            "invalid_json_line",
            "This line is not a JSON object.".into(),
            None,
        ));
    };
    let custom_id = string_field(&obj, "custom_id")?;
    let method = string_field(&obj, "method")?;
    if method != "POST" {
        return Err(invalid(
            "invalid_method",
            format!("The method '{method}' is not supported; batch requests must use 'POST'."),
            Some("method"),
        ));
    }
    let url = string_field(&obj, "url")?;
    if url != endpoint.path() {
        return Err(invalid(
            "url_mismatch",
            format!(
                "The URL '{url}' of this request does not match the batch endpoint '{}'.",
                endpoint.path()
            ),
            Some("url"),
        ));
    }
    let body = match obj.get("body") {
        Some(body @ Value::Object(_)) => body.clone(),
        None | Some(Value::Null) => return Err(missing("body")),
        Some(_) => {
            return Err(invalid(
                "invalid_value",
                "'body' must be a JSON object.".into(),
                Some("body"),
            ))
        }
    };
    Ok(InputLine { custom_id, body })
}

fn string_field(obj: &Map<String, Value>, name: &'static str) -> Result<String, InputError> {
    match obj.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        None | Some(Value::Null) => Err(missing(name)),
        Some(_) => Err(InputError {
            code: "invalid_value",
            message: format!("'{name}' must be a non-empty string."),
            param: Some(name),
            line: None,
        }),
    }
}

fn missing(name: &'static str) -> InputError {
    InputError {
        code: "missing_required_parameter",
        message: format!("Missing required parameter: '{name}'."),
        param: Some(name),
        line: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, model: &str) -> String {
        format!(
            r#"{{"custom_id":"{id}","method":"POST","url":"/v1/chat/completions","body":{{"model":"{model}","messages":[]}}}}"#
        )
    }

    fn codes(data: &str) -> Vec<(&'static str, Option<usize>)> {
        check(data.as_bytes(), Endpoint::Chat)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.code, e.line))
            .collect()
    }

    #[test]
    fn good_file_with_blank_lines_and_crlf() {
        let data = format!("{}\r\n\n{}\n", line("a", "m"), line("b", "m"));
        let lines = check(data.as_bytes(), Endpoint::Chat).unwrap();
        let ids: Vec<&str> = lines.iter().map(|l| l.custom_id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn every_problem_is_listed_with_its_line() {
        let data = [
            line("a", "m"),
            "{oops".into(),
            line("a", "m"),
            line("c", "other"),
            r#"{"custom_id":"d","method":"GET","url":"/v1/chat/completions","body":{}}"#.into(),
            r#"{"custom_id":"e","method":"POST","url":"/v1/completions","body":{}}"#.into(),
            r#"{"method":"POST","url":"/v1/chat/completions","body":{}}"#.into(),
            r#"{"custom_id":"g","method":"POST","url":"/v1/chat/completions","body":[]}"#.into(),
            "[1]".into(),
        ]
        .join("\n");
        assert_eq!(
            codes(&data),
            [
                ("invalid_json_line", Some(2)),
                ("duplicate_custom_id", Some(3)),
                ("model_mismatch", Some(4)),
                ("invalid_method", Some(5)),
                ("url_mismatch", Some(6)),
                ("missing_required_parameter", Some(7)),
                ("invalid_value", Some(8)),
                ("invalid_json_line", Some(9)),
            ]
        );
    }

    #[test]
    fn empty_and_non_utf8_files() {
        assert_eq!(codes(" \n\r\n"), [("empty_file", None)]);
        let errors = check(b"\xff\xfe\n", Endpoint::Chat).unwrap_err();
        assert_eq!(errors[0].code, "invalid_json_line");
    }
}
