//! Checks that need record schemas, run once the stage graph is complete: prompt
//! template variables, `records.field` references, and fields an op needs from its input.

use std::collections::{HashMap, HashSet, VecDeque};

use dtac_grammar::ast::{Item, Span, Template};
use petgraph::graph::NodeIndex;
use petgraph::Direction;

use super::schema::RecordSchema;
use super::Checker;
use crate::check_error::{hint, CheckError};
use crate::diagnostic::Diag;
use crate::source::FileId;
use crate::suggest::did_you_mean;

/// Where a prompt's template comes from.
#[derive(Debug)]
pub(crate) enum PromptSource {
    /// A `prompt` declaration: file and item index.
    Declared(FileId, usize),
    /// A string written directly as the setting's value.
    Inline(Template),
}

#[derive(Debug)]
pub(crate) enum Deferred {
    /// `{{var}}`s of a prompt used by `stage` must be fields of its first input.
    Template {
        file: FileId,
        stage: NodeIndex,
        prompt: PromptSource,
        extra: &'static [&'static str],
        used: Span,
    },
    /// `records.field` must name a field of `records`.
    Field {
        file: FileId,
        records: NodeIndex,
        field: String,
        span: Span,
    },
    /// An op reads `fields` from the records of one input.
    Needs {
        file: FileId,
        op: &'static str,
        input: NodeIndex,
        fields: &'static [&'static str],
        span: Span,
    },
}

impl Checker<'_> {
    /// The schema of every dataset and stage, in dependency order; nodes on a cycle (already
    /// reported) get an open schema.
    pub(super) fn compute_schemas(
        &mut self,
        cyclic: &HashSet<NodeIndex>,
    ) -> HashMap<NodeIndex, RecordSchema> {
        let g = &self.graph.graph;
        let mut indegree: HashMap<NodeIndex, usize> = g
            .node_indices()
            .map(|n| (n, g.neighbors_directed(n, Direction::Incoming).count()))
            .collect();
        let mut queue: VecDeque<NodeIndex> = indegree
            .iter()
            .filter(|(_, &d)| d == 0)
            .map(|(&n, _)| n)
            .collect();
        let mut schemas = HashMap::new();
        while let Some(n) = queue.pop_front() {
            let schema = self.schema_of(n, &schemas);
            schemas.insert(n, schema);
            for next in g.neighbors_directed(n, Direction::Outgoing) {
                let d = indegree.get_mut(&next).expect("node has a degree");
                *d -= 1;
                if *d == 0 {
                    queue.push_back(next);
                }
            }
        }
        for n in g.node_indices() {
            if cyclic.contains(&n) || !schemas.contains_key(&n) {
                schemas.insert(n, RecordSchema::open());
            }
        }
        schemas
    }

    fn schema_of(&self, node: NodeIndex, known: &HashMap<NodeIndex, RecordSchema>) -> RecordSchema {
        let name = self.graph.name(node);
        let Some(sym) = self.symbols.get(name) else {
            return RecordSchema::open();
        };
        let (Item::Dataset(binding) | Item::Stage(binding)) = self.item(sym) else {
            return RecordSchema::open();
        };
        let Some(sig) = self.registry.op(&binding.call.op.node) else {
            return RecordSchema::open();
        };
        let first_input = self.first_inputs.get(&node).and_then(|i| known.get(i));
        let declared = binding
            .call
            .fields()
            .iter()
            .find(|f| f.name.node == "schema")
            .map(|f| &f.value.node);
        RecordSchema::of_output(&sig.output, first_input, declared)
    }

    pub(super) fn run_deferred(&mut self, schemas: &HashMap<NodeIndex, RecordSchema>) {
        for check in std::mem::take(&mut self.deferred) {
            match check {
                Deferred::Template {
                    file,
                    stage,
                    prompt,
                    extra,
                    used,
                } => {
                    self.check_template(file, stage, &prompt, extra, used, schemas);
                }
                Deferred::Field {
                    file,
                    records,
                    field,
                    span,
                } => {
                    let schema = &schemas[&records];
                    if schema.lacks(&field) {
                        let name = self.graph.name(records).to_string();
                        self.diags.push(Diag::new(
                            Some(file),
                            CheckError::UnknownField {
                                help: hint(
                                    &did_you_mean(&field, schema.fields.keys().map(String::as_str)),
                                    &format!("`{name}` has: {}", schema.field_list()),
                                ),
                                field,
                                records: name,
                                span,
                            },
                        ));
                    }
                }
                Deferred::Needs {
                    file,
                    op,
                    input,
                    fields,
                    span,
                } => {
                    let schema = &schemas[&input];
                    for field in fields.iter().filter(|f| schema.lacks(f)) {
                        let name = self.graph.name(input).to_string();
                        self.diags.push(Diag::new(
                            Some(file),
                            CheckError::UnknownField {
                                field: field.to_string(),
                                help: format!(
                                    "`{op}` reads `{field}` from each record; `{name}` has: {}",
                                    schema.field_list()
                                ),
                                records: name,
                                span,
                            },
                        ));
                    }
                }
            }
        }
    }

    fn check_template(
        &mut self,
        file: FileId,
        stage: NodeIndex,
        prompt: &PromptSource,
        extra: &'static [&'static str],
        used: Span,
        schemas: &HashMap<NodeIndex, RecordSchema>,
    ) {
        let Some(input) = self.first_inputs.get(&stage).copied() else {
            return;
        };
        let schema = &schemas[&input];
        let (template, prompt_file) = match prompt {
            PromptSource::Declared(pf, index) => match &self.ast(*pf).items[*index] {
                Item::Prompt(p) => (p.template.clone(), *pf),
                _ => return,
            },
            PromptSource::Inline(t) => (t.clone(), file),
        };
        let stage_name = self.graph.name(stage).to_string();
        let input_name = self.graph.name(input).to_string();
        for var in template.vars() {
            let root = &var.node[0];
            if extra.contains(&root.as_str()) || !schema.lacks(root) {
                continue;
            }
            let mut candidates: Vec<&str> = schema.fields.keys().map(String::as_str).collect();
            candidates.extend(extra.iter().copied());
            let provided = if extra.is_empty() {
                String::new()
            } else {
                format!("; the op also provides: {}", extra.join(", "))
            };
            let help = hint(
                &did_you_mean(root, candidates.iter().copied()),
                &format!(
                    "records from `{input_name}` have: {}{provided}",
                    schema.field_list()
                ),
            );
            let same_file = prompt_file == file;
            let mut diag = Diag::new(
                Some(prompt_file),
                CheckError::UnboundTemplateVar {
                    var: var.node.join("."),
                    stage: stage_name.clone(),
                    span: var.span,
                    used: same_file.then_some(used),
                    help,
                },
            );
            if !same_file {
                diag = diag.with_related(Diag::new(
                    Some(file),
                    CheckError::Note {
                        message: format!("the prompt is used by `{stage_name}` here"),
                        span: used,
                    },
                ));
            }
            self.diags.push(diag);
        }
    }

    pub(super) fn schemas_by_name(&self) -> HashMap<String, RecordSchema> {
        self.schemas
            .iter()
            .map(|(n, s)| (self.graph.name(*n).to_string(), s.clone()))
            .collect()
    }
}
