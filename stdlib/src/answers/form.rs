//! The shape of an answer: a number, yes/no, an interval (or a union of them), a tuple, a
//! set, a bare list, or text. Parsing is on [`clean`]ed text; anything that fits no shape
//! is text, compared by its [`text_key`].
//!
//! Brackets decide the shape: `{…}` is a set; `(…)` and `[…]` with one element are just
//! grouping; `[a, b)`, `(a, b]`, `[a, b]` and any pair with `\infty` are intervals;
//! other `(…)` and `[…]` are tuples (so `(1, 2)` is a tuple, which compares equal to the
//! open interval with the same ends); `a, b` without brackets is a list (also joined by
//! `;`, ` or `, ` and `) when each element has a known shape.

use super::normalize::{clean, text_key};
use super::scalar::{scalar, Num};

/// Longer answers (in characters) are compared as text only, which bounds parsing work.
const MAX_LEN: usize = 2_000;
/// How deep brackets may nest before the rest is read as text.
const MAX_DEPTH: u32 = 12;
/// Longer tuples, sets and lists are read as text.
const MAX_ITEMS: usize = 256;

/// A parsed answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Form {
    Num(Num),
    /// yes/true or no/false.
    Bool(bool),
    /// One interval, or the intervals of a union (`\cup`).
    Intervals(Vec<Interval>),
    /// `(a, b, c)` or `[a, b, c]`: ordered.
    Tuple(Vec<Form>),
    /// `{a, b}`: unordered.
    Set(Vec<Form>),
    /// `a, b` without brackets: unordered, or ordered against a tuple.
    List(Vec<Form>),
    /// Anything else, as its text key.
    Text(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Interval {
    pub lo: End,
    pub hi: End,
    pub lo_closed: bool,
    pub hi_closed: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum End {
    NegInf,
    PosInf,
    Num(Num),
}

/// An answer's form, and its text key (used when either side of a comparison is text).
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    pub form: Form,
    pub key: String,
}

pub fn parse(raw: &str) -> Parsed {
    let cleaned = clean(raw);
    let stripped = strip_var(&cleaned);
    let key = text_key(stripped);
    let form = if stripped.chars().count() > MAX_LEN {
        Form::Text(key.clone())
    } else {
        form_of(stripped, 0)
    };
    Parsed { form, key }
}

fn form_of(s: &str, depth: u32) -> Form {
    let s = strip_var(s.trim());
    if depth > MAX_DEPTH {
        return Form::Text(text_key(s));
    }
    if let Some(f) = word(s) {
        return f;
    }
    if let Some(f) = bracketed(s, depth) {
        return f;
    }
    if let Some(n) = scalar(s) {
        return Form::Num(n);
    }
    if let Some(f) = union(s, depth) {
        return f;
    }
    if let Some(f) = list(s, depth) {
        return f;
    }
    Form::Text(text_key(s))
}

/// Answers that are one word: yes/no, true/false, the empty set.
fn word(s: &str) -> Option<Form> {
    match text_key(s).as_str() {
        "yes" | "true" => Some(Form::Bool(true)),
        "no" | "false" => Some(Form::Bool(false)),
        "\\emptyset" | "\\varnothing" | "∅" => Some(Form::Set(Vec::new())),
        _ => None,
    }
}

/// `x = 5` → `5`, `x \in [0, 1]` → `[0, 1]`: the right side of the only top-level `=`
/// (or `\in`) when the left side is a variable name (`x`, `y_1`, `\theta`, `a'`).
pub fn strip_var(s: &str) -> &str {
    let mut found = None;
    let mut depth = 0i32;
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'=' if depth == 0 => {
                let joined = matches!(bytes.get(i + 1), Some(b'='))
                    || (i > 0 && matches!(bytes[i - 1], b'=' | b'<' | b'>' | b'!'));
                if joined || found.is_some() {
                    return s;
                }
                found = Some((i, i + 1));
            }
            b'\\' if depth == 0 && s[i..].starts_with("\\in") => {
                let after = bytes.get(i + 3);
                if !after.is_some_and(u8::is_ascii_alphabetic) {
                    if found.is_some() {
                        return s;
                    }
                    found = Some((i, i + 3));
                }
            }
            _ => {}
        }
    }
    match found {
        Some((at, after)) if is_var(s[..at].trim()) => s[after..].trim(),
        _ => s,
    }
}

