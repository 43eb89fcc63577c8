//! The equivalence table: `(answer, reference, equal, rule)` rows covering every rule of
//! `verify`'s doc, each with equal and unequal cases. `rule` is the rule that must decide,
//! or `undecided` where the rules cannot (`equivalent` gives `None`: `verify` asks its
//! judge, or counts the answer wrong).

use super::{equivalent, DEFAULT_TOLERANCE};

const UNDECIDED: &str = "undecided";

#[rustfmt::skip]
const TABLE: &[(&str, &str, bool, &str)] = &[
    // Integers: exact, whatever the tolerance; markup, units and names around them ignored.
    ("42", "42", true, "integer"),
    ("42", "43", false, "integer"),
    ("-7", "-7", true, "integer"),
    ("-7", "7", false, "integer"),
    ("007", "7", true, "integer"),
    ("+5", "5", true, "integer"),
    ("0", "-0", true, "integer"),
    ("1000000", "1000001", false, "integer"),
    ("123456789012345678901234567890", "123456789012345678901234567890", true, "integer"),
    ("123456789012345678901234567891", "123456789012345678901234567890", false, "integer"),
    ("x = 5", "5", true, "integer"),
    ("y=-3", "-3", true, "integer"),
    ("x = 5", "6", false, "integer"),
    ("1,000", "1000", true, "integer"),
    ("1{,}000", "1000", true, "integer"),
    ("1\\,000", "1000", true, "integer"),
    ("12,345,678", "12345678", true, "integer"),
    ("1,000", "100", false, "integer"),
    ("5 cm", "5", true, "integer"),
    ("5\\text{ cm}", "5", true, "integer"),
    ("5cm", "5", true, "integer"),
    ("5 \\mathrm{m}", "5", true, "integer"),
    ("12 \\mathrm{MHz}", "12", true, "integer"),
    ("12 MHz", "13", false, "integer"),
    ("30^\\circ", "30", true, "integer"),
    ("30^{\\circ}", "30", true, "integer"),
    ("30°", "30", true, "integer"),
    ("30 degrees", "30", true, "integer"),
    ("$42$.", "42", true, "integer"),
    ("\\(42\\)", "42", true, "integer"),
    ("\\$25", "25", true, "integer"),
    ("**7**", "7", true, "integer"),
    ("\\textbf{7}", "7", true, "integer"),
    ("{7}", "7", true, "integer"),
    ("(7)", "7", true, "integer"),
    ("\\boxed{7}", "7", true, "integer"),
    ("\u{2212}4", "-4", true, "integer"),
    // Decimals: relative tolerance (1e-6).
    ("3.14", "3.14", true, "numeric"),
    ("3.14", "3.15", false, "numeric"),
    ("5.0", "5", true, "numeric"),
    ("2.50", "2.5", true, "numeric"),
    (".5", "0.5", true, "numeric"),
    ("-0.25", "-0.25", true, "numeric"),
    ("-0.25", "0.25", false, "numeric"),
    ("0.1", "0.10000000001", true, "numeric"),
    ("0.1", "0.1001", false, "numeric"),
    ("1000000.5", "1000000.0", true, "numeric"),
    ("0", "0.000001", false, "numeric"),
    ("0.0", "0", true, "numeric"),
    ("1,234.5", "1234.5", true, "numeric"),
    ("9.8 m/s^2", "9.8", true, "numeric"),
    ("3.0 kg", "3", true, "numeric"),
    ("2^{10}", "1024", true, "numeric"),
    ("2^{10}", "1000", false, "numeric"),
    // Fractions.
    ("\\frac{1}{2}", "0.5", true, "fraction"),
    ("\\dfrac{1}{2}", "1/2", true, "fraction"),
    ("\\tfrac{3}{4}", "0.75", true, "fraction"),
    ("\\frac12", "\\frac{1}{2}", true, "fraction"),
    ("\\frac{2}{4}", "\\frac{1}{2}", true, "fraction"),
    ("1/3", "0.3333", false, "fraction"),
    ("-\\frac{1}{2}", "-0.5", true, "fraction"),
    ("\\frac{-1}{2}", "-\\frac{1}{2}", true, "fraction"),
    ("\\frac{1}{2}", "\\frac{1}{3}", false, "fraction"),
    ("\\frac{3}{2}", "\\frac{2}{3}", false, "fraction"),
    ("3/4", "\\frac{3}{4}", true, "fraction"),
    ("2\\frac{1}{2}", "2.5", true, "fraction"),
    ("2\\frac{1}{2}", "\\frac{5}{2}", true, "fraction"),
    ("2\\frac{1}{2}", "1", false, "fraction"),
    ("\\frac{10}{2}", "5", true, "fraction"),
    ("x = \\frac{7}{3}", "7/3", true, "fraction"),
    ("\\left(\\frac{1}{2}\\right)", "0.5", true, "fraction"),
    ("\\frac{1}{2}\\text{ cm}", "0.5", true, "fraction"),
    // Percent: `50%` is 0.5, and a percent sign on one side only may also be dropped.
    ("50%", "0.5", true, "percent"),
    ("50\\%", "50%", true, "percent"),
    ("50", "50%", true, "percent"),
    ("0.5", "50%", true, "percent"),
    ("5%", "0.5", false, "percent"),
    ("50 percent", "0.5", true, "percent"),
    ("12.5%", "\\frac{1}{8}", true, "percent"),
    ("25%", "50%", false, "percent"),
    ("40%", "0.4", true, "percent"),
    ("0.5%", "0.005", true, "percent"),
    ("0.5%", "0.5", true, "percent"),
    ("60%", "0.5", false, "percent"),
    // Scientific notation.
    ("1.2e3", "1200", true, "scientific"),
    ("1.2 \\times 10^{3}", "1200", true, "scientific"),
    ("1.2\\cdot10^3", "1.2e3", true, "scientific"),
    ("3 \\times 10^{-4}", "0.0003", true, "scientific"),
    ("6.02 \\times 10^{23}", "6.02e23", true, "scientific"),
    ("6.02 \\times 10^{23}", "6.02e22", false, "scientific"),
    ("1E-3", "0.001", true, "scientific"),
    ("10^{3}", "1000", true, "scientific"),
    ("2.5e-2", "0.025", true, "scientific"),
    ("1.2e3", "120", false, "scientific"),
    // Square roots and pi in simple expressions.
    ("2\\sqrt{3}", "\\sqrt{12}", true, "sqrt_pi"),
    ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", true, "sqrt_pi"),
    ("\\frac{\\sqrt{2}}{2}", "0.70710678", true, "sqrt_pi"),
    ("3\\pi", "3π", true, "sqrt_pi"),
    ("\\pi/2", "\\frac{\\pi}{2}", true, "sqrt_pi"),
    ("\\pi/2", "1.5708", false, "sqrt_pi"),
    ("2\\sqrt{3}", "3\\sqrt{2}", false, "sqrt_pi"),
    ("\\sqrt{3}", "\\sqrt3", true, "sqrt_pi"),
    ("\\sqrt[3]{8}", "2", true, "sqrt_pi"),
    ("\\frac{1+\\sqrt{5}}{2}", "1.6180339887", true, "sqrt_pi"),
    ("4\\pi", "12.566370614", true, "sqrt_pi"),
    ("-\\sqrt{2}", "\\sqrt{2}", false, "sqrt_pi"),
    ("\\pi r^2", "\\pi", false, UNDECIDED),
    // Yes/no and true/false.
    ("Yes", "yes", true, "yes_no"),
    ("\\text{YES}", "true", true, "yes_no"),
    ("No.", "false", true, "yes_no"),
    ("yes", "no", false, "yes_no"),
    ("True", "False", false, "yes_no"),
    ("false", "no", true, "yes_no"),
    ("yes", "1", false, "numeric"),
    // Intervals: the ends and their closedness must agree.
    ("[1, 2)", "[1,2)", true, "interval"),
    ("[1, 2)", "(1, 2)", false, "interval"),
    ("[1, 2]", "[1, 2)", false, "interval"),
    ("(1, 2]", "(1,2]", true, "interval"),
    ("(1, 2)", "(1, 2]", false, "interval"),
    ("(-\\infty, 3)", "(-∞, 3)", true, "interval"),
    ("(-\\infty, 3]", "(-\\infty, 3)", false, "interval"),
    ("\\left[0, \\frac{1}{2}\\right]", "[0, 0.5]", true, "interval"),
    ("(0, \\infty)", "(0, +\\infty)", true, "interval"),
    ("(0, \\infty)", "(1, \\infty)", false, "interval"),
    ("(-\\infty, 0) \\cup (1, \\infty)", "(1, \\infty) \\cup (-\\infty, 0)", true, "interval"),
    ("(-\\infty, 0) \\cup (1, \\infty)", "(-\\infty, 0) \\cup [1, \\infty)", false, "interval"),
    ("(-∞, 0) ∪ (1, 2)", "(-\\infty, 0) \\cup (1, 2)", true, "interval"),
    ("x \\in [2, 5]", "[2,5]", true, "interval"),
    ("[-1, 1]", "[-1,1]", true, "interval"),
    ("[-1, 1]", "[-1, 2]", false, "interval"),
    // Sets and unordered lists: order-insensitive, sizes must agree.
    ("\\{1, 2\\}", "\\{2, 1\\}", true, "set"),
    ("\\{1, 2\\}", "\\{1, 3\\}", false, "set"),
    ("{1,2,3}", "{3,2,1}", true, "set"),
    ("\\{1, 2\\}", "\\{1, 2, 3\\}", false, "set"),
    ("1, 2", "2, 1", true, "set"),
    ("2, 1", "\\{1, 2\\}", true, "set"),
    ("x = 1 or x = 2", "2, 1", true, "set"),
    ("x=1, y=2", "\\{1,2\\}", true, "set"),
    ("\\{\\frac{1}{2}, 3\\}", "\\{3, 0.5\\}", true, "set"),
    ("\\emptyset", "\\{\\}", true, "set"),
    ("\\varnothing", "\\emptyset", true, "set"),
    ("\\emptyset", "\\{0\\}", false, "numeric"),
    ("1; 2; 3", "3, 2, 1", true, "set"),
    ("3 and 4", "4, 3", true, "set"),
    ("\\{(1,2), (3,4)\\}", "\\{(3,4), (1,2)\\}", true, "set"),
    ("\\{(1,2), (3,4)\\}", "\\{(2,1), (3,4)\\}", false, "set"),
    ("\\{1, 1, 2\\}", "\\{1, 2, 2\\}", false, "set"),
    ("(1, 2)", "\\{1, 2\\}", false, "set"),
    ("[1, 2]", "\\{1, 2\\}", false, "set"),
    // Tuples: ordered.
    ("(1, 2)", "(1,2)", true, "tuple"),
    ("(1, 2)", "(2, 1)", false, "tuple"),
    ("(1, 2, 3)", "(1,2,3)", true, "tuple"),
    ("(1, 2, 3)", "(1, 2)", false, "tuple"),
    ("\\left(\\frac{1}{2}, -3\\right)", "(0.5, -3)", true, "tuple"),
    ("\\langle 1, 2, 3\\rangle", "(1, 2, 3)", true, "tuple"),
    ("[1, 2, 3]", "(1, 2, 3)", true, "tuple"),
    ("1, 2", "(1, 2)", true, "tuple"),
    ("2, 1", "(1, 2)", false, "tuple"),
    ("(a, b)", "(a, b)", true, "tuple"),
    ("(a, b)", "(b, a)", false, "tuple"),
    ("(1, \\sqrt{2})", "(1, 1.41421356)", true, "tuple"),
    ("5", "(5, 6)", false, "tuple"),
    // A list joined by `and`, each element a number with a unit: not the single number.
    ("5 apples and 3 pears", "5", false, "numeric"),
    // Plain text after normalization.
    ("\\text{Paris}", "paris", true, "text"),
    ("New York City.", "new york city", true, "text"),
    ("x^2+2x+1", "x^{2} + 2x + 1", true, "text"),
    ("\\textbf{(B)}", "B", true, "text"),
    ("y = 2x + 3", "2x+3", true, "text"),
    ("blue", "Blue.", true, "text"),
    ("\\mathrm{H_2O}", "H_2O", true, "text"),
    ("x^2 + y^2 = 1", "x^2+y^2=1", true, "text"),
    ("\\frac{x}{2}", "\\dfrac{x}{2}", true, "text"),
    ("$\\sin x$", "\\sin x", true, "text"),
    ("10^{99999}", "10^{99999}", true, "text"),
    // The rules cannot decide: different texts, or text against a known shape.
    ("(x+1)^2", "x^2+2x+1", false, UNDECIDED),
    ("A", "B", false, UNDECIDED),
    ("\\frac{x}{2}", "x/2", false, UNDECIDED),
    ("five", "5", false, UNDECIDED),
    ("(-\\infty, \\infty)", "\\mathbb{R}", false, UNDECIDED),
    ("\\pm 1", "-1, 1", false, UNDECIDED),
    ("10^{99999}", "10^{99998}", false, UNDECIDED),
    ("\\frac{1}{0}", "0", false, UNDECIDED),
    ("\\boxed{", "5", false, UNDECIDED),
    ("", "5", false, UNDECIDED),
];

