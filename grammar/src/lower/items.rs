//! Lowering of top-level items, calls, blocks and types.

use pest::iterators::Pair;

use super::{span_of, Lowerer};
use crate::ast::*;
use crate::parser::Rule;
use crate::template::parse_template;

impl Lowerer {
    /// Rule `item` (one of its alternatives).
    pub(crate) fn item(&mut self, pair: Pair<'_, Rule>) -> Item {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        // Skip the keyword: every item rule starts with one.
        let mut inner = pair.into_inner().filter(|p| !is_keyword(p.as_rule()));
        let mut next = || inner.next().expect("grammar guarantees item parts");
        match rule {
            Rule::version => {
                let n = next();
                let value = Spanned::new(self.unsigned(&n), span_of(&n));
                Item::Version(Version { value, span })
            }
            Rule::import => {
                let path = self.string(next());
                Item::Import(Import { path, span })
            }
            Rule::param => {
                let name = ident(next());
                let ty = self.type_expr(next());
                let default = inner.next().map(|p| self.expr(p));
                Item::Param(Param {
                    name,
                    ty,
                    default,
                    span,
                })
            }
            Rule::teacher | Rule::student => {
                let name = ident(next());
                let body = self.block(next());
                let decl = Decl { name, body, span };
                if rule == Rule::teacher {
                    Item::Teacher(decl)
                } else {
                    Item::Student(decl)
                }
            }
            Rule::dataset | Rule::stage | Rule::objective => {
                let name = ident(next());
                let call = self.call(next());
                let binding = Binding { name, call, span };
                match rule {
                    Rule::dataset => Item::Dataset(binding),
                    Rule::stage => Item::Stage(binding),
                    _ => Item::Objective(binding),
                }
            }
            Rule::prompt => {
                let name = ident(next());
                let text = self.string(next());
                let template = match parse_template(&text.node) {
                    Ok(t) => t,
                    Err(errs) => {
                        self.errors.extend(errs);
                        Template::default()
                    }
                };
                Item::Prompt(Prompt {
                    name,
                    text,
                    template,
                    span,
                })
            }
            Rule::export => {
                let stage = ident(next());
                let path = self.string(next());
                let format = ident(next());
                let block = inner.next().map(|p| self.block(p));
                Item::Export(Export {
                    stage,
                    path,
                    format,
                    block,
                    span,
                })
            }
            other => unreachable!("not an item rule: {other:?}"),
        }
    }

    /// Rule `call`.
    pub(crate) fn call(&mut self, pair: Pair<'_, Rule>) -> Call {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let op = ident(inner.next().expect("call has an op"));
        let mut args = None;
        let mut block = None;
        for part in inner {
            match part.as_rule() {
                Rule::args => {
                    let s = self.span(&part);
                    let exprs = part.into_inner().map(|p| self.expr(p)).collect();
                    args = Some(Spanned::new(exprs, s));
                }
                Rule::block => block = Some(self.block(part)),
                other => unreachable!("unexpected in call: {other:?}"),
            }
        }
        Call {
            op,
            args,
            block,
            span,
        }
    }

    /// Rule `block`.
    pub(crate) fn block(&mut self, pair: Pair<'_, Rule>) -> Block {
        let span = self.span(&pair);
        let multiline = pair.as_str().contains('\n');
        let fields = pair.into_inner().map(|p| self.field(p)).collect();
        Block {
            fields,
            span,
            multiline: Trivia(multiline),
        }
    }

    /// Rule `field`.
    pub(crate) fn field(&mut self, pair: Pair<'_, Rule>) -> Field {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = ident(inner.next().expect("field has a name"));
        let value = self.expr(inner.next().expect("field has a value"));
        Field { name, value, span }
    }

    /// Rule `type_expr`.
    pub(crate) fn type_expr(&mut self, pair: Pair<'_, Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let mut name = None;
        let mut arg = None;
        let mut optional = false;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::ident => name = Some(ident(part)),
                Rule::type_expr => arg = Some(Box::new(self.type_expr(part))),
                Rule::optional_mark => optional = true,
                other => unreachable!("unexpected in type: {other:?}"),
            }
        }
        TypeExpr {
            name: name.expect("type has a name"),
            arg,
            optional,
            span,
        }
    }

    /// Rule `integer` (for `version`).
    fn unsigned(&mut self, pair: &Pair<'_, Rule>) -> u64 {
        pair.as_str().parse().unwrap_or_else(|_| {
            self.errors.push(crate::SyntaxError::NumberOutOfRange {
                span: span_of(pair),
                text: pair.as_str().to_string(),
            });
            0
        })
    }
}

/// Rules `ident`, `field_name`.
pub(crate) fn ident(pair: Pair<'_, Rule>) -> Ident {
    Spanned::new(pair.as_str().to_string(), span_of(&pair))
}

fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_version
            | Rule::kw_import
            | Rule::kw_param
            | Rule::kw_teacher
            | Rule::kw_student
            | Rule::kw_dataset
            | Rule::kw_prompt
            | Rule::kw_stage
            | Rule::kw_objective
            | Rule::kw_export
            | Rule::kw_to
            | Rule::kw_as
            | Rule::kw_env
    )
}
