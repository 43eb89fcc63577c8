//! Turning pest's errors into plain-words `SyntaxError`s.
//!
//! pest reports the rules it tried at the failing position; users should read "expected
//! `=` or `{`, found `model`", never `expected field_name`. Each rule is renamed to words
//! here, and the help line is chosen from what the parser was in the middle of.

use std::collections::BTreeSet;

use pest::error::{Error, ErrorVariant, InputLocation};

use crate::parser::Rule;
use crate::span::Span;
use crate::syntax_error::SyntaxError;

const ITEM_KEYWORDS: &str =
    "`version`, `import`, `param`, `teacher`, `student`, `dataset`, `prompt`, `stage`, `objective` or `export`";

const PUNCTUATION: &[&str] = &["=", ":", ",", "{", "}", "(", ")", "[", "]", "?", "."];

pub(crate) fn convert(err: Error<Rule>, source: &str) -> SyntaxError {
    let pest_pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let attempts = err.parse_attempts();
    // pest may report the start of the rule that failed; the attempts know how far the
    // parser really got, which is where the user's mistake is. pest's positives describe
    // its own position, so they are used only when the two agree.
    let pos = attempts
        .as_ref()
        .map_or(pest_pos, |a| a.max_position.max(pest_pos));
    let mut expected: BTreeSet<(u8, String)> = BTreeSet::new();
    let mut item_start = false;
    let mut note_rule = |rule: Rule, expected: &mut BTreeSet<(u8, String)>| {
        item_start |= is_item_keyword(rule);
        if let Some(word) = rule_word(rule) {
            expected.insert(word);
        }
    };
    if let Some(attempts) = &attempts {
        for token in attempts.expected_tokens() {
            // Only punctuation: value-starting tokens (`"`, `-`, `true`) are summed up as
            // "a value" by the rules, and `#` or `_` are noise from comments and names.
            let text = token.to_string();
            if PUNCTUATION.contains(&text.as_str()) {
                expected.insert((1, format!("`{text}`")));
            }
        }
        for stack in attempts.call_stacks() {
            if let Some(&rule) = stack.deepest.get_rule() {
                note_rule(rule, &mut expected);
            }
        }
    }
    if pos == pest_pos {
        if let ErrorVariant::ParsingError { positives, .. } = &err.variant {
            for &rule in positives {
                note_rule(rule, &mut expected);
            }
        }
    }
    let found = describe_found(source, pos);
    let mut words: Vec<String> = expected.into_iter().map(|(_, w)| w).collect();
    if item_start {
        // Ten keywords read badly as a list of alternatives; name the category, unless
        // something more specific was expected (then the item had already begun).
        words.retain(|w| !is_item_keyword_word(w));
        item_start = words.is_empty();
        if item_start {
            words.push("a declaration".to_string());
        }
    }
    if words.iter().any(|w| w == "a value") {
        // Strings, names, lists and records are values too; one word for all reads better.
        words.retain(|w| {
            !matches!(
                w.as_str(),
                "a string" | "a name" | "`[`" | "`{`" | "a setting (`name = value`)"
            )
        });
    }
    words.dedup();
    let message = if words.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {}, found {found}", join_or(&words))
    };
    let help = if item_start {
        Some(format!(
            "a recipe is a sequence of declarations, each starting with {ITEM_KEYWORDS}"
        ))
    } else {
        hint_for(&words)
    };
    let mut end = token_end(source, pos);
    let mut pos = pos;
    let mut label = if words.is_empty() {
        "unexpected here".to_string()
    } else {
        format!("expected {}", join_or(&words))
    };
    let mut help = help;
    if pos >= source.trim_end().len() && !item_start {
        // At the end of the file there is nothing to underline: point at the last code
        // instead and say what is missing.
        let last = source.trim_end();
        let start = last.char_indices().next_back().map_or(0, |(i, _)| i);
        (pos, end) = (start, last.len());
        label = "the file ends here".to_string();
        help = Some(format!(
            "the last declaration is incomplete: {}",
            if words.iter().any(|w| w == "`}`") {
                "close its block with `}`".to_string()
            } else {
                format!("it needs {}", join_or(&words))
            }
        ));
    }
    SyntaxError::Unexpected {
        message,
        span: Span::new(pos, end),
        label,
        help,
    }
}

