//! What is under the cursor: an op, a setting of an op, a declared name, an import.
//!
//! Read from the document's AST when its text parses; otherwise from the word under the
//! cursor alone, so hover and go-to-definition keep working on a half-typed recipe.

use dtac_grammar::ast::{Block, Call, File, Item, Span};
use dtac_interpreter::signature::{FieldSpec, Signature};
use dtac_interpreter::Registry;

#[derive(Debug)]
pub enum Target {
    Op(&'static Signature, Span),
    Setting(&'static Signature, &'static FieldSpec, Span),
    /// A name that may be declared (a teacher, a stage, a param, ...).
    Name(String, Span),
    /// The path string of an `import`, as written.
    Import(String, Span),
}

/// What `offset` points at in `text` (`ast` is its parse, when it parses).
pub fn at(text: &str, ast: Option<&File>, offset: usize, registry: &Registry) -> Option<Target> {
    if let Some(ast) = ast {
        for item in &ast.items {
            if !contains(item.span(), offset) {
                continue;
            }
            if let Some(target) = in_item(item, offset, registry) {
                return Some(target);
            }
        }
    }
    let (word, span) = word_at(text, offset)?;
    // `problems.answer`: the part after a dot is a field, not a declared name.
    if text[..span.start].ends_with('.') {
        return None;
    }
    if ast.is_none() {
        if let Some(sig) = registry.op(&word) {
            return Some(Target::Op(sig, span));
        }
    }
    Some(Target::Name(word, span))
}

fn in_item(item: &Item, offset: usize, registry: &Registry) -> Option<Target> {
    match item {
        Item::Teacher(decl) => setting_in(registry.teacher()?, &decl.body, offset),
        Item::Student(decl) => setting_in(registry.student()?, &decl.body, offset),
        Item::Dataset(b) | Item::Stage(b) => call_target(registry.op(&b.call.op)?, &b.call, offset),
        Item::Objective(b) => call_target(registry.objective(&b.call.op)?, &b.call, offset),
        Item::Export(export) => {
            let sig = registry.export_format(&export.format)?;
            if contains(export.format.span, offset) {
                return Some(Target::Op(sig, export.format.span));
            }
            setting_in(sig, export.block.as_ref()?, offset)
        }
        Item::Import(import) if contains(import.path.span, offset) => {
            Some(Target::Import(import.path.value.clone(), import.path.span))
        }
        _ => None,
    }
}

fn call_target(sig: &'static Signature, call: &Call, offset: usize) -> Option<Target> {
    if contains(call.op.span, offset) {
        return Some(Target::Op(sig, call.op.span));
    }
    setting_in(sig, call.block.as_ref()?, offset)
}

fn setting_in(sig: &'static Signature, block: &Block, offset: usize) -> Option<Target> {
    let field = block
        .fields
        .iter()
        .find(|f| contains(f.name.span, offset))?;
    let spec = sig.setting(&field.name)?;
    Some(Target::Setting(sig, spec, field.name.span))
}

/// Whether the cursor is on `span`, counting the position just after its last character.
pub fn contains(span: Span, offset: usize) -> bool {
    span.start <= offset && offset <= span.end
}

pub fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifier around `offset`, if any.
pub fn word_at(text: &str, offset: usize) -> Option<(String, Span)> {
    let offset = offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return None;
    }
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_ident_char(c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|&(_, c)| !is_ident_char(c))
        .map_or(text.len(), |(i, _)| offset + i);
    let word = &text[start..end];
    let first = word.chars().next()?;
    (first.is_ascii_alphabetic() || first == '_').then(|| (word.to_string(), Span::new(start, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_at_finds_identifiers_and_not_numbers() {
        let text = "stage a_b: map(x1) { n = 42 }";
        let at = |i| word_at(text, i).map(|(w, _)| w);
        assert_eq!(at(6).as_deref(), Some("a_b"));
        assert_eq!(at(9).as_deref(), Some("a_b"));
        assert_eq!(at(16).as_deref(), Some("x1"));
        assert_eq!(at(26), None);
    }
}
