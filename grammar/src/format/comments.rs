//! Where comments and blank lines sit in the source: the layout facts the AST leaves out.

use super::Printer;
use crate::ast::Comment;
use crate::span::Span;

impl<'a> Printer<'a> {
    /// The comments that start in `lo..hi`, in source order.
    pub(super) fn comments_in(&self, lo: usize, hi: usize) -> &[&'a Comment] {
        if lo >= hi {
            return &[];
        }
        let a = self.comments.partition_point(|c| c.span.start < lo);
        let b = self.comments.partition_point(|c| c.span.start < hi);
        &self.comments[a..b.max(a)]
    }

    pub(super) fn has_comment(&self, span: Span) -> bool {
        !self.comments_in(span.start, span.end).is_empty()
    }

    /// `span` without the whitespace and comments at its end. pest lets a rule whose last
    /// part is optional (`param x: int`, `stage s: op`) swallow the trivia after it, and a
    /// comment there belongs after the node, not inside it.
    pub(super) fn extent(&self, span: Span) -> Span {
        let bytes = self.source.as_bytes();
        let mut end = span.end.min(bytes.len());
        loop {
            while end > span.start && matches!(bytes[end - 1], b' ' | b'\t' | b'\r' | b'\n') {
                end -= 1;
            }
            let i = self.comments.partition_point(|c| c.span.start < end);
            match i.checked_sub(1).map(|i| self.comments[i]) {
                Some(c) if c.span.start >= span.start && end <= c.span.end => end = c.span.start,
                _ => break,
            }
        }
        Span::new(span.start, end.max(span.start))
    }

    /// Whether code precedes the comment on its line, so it trails that code.
    pub(super) fn is_trailing(&self, comment: &Comment) -> bool {
        let start = comment.span.start;
        let before = self.source.get(..start).unwrap_or("");
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        !before[line_start..].trim().is_empty()
    }

    /// Whether the source has a blank line between offsets `a` and `b`.
    pub(super) fn blank_between(&self, a: usize, b: usize) -> bool {
        let Some(gap) = self.source.get(a..b) else {
            return false;
        };
        let lines: Vec<&str> = gap.split('\n').collect();
        // The first and last pieces are the ends of the lines holding `a` and `b`.
        lines.len() > 2
            && lines[1..lines.len() - 1]
                .iter()
                .any(|l| l.trim().is_empty())
    }
}
