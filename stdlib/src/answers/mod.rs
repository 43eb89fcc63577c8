//! Final answers: extraction from a solution, normalization, and equivalence with a
//! reference, as `verify` and `consensus` use them (and document, in `verify`'s doc).
//! Pure functions: no I/O, no panics on any input, bounded work on pathological input.
//!
//! - [`extract`] finds the final answer in a solution (`extract.rs`).
//! - [`equivalent`] compares two answers: both are normalized (`normalize.rs`), parsed into
//!   a shape (`form.rs`: numbers via `scalar.rs` and `number.rs`, intervals, tuples, sets,
//!   lists, yes/no, text) and compared shape by shape (`compare.rs`).
//! - [`canonical`] gives a grouping key (`canonical.rs`).

mod canonical;
mod compare;
mod extract;
mod form;
mod normalize;
mod number;
mod scalar;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_table;

pub use canonical::canonical;
pub use extract::{extract, leading_yes_no, Extract, Extracted};

use form::{parse, Form};

/// The relative tolerance of `verify` when none is set.
pub const DEFAULT_TOLERANCE: f64 = 1e-6;

/// Whether two answers are equal, and which rule said so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub equal: bool,
    /// `integer`, `numeric`, `fraction`, `percent`, `scientific`, `sqrt_pi`, `interval`,
    /// `set`, `tuple`, `yes_no` or `text`.
    pub rule: &'static str,
}

/// Whether an answer is yes/no (or true/false).
pub fn is_yes_no(answer: &str) -> bool {
    matches!(parse(answer).form, Form::Bool(_))
}

/// Compares `answer` with `reference` (relative `tolerance` for numbers).
///
/// When both have a known shape (number, yes/no, interval, tuple, set or list) the rules
/// decide. When either is plain text, equal normalized texts are equal (rule `text`), and
/// otherwise the rules cannot decide: `None`, where `verify` may ask its judge (without
/// one the answer counts as wrong, rule `text`).
pub fn equivalent(answer: &str, reference: &str, tolerance: f64) -> Option<Verdict> {
    // A negative or NaN tolerance means exact comparison.
    let tolerance = if tolerance >= 0.0 { tolerance } else { 0.0 };
    let a = parse(answer);
    let b = parse(reference);
    if matches!(a.form, Form::Text(_)) || matches!(b.form, Form::Text(_)) {
        // The parsed text drops grouping brackets (`(B)` reads `b`); the whole key not.
        let same_text = a.key == b.key
            || matches!((&a.form, &b.form), (Form::Text(x), Form::Text(y)) if x == y);
        return same_text.then_some(Verdict {
            equal: true,
            rule: "text",
        });
    }
    Some(compare::same(&a.form, &b.form, tolerance))
}
