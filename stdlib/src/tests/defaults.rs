//! Every default, written as it would be in a recipe, parses and is a value of its type.

use dtac_grammar::ast::{Expr, ExprKind};
use dtac_interpreter::signature::Type;

use super::settings_deep;

/// Why `expr` is not a value of `ty`, if it is not.
fn misfit(ty: &Type, expr: &Expr) -> Option<String> {
    use ExprKind as E;
    let ok = match (ty, &expr.node) {
        (Type::Secret, E::Env { default, .. }) => default.is_none(),
        (Type::Str | Type::Enum(_), E::Env { default, .. }) => {
            return default.as_deref().and_then(|d| misfit(ty, d));
        }
        (Type::Any, _) => true,
        (Type::Int, E::Int(_)) | (Type::Float, E::Int(_) | E::Float(_)) => true,
        (Type::Bool, E::Bool(_)) | (Type::Duration, E::Duration(_)) => true,
        (Type::Str | Type::Prompt, E::Str(_)) => true,
        (Type::Enum(options), E::Str(s)) => options.contains(&s.value.as_str()),
        (Type::List(inner), E::List(items, _)) => {
            return items.iter().find_map(|item| misfit(inner, item));
        }
        (Type::Map(inner), E::Record(fields, _)) => {
            return fields.iter().find_map(|f| misfit(inner, &f.value));
        }
        (Type::Record(keys), E::Record(fields, _)) => fields.iter().all(|f| {
            keys.iter()
                .find(|k| k.name == f.name.node)
                .is_some_and(|k| misfit(&k.ty, &f.value).is_none())
        }),
        (Type::Schema, E::Schema(..)) => true,
        (Type::Objective, E::Ref(path)) => {
            path.len() == 1
                && crate::objectives::ALL
                    .iter()
                    .any(|o| o.name == path[0].node)
        }
        _ => false,
    };
    (!ok).then(|| format!("{} is not {}", expr.node.describe(), ty.describe()))
}

#[test]
fn defaults_are_values_of_their_types() {
    let mut checked = 0;
    for sig in crate::all() {
        for (path, spec) in settings_deep(sig) {
            let Some(default) = spec.default else {
                continue;
            };
            assert!(
                !spec.required,
                "`{}`: `{path}` is required and has a default",
                sig.name
            );
            let expr = dtac_grammar::parse_expr(default).unwrap_or_else(|e| {
                panic!(
                    "`{}`: default of `{path}` ({default}) does not parse: {e:?}",
                    sig.name
                )
            });
            if let Some(why) = misfit(&spec.ty, &expr) {
                panic!("`{}`: default of `{path}` ({default}): {why}", sig.name);
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} defaults found");
}

#[test]
fn the_default_check_rejects_misfits() {
    let parse = |s: &str| dtac_grammar::parse_expr(s).unwrap();
    assert!(misfit(&Type::Int, &parse("1.5")).is_some());
    assert!(misfit(&Type::Float, &parse("2")).is_none());
    assert!(misfit(&Type::Enum(&["a", "b"]), &parse("\"c\"")).is_some());
    assert!(misfit(&Type::Secret, &parse("\"sk-literal\"")).is_some());
    assert!(misfit(&Type::List(&Type::Str), &parse("[\"a\", 1]")).is_some());
    assert!(misfit(&Type::Objective, &parse("no_such_objective")).is_some());
    assert!(misfit(&Type::Objective, &parse("forward_kl")).is_none());
    assert!(misfit(&Type::Duration, &parse("10m")).is_none());
    assert!(misfit(&Type::Teacher, &parse("\"gpt\"")).is_some());
}

#[test]
fn float_defaults_read_as_floats_where_written_so() {
    // `1e-5` must lower to a float: an integer default for `lr` would mean 0 after rounding.
    let expr = dtac_grammar::parse_expr("1e-5").unwrap();
    assert!(matches!(expr.node, ExprKind::Float(_)), "{:?}", expr.node);
}
