//! Canonical keys: one string per answer such that equal answers share a key wherever
//! practical, for grouping answers without comparing every pair.
//!
//! Numbers become their value rounded to 12 significant digits (integers as plain
//! digits, so `5`, `5.0`, `10/2` and `\frac{10}{2}` all read `5`; `0.5`, `\frac12` and
//! `50%` all read `5e-1`); sets and bare lists are sorted; tuples and intervals keep their
//! order; yes/true read `yes`, no/false `no`; text is its normalized key. Two answers equal
//! only within the tolerance, or only through the dropped percent sign (`50%` = `50`), may
//! still get different keys: callers that need exact equivalence compare with
//! [`super::equivalent`].

use super::form::{parse, End, Form, Interval};
use super::scalar::Num;

pub fn canonical(answer: &str) -> String {
    key(&parse(answer).form)
}

fn key(f: &Form) -> String {
    match f {
        Form::Num(n) => number(n),
        Form::Bool(true) => "yes".into(),
        Form::Bool(false) => "no".into(),
        Form::Intervals(v) => {
            let mut parts: Vec<String> = v.iter().map(interval).collect();
            parts.sort();
            parts.join("∪")
        }
        Form::Tuple(items) => format!("({})", items.iter().map(key).collect::<Vec<_>>().join(",")),
        Form::Set(items) | Form::List(items) => {
            let mut parts: Vec<String> = items.iter().map(key).collect();
            parts.sort();
            format!("{{{}}}", parts.join(","))
        }
        Form::Text(k) => k.clone(),
    }
}

fn interval(i: &Interval) -> String {
    let end = |e: &End| match e {
        End::NegInf => "-inf".to_string(),
        End::PosInf => "inf".to_string(),
        End::Num(n) => number(n),
    };
    format!(
        "{}{},{}{}",
        if i.lo_closed { '[' } else { '(' },
        end(&i.lo),
        end(&i.hi),
        if i.hi_closed { ']' } else { ')' }
    )
}

fn number(n: &Num) -> String {
    if let Some(digits) = &n.integer {
        return digits.clone();
    }
    // Rounding first makes values that differ only by float noise (2√3·√3) share a key.
    let rounded = format!("{:.11e}", n.value);
    let value: f64 = rounded.parse().unwrap_or(n.value);
    if value == 0.0 {
        return "0".into();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    match rounded.split_once('e') {
        Some((mantissa, exponent)) => {
            let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
            format!("{mantissa}e{exponent}")
        }
        None => rounded,
    }
}
