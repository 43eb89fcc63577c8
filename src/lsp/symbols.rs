//! Document symbols: the outline of a recipe (teachers, students, datasets, prompts,
//! stages, objectives, params, exports).

use dtac_grammar::ast::{File, Item, Span};
use lsp_types::{DocumentSymbol, SymbolKind};

use super::position::LineIndex;

pub fn outline(ast: &File, text: &str, index: &LineIndex) -> Vec<DocumentSymbol> {
    ast.items
        .iter()
        .filter_map(|item| {
            let (name, selection, kind) = match item {
                Item::Version(_) | Item::Import(_) => return None,
                Item::Export(e) => (
                    format!("{} → {}", e.stage.node, e.path.value),
                    e.stage.span,
                    SymbolKind::EVENT,
                ),
                other => {
                    let name = other.name()?;
                    (name.node.clone(), name.span, kind_of(other))
                }
            };
            Some(symbol(
                name,
                item.keyword(),
                kind,
                item.span(),
                selection,
                text,
                index,
            ))
        })
        .collect()
}

fn kind_of(item: &Item) -> SymbolKind {
    match item {
        Item::Param(_) => SymbolKind::CONSTANT,
        Item::Teacher(_) | Item::Student(_) => SymbolKind::CLASS,
        Item::Dataset(_) => SymbolKind::VARIABLE,
        Item::Prompt(_) => SymbolKind::STRING,
        Item::Stage(_) => SymbolKind::FUNCTION,
        Item::Objective(_) => SymbolKind::STRUCT,
        Item::Version(_) | Item::Import(_) | Item::Export(_) => SymbolKind::EVENT,
    }
}

#[allow(deprecated)] // `deprecated` is a required field of the struct, itself deprecated.
fn symbol(
    name: String,
    keyword: &str,
    kind: SymbolKind,
    span: Span,
    selection: Span,
    text: &str,
    index: &LineIndex,
) -> DocumentSymbol {
    DocumentSymbol {
        name,
        detail: Some(keyword.to_string()),
        kind,
        tags: None,
        deprecated: None,
        range: index.range(text, span.start, span.end),
        selection_range: index.range(text, selection.start, selection.end),
        children: None,
    }
}
