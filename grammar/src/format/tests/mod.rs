//! Formatter tests: the guarantees (comments kept, idempotent, meaning unchanged) on many
//! inputs, and the canonical look on a few exact outputs.

mod expected;
mod fuzz;
mod guarantees;

use crate::format::format_source;
use crate::parse;

/// Format `src`, assert the three guarantees, and return the output.
fn check(src: &str) -> String {
    let once = format_source(src).unwrap_or_else(|e| panic!("input does not parse: {e:?}\n{src}"));
    let twice = format_source(&once).unwrap_or_else(|e| {
        panic!("output does not parse: {e:?}\n--- input\n{src}\n--- output\n{once}")
    });
    assert_eq!(once, twice, "not idempotent\n--- input\n{src}");
    let before = parse(src).expect("parsed above");
    let after = parse(&once).expect("parsed above");
    // AST equality ignores spans and layout hints: it compares meaning.
    assert_eq!(
        before, after,
        "meaning changed\n--- input\n{src}\n--- output\n{once}"
    );
    let mut texts_before: Vec<&str> = before.comments.0.iter().map(|c| c.text.as_str()).collect();
    let mut texts_after: Vec<&str> = after.comments.0.iter().map(|c| c.text.as_str()).collect();
    texts_before.sort_unstable();
    texts_after.sort_unstable();
    assert_eq!(
        texts_before, texts_after,
        "comments lost\n--- input\n{src}\n--- output\n{once}"
    );
    assert!(once.is_empty() || (once.ends_with('\n') && !once.ends_with("\n\n")));
    assert!(!once.starts_with('\n'));
    once
}
