//! Checking one value against the type a signature declares for it.
//!
//! References are resolved here: a name must exist and be of the right kind; dataset and
//! stage references add an edge to the stage graph; checks that need record schemas are
//! deferred until the graph is complete.

use dtac_grammar::ast::{Expr, ExprKind, Field, Ident, Span, StrLit};

use super::deferred::{Deferred, PromptSource};
use super::{Checker, SymKind};
use crate::check_error::{hint, CheckError};
use crate::signature::{FieldSpec, Type};
use crate::suggest::did_you_mean;

/// Schema field types a dataset may declare.
const SCHEMA_TYPES: &[&str] = &["str", "int", "float", "bool", "any", "list"];

impl Checker<'_> {
    /// Check `expr`, the value of setting `name`, against `ty`. `spec` carries the
    /// setting's extra information (template variables for prompts).
    pub(crate) fn check_value(
        &mut self,
        name: &str,
        ty: &Type,
        expr: &Expr,
        spec: Option<&FieldSpec>,
    ) {
        use ExprKind as E;
        match (ty, &expr.node) {
            (_, E::Env { var, default }) => {
                self.check_env(name, ty, var, default.as_deref(), expr.span)
            }
            (_, E::Ref(path)) => self.check_ref(name, ty, path, expr.span, spec),
            (Type::Any, _) => self.walk_any(expr),
            (Type::Int, E::Int(_))
            | (Type::Float, E::Int(_) | E::Float(_))
            | (Type::Bool, E::Bool(_))
            | (Type::Str, E::Str(_))
            | (Type::Duration, E::Duration(_)) => {}
            (Type::Secret, E::Str(_)) => self.error(CheckError::SecretLiteral {
                name: name.to_string(),
                span: expr.span,
            }),
            (Type::Enum(options), E::Str(s)) => {
                if !options.contains(&s.value.as_str()) {
                    self.error(CheckError::WrongType {
                        name: name.to_string(),
                        expected: ty.describe(),
                        found: format!("\"{}\"", s.value),
                        span: expr.span,
                        help: did_you_mean(&s.value, options.iter().copied())
                            .map(|s| format!("did you mean \"{s}\"?")),
                    });
                }
            }
            (Type::List(inner), E::List(items, _)) => {
                for item in items {
                    self.check_value(name, inner, item, spec);
                }
            }
            (Type::Record(keys), E::Record(fields, _)) => {
                self.check_record(name, keys, fields, expr.span)
            }
            (Type::Map(inner), E::Record(fields, _)) => {
                self.check_unique(fields);
                for f in fields {
                    self.check_value(&format!("{name}.{}", f.name.node), inner, &f.value, None);
                }
            }
            (Type::Schema, E::Schema(fields, _)) => {
                for f in fields {
                    self.check_schema_type(&f.ty);
                }
            }
            (Type::Schema, E::Record(fields, _)) if fields.is_empty() => {}
            (Type::Prompt, E::Str(lit)) => self.inline_prompt(lit, expr.span, spec),
            (_, found) => self.error(CheckError::WrongType {
                name: name.to_string(),
                expected: ty.describe(),
                found: found.describe().to_string(),
                span: expr.span,
                help: conversion_hint(ty, found),
            }),
        }
    }

    /// A value whose shape the signature leaves open: only names and `env` are checked.
    fn walk_any(&mut self, expr: &Expr) {
        match &expr.node {
            ExprKind::List(items, _) => items.iter().for_each(|i| self.walk_any(i)),
            ExprKind::Record(fields, _) => fields.iter().for_each(|f| self.walk_any(&f.value)),
            ExprKind::Ref(path) => self.check_ref("value", &Type::Any, path, expr.span, None),
            ExprKind::Env { .. } => self.check_env_in(expr),
            _ => {}
        }
    }

    fn check_record(&mut self, name: &str, keys: &[FieldSpec], fields: &[Field], span: Span) {
        self.check_unique(fields);
        for f in fields {
            match keys.iter().find(|k| k.name == f.name.node) {
                Some(k) => {
                    self.check_value(&format!("{name}.{}", k.name), &k.ty, &f.value, Some(k))
                }
                None => self.error(CheckError::UnknownSetting {
                    name: f.name.node.clone(),
                    owner: format!("`{name}`"),
                    span: f.name.span,
                    help: hint(
                        &did_you_mean(&f.name.node, keys.iter().map(|k| k.name)),
                        &format!(
                            "`{name}` takes: {}",
                            keys.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
                        ),
                    ),
                }),
            }
        }
        for k in keys.iter().filter(|k| k.required) {
            if !fields.iter().any(|f| f.name.node == k.name) {
                self.error(CheckError::MissingSetting {
                    name: k.name.to_string(),
                    owner: format!("`{name}`"),
                    span,
                    help: format!("add `{} = ...` ({})", k.name, k.ty.describe()),
                });
            }
        }
    }

    /// Reports keys written twice in one block or record.
    pub(crate) fn check_unique(&mut self, fields: &[Field]) {
        for (i, f) in fields.iter().enumerate() {
            if let Some(first) = fields[..i].iter().find(|g| g.name.node == f.name.node) {
                self.error(CheckError::DuplicateSetting {
                    name: f.name.node.clone(),
                    span: f.name.span,
                    first: first.name.span,
                });
            }
        }
    }

    fn check_schema_type(&mut self, ty: &dtac_grammar::ast::TypeExpr) {
        let known = SCHEMA_TYPES.contains(&ty.name.node.as_str())
            && (ty.name.node == "list") == ty.arg.is_some();
        if !known {
            self.error(CheckError::UnknownType {
                name: super::schema::type_text(ty),
                span: ty.span,
            });
        } else if let Some(arg) = &ty.arg {
            self.check_schema_type(arg);
        }
    }

    /// `env("NAME")`: only where a string is expected; the variable must be set unless a
    /// default is given. Only presence is checked: the value is never read.
    fn check_env(
        &mut self,
        name: &str,
        ty: &Type,
        var: &dtac_grammar::Spanned<StrLit>,
        default: Option<&Expr>,
        span: Span,
    ) {
        if !matches!(ty, Type::Str | Type::Secret | Type::Any | Type::Enum(_)) {
            self.error(CheckError::WrongType {
                name: name.to_string(),
                expected: ty.describe(),
                found: "an environment variable (a string)".into(),
                span,
                help: Some(
                    "`env(...)` gives a string; use a `param` with `--set` for other values".into(),
                ),
            });
        }
        if let Some(d) = default {
            if matches!(ty, Type::Secret) {
                self.error(CheckError::SecretLiteral {
                    name: name.to_string(),
                    span: d.span,
                });
            } else {
                self.check_value(name, &Type::Str, d, None);
            }
        }
        self.require_env(var, default.is_some());
    }

    fn require_env(&mut self, var: &dtac_grammar::Spanned<StrLit>, has_default: bool) {
        if !has_default && !(self.options.env_present)(&var.value) {
            self.error(CheckError::MissingEnv {
                var: var.value.clone(),
                span: var.span,
                help: format!(
                    "set it before running (`export {}=...`), or give a default: `env(\"{}\", \"...\")`",
                    var.value, var.value
                ),
            });
        }
    }

    /// Every `env(...)` inside an expression (param defaults).
    pub(crate) fn check_env_in(&mut self, expr: &Expr) {
        match &expr.node {
            ExprKind::Env { var, default } => self.require_env(var, default.is_some()),
            ExprKind::List(items, _) => items.iter().for_each(|i| self.check_env_in(i)),
            ExprKind::Record(fields, _) => fields.iter().for_each(|f| self.check_env_in(&f.value)),
            _ => {}
        }
    }

    /// A string written in place of a prompt name: a template of its own.
    fn inline_prompt(&mut self, lit: &StrLit, span: Span, spec: Option<&FieldSpec>) {
        match dtac_grammar::template::parse_template(lit) {
            Ok(template) => self.defer_template(PromptSource::Inline(template), span, spec),
            Err(errors) => {
                for e in errors {
                    self.diags
                        .push(crate::diagnostic::Diag::new(Some(self.file), e));
                }
            }
        }
    }

    fn defer_template(&mut self, prompt: PromptSource, used: Span, spec: Option<&FieldSpec>) {
        if let Some(stage) = self.current {
            self.deferred.push(Deferred::Template {
                file: self.file,
                stage,
                prompt,
                extra: spec.map_or(&[], |s| s.template_vars),
                used,
            });
        }
    }

    /// A name (or `name.field`) where a value of type `ty` is expected.
    fn check_ref(
        &mut self,
        name: &str,
        ty: &Type,
        path: &[Ident],
        span: Span,
        spec: Option<&FieldSpec>,
    ) {
        let root = &path[0];
        let wanted = accepted_kinds(ty);
        let Some(sym) = self.symbols.get(&root.node).copied() else {
            if *ty == Type::Objective
                && path.len() == 1
                && self.registry.objective(&root.node).is_some()
            {
                return;
            }
            let mut candidates = self.symbols.names_of(wanted.kinds);
            if *ty == Type::Objective {
                candidates.extend(
                    self.registry
                        .all()
                        .filter(|s| s.kind == crate::signature::SignatureKind::Objective)
                        .map(|s| s.name),
                );
            }
            let help = hint(
                &did_you_mean(&root.node, candidates.iter().copied()),
                &format!(
                    "declare it, or check the spelling; {} {} expected here",
                    wanted.words,
                    if wanted.words.ends_with('s') {
                        "are"
                    } else {
                        "is"
                    }
                ),
            );
            self.error(CheckError::UnknownName {
                what: wanted.words.to_string(),
                name: root.node.clone(),
                span: root.span,
                help,
            });
            return;
        };
        self.used.insert(root.node.clone());
        let is_records = matches!(sym.kind, SymKind::Dataset | SymKind::Stage);
        if is_records {
            self.add_edge_from(&root.node);
        }
        if *ty == Type::FieldRef {
            if path.len() < 2 || !is_records {
                self.error(CheckError::WrongType {
                    name: name.to_string(),
                    expected: ty.describe(),
                    found: if is_records {
                        "records, not one field".into()
                    } else {
                        sym.kind.article()
                    },
                    span,
                    help: Some(format!("name a field: `{}.FIELD`", root.node)),
                });
                return;
            }
            if let Some(node) = self.graph.node(&root.node) {
                self.deferred.push(Deferred::Field {
                    file: self.file,
                    records: node,
                    field: path[1].node.clone(),
                    span: path[1].span,
                });
            }
            return;
        }
        if path.len() > 1 && *ty != Type::Any {
            self.error(CheckError::WrongType {
                name: name.to_string(),
                expected: ty.describe(),
                found: "a field reference".into(),
                span,
                help: None,
            });
            return;
        }
        if let (Type::List(_), false) = (ty, sym.kind == SymKind::Param) {
            self.error(CheckError::WrongType {
                name: name.to_string(),
                expected: ty.describe(),
                found: sym.kind.article(),
                span,
                help: Some(format!("wrap it in a list: `[{}]`", root.node)),
            });
            return;
        }
        if *ty == Type::Any || wanted.kinds.contains(&sym.kind) && sym.kind != SymKind::Param {
            if sym.kind == SymKind::Prompt && *ty == Type::Prompt {
                self.defer_template(PromptSource::Declared(sym.file, sym.item), span, spec);
            }
            return;
        }
        if sym.kind == SymKind::Param {
            self.check_param_use(name, ty, &root.node, span);
            return;
        }
        self.error(CheckError::WrongKind {
            name: root.node.clone(),
            actual: sym.kind.article(),
            expected: ty.describe(),
            span: root.span,
            declared: (sym.file == self.file).then_some(sym.name_span),
            help: format!("`{name}` expects {}", ty.describe()),
        });
    }

    fn check_param_use(&mut self, name: &str, ty: &Type, param: &str, span: Span) {
        let Some(p) = self.params.get(param).cloned() else {
            return;
        };
        if !p.ty.fits(ty) {
            self.error(CheckError::WrongType {
                name: name.to_string(),
                expected: ty.describe(),
                found: format!("param `{param}` of type `{}`", p.ty.name()),
                span,
                help: None,
            });
            return;
        }
        // The value is known now: check it as if written here (enum members, secrets).
        if let (Type::Enum(_) | Type::Prompt, Some(value)) = (ty, &p.value) {
            if let ExprKind::Str(_) = value.node {
                let at_use = dtac_grammar::Spanned::new(value.node.clone(), span);
                self.check_value(name, ty, &at_use, None);
            }
        }
    }

    /// Adds an edge from the dataset or stage `from` to the item being checked.
    fn add_edge_from(&mut self, from: &str) {
        if let (Some(to), Some(from)) = (self.current, self.graph.node(from)) {
            self.graph.depend(to, from);
        }
    }
}

