//! Rendering diagnostics: miette's graphical report for people, JSON for editors and CI.

use miette::{GraphicalReportHandler, GraphicalTheme, Severity};
use serde_json::{json, Value};

use crate::diagnostic::Diag;
use crate::source::SourceMap;

/// How to draw human-readable reports.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            width: 100,
        }
    }
}

/// One diagnostic as miette draws it: header, source snippet with labels, help.
pub fn render_human(diag: &Diag, sources: &SourceMap, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut out = String::new();
    let view = diag.with_sources(sources);
    if handler.render_report(&mut out, &view).is_err() {
        // Rendering only fails on a span outside its source, which would be a bug; the
        // message alone is still worth showing.
        out = format!("{}: {}\n", diag.code(), diag.error);
    }
    out
}

/// One diagnostic as a JSON object (one per line with `--message-format json`).
///
/// Positions are 1-based lines and columns (columns in characters) plus byte offsets.
pub fn render_json(diag: &Diag, sources: &SourceMap) -> Value {
    let file = diag.file.map(|f| sources.get(f));
    let text = file.map_or("", |f| &f.text);
    let position = |offset: usize, len: usize| {
        let (line, column) = dtac_grammar::line_col(text, offset);
        let (end_line, end_column) = dtac_grammar::line_col(text, offset + len);
        json!({
            "line": line, "column": column,
            "end_line": end_line, "end_column": end_column,
            "byte_start": offset, "byte_end": offset + len,
        })
    };
    let labels: Vec<Value> = if file.is_some() {
        diag.error
            .labels()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, l)| {
                let mut v = position(l.offset(), l.len());
                v["message"] = json!(l.label());
                v["primary"] = json!(l.primary() || i == 0);
                v
            })
            .collect()
    } else {
        Vec::new()
    };
    let severity = match diag.severity() {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Advice => "note",
    };
    let mut out = json!({
        "type": "diagnostic",
        "severity": severity,
        "code": diag.code(),
        "message": diag.error.to_string(),
        "file": file.map(|f| f.path.display().to_string()),
        "help": diag.error.help().map(|h| h.to_string()),
        "labels": labels,
        "related": diag.related.iter().map(|r| render_json(r, sources)).collect::<Vec<_>>(),
    });
    if let Some(first) = labels.first() {
        for key in ["line", "column", "end_line", "end_column"] {
            out[key] = first[key].clone();
        }
    }
    out
}
