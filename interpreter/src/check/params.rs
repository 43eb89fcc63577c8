//! `param` declarations: their types, defaults and `--set` overrides.
//!
//! A param's effective value (override, else default) is known at check time, so uses of
//! a param are checked against the value it will really have.

use dtac_grammar::ast::{Expr, ExprKind, Span, StrKind, StrLit, Trivia, TypeExpr};

use super::{Checker, SymKind};
use crate::check_error::CheckError;
use crate::diagnostic::Diag;
use crate::signature::Type;
use crate::source::FileId;
use crate::suggest::did_you_mean;

/// The types a param may have.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamType {
    Int,
    Float,
    Str,
    Bool,
    Duration,
    List(Box<ParamType>),
    /// The declared type was not understood (already reported); accept anything.
    Unknown,
}

impl ParamType {
    pub fn name(&self) -> String {
        match self {
            ParamType::Int => "int".into(),
            ParamType::Float => "float".into(),
            ParamType::Str => "str".into(),
            ParamType::Bool => "bool".into(),
            ParamType::Duration => "duration".into(),
            ParamType::List(inner) => format!("list[{}]", inner.name()),
            ParamType::Unknown => "?".into(),
        }
    }

    /// Whether a value of this param type can be used where `ty` is expected.
    pub fn fits(&self, ty: &Type) -> bool {
        match (ty, self) {
            (_, ParamType::Unknown) | (Type::Any, _) => true,
            (Type::Int, ParamType::Int)
            | (Type::Float, ParamType::Int | ParamType::Float)
            | (Type::Bool, ParamType::Bool)
            | (Type::Str | Type::Enum(_) | Type::Prompt, ParamType::Str)
            | (Type::Duration, ParamType::Duration) => true,
            (Type::List(inner), ParamType::List(p)) => p.fits(inner),
            _ => false,
        }
    }

    /// Whether a literal expression is a value of this type (`None` = yes).
    fn literal_mismatch(&self, expr: &Expr) -> Option<&'static str> {
        let ok = match (self, &expr.node) {
            (ParamType::Unknown, _) => true,
            (_, ExprKind::Env { .. }) => *self == ParamType::Str,
            (ParamType::Int, ExprKind::Int(_))
            | (ParamType::Float, ExprKind::Int(_) | ExprKind::Float(_))
            | (ParamType::Str, ExprKind::Str(_))
            | (ParamType::Bool, ExprKind::Bool(_))
            | (ParamType::Duration, ExprKind::Duration(_)) => true,
            (ParamType::List(inner), ExprKind::List(items, _)) => {
                return items.iter().find_map(|i| inner.literal_mismatch(i));
            }
            _ => false,
        };
        if ok {
            None
        } else {
            Some(expr.node.describe())
        }
    }
}

/// A param's declaration and effective value.
#[derive(Clone, Debug)]
pub struct ParamValue {
    pub ty: ParamType,
    pub value: Option<Expr>,
    pub file: FileId,
    pub span: Span,
}

