//! Completion: op names after `stage NAME:`/`dataset NAME:`, setting names inside an op's
//! `{ ... }`, declared names where a value goes, and `{{field}}` names inside a prompt.
//!
//! The context is read from the text before the cursor, not from the AST: while the user
//! types, the text rarely parses. Names and schemas come from the last check that loaded.

use dtac_grammar::ast::{ExprKind, Item};
use dtac_interpreter::check::SymKind;
use dtac_interpreter::signature::{Signature, SignatureKind, Type};
use dtac_interpreter::Registry;
use lsp_types::{CompletionItem, CompletionItemKind, Documentation, MarkupContent, MarkupKind};

use super::documents::{Analysis, Document};
use super::lookup::is_ident_char;

const KEYWORDS: &[&str] = &[
    "version",
    "import",
    "param",
    "teacher",
    "student",
    "dataset",
    "prompt",
    "stage",
    "objective",
    "export",
];

/// Where the cursor is, as far as completion cares.
#[derive(Debug)]
enum Context<'a> {
    /// After `stage NAME: `, `dataset NAME: `, `objective NAME: ` or `as `.
    Op(SignatureKind),
    /// Where a setting's name goes in the block of this signature.
    Setting(&'static Signature),
    /// Inside `{{` in a prompt or inline template; the item it belongs to, and the
    /// item's text up to the cursor.
    Field {
        keyword: &'a str,
        name: &'a str,
        header: &'a str,
    },
    /// At the start of a line.
    Keyword,
    /// Anywhere else a name may go.
    Name,
}

impl PartialEq for Context<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Context::Op(a), Context::Op(b)) => a == b,
            (Context::Setting(a), Context::Setting(b)) => a.name == b.name && a.kind == b.kind,
            (
                Context::Field { keyword, name, .. },
                Context::Field {
                    keyword: k,
                    name: n,
                    ..
                },
            ) => keyword == k && name == n,
            (Context::Keyword, Context::Keyword) | (Context::Name, Context::Name) => true,
            _ => false,
        }
    }
}

pub fn complete(doc: &Document, offset: usize, registry: &Registry) -> Vec<CompletionItem> {
    let offset = offset.min(doc.text.len());
    if !doc.text.is_char_boundary(offset) {
        return Vec::new();
    }
    let semantic = doc.semantic().map(|a| &**a);
    match context(&doc.text[..offset], registry) {
        Context::Op(kind) => ops(registry, kind),
        Context::Setting(sig) => sig
            .all_settings()
            .map(|s| CompletionItem {
                label: s.name.to_string(),
                kind: Some(CompletionItemKind::PROPERTY),
                detail: Some(s.ty.short()),
                documentation: Some(markdown(s.doc)),
                insert_text: Some(format!("{} = ", s.name)),
                ..CompletionItem::default()
            })
            .collect(),
        Context::Field {
            keyword,
            name,
            header,
        } => semantic
            .map(|a| fields(a, keyword, name, header, registry))
            .unwrap_or_default(),
        Context::Keyword => KEYWORDS
            .iter()
            .map(|k| CompletionItem {
                label: k.to_string(),
                kind: Some(CompletionItemKind::KEYWORD),
                ..CompletionItem::default()
            })
            .collect(),
        Context::Name => semantic.map(names).unwrap_or_default(),
    }
}

fn context<'a>(before: &'a str, registry: &Registry) -> Context<'a> {
    let line = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
    let typed = line.trim_end_matches(is_ident_char);
    let item_start = item_start(before);
    let header = &before[item_start..];
    let mut words = header
        .split(|c: char| !is_ident_char(c))
        .filter(|w| !w.is_empty());
    let keyword = words.next().unwrap_or("");
    let name = words.next().unwrap_or("");
    if typed.trim_end().ends_with("{{") || open_placeholder(line) {
        return Context::Field {
            keyword,
            name,
            header,
        };
    }
    if typed.is_empty() && open_brace(header).is_none() {
        return Context::Keyword;
    }
    // `stage NAME: op` with the cursor on `op`: nothing but the header typed so far.
    if typed.trim_end().ends_with(':') && !header.contains(['(', '{']) {
        match keyword {
            "stage" => return Context::Op(SignatureKind::Transform),
            "dataset" => return Context::Op(SignatureKind::Source),
            "objective" => return Context::Op(SignatureKind::Objective),
            _ => {}
        }
    }
    if keyword == "export" && typed.trim_end().ends_with(" as") && !header.contains('{') {
        return Context::Op(SignatureKind::ExportFormat);
    }
    let Some(brace) = open_brace(header) else {
        return Context::Name;
    };
    let head = header[..brace].trim_end();
    // A record value (`split = { ... }`), not the settings block.
    if head.ends_with('=') {
        return Context::Name;
    }
    let in_block = &header[brace + 1..];
    let entry = in_block
        .rfind([',', '\n'])
        .map_or(in_block, |i| &in_block[i + 1..]);
    if entry.contains('=') {
        return Context::Name;
    }
    match owner(keyword, head, registry) {
        Some(sig) => Context::Setting(sig),
        None => Context::Name,
    }
}

