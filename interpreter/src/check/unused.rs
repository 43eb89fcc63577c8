//! Warnings for declarations of the root recipe that nothing uses. Imported files are
//! libraries: their unused declarations are expected and never reported; so is a file
//! checked on its own that has no stage and no export (a library being written).

use super::{Checker, SymKind};
use crate::check_error::CheckError;
use crate::diagnostic::Diag;

impl Checker<'_> {
    /// Only on an otherwise clean recipe: after an error (a misspelt name), "unused" is
    /// mostly an echo of that error.
    pub(super) fn report_unused(&mut self) {
        let Some(root) = self.program.root else {
            return;
        };
        if self.diags.iter().any(crate::Diag::is_error) || self.is_library(root) {
            return;
        }
        let mut unused = Vec::new();
        for (name, sym) in self.symbols.iter() {
            // Stages are where work happens; one that feeds nothing is a result (a trained
            // model, a report), not a mistake.
            if sym.file != root || sym.kind == SymKind::Stage || self.used.contains(name) {
                continue;
            }
            let help = match sym.kind {
                SymKind::Param => "remove it, or use it as a setting's value".to_string(),
                SymKind::Dataset => {
                    "remove it, or read it in a stage: `stage s: op(NAME)`".replace("NAME", name)
                }
                SymKind::Prompt => {
                    "remove it, or pass it to a stage: `prompt = NAME`".replace("NAME", name)
                }
                SymKind::Objective => {
                    "remove it, or pass it to a training stage: `objective = NAME`"
                        .replace("NAME", name)
                }
                _ => "remove it, or use it in a stage".to_string(),
            };
            unused.push(Diag::new(
                Some(root),
                CheckError::Unused {
                    kind: sym.kind.word().to_string(),
                    name: name.to_string(),
                    span: sym.name_span,
                    help,
                },
            ));
        }
        self.diags.extend(unused);
    }

    /// A file with no stage and no export only declares things for others to import.
    fn is_library(&self, file: crate::source::FileId) -> bool {
        self.ast(file).items.iter().all(|i| {
            !matches!(
                i,
                dtac_grammar::ast::Item::Stage(_) | dtac_grammar::ast::Item::Export(_)
            )
        })
    }
}
