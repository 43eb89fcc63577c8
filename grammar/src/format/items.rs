//! Top-level items and the calls of `dataset`, `stage` and `objective`.

use super::expr::{string, type_expr};
use super::layout::Container;
use super::node::{expr_containers, Node};
use super::{end_col, line_indent, width, Printer};
use crate::ast::{Call, File, Item};
use crate::span::Span;

impl<'a> Printer<'a> {
    pub(super) fn file(&self, file: &'a File) -> String {
        let items: Vec<Node> = file.items.iter().map(Node::Item).collect();
        self.top_level(&items)
    }

    /// One item, starting at column 0.
    pub(super) fn item(&self, item: &'a Item) -> String {
        match item {
            Item::Version(v) => format!("version = {}", v.value.node),
            Item::Import(i) => format!("import {}", string(&i.path, 0)),
            Item::Param(p) => {
                let mut out = format!("param {}: {}", p.name.node, type_expr(&p.ty));
                if let Some(d) = &p.default {
                    out.push_str(" = ");
                    let col = width(&out);
                    out.push_str(&self.expr(d, 0, col, 0));
                }
                out
            }
            Item::Teacher(d) | Item::Student(d) => {
                let head = format!("{} {} ", item.keyword(), d.name.node);
                let col = width(&head);
                head + &self.block(&d.body, 0, col)
            }
            Item::Dataset(b) | Item::Stage(b) | Item::Objective(b) => {
                let head = format!("{} {}: ", item.keyword(), b.name.node);
                let col = width(&head);
                head + &self.call(&b.call, col)
            }
            Item::Prompt(p) => format!("prompt {} {}", p.name.node, string(&p.text, 0)),
            Item::Export(e) => {
                let path = string(&e.path, 0);
                let mut out = format!("export {} to {path} as {}", e.stage.node, e.format.node);
                if let Some(b) = &e.block {
                    out.push(' ');
                    let col = end_col(0, &out);
                    out.push_str(&self.block(b, line_indent(0, &out), col));
                }
                out
            }
        }
    }

    /// `op`, `op(a, b)`, `op { ... }` or `op(a) { ... }`, from column `col` of a top-level
    /// line. The arguments are laid out first, assuming at least ` {` follows them.
    fn call(&self, call: &'a Call, col: usize) -> String {
        let mut out = call.op.node.clone();
        if let Some(args) = &call.args {
            // Arguments always go on one line when they can: `op(a, b)` is the form.
            let elems = args.node.iter().map(Node::Elem);
            let c = Container {
                open: "(",
                close: ")",
                ..Container::list(args.span, elems, false)
            };
            let suffix = if call.block.is_some() { 2 } else { 0 };
            out.push_str(&self.container(&c, 0, col + width(&out), suffix));
        }
        if let Some(b) = &call.block {
            out.push(' ');
            let at = end_col(col, &out);
            out.push_str(&self.block(b, line_indent(0, &out), at));
        }
        out
    }

    /// The containers directly inside an item, for telling its stray comments apart.
    pub(super) fn item_containers(&self, item: &Item, spans: &mut Vec<Span>) {
        match item {
            Item::Param(p) => {
                if let Some(d) = &p.default {
                    expr_containers(d, spans);
                }
            }
            Item::Teacher(d) | Item::Student(d) => spans.push(d.body.span),
            Item::Dataset(b) | Item::Stage(b) | Item::Objective(b) => {
                spans.extend(b.call.args.as_ref().map(|a| a.span));
                spans.extend(b.call.block.as_ref().map(|b| b.span));
            }
            Item::Export(e) => spans.extend(e.block.as_ref().map(|b| b.span)),
            Item::Version(_) | Item::Import(_) | Item::Prompt(_) => {}
        }
    }
}
