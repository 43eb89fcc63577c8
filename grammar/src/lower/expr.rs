//! Lowering of expressions and string literals.

use std::time::Duration;

use pest::iterators::Pair;

use super::items::ident;
use super::{span_of, Lowerer};
use crate::ast::*;
use crate::parser::Rule;
use crate::strings::{decode_block, decode_line};
use crate::syntax_error::SyntaxError;

/// Lower one expression on its own (used by `--set name=value` parsing in the interpreter).
pub(crate) fn lower_expr(pair: Pair<'_, Rule>) -> Result<Expr, Vec<SyntaxError>> {
    let mut lw = Lowerer::default();
    let e = lw.expr(pair);
    if lw.errors.is_empty() {
        Ok(e)
    } else {
        Err(lw.errors)
    }
}

impl Lowerer {
    /// Rule `expr` (one of its alternatives).
    pub(crate) fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let multiline = pair.as_str().contains('\n');
        let kind = match pair.as_rule() {
            Rule::line_string | Rule::block_string => {
                return self.string(pair).map_node(ExprKind::Str);
            }
            Rule::number => self.number(&pair),
            Rule::duration => duration(&pair),
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::list => ExprKind::List(
                pair.into_inner().map(|p| self.expr(p)).collect(),
                Trivia(multiline),
            ),
            Rule::record => ExprKind::Record(
                pair.into_inner().map(|p| self.field(p)).collect(),
                Trivia(multiline),
            ),
            Rule::schema => ExprKind::Schema(
                pair.into_inner().map(|p| self.schema_field(p)).collect(),
                Trivia(multiline),
            ),
            Rule::reference => ExprKind::Ref(pair.into_inner().map(ident).collect()),
            Rule::env_call => {
                let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::kw_env);
                let var = self.string(inner.next().expect("env has a name"));
                let default = inner.next().map(|p| Box::new(self.expr(p)));
                ExprKind::Env { var, default }
            }
            other => unreachable!("not an expression rule: {other:?}"),
        };
        Spanned::new(kind, span)
    }

    /// Rule `schema_field`.
    fn schema_field(&mut self, pair: Pair<'_, Rule>) -> SchemaField {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = ident(inner.next().expect("schema field has a name"));
        let ty = self.type_expr(inner.next().expect("schema field has a type"));
        SchemaField { name, ty, span }
    }

    /// Rule `number`: an integer unless it has a fraction or an exponent.
    fn number(&mut self, pair: &Pair<'_, Rule>) -> ExprKind {
        let text = pair.as_str();
        let lexeme = Trivia(text.to_string());
        if text.contains(['.', 'e', 'E']) {
            // The grammar only admits well-formed decimals, which always parse.
            let value = text.parse::<f64>().unwrap_or(f64::INFINITY);
            if value.is_finite() {
                return ExprKind::Float(Number { value, lexeme });
            }
        } else if let Ok(value) = text.parse::<i64>() {
            return ExprKind::Int(Number { value, lexeme });
        }
        self.errors.push(SyntaxError::NumberOutOfRange {
            span: span_of(pair),
            text: text.to_string(),
        });
        ExprKind::Int(Number { value: 0, lexeme })
    }

    /// Rules `line_string` and `block_string`.
    pub(crate) fn string(&mut self, pair: Pair<'_, Rule>) -> Spanned<StrLit> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let body = pair.into_inner().next().expect("string has a body");
        let start = body.as_span().start();
        let decoded = if rule == Rule::block_string {
            decode_block(body.as_str(), start)
        } else {
            decode_line(body.as_str(), start)
        };
        let lit = decoded.unwrap_or_else(|e| {
            self.errors.push(e);
            StrLit {
                value: String::new(),
                kind: Trivia(StrKind::Line),
                map: Trivia(OffsetMap::default()),
            }
        });
        Spanned::new(lit, span)
    }
}

/// Rule `duration`: `250ms`, `30s`, `1.5m`, `2h`.
fn duration(pair: &Pair<'_, Rule>) -> ExprKind {
    let text = pair.as_str();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: f64 = num.parse().unwrap_or(0.0);
    let seconds = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => n * 3600.0,
    };
    let value = Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX);
    ExprKind::Duration(Number {
        value,
        lexeme: Trivia(text.to_string()),
    })
}

impl<T> Spanned<T> {
    /// Transform the node, keeping the span.
    pub fn map_node<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned::new(f(self.node), self.span)
    }
}
