//! Numeric answers written as small expressions, evaluated to a float: integers and
//! decimals, `e` notation, `+ - * / \cdot \times \div ×·÷`, powers `^{...}`, `\frac{a}{b}`
//! (also `\frac12`), `\sqrt{x}`, `\sqrt[n]{x}`, `√`, `\pi`, `π`, parentheses and braces,
//! and implicit products before `\sqrt`, `\pi`, `\frac` or a bracket (`2\sqrt{3}`, `3\pi`).
//! An integer directly before `\frac` of two integers is a mixed number: `2\frac{1}{2}` is
//! 2.5.
//!
//! Anything else (a variable, a function name) makes the text not a number. Results that
//! are not finite (`10^{99999}`, `1/0`, `\sqrt{-1}`) are not numbers either, and nesting is
//! bounded, so no input can hang or exhaust the stack.

/// How deep parentheses, braces and arguments may nest.
const MAX_DEPTH: u32 = 48;

/// The syntax a number was written in, which names the rule that compared it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// `/`, `\frac` or `\div`.
    pub fraction: bool,
    /// `\sqrt` or `\pi`.
    pub radical: bool,
    /// `e` notation or a power of ten (`1.2 \times 10^{3}`).
    pub scientific: bool,
}

impl Style {
    pub fn union(self, other: Style) -> Style {
        Style {
            fraction: self.fraction || other.fraction,
            radical: self.radical || other.radical,
            scientific: self.scientific || other.scientific,
        }
    }
}

/// The value of the expression `s`, or `None` when it is not one (or not finite).
pub fn evaluate(s: &str) -> Option<(f64, Style)> {
    let mut p = Parser {
        c: s.chars().collect(),
        i: 0,
        depth: 0,
        style: Style::default(),
    };
    let value = p.expr()?;
    p.ws();
    (p.i == p.c.len() && value.is_finite()).then_some((value, p.style))
}

struct Parser {
    c: Vec<char>,
    i: usize,
    depth: u32,
    style: Style,
}

/// Fails unless `v` is finite, so that overflow stops evaluation at once.
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

impl Parser {
    fn ws(&mut self) {
        while self.c.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.ws();
        self.c.get(self.i).copied()
    }

    fn eat(&mut self, ch: char) -> bool {
        if self.peek() == Some(ch) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Whether the command `\name` (not followed by another letter) comes next.
    fn at_command(&mut self, name: &str) -> bool {
        self.ws();
        if self.c.get(self.i) != Some(&'\\') {
            return false;
        }
        let mut j = self.i + 1;
        for want in name.chars() {
            if self.c.get(j) != Some(&want) {
                return false;
            }
            j += 1;
        }
        !self.c.get(j).is_some_and(|c| c.is_ascii_alphabetic())
    }

    fn eat_command(&mut self, name: &str) -> bool {
        if self.at_command(name) {
            self.i += 1 + name.chars().count();
            true
        } else {
            false
        }
    }

    /// Runs `f` one nesting level deeper.
    fn nested(&mut self, f: impl FnOnce(&mut Parser) -> Option<f64>) -> Option<f64> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let v = f(self);
        self.depth -= 1;
        v
    }

    /// expr := term (('+' | '-') term)*
    fn expr(&mut self) -> Option<f64> {
        let mut v = self.term()?;
        loop {
            if self.eat('+') {
                v = finite(v + self.term()?)?;
            } else if self.eat('-') {
                v = finite(v - self.term()?)?;
            } else {
                return Some(v);
            }
        }
    }

    /// term := factor ((mulop factor) | (implicit factor))*
    fn term(&mut self) -> Option<f64> {
        let mut v = self.factor()?;
        loop {
            if self.eat('*')
                || self.eat('×')
                || self.eat('·')
                || self.eat_command("cdot")
                || self.eat_command("times")
            {
                v = finite(v * self.factor()?)?;
            } else if self.eat('/') || self.eat('÷') || self.eat_command("div") {
                self.style.fraction = true;
                v = finite(v / self.factor()?)?;
            } else if self.implicit_product_next() {
                v = finite(v * self.factor()?)?;
            } else {
                return Some(v);
            }
        }
    }

    /// A product without a sign: `2\sqrt{3}`, `3\pi`, `2(1+x)`. Never before a digit, so
    /// that `1 000` is not read as a product.
    fn implicit_product_next(&mut self) -> bool {
        matches!(self.peek(), Some('(' | '{' | 'π' | '√'))
            || self.at_command("sqrt")
            || self.at_command("pi")
            || self.at_command("frac")
    }

