//! Canonical keys, and robustness: no input panics or takes long, whatever it is.

use std::time::{Duration, Instant};

use super::{canonical, equivalent, extract, Extract, DEFAULT_TOLERANCE};

#[test]
fn equal_answers_share_a_canonical_key() {
    let groups: &[&[&str]] = &[
        &[
            "5",
            "5.0",
            "10/2",
            "\\frac{10}{2}",
            "x = 5",
            "$5$",
            "5 cm",
            "+5",
            "005",
        ],
        &["0.5", "\\frac12", "1/2", "50%", "\\dfrac{1}{2}", "5e-1"],
        &["1000", "1,000", "1{,}000", "10^{3}", "1e3"],
        &["2\\sqrt{3}", "\\sqrt{12}", "2 \\sqrt 3"],
        &["\\{1, 2\\}", "\\{2, 1\\}", "2, 1", "x = 1 or x = 2"],
        &["(1, 2)", "\\left(1, 2\\right)", "(1.0, 2)"],
        &["[0, \\infty)", "[0, +\\infty)", "\\left[0, \\infty\\right)"],
        &["Yes", "true", "\\text{yes}."],
        &["Paris", "\\text{paris}", "PARIS."],
        &[
            "123456789012345678901234567890",
            "0123456789012345678901234567890",
        ],
    ];
    for group in groups {
        let key = canonical(group[0]);
        for answer in &group[1..] {
            assert_eq!(canonical(answer), key, "{answer:?} vs {:?}", group[0]);
        }
    }
}

#[test]
fn different_answers_get_different_canonical_keys() {
    let distinct = [
        "5",
        "6",
        "-5",
        "0.5",
        "50",
        "\\sqrt{2}",
        "(1, 2)",
        "(2, 1)",
        "\\{1, 2\\}",
        "[1, 2]",
        "[1, 2)",
        "yes",
        "no",
        "Paris",
        "London",
        "0",
        "1e-13",
        "x+1",
    ];
    let keys: Vec<String> = distinct.iter().map(|a| canonical(a)).collect();
    for (i, a) in keys.iter().enumerate() {
        for (j, b) in keys.iter().enumerate() {
            if i != j {
                assert_ne!(a, b, "{:?} and {:?} share a key", distinct[i], distinct[j]);
            }
        }
    }
}

#[test]
fn canonical_keys_are_readable() {
    assert_eq!(canonical("\\frac{10}{2}"), "5");
    assert_eq!(canonical("1/2"), "5e-1");
    assert_eq!(canonical("\\{3, 1, 2\\}"), "{1,2,3}");
    assert_eq!(canonical("(-\\infty, 2]"), "(-inf,2]");
    assert_eq!(canonical("No"), "no");
    assert_eq!(canonical("\\text{New York}"), "newyork");
}

/// Strings meant to break a parser: unbalanced, deep, huge, empty, odd Unicode.
fn weird_inputs() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        " ",
        "\\",
        "\\\\",
        "{",
        "}",
        "}{",
        "{{{",
        "\\boxed{",
        "\\boxed}",
        "\\boxed{}}",
        "\\frac",
        "\\frac{",
        "\\frac{1}",
        "\\sqrt",
        "\\sqrt[",
        "\\sqrt[3]",
        "^",
        "^{",
        "1^",
        "1^{",
        "10^{99999}",
        "10^{-99999}",
        "2^{2^{2^{2^{2^{2}}}}}",
        "1e99999",
        "0/0",
        "-",
        "--",
        "+-+-1",
        "1,",
        ",1",
        ",",
        ";",
        "()",
        "[]",
        "[)",
        "(]",
        "(,)",
        "[,]",
        "(1,",
        "\\left",
        "\\right.",
        "\\{",
        "\\}",
        "$$",
        "$",
        "\\(",
        "\\)",
        "%",
        "50%%",
        "x =",
        "= 5",
        "==",
        "x \\in",
        "\\in",
        "\\infty",
        "-\\infty",
        "(\\infty, -\\infty)",
        "\\cup",
        "∪",
        "(1,2) \\cup",
        " or ",
        "and",
        "1 or",
        "ǅ",
        "İstanbul",
        "🙂 42 🙂",
        "١٢٣",
        "½",
        "−",
        "\u{0}",
        "\u{feff}5",
        "\u{202e}1,2",
        "5\u{301}",
        "ﬁ",
        "\\text{\\text{\\text{",
        "\\mathrm",
        "1{,}",
        "{,}000",
        ".",
        "..",
        "1..2",
        "1.2.3",
        "e",
        "1e",
        "1e+",
        "π",
        "√",
        "√-1",
        "\\pi\\pi\\pi",
        "Answer:",
        "final answer is",
        "**",
        "*",
        "\\boxed 😀",
        "\\fbox",
        "\u{2212}\u{2212}1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("(".repeat(10_000));
    v.push(")".repeat(10_000));
    v.push("{".repeat(10_000) + &"}".repeat(9_999));
    v.push(format!("{}1{}", "\\frac{".repeat(500), "}{2}".repeat(500)));
    v.push(format!("{}1{}", "\\sqrt{".repeat(2_000), "}".repeat(2_000)));
    v.push("9".repeat(100_000));
    v.push("1,".repeat(5_000));
    v.push("x = ".repeat(1_000) + "5");
    v.push("\\boxed{".repeat(3_000) + "7" + &"}".repeat(3_000));
    v.push("a".repeat(200_000));
    v.push("-".repeat(50_000) + "1");
    v.push(format!("{}5 cm", "m ".repeat(1_000)));
    v.push("[1, 2) \\cup ".repeat(500) + "[3, 4]");
    v.push("1 and ".repeat(1_000) + "2");
    v
}

#[test]
fn no_input_panics_or_hangs() {
    let inputs = weird_inputs();
    let started = Instant::now();
    for a in &inputs {
        for how in [Extract::Auto, Extract::Boxed, Extract::LastNumber] {
            let _ = extract(a, how);
        }
        let _ = canonical(a);
        for b in ["5", "(1, 2)", "yes", "x", a.as_str()] {
            let _ = equivalent(a, b, DEFAULT_TOLERANCE);
            let _ = equivalent(b, a, DEFAULT_TOLERANCE);
        }
    }
    // Generous for a debug build on a slow machine; pathological inputs that were
    // quadratic or exponential would take minutes.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn an_answer_equals_itself_whatever_it_is() {
    for a in weird_inputs() {
        let v = equivalent(&a, &a, DEFAULT_TOLERANCE);
        // NaN-like forms are refused as numbers, so nothing is unequal to itself.
        assert!(
            v.is_some_and(|v| v.equal),
            "{:?} is not equal to itself: {v:?}",
            a.chars().take(40).collect::<String>()
        );
    }
}
