//! How much a rewrite changed a text: the word-level edit distance (Levenshtein over
//! whitespace-separated words) divided by the longer text's length in words, 0 (same
//! words) to 1 (nothing in common).
//!
//! The distance takes time proportional to the product of the two lengths, so texts
//! longer than [`MAX_WORDS`] words after their shared beginning and end are compared on
//! their first [`MAX_WORDS`] remaining words, and the ratio is over those: an estimate
//! [choice] that keeps one record's cost bounded (about 16 million steps).

/// Words per text compared exactly, beyond the shared beginning and end.
pub const MAX_WORDS: usize = 4000;

/// The word-level edit ratio of `before` and `after`.
pub fn edit_ratio(before: &str, after: &str) -> f64 {
    let a: Vec<&str> = before.split_whitespace().collect();
    let b: Vec<&str> = after.split_whitespace().collect();
    let longer = a.len().max(b.len());
    if longer == 0 {
        return 0.0;
    }
    // Shared beginnings and ends cost nothing and need no table.
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[head..], &b[head..]);
    let tail = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[..a.len() - tail], &b[..b.len() - tail]);
    if a.len() <= MAX_WORDS && b.len() <= MAX_WORDS {
        return distance(a, b) as f64 / longer as f64;
    }
    let (a, b) = (&a[..a.len().min(MAX_WORDS)], &b[..b.len().min(MAX_WORDS)]);
    distance(a, b) as f64 / a.len().max(b.len()) as f64
}

/// Levenshtein distance between two word sequences, with two rows of the table.
pub fn distance(a: &[&str], b: &[&str]) -> usize {
    if a.is_empty() || b.is_empty() {
        return a.len().max(b.len());
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(x != y);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn distances_count_word_insertions_deletions_and_substitutions() {
        assert_eq!(distance(&words("a b c"), &words("a b c")), 0);
        assert_eq!(distance(&words("a b c"), &words("a x c")), 1);
        assert_eq!(distance(&words("a b c"), &words("a c")), 1);
        assert_eq!(distance(&words("kitten sat"), &words("sitting sat on")), 2);
        assert_eq!(distance(&words(""), &words("a b")), 2);
        // The classic example, over words instead of letters.
        let k = "k i t t e n";
        let s = "s i t t i n g";
        assert_eq!(distance(&words(k), &words(s)), 3);
    }

    #[test]
    fn ratios_divide_by_the_longer_text_and_ignore_spacing() {
        assert_eq!(edit_ratio("So x = 2.", "So  x =\n2."), 0.0);
        assert_eq!(edit_ratio("a b c d", "a b x d"), 0.25);
        assert_eq!(edit_ratio("a b", "c d e f"), 1.0);
        assert_eq!(edit_ratio("", ""), 0.0);
        assert_eq!(edit_ratio("", "new words"), 1.0);
    }

    #[test]
    fn long_texts_are_bounded_and_still_exact_when_only_their_middle_differs() {
        let common: String = (0..3 * MAX_WORDS).map(|i| format!("w{i} ")).collect();
        let before = format!("{common} end");
        let after = format!("{common} finish");
        // The shared beginning is free: one substitution over the longer length.
        let r = edit_ratio(&before, &after);
        assert!((r - 1.0 / (3 * MAX_WORDS + 1) as f64).abs() < 1e-12, "{r}");
        let a: String = (0..2 * MAX_WORDS).map(|i| format!("a{i} ")).collect();
        let b: String = (0..2 * MAX_WORDS).map(|i| format!("b{i} ")).collect();
        assert_eq!(edit_ratio(&a, &b), 1.0, "estimated on the first words");
    }
}
