//! Lowering: pest's parse tree to the AST of ast.rs, one function per grammar rule.
//!
//! Lowering never stops at the first problem it can recover from (a bad escape, a bad
//! placeholder): it records the error, keeps going, and the caller reports them all.

mod expr;
mod items;

use pest::iterators::Pair;

use crate::ast::{Comment, File, Trivia};
use crate::parser::Rule;
use crate::span::Span;
use crate::syntax_error::SyntaxError;

pub(crate) use expr::lower_expr;

/// Collects the errors of one lowering pass.
#[derive(Default)]
pub(crate) struct Lowerer {
    pub errors: Vec<SyntaxError>,
    /// Comment spans, sorted, to trim them off node spans.
    comments: Vec<Span>,
}

impl Lowerer {
    /// The span of a rule's match, without trailing whitespace and comments: pest includes
    /// them when a rule ends in an optional part that did not match (`param x: int  # c`),
    /// and a label should end where the code does.
    pub(crate) fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let text = s.as_str();
        let start = s.start();
        let mut end = s.end();
        loop {
            let trimmed = start + text[..end - start].trim_end().len();
            let comment = self
                .comments
                .binary_search_by(|c| c.end.cmp(&trimmed))
                .ok()
                .map(|i| self.comments[i]);
            match comment {
                Some(c) if c.start >= start => end = c.start,
                _ => return Span::new(start, trimmed),
            }
        }
    }
}

/// Rule `file`.
pub(crate) fn lower_file(pair: Pair<'_, Rule>, comments: Vec<Comment>) -> (File, Vec<SyntaxError>) {
    let mut lw = Lowerer {
        errors: Vec::new(),
        comments: comments.iter().map(|c| c.span).collect(),
    };
    let items = pair
        .into_inner()
        .filter(|p| p.as_rule() != Rule::EOI)
        .map(|p| lw.item(p))
        .collect();
    let file = File {
        items,
        comments: Trivia(comments),
    };
    (file, lw.errors)
}

pub(crate) fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}
