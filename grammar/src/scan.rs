//! A lexical pre-pass over the source, before pest sees it.
//!
//! It does three things pest cannot do well: collects comments for the formatter (pest's
//! implicit `COMMENT` rule discards them), reports an unterminated string at its opening
//! quote instead of at the end of the file, and refuses absurd nesting before the
//! recursive-descent parser can exhaust the stack on it.

use crate::ast::Comment;
use crate::span::Span;
use crate::syntax_error::SyntaxError;

/// Deepest bracket nesting accepted. Real recipes use three or four levels.
pub const MAX_NESTING: usize = 64;

/// Comments of a file that passed the pre-pass.
pub fn scan(source: &str) -> Result<Vec<Comment>, SyntaxError> {
    let bytes = source.as_bytes();
    let mut comments = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                let end = source[i..].find('\n').map_or(source.len(), |n| i + n);
                comments.push(Comment {
                    span: Span::new(i, end),
                    text: source[i + 1..end].trim_end().to_string(),
                });
                i = end;
            }
            b'"' if source[i..].starts_with("\"\"\"") => match source[i + 3..].find("\"\"\"") {
                Some(n) => i = i + 3 + n + 3,
                None => {
                    return Err(SyntaxError::UnterminatedString {
                        span: Span::new(i, i + 3),
                        closer: "\"\"\"",
                        extra: "",
                    })
                }
            },
            b'"' => i = skip_line_string(bytes, i)?,
            b'[' | b'{' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(SyntaxError::TooDeep {
                        span: Span::new(i, i + 1),
                        depth: deepest_from(bytes, i, depth),
                        limit: MAX_NESTING,
                    });
                }
                i += 1;
            }
            b']' | b'}' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(comments)
}

/// Index just past the closing quote of the `"..."` string that opens at `start`.
fn skip_line_string(bytes: &[u8], start: usize) -> Result<usize, SyntaxError> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Ok(i + 1),
            b'\\' if i + 1 < bytes.len() && bytes[i + 1] != b'\n' => i += 2,
            b'\n' => break,
            _ => i += 1,
        }
    }
    Err(SyntaxError::UnterminatedString {
        span: Span::new(start, start + 1),
        closer: "\"",
        extra: " on the same line; for text over several lines use a \"\"\" block string",
    })
}

/// How deep the nesting that crossed the limit goes, counting on from `i` (strings and
/// comments are not skipped: this number only makes the message concrete).
fn deepest_from(bytes: &[u8], i: usize, mut depth: usize) -> usize {
    let mut max = depth;
    for &b in &bytes[i + 1..] {
        match b {
            b'[' | b'{' | b'(' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_inside_strings_are_not_comments() {
        let src = "prompt p \"a # b\" # real\nprompt q \"\"\"\n  # not\n  \"\"\"\n";
        let comments = scan(src).unwrap();
        assert_eq!(comments.len(), 1);
        assert_eq!(comments[0].text, " real");
    }

    #[test]
    fn deep_nesting_is_refused_with_its_depth() {
        let src = format!(
            "param x: int = {}{}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        match scan(&src) {
            Err(SyntaxError::TooDeep { depth, .. }) => assert_eq!(depth, 10_000),
            other => panic!("expected TooDeep, got {other:?}"),
        }
    }

    #[test]
    fn unterminated_line_string_points_at_its_quote() {
        let src = "prompt p \"abc\nstage x: y";
        match scan(src) {
            Err(SyntaxError::UnterminatedString { span, .. }) => assert_eq!(span.start, 9),
            other => panic!("expected UnterminatedString, got {other:?}"),
        }
    }
}
