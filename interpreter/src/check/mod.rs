//! Checking a loaded recipe: names, settings against op signatures, types, prompt
//! templates, the stage DAG and its cycles, environment variables, unused declarations.
//!
//! Every problem is collected; nothing stops at the first error. The checker reads op
//! knowledge only from the [`Registry`]'s signatures.
//!
//! Passes: symbols (names, duplicates) → items (settings and values; records dependencies
//! and defers what needs record schemas) → graph (cycles) → schemas in dependency order →
//! deferred checks (template variables, field references) → unused declarations.

mod calls;
mod deferred;
mod items;
mod lint;
mod params;
mod schema;
mod symbols;
mod unused;
mod values;

use std::collections::{HashMap, HashSet};

use dtac_grammar::ast::{File, Item};
use petgraph::graph::NodeIndex;

use crate::check_error::CheckError;
use crate::diagnostic::Diag;
use crate::graph::StageGraph;
use crate::load::Program;
use crate::registry::Registry;
use crate::source::FileId;

pub use schema::{type_text as schema_type_text, RecordSchema};
pub use symbols::{SymKind, Symbol, Symbols};

use deferred::Deferred;
use params::ParamValue;

/// What a check may vary: `--set` overrides and how to look up the environment.
pub struct CheckOptions {
    /// `(name, value)` pairs from `--set name=value`, in order; later ones win.
    pub overrides: Vec<(String, String)>,
    /// Whether an environment variable is set. Only presence is ever asked for.
    pub env_present: Box<dyn Fn(&str) -> bool>,
    /// Whether signatures' resource checks run (checkpoint directories on disk). Off
    /// for checking a recipe's shape alone, as the docs' examples are.
    pub resources: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            overrides: Vec::new(),
            env_present: Box::new(|name| std::env::var_os(name).is_some()),
            resources: true,
        }
    }
}

impl std::fmt::Debug for CheckOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckOptions")
            .field("overrides", &self.overrides)
            .finish_non_exhaustive()
    }
}

/// The result of a check: diagnostics, and the stage graph when the recipe had no errors.
#[derive(Debug)]
pub struct CheckOutput {
    pub diags: Vec<Diag>,
    pub graph: StageGraph,
    /// Schema of every dataset and stage, by name.
    pub schemas: HashMap<String, RecordSchema>,
    /// Every declared name.
    pub symbols: Symbols,
    /// The effective value of every param (`--set` override, else default).
    pub params: HashMap<String, dtac_grammar::ast::Expr>,
}

impl CheckOutput {
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diag::is_error)
    }
}

/// Check a loaded program. Its load diagnostics stay in the program; callers report both
/// (see [`crate::Checked`]).
pub fn check(program: &Program, registry: &Registry, options: &CheckOptions) -> CheckOutput {
    let mut diags = Vec::new();
    let symbols = Symbols::collect(program, &mut diags);
    let mut checker = Checker {
        program,
        registry,
        options,
        symbols,
        diags,
        used: HashSet::new(),
        graph: StageGraph::default(),
        deferred: Vec::new(),
        params: HashMap::new(),
        current: None,
        file: FileId(0),
        first_inputs: HashMap::new(),
        schemas: HashMap::new(),
    };
    checker.run();
    let params = checker
        .params
        .iter()
        .filter_map(|(name, p)| Some((name.clone(), p.value.clone()?)))
        .collect();
    CheckOutput {
        schemas: checker.schemas_by_name(),
        diags: checker.diags,
        graph: checker.graph,
        symbols: checker.symbols,
        params,
    }
}

pub(crate) struct Checker<'a> {
    program: &'a Program,
    registry: &'a Registry,
    options: &'a CheckOptions,
    symbols: Symbols,
    diags: Vec<Diag>,
    /// Names referenced anywhere.
    used: HashSet<String>,
    graph: StageGraph,
    deferred: Vec<Deferred>,
    /// Effective value of every param (override, else default).
    params: HashMap<String, ParamValue>,
    /// The graph node whose item is being checked: references add edges to it.
    current: Option<NodeIndex>,
    /// The file whose item is being checked.
    file: FileId,
    /// Each stage's first input: the records its prompts see.
    first_inputs: HashMap<NodeIndex, NodeIndex>,
    schemas: HashMap<NodeIndex, RecordSchema>,
}

impl<'a> Checker<'a> {
    fn run(&mut self) {
        self.check_versions();
        self.resolve_params();
        self.add_nodes();
        for (file, ast) in &self.program.files {
            self.file = *file;
            for (index, item) in ast.items.iter().enumerate() {
                self.current = item
                    .name()
                    .and_then(|n| self.graph.node(&n.node))
                    .filter(|_| self.owns_symbol(*file, index, item));
                self.check_item(item);
            }
        }
        self.current = None;
        let cyclic = self.report_cycles();
        let schemas = self.compute_schemas(&cyclic);
        self.run_deferred(&schemas);
        self.schemas = schemas;
        self.report_unused();
    }

    /// Whether the item at `file`/`index` is the declaration its name resolves to (a
    /// duplicate is checked, but adds no edges to the first declaration's node).
    fn owns_symbol(&self, file: FileId, index: usize, item: &Item) -> bool {
        item.name()
            .and_then(|n| self.symbols.get(&n.node))
            .is_some_and(|s| s.file == file && s.item == index)
    }

    fn check_versions(&mut self) {
        for (file, ast) in &self.program.files {
            for item in &ast.items {
                if let Item::Version(v) = item {
                    if v.value.node != 1 {
                        self.diags.push(Diag::new(
                            Some(*file),
                            CheckError::UnsupportedVersion {
                                version: v.value.node,
                                span: v.value.span,
                            },
                        ));
                    }
                }
            }
        }
    }

    /// Graph nodes for every dataset and stage (exports are added as they are checked).
    fn add_nodes(&mut self) {
        for (name, sym) in self.symbols.iter() {
            let kind = match sym.kind {
                SymKind::Dataset => crate::graph::NodeKind::Dataset,
                SymKind::Stage => crate::graph::NodeKind::Stage,
                _ => continue,
            };
            let op = match self.item(sym) {
                Item::Dataset(b) | Item::Stage(b) => b.call.op.node.clone(),
                _ => continue,
            };
            self.graph.add(name, &op, kind);
        }
    }

    pub(crate) fn item(&self, sym: &Symbol) -> &'a Item {
        &self.ast(sym.file).items[sym.item]
    }

    pub(crate) fn ast(&self, file: FileId) -> &'a File {
        self.program
            .file(file)
            .expect("symbols come from parsed files")
    }

    pub(crate) fn error(&mut self, err: CheckError) {
        self.diags.push(Diag::new(Some(self.file), err));
    }

    fn report_cycles(&mut self) -> HashSet<NodeIndex> {
        let mut cyclic = HashSet::new();
        for cycle in self.graph.cycles() {
            let path = cycle
                .iter()
                .map(|&n| format!("`{}`", self.graph.name(n)))
                .collect::<Vec<_>>()
                .join(" → ");
            cyclic.extend(cycle.iter().copied());
            let name = self.graph.name(cycle[0]).to_string();
            if let Some(sym) = self.symbols.get(&name).copied() {
                self.diags.push(Diag::new(
                    Some(sym.file),
                    CheckError::Cycle {
                        path,
                        span: sym.name_span,
                    },
                ));
            }
        }
        cyclic
    }
}