    /// factor := ('-' | '+') factor | atom ('^' exponent)?
    fn factor(&mut self) -> Option<f64> {
        if self.eat('-') {
            return self.nested(|p| p.factor().map(|v| -v));
        }
        if self.eat('+') {
            return self.nested(Parser::factor);
        }
        let (base, ten) = self.atom()?;
        if !self.eat('^') {
            return Some(base);
        }
        if ten {
            self.style.scientific = true;
        }
        let exponent = self.exponent()?;
        finite(base.powf(exponent))
    }

    /// `{expr}`, or a signed integer written plainly (`10^-3`, `2^10`).
    fn exponent(&mut self) -> Option<f64> {
        if self.eat('{') {
            return self.group('}');
        }
        let negative = self.eat('-');
        if !negative {
            self.eat('+');
        }
        let start = self.i;
        while self.c.get(self.i).is_some_and(char::is_ascii_digit) {
            self.i += 1;
        }
        if self.i == start {
            return None;
        }
        let digits: String = self.c[start..self.i].iter().collect();
        let v: f64 = digits.parse().ok()?;
        Some(if negative { -v } else { v })
    }

    /// An expression up to the closing `close`.
    fn group(&mut self, close: char) -> Option<f64> {
        self.nested(|p| {
            let v = p.expr()?;
            p.eat(close).then_some(v)
        })
    }

    /// atom := literal | '\pi' | 'π' | '\sqrt' ['[' expr ']'] arg | '√' arg
    ///       | '\frac' arg arg | '(' expr ')' | '{' expr '}'
    /// Also says whether the atom is the literal `10` (a power of ten is scientific).
    fn atom(&mut self) -> Option<(f64, bool)> {
        match self.peek()? {
            '(' => {
                self.i += 1;
                return self.group(')').map(|v| (v, false));
            }
            '{' => {
                self.i += 1;
                return self.group('}').map(|v| (v, false));
            }
            'π' => {
                self.i += 1;
                self.style.radical = true;
                return Some((std::f64::consts::PI, false));
            }
            '√' => {
                self.i += 1;
                self.style.radical = true;
                let x = self.arg()?;
                return root(x, 2.0).map(|v| (v, false));
            }
            c if c.is_ascii_digit() || c == '.' => return self.literal(),
            _ => {}
        }
        if self.eat_command("pi") {
            self.style.radical = true;
            return Some((std::f64::consts::PI, false));
        }
        if self.eat_command("sqrt") {
            self.style.radical = true;
            let index = if self.eat('[') { self.group(']')? } else { 2.0 };
            let x = self.arg()?;
            return root(x, index).map(|v| (v, false));
        }
        if self.eat_command("frac") {
            self.style.fraction = true;
            let num = self.arg()?;
            let den = self.arg()?;
            return finite(num / den).map(|v| (v, false));
        }
        None
    }

    /// A command argument: `{expr}`, or one digit or `\pi` (`\frac12`, `\sqrt3`).
    fn arg(&mut self) -> Option<f64> {
        if self.eat('{') {
            return self.group('}');
        }
        if self.eat_command("pi") || self.eat('π') {
            self.style.radical = true;
            return Some(std::f64::consts::PI);
        }
        let d = self.peek()?.to_digit(10)?;
        self.i += 1;
        Some(f64::from(d))
    }

    /// digits ['.' digits] [('e' | 'E') ['+' | '-'] digits], or '.' digits; a mixed
    /// number when an integer is followed by `\frac` of two integers.
    fn literal(&mut self) -> Option<(f64, bool)> {
        let start = self.i;
        let digits = |p: &mut Parser| {
            let from = p.i;
            while p.c.get(p.i).is_some_and(char::is_ascii_digit) {
                p.i += 1;
            }
            p.i > from
        };
        let whole = digits(self);
        let mut integer = whole;
        if self.c.get(self.i) == Some(&'.')
            && self.c.get(self.i + 1).is_some_and(char::is_ascii_digit)
        {
            self.i += 1;
            digits(self);
            integer = false;
        }
        if !whole && integer {
            return None;
        }
        if matches!(self.c.get(self.i), Some('e' | 'E')) {
            let mut j = self.i + 1;
            if matches!(self.c.get(j), Some('+' | '-')) {
                j += 1;
            }
            if self.c.get(j).is_some_and(char::is_ascii_digit) {
                self.i = j;
                digits(self);
                integer = false;
                self.style.scientific = true;
            }
        }
        let text: String = self.c[start..self.i].iter().collect();
        let value = finite(text.parse::<f64>().ok()?)?;
        if integer && self.at_command("frac") {
            if let Some(v) = self.mixed(value) {
                return Some((v, false));
            }
        }
        Some((value, text == "10"))
    }