#[test]
fn the_table_holds_row_by_row() {
    assert!(TABLE.len() >= 150, "only {} rows", TABLE.len());
    let mut failures = Vec::new();
    for (row, &(answer, reference, equal, rule)) in TABLE.iter().enumerate() {
        let got = equivalent(answer, reference, DEFAULT_TOLERANCE);
        let ok = match got {
            None => rule == UNDECIDED && !equal,
            Some(v) => v.equal == equal && v.rule == rule,
        };
        if !ok {
            failures.push(format!(
                "row {row}: {answer:?} vs {reference:?}: expected {equal} by `{rule}`, got {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_equal_and_unequal_rows() {
    let rules = [
        "integer",
        "numeric",
        "fraction",
        "percent",
        "scientific",
        "sqrt_pi",
        "interval",
        "set",
        "tuple",
        "yes_no",
    ];
    for rule in rules {
        for equal in [true, false] {
            assert!(
                TABLE.iter().any(|r| r.3 == rule && r.2 == equal),
                "no {equal} row for `{rule}`"
            );
        }
    }
}

#[test]
fn the_table_is_symmetric_where_no_percent_is_dropped() {
    // Equivalence should not depend on which side is the reference, except for the rule
    // name of mismatched shapes.
    for &(answer, reference, equal, _) in TABLE {
        let back = equivalent(reference, answer, DEFAULT_TOLERANCE).is_some_and(|v| v.equal);
        assert_eq!(back, equal, "{reference:?} vs {answer:?} (swapped)");
    }
}

#[test]
fn tolerance_is_relative_and_settable() {
    assert!(equivalent("100.5", "100", 0.01).is_some_and(|v| v.equal));
    assert!(!equivalent("100.5", "100", 0.001).is_some_and(|v| v.equal));
    assert!(!equivalent("0.5000001", "0.5", 0.0).is_some_and(|v| v.equal));
    // A negative or NaN tolerance is exact comparison, never a panic.
    assert!(equivalent("0.5", "0.5", -1.0).is_some_and(|v| v.equal));
    assert!(!equivalent("0.5000001", "0.5", f64::NAN).is_some_and(|v| v.equal));
}