fn is_var(s: &str) -> bool {
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_alphabetic() || c == '\\');
    first_ok
        && s.chars().count() <= 16
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '{' | '}' | '\\' | '\''))
}

/// A bracketed answer: a set, an interval, a tuple, or a grouped single element.
fn bracketed(s: &str, depth: u32) -> Option<Form> {
    let c: Vec<char> = s.chars().collect();
    let (&first, &last) = (c.first()?, c.last()?);
    if !matches!(first, '(' | '[' | '{') || !matches!(last, ')' | ']' | '}') || !wraps(&c) {
        return None;
    }
    let inner: String = c[1..c.len() - 1].iter().collect();
    let items = split_top(&inner, &[',', ';']);
    if items.len() > MAX_ITEMS {
        return None;
    }
    let forms =
        |items: &[String]| -> Vec<Form> { items.iter().map(|i| form_of(i, depth + 1)).collect() };
    match (first, last) {
        ('{', '}') if inner.trim().is_empty() => Some(Form::Set(Vec::new())),
        // Braces around one element are grouping, as in `{5}` left by LaTeX.
        ('{', '}') if items.len() == 1 => Some(form_of(&inner, depth + 1)),
        ('{', '}') => Some(Form::Set(forms(&items))),
        ('{', _) | (_, '}') => None,
        _ if items.len() == 2 => {
            let infinite = items.iter().any(|i| infinity(i).is_some());
            if first == '[' || last == ']' || infinite {
                let lo = end(&items[0])?;
                let hi = end(&items[1])?;
                return Some(Form::Intervals(vec![Interval {
                    lo,
                    hi,
                    lo_closed: first == '[',
                    hi_closed: last == ']',
                }]));
            }
            Some(Form::Tuple(forms(&items)))
        }
        ('(', ')') | ('[', ']') if items.len() == 1 => Some(form_of(&inner, depth + 1)),
        ('(', ')') | ('[', ']') => Some(Form::Tuple(forms(&items))),
        _ => None,
    }
}

/// Whether the bracket opened by the first character closes at the last one.
fn wraps(c: &[char]) -> bool {
    let mut depth = 0i32;
    for (i, ch) in c.iter().enumerate() {
        match ch {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if depth <= 0 && i + 1 < c.len() {
            return false;
        }
    }
    depth == 0
}

/// `s` split at top-level separators (outside any bracket).
fn split_top(s: &str, separators: &[char]) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    for ch in s.chars() {
        match ch {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if depth == 0 && separators.contains(&ch) {
            out.push(std::mem::take(&mut current));
        } else {
            current.push(ch);
        }
    }
    out.push(current);
    out
}

/// `s` split at top-level occurrences of `word` (ASCII).
fn split_top_word<'a>(s: &'a str, word: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut from = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
        let at_word = depth == 0
            && s.is_char_boundary(i)
            && s[i..].starts_with(word)
            && !bytes.get(i + word.len()).is_some_and(|b| {
                word.ends_with(|c: char| c.is_ascii_alphabetic()) && b.is_ascii_alphabetic()
            });
        if at_word {
            out.push(&s[from..i]);
            i += word.len();
            from = i;
        } else {
            i += 1;
        }
    }
    out.push(&s[from..]);
    out
}

/// An interval end: a finite number or an infinity.
fn end(s: &str) -> Option<End> {
    if let Some(e) = infinity(s) {
        return Some(e);
    }
    let n = scalar(s)?;
    n.value.is_finite().then_some(End::Num(n))
}

fn infinity(s: &str) -> Option<End> {
    let t = s.trim();
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.trim()),
        None => (false, t.strip_prefix('+').unwrap_or(t).trim()),
    };
    let infinite = matches!(
        body.to_ascii_lowercase().as_str(),
        "\\infty" | "∞" | "inf" | "infinity" | "\\infin"
    );
    infinite.then_some(if negative { End::NegInf } else { End::PosInf })
}

