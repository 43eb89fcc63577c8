//! The expression language: parsing, errors with positions, evaluation.

use serde_json::json;

use super::*;

fn fields(v: serde_json::Value) -> Fields {
    match v {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("test records are objects"),
    }
}

fn record() -> Fields {
    fields(json!({
        "id": "P1",
        "correct": true,
        "credibility": 0.82,
        "teacher": "gpt",
        "solution": "We get 3.\nSo the answer is 3.",
        "tokens": 12,
        "contamination": {"benchmark": "bench", "ids": [4, 5]},
        "reviews": [{"credibility": 0.5}],
        "nothing": null,
    }))
}

fn eval(src: &str) -> Result<serde_json::Value, EvalError> {
    Expr::parse(src)
        .unwrap_or_else(|e| panic!("`{src}` does not parse: {e}"))
        .eval(&record())
}

#[test]
fn evaluates_the_documented_forms() {
    let cases = [
        ("correct && credibility >= 0.7", json!(true)),
        ("correct && credibility > 0.9", json!(false)),
        ("!correct || tokens < 20", json!(true)),
        ("teacher in [\"gpt\", \"qwen\"]", json!(true)),
        ("teacher in [\"qwen\"]", json!(false)),
        ("contamination.benchmark == \"bench\"", json!(true)),
        ("contamination.ids.1 == 5", json!(true)),
        ("reviews.0.credibility * 2", json!(1)),
        ("len(solution)", json!(29)),
        ("words(solution)", json!(8)),
        ("lines(solution)", json!(2)),
        ("len(reviews)", json!(1)),
        ("tokens / 4 + 1", json!(4)),
        ("-tokens + 2 * 3", json!(-6)),
        ("(1 + 2) * 3", json!(9)),
        ("tokens == 12.0", json!(true)),
        ("nothing == null", json!(true)),
        ("contains(lower(solution), \"we get\")", json!(true)),
        ("\"answer\" in solution", json!(true)),
        ("correct and not (teacher == 'qwen')", json!(true)),
        ("abs(0 - 2.5)", json!(2.5)),
        ("\"a\" + \"b\"", json!("ab")),
        ("\"abc\" < \"abd\"", json!(true)),
        ("1e3 == 1000", json!(true)),
    ];
    for (src, want) in cases {
        assert_eq!(eval(src), Ok(want), "{src}");
    }
}

#[test]
fn short_circuits_before_a_missing_field() {
    assert_eq!(eval("false && missing > 1"), Ok(json!(false)));
    assert_eq!(eval("true || missing > 1"), Ok(json!(true)));
    assert_eq!(
        eval("missing > 1"),
        Err(EvalError::Missing("missing".into()))
    );
    assert_eq!(
        eval("contamination.nope == 1"),
        Err(EvalError::Missing("contamination.nope".into()))
    );
}

#[test]
fn type_mismatches_are_errors_not_false() {
    for src in [
        "teacher < 3",
        "len(tokens)",
        "correct + 1",
        "tokens / 0",
        "tokens && correct",
        "3 in 4",
    ] {
        assert!(
            matches!(eval(src), Err(EvalError::Type(_))),
            "{src}: {:?}",
            eval(src)
        );
    }
    let e = Expr::parse("tokens").unwrap();
    assert!(
        matches!(e.test(&record()), Err(EvalError::Type(m)) if m.contains("not true or false"))
    );
}

#[test]
fn syntax_errors_point_at_the_problem() {
    let cases = [
        ("", 0, "empty"),
        ("correct &&", 10, "ends where a value"),
        ("a = 1", 2, "`==`"),
        ("(a == 1", 7, "expected `)`"),
        ("a == 1 b", 7, "after a complete expression"),
        ("frob(a)", 0, "unknown function `frob`"),
        ("len(a, b)", 0, "takes 1 argument"),
        ("\"open", 0, "not closed"),
        ("a & b", 2, "`&&`"),
        ("a.", 2, "field name after `.`"),
        ("[1, 2", 5, "expected `,`"),
    ];
    for (src, offset, needle) in cases {
        let e = Expr::parse(src).expect_err(src);
        assert_eq!(e.offset, offset, "{src}: {e}");
        assert!(e.message.contains(needle), "{src}: {}", e.message);
        assert!(e.show(src).contains('^'));
    }
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let e = Expr::parse(&deep).expect_err("too deep");
    assert!(e.message.contains("nests more than"));
    let nots = format!("{}true", "!".repeat(10_000));
    assert!(Expr::parse(&nots).is_err());
    let negs = format!("{}1", "-".repeat(10_000));
    assert!(Expr::parse(&negs).is_err());
}

#[test]
fn odd_input_never_panics() {
    for src in [
        "\u{0}",
        "é == é",
        "1..2",
        "a.b.c.d.e",
        ".5",
        "\"\\",
        "[]",
        "[,]",
        "len()",
        "1e",
        "9e999",
        "a.99999999999999999999",
        "((((",
        "))))",
        "!",
        "-",
        "in",
        "a in",
        "\"x\" in [1, \"x\"]",
    ] {
        if let Ok(e) = Expr::parse(src) {
            let _ = e.eval(&record());
        }
    }
}
