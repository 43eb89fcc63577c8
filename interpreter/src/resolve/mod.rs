//! Resolution: a checked recipe becomes a [`Recipe`], the executor's input. Every name is
//! looked up (params to their values, teachers to their blocks, prompts to their text),
//! every default is filled in from the signature, non-secret `env(...)` values are read,
//! and relative paths are made absolute against the file that wrote them.
//!
//! Only recipes without check errors are resolved, so lookups here cannot fail on user
//! input; a failed lookup is a bug and is reported as such, never a panic.

mod restrict;
mod value;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dtac_grammar::ast::{Call, Expr, ExprKind, Field, Item, Span};
use dtac_grammar::template::parse_template;

use crate::check::SymKind;
use crate::graph::NodeKind;
use crate::registry::Registry;
use crate::signature::{FieldSpec, Signature, SignatureKind, Type};
use crate::source::FileId;
use crate::Checked;

pub use value::{ModelDecl, ObjectiveDecl, PromptText, Value};

/// A recipe ready to run: its datasets and stages in dependency order, then its exports.
#[derive(Debug)]
pub struct Recipe {
    /// The root recipe file.
    pub path: PathBuf,
    pub nodes: Vec<Node>,
    pub exports: Vec<ExportNode>,
    /// Every param's effective value.
    pub params: BTreeMap<String, Value>,
    /// Every teacher and student declaration.
    pub models: BTreeMap<String, Arc<ModelDecl>>,
}

/// A dataset or a stage.
#[derive(Debug)]
pub struct Node {
    pub name: String,
    pub kind: NodeKind,
    pub sig: &'static Signature,
    /// Positional arguments: `Records` for stage inputs, `Str` (an absolute path) for
    /// sources.
    pub inputs: Vec<Value>,
    /// Every setting of the signature that has a value (given or default).
    pub settings: BTreeMap<String, Value>,
    /// The nodes this one reads, each once: the first input first.
    pub upstream: Vec<String>,
    pub file: FileId,
    pub span: Span,
}

/// `export STAGE to "PATH" as FORMAT { ... }`.
#[derive(Debug)]
pub struct ExportNode {
    pub stage: String,
    /// Absolute, resolved against the declaring file's directory.
    pub path: PathBuf,
    pub format: &'static Signature,
    pub settings: BTreeMap<String, Value>,
    pub file: FileId,
    pub span: Span,
}

impl Node {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.settings.get(name)
    }

    /// The records this stage streams from (its first input), if any.
    pub fn main_input(&self) -> Option<&str> {
        match self.inputs.first() {
            Some(Value::Records(name)) => Some(name),
            _ => None,
        }
    }
}

/// Why a checked recipe could not be resolved: always a bug in dtac, since checking
/// guarantees every lookup here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveError(pub String);

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "internal error while resolving the recipe: {}", self.0)
    }
}

/// Resolve a recipe that checked without errors. `env` looks up non-secret environment
/// variables (secrets are never read here).
pub fn resolve(
    checked: &Checked,
    registry: &Registry,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Recipe, ResolveError> {
    let program = &checked.program;
    let root = program
        .root
        .ok_or_else(|| ResolveError("no root file".into()))?;
    let mut r = Resolver {
        checked,
        registry,
        env,
        file: root,
        params: BTreeMap::new(),
        models: BTreeMap::new(),
    };
    r.resolve_params()?;
    r.resolve_models()?;
    let graph = &checked.output.graph;
    let order = graph
        .topological()
        .ok_or_else(|| ResolveError("the stage graph has a cycle".into()))?;
    let mut nodes = Vec::new();
    for ix in order {
        let node = &graph.graph[ix];
        if node.kind == NodeKind::Export {
            continue;
        }
        nodes.push(r.resolve_node(&node.name, node.kind)?);
    }
    let mut exports = Vec::new();
    for (file, ast) in &program.files {
        for item in &ast.items {
            if let Item::Export(e) = item {
                r.file = *file;
                let format = registry
                    .export_format(&e.format.node)
                    .ok_or_else(|| ResolveError(format!("format `{}`", e.format.node)))?;
                exports.push(ExportNode {
                    stage: e.stage.node.clone(),
                    path: r.relative(&e.path.value),
                    format,
                    settings: r.settings(format, e.fields())?,
                    file: *file,
                    span: e.span,
                });
            }
        }
    }
    Ok(Recipe {
        path: program.sources.get(root).path.clone(),
        nodes,
        exports,
        params: r.params,
        models: r.models,
    })
}

struct Resolver<'a> {
    checked: &'a Checked,
    registry: &'a Registry,
    env: &'a dyn Fn(&str) -> Option<String>,
    /// The file whose item is being resolved: relative paths resolve against it.
    file: FileId,
    params: BTreeMap<String, Value>,
    models: BTreeMap<String, Arc<ModelDecl>>,
}

