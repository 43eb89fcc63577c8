//! Decoding string literals: escapes in `"..."`, indentation stripping in `"""` blocks.
//!
//! Both produce a [`StrLit`] whose offset map leads from any byte of the value back to the
//! source, so a placeholder inside a prompt gets an exact span.

use crate::ast::{OffsetMap, StrKind, StrLit, Trivia};
use crate::span::Span;
use crate::syntax_error::SyntaxError;

/// Decode the body of a `"..."` string that starts at source offset `start` (the byte after
/// the opening quote).
pub fn decode_line(body: &str, start: usize) -> Result<StrLit, SyntaxError> {
    let mut value = String::with_capacity(body.len());
    let mut pieces = vec![(0, start)];
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else { break };
        let decoded = match e {
            '\\' => '\\',
            '"' => '"',
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'u' => decode_unicode(body, i, &mut chars).ok_or_else(|| SyntaxError::BadEscape {
                span: Span::new(start + i, start + i + 2),
                escape: "\\u".into(),
            })?,
            other => {
                return Err(SyntaxError::BadEscape {
                    span: Span::new(start + i, start + i + 1 + other.len_utf8()),
                    escape: format!("\\{other}"),
                })
            }
        };
        value.push(decoded);
        // Map the escape's output to the backslash; what follows starts a new piece.
        pieces.push((value.len() - decoded.len_utf8(), start + i));
        let next = chars.peek().map_or(body.len(), |&(j, _)| j);
        pieces.push((value.len(), start + next));
    }
    Ok(StrLit {
        value,
        kind: Trivia(StrKind::Line),
        map: Trivia(OffsetMap { pieces }),
    })
}

/// `\u{1F600}`: the iterator stands after the `u`.
fn decode_unicode(
    body: &str,
    backslash: usize,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Option<char> {
    let rest = &body[backslash + 2..];
    let inner = rest.strip_prefix('{')?;
    let close = inner.find('}')?;
    let code = u32::from_str_radix(&inner[..close], 16).ok()?;
    let c = char::from_u32(code)?;
    // Consume `{hex}` from the iterator.
    for _ in 0..close + 2 {
        chars.next();
    }
    Some(c)
}

/// Decode the body of a `"""` block whose first body byte is at source offset `start`.
///
/// Rules (docs/language.md, "Strings"): the rest of the opening line must be blank; a last
/// line holding only whitespace before the closing `"""` is dropped; the longest
/// whitespace prefix common to all non-blank lines is removed; blank lines become empty;
/// no escapes are processed (LaTeX stays as written).
pub fn decode_block(body: &str, start: usize) -> Result<StrLit, SyntaxError> {
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut offset = 0;
    for line in body.split('\n') {
        lines.push((offset, line.strip_suffix('\r').unwrap_or(line)));
        offset += line.len() + 1;
    }
    let (_, first) = lines.remove(0);
    if !first.trim().is_empty() {
        let text_start = start + (first.len() - first.trim_start().len());
        return Err(SyntaxError::BlockStringLayout {
            span: Span::new(text_start, start + first.trim_end().len()),
        });
    }
    if lines.last().is_some_and(|(_, l)| l.trim().is_empty()) {
        lines.pop();
    }
    let indent = common_indent(lines.iter().map(|(_, l)| *l));
    let mut value = String::with_capacity(body.len());
    let mut pieces = Vec::with_capacity(lines.len());
    for (n, (line_offset, line)) in lines.iter().enumerate() {
        if n > 0 {
            value.push('\n');
        }
        if line.trim().is_empty() {
            continue;
        }
        pieces.push((value.len(), start + line_offset + indent));
        value.push_str(&line[indent..]);
    }
    if pieces.is_empty() {
        pieces.push((0, start));
    }
    Ok(StrLit {
        value,
        kind: Trivia(StrKind::Block),
        map: Trivia(OffsetMap { pieces }),
    })
}

/// Byte length of the whitespace prefix shared by every non-blank line.
fn common_indent<'a>(lines: impl Iterator<Item = &'a str>) -> usize {
    let mut common: Option<&str> = None;
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let ws = &line[..line.len() - line.trim_start().len()];
        common = Some(match common {
            None => ws,
            Some(c) => {
                // By characters: whitespace may be multi-byte (U+2000); never cut one.
                let shared: usize = c
                    .chars()
                    .zip(ws.chars())
                    .take_while(|(a, b)| a == b)
                    .map(|(a, _)| a.len_utf8())
                    .sum();
                &c[..shared]
            }
        });
    }
    common.map_or(0, str::len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode_and_map_back() {
        let lit = decode_line(r#"a\nb\u{e9}c"#, 10).unwrap();
        assert_eq!(lit.value, "a\nbéc");
        // `c` is the last value byte; in the source it follows `\u{e9}`.
        let c = lit.value.len() - 1;
        assert_eq!(lit.map.0.to_source(c), 10 + r#"a\nb\u{e9}"#.len());
    }

    #[test]
    fn unknown_escape_is_an_error() {
        let err = decode_line(r"\boxed{}", 0).unwrap_err();
        assert!(matches!(err, SyntaxError::BadEscape { ref escape, .. } if escape == "\\b"));
    }

    #[test]
    fn block_dedents_and_drops_closing_line() {
        let body = "\n    Solve it.\n      indented\n\n    \\boxed{x}\n    ";
        let lit = decode_block(body, 0).unwrap();
        assert_eq!(lit.value, "Solve it.\n  indented\n\n\\boxed{x}");
        let x = lit.value.find('x').unwrap();
        assert_eq!(&body[lit.map.0.to_source(x)..][..1], "x");
    }

    #[test]
    fn regression_multibyte_indentation_is_never_cut() {
        let lit = decode_block("\n  \u{2000}a\n  \u{2001}b\n  ", 0).unwrap();
        assert_eq!(lit.value, "\u{2000}a\n\u{2001}b");
    }

    #[test]
    fn block_with_text_on_opening_line_is_refused() {
        assert!(matches!(
            decode_block("text\n", 0),
            Err(SyntaxError::BlockStringLayout { .. })
        ));
    }
}
