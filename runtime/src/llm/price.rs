//! Prices in dollars per million tokens: a teacher's `price` setting, else a default for
//! well-known models, else zero (and the plan says the cost is unknown).

use dtac_interpreter::resolve::{ModelDecl, Value};

use super::request::Usage;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

impl Price {
    pub fn cost(&self, usage: Usage) -> f64 {
        (usage.prompt_tokens as f64 * self.input + usage.completion_tokens as f64 * self.output)
            / 1e6
    }
}

/// List prices (USD per 1M tokens, standard tier) of common hosted models, matched by
/// model-name prefix, longest first. Local servers (vLLM, Ollama, ...) cost nothing.
const DEFAULTS: &[(&str, f64, f64)] = &[
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4o", 2.50, 10.00),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1", 2.00, 8.00),
    ("gpt-4-turbo", 10.00, 30.00),
    ("gpt-4", 30.00, 60.00),
    ("gpt-3.5-turbo", 0.50, 1.50),
    ("o1-mini", 1.10, 4.40),
    ("o1", 15.00, 60.00),
    ("o3-mini", 1.10, 4.40),
    ("o3", 2.00, 8.00),
    ("o4-mini", 1.10, 4.40),
    ("gpt-5-nano", 0.05, 0.40),
    ("gpt-5-mini", 0.25, 2.00),
    ("gpt-5", 1.25, 10.00),
    ("claude-3-5-haiku", 0.80, 4.00),
    ("claude-3-5-sonnet", 3.00, 15.00),
    ("claude-sonnet-4", 3.00, 15.00),
    ("claude-opus-4", 15.00, 75.00),
    ("deepseek-chat", 0.27, 1.10),
    ("deepseek-reasoner", 0.55, 2.19),
];

/// The teacher's price, and whether it is known (given or a default).
pub fn price_of(teacher: &ModelDecl) -> (Price, bool) {
    if let Some(Value::Record(p)) = teacher.get("price") {
        let input = p.get("input").and_then(Value::as_float).unwrap_or(0.0);
        let output = p.get("output").and_then(Value::as_float).unwrap_or(0.0);
        return (Price { input, output }, true);
    }
    let model = teacher.str("model").unwrap_or("");
    let local = teacher
        .str("endpoint")
        .is_some_and(|e| e.contains("127.0.0.1") || e.contains("localhost"));
    if local || teacher.str("mode") == Some("replay") {
        return (
            Price {
                input: 0.0,
                output: 0.0,
            },
            true,
        );
    }
    let mut best: Option<&(&str, f64, f64)> = None;
    for entry in DEFAULTS {
        if model.starts_with(entry.0) && best.is_none_or(|b| entry.0.len() > b.0.len()) {
            best = Some(entry);
        }
    }
    match best {
        Some(&(_, input, output)) => (Price { input, output }, true),
        None => (
            Price {
                input: 0.0,
                output: 0.0,
            },
            false,
        ),
    }
}
