//! Normalization shared by every comparison: the LaTeX markup and typography that do not
//! change what an answer says are removed, so that `$\text{Yes}$.` and `yes` read alike.
//!
//! [`clean`] keeps case and structure (the parsers still need `\frac`, brackets and
//! commas); [`text_key`] is the last resort for answers of no known form, where case and
//! spacing no longer matter either.

/// Commands whose braced argument stays and whose name goes: `\text{cm}` → `cm`.
const WRAPPERS: &[&str] = &[
    "text",
    "textbf",
    "textit",
    "textrm",
    "textsf",
    "texttt",
    "textnormal",
    "mathrm",
    "mathbf",
    "mathit",
    "mathsf",
    "mathtt",
    "mathnormal",
    "boldsymbol",
    "operatorname",
    "boxed",
    "fbox",
    "mbox",
    "hbox",
];

/// Delimiter sizing, which only changes how a bracket is drawn.
const SIZERS: &[&str] = &[
    "left", "right", "big", "bigl", "bigr", "Big", "Bigl", "Bigr", "bigg", "biggl", "biggr",
    "Bigg", "Biggl", "Biggr",
];

/// Commands that only change presentation, or mark degrees (which are not converted).
const DROPPED: &[&str] = &[
    "displaystyle",
    "textstyle",
    "scriptstyle",
    "limits",
    "nolimits",
    "degree",
    "textdegree",
];

/// Ways of writing a degree sign after a number; removed before the scan so that the `^`
/// goes with it.
const DEGREES: &[&str] = &[
    "^{\\circ}",
    "^{ \\circ }",
    "^{ \\circ}",
    "^\\circ",
    "^ \\circ",
    "°",
];

/// Characters dropped from the end of an answer: sentence punctuation, never `!`
/// (a factorial).
const TRAILING: &[char] = &['.', ',', ';', ':', '?'];

