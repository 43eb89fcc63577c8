//! Record schemas: which fields the records leaving a dataset or stage have.
//!
//! A schema is "closed" when every field is known (a dataset with a declared `schema`, and
//! everything computed from it); otherwise it is "open" and only the known fields are
//! listed, so a missing field is never reported on a guess.

use std::collections::BTreeMap;

use dtac_grammar::ast::{ExprKind, TypeExpr};

use crate::signature::{FieldSpec, Output};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordSchema {
    /// Field name → type in the recipe's spelling (`str`, `list[str]`).
    pub fields: BTreeMap<String, String>,
    pub open: bool,
}

impl RecordSchema {
    pub fn open() -> Self {
        RecordSchema {
            fields: BTreeMap::new(),
            open: true,
        }
    }

    /// Whether the records certainly lack `field`.
    pub fn lacks(&self, field: &str) -> bool {
        !self.open && !self.fields.contains_key(field)
    }

    /// "id, question, answer" for help lines.
    pub fn field_list(&self) -> String {
        if self.fields.is_empty() {
            "no fields".to_string()
        } else {
            self.fields.keys().cloned().collect::<Vec<_>>().join(", ")
        }
    }

    fn extend(&mut self, specs: &[FieldSpec]) {
        for f in specs {
            self.fields.insert(f.name.to_string(), f.ty.short());
        }
    }

    /// The schema of the records an op produces, given its first input's schema and its
    /// `schema` setting (for sources).
    pub fn of_output(
        output: &Output,
        first_input: Option<&RecordSchema>,
        declared: Option<&ExprKind>,
    ) -> RecordSchema {
        match output {
            Output::Extends(added) => {
                let mut schema = first_input.cloned().unwrap_or_else(RecordSchema::open);
                schema.extend(added);
                schema
            }
            Output::Fixed(fields) => {
                let mut schema = RecordSchema::default();
                schema.extend(fields);
                schema
            }
            Output::FromSchema => match declared {
                Some(ExprKind::Schema(fields, _)) => RecordSchema {
                    fields: fields
                        .iter()
                        .map(|f| (f.name.node.clone(), type_text(&f.ty)))
                        .collect(),
                    open: false,
                },
                _ => RecordSchema::open(),
            },
            Output::Artifact(_) | Output::None => RecordSchema::open(),
        }
    }
}

/// A type expression as written.
pub fn type_text(ty: &TypeExpr) -> String {
    let mut s = ty.name.node.clone();
    if let Some(arg) = &ty.arg {
        s = format!("{s}[{}]", type_text(arg));
    }
    if ty.optional {
        s.push('?');
    }
    s
}
