//! Expressions, fields and types.

use super::layout::Container;
use super::literal::{block_string, line_string, scalar};
use super::node::Node;
use super::{end_col, line_indent, width, Printer, INDENT};
use crate::ast::{Block, Expr, ExprKind, Field, SchemaField, StrKind, StrLit, TypeExpr};

impl<'a> Printer<'a> {
    /// An expression printed from column `col` of a line indented by `indent`, with
    /// `suffix` more columns to follow on its last line.
    pub(super) fn expr(&self, e: &'a Expr, indent: usize, col: usize, suffix: usize) -> String {
        match &e.node {
            ExprKind::Str(s) => string(s, indent),
            ExprKind::Env { var, default } => {
                let mut out = format!("env({}", string(var, indent));
                if let Some(d) = default {
                    out.push_str(", ");
                    let at = end_col(col, &out);
                    let indent = line_indent(indent, &out);
                    out.push_str(&self.expr(d, indent, at, suffix + 1));
                }
                out.push(')');
                out
            }
            kind => match expr_container(e) {
                Some(c) => self.container(&c, indent, col, suffix),
                None => scalar(kind).unwrap_or_default(),
            },
        }
    }

    /// The one-line form of an expression, if it has one.
    pub(super) fn flat_expr(&self, e: &'a Expr) -> Option<String> {
        match &e.node {
            ExprKind::Str(s) => flat_string(s),
            ExprKind::Env { var, default } => {
                let var = flat_string(var)?;
                Some(match default {
                    Some(d) => format!("env({var}, {})", self.flat_expr(d)?),
                    None => format!("env({var})"),
                })
            }
            kind => match expr_container(e) {
                Some(c) => self.flat_container(&c),
                None => scalar(kind),
            },
        }
    }

    /// `name = value` at the start of a line indented by `indent`.
    pub(super) fn field(&self, f: &'a Field, indent: usize, suffix: usize) -> String {
        let head = format!("{} = ", f.name.node);
        let col = indent + width(&head);
        head + &self.expr(&f.value, indent, col, suffix)
    }

    pub(super) fn schema_field(&self, s: &SchemaField) -> String {
        format!("{}: {}", s.name.node, type_expr(&s.ty))
    }

    /// An item or call block `{ name = value ... }`.
    pub(super) fn block(&self, b: &'a Block, indent: usize, col: usize) -> String {
        let c = Container::braces(b.span, b.fields.iter().map(Node::Field), b.multiline.0);
        self.container(&c, indent, col, 0)
    }
}

/// Lists, records and schemas as containers; `None` for every other expression.
fn expr_container(e: &Expr) -> Option<Container<'_>> {
    Some(match &e.node {
        ExprKind::List(xs, ml) => Container::list(e.span, xs.iter().map(Node::Elem), ml.0),
        ExprKind::Record(fs, ml) => Container::braces(e.span, fs.iter().map(Node::Field), ml.0),
        ExprKind::Schema(fs, ml) => Container::braces(e.span, fs.iter().map(Node::Schema), ml.0),
        _ => return None,
    })
}

/// A string on a line indented by `indent`: a block string's lines go one level deeper.
pub(super) fn string(s: &StrLit, indent: usize) -> String {
    if s.kind.0 == StrKind::Block {
        if let Some(text) = block_string(&s.value, indent + INDENT) {
            return text;
        }
    }
    line_string(&s.value)
}

/// A string's one-line form: a block string that can stay a block has none.
fn flat_string(s: &StrLit) -> Option<String> {
    if s.kind.0 == StrKind::Block && block_string(&s.value, INDENT).is_some() {
        return None;
    }
    Some(line_string(&s.value))
}

/// `name`, `name[arg]`, with `?` when optional.
pub(super) fn type_expr(t: &TypeExpr) -> String {
    let mut out = t.name.node.clone();
    if let Some(arg) = &t.arg {
        out.push('[');
        out.push_str(&type_expr(arg));
        out.push(']');
    }
    if t.optional {
        out.push('?');
    }
    out
}