/// Whether the line has a `{{` not yet closed before the cursor.
fn open_placeholder(line: &str) -> bool {
    match (line.rfind("{{"), line.rfind("}}")) {
        (Some(open), Some(close)) => open > close,
        (Some(_), None) => true,
        _ => false,
    }
}

/// The byte offset where the item around the end of `before` starts: the last line that
/// begins with a keyword.
fn item_start(before: &str) -> usize {
    let mut end = before.len();
    loop {
        let start = before[..end].rfind('\n').map_or(0, |i| i + 1);
        let line = &before[start..];
        let first = line.split(|c: char| !is_ident_char(c)).next().unwrap_or("");
        if KEYWORDS.contains(&first) && line.len() > first.len() {
            return start;
        }
        if start == 0 {
            return 0;
        }
        end = start - 1;
    }
}

/// The `{` still open at the end of `header` (outside strings), if any.
fn open_brace(header: &str) -> Option<usize> {
    let mut open = Vec::new();
    let mut in_string = false;
    let mut prev = '\0';
    for (i, c) in header.char_indices() {
        match c {
            '"' if prev != '\\' => in_string = !in_string,
            '{' if !in_string => open.push(i),
            '}' if !in_string => {
                open.pop();
            }
            _ => {}
        }
        prev = c;
    }
    open.pop()
}

/// The signature whose settings a block after `head` takes.
fn owner(keyword: &str, head: &str, registry: &Registry) -> Option<&'static Signature> {
    let after = |sep: &str| {
        let rest = head.rsplit_once(sep)?.1.trim_start();
        let end = rest.find(|c| !is_ident_char(c)).unwrap_or(rest.len());
        Some(rest[..end].to_string())
    };
    match keyword {
        "teacher" => registry.teacher(),
        "student" => registry.student(),
        "stage" | "dataset" => registry.op(&after(":")?),
        "objective" => registry.objective(&after(":")?),
        "export" => registry.export_format(&after(" as ")?),
        _ => None,
    }
}

fn ops(registry: &Registry, kind: SignatureKind) -> Vec<CompletionItem> {
    registry
        .all()
        .filter(|s| s.kind == kind)
        .map(|s| CompletionItem {
            label: s.name.to_string(),
            kind: Some(CompletionItemKind::FUNCTION),
            detail: Some(s.summary.to_string()),
            documentation: Some(markdown(&dtac_interpreter::docs::markdown_one(s, "###"))),
            ..CompletionItem::default()
        })
        .collect()
}

fn names(analysis: &Analysis) -> Vec<CompletionItem> {
    analysis
        .checked
        .output
        .symbols
        .iter()
        .map(|(name, symbol)| CompletionItem {
            label: name.to_string(),
            kind: Some(match symbol.kind {
                SymKind::Param => CompletionItemKind::CONSTANT,
                SymKind::Teacher | SymKind::Student => CompletionItemKind::CLASS,
                SymKind::Dataset | SymKind::Stage => CompletionItemKind::VARIABLE,
                SymKind::Prompt => CompletionItemKind::TEXT,
                SymKind::Objective => CompletionItemKind::STRUCT,
            }),
            detail: Some(symbol.kind.word().to_string()),
            ..CompletionItem::default()
        })
        .collect()
}

