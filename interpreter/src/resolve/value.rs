//! Resolved setting values: what a recipe's expressions mean once names, params, env vars
//! and defaults are looked up. The executor and the ops read these, never the AST.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use dtac_grammar::ast::Segment;
use serde_json::{json, Map, Value as Json};

use crate::signature::{Signature, SignatureKind};

/// A setting's value after resolution.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Duration(Duration),
    List(Vec<Value>),
    Record(BTreeMap<String, Value>),
    /// A secret: only the environment variable's name. Read by the provider when it sends
    /// a request, never before, and never part of a key, a log or a report.
    Secret(String),
    /// A teacher or student declaration.
    Model(Arc<ModelDecl>),
    Prompt(Arc<PromptText>),
    Objective(Arc<ObjectiveDecl>),
    /// A dataset or stage, by name.
    Records(String),
    /// One field of a dataset or stage's records.
    Field {
        records: String,
        field: String,
    },
    /// A schema literal: field names and their types as written.
    Schema(Vec<(String, String)>),
}

/// A `teacher` or `student` block with its settings (defaults filled in).
#[derive(Clone, Debug)]
pub struct ModelDecl {
    pub name: String,
    pub kind: SignatureKind,
    pub settings: BTreeMap<String, Value>,
    pub sig: &'static Signature,
}

/// A prompt: its text after indentation stripping, split at its placeholders.
#[derive(Clone, Debug, PartialEq)]
pub struct PromptText {
    /// The `prompt` declaration's name; `None` for an inline string.
    pub name: Option<String>,
    pub segments: Vec<Segment>,
}

/// An `objective` declaration or a built-in objective used by name.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectiveDecl {
    pub name: String,
    pub kind: String,
    pub settings: BTreeMap<String, Value>,
}

impl PromptText {
    /// The template as written, placeholders included: what identifies the prompt.
    pub fn source_text(&self) -> String {
        let mut out = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Text(t) => out.push_str(&t.replace("{{", "\\{{")),
                Segment::Var(v) => {
                    out.push_str("{{");
                    out.push_str(&v.node.join("."));
                    out.push_str("}}");
                }
            }
        }
        out
    }

    /// Fills the placeholders from `fields` (a record's fields) and then `extra` (values the
    /// op provides, such as `{{candidate}}`). A placeholder with no value is an error naming
    /// it. Strings are inserted as they are; other JSON values in their JSON form.
    pub fn render(
        &self,
        fields: &Map<String, Json>,
        extra: &[(&str, &str)],
    ) -> Result<String, String> {
        let mut out = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Text(t) => out.push_str(t),
                Segment::Var(v) => {
                    let path = &v.node;
                    if let [one] = path.as_slice() {
                        if let Some((_, value)) = extra.iter().find(|(k, _)| k == one) {
                            out.push_str(value);
                            continue;
                        }
                    }
                    let mut cur = fields.get(&path[0]);
                    for key in &path[1..] {
                        cur = cur.and_then(|c| c.get(key));
                    }
                    match cur {
                        Some(Json::String(s)) => out.push_str(s),
                        Some(Json::Null) | None => {
                            return Err(format!(
                                "the prompt needs `{{{{{}}}}}`, which this record lacks",
                                path.join(".")
                            ))
                        }
                        Some(other) => out.push_str(&other.to_string()),
                    }
                }
            }
        }
        Ok(out)
    }
}

impl Value {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Every model declaration inside this value (a teacher, a list of teachers).
    pub fn models(&self) -> Vec<&Arc<ModelDecl>> {
        match self {
            Value::Model(m) => vec![m],
            Value::List(items) => items.iter().flat_map(Value::models).collect(),
            Value::Record(fields) => fields.values().flat_map(Value::models).collect(),
            _ => Vec::new(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> &[Value] {
        match self {
            Value::List(items) => items,
            _ => &[],
        }
    }

    /// What the value means for results, as canonical JSON: the part of a cache key it
    /// contributes. Secrets contribute nothing (not even the variable's name: renaming a
    /// key variable changes no result); records contribute the name that the caller maps
    /// to an upstream key.
    pub fn identity(&self) -> Json {
        match self {
            Value::Bool(b) => json!(b),
            Value::Int(i) => json!(i),
            Value::Float(f) => json!({ "float": f.to_bits().to_string() }),
            Value::Str(s) => json!(s),
            Value::Duration(d) => json!({ "duration_ms": d.as_millis().to_string() }),
            Value::List(items) => Json::Array(items.iter().map(Value::identity).collect()),
            Value::Record(fields) => Json::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.identity()))
                    .collect(),
            ),
            Value::Secret(_) => Json::Null,
            Value::Model(m) => m.identity(),
            Value::Prompt(p) => json!({ "prompt": p.source_text() }),
            Value::Objective(o) => json!({
                "objective": o.kind,
                "settings": Json::Object(o.settings.iter().map(|(k, v)| (k.clone(), v.identity())).collect()),
            }),
            Value::Records(name) => json!({ "records": name }),
            Value::Field { records, field } => json!({ "records": records, "field": field }),
            Value::Schema(fields) => json!({ "schema": fields }),
        }
    }
}

impl PartialEq for ModelDecl {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.kind == other.kind
            && self.settings == other.settings
            && self.sig.name == other.sig.name
    }
}

impl ModelDecl {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.settings.get(name)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// The files this declaration names (absolute paths), by setting name.
    pub fn files(&self) -> Vec<(&str, &str)> {
        self.settings
            .iter()
            .filter(|(k, _)| self.sig.setting(k).is_some_and(|s| s.file))
            .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
            .collect()
    }

    /// The settings that change what the model answers (not limits, prices or keys), and
    /// the declaration's name, which output records carry.
    pub fn identity(&self) -> Json {
        let mut settings = Map::new();
        for (k, v) in &self.settings {
            // Files count by their content, which the run adds to its keys (`files`).
            let left_out = self.sig.setting(k).is_some_and(|s| s.operational || s.file);
            if !left_out && !matches!(v, Value::Secret(_)) {
                settings.insert(k.clone(), v.identity());
            }
        }
        json!({ "model": self.name, "settings": settings })
    }
}
