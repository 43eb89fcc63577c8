//! The canonical formatter behind `dtac fmt`: one layout for every recipe, comments kept.
//!
//! The AST says what to print; the source is read only for the layout facts the AST leaves
//! out (where each comment sits, where blank lines were). Every layout choice is one the
//! formatter's own output leads to again (a container printed on one line reads back as
//! written on one line, one printed over several lines reads back as multi-line), which is
//! what makes `fmt(fmt(x)) == fmt(x)` hold.

mod comments;
mod expr;
mod items;
mod layout;
mod literal;
mod node;
#[cfg(test)]
mod tests;

use crate::ast::{Comment, File};
use crate::syntax_error::SyntaxError;

/// Spaces per indentation level.
const INDENT: usize = 4;
/// Columns a line may take before a container is broken over several lines.
const WIDTH: usize = 100;

/// Parse `source` and print it in canonical form.
pub fn format_source(source: &str) -> Result<String, Vec<SyntaxError>> {
    let file = crate::parse(source)?;
    Ok(format_file(&file, source))
}

/// Print `file`, parsed from `source`, in canonical form. The result ends with one newline
/// (an empty file stays empty).
pub fn format_file(file: &File, source: &str) -> String {
    Printer::new(source, &file.comments.0).file(file)
}

/// The source facts a layout needs, shared by every part of the printer.
struct Printer<'a> {
    source: &'a str,
    /// Sorted by start, so the comments in a range are found by binary search.
    comments: Vec<&'a Comment>,
}

impl<'a> Printer<'a> {
    fn new(source: &'a str, comments: &'a [Comment]) -> Self {
        let mut comments: Vec<&Comment> = comments.iter().collect();
        comments.sort_by_key(|c| c.span.start);
        Printer { source, comments }
    }
}

/// Display width of a piece of one-line text.
fn width(text: &str) -> usize {
    text.chars().count()
}

/// The column after `text` when it is printed starting at column `col`.
fn end_col(col: usize, text: &str) -> usize {
    match text.rfind('\n') {
        Some(i) => width(&text[i + 1..]),
        None => col + width(text),
    }
}

/// The indentation of the line `text` ends on, when it was printed on a line indented by
/// `indent`: after a block string's closing `"""` the current line is indented deeper.
fn line_indent(indent: usize, text: &str) -> usize {
    match text.rfind('\n') {
        Some(i) => text[i + 1..].len() - text[i + 1..].trim_start_matches(' ').len(),
        None => indent,
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}
