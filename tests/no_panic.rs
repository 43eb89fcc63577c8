//! Property test: mutated recipes never panic the parser, formatter or checker, and every
//! mutant that still parses keeps the formatter's guarantees (idempotent, same meaning).
//!
//! Mutations are drawn from a fixed-seed generator over the example recipes and fixtures,
//! so a failure reproduces; the failing mutant is printed in full.

mod support;

use std::path::Path;

use dtac_interpreter::{check_text, CheckOptions};

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments that sit at the edges of the grammar.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "\"\"\"",
    "=",
    ":",
    ",",
    ".",
    "#",
    "\n",
    " ",
    "\\",
    "{{",
    "}}",
    "\\{{",
    "env(",
    "stage",
    "prompt",
    "teacher",
    "-",
    "1e999",
    "99999999999999999999",
    "10ms",
    "true",
    "é",
    "\u{2000}",
    "\r\n",
    "\t",
    "x.y.z",
    "?",
    "list[",
    "import \"x.dta\"\n",
];

fn mutate(src: &str, rng: &mut Rng) -> String {
    let mut bytes = src.as_bytes().to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            0 => {
                let end = (at + 1 + rng.below(12)).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            1 | 2 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                bytes.splice(at..at, token.iter().copied());
            }
            3 => bytes.truncate(at),
            4 => {
                // Duplicate a slice somewhere else (repeated names, nested brackets).
                let end = (at + rng.below(40)).min(bytes.len());
                let piece = bytes[at..end].to_vec();
                let to = rng.below(bytes.len() + 1);
                bytes.splice(to..to, piece);
            }
            _ => {
                if at < bytes.len() {
                    bytes[at] = (rng.next() & 0x7f) as u8;
                }
            }
        }
    }
    // Recipes are read as UTF-8; invalid bytes are the loader's business (tested in cli.rs).
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn mutated_recipes_never_panic_and_formatting_keeps_its_guarantees() {
    let registry = dtac_stdlib::registry();
    let mut seeds: Vec<_> = support::fixtures("recipes", "dta");
    seeds.extend(support::fixtures("tests/fixtures/check", "dta"));
    let mut rng = Rng(0x00D7_AC5E_ED00_0001);
    let mut parsed = 0;
    let mut total = 0;
    for seed in &seeds {
        let original = std::fs::read_to_string(seed).unwrap();
        for _ in 0..150 {
            let mutant = mutate(&original, &mut rng);
            total += 1;
            let outcome = std::panic::catch_unwind(|| {
                let options = CheckOptions {
                    env_present: Box::new(|_| true),
                    ..CheckOptions::default()
                };
                check_text(Path::new("mutant.dta"), &mutant, &registry, &options);
                let Ok(before) = dtac_grammar::parse(&mutant) else {
                    return false;
                };
                let once =
                    dtac_grammar::format::format_source(&mutant).expect("parsed, so formats");
                let after = dtac_grammar::parse(&once).expect("formatted output parses");
                assert!(before == after, "formatting changed the meaning");
                let twice = dtac_grammar::format::format_source(&once).expect("parses");
                assert_eq!(once, twice, "formatting is not idempotent");
                true
            });
            match outcome {
                Ok(ok) => parsed += usize::from(ok),
                Err(_) => panic!(
                    "panic on a mutant of {}:\n-----\n{mutant}\n-----",
                    seed.display()
                ),
            }
        }
    }
    // The mutations must exercise both paths, or this test proves little.
    assert!(
        parsed > total / 10 && parsed < total * 9 / 10,
        "{parsed} of {total} mutants parsed"
    );
}

#[test]
fn formatter_fixpoint_on_every_fixture_and_recipe() {
    let mut files = support::fixtures("recipes", "dta");
    files.extend(support::fixtures("recipes/lib", "dta"));
    files.extend(support::fixtures("tests/fixtures/check", "dta"));
    files.extend(support::fixtures("tests/fixtures/check/imports", "dta"));
    let mut formatted = 0;
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        let Ok(before) = dtac_grammar::parse(&source) else {
            continue;
        };
        let once = dtac_grammar::format::format_source(&source).unwrap();
        let twice = dtac_grammar::format::format_source(&once).unwrap();
        assert_eq!(once, twice, "{}: fmt(fmt(x)) != fmt(x)", file.display());
        let after = dtac_grammar::parse(&once).unwrap();
        assert!(
            before == after,
            "{}: formatting changed the meaning",
            file.display()
        );
        assert_eq!(
            before.comments.0.len(),
            after.comments.0.len(),
            "{}: comments lost",
            file.display()
        );
        formatted += 1;
    }
    assert!(formatted >= 30, "only {formatted} files parsed");
}
