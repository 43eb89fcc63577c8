//! The registry: every builtin signature, looked up by kind and name.
//!
//! The stdlib fills it; the checker, the docs generator and the language server read it.

use std::collections::BTreeMap;

use crate::signature::{Signature, SignatureKind};
use crate::suggest::did_you_mean;

#[derive(Debug, Default)]
pub struct Registry {
    ops: BTreeMap<&'static str, &'static Signature>,
    objectives: BTreeMap<&'static str, &'static Signature>,
    formats: BTreeMap<&'static str, &'static Signature>,
    teacher: Option<&'static Signature>,
    student: Option<&'static Signature>,
}

impl Registry {
    pub fn new() -> Self {
        Registry::default()
    }

    /// Adds a builtin. Names are unique per namespace (ops, objectives, formats); a second
    /// registration under the same name is a bug in the stdlib, caught by its tests.
    pub fn register(&mut self, sig: &'static Signature) -> &mut Self {
        let previous = match sig.kind {
            SignatureKind::Source | SignatureKind::Transform => self.ops.insert(sig.name, sig),
            SignatureKind::Objective => self.objectives.insert(sig.name, sig),
            SignatureKind::ExportFormat => self.formats.insert(sig.name, sig),
            SignatureKind::Teacher => self.teacher.replace(sig),
            SignatureKind::Student => self.student.replace(sig),
        };
        debug_assert!(previous.is_none(), "`{}` registered twice", sig.name);
        self
    }

    /// A source or stage op.
    pub fn op(&self, name: &str) -> Option<&'static Signature> {
        self.ops.get(name).copied()
    }

    pub fn objective(&self, name: &str) -> Option<&'static Signature> {
        self.objectives.get(name).copied()
    }

    pub fn export_format(&self, name: &str) -> Option<&'static Signature> {
        self.formats.get(name).copied()
    }

    pub fn teacher(&self) -> Option<&'static Signature> {
        self.teacher
    }

    pub fn student(&self) -> Option<&'static Signature> {
        self.student
    }

    /// Every signature, ops first, then objectives, formats and blocks; sorted by name.
    pub fn all(&self) -> impl Iterator<Item = &'static Signature> + '_ {
        self.ops
            .values()
            .chain(self.objectives.values())
            .chain(self.formats.values())
            .chain(self.teacher.iter())
            .chain(self.student.iter())
            .copied()
    }

    /// Ops of one kind, sorted by name.
    pub fn ops_of(&self, kind: SignatureKind) -> impl Iterator<Item = &'static Signature> + '_ {
        self.ops.values().copied().filter(move |s| s.kind == kind)
    }

    pub fn suggest_op(&self, name: &str, kind: SignatureKind) -> Option<String> {
        did_you_mean(name, self.ops_of(kind).map(|s| s.name))
    }

    pub fn suggest_objective(&self, name: &str) -> Option<String> {
        did_you_mean(name, self.objectives.keys().copied())
    }

    pub fn suggest_format(&self, name: &str) -> Option<String> {
        did_you_mean(name, self.formats.keys().copied())
    }

    pub fn format_names(&self) -> Vec<&'static str> {
        self.formats.keys().copied().collect()
    }
}
