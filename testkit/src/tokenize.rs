//! The toy tokenizer and its deterministic log-probabilities.
//!
//! A token is a run of whitespace followed by a run of non-whitespace ("Hello", " world"),
//! so concatenating the tokens gives back the text exactly; only trailing whitespace can
//! form a token on its own. Log-probabilities come from a stable hash of (token, position),
//! so a prompt scores the same on every run, which is what scoring tests compare.

use crate::hash::{unit, StableHasher};

/// Splits `text` into tokens; an empty text has none.
pub fn tokenize(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        // A word ends where whitespace resumes; that whitespace starts the next token.
        if space && in_word {
            tokens.push(&text[start..i]);
            start = i;
        }
        in_word = !space;
    }
    if start < text.len() {
        tokens.push(&text[start..]);
    }
    tokens
}

/// How many tokens `text` has.
pub fn count_tokens(text: &str) -> usize {
    tokenize(text).len()
}

/// The log-probability of `token` at `position`, in [-5, 0).
pub fn logprob(token: &str, position: usize) -> f64 {
    let h = StableHasher::new()
        .field(token)
        .u64(position as u64)
        .finish();
    // unit() is in [0, 1), so 1 - unit() is in (0, 1] and the result in [-5, 0).
    -5.0 * (1.0 - unit(h))
}

/// `k` alternatives at a position, most likely first: the chosen token itself, then
/// made-up tokens ("<token>~1", ...) that are distinct and strictly less likely.
pub(crate) fn top_alternatives(token: &str, position: usize, k: usize) -> Vec<(String, f64)> {
    let chosen = logprob(token, position);
    (0..k)
        .map(|i| {
            if i == 0 {
                return (token.to_string(), chosen);
            }
            let h = StableHasher::new()
                .field(token)
                .u64(position as u64)
                .u64(i as u64)
                .finish();
            // Each step drops by 0.5 to 0.75, so the list stays sorted.
            let lp = chosen - 0.5 * i as f64 - 0.25 * unit(h);
            (format!("{token}~{i}"), lp)
        })
        .collect()
}

/// The first `max` tokens of `text` as one string, and whether anything was cut.
pub(crate) fn truncate(text: &str, max: usize) -> (&str, bool) {
    let tokens = tokenize(text);
    if tokens.len() <= max {
        return (text, false);
    }
    let len: usize = tokens[..max].iter().map(|t| t.len()).sum();
    (&text[..len], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_leading_space() {
        assert_eq!(tokenize("Hello world"), ["Hello", " world"]);
        assert_eq!(tokenize("  a\n\nb "), ["  a", "\n\nb", " "]);
        assert_eq!(tokenize(" "), [" "]);
        assert!(tokenize("").is_empty());
        assert_eq!(tokenize("héllo wörld").concat(), "héllo wörld");
    }

    #[test]
    fn logprobs_are_stable_and_in_range() {
        for pos in 0..200 {
            let lp = logprob(" word", pos);
            assert!((-5.0..0.0).contains(&lp), "{lp}");
            assert_eq!(lp, logprob(" word", pos));
        }
        assert_ne!(logprob("a", 0), logprob("a", 1));
    }

    #[test]
    fn alternatives_are_sorted_and_distinct() {
        let alts = top_alternatives("x", 3, 5);
        assert_eq!(alts[0], ("x".to_string(), logprob("x", 3)));
        for w in alts.windows(2) {
            assert!(w[0].1 > w[1].1);
            assert_ne!(w[0].0, w[1].0);
        }
    }

    #[test]
    fn truncate_cuts_by_token() {
        assert_eq!(truncate("a b c", 2), ("a b", true));
        assert_eq!(truncate("a b", 2), ("a b", false));
        assert_eq!(truncate("a b", 0), ("", true));
    }
}
