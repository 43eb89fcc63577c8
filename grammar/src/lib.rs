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
    let mut pairs = parse_rule(Rule::file, source)?;
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
    let mut pairs = parse_rule(Rule::standalone_expr, source)?;
    let expr = pairs
        .next()
        .and_then(|p| p.into_inner().next())
        .expect("standalone_expr holds one expression");
    lower::lower_expr(expr)
}

/// Runs pest. Its detailed error tracking (what was expected where) makes every parse
/// slower, so the first attempt runs without it and a failing input is parsed again with
/// it, for a message in words. The setting is process-wide and only ever switched on,
/// so concurrent parses never lose detail they asked for.
fn parse_rule(
    rule: Rule,
    source: &str,
) -> Result<pest::iterators::Pairs<'_, Rule>, Vec<SyntaxError>> {
    DtaParser::parse(rule, source).or_else(|_| {
        pest::set_error_detail(true);
        DtaParser::parse(rule, source).map_err(|e| vec![pest_errors::convert(e, source)])
    })
}