/// `s` without math delimiters, text wrappers, sizing commands, spacing commands, degree
/// marks and LaTeX thousands separators (`1{,}000`), with whitespace collapsed and
/// sentence punctuation trimmed from the end. `\dfrac` and `\tfrac` become `\frac`,
/// `\{`…`\}` and `\langle`…`\rangle` plain brackets, a Unicode minus `-`.
pub fn clean(s: &str) -> String {
    let mut text = s.replace("{,}", "");
    for degree in DEGREES {
        if text.contains(degree) {
            text = text.replace(degree, "");
        }
    }
    let c: Vec<char> = text.chars().collect();
    let closing = brace_pairs(&c);
    // Closing braces of unwrapped commands, found when their command is met.
    let mut skip = vec![false; c.len()];
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        if skip[i] {
            i += 1;
            continue;
        }
        match c[i] {
            '\\' => i = command(&c, i, &closing, &mut skip, &mut out),
            '$' => i += 1,
            '\u{2212}' | '\u{2013}' => {
                out.push('-');
                i += 1;
            }
            '~' | '\u{a0}' | '\u{2009}' | '\u{202f}' => {
                out.push(' ');
                i += 1;
            }
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    tidy(&out)
}

/// Handles the command starting with the backslash at `at`; returns where scanning goes on.
fn command(
    c: &[char],
    at: usize,
    closing: &[Option<usize>],
    skip: &mut [bool],
    out: &mut String,
) -> usize {
    let start = at + 1;
    let mut end = start;
    while end < c.len() && c[end].is_ascii_alphabetic() {
        end += 1;
    }
    if end == start {
        // A control symbol: `\,`, `\{`, `\$`, ...
        let Some(&sym) = c.get(start) else {
            return start;
        };
        match sym {
            '(' | ')' | '[' | ']' | '$' | '!' => {}
            ',' | ';' | ':' | ' ' => out.push(' '),
            '{' | '}' | '%' | '#' | '&' | '_' => out.push(sym),
            other => {
                out.push('\\');
                out.push(other);
            }
        }
        return start + 1;
    }
    let name: String = c[start..end].iter().collect();
    let name = name.as_str();
    if SIZERS.contains(&name) {
        // `\left.` and `\right.` are invisible delimiters.
        return if c.get(end) == Some(&'.') {
            end + 1
        } else {
            end
        };
    }
    if WRAPPERS.contains(&name) {
        let mut open = end;
        while open < c.len() && c[open] == ' ' {
            open += 1;
        }
        if let Some(&Some(close)) = closing.get(open) {
            skip[close] = true;
            return open + 1;
        }
        return end;
    }
    let bracket = match name {
        "langle" => Some('('),
        "rangle" => Some(')'),
        "lbrace" => Some('{'),
        "rbrace" => Some('}'),
        _ => None,
    };
    if let Some(b) = bracket {
        // As in TeX, the spaces after a control word belong to it.
        out.push(b);
        let mut next = end;
        while c.get(next) == Some(&' ') {
            next += 1;
        }
        return next;
    }
    match name {
        "dfrac" | "tfrac" | "cfrac" => out.push_str("\\frac"),
        "quad" | "qquad" => out.push(' '),
        _ if DROPPED.contains(&name) => {}
        _ => {
            out.push('\\');
            out.push_str(name);
        }
    }
    end
}

/// For each `{`, the index of the `}` closing it (escaped braces do not count); `None`
/// elsewhere and for unclosed braces. One pass, so nested wrappers stay linear.
fn brace_pairs(c: &[char]) -> Vec<Option<usize>> {
    let mut pairs = vec![None; c.len()];
    let mut open = Vec::new();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '\\' => i += 1,
            '{' => open.push(i),
            '}' => {
                if let Some(o) = open.pop() {
                    pairs[o] = Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    pairs
}

/// Collapses whitespace and trims sentence punctuation, Markdown emphasis and quotes from
/// the ends.
fn tidy(s: &str) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut t = joined.as_str();
    loop {
        let before = t.len();
        t = t
            .trim_end_matches(TRAILING)
            .trim_matches(|c: char| c == '*' || c == '"' || c == '`' || c.is_whitespace());
        if t.len() == before {
            break;
        }
    }
    t.to_string()
}

/// The comparison key of an answer of no known form: [`clean`]ed, lowercase, without
/// whitespace or empty braces, and with single-character braced exponents and subscripts
/// unbraced (`x^{2}` → `x^2`).
pub fn text_key(cleaned: &str) -> String {
    let lower: Vec<char> = cleaned
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut out = String::with_capacity(lower.len());
    let mut i = 0;
    while i < lower.len() {
        let c = lower[i];
        let single_braced = (c == '^' || c == '_')
            && lower.get(i + 1) == Some(&'{')
            && lower.get(i + 3) == Some(&'}')
            && lower.get(i + 2).is_some_and(|x| *x != '}');
        if single_braced {
            out.push(c);
            out.push(lower[i + 2]);
            i += 4;
        } else if c == '{' && lower.get(i + 1) == Some(&'}') {
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out.trim_end_matches(TRAILING).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_goes_and_meaning_stays() {
        let cases = [
            ("$\\text{Yes}$.", "Yes"),
            ("\\(\\dfrac{1}{2}\\)", "\\frac{1}{2}"),
            ("\\left( 1, 2 \\right]", "( 1, 2 ]"),
            ("\\left. x \\right|", "x |"),
            ("1{,}000", "1000"),
            ("90^\\circ", "90"),
            ("90^{\\circ}", "90"),
            ("\\{1,2\\}", "{1,2}"),
            ("5\\,\\text{cm}", "5 cm"),
            ("\\textbf{\\mathrm{A}}", "A"),
            ("**42**", "42"),
            ("\u{2212}3", "-3"),
            ("\\$5", "5"),
            ("50\\%", "50%"),
            ("\\langle 1,2\\rangle", "(1,2)"),
            ("5!", "5!"),
            ("\\displaystyle\\frac12", "\\frac12"),
        ];
        for (input, want) in cases {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
    }

    #[test]
    fn unbalanced_markup_does_not_panic_and_keeps_the_text() {
        assert_eq!(clean("\\text{abc"), "{abc");
        assert_eq!(clean("\\"), "");
        assert_eq!(clean("\\left"), "");
    }

    #[test]
    fn text_keys_ignore_case_spacing_and_single_braces() {
        assert_eq!(text_key("X^{2} + Y_{1}"), "x^2+y_1");
        assert_eq!(text_key("New York."), "newyork");
        assert_eq!(text_key("x^{12}"), "x^{12}");
    }
}