impl<'a> Resolver<'a> {
    fn item(&self, name: &str) -> Result<(FileId, &'a Item), ResolveError> {
        let checked: &'a Checked = self.checked;
        let sym = checked
            .output
            .symbols
            .get(name)
            .ok_or_else(|| ResolveError(format!("unknown name `{name}`")))?;
        let file = checked
            .program
            .file(sym.file)
            .ok_or_else(|| ResolveError(format!("file of `{name}`")))?;
        Ok((sym.file, &file.items[sym.item]))
    }

    fn resolve_params(&mut self) -> Result<(), ResolveError> {
        let mut params: Vec<_> = self.checked.output.params.iter().collect();
        params.sort_by(|a, b| a.0.cmp(b.0));
        for (name, expr) in params {
            let value = self.expr(expr, &Type::Any)?;
            self.params.insert(name.clone(), value);
        }
        Ok(())
    }

    fn resolve_models(&mut self) -> Result<(), ResolveError> {
        let names: Vec<(String, SymKind)> = self
            .checked
            .output
            .symbols
            .iter()
            .filter(|(_, s)| matches!(s.kind, SymKind::Teacher | SymKind::Student))
            .map(|(n, s)| (n.to_string(), s.kind))
            .collect();
        for (name, kind) in names {
            let (file, item) = self.item(&name)?;
            let (Item::Teacher(decl) | Item::Student(decl)) = item else {
                return Err(ResolveError(format!("`{name}` is not a block")));
            };
            let sig = match kind {
                SymKind::Teacher => self.registry.teacher(),
                _ => self.registry.student(),
            }
            .ok_or_else(|| ResolveError("no block signature".into()))?;
            self.file = file;
            let settings = self.settings(sig, &decl.body.fields)?;
            self.models.insert(
                name.clone(),
                Arc::new(ModelDecl {
                    name,
                    kind: sig.kind,
                    settings,
                    sig,
                }),
            );
        }
        Ok(())
    }

    fn resolve_node(&mut self, name: &str, kind: NodeKind) -> Result<Node, ResolveError> {
        let (file, item) = self.item(name)?;
        let (Item::Dataset(b) | Item::Stage(b)) = item else {
            return Err(ResolveError(format!("`{name}` is not a dataset or stage")));
        };
        self.file = file;
        let call: &Call = &b.call;
        let sig = self
            .registry
            .op(&call.op.node)
            .ok_or_else(|| ResolveError(format!("op `{}`", call.op.node)))?;
        let mut inputs = Vec::new();
        for (i, arg) in call.args().iter().enumerate() {
            let spec = sig.inputs.get(i).or(sig.inputs.last());
            let ty = spec.map_or(Type::Any, |s| s.ty);
            let value = match (&ty, &arg.node) {
                (Type::Str, ExprKind::Str(s)) if sig.kind == SignatureKind::Source => {
                    Value::Str(self.relative(&s.value).to_string_lossy().into_owned())
                }
                _ => self.expr(arg, &ty)?,
            };
            inputs.push(value);
        }
        let settings = self.settings(sig, call.fields())?;
        let mut upstream = Vec::new();
        for v in inputs.iter().chain(settings.values()) {
            collect_records(v, &mut upstream);
        }
        Ok(Node {
            name: name.to_string(),
            kind,
            sig,
            inputs,
            settings,
            upstream,
            file,
            span: b.span,
        })
    }

