//! The dtac interpreter: loading recipes with their imports, name resolution, checking
//! against op signatures, and the stage DAG.
//!
//! The stdlib registers its ops' [`signature::Signature`]s in a [`registry::Registry`];
//! nothing here knows any particular op.

pub mod check;
mod check_error;
pub mod diagnostic;
pub mod docs;
pub mod graph;
pub mod load;
mod load_error;
pub mod registry;
pub mod report;
pub mod resolve;
pub mod signature;
pub mod source;
pub mod suggest;

use std::path::Path;

pub use check::{check, CheckOptions, CheckOutput};
pub use check_error::CheckError;
pub use diagnostic::Diag;
pub use load::{load, load_text, Program};
pub use load_error::LoadError;
pub use registry::Registry;

/// A loaded and checked recipe: every diagnostic, and the graph.
#[derive(Debug)]
pub struct Checked {
    pub program: Program,
    pub output: CheckOutput,
}

impl Checked {
    /// Load diagnostics first, then check diagnostics, each in the order found.
    pub fn diags(&self) -> impl Iterator<Item = &Diag> {
        self.program.diags.iter().chain(self.output.diags.iter())
    }

    pub fn has_errors(&self) -> bool {
        self.diags().any(Diag::is_error)
    }
}

/// Load `path` with its imports and check it. When a file does not parse, names are not
/// checked: every name it declares would be reported missing elsewhere.
pub fn check_path(path: &Path, registry: &Registry, options: &CheckOptions) -> Checked {
    finish(load(path), registry, options)
}

/// As [`check_path`], for text that is not on disk (editors, tests).
pub fn check_text(name: &Path, text: &str, registry: &Registry, options: &CheckOptions) -> Checked {
    finish(load_text(name, text), registry, options)
}

fn finish(program: Program, registry: &Registry, options: &CheckOptions) -> Checked {
    let output = if program.diags.iter().any(Diag::is_error) {
        CheckOutput {
            diags: Vec::new(),
            graph: Default::default(),
            schemas: Default::default(),
            symbols: Default::default(),
            params: Default::default(),
        }
    } else {
        check(&program, registry, options)
    };
    Checked { program, output }
}
