//! The literal values of a block's settings, as signature lints see them. A setting given
//! through a param is seen with the param's effective value.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use dtac_grammar::ast::{Expr, ExprKind, Field, Item};

use super::params::ParamValue;
use super::symbols::Symbols;
use crate::load::Program;
use crate::signature::{LintValues, Referenced};
use crate::source::FileId;

#[derive(Clone, Copy)]
pub(super) struct FieldValues<'a> {
    pub fields: &'a [Field],
    pub params: &'a HashMap<String, ParamValue>,
    /// The file the fields are written in: paths resolve against its directory.
    pub file: FileId,
    pub program: &'a Program,
    pub symbols: &'a Symbols,
}

impl FieldValues<'_> {
    fn value(&self, name: &str) -> Option<&Expr> {
        let expr = &self.fields.iter().find(|f| f.name.node == name)?.value;
        match &expr.node {
            // A param stands for its effective value; any other name (a teacher, an
            // objective) is a reference, seen through `referenced`.
            ExprKind::Ref(path) if path.len() == 1 => match self.params.get(&path[0].node) {
                Some(param) => param.value.as_ref(),
                None => Some(expr),
            },
            _ => Some(expr),
        }
    }
}

impl LintValues for FieldValues<'_> {
    fn int(&self, name: &str) -> Option<i64> {
        match &self.value(name)?.node {
            ExprKind::Int(n) => Some(n.value),
            _ => None,
        }
    }

    fn float(&self, name: &str) -> Option<f64> {
        match &self.value(name)?.node {
            ExprKind::Int(n) => Some(n.value as f64),
            ExprKind::Float(n) => Some(n.value),
            _ => None,
        }
    }

    fn bool(&self, name: &str) -> Option<bool> {
        match &self.value(name)?.node {
            ExprKind::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn str(&self, name: &str) -> Option<String> {
        match &self.value(name)?.node {
            ExprKind::Str(s) => Some(s.value.clone()),
            _ => None,
        }
    }

    fn path(&self, name: &str) -> Option<PathBuf> {
        let written = PathBuf::from(self.str(name)?);
        if written.is_absolute() {
            return Some(written);
        }
        let recipe = &self.program.sources.get(self.file).path;
        let dir = recipe.parent().unwrap_or(Path::new(""));
        Some(dir.join(written))
    }

    fn referenced(&self, name: &str) -> Option<Referenced<'_>> {
        let ExprKind::Ref(path) = &self.value(name)?.node else {
            return None;
        };
        let [target] = path.as_slice() else {
            return None;
        };
        let Some(symbol) = self.symbols.get(&target.node) else {
            // A built-in used by name (`objective = reverse_kl`): its kind, no settings.
            return Some(Referenced {
                kind: target.node.clone(),
                values: Box::new(FieldValues {
                    fields: &[],
                    ..*self
                }),
            });
        };
        let (kind, fields) = match self.program.file(symbol.file)?.items.get(symbol.item)? {
            Item::Teacher(decl) => ("teacher".to_string(), decl.body.fields.as_slice()),
            Item::Student(decl) => ("student".to_string(), decl.body.fields.as_slice()),
            Item::Objective(binding) => (binding.call.op.node.clone(), binding.call.fields()),
            _ => return None,
        };
        Some(Referenced {
            kind,
            values: Box::new(FieldValues {
                fields,
                params: self.params,
                file: symbol.file,
                program: self.program,
                symbols: self.symbols,
            }),
        })
    }
}
