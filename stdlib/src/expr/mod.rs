//! The small expression language of `filter { where = "..." }` and
//! `map { compute = { ... } }`: field paths, literals, comparisons, `in`, boolean logic,
//! arithmetic and a few text functions, evaluated against one record's fields.
//!
//! An expression is parsed once (when the recipe is checked, and again when the stage is
//! built) and evaluated per record; evaluation never panics. A record that lacks a field
//! the expression reads gives [`EvalError::Missing`], which `filter` treats as "does not
//! match" rather than as an error.

mod eval;
mod lex;
mod parse;

pub use eval::EvalError;
pub use parse::ParseError;

use dtac_runtime::record::Fields;
use serde_json::Value as Json;

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    root: parse::Node,
    source: String,
}

impl Expr {
    /// Parses `source`; the error says where and what was expected.
    pub fn parse(source: &str) -> Result<Expr, ParseError> {
        let tokens = lex::tokens(source)?;
        let root = parse::parse(&tokens, source)?;
        Ok(Expr {
            root,
            source: source.to_string(),
        })
    }

    /// The value of the expression for one record.
    pub fn eval(&self, fields: &Fields) -> Result<Json, EvalError> {
        eval::eval(&self.root, fields)
    }

    /// Whether the record matches: the expression must give `true` or `false`.
    pub fn test(&self, fields: &Fields) -> Result<bool, EvalError> {
        match self.eval(fields)? {
            Json::Bool(b) => Ok(b),
            other => Err(EvalError::Type(format!(
                "the condition `{}` gave {}, not true or false",
                self.source,
                eval::describe(&other)
            ))),
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }
}

#[cfg(test)]
mod tests;
