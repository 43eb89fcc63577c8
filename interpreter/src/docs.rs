//! Reference documentation generated from signatures: `dtac ops`, docs/ops.md, and (later)
//! hover text in the language server. The signature is the single source of truth.

use std::fmt::Write;

use crate::registry::Registry;
use crate::signature::{Output, Signature, SignatureKind};

/// The usage line: `stage NAME: generate(records) { teachers = ..., prompt = ... }`.
pub fn usage(sig: &Signature) -> String {
    let inputs = sig.input_list();
    let required: Vec<String> = sig
        .settings
        .iter()
        .filter(|s| s.required)
        .map(|s| format!("{} = ...", s.name))
        .collect();
    let block = if required.is_empty() {
        String::new()
    } else {
        format!(" {{ {} }}", required.join(", "))
    };
    match sig.kind {
        SignatureKind::Source => format!("dataset NAME: {}({inputs}){block}", sig.name),
        SignatureKind::Transform => format!("stage NAME: {}({inputs}){block}", sig.name),
        SignatureKind::Objective => format!("objective NAME: {}{block}", sig.name),
        SignatureKind::Teacher => format!(
            "teacher NAME{}",
            if block.is_empty() {
                " {}".into()
            } else {
                block
            }
        ),
        SignatureKind::Student => format!(
            "student NAME{}",
            if block.is_empty() {
                " {}".into()
            } else {
                block
            }
        ),
        SignatureKind::ExportFormat => format!("export STAGE to \"PATH\" as {}{block}", sig.name),
    }
}

/// One builtin's full reference, in Markdown.
pub fn markdown_one(sig: &Signature, heading: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{heading} `{}`\n", sig.name);
    let _ = writeln!(out, "{}\n", sig.summary);
    let _ = writeln!(out, "```dta\n{}\n```\n", usage(sig));
    if !sig.doc.trim().is_empty() {
        let _ = writeln!(out, "{}\n", sig.doc.trim());
    }
    if !sig.inputs.is_empty() {
        out.push_str("**Inputs**\n\n| input | type | description |\n|---|---|---|\n");
        for i in sig.inputs {
            let needs = if i.needs.is_empty() {
                String::new()
            } else {
                format!(
                    " Needs fields: {}.",
                    i.needs
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let _ = writeln!(
                out,
                "| `{}`{} | {} | {}{} |",
                i.name,
                if i.variadic { "..." } else { "" },
                i.ty.short(),
                cell(i.doc),
                needs
            );
        }
        out.push('\n');
    }
    if !sig.settings.is_empty() {
        out.push_str(
            "**Settings**\n\n| setting | type | default | description |\n|---|---|---|---|\n",
        );
        for s in sig.settings {
            let default = match (s.required, s.default) {
                (true, _) => "required".to_string(),
                (false, Some(d)) => format!("`{d}`"),
                (false, None) => "—".to_string(),
            };
            let vars = if s.template_vars.is_empty() {
                String::new()
            } else {
                format!(
                    " Template variables besides the record's fields: {}.",
                    s.template_vars
                        .iter()
                        .map(|v| format!("`{{{{{v}}}}}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {default} | {}{vars} |",
                s.name,
                cell(&s.ty.short()),
                cell(s.doc)
            );
        }
        out.push('\n');
    }
    match sig.output {
        Output::Extends(fields) | Output::Fixed(fields) if !fields.is_empty() => {
            let lead = if matches!(sig.output, Output::Extends(_)) {
                "**Output**: the input records, with these fields added:"
            } else {
                "**Output**: records with these fields:"
            };
            let _ = writeln!(
                out,
                "{lead}\n\n| field | type | description |\n|---|---|---|"
            );
            for f in fields {
                let _ = writeln!(
                    out,
                    "| `{}` | `{}` | {} |",
                    f.name,
                    cell(&f.ty.short()),
                    cell(f.doc)
                );
            }
            out.push('\n');
        }
        Output::FromSchema => {
            out.push_str("**Output**: records with the fields declared by `schema`.\n\n")
        }
        Output::Artifact(what) => {
            let _ = writeln!(out, "**Output**: {what} (no records).\n");
        }
        _ => {}
    }
    if let Some(key) = sig.groups_by {
        let _ = writeln!(
            out,
            "**Grouping**: waits for all records of a group, grouped by {key}.\n"
        );
    }
    out
}

/// The whole reference: every builtin, grouped by kind.
pub fn markdown_all(registry: &Registry) -> String {
    let mut out = String::from(
        "# Built-in reference\n\n<!-- Generated by `dtac ops --markdown` from the signatures in stdlib/; do not edit by hand. A test fails when this file is stale. -->\n\n",
    );
    let sections = [
        (SignatureKind::Source, "Dataset sources"),
        (SignatureKind::Transform, "Stage ops"),
        (SignatureKind::Objective, "Objectives"),
        (SignatureKind::ExportFormat, "Export formats"),
        (SignatureKind::Teacher, "Teacher blocks"),
        (SignatureKind::Student, "Student blocks"),
    ];
    for (kind, title) in sections {
        let sigs: Vec<_> = registry.all().filter(|s| s.kind == kind).collect();
        if sigs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {title}\n");
        if matches!(kind, SignatureKind::Transform | SignatureKind::Source) {
            out.push_str(&stage_settings_table());
        }
        for sig in sigs {
            out.push_str(&markdown_one(sig, "###"));
        }
    }
    out
}

/// The settings every stage op accepts besides its own.
fn stage_settings_table() -> String {
    let mut out = String::from(
        "Every stage and dataset also accepts these settings, which the executor reads; they change how a \
         stage runs, not what it produces, so they are left out of cache keys.\n\n\
         | setting | type | default | description |\n|---|---|---|---|\n",
    );
    for s in crate::signature::STAGE_SETTINGS {
        let _ = writeln!(
            out,
            "| `{}` | `{}` | `{}` | {} |",
            s.name,
            cell(&s.ty.short()),
            s.default.unwrap_or(""),
            cell(s.doc)
        );
    }
    out.push('\n');
    out
}

fn cell(s: &str) -> String {
    s.trim().replace('\n', " ").replace('|', "\\|")
}
