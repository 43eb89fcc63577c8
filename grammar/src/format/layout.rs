//! Containers (the file, blocks, records, schemas, lists, argument lists): their children
//! and the comments between them, laid out on one line or one child per line.

use super::node::Node;
use super::{pad, width, Printer, INDENT, WIDTH};
use crate::ast::Comment;
use crate::span::Span;

/// A bracketed container as the printer sees it.
pub(super) struct Container<'a> {
    pub open: &'static str,
    pub close: &'static str,
    /// Brackets included.
    pub span: Span,
    pub children: Vec<Node<'a>>,
    /// Lists and argument lists end every broken line with a comma; blocks, records and
    /// schemas use none.
    pub commas: bool,
    /// Whether the source wrote it over several lines (kept: a broken one stays broken).
    pub multiline: bool,
    /// `{ a = 1 }` has spaces inside its braces, `[a]` and `(a)` do not.
    pub spaced: bool,
}

impl<'a> Container<'a> {
    /// `[a, b]`; broken, one element per line, each with a trailing comma.
    pub(super) fn list(
        span: Span,
        children: impl Iterator<Item = Node<'a>>,
        multiline: bool,
    ) -> Self {
        Container {
            open: "[",
            close: "]",
            span,
            children: children.collect(),
            commas: true,
            multiline,
            spaced: false,
        }
    }

    /// `{ a = 1 }` or `{ a: int }`; broken, one field per line, no commas.
    pub(super) fn braces(
        span: Span,
        children: impl Iterator<Item = Node<'a>>,
        multiline: bool,
    ) -> Self {
        Container {
            open: "{",
            close: "}",
            span,
            children: children.collect(),
            commas: false,
            multiline,
            spaced: true,
        }
    }
}

/// One line of a broken container: a comment on its own, or a child with the comment
/// that trails it.
enum Entry<'a> {
    Comment(&'a Comment),
    Node(Node<'a>, Option<&'a Comment>),
}

struct Line<'a> {
    entry: Entry<'a>,
    blank_before: bool,
}

/// Where a trailing comment met next in a gap would go.
#[derive(Clone, Copy)]
enum Target {
    /// After the opening bracket: `{ # note`.
    Open,
    /// After the child on this line of the body.
    Child(usize),
    /// Nowhere: it gets a line of its own.
    None,
}

/// The lines of a container body, built in source order.
struct Body<'a> {
    open: Option<&'a Comment>,
    lines: Vec<Line<'a>>,
    target: Target,
    /// Where the last thing placed ends in the source, for blank-line detection.
    prev_end: usize,
}

impl<'a> Body<'a> {
    /// Place a comment found between two children (or before the first, or after the last).
    fn gap_comment(&mut self, p: &Printer<'a>, c: &'a Comment) {
        let target = std::mem::replace(&mut self.target, Target::None);
        if p.is_trailing(c) {
            match target {
                Target::Open => {
                    self.open = Some(c);
                    self.prev_end = c.span.end;
                    return;
                }
                Target::Child(i) => {
                    if let Some(Entry::Node(_, trailing @ None)) =
                        self.lines.get_mut(i).map(|l| &mut l.entry)
                    {
                        *trailing = Some(c);
                        self.prev_end = c.span.end;
                        return;
                    }
                }
                Target::None => {}
            }
        }
        let blank_before = p.blank_between(self.prev_end, c.span.start);
        self.lines.push(Line {
            entry: Entry::Comment(c),
            blank_before,
        });
        self.prev_end = c.span.end;
    }
}

impl<'a> Printer<'a> {
    /// A container printed where column `col` of a line indented by `indent` starts, with
    /// `suffix` more columns to follow it on its last line.
    pub(super) fn container(
        &self,
        c: &Container<'a>,
        indent: usize,
        col: usize,
        suffix: usize,
    ) -> String {
        if let Some(flat) = self.flat_container(c) {
            if c.children.is_empty() || col + width(&flat) + suffix <= WIDTH {
                return flat;
            }
        }
        let inner = Span::new(c.span.start.saturating_add(1), c.span.end.saturating_sub(1));
        let body = self.body(inner, &c.children, true);
        let mut out = String::from(c.open);
        if let Some(k) = body.open {
            out.push(' ');
            push_comment(&mut out, k);
        }
        out.push('\n');
        self.lines(&mut out, &body.lines, indent + INDENT, c.commas);
        pad(&mut out, indent);
        out.push_str(c.close);
        out
    }

