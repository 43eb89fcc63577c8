//! Check diagnostics as LSP diagnostics: ranges in UTF-16, help folded into the message,
//! "first defined here" notes as related information.
//!
//! Only the document's own problems are published for it. A problem inside an imported
//! file is shown on the `import` line that brings that file in, naming the file, with its
//! exact place as related information.

use std::path::Path;

use dtac_grammar::ast::{Item, Span};
use dtac_interpreter::Diag;
use lsp_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, NumberOrString, Range,
};
use miette::Severity;

use super::documents::Analysis;
use super::position::LineIndex;

/// Past this many, more diagnostics help nobody (as `dtac check` does).
const MAX_PUBLISHED: usize = 200;

/// Every diagnostic of a check, placed in the document's own text.
pub fn of(analysis: &Analysis) -> Vec<Diagnostic> {
    let root_text = analysis.text(analysis.root);
    let index = LineIndex::new(root_text);
    analysis
        .checked
        .diags()
        .take(MAX_PUBLISHED)
        .map(|diag| convert(analysis, &index, diag))
        .collect()
}

fn convert(analysis: &Analysis, index: &LineIndex, diag: &Diag) -> Diagnostic {
    let root_text = analysis.text(analysis.root);
    let primary = primary_span(diag);
    let mut message = diag.error.to_string();
    let mut related: Vec<DiagnosticRelatedInformation> = diag
        .related
        .iter()
        .filter_map(|r| {
            let location = analysis.location(r.file?, primary_span(r)?)?;
            Some(DiagnosticRelatedInformation {
                location,
                message: r.error.to_string(),
            })
        })
        .collect();
    let range = match (diag.file, primary) {
        (Some(file), Some(span)) if file == analysis.root => {
            index.range(root_text, span.start, span.end)
        }
        (Some(file), span) => {
            let path = &analysis.checked.program.sources.get(file).path;
            message = format!("in `{}`: {message}", path.display());
            if let Some(location) = analysis.location(file, span.unwrap_or_default()) {
                related.insert(
                    0,
                    DiagnosticRelatedInformation {
                        location,
                        message: "the problem is here".into(),
                    },
                );
            }
            let at = import_leading_to(analysis, path).unwrap_or_default();
            index.range(root_text, at.start, at.end)
        }
        (None, _) => Range::default(),
    };
    if let Some(help) = diag.error.help() {
        message = format!("{message}\nhelp: {help}");
    }
    let code = diag.code();
    Diagnostic {
        range,
        severity: Some(match diag.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Advice => DiagnosticSeverity::INFORMATION,
        }),
        code: (!code.is_empty()).then_some(NumberOrString::String(code)),
        source: Some("dtac".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Diagnostic::default()
    }
}

/// The span of the primary label (the first label when none says it is primary).
fn primary_span(diag: &Diag) -> Option<Span> {
    let labels: Vec<_> = diag.error.labels()?.collect();
    let label = labels
        .iter()
        .find(|l| l.primary())
        .or_else(|| labels.first())?;
    Some(Span::new(label.offset(), label.offset() + label.len()))
}

/// The root's `import` whose target is `path`, else its first import (the file came in
/// through a nested import).
fn import_leading_to(analysis: &Analysis, path: &Path) -> Option<Span> {
    let root_path = &analysis.checked.program.sources.get(analysis.root).path;
    let dir = root_path.parent().unwrap_or(Path::new(""));
    let imports: Vec<_> = analysis
        .ast(analysis.root)?
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Import(import) => Some(import),
            _ => None,
        })
        .collect();
    imports
        .iter()
        .find(|i| dir.join(&i.path.value) == path)
        .or_else(|| imports.first())
        .map(|i| i.span)
}
