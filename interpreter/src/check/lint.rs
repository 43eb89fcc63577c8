//! The literal values of a block's settings, as signature lints see them. A setting given
//! through a param is seen with the param's effective value.

use std::collections::HashMap;

use dtac_grammar::ast::{Expr, ExprKind, Field};

use super::params::ParamValue;
use crate::signature::LintValues;

pub(super) struct FieldValues<'a> {
    pub fields: &'a [Field],
    pub params: &'a HashMap<String, ParamValue>,
}

impl FieldValues<'_> {
    fn value(&self, name: &str) -> Option<&Expr> {
        let expr = &self.fields.iter().find(|f| f.name.node == name)?.value;
        match &expr.node {
            ExprKind::Ref(path) if path.len() == 1 => {
                self.params.get(&path[0].node)?.value.as_ref()
            }
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
}
