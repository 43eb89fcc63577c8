//! One numeric answer as written in a solution: a number expression (see `number`)
//! possibly with a percent sign, a unit after it, or thousands separators. Integers keep
//! their digits so that two integers compare exactly, however large.

use super::number::{evaluate, Style};

/// Units recognized when written without a space after the number (`5cm`). Single letters
/// are left out on purpose: `3x` is an expression, not three of unit `x`. Compared in
/// lowercase.
const ATTACHED_UNITS: &[&str] = &[
    "cm", "mm", "km", "nm", "um", "μm", "kg", "mg", "ms", "us", "μs", "ns", "hz", "khz", "mhz",
    "ghz", "thz", "db", "dbm", "dbw", "dbi", "kw", "mw", "gw", "kwh", "wh", "bps", "kbps", "mbps",
    "gbps", "bit", "bits", "byte", "bytes", "kb", "mb", "gb", "tb", "mol", "min", "sec", "hr",
    "hrs", "deg", "rad", "ohm", "ohms", "kv", "mv", "ma", "mah", "ml", "cl", "kpa", "mpa", "hpa",
    "atm", "kj", "kcal", "cal", "ev", "kev", "mev", "lbs", "lb", "oz", "ft", "in", "yd", "mi",
    "mph", "kph", "kmh",
];

/// The longest unit read after a number (`kg m^{-2} s^{-1}` is 16).
const MAX_UNIT_CHARS: usize = 40;

/// One-letter units, case-sensitive; other single letters after a number are variables
/// (`\pi r^2` is not π in unit `r^2`).
const LETTER_UNITS: &[&str] = &[
    "m", "s", "g", "h", "l", "L", "N", "V", "A", "W", "J", "K", "C", "F", "T", "Ω",
];

/// A number, with what it takes to compare it.
#[derive(Clone, Debug, PartialEq)]
pub struct Num {
    /// The value (a percent already divided by 100). Finite, except for an integer too
    /// large for a float, which compares by `integer` only.
    pub value: f64,
    /// The digits of an integer written plainly (sign, no leading zeros).
    pub integer: Option<String>,
    /// The number written before a `%` sign (`value` is it / 100).
    pub percent: Option<f64>,
    pub style: Style,
}

/// `s` (already cleaned) as one number, or `None`.
pub fn scalar(s: &str) -> Option<Num> {
    let s = s.trim();
    let percent = s
        .strip_suffix('%')
        .or_else(|| strip_word_suffix(s, "percent"));
    if let Some(before) = percent {
        let n = with_unit(before.trim())?;
        let raw = n.value;
        return n.value.is_finite().then(|| Num {
            value: raw / 100.0,
            integer: None,
            percent: Some(raw),
            style: n.style,
        });
    }
    with_unit(s)
}

/// `s` without a final ` word` (case-insensitive).
fn strip_word_suffix<'a>(s: &'a str, word: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(word.len())?;
    let (head, tail) = (s.get(..cut)?, s.get(cut..)?);
    (tail.eq_ignore_ascii_case(word) && head.ends_with(' ')).then_some(head)
}

/// A number, possibly followed by a unit, which is ignored.
fn with_unit(s: &str) -> Option<Num> {
    if let Some(n) = plain(s) {
        return Some(n);
    }
    let c: Vec<char> = s.chars().collect();
    // The unit is the longest tail that reads as one: the first candidate start that does.
    // Units are short, so only the last characters are candidates (which keeps this linear).
    let from = c.len().saturating_sub(MAX_UNIT_CHARS);
    for (i, &ch) in c.iter().enumerate().skip(from) {
        let starts_word = (ch.is_alphabetic() || ch == 'μ')
            && i > 0
            && !c[i - 1].is_alphabetic()
            && c[i - 1] != '\\';
        if !starts_word {
            continue;
        }
        let tail: String = c[i..].iter().collect();
        let head: String = c[..i].iter().collect();
        let spaced = head.ends_with(' ');
        if is_unit(&tail, spaced) {
            return plain(head.trim());
        }
    }
    None
}