    /// The one-line form, when the container may have one: written on one line, no
    /// comment inside, every child on one line. Width is the caller's business.
    pub(super) fn flat_container(&self, c: &Container<'a>) -> Option<String> {
        if self.has_comment(c.span) {
            return None;
        }
        if c.children.is_empty() {
            return Some(format!("{}{}", c.open, c.close));
        }
        if c.multiline {
            return None;
        }
        let parts = c
            .children
            .iter()
            .map(|&n| self.flat_node(n))
            .collect::<Option<Vec<_>>>()?;
        let space = if c.spaced { " " } else { "" };
        Some(format!(
            "{}{space}{}{space}{}",
            c.open,
            parts.join(", "),
            c.close
        ))
    }

    /// The top level: items and comments, one per line, no brackets.
    pub(super) fn top_level(&self, children: &[Node<'a>]) -> String {
        let body = self.body(Span::new(0, usize::MAX), children, false);
        let mut out = String::new();
        self.lines(&mut out, &body.lines, 0, false);
        out
    }

    /// Sort the comments in `inner` around `children`: before a child, trailing it, after
    /// the opening bracket (when `open` is allowed), or left after the last child.
    fn body(&self, inner: Span, children: &[Node<'a>], open: bool) -> Body<'a> {
        let mut body = Body {
            open: None,
            lines: Vec::new(),
            target: if open { Target::Open } else { Target::None },
            prev_end: inner.start,
        };
        let mut cursor = inner.start;
        for &child in children {
            let ext = self.extent(child.span());
            for &c in self.comments_in(cursor, ext.start) {
                body.gap_comment(self, c);
            }
            let mut blank_before = self.blank_between(body.prev_end, ext.start);
            // Comments where the printed form has no place for them (`teacher # x\n gpt`)
            // move to their own lines just before the child.
            for c in self.stray_comments(child, ext) {
                body.lines.push(Line {
                    entry: Entry::Comment(c),
                    blank_before,
                });
                blank_before = false;
            }
            body.lines.push(Line {
                entry: Entry::Node(child, None),
                blank_before,
            });
            body.target = Target::Child(body.lines.len() - 1);
            body.prev_end = ext.end;
            cursor = cursor.max(ext.end);
        }
        for &c in self.comments_in(cursor, inner.end) {
            body.gap_comment(self, c);
        }
        if let Some(first) = body.lines.first_mut() {
            first.blank_before = false;
        }
        body
    }

    /// Comments inside a child that no container within it takes care of.
    fn stray_comments(&self, child: Node<'a>, ext: Span) -> Vec<&'a Comment> {
        let inside = self.node_containers(child);
        self.comments_in(ext.start, ext.end)
            .iter()
            .copied()
            .filter(|c| {
                let at = c.span.start;
                !inside.iter().any(|s| s.start <= at && at < s.end)
            })
            .collect()
    }

    fn lines(&self, out: &mut String, lines: &[Line<'a>], indent: usize, commas: bool) {
        for line in lines {
            if line.blank_before {
                out.push('\n');
            }
            pad(out, indent);
            match line.entry {
                Entry::Comment(k) => push_comment(out, k),
                Entry::Node(node, trailing) => {
                    out.push_str(&self.node(node, indent, usize::from(commas)));
                    if commas {
                        out.push(',');
                    }
                    if let Some(k) = trailing {
                        out.push(' ');
                        push_comment(out, k);
                    }
                }
            }
            out.push('\n');
        }
    }
}

fn push_comment(out: &mut String, c: &Comment) {
    out.push('#');
    out.push_str(&c.text);
}