    /// `whole \frac{a}{b}` with integers `a` and `b`: whole + a/b. Restores the position
    /// and gives `None` otherwise (then it is a product).
    fn mixed(&mut self, whole: f64) -> Option<f64> {
        let at = self.i;
        let saved = self.style;
        let part = (|| {
            self.eat_command("frac");
            let num = self.integer_arg()?;
            let den = self.integer_arg()?;
            finite(whole + num / den)
        })();
        if part.is_none() {
            self.i = at;
            self.style = saved;
        } else {
            self.style.fraction = true;
        }
        part
    }

    /// `{digits}` or one digit.
    fn integer_arg(&mut self) -> Option<f64> {
        let braced = self.eat('{');
        self.ws();
        let start = self.i;
        while self.c.get(self.i).is_some_and(char::is_ascii_digit) {
            self.i += 1;
            if !braced {
                break;
            }
        }
        if self.i == start || (braced && !self.eat('}')) {
            return None;
        }
        let digits: String = self.c[start..self.i]
            .iter()
            .filter(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok()
    }
}

/// The `index`-th root of a non-negative `x`.
fn root(x: f64, index: f64) -> Option<f64> {
    if x < 0.0 || index <= 0.0 {
        return None;
    }
    finite(if index == 2.0 {
        x.sqrt()
    } else {
        x.powf(1.0 / index)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> Option<f64> {
        evaluate(s).map(|(v, _)| v)
    }

    fn near(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12 * b.abs().max(1.0))
    }

    #[test]
    fn expressions_evaluate() {
        let third = 1.0 / 3.0;
        let cases = [
            ("42", 42.0),
            ("-3.5", -3.5),
            (".5", 0.5),
            ("1.2e3", 1200.0),
            ("1.2 \\times 10^{3}", 1200.0),
            ("1.2\\cdot10^-3", 0.0012),
            ("\\frac{1}{3}", third),
            ("\\frac13", third),
            ("\\frac1{3}", third),
            ("-\\frac{2}{4}", -0.5),
            ("2\\sqrt{3}", 2.0 * 3f64.sqrt()),
            ("\\frac{\\sqrt{2}}{2}", 2f64.sqrt() / 2.0),
            ("3\\pi", 3.0 * std::f64::consts::PI),
            ("\\pi/2", std::f64::consts::FRAC_PI_2),
            ("\\sqrt[3]{8}", 2.0),
            ("(1+\\sqrt{5})/2", (1.0 + 5f64.sqrt()) / 2.0),
            ("2\\frac{1}{2}", 2.5),
            ("-2\\frac12", -2.5),
            ("2\\frac{\\pi}{2}", std::f64::consts::PI),
            ("2^{10}", 1024.0),
            ("-2^2", -4.0),
            ("√2", 2f64.sqrt()),
            ("3 × 4", 12.0),
        ];
        for (s, want) in cases {
            assert!(near(value(s), want), "{s}: {:?} != {want}", value(s));
        }
    }

    #[test]
    fn styles_name_the_syntax() {
        let style = |s| evaluate(s).map(|(_, st)| st).unwrap_or_default();
        assert!(style("1/2").fraction);
        assert!(style("\\sqrt{2}").radical);
        assert!(style("3\\pi").radical);
        assert!(style("1e-3").scientific);
        assert!(style("5 \\times 10^{2}").scientific);
        assert!(!style("2^{10}").scientific);
        assert_eq!(style("12.5"), Style::default());
    }

    #[test]
    fn non_numbers_and_overflow_are_refused() {
        for s in [
            "x",
            "2x",
            "1 000",
            "10^{99999}",
            "1/0",
            "\\sqrt{-1}",
            "2e",
            "",
            "(",
            "1+",
            "\\frac{1}",
            "\\sin 3",
            "1e999",
            "{{{{1}}}}}",
        ] {
            assert_eq!(value(s), None, "{s}");
        }
        let deep = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
        assert_eq!(value(&deep), None);
        let deep_minus = "-".repeat(5000) + "1";
        assert_eq!(value(&deep_minus), None);
    }
}