    /// The given settings, then the defaults of those left out.
    fn settings(
        &mut self,
        sig: &'static Signature,
        fields: &[Field],
    ) -> Result<BTreeMap<String, Value>, ResolveError> {
        let mut out = BTreeMap::new();
        for field in fields {
            let name = &field.name.node;
            let spec = sig.setting(name);
            let ty = spec.map_or(Type::Any, |s| s.ty);
            let mut value = self.expr(&field.value, &ty)?;
            if let (Some(spec), Value::Str(path)) = (spec, &value) {
                if spec.file {
                    value = Value::Str(self.relative(path).to_string_lossy().into_owned());
                }
            }
            out.insert(name.clone(), value);
        }
        for spec in sig.all_settings() {
            if out.contains_key(spec.name) {
                continue;
            }
            if let Some(value) = self.default(spec)? {
                out.insert(spec.name.to_string(), value);
            }
        }
        Ok(out)
    }

    fn default(&mut self, spec: &FieldSpec) -> Result<Option<Value>, ResolveError> {
        let Some(text) = spec.default else {
            return Ok(None);
        };
        let expr = dtac_grammar::parse_expr(text)
            .map_err(|_| ResolveError(format!("default of `{}`: {text}", spec.name)))?;
        // A default that names something (`objective = forward_kl`) is an objective name.
        if let (ExprKind::Ref(path), Type::Objective) = (&expr.node, &spec.ty) {
            return Ok(Some(builtin_objective(&path[0].node)));
        }
        self.expr(&expr, &spec.ty).map(Some)
    }

    fn expr(&mut self, expr: &Expr, ty: &Type) -> Result<Value, ResolveError> {
        Ok(match &expr.node {
            ExprKind::Str(s) => match ty {
                Type::Prompt => {
                    let template = parse_template(s)
                        .map_err(|_| ResolveError("inline prompt template".into()))?;
                    Value::Prompt(Arc::new(PromptText {
                        name: None,
                        segments: template.segments,
                    }))
                }
                _ => Value::Str(s.value.clone()),
            },
            ExprKind::Int(n) => match ty {
                Type::Float => Value::Float(n.value as f64),
                _ => Value::Int(n.value),
            },
            ExprKind::Float(n) => Value::Float(n.value),
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Duration(d) => Value::Duration(d.value),
            ExprKind::List(items, _) => {
                let inner = match ty {
                    Type::List(inner) => **inner,
                    _ => Type::Any,
                };
                Value::List(
                    items
                        .iter()
                        .map(|e| self.expr(e, &inner))
                        .collect::<Result<_, _>>()?,
                )
            }
            ExprKind::Record(fields, _) => {
                let mut out = BTreeMap::new();
                for f in fields {
                    let fty = match ty {
                        Type::Record(keys) => keys
                            .iter()
                            .find(|k| k.name == f.name.node)
                            .map_or(Type::Any, |k| k.ty),
                        Type::Map(inner) => **inner,
                        _ => Type::Any,
                    };
                    out.insert(f.name.node.clone(), self.expr(&f.value, &fty)?);
                }
                if let Type::Record(keys) = ty {
                    for key in keys.iter() {
                        if !out.contains_key(key.name) {
                            if let Some(v) = self.default(key)? {
                                out.insert(key.name.to_string(), v);
                            }
                        }
                    }
                }
                Value::Record(out)
            }
            ExprKind::Schema(fields, _) => Value::Schema(
                fields
                    .iter()
                    .map(|f| (f.name.node.clone(), crate::check::schema_type_text(&f.ty)))
                    .collect(),
            ),
            ExprKind::Env { var, default } => {
                if matches!(ty, Type::Secret) {
                    Value::Secret(var.value.clone())
                } else {
                    match (self.env)(&var.value) {
                        Some(v) => typed_env(&v, ty),
                        None => match default {
                            Some(d) => self.expr(d, ty)?,
                            None => {
                                return Err(ResolveError(format!(
                                    "environment variable `{}` is not set",
                                    var.value
                                )))
                            }
                        },
                    }
                }
            }
            ExprKind::Ref(path) => self.reference(path, ty)?,
        })
    }

