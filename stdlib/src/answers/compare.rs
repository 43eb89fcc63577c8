//! Equality of two parsed answers, and the name of the rule that decided it.

use super::form::{open_interval, End, Form, Interval};
use super::scalar::Num;
use super::Verdict;

/// Compares two forms of known shape. Forms of different shapes are unequal, named by
/// the reference's shape; text inside a tuple or set compares by its key.
pub fn same(a: &Form, b: &Form, tolerance: f64) -> Verdict {
    let verdict = |equal, rule| Verdict { equal, rule };
    match (a, b) {
        (Form::Num(x), Form::Num(y)) => numbers(x, y, tolerance),
        (Form::Bool(x), Form::Bool(y)) => verdict(x == y, "yes_no"),
        (Form::Intervals(x), Form::Intervals(y)) => verdict(
            unordered(x, y, |p, q| intervals(p, q, tolerance)),
            "interval",
        ),
        (Form::Tuple(t), Form::Intervals(i)) | (Form::Intervals(i), Form::Tuple(t)) => {
            let equal = match (open_interval(t), i.as_slice()) {
                (Some(open), [one]) => intervals(&open, one, tolerance),
                _ => false,
            };
            verdict(equal, "interval")
        }
        (Form::Tuple(x) | Form::List(x), Form::Tuple(y)) | (Form::Tuple(x), Form::List(y)) => {
            let equal =
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q, tolerance).equal);
            verdict(equal, "tuple")
        }
        (Form::Set(x) | Form::List(x), Form::Set(y) | Form::List(y)) => {
            verdict(unordered(x, y, |p, q| same(p, q, tolerance).equal), "set")
        }
        (Form::Text(x), Form::Text(y)) => verdict(x == y, "text"),
        (_, reference) => verdict(false, shape_rule(reference)),
    }
}

fn shape_rule(f: &Form) -> &'static str {
    match f {
        Form::Num(_) => "numeric",
        Form::Bool(_) => "yes_no",
        Form::Intervals(_) => "interval",
        Form::Tuple(_) => "tuple",
        Form::Set(_) | Form::List(_) => "set",
        Form::Text(_) => "text",
    }
}

/// Two numbers: integers exactly; otherwise within the relative tolerance. A percent sign
/// on one side only may also be dropped: `50%` equals both `0.5` and `50`.
pub fn numbers(a: &Num, b: &Num, tolerance: f64) -> Verdict {
    let style = a.style.union(b.style);
    let rule = if a.percent.is_some() || b.percent.is_some() {
        "percent"
    } else if style.radical {
        "sqrt_pi"
    } else if style.scientific {
        "scientific"
    } else if style.fraction {
        "fraction"
    } else if a.integer.is_some() && b.integer.is_some() {
        "integer"
    } else {
        "numeric"
    };
    let equal = match (&a.integer, &b.integer) {
        (Some(x), Some(y)) => x == y,
        _ => {
            close(a.value, b.value, tolerance)
                || percent_dropped(a, b, tolerance)
                || percent_dropped(b, a, tolerance)
        }
    };
    Verdict { equal, rule }
}

/// Whether `p` is a percent whose number, without the sign, is `other`.
fn percent_dropped(p: &Num, other: &Num, tolerance: f64) -> bool {
    other.percent.is_none()
        && p.percent
            .is_some_and(|raw| close(raw, other.value, tolerance))
}

/// `|a − b| ≤ tolerance · max(|a|, |b|)`, for finite values only.
pub fn close(a: f64, b: f64, tolerance: f64) -> bool {
    a.is_finite() && b.is_finite() && (a == b || (a - b).abs() <= tolerance * a.abs().max(b.abs()))
}

/// Same ends, same closedness.
fn intervals(a: &Interval, b: &Interval, tolerance: f64) -> bool {
    a.lo_closed == b.lo_closed
        && a.hi_closed == b.hi_closed
        && ends(&a.lo, &b.lo, tolerance)
        && ends(&a.hi, &b.hi, tolerance)
}

fn ends(a: &End, b: &End, tolerance: f64) -> bool {
    match (a, b) {
        (End::NegInf, End::NegInf) | (End::PosInf, End::PosInf) => true,
        (End::Num(x), End::Num(y)) => numbers(x, y, tolerance).equal,
        _ => false,
    }
}

/// Whether every element of `a` pairs with a distinct equal element of `b`, and the
/// sizes agree. Greedy: each element takes the first free match.
fn unordered<T>(a: &[T], b: &[T], eq: impl Fn(&T, &T) -> bool) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        let found = b
            .iter()
            .enumerate()
            .find(|(j, y)| !used[*j] && eq(x, y))
            .map(|(j, _)| j);
        match found {
            Some(j) => {
                used[j] = true;
                true
            }
            None => false,
        }
    })
}
