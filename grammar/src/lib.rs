//! The `.dta` recipe language: grammar, AST with byte spans, lowering, formatter.
//!
//! This crate knows nothing of ops, tokio or candle: it turns text into a [`ast::File`] (or
//! [`SyntaxError`]s) and back into canonical text, so editors and the language server can
//! use it alone. Names and types are checked by the interpreter crate.

pub mod ast;
pub mod format;
mod lower;
mod parser;
mod pest_errors;
mod scan;
pub mod span;
mod strings;
mod syntax_error;
pub mod template;

use pest::Parser;

pub use ast::File;
pub use format::{format_file, format_source};
pub use scan::MAX_NESTING;
pub use span::{line_col, Span, Spanned};
pub use syntax_error::SyntaxError;

use parser::{DtaParser, Rule};

/// Parse a whole file. On failure, every error found is returned (pest stops at the first
/// grammar error; lowering adds the string and placeholder errors it can still see).
pub fn parse(source: &str) -> Result<File, Vec<SyntaxError>> {
    let comments = scan::scan(source).map_err(|e| vec![e])?;
    pest::set_error_detail(true);
    let mut pairs =
        DtaParser::parse(Rule::file, source).map_err(|e| vec![pest_errors::convert(e, source)])?;
    let (file, errors) = lower::lower_file(pairs.next().expect("file rule"), comments);
    if errors.is_empty() {
        Ok(file)
    } else {
        Err(errors)
    }
}

/// Parse a single expression, as given on the command line (`--set samples=8`).
pub fn parse_expr(source: &str) -> Result<ast::Expr, Vec<SyntaxError>> {
    scan::scan(source).map_err(|e| vec![e])?;
    pest::set_error_detail(true);
    let mut pairs = DtaParser::parse(Rule::standalone_expr, source)
        .map_err(|e| vec![pest_errors::convert(e, source)])?;
    let expr = pairs
        .next()
        .and_then(|p| p.into_inner().next())
        .expect("standalone_expr holds one expression");
    lower::lower_expr(expr)
}