/// Fields a template may name: those of the records reaching it, and what its op adds.
/// For a `prompt` declaration, the records of every stage that uses it; for an inline
/// template in a stage, that stage's input, read from the text typed so far.
fn fields(
    analysis: &Analysis,
    keyword: &str,
    name: &str,
    header: &str,
    registry: &Registry,
) -> Vec<CompletionItem> {
    let mut found: Vec<(String, String)> = Vec::new();
    let mut add = |op: &str, input: &str, settings: &mut dyn Iterator<Item = &str>| {
        let sig = registry.op(op);
        for setting in settings {
            let vars = sig
                .and_then(|s| s.setting(setting))
                .map_or(&[][..], |s| s.template_vars);
            for var in vars {
                found.push((var.to_string(), format!("provided by `{op}`")));
            }
        }
        if let Some(schema) = analysis.checked.output.schemas.get(input) {
            for (field, ty) in &schema.fields {
                found.push((field.clone(), format!("{ty} (from `{input}`)")));
            }
        }
    };
    match keyword {
        "prompt" => {
            for (_, ast) in &analysis.checked.program.files {
                for item in &ast.items {
                    let Item::Stage(stage) = item else { continue };
                    let uses = stage.call.fields().iter().filter(|f| {
                        matches!(&f.value.node, ExprKind::Ref(p) if p.len() == 1 && *p[0] == name)
                    });
                    let input = match stage.call.args().first().map(|a| &a.node) {
                        Some(ExprKind::Ref(path)) => path[0].node.as_str(),
                        _ => "",
                    };
                    let mut settings = uses.map(|f| f.name.node.as_str()).peekable();
                    if settings.peek().is_some() {
                        add(&stage.call.op, input, &mut settings);
                    }
                }
            }
        }
        "stage" => {
            let call = header.split_once(':').map_or("", |(_, c)| c.trim_start());
            let op_end = call.find(|c| !is_ident_char(c)).unwrap_or(call.len());
            let input = call[op_end..].strip_prefix('(').unwrap_or("");
            let input_end = input.find(|c| !is_ident_char(c)).unwrap_or(input.len());
            let prompts = registry
                .op(&call[..op_end])
                .map(|sig| {
                    sig.all_settings()
                        .filter(|s| s.ty == Type::Prompt)
                        .map(|s| s.name)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            add(
                &call[..op_end],
                &input[..input_end],
                &mut prompts.into_iter(),
            );
        }
        _ => {}
    }
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0);
    found
        .into_iter()
        .map(|(label, detail)| CompletionItem {
            label,
            kind: Some(CompletionItemKind::FIELD),
            detail: Some(detail),
            ..CompletionItem::default()
        })
        .collect()
}

fn markdown(text: &str) -> Documentation {
    Documentation::MarkupContent(MarkupContent {
        kind: MarkupKind::Markdown,
        value: text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_from_the_text_before_the_cursor() {
        let registry = dtac_stdlib::registry();
        let ctx = |text| context(text, &registry);
        assert_eq!(ctx("stage a: "), Context::Op(SignatureKind::Transform));
        assert_eq!(ctx("stage a: gen"), Context::Op(SignatureKind::Transform));
        assert_eq!(ctx("dataset d: "), Context::Op(SignatureKind::Source));
        assert_eq!(
            ctx("export a to \"x\" as "),
            Context::Op(SignatureKind::ExportFormat)
        );
        assert_eq!(ctx("x = 1\nsta"), Context::Keyword);
        assert_eq!(ctx("stage a: map(d) { n = 1 }\n"), Context::Keyword);
        let generate = registry.op("generate").unwrap();
        assert_eq!(
            ctx("stage a: generate(d) {\n    "),
            Context::Setting(generate)
        );
        assert_eq!(ctx("stage a: generate(d) {\nn"), Context::Setting(generate));
        assert_eq!(
            ctx("stage a: generate(d) { prompt = p, te"),
            Context::Setting(generate)
        );
        assert_eq!(ctx("stage a: generate(d) { prompt = "), Context::Name);
        assert_eq!(ctx("stage a: generate(d) { w = { a = 1, "), Context::Name);
        assert_eq!(
            ctx("prompt p \"\"\"\n  Solve {{q"),
            Context::Field {
                keyword: "prompt",
                name: "p",
                header: "",
            }
        );
    }
}
