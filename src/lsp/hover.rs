//! Hover: an op's signature and docs, a setting's type, default and doc, a declared
//! name's definition as written.

use dtac_interpreter::docs;
use dtac_interpreter::signature::FieldSpec;
use dtac_interpreter::Registry;
use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind};

use super::documents::{Analysis, Document};
use super::lookup::{self, Target};

pub fn hover(doc: &Document, offset: usize, registry: &Registry) -> Option<Hover> {
    let current = doc.current.as_deref();
    let ast = current.and_then(|a| a.ast(a.root));
    let target = lookup::at(&doc.text, ast, offset, registry)?;
    let (markdown, span) = match target {
        Target::Op(sig, span) => (docs::markdown_one(sig, "###"), span),
        Target::Setting(sig, spec, span) => (setting(sig.name, spec), span),
        Target::Name(name, span) => (declaration(doc.semantic()?, &name)?, span),
        Target::Import(path, span) => (format!("imports `{path}`"), span),
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: markdown,
        }),
        range: Some(doc.index.range(&doc.text, span.start, span.end)),
    })
}

fn setting(owner: &str, spec: &FieldSpec) -> String {
    let default = match (spec.required, spec.default) {
        (true, _) => " (required)".to_string(),
        (false, Some(d)) => format!(" = {d}"),
        (false, None) => " (optional)".to_string(),
    };
    let mut out = format!(
        "```dta\n{}: {}{default}\n```\nsetting of `{owner}`: {}\n\n{}",
        spec.name,
        spec.ty.short(),
        spec.ty.describe(),
        spec.doc
    );
    if !spec.template_vars.is_empty() {
        let vars: Vec<String> = spec
            .template_vars
            .iter()
            .map(|v| format!("`{{{{{v}}}}}`"))
            .collect();
        out.push_str(&format!(
            "\n\nTemplate variables besides the record's fields: {}.",
            vars.join(", ")
        ));
    }
    out
}

/// A declared name: what it is, and its declaration as written (with its file when it
/// comes from an import).
fn declaration(analysis: &Analysis, name: &str) -> Option<String> {
    let symbol = analysis.checked.output.symbols.get(name)?;
    let item = analysis.ast(symbol.file)?.items.get(symbol.item)?;
    let text = analysis.text(symbol.file);
    let span = item.span();
    let written = text.get(span.start..span.end)?;
    let mut out = format!("{} `{name}`", symbol.kind.word());
    if symbol.file != analysis.root {
        let path = &analysis.checked.program.sources.get(symbol.file).path;
        out.push_str(&format!(" (from `{}`)", path.display()));
    }
    out.push_str(&format!("\n```dta\n{written}\n```"));
    if let Some(schema) = analysis.checked.output.schemas.get(name) {
        if !schema.fields.is_empty() {
            let fields: Vec<String> = schema
                .fields
                .iter()
                .map(|(f, ty)| format!("`{f}: {ty}`"))
                .collect();
            let more = if schema.open { ", …" } else { "" };
            out.push_str(&format!("\nrecords: {}{more}", fields.join(", ")));
        }
    }
    Some(out)
}
