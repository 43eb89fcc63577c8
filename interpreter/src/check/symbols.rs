//! The symbol table: every declared name across a recipe and its imports.
//!
//! One namespace for all kinds, so `gpt` always means one thing; a second declaration of
//! a name is an error pointing at both.

use std::collections::HashMap;

use dtac_grammar::ast::{Item, Span};

use crate::check_error::CheckError;
use crate::diagnostic::Diag;
use crate::load::Program;
use crate::source::FileId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SymKind {
    Param,
    Teacher,
    Student,
    Dataset,
    Prompt,
    Stage,
    Objective,
}

impl SymKind {
    pub fn word(self) -> &'static str {
        match self {
            SymKind::Param => "param",
            SymKind::Teacher => "teacher",
            SymKind::Student => "student",
            SymKind::Dataset => "dataset",
            SymKind::Prompt => "prompt",
            SymKind::Stage => "stage",
            SymKind::Objective => "objective",
        }
    }

    /// With an article, for "`x` is a prompt, not a teacher".
    pub fn article(self) -> String {
        let a = if matches!(self, SymKind::Objective) {
            "an"
        } else {
            "a"
        };
        format!("{a} {}", self.word())
    }

    fn of(item: &Item) -> Option<SymKind> {
        Some(match item {
            Item::Param(_) => SymKind::Param,
            Item::Teacher(_) => SymKind::Teacher,
            Item::Student(_) => SymKind::Student,
            Item::Dataset(_) => SymKind::Dataset,
            Item::Prompt(_) => SymKind::Prompt,
            Item::Stage(_) => SymKind::Stage,
            Item::Objective(_) => SymKind::Objective,
            Item::Version(_) | Item::Import(_) | Item::Export(_) => return None,
        })
    }
}

/// One declaration: where it is and what it is.
#[derive(Clone, Copy, Debug)]
pub struct Symbol {
    pub kind: SymKind,
    pub file: FileId,
    /// Index into that file's items.
    pub item: usize,
    pub name_span: Span,
}

#[derive(Debug, Default)]
pub struct Symbols {
    by_name: HashMap<String, Symbol>,
    /// Names in declaration order, for stable output.
    order: Vec<String>,
}

impl Symbols {
    /// Collects the declarations of every loaded file, reporting duplicates.
    pub fn collect(program: &Program, diags: &mut Vec<Diag>) -> Symbols {
        let mut symbols = Symbols::default();
        for (file, ast) in &program.files {
            for (index, item) in ast.items.iter().enumerate() {
                let (Some(kind), Some(name)) = (SymKind::of(item), item.name()) else {
                    continue;
                };
                let symbol = Symbol {
                    kind,
                    file: *file,
                    item: index,
                    name_span: name.span,
                };
                if let Some(first) = symbols.by_name.get(&name.node) {
                    diags.push(duplicate(program, &name.node, symbol, *first));
                    continue;
                }
                symbols.order.push(name.node.clone());
                symbols.by_name.insert(name.node.clone(), symbol);
            }
        }
        symbols
    }

    pub fn get(&self, name: &str) -> Option<&Symbol> {
        self.by_name.get(name)
    }

    /// All symbols in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Symbol)> {
        self.order.iter().map(|n| (n.as_str(), &self.by_name[n]))
    }

    /// Names of one kind, for "did you mean".
    pub fn names_of(&self, kinds: &[SymKind]) -> Vec<&str> {
        self.iter()
            .filter(|(_, s)| kinds.contains(&s.kind))
            .map(|(n, _)| n)
            .collect()
    }
}

fn duplicate(program: &Program, name: &str, again: Symbol, first: Symbol) -> Diag {
    if again.file == first.file {
        return Diag::new(
            Some(again.file),
            CheckError::DuplicateName {
                name: name.to_string(),
                span: again.name_span,
                first: Some(first.name_span),
            },
        );
    }
    let first_path = program.sources.get(first.file).path.display().to_string();
    Diag::new(
        Some(again.file),
        CheckError::DuplicateName {
            name: name.to_string(),
            span: again.name_span,
            first: None,
        },
    )
    .with_related(Diag::new(
        Some(first.file),
        CheckError::FirstDeclared {
            name: name.to_string(),
            file: first_path,
            span: first.name_span,
        },
    ))
}
