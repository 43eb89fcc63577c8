//! `Diag`: one diagnostic of any layer (io, syntax, check), tied to the file it is about.
//!
//! Errors carry byte spans only; the source text is attached here, when a diagnostic is
//! rendered, from the [`SourceMap`].

use std::fmt;

use miette::{Diagnostic, LabeledSpan, Severity, SourceCode};

use crate::source::{FileId, SourceMap};

pub type BoxedDiagnostic = Box<dyn Diagnostic + Send + Sync + 'static>;

/// A diagnostic, the file its spans point into, and notes about other files ("first
/// defined here" in an imported file).
#[derive(Debug)]
pub struct Diag {
    pub file: Option<FileId>,
    pub error: BoxedDiagnostic,
    pub related: Vec<Diag>,
}

impl Diag {
    pub fn new(file: Option<FileId>, error: impl Diagnostic + Send + Sync + 'static) -> Self {
        Diag {
            file,
            error: Box::new(error),
            related: Vec::new(),
        }
    }

    pub fn with_related(mut self, related: Diag) -> Self {
        self.related.push(related);
        self
    }

    pub fn severity(&self) -> Severity {
        self.error.severity().unwrap_or(Severity::Error)
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }

    pub fn code(&self) -> String {
        self.error.code().map(|c| c.to_string()).unwrap_or_default()
    }

    /// A view of this diagnostic with its source attached, for miette's renderers.
    pub fn with_sources<'a>(&'a self, sources: &'a SourceMap) -> WithSource<'a> {
        WithSource {
            diag: self,
            source: self.file.map(|f| sources.get(f).named() as &dyn SourceCode),
            related: self
                .related
                .iter()
                .map(|r| r.with_sources(sources))
                .collect(),
        }
    }
}

/// A [`Diag`] with its source text, ready to render.
pub struct WithSource<'a> {
    diag: &'a Diag,
    source: Option<&'a dyn SourceCode>,
    related: Vec<WithSource<'a>>,
}

impl fmt::Debug for WithSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.diag.error, f)
    }
}

impl fmt::Display for WithSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.diag.error, f)
    }
}

impl std::error::Error for WithSource<'_> {}

impl Diagnostic for WithSource<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag.error.code()
    }

    fn severity(&self) -> Option<Severity> {
        self.diag.error.severity()
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag.error.help()
    }

    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag.error.url()
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        // Labels without a source cannot be rendered; drop them rather than fail.
        self.source?;
        self.diag.error.labels()
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn Diagnostic> + 'b>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)))
        }
    }
}