impl Checker<'_> {
    /// Types, defaults and overrides of every param, into `self.params`.
    pub(super) fn resolve_params(&mut self) {
        let symbols: Vec<_> = self
            .symbols
            .iter()
            .filter(|(_, s)| s.kind == SymKind::Param)
            .map(|(n, s)| (n.to_string(), *s))
            .collect();
        for (name, sym) in &symbols {
            let dtac_grammar::ast::Item::Param(param) = self.item(sym) else {
                continue;
            };
            self.file = sym.file;
            let ty = self.param_type(&param.ty);
            if let Some(default) = &param.default {
                if let ExprKind::Ref(_) = default.node {
                    self.error(CheckError::WrongType {
                        name: name.clone(),
                        expected: format!("a literal `{}`", ty.name()),
                        found: "a name".into(),
                        span: default.span,
                        help: Some("param defaults are literal values".into()),
                    });
                } else if let Some(found) = ty.literal_mismatch(default) {
                    self.error(CheckError::WrongType {
                        name: name.clone(),
                        expected: format!("a value of type `{}`", ty.name()),
                        found: found.into(),
                        span: default.span,
                        help: None,
                    });
                }
                self.check_env_in(default);
            }
            let value = ParamValue {
                ty,
                value: param.default.clone(),
                file: sym.file,
                span: param.name.span,
            };
            self.params.insert(name.clone(), value);
        }
        self.apply_overrides();
        for (name, sym) in &symbols {
            if self.params[name].value.is_none() {
                self.diags.push(Diag::new(
                    Some(sym.file),
                    CheckError::ParamWithoutValue {
                        name: name.clone(),
                        span: sym.name_span,
                        help: format!("give it a default, or run with `--set {name}=VALUE`"),
                    },
                ));
            }
        }
    }

    fn apply_overrides(&mut self) {
        for (name, raw) in &self.options.overrides {
            let Some(param) = self.params.get(name).cloned() else {
                let names: Vec<&str> = self.params.keys().map(String::as_str).collect();
                let help = match did_you_mean(name, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if names.is_empty() => "this recipe declares no params".to_string(),
                    None => format!("the recipe's params are: {}", sorted(&names)),
                };
                self.diags.push(Diag::new(
                    None,
                    CheckError::UnknownOverride {
                        name: name.clone(),
                        help,
                    },
                ));
                continue;
            };
            match parse_override(&param.ty, raw) {
                Ok(expr) => {
                    if let Some(p) = self.params.get_mut(name) {
                        p.value = Some(expr);
                    }
                }
                Err(reason) => self.diags.push(Diag::new(
                    Some(param.file),
                    CheckError::BadOverride {
                        name: name.clone(),
                        value: raw.clone(),
                        reason,
                        span: param.span,
                        help: format!("`{name}` is declared `{}`", param.ty.name()),
                    },
                )),
            }
        }
    }

    /// Rule `type_expr` as a param type.
    fn param_type(&mut self, ty: &TypeExpr) -> ParamType {
        let inner = ty.arg.as_ref().map(|a| self.param_type(a));
        let t = match (ty.name.node.as_str(), inner) {
            ("int", None) => ParamType::Int,
            ("float", None) => ParamType::Float,
            ("str", None) => ParamType::Str,
            ("bool", None) => ParamType::Bool,
            ("duration", None) => ParamType::Duration,
            ("list", Some(inner)) => ParamType::List(Box::new(inner)),
            _ => {
                self.error(CheckError::UnknownType {
                    name: super::schema::type_text(ty),
                    span: ty.span,
                });
                return ParamType::Unknown;
            }
        };
        if ty.optional {
            self.error(CheckError::UnknownType {
                name: super::schema::type_text(ty),
                span: ty.span,
            });
        }
        t
    }
}

/// `--set name=value`: the value as a recipe expression; a plain word is accepted as a
/// string for `str` params, so `--set out=data.jsonl` needs no shell quoting.
fn parse_override(ty: &ParamType, raw: &str) -> Result<Expr, String> {
    let parsed = dtac_grammar::parse_expr(raw);
    let as_string = || Expr {
        node: ExprKind::Str(StrLit {
            value: raw.to_string(),
            kind: Trivia(StrKind::Line),
            map: Trivia(Default::default()),
        }),
        span: Span::default(),
    };
    match (ty, parsed) {
        (ParamType::Str, Ok(e)) if matches!(e.node, ExprKind::Str(_)) => Ok(e),
        (ParamType::Str, _) => Ok(as_string()),
        (_, Ok(e))
            if ty.literal_mismatch(&e).is_none()
                && !matches!(e.node, ExprKind::Ref(_) | ExprKind::Env { .. }) =>
        {
            Ok(e)
        }
        _ => Err(format!("not a valid `{}` value", ty.name())),
    }
}

fn sorted(names: &[&str]) -> String {
    let mut v = names.to_vec();
    v.sort_unstable();
    v.join(", ")
}