    fn reference(
        &mut self,
        path: &[dtac_grammar::ast::Ident],
        ty: &Type,
    ) -> Result<Value, ResolveError> {
        let name = &path[0].node;
        let Some(sym) = self.checked.output.symbols.get(name).copied() else {
            if matches!(ty, Type::Objective) {
                return Ok(builtin_objective(name));
            }
            return Err(ResolveError(format!("unknown name `{name}`")));
        };
        if path.len() > 1 {
            return Ok(Value::Field {
                records: name.clone(),
                field: path[1..]
                    .iter()
                    .map(|i| i.node.as_str())
                    .collect::<Vec<_>>()
                    .join("."),
            });
        }
        Ok(match sym.kind {
            SymKind::Param => {
                let v = self
                    .params
                    .get(name)
                    .cloned()
                    .ok_or_else(|| ResolveError(format!("param `{name}`")))?;
                match (v, ty) {
                    (Value::Int(i), Type::Float) => Value::Float(i as f64),
                    (v, _) => v,
                }
            }
            SymKind::Teacher | SymKind::Student => Value::Model(
                self.models
                    .get(name)
                    .cloned()
                    .ok_or_else(|| ResolveError(format!("model `{name}`")))?,
            ),
            SymKind::Prompt => {
                let (_, item) = self.item(name)?;
                let Item::Prompt(p) = item else {
                    return Err(ResolveError(format!("prompt `{name}`")));
                };
                Value::Prompt(Arc::new(PromptText {
                    name: Some(name.clone()),
                    segments: p.template.segments.clone(),
                }))
            }
            SymKind::Dataset | SymKind::Stage => Value::Records(name.clone()),
            SymKind::Objective => {
                let (file, item) = self.item(name)?;
                let Item::Objective(b) = item else {
                    return Err(ResolveError(format!("objective `{name}`")));
                };
                let kind = b.call.op.node.clone();
                let sig = self
                    .registry
                    .objective(&kind)
                    .ok_or_else(|| ResolveError(format!("objective kind `{kind}`")))?;
                let saved = self.file;
                self.file = file;
                let settings = self.settings(sig, b.call.fields())?;
                self.file = saved;
                Value::Objective(Arc::new(ObjectiveDecl {
                    name: name.clone(),
                    kind,
                    settings,
                }))
            }
        })
    }

    /// `path` relative to the directory of the file being resolved.
    fn relative(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            return p.to_path_buf();
        }
        let file = &self.checked.program.sources.get(self.file).path;
        file.parent().unwrap_or(Path::new(".")).join(p)
    }
}

fn builtin_objective(name: &str) -> Value {
    Value::Objective(Arc::new(ObjectiveDecl {
        name: name.to_string(),
        kind: name.to_string(),
        settings: BTreeMap::new(),
    }))
}

/// A non-secret env var's text as the setting's type (`rpm = env("RPM")`).
fn typed_env(text: &str, ty: &Type) -> Value {
    match ty {
        Type::Int => text
            .trim()
            .parse()
            .map_or(Value::Str(text.into()), Value::Int),
        Type::Float => text
            .trim()
            .parse()
            .map_or(Value::Str(text.into()), Value::Float),
        Type::Bool => match text.trim() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => Value::Str(text.into()),
        },
        _ => Value::Str(text.to_string()),
    }
}

/// Every dataset or stage a value names, in order, each once.
fn collect_records(value: &Value, out: &mut Vec<String>) {
    let mut push = |name: &String| {
        if !out.contains(name) {
            out.push(name.clone());
        }
    };
    match value {
        Value::Records(name) => push(name),
        Value::Field { records, .. } => push(records),
        Value::List(items) => items.iter().for_each(|v| collect_records(v, out)),
        Value::Record(fields) => fields.values().for_each(|v| collect_records(v, out)),
        _ => {}
    }
}