fn hint_for(words: &[String]) -> Option<String> {
    let has = |w: &str| words.iter().any(|x| x == w);
    if has("`=`") && words.len() <= 2 {
        Some("settings are written `name = value`".into())
    } else if has("a value") {
        Some("values are strings, numbers, durations (`30s`), `true`/`false`, lists `[...]`, records `{ k = v }`, names, or `env(\"VAR\")`".into())
    } else if has("`:`") {
        Some("stages and datasets are declared `stage NAME: op(inputs) { ... }`".into())
    } else {
        None
    }
}

/// Words for a rule, with a sort key so the most useful alternatives come first.
fn rule_word(rule: Rule) -> Option<(u8, String)> {
    let (rank, w) = match rule {
        Rule::kw_version => (0, "`version`"),
        Rule::kw_import => (0, "`import`"),
        Rule::kw_param => (0, "`param`"),
        Rule::kw_teacher => (0, "`teacher`"),
        Rule::kw_student => (0, "`student`"),
        Rule::kw_dataset => (0, "`dataset`"),
        Rule::kw_prompt => (0, "`prompt`"),
        Rule::kw_stage => (0, "`stage`"),
        Rule::kw_objective => (0, "`objective`"),
        Rule::kw_export => (0, "`export`"),
        Rule::kw_to => (1, "`to`"),
        Rule::kw_as => (1, "`as`"),
        Rule::ident | Rule::word | Rule::reference => (2, "a name"),
        Rule::field_name => (2, "a setting (`name = value`)"),
        Rule::schema_field => (2, "a schema field (`name: type`)"),
        Rule::type_expr => (2, "a type"),
        Rule::integer => (2, "an integer"),
        Rule::line_string | Rule::block_string => (2, "a string"),
        Rule::expr
        | Rule::number
        | Rule::duration
        | Rule::boolean
        | Rule::list
        | Rule::record
        | Rule::schema
        | Rule::env_call => (3, "a value"),
        Rule::call => (2, "an op call"),
        Rule::optional_mark => (1, "`?`"),
        Rule::EOI => (4, "end of file"),
        _ => return None,
    };
    Some((rank, w.to_string()))
}

fn is_item_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::file
            | Rule::version
            | Rule::import
            | Rule::param
            | Rule::teacher
            | Rule::student
            | Rule::dataset
            | Rule::prompt
            | Rule::stage
            | Rule::objective
            | Rule::export
            | Rule::kw_version
            | Rule::kw_import
            | Rule::kw_param
            | Rule::kw_teacher
            | Rule::kw_student
            | Rule::kw_dataset
            | Rule::kw_prompt
            | Rule::kw_stage
            | Rule::kw_objective
            | Rule::kw_export
    )
}

fn is_item_keyword_word(w: &str) -> bool {
    ITEM_KEYWORDS.contains(w) && w.starts_with('`') || w == "end of file"
}

fn join_or(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// "`model`", "`}`", "end of file", "a line break".
fn describe_found(source: &str, pos: usize) -> String {
    let rest = &source[pos.min(source.len())..];
    match rest.chars().next() {
        None => "end of file".to_string(),
        Some('\n') | Some('\r') => "the end of the line".to_string(),
        Some(_) => format!("`{}`", &rest[..token_end(source, pos) - pos]),
    }
}

/// End of the word or single character at `pos`.
fn token_end(source: &str, pos: usize) -> usize {
    let rest = &source[pos.min(source.len())..];
    let word = rest
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
        .map_or(rest.len(), |(i, _)| i);
    let len = if word > 0 {
        word.min(40)
    } else {
        rest.chars().next().map_or(0, char::len_utf8)
    };
    // Never cut inside a character.
    let mut end = pos + len;
    while end < source.len() && !source.is_char_boundary(end) {
        end += 1;
    }
    end.min(source.len())
}
