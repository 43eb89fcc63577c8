//! How values, names and lists read in error messages, shared by the parser, the
//! validator and the schema checker.

use serde_json::Value;

/// What a value is, for "got ..." messages: its type, and its content when short.
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(_) => format!("string {}", literal(value)),
        Value::Array(items) => format!("array of {}", plural(items.len(), "item")),
        Value::Object(_) => "object".into(),
    }
}

/// A value as compact JSON, cut short so that one long answer does not flood a message.
pub(super) fn literal(value: &Value) -> String {
    const MAX_CHARS: usize = 60;
    let text = value.to_string();
    if text.chars().count() <= MAX_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_CHARS).collect();
    cut.push('…');
    cut
}

pub(super) fn quoted(name: &str) -> String {
    Value::String(name.to_owned()).to_string()
}

pub(super) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// "a", "a or b", "a, b or c".
pub(super) fn or_list(items: &[String]) -> String {
    match items {
        [] => "nothing".into(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

pub(super) fn shorten(items: &[String], keep: usize) -> Vec<String> {
    let mut kept = items.iter().take(keep).cloned().collect::<Vec<_>>();
    if items.len() > keep {
        kept.push(format!("... ({} more)", items.len() - keep));
    }
    kept
}