/// Whether `tail` reads as a unit: words of letters, each optionally with a power
/// (`m^2`, `s^{-1}`) or trailing digits (`cm3`), joined by spaces, `/`, `*`, `·` or `.`.
/// Without a space before it (`5cm`), its first word must be a known unit.
fn is_unit(tail: &str, spaced: bool) -> bool {
    let words: Vec<&str> = tail
        .split([' ', '/', '*', '·', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    let Some(first) = words.first() else {
        return false;
    };
    if !spaced {
        let letters: String = first
            .chars()
            .take_while(|c| c.is_alphabetic())
            .collect::<String>()
            .to_lowercase();
        if !ATTACHED_UNITS.contains(&letters.as_str()) {
            return false;
        }
    }
    words.iter().all(|w| unit_word(w))
}

/// letters [digits | '^' ['-'] digits | '^{' ['-'] digits '}'], where one letter must be
/// a [`LETTER_UNITS`] symbol; and not `and` / `or`, which join answers (`1 or 2`).
fn unit_word(w: &str) -> bool {
    if w.eq_ignore_ascii_case("and") || w.eq_ignore_ascii_case("or") {
        return false;
    }
    let letters = w.chars().take_while(|c| c.is_alphabetic()).count();
    if letters == 0 {
        return false;
    }
    if letters == 1 && !LETTER_UNITS.iter().any(|u| w.starts_with(u)) {
        return false;
    }
    let rest: String = w.chars().skip(letters).collect();
    let power = rest
        .strip_prefix("^{")
        .and_then(|r| r.strip_suffix('}'))
        .or_else(|| rest.strip_prefix('^'))
        .unwrap_or(&rest);
    let digits = power.strip_prefix('-').unwrap_or(power);
    digits.chars().all(|c| c.is_ascii_digit()) && (rest.is_empty() || !digits.is_empty())
}

/// A number expression, thousands separators allowed (`1,000`, `1 000`).
fn plain(s: &str) -> Option<Num> {
    let grouped = ungroup(s);
    let s = grouped.as_deref().unwrap_or(s);
    let (value, style) = match evaluate(s) {
        Some(v) => v,
        // An integer too long for a float still compares by its digits.
        None if integer_digits(s).is_some() => (f64::INFINITY, Style::default()),
        None => return None,
    };
    Some(Num {
        value,
        integer: integer_digits(s),
        percent: None,
        style,
    })
}

/// `s` without thousands separators when it is `d{1,3}(,ddd)+` (or with spaces), with an
/// optional sign and decimal part.
fn ungroup(s: &str) -> Option<String> {
    let (sign, body) = match s.strip_prefix(['-', '+']) {
        Some(rest) => (&s[..1], rest),
        None => ("", s),
    };
    let (whole, decimals) = match body.split_once('.') {
        Some((w, d)) if !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()) => (w, d),
        Some(_) => return None,
        None => (body, ""),
    };
    let separator = if whole.contains(',') { ',' } else { ' ' };
    let groups: Vec<&str> = whole.split(separator).collect();
    let first_ok = groups.first().is_some_and(|g| {
        (1..=3).contains(&g.len()) && g.chars().all(|c| c.is_ascii_digit()) && !g.starts_with('0')
    });
    let rest_ok = groups[1..]
        .iter()
        .all(|g| g.len() == 3 && g.chars().all(|c| c.is_ascii_digit()));
    if groups.len() < 2 || !first_ok || !rest_ok {
        return None;
    }
    let mut out = format!("{sign}{}", groups.concat());
    if !decimals.is_empty() {
        out.push('.');
        out.push_str(decimals);
    }
    Some(out)
}

/// The canonical digits of an integer written plainly: `-007` → `-7`, `+0` → `0`.
fn integer_digits(s: &str) -> Option<String> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    Some(match (trimmed.is_empty(), negative) {
        (true, _) => "0".to_string(),
        (false, true) => format!("-{trimmed}"),
        (false, false) => trimmed.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> Option<f64> {
        scalar(s).map(|n| n.value)
    }

    #[test]
    fn units_are_ignored_only_after_a_number() {
        assert_eq!(value("5 cm"), Some(5.0));
        assert_eq!(value("5cm"), Some(5.0));
        assert_eq!(value("9.8 m/s^2"), Some(9.8));
        assert_eq!(value("3 kg m^{-2}"), Some(3.0));
        assert_eq!(value("12 MHz"), Some(12.0));
        assert_eq!(value("3x"), None);
        assert_eq!(value("5 m"), Some(5.0));
        assert_eq!(value("\\pi r^2"), None);
        assert_eq!(value("2 x"), None);
        assert_eq!(value("5 or 6"), None);
        assert_eq!(value("cm"), None);
        assert_eq!(
            value("2\\sqrt{3} cm").map(|v| (v * 1e6).round()),
            Some(3464102.0)
        );
    }

    #[test]
    fn thousands_separators_and_percent() {
        assert_eq!(value("1,000"), Some(1000.0));
        assert_eq!(value("-12,345.5"), Some(-12345.5));
        assert_eq!(value("1 000 000"), Some(1e6));
        assert_eq!(value("1,00"), None);
        assert_eq!(value("0,100"), None);
        let p = scalar("50%").unwrap();
        assert_eq!((p.value, p.percent), (0.5, Some(50.0)));
        assert_eq!(value("12.5 percent"), Some(0.125));
    }

    #[test]
    fn integers_keep_their_digits() {
        let big = "123456789012345678901234567890123456789";
        assert_eq!(scalar(big).and_then(|n| n.integer).as_deref(), Some(big));
        let long = "9".repeat(400);
        assert_eq!(scalar(&long).map(|n| n.integer.is_some()), Some(true));
        assert_eq!(
            scalar("-007").and_then(|n| n.integer).as_deref(),
            Some("-7")
        );
        assert_eq!(scalar("2.0").and_then(|n| n.integer), None);
    }
}
