//! Precedence climbing over the tokens: `||` < `&&` < `!` < comparisons and `in` <
//! `+ -` < `* /` < unary minus < literals, paths, calls, lists and parentheses.

use std::fmt;

use serde_json::Value as Json;

use super::lex::{Spanned, Tok};

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Node {
    Lit(Json),
    /// A field path: `contamination.benchmark`.
    Path(Vec<String>),
    List(Vec<Node>),
    Not(Box<Node>),
    Neg(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cmp(&'static str, Box<Node>, Box<Node>),
    Arith(&'static str, Box<Node>, Box<Node>),
    In(Box<Node>, Box<Node>),
    Call(Func, Vec<Node>),
}

/// The built-in functions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Func {
    /// Characters of a string, items of a list, fields of an object.
    Len,
    /// Whitespace-separated words of a string.
    Words,
    /// Lines of a string.
    Lines,
    Lower,
    /// `contains(text, part)`: substring test (or list membership).
    Contains,
    Abs,
}

const FUNCS: &[(&str, Func, usize)] = &[
    ("len", Func::Len, 1),
    ("words", Func::Words, 1),
    ("lines", Func::Lines, 1),
    ("lower", Func::Lower, 1),
    ("contains", Func::Contains, 2),
    ("abs", Func::Abs, 1),
];

/// A syntax error and the character offset it points at.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl ParseError {
    pub(super) fn at(offset: usize, message: String) -> ParseError {
        ParseError { offset, message }
    }

    /// The message with the expression and a caret under the offending place.
    pub fn show(&self, source: &str) -> String {
        let caret: String = " ".repeat(self.offset.min(source.chars().count()));
        format!("{}\n    {source}\n    {caret}^", self.message)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.offset + 1)
    }
}

/// Nesting deeper than this is refused, so a hostile expression cannot overflow the stack.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    tokens: &'a [Spanned],
    at: usize,
    end: usize,
    depth: usize,
}

pub(super) fn parse(tokens: &[Spanned], source: &str) -> Result<Node, ParseError> {
    let end = source.chars().count();
    if tokens.is_empty() {
        return Err(ParseError::at(0, "the expression is empty".into()));
    }
    let mut p = Parser {
        tokens,
        at: 0,
        end,
        depth: 0,
    };
    let node = p.or()?;
    if let Some((tok, offset)) = p.tokens.get(p.at) {
        return Err(ParseError::at(
            *offset,
            format!("unexpected {} after a complete expression", name(tok)),
        ));
    }
    Ok(node)
}