/// Which kinds of declaration a type accepts, and how to say so.
struct Wanted {
    kinds: &'static [SymKind],
    words: &'static str,
}

fn accepted_kinds(ty: &Type) -> Wanted {
    let (kinds, words): (&'static [SymKind], &'static str) = match ty {
        Type::Teacher => (&[SymKind::Teacher], "teacher"),
        Type::Student => (&[SymKind::Student], "student"),
        Type::Model => (&[SymKind::Teacher, SymKind::Student], "teacher or student"),
        Type::Prompt => (&[SymKind::Prompt, SymKind::Param], "prompt"),
        Type::Objective => (&[SymKind::Objective], "objective"),
        Type::Records | Type::FieldRef => (&[SymKind::Dataset, SymKind::Stage], "dataset or stage"),
        Type::List(inner) => return accepted_kinds(inner),
        Type::Any => (
            &[
                SymKind::Param,
                SymKind::Teacher,
                SymKind::Student,
                SymKind::Dataset,
                SymKind::Prompt,
                SymKind::Stage,
                SymKind::Objective,
            ],
            "name",
        ),
        _ => (&[SymKind::Param], "param"),
    };
    Wanted { kinds, words }
}

fn conversion_hint(expected: &Type, found: &ExprKind) -> Option<String> {
    match (expected, found) {
        (Type::List(inner), _) if !matches!(found, ExprKind::List(..)) => Some(format!(
            "wrap it in a list: `[...]` ({})",
            Type::List(inner).describe()
        )),
        (Type::Duration, ExprKind::Int(_) | ExprKind::Float(_)) => {
            Some("add a unit: `30s`, `500ms`, `5m`, `2h`".into())
        }
        (Type::Int | Type::Float | Type::Bool, ExprKind::Str(_)) => {
            Some("write numbers and booleans without quotes".into())
        }
        (Type::Int, ExprKind::Float(_)) => Some("write a whole number".into()),
        (
            Type::Teacher | Type::Student | Type::Model | Type::Records | Type::Objective,
            ExprKind::Str(_),
        ) => Some("refer to a declaration by its name, without quotes".into()),
        _ => None,
    }
}
