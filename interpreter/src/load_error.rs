//! Errors reading recipe files and their imports (`dta::io::*`, `dta::check::import_*`).

use std::path::PathBuf;

use dtac_grammar::Span;
use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum LoadError {
    #[error("cannot read `{path}`: no such file")]
    #[diagnostic(
        code(dta::io::not_found),
        help("check the path; recipes usually end in `.dta`")
    )]
    NotFound { path: PathBuf },

    #[error("`{path}` is a directory, not a recipe file")]
    #[diagnostic(code(dta::io::is_directory), help("name a `.dta` file inside it"))]
    IsDirectory { path: PathBuf },

    #[error("cannot read `{path}`: {reason}")]
    #[diagnostic(
        code(dta::io::unreadable),
        help("check the path and the file's permissions")
    )]
    Unreadable { path: PathBuf, reason: String },

    #[error("`{path}` is {size} bytes; recipes are limited to {limit} bytes")]
    #[diagnostic(
        code(dta::io::too_large),
        help("is this really a recipe? keep data in datasets and read it with a source op")
    )]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },

    #[error("`{path}` is not valid UTF-8")]
    #[diagnostic(
        code(dta::io::invalid_utf8),
        help("recipes are UTF-8 text; re-save the file as UTF-8")
    )]
    InvalidUtf8 {
        path: PathBuf,
        #[label("invalid byte sequence here")]
        span: Span,
    },

    #[error("imported file `{import}` not found")]
    #[diagnostic(
        code(dta::check::import_not_found),
        help(
            "import paths are relative to the importing file's directory; looked for `{resolved}`"
        )
    )]
    ImportNotFound {
        import: String,
        resolved: String,
        #[label("no such file")]
        span: Span,
    },

    #[error("import cycle: {cycle}")]
    #[diagnostic(
        code(dta::check::import_cycle),
        help("move what both files need into a third file that neither imports back")
    )]
    ImportCycle {
        cycle: String,
        #[label("this import closes the cycle")]
        span: Span,
    },
}
