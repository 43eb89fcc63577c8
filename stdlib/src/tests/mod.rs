//! Tests of the signatures as data: every builtin is registered, documented and
//! well-formed; defaults are values of their types; lints fire when they should; and whole
//! recipes in the methods' shapes check cleanly against the registry.

mod defaults;
mod distill_lints;
mod docs;
mod lints;
mod recipes;
mod shape;

use dtac_interpreter::signature::{FieldSpec, Signature, Type};

/// Every setting of `sig`, with the keys of record-typed settings, as `(path, spec)`.
fn settings_deep(sig: &Signature) -> Vec<(String, &'static FieldSpec)> {
    let mut out = Vec::new();
    for spec in sig.settings {
        push_deep(spec.name.to_string(), spec, &mut out);
    }
    out
}

fn push_deep(path: String, spec: &'static FieldSpec, out: &mut Vec<(String, &'static FieldSpec)>) {
    if let Type::Record(keys) = spec.ty {
        for key in keys {
            push_deep(format!("{path}.{}", key.name), key, out);
        }
    }
    out.push((path, spec));
}

/// The ```dta blocks of a Markdown doc.
fn dta_examples(doc: &str) -> Vec<String> {
    let mut examples = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```dta") => current = Some(String::new()),
            (Some(_), "```") => examples.extend(current.take()),
            (Some(text), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    examples
}
