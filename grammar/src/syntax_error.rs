//! Syntax diagnostics: everything that can be wrong with a file before names mean anything.
//!
//! Codes are `dta::syntax::*`; docs/diagnostics.md has one entry per code.

use miette::Diagnostic;
use thiserror::Error;

use crate::span::Span;

/// A problem found while parsing or lowering one file.
#[derive(Clone, Debug, Error, Diagnostic, PartialEq)]
pub enum SyntaxError {
    #[error("{message}")]
    #[diagnostic(code(dta::syntax::unexpected))]
    Unexpected {
        message: String,
        #[label("{label}")]
        span: Span,
        label: String,
        #[help]
        help: Option<String>,
    },

    #[error("string is never closed")]
    #[diagnostic(
        code(dta::syntax::unterminated_string),
        help("close it with `{closer}`{extra}")
    )]
    UnterminatedString {
        #[label("this string starts here")]
        span: Span,
        closer: &'static str,
        extra: &'static str,
    },

    #[error("brackets nested {depth} deep; the limit is {limit}")]
    #[diagnostic(
        code(dta::syntax::too_deep),
        help("flatten the value: recipes never need more than a few levels of lists and records")
    )]
    TooDeep {
        #[label("nesting passes the limit here")]
        span: Span,
        depth: usize,
        limit: usize,
    },

    #[error("unknown escape `{escape}` in a string")]
    #[diagnostic(
        code(dta::syntax::bad_escape),
        help("valid escapes are \\\\ \\\" \\n \\t \\r and \\u{{hex}}; for text with backslashes (LaTeX) use a \"\"\" block string, which has no escapes")
    )]
    BadEscape {
        #[label("not an escape")]
        span: Span,
        escape: String,
    },

    #[error("a block string's text starts on the line after its opening `\"\"\"`")]
    #[diagnostic(
        code(dta::syntax::block_string_layout),
        help("break the line after `\"\"\"`, or use a \"...\" string for one line of text")
    )]
    BlockStringLayout {
        #[label("text on the opening line")]
        span: Span,
    },

    #[error("malformed placeholder in prompt: {reason}")]
    #[diagnostic(
        code(dta::syntax::bad_placeholder),
        help("placeholders look like {{{{field}}}} or {{{{field.sub}}}}; write \\{{{{ for literal braces")
    )]
    BadPlaceholder {
        #[label("{reason}")]
        span: Span,
        reason: String,
    },

    #[error("number `{text}` is out of range")]
    #[diagnostic(
        code(dta::syntax::number_out_of_range),
        help("integers must fit in 64 bits; write a float (with a `.` or exponent) for larger values")
    )]
    NumberOutOfRange {
        #[label("too large")]
        span: Span,
        text: String,
    },
}

impl SyntaxError {
    /// The primary span of the error.
    pub fn span(&self) -> Span {
        match self {
            SyntaxError::Unexpected { span, .. }
            | SyntaxError::UnterminatedString { span, .. }
            | SyntaxError::TooDeep { span, .. }
            | SyntaxError::BadEscape { span, .. }
            | SyntaxError::BlockStringLayout { span }
            | SyntaxError::BadPlaceholder { span, .. }
            | SyntaxError::NumberOutOfRange { span, .. } => *span,
        }
    }
}
