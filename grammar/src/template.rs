//! Prompt templates: splitting a prompt's text into literal text and `{{field}}` holes.
//!
//! Single braces are always literal (so `\boxed{}` needs no escaping); `{{name}}` or
//! `{{name.sub}}` is a placeholder, with optional spaces inside the braces; `\{{` is a
//! literal `{{`; a third brace (`{{{x}}}`) is literal text around a placeholder.

use crate::ast::{Segment, StrLit, Template};
use crate::span::Spanned;
use crate::syntax_error::SyntaxError;

/// Parse `lit` as a template, reporting every malformed placeholder.
pub fn parse_template(lit: &StrLit) -> Result<Template, Vec<SyntaxError>> {
    let text = lit.value.as_str();
    let mut segments = Vec::new();
    let mut errors = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with("\\{{") {
            literal.push_str("{{");
            i += 3;
        } else if rest.starts_with("{{{") {
            literal.push('{');
            i += 1;
        } else if rest.starts_with("{{") {
            let line_end = rest.find('\n').unwrap_or(rest.len());
            let Some(close) = rest[..line_end].find("}}") else {
                errors.push(SyntaxError::BadPlaceholder {
                    span: lit.source_span(i, i + 2),
                    reason: "no closing `}}` on this line".into(),
                });
                literal.push_str("{{");
                i += 2;
                continue;
            };
            let inner = rest[2..close].trim();
            let span = lit.source_span(i, i + close + 2);
            if is_field_path(inner) {
                if !literal.is_empty() {
                    segments.push(Segment::Text(std::mem::take(&mut literal)));
                }
                let path = inner.split('.').map(str::to_string).collect();
                segments.push(Segment::Var(Spanned::new(path, span)));
            } else {
                let reason = if inner.is_empty() {
                    "empty placeholder".to_string()
                } else {
                    format!("`{inner}` is not a field name")
                };
                errors.push(SyntaxError::BadPlaceholder { span, reason });
            }
            i += close + 2;
        } else {
            let c = rest.chars().next().expect("non-empty rest");
            literal.push(c);
            i += c.len_utf8();
        }
    }
    if !literal.is_empty() {
        segments.push(Segment::Text(literal));
    }
    if errors.is_empty() {
        Ok(Template { segments })
    } else {
        Err(errors)
    }
}

fn is_field_path(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strings::decode_block;

    fn template(body: &str) -> Result<Template, Vec<SyntaxError>> {
        parse_template(&decode_block(body, 0).unwrap())
    }

    #[test]
    fn splits_text_and_vars() {
        let t = template("\n  Q: {{ question }} \\boxed{} {{a.b}}\n  ").unwrap();
        let vars: Vec<_> = t.vars().map(|v| v.node.join(".")).collect();
        assert_eq!(vars, ["question", "a.b"]);
    }

    #[test]
    fn escaped_and_triple_braces_are_literal() {
        let t = template("\n  \\{{x}} {{{y}}}\n  ").unwrap();
        let vars: Vec<_> = t.vars().map(|v| v.node.join(".")).collect();
        assert_eq!(vars, ["y"]);
        assert_eq!(t.segments[0], Segment::Text("{{x}} {".into()));
    }

    #[test]
    fn placeholder_span_points_into_source() {
        let body = "\n    Problem: {{question}}\n    ";
        let t = template(body).unwrap();
        let v = t.vars().next().unwrap();
        assert_eq!(&body[v.span.start..v.span.end], "{{question}}");
    }

    #[test]
    fn malformed_placeholders_are_all_reported() {
        let errs = template("\n  {{ 3x }} and {{}} and {{open\n  ").unwrap_err();
        assert_eq!(errs.len(), 3);
    }
}
