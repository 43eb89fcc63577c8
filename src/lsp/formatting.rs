//! Formatting: the whole document through the printer `dtac fmt` uses, as one edit.

use lsp_types::{Position, Range, TextEdit};

use super::documents::Document;

/// The edits that format `doc`: none when it is formatted already or does not parse (a
/// format-on-save must never garble a broken file; its diagnostics say what is wrong).
pub fn format(doc: &Document) -> Vec<TextEdit> {
    match dtac_grammar::format::format_source(&doc.text) {
        Ok(formatted) if formatted != doc.text => vec![TextEdit {
            range: Range::new(Position::new(0, 0), doc.index.end(&doc.text)),
            new_text: formatted,
        }],
        _ => Vec::new(),
    }
}
