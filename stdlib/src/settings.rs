//! Typed access to a resolved node's settings, for op builders. The checker has already
//! verified types, so a mismatch here is a bug; builders report it as `BuildError::Invalid`
//! rather than panic.

use std::collections::BTreeMap;
use std::sync::Arc;

use dtac_interpreter::resolve::{ModelDecl, PromptText, Value};
use dtac_runtime::op::BuildError;

/// A node's or export's settings.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a>(pub &'a BTreeMap<String, Value>);

impl<'a> Settings<'a> {
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name)
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Value::as_int)
    }

    pub fn float(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(Value::as_float)
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Value::as_bool)
    }

    pub fn str(&self, name: &str) -> Option<&'a str> {
        self.get(name).and_then(Value::as_str)
    }

    pub fn strings(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.as_list()
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `{ new = "old" }` string maps.
    pub fn string_map(&self, name: &str) -> Vec<(String, String)> {
        match self.get(name) {
            Some(Value::Record(fields)) => fields
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn prompt(&self, name: &str) -> Option<Arc<PromptText>> {
        match self.get(name) {
            Some(Value::Prompt(p)) => Some(p.clone()),
            _ => None,
        }
    }

    /// A setting that names one teacher or student.
    pub fn model(&self, name: &str) -> Option<Arc<ModelDecl>> {
        match self.get(name) {
            Some(Value::Model(m)) => Some(m.clone()),
            _ => None,
        }
    }

    pub fn models(&self, name: &str) -> Result<Vec<Arc<ModelDecl>>, BuildError> {
        let mut out = Vec::new();
        for v in self.get(name).map(Value::as_list).unwrap_or(&[]) {
            match v {
                Value::Model(m) => out.push(m.clone()),
                other => return Err(bug(name, other)),
            }
        }
        Ok(out)
    }

    /// A schema literal: field names and type texts.
    pub fn schema(&self, name: &str) -> Option<&'a [(String, String)]> {
        match self.get(name) {
            Some(Value::Schema(fields)) => Some(fields),
            _ => None,
        }
    }
}

fn bug(name: &str, found: &Value) -> BuildError {
    BuildError::Invalid {
        message: format!("setting `{name}` has an unexpected value {found:?}"),
        help: "this is a bug in dtac: please report it".into(),
    }
}
