//! Tokens of an expression, each with its character offset for error messages.

use super::ParseError;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    /// Operators and punctuation: `&&`, `||`, `!`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `+`,
    /// `-`, `*`, `/`, `(`, `)`, `[`, `]`, `,`, `.`.
    Sym(&'static str),
}

/// A token and where it starts (in characters).
pub(super) type Spanned = (Tok, usize);

const SYMBOLS: &[&str] = &[
    "&&", "||", "==", "!=", "<=", ">=", "!", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",",
    ".",
];

pub(super) fn tokens(source: &str) -> Result<Vec<Spanned>, ParseError> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || chars[i] == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
            {
                i += 1;
            }
            if i < chars.len() && matches!(chars[i], 'e' | 'E') {
                let mut j = i + 1;
                if j < chars.len() && matches!(chars[j], '+' | '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text: String = chars[start..i].iter().collect();
            let n = text
                .parse::<f64>()
                .map_err(|_| ParseError::at(start, format!("`{text}` is not a number")))?;
            out.push((Tok::Num(n), start));
        } else if c == '"' || c == '\'' {
            let start = i;
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(ParseError::at(
                            start,
                            format!("the string starting here is not closed with {c}"),
                        ))
                    }
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        match chars.get(i + 1) {
                            Some('n') => text.push('\n'),
                            Some('t') => text.push('\t'),
                            Some(&e) => text.push(e),
                            None => {}
                        }
                        i += 2;
                    }
                    Some(&ch) => {
                        text.push(ch);
                        i += 1;
                    }
                }
            }
            out.push((Tok::Str(text), start));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Tok::Ident(chars[start..i].iter().collect()), start));
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let Some(sym) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) else {
                let hint = match c {
                    '=' => " (compare with `==`)",
                    '&' => " (write `&&`)",
                    '|' => " (write `||`)",
                    _ => "",
                };
                return Err(ParseError::at(i, format!("unexpected `{c}`{hint}")));
            };
            out.push((Tok::Sym(sym), i));
            i += sym.chars().count();
        }
    }
    Ok(out)
}
