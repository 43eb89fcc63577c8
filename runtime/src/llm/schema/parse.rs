//! Extracting the JSON object from whatever the model wrote: the whole answer, a fenced
//! block, or a balanced `{...}` span inside prose, with parse errors located in the whole
//! answer.

use serde_json::Value;

use super::describe::describe;

/// Candidate `{` positions tried in a prose-wrapped answer, bounding the work on a long
/// answer full of braces.
const MAX_BRACE_CANDIDATES: usize = 32;

/// The JSON object in a model's answer: the whole text, else the first ```` ``` ```` fenced
/// block holding one, else the first balanced `{...}` span holding one (models like to
/// add prose around it). A whole answer that is a JSON string is unwrapped once, for
/// models that encode their object twice.
pub fn parse_answer(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("the answer is empty".into());
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Object(object)) => return Ok(Value::Object(object)),
        Ok(Value::String(inner)) if inner.trim_start().starts_with('{') => {
            return parse_answer(&inner)
        }
        Ok(other) => return Err(format!("expected a JSON object, got {}", describe(&other))),
        Err(_) => {}
    }
    // The first failure is the one reported: it is most likely the object the model meant.
    let mut first_error = None;
    for (offset, body) in fenced_blocks(text) {
        match parse_object(text, offset, body) {
            Ok(value) => return Ok(value),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    let starts = text.match_indices('{').map(|(at, _)| at);
    for start in starts.take(MAX_BRACE_CANDIDATES) {
        let end = balanced_end(&text[start..]).map_or(text.len(), |len| start + len);
        match parse_object(text, start, &text[start..end]) {
            Ok(value) => return Ok(value),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| "no JSON object in the answer".into()))
}

/// Parses `body`, found at byte `offset` of `text`, as an object; errors give the line
/// and column in the whole answer, which is what the model and the reader see.
fn parse_object(text: &str, offset: usize, body: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(object)) => Ok(Value::Object(object)),
        Ok(other) => Err(format!("expected a JSON object, got {}", describe(&other))),
        Err(error) => {
            let at = offset + byte_index(body, error.line(), error.column());
            let (line, column) = line_column(text, at);
            let message = error.to_string();
            // serde_json appends its own position, relative to `body`; ours replaces it.
            let message = message
                .rfind(" at line ")
                .map_or(message.as_str(), |cut| &message[..cut]);
            Err(format!(
                "invalid JSON at line {line} column {column}: {message}"
            ))
        }
    }
}

/// The byte index just past serde_json's (1-based line, byte column) position.
fn byte_index(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(at, _)| at + 1)
    };
    let mut at = (line_start + column).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// serde_json's convention: the column counts the characters up to and including the
/// offending one, so that it is 1-based when one was consumed.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |nl| nl + 1);
    (line, before[line_start..].chars().count())
}

/// The bodies of ```` ``` ```` fenced blocks with their byte offsets. The info string
/// (`json`, `JSON`, nothing) is skipped, unless the block is inline (```` ```{...}``` ````).
fn fenced_blocks(text: &str) -> Vec<(usize, &str)> {
    let mut blocks = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("```").map(|at| from + at + 3) {
        let line_end = text[open..].find('\n').map_or(text.len(), |at| open + at);
        let info = &text[open..line_end];
        let body_start = if info.contains('{') {
            open
        } else {
            (line_end + 1).min(text.len())
        };
        let Some(close) = text[body_start..].find("```").map(|at| body_start + at) else {
            break;
        };
        blocks.push((body_start, &text[body_start..close]));
        from = close + 3;
    }
    blocks
}

/// The length of the balanced `{...}` span at the start of `text`, counting braces only
/// outside JSON strings; `None` when it never closes (a truncated answer).
fn balanced_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (at, byte) in text.bytes().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_bare_object_is_the_answer() {
        let parsed = parse_answer("  {\"verdict\": \"accept\"}\n").unwrap();
        assert_eq!(parsed, json!({"verdict": "accept"}));
    }

    #[test]
    fn a_fenced_block_is_found_inside_prose() {
        let text = "Here is my review:\n```json\n{\"a\": [1, 2]}\n```\nHope it helps {:";
        assert_eq!(parse_answer(text).unwrap(), json!({"a": [1, 2]}));
        let bare_fence = "```\n{\"a\": 1}\n```";
        assert_eq!(parse_answer(bare_fence).unwrap(), json!({"a": 1}));
        let inline = "Answer: ```{\"a\": 2}```";
        assert_eq!(parse_answer(inline).unwrap(), json!({"a": 2}));
    }

    #[test]
    fn a_fence_without_json_falls_back_to_the_brace_span() {
        let text = "```python\nprint(1)\n```\nThe answer: {\"a\": 3}";
        assert_eq!(parse_answer(text).unwrap(), json!({"a": 3}));
    }

    #[test]
    fn the_first_balanced_span_is_found_inside_prose() {
        let text = "Sure! {\"a\": {\"b\": 1}} is what I think. {\"c\": 2}";
        assert_eq!(parse_answer(text).unwrap(), json!({"a": {"b": 1}}));
    }

    #[test]
    fn braces_and_quotes_inside_strings_do_not_end_the_span() {
        let text =
            r#"My verdict: {"reason": "the set {x} is \"closed}\" and \\", "ok": true} done"#;
        assert_eq!(
            parse_answer(text).unwrap(),
            json!({"reason": "the set {x} is \"closed}\" and \\", "ok": true})
        );
    }

    #[test]
    fn prose_braces_before_the_object_are_skipped() {
        let text = "Using {curly} notation, the answer is {\"a\": 1}";
        assert_eq!(parse_answer(text).unwrap(), json!({"a": 1}));
    }

    #[test]
    fn a_doubly_encoded_object_is_unwrapped() {
        let text = r#""{\"a\": 1}""#;
        assert_eq!(parse_answer(text).unwrap(), json!({"a": 1}));
    }

    #[test]
    fn an_answer_without_an_object_says_so() {
        assert_eq!(
            parse_answer("I accept this sample.").unwrap_err(),
            "no JSON object in the answer"
        );
        assert_eq!(parse_answer(" \n").unwrap_err(), "the answer is empty");
        assert_eq!(
            parse_answer("[1, 2]").unwrap_err(),
            "expected a JSON object, got array of 2 items"
        );
        assert_eq!(
            parse_answer("```json\n[1]\n```").unwrap_err(),
            "expected a JSON object, got array of 1 item"
        );
    }

    #[test]
    fn invalid_json_gives_the_position_in_the_whole_answer() {
        let text = "Here you go:\n{\n  \"a\": 1,\n  \"b\": oops\n}";
        assert_eq!(
            parse_answer(text).unwrap_err(),
            "invalid JSON at line 4 column 8: expected value"
        );
    }

    #[test]
    fn invalid_json_in_a_fence_gives_the_position_in_the_whole_answer() {
        let text = "```json\n{\"a\": 1,}\n```";
        assert_eq!(
            parse_answer(text).unwrap_err(),
            "invalid JSON at line 2 column 9: trailing comma"
        );
    }

    #[test]
    fn a_truncated_answer_is_reported_as_such() {
        let error = parse_answer("{\"a\": [1, 2").unwrap_err();
        assert!(
            error.starts_with("invalid JSON at line 1 column "),
            "{error}"
        );
        assert!(error.contains("EOF while parsing"), "{error}");
    }
}
