//! The children of containers (items, fields, schema fields, list elements): printing one
//! at the start of its own line or inline, and finding the containers inside it.

use super::Printer;
use crate::ast::{Expr, ExprKind, Field, Item, SchemaField};
use crate::span::Span;

/// A child of a container: what gets a line of its own when the container is broken.
#[derive(Clone, Copy)]
pub(super) enum Node<'a> {
    Item(&'a Item),
    Field(&'a Field),
    Schema(&'a SchemaField),
    Elem(&'a Expr),
}

impl Node<'_> {
    pub(super) fn span(self) -> Span {
        match self {
            Node::Item(i) => i.span(),
            Node::Field(f) => f.span,
            Node::Schema(s) => s.span,
            Node::Elem(e) => e.span,
        }
    }
}

impl<'a> Printer<'a> {
    /// A child printed at the start of its own line, indented by `indent`.
    pub(super) fn node(&self, node: Node<'a>, indent: usize, suffix: usize) -> String {
        match node {
            Node::Item(item) => self.item(item),
            Node::Field(f) => self.field(f, indent, suffix),
            Node::Schema(s) => self.schema_field(s),
            Node::Elem(e) => self.expr(e, indent, indent, suffix),
        }
    }

    pub(super) fn flat_node(&self, node: Node<'a>) -> Option<String> {
        match node {
            Node::Item(_) => None,
            Node::Field(f) => Some(format!("{} = {}", f.name.node, self.flat_expr(&f.value)?)),
            Node::Schema(s) => Some(self.schema_field(s)),
            Node::Elem(e) => self.flat_expr(e),
        }
    }

    /// The spans of the outermost containers inside a child: comments in them are theirs.
    pub(super) fn node_containers(&self, node: Node<'a>) -> Vec<Span> {
        let mut spans = Vec::new();
        match node {
            Node::Item(item) => self.item_containers(item, &mut spans),
            Node::Field(f) => expr_containers(&f.value, &mut spans),
            Node::Schema(_) => {}
            Node::Elem(e) => expr_containers(e, &mut spans),
        }
        spans
    }
}

/// The spans of the outermost containers in an expression.
pub(super) fn expr_containers(e: &Expr, spans: &mut Vec<Span>) {
    match &e.node {
        ExprKind::List(..) | ExprKind::Record(..) | ExprKind::Schema(..) => spans.push(e.span),
        ExprKind::Env {
            default: Some(d), ..
        } => expr_containers(d, spans),
        _ => {}
    }
}
