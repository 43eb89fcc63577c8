//! Checking each kind of top-level item against the registry.

use dtac_grammar::ast::{Binding, Decl, Export, Item};

use super::Checker;
use crate::check_error::{hint, CheckError};
use crate::graph::NodeKind;
use crate::signature::{SignatureKind, Type};

impl Checker<'_> {
    pub(super) fn check_item(&mut self, item: &Item) {
        match item {
            // Versions and params were checked in earlier passes; imports by the loader;
            // prompt templates by the parser (their variables when a stage uses them).
            Item::Version(_) | Item::Import(_) | Item::Param(_) | Item::Prompt(_) => {}
            Item::Teacher(decl) => self.check_block_decl("teacher", self.registry.teacher(), decl),
            Item::Student(decl) => self.check_block_decl("student", self.registry.student(), decl),
            Item::Dataset(binding) => self.check_binding(binding, SignatureKind::Source),
            Item::Stage(binding) => self.check_binding(binding, SignatureKind::Transform),
            Item::Objective(binding) => self.check_objective(binding),
            Item::Export(export) => self.check_export(export),
        }
    }

    fn check_block_decl(
        &mut self,
        keyword: &str,
        sig: Option<&'static crate::signature::Signature>,
        decl: &Decl,
    ) {
        if let Some(sig) = sig {
            let owner = format!("{keyword} `{}`", decl.name.node);
            self.check_settings(&owner, sig, &decl.body.fields, decl.name.span);
        }
    }

    /// `dataset NAME: source(...)` and `stage NAME: op(...)`.
    fn check_binding(&mut self, binding: &Binding, kind: SignatureKind) {
        let call = &binding.call;
        let op = &call.op.node;
        let Some(sig) = self.registry.op(op) else {
            self.error(CheckError::UnknownOp {
                name: op.clone(),
                span: call.op.span,
                help: hint(&self.registry.suggest_op(op, kind), &list_ops(self, kind)),
            });
            return;
        };
        if sig.kind != kind {
            let (used_as, help) = match kind {
                SignatureKind::Source => (
                    "a dataset needs a source op".to_string(),
                    format!(
                        "declare it as a stage: `stage {}: {op}(...)`; {}",
                        binding.name.node,
                        list_ops(self, kind)
                    ),
                ),
                _ => (
                    "a stage needs a stage op".to_string(),
                    format!(
                        "declare it as a dataset: `dataset {}: {op}(...)`",
                        binding.name.node
                    ),
                ),
            };
            self.error(CheckError::WrongOpKind {
                op: op.clone(),
                actual: sig.kind.describe().to_string(),
                used_as,
                span: call.op.span,
                help,
            });
            return;
        }
        self.check_inputs(sig, call);
        let owner = format!("`{op}`");
        self.check_settings(&owner, sig, call.fields(), call.op.span);
    }

    /// `objective NAME: kind { ... }`.
    fn check_objective(&mut self, binding: &Binding) {
        let call = &binding.call;
        let kind = &call.op.node;
        let Some(sig) = self.registry.objective(kind) else {
            let names: Vec<&str> = self
                .registry
                .all()
                .filter(|s| s.kind == SignatureKind::Objective)
                .map(|s| s.name)
                .collect();
            self.error(CheckError::UnknownName {
                what: "objective kind".into(),
                name: kind.clone(),
                span: call.op.span,
                help: hint(
                    &self.registry.suggest_objective(kind),
                    &format!("objectives are: {}", names.join(", ")),
                ),
            });
            return;
        };
        if let Some(args) = &call.args {
            if !args.node.is_empty() {
                self.error(CheckError::WrongArity {
                    op: kind.clone(),
                    expected: "no inputs".into(),
                    given: args.node.len(),
                    span: args.span,
                    help: format!(
                        "objectives take settings only: `objective {}: {kind} {{ ... }}`",
                        binding.name.node
                    ),
                });
            }
        }
        let owner = format!("objective `{kind}`");
        self.check_settings(&owner, sig, call.fields(), call.op.span);
    }

    /// `export STAGE to "PATH" as FORMAT { ... }`.
    fn check_export(&mut self, export: &Export) {
        let node = self
            .graph
            .add(&export.path.value, &export.format.node, NodeKind::Export);
        self.current = Some(node);
        let stage_ref = dtac_grammar::Spanned::new(
            dtac_grammar::ast::ExprKind::Ref(vec![export.stage.clone()]),
            export.stage.span,
        );
        self.check_value("export", &Type::Records, &stage_ref, None);
        if export.path.value.trim().is_empty() {
            self.error(CheckError::WrongType {
                name: "export".into(),
                expected: "a file path".into(),
                found: "an empty string".into(),
                span: export.path.span,
                help: Some("write the output path, e.g. \"out/data.jsonl\"".into()),
            });
        }
        let format = &export.format.node;
        match self.registry.export_format(format) {
            Some(sig) => {
                let owner = format!("export format `{format}`");
                self.check_settings(&owner, sig, export.fields(), export.format.span);
            }
            None => self.error(CheckError::UnknownName {
                what: "export format".into(),
                name: format.clone(),
                span: export.format.span,
                help: hint(
                    &self.registry.suggest_format(format),
                    &format!("formats are: {}", self.registry.format_names().join(", ")),
                ),
            }),
        }
        self.current = None;
    }
}

fn list_ops(checker: &Checker<'_>, kind: SignatureKind) -> String {
    let names: Vec<&str> = checker.registry.ops_of(kind).map(|s| s.name).collect();
    let what = if kind == SignatureKind::Source {
        "sources"
    } else {
        "stage ops"
    };
    format!("{what} are: {}", names.join(", "))
}
