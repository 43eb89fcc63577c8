//! Random recipes with comments, blank lines and odd spacing between every pair of tokens,
//! checked against the three guarantees. A fixed seed keeps failures reproducible.

use super::check;

/// xorshift64: enough randomness for shaping inputs, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

struct Gen {
    rng: Rng,
    tokens: Vec<String>,
}

impl Gen {
    fn tok(&mut self, t: &str) {
        self.tokens.push(t.to_string());
    }

    fn name(&mut self) {
        let n = self.rng.pick(&[
            "a",
            "gpt",
            "to",
            "stage",
            "a_rather_long_name_for_width_tests",
        ]);
        self.tok(n);
    }

    fn string(&mut self) {
        if self.rng.chance(25) {
            let base = self.rng.pick(&["", "  ", "\t", "      "]);
            let mut s = format!("\"\"\"{}\n", self.rng.pick(&["", "  "]));
            for _ in 0..self.rng.below(4) {
                let line = self
                    .rng
                    .pick(&["", "x y", "  z", "# h", "{{v}}", "\tq", "a\"\"b", "   "]);
                s.push_str(&format!("{base}{line}\n"));
            }
            s.push_str(self.rng.pick(&["", "  ", "\t"]));
            s.push_str("\"\"\"");
            self.tokens.push(s);
        } else {
            let s = self
                .rng
                .pick(&[r#""a""#, r#""""#, r#""x\ny""#, r#""q\" \\""#, r#""\u{1}é""#]);
            self.tok(s);
        }
    }

    fn ty(&mut self) {
        if self.rng.chance(30) {
            self.tok("list");
            self.tok("[");
            self.ty();
            self.tok("]");
        } else {
            let n = self.rng.pick(&["int", "str", "float"]);
            self.tok(n);
        }
        if self.rng.chance(30) {
            self.tok("?");
        }
    }

    fn expr(&mut self, depth: usize) {
        let kinds = if depth > 2 { 6 } else { 10 };
        match self.rng.below(kinds) {
            0 => {
                let n = self
                    .rng
                    .pick(&["1", "-4", "0.5", "1e-4", "30s", "250ms", "true", "false"]);
                self.tok(n);
            }
            1 => {
                let n =
                    self.rng
                        .pick(&["gpt", "a.b", "x.y.z", "env", "a_rather_long_reference_name"]);
                self.tok(n);
            }
            2 | 3 => self.string(),
            4 | 5 => {
                self.tok("env");
                self.tok("(");
                self.string();
                if self.rng.chance(50) {
                    self.tok(",");
                    self.expr(depth + 1);
                }
                if self.rng.chance(20) {
                    self.tok(",");
                }
                self.tok(")");
            }
            6 => {
                self.tok("[");
                self.list(depth + 1);
                self.tok("]");
            }
            7 | 8 => self.block(depth + 1),
            _ => {
                self.tok("{");
                for i in 0..1 + self.rng.below(3) {
                    if i > 0 && self.rng.chance(50) {
                        self.tok(",");
                    }
                    self.name();
                    self.tok(":");
                    self.ty();
                }
                self.tok("}");
            }
        }
    }

    fn list(&mut self, depth: usize) {
        let n = self.rng.below(4);
        for i in 0..n {
            if i > 0 {
                self.tok(",");
            }
            self.expr(depth);
        }
        if n > 0 && self.rng.chance(30) {
            self.tok(",");
        }
    }

    fn block(&mut self, depth: usize) {
        self.tok("{");
        let n = self.rng.below(4);
        for i in 0..n {
            if i > 0 && self.rng.chance(50) {
                self.tok(",");
            }
            self.name();
            self.tok("=");
            self.expr(depth);
        }
        if n > 0 && self.rng.chance(20) {
            self.tok(",");
        }
        self.tok("}");
    }

    fn item(&mut self) {
        match self.rng.below(7) {
            0 => {
                self.tok("version");
                self.tok("=");
                self.tok("1");
            }
            1 => {
                self.tok("import");
                self.string();
            }
            2 => {
                self.tok("param");
                self.name();
                self.tok(":");
                self.ty();
                if self.rng.chance(60) {
                    self.tok("=");
                    self.expr(0);
                }
            }
            3 => {
                let kw = self.rng.pick(&["teacher", "student"]);
                self.tok(kw);
                self.name();
                self.block(0);
            }
            4 => {
                let kw = self.rng.pick(&["dataset", "stage", "objective"]);
                self.tok(kw);
                self.name();
                self.tok(":");
                self.name();
                if self.rng.chance(60) {
                    self.tok("(");
                    self.list(0);
                    self.tok(")");
                }
                if self.rng.chance(60) {
                    self.block(0);
                }
            }
            5 => {
                self.tok("prompt");
                self.name();
                self.string();
            }
            _ => {
                self.tok("export");
                self.name();
                self.tok("to");
                self.string();
                self.tok("as");
                self.name();
                if self.rng.chance(50) {
                    self.block(0);
                }
            }
        }
    }

    /// Join the tokens with random whitespace, blank lines and comments.
    fn source(&mut self) -> String {
        let mut out = String::new();
        let mut comment = 0;
        for (i, t) in std::mem::take(&mut self.tokens).iter().enumerate() {
            if i > 0 || self.rng.chance(20) {
                match self.rng.below(12) {
                    0 => {
                        comment += 1;
                        out.push_str(&format!(" # c{comment}  \n"));
                    }
                    1 => {
                        comment += 1;
                        out.push_str(&format!("\n\n  # own {comment}\n\n\n  "));
                    }
                    2 => out.push('\n'),
                    3 => out.push_str("\n\n\n"),
                    4 => out.push('\t'),
                    _ => out.push(' '),
                }
            }
            out.push_str(t);
        }
        if self.rng.chance(30) {
            out.push_str("  # tail\n\n");
        }
        out
    }
}

#[test]
fn random_recipes_keep_the_guarantees() {
    let mut g = Gen {
        rng: Rng(0x2545_f491_4f6c_dd1d),
        tokens: Vec::new(),
    };
    for _ in 0..3000 {
        for _ in 0..g.rng.below(5) {
            g.item();
        }
        let src = g.source();
        check(&src);
    }
}
