//! Every builtin is registered once and shaped as its kind requires.

use std::collections::HashSet;

use dtac_interpreter::signature::{Output, SignatureKind, Type};

use super::settings_deep;

#[test]
fn registry_holds_every_signature_once() {
    let registry = crate::registry();
    assert_eq!(registry.all().count(), crate::all().count());
    assert_eq!(registry.teacher().map(|s| s.name), Some("teacher"));
    assert_eq!(registry.student().map(|s| s.name), Some("student"));
    for op in [
        "generate",
        "verify",
        "consensus",
        "peer_review",
        "decontaminate",
        "dedup",
        "style_probe",
        "rewrite",
        "judge",
        "informativeness",
        "vote",
        "filter",
        "map",
        "token_shift",
        "perplexity",
        "score",
        "rollout",
        "refine",
        "divergence",
        "adapt",
        "distill",
        "export_trainer",
        "jsonl",
        "json",
        "csv",
        "parquet",
    ] {
        assert!(registry.op(op).is_some(), "op `{op}` is not registered");
    }
    for objective in [
        "forward_kl",
        "reverse_kl",
        "jsd",
        "clipped_kl",
        "top_k",
        "sampled",
    ] {
        assert!(
            registry.objective(objective).is_some(),
            "objective `{objective}` is missing"
        );
    }
    for format in [
        "jsonl",
        "chat",
        "alpaca",
        "sharegpt",
        "parquet",
        "csv",
        "preference",
    ] {
        assert!(
            registry.export_format(format).is_some(),
            "format `{format}` is missing"
        );
    }
}

#[test]
fn names_are_unique_within_a_signature() {
    for sig in crate::all() {
        let mut seen = HashSet::new();
        for (path, _) in settings_deep(sig) {
            assert!(
                seen.insert(path.clone()),
                "`{}`: setting `{path}` declared twice",
                sig.name
            );
        }
        let inputs: HashSet<_> = sig.inputs.iter().map(|i| i.name).collect();
        assert_eq!(
            inputs.len(),
            sig.inputs.len(),
            "`{}`: input names repeat",
            sig.name
        );
        if let Output::Extends(fields) | Output::Fixed(fields) = sig.output {
            let names: HashSet<_> = fields.iter().map(|f| f.name).collect();
            assert_eq!(
                names.len(),
                fields.len(),
                "`{}`: output fields repeat",
                sig.name
            );
        }
    }
}

#[test]
fn each_kind_has_its_shape() {
    for sig in crate::all() {
        let first = sig.inputs.first();
        match sig.kind {
            SignatureKind::Source => {
                assert_eq!(
                    first.map(|i| (i.name, i.ty)),
                    Some(("path", Type::Str)),
                    "`{}`",
                    sig.name
                );
                assert!(matches!(sig.output, Output::FromSchema), "`{}`", sig.name);
                for common in [
                    "schema", "fields", "limit", "sample", "seed", "split", "id_field",
                ] {
                    assert!(
                        sig.setting(common).is_some(),
                        "source `{}` lacks `{common}`",
                        sig.name
                    );
                }
            }
            SignatureKind::Transform => {
                assert_eq!(first.map(|i| i.ty), Some(Type::Records), "`{}`", sig.name);
                assert!(
                    !matches!(sig.output, Output::None),
                    "`{}` declares no output",
                    sig.name
                );
            }
            SignatureKind::Objective => {
                assert!(sig.inputs.is_empty(), "`{}`", sig.name);
                assert!(matches!(sig.output, Output::None), "`{}`", sig.name);
                assert!(
                    sig.setting("temperature").is_some(),
                    "`{}` lacks temperature",
                    sig.name
                );
            }
            SignatureKind::Teacher | SignatureKind::Student | SignatureKind::ExportFormat => {
                assert!(sig.inputs.is_empty(), "`{}`", sig.name);
                assert!(matches!(sig.output, Output::None), "`{}`", sig.name);
            }
        }
        let variadic_not_last = sig.inputs.iter().rev().skip(1).any(|i| i.variadic);
        assert!(
            !variadic_not_last,
            "`{}`: only the last input may be variadic",
            sig.name
        );
    }
}

#[test]
fn template_vars_belong_to_prompt_settings() {
    for sig in crate::all() {
        for (path, spec) in settings_deep(sig) {
            if !spec.template_vars.is_empty() {
                assert_eq!(
                    spec.ty,
                    Type::Prompt,
                    "`{}`: `{path}` has template vars",
                    sig.name
                );
            }
        }
    }
}

#[test]
fn ops_that_need_whole_problems_group_by_id() {
    let registry = crate::registry();
    for op in ["consensus", "vote"] {
        let sig = registry.op(op).unwrap();
        assert!(
            sig.groups_by.is_some_and(|g| g.contains("`id`")),
            "`{op}` must group by id"
        );
    }
    assert!(registry.op("generate").unwrap().groups_by.is_none());
}