/// `A \cup B` (or `∪`) where every part is an interval.
fn union(s: &str, depth: u32) -> Option<Form> {
    let spaced = s.replace('∪', " \\cup ");
    let parts = split_top_word(&spaced, "\\cup");
    if parts.len() < 2 || parts.len() > MAX_ITEMS {
        return None;
    }
    let mut all = Vec::new();
    for part in parts {
        match form_of(part, depth + 1) {
            Form::Intervals(v) => all.extend(v),
            Form::Tuple(t) => all.push(open_interval(&t)?),
            _ => return None,
        }
    }
    Some(Form::Intervals(all))
}

/// A pair of numbers `(a, b)` read as the open interval it also denotes.
pub fn open_interval(items: &[Form]) -> Option<Interval> {
    match items {
        [Form::Num(a), Form::Num(b)] => Some(Interval {
            lo: End::Num(a.clone()),
            hi: End::Num(b.clone()),
            lo_closed: false,
            hi_closed: false,
        }),
        _ => None,
    }
}

/// `a, b` (or `;`, ` or `, ` and `) without brackets, when every element has a shape.
fn list(s: &str, depth: u32) -> Option<Form> {
    let mut items = split_top(s, &[',', ';']);
    if items.len() < 2 {
        items = split_top_word(s, " or ")
            .into_iter()
            .map(str::to_string)
            .collect();
    }
    if items.len() < 2 {
        items = split_top_word(s, " and ")
            .into_iter()
            .map(str::to_string)
            .collect();
    }
    if items.len() < 2 || items.len() > MAX_ITEMS {
        return None;
    }
    let forms: Vec<Form> = items.iter().map(|i| form_of(i, depth + 1)).collect();
    let known = forms.iter().all(|f| !matches!(f, Form::Text(_)));
    known.then_some(Form::List(forms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(s: &str) -> &'static str {
        match parse(s).form {
            Form::Num(_) => "num",
            Form::Bool(_) => "bool",
            Form::Intervals(_) => "interval",
            Form::Tuple(_) => "tuple",
            Form::Set(_) => "set",
            Form::List(_) => "list",
            Form::Text(_) => "text",
        }
    }

    #[test]
    fn brackets_decide_the_shape() {
        let cases = [
            ("5", "num"),
            ("(5)", "num"),
            ("{5}", "num"),
            ("(1, 2)", "tuple"),
            ("[1, 2, 3]", "tuple"),
            ("[1, 2)", "interval"),
            ("(-\\infty, 3)", "interval"),
            ("(0,1) \\cup (2,3)", "interval"),
            ("\\{1, 2\\}", "set"),
            ("\\emptyset", "set"),
            ("{}", "set"),
            ("1, 2", "list"),
            ("x = 1 or x = 2", "list"),
            ("red, green", "text"),
            ("(1,2)(3,4)", "text"),
            ("Yes", "bool"),
            ("x^2+1", "text"),
            ("[1, 2}", "text"),
        ];
        for (s, want) in cases {
            assert_eq!(shape(s), want, "{s}");
        }
    }

    #[test]
    fn variables_are_stripped_only_when_they_are_names() {
        assert_eq!(strip_var("x = 5"), "5");
        assert_eq!(strip_var("\\theta=\\pi"), "\\pi");
        assert_eq!(strip_var("x \\in (0, 1)"), "(0, 1)");
        assert_eq!(strip_var("x^2 + y^2 = 1"), "x^2 + y^2 = 1");
        assert_eq!(strip_var("x = y = 2"), "x = y = 2");
        assert_eq!(strip_var("a <= 3"), "a <= 3");
        assert_eq!(strip_var("\\int x"), "\\int x");
        assert_eq!(strip_var("5 = 5"), "5 = 5");
    }

    #[test]
    fn nesting_and_length_are_bounded() {
        let deep = format!("{}1{}", "(".repeat(3000), ")".repeat(3000));
        assert_eq!(shape(&deep), "text");
        let wide = vec!["1"; 5000].join(",");
        assert_eq!(shape(&wide), "text");
    }
}