fn name(tok: &Tok) -> String {
    match tok {
        Tok::Num(n) => format!("number `{n}`"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Ident(i) => format!("`{i}`"),
        Tok::Sym(s) => format!("`{s}`"),
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(_, o)| *o)
    }

    fn eat(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(s)) if s == word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, sym: &str, what: &str) -> Result<(), ParseError> {
        if self.eat(sym) {
            return Ok(());
        }
        let found = self.peek().map_or_else(|| "the end".to_string(), name);
        Err(ParseError::at(
            self.offset(),
            format!("expected `{sym}` {what}, found {found}"),
        ))
    }

    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::at(
                self.offset(),
                format!("the expression nests more than {MAX_DEPTH} levels deep"),
            ));
        }
        let out = f(self);
        self.depth -= 1;
        out
    }

    fn or(&mut self) -> Result<Node, ParseError> {
        let mut left = self.and()?;
        while self.eat("||") || self.eat_word("or") {
            left = Node::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, ParseError> {
        let mut left = self.not()?;
        while self.eat("&&") || self.eat_word("and") {
            left = Node::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Node, ParseError> {
        if self.eat("!") || self.eat_word("not") {
            return self.nested(|p| Ok(Node::Not(Box::new(p.not()?))));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Node, ParseError> {
        let left = self.sum()?;
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            if self.eat(op) {
                let right = self.sum()?;
                return Ok(Node::Cmp(op_name(op), Box::new(left), Box::new(right)));
            }
        }
        if self.eat_word("in") {
            let right = self.sum()?;
            return Ok(Node::In(Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Node, ParseError> {
        let mut left = self.product()?;
        loop {
            let op = if self.eat("+") {
                "+"
            } else if self.eat("-") {
                "-"
            } else {
                return Ok(left);
            };
            left = Node::Arith(op, Box::new(left), Box::new(self.product()?));
        }
    }

    fn product(&mut self) -> Result<Node, ParseError> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat("*") {
                "*"
            } else if self.eat("/") {
                "/"
            } else {
                return Ok(left);
            };
            left = Node::Arith(op, Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        if self.eat("-") {
            return self.nested(|p| Ok(Node::Neg(Box::new(p.unary()?))));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Node, ParseError> {
        let offset = self.offset();
        let Some((tok, _)) = self.tokens.get(self.at).cloned() else {
            return Err(ParseError::at(
                offset,
                "the expression ends where a value was expected".into(),
            ));
        };
        self.at += 1;
        match tok {
            Tok::Num(n) => Ok(Node::Lit(number(n))),
            Tok::Str(s) => Ok(Node::Lit(Json::String(s))),
            Tok::Sym("(") => {
                let inner = self.nested(|p| p.or())?;
                self.expect(")", "to close the parenthesis")?;
                Ok(inner)
            }
            Tok::Sym("[") => {
                let mut items = Vec::new();
                if !self.eat("]") {
                    loop {
                        items.push(self.nested(|p| p.or())?);
                        if self.eat("]") {
                            break;
                        }
                        self.expect(",", "between list items")?;
                    }
                }
                Ok(Node::List(items))
            }
            Tok::Ident(word) => self.word(word, offset),
            other => Err(ParseError::at(
                offset,
                format!("expected a value, found {}", name(&other)),
            )),
        }
    }

    /// A keyword literal, a function call or a field path.
    fn word(&mut self, word: String, offset: usize) -> Result<Node, ParseError> {
        match word.as_str() {
            "true" => return Ok(Node::Lit(Json::Bool(true))),
            "false" => return Ok(Node::Lit(Json::Bool(false))),
            "null" => return Ok(Node::Lit(Json::Null)),
            _ => {}
        }
        if self.eat("(") {
            let Some(&(_, func, arity)) = FUNCS.iter().find(|(n, _, _)| *n == word) else {
                let known: Vec<&str> = FUNCS.iter().map(|(n, _, _)| *n).collect();
                return Err(ParseError::at(
                    offset,
                    format!("unknown function `{word}` (known: {})", known.join(", ")),
                ));
            };
            let mut args = Vec::new();
            if !self.eat(")") {
                loop {
                    args.push(self.nested(|p| p.or())?);
                    if self.eat(")") {
                        break;
                    }
                    self.expect(",", "between arguments")?;
                }
            }
            if args.len() != arity {
                return Err(ParseError::at(
                    offset,
                    format!(
                        "`{word}` takes {arity} argument{}, not {}",
                        if arity == 1 { "" } else { "s" },
                        args.len()
                    ),
                ));
            }
            return Ok(Node::Call(func, args));
        }
        let mut path = vec![word];
        while self.eat(".") {
            match self.tokens.get(self.at).cloned() {
                Some((Tok::Ident(part), _)) => {
                    self.at += 1;
                    path.push(part);
                }
                Some((Tok::Num(n), _)) if n.fract() == 0.0 && n >= 0.0 => {
                    // `reviews.0.credibility`: a list index.
                    self.at += 1;
                    path.push(format!("{}", n as u64));
                }
                _ => {
                    return Err(ParseError::at(
                        self.offset(),
                        "expected a field name after `.`".into(),
                    ))
                }
            }
        }
        Ok(Node::Path(path))
    }
}

fn op_name(op: &str) -> &'static str {
    match op {
        "==" => "==",
        "!=" => "!=",
        "<=" => "<=",
        ">=" => ">=",
        "<" => "<",
        _ => ">",
    }
}

/// Integers stay integers, so `count == 3` prints and compares naturally.
pub(super) fn number(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
    }
}
