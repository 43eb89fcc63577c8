//! Keys of word n-grams (decontamination) and shingles (MinHash), rolled over a text's
//! word hashes in O(1) per window with no allocation.
//!
//! A window's key is [`sequence_key`] of its words, computed by updating the polynomial
//! `Σ w[j]·BASE^(n-1-j)` as the window slides. A text shorter than the window gives one
//! key of all its words (compared whole); an empty text gives none.

#[cfg(doc)]
use super::hash::sequence_key;
use super::hash::{poly, seal, BASE};

/// The keys of every `n`-word window of `words` (word hashes), in order; one key of all
/// of them when there are fewer than `n` (`n` = 0 counts as 1).
pub fn keys(words: &[u64], n: usize) -> Keys<'_> {
    let n = n.max(1).min(words.len());
    let count = if words.is_empty() {
        0
    } else {
        words.len() - n + 1
    };
    Keys {
        words,
        n,
        // BASE^(n-1): the weight of the word leaving the window.
        out_weight: (1..n).fold(1u64, |acc, _| acc.wrapping_mul(BASE)),
        poly: poly(&words[..n]),
        next: 0,
        count,
    }
}

/// Iterator of [`keys`]; window `i` covers words `i .. i + width()`.
#[derive(Clone, Debug)]
pub struct Keys<'a> {
    words: &'a [u64],
    n: usize,
    out_weight: u64,
    poly: u64,
    next: usize,
    count: usize,
}

impl Keys<'_> {
    /// Words per window: `n`, or the text's length when it is shorter.
    pub fn width(&self) -> usize {
        self.n
    }
}

impl Iterator for Keys<'_> {
    type Item = u64;

    #[inline]
    fn next(&mut self) -> Option<u64> {
        if self.next >= self.count {
            return None;
        }
        if self.next > 0 {
            let leaving = self.words[self.next - 1];
            let entering = self.words[self.next - 1 + self.n];
            self.poly = self
                .poly
                .wrapping_sub(leaving.wrapping_mul(self.out_weight))
                .wrapping_mul(BASE)
                .wrapping_add(entering);
        }
        self.next += 1;
        Some(seal(self.poly, self.n))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.count - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Keys<'_> {}

#[cfg(test)]
mod tests {
    use super::super::hash::{hash_word, sequence_key};
    use super::*;

    fn hashes(text: &str) -> Vec<u64> {
        text.split(' ').map(hash_word).collect()
    }

    #[test]
    fn rolling_keys_equal_keys_computed_from_scratch() {
        let w = hashes("a b c d e f g a b c");
        for n in 1..=10 {
            let rolled: Vec<u64> = keys(&w, n).collect();
            let direct: Vec<u64> = w.windows(n).map(sequence_key).collect();
            assert_eq!(rolled, direct, "n = {n}");
        }
        // The repeated trigram "a b c" gives the same key both times.
        let tri: Vec<u64> = keys(&w, 3).collect();
        assert_eq!(tri[0], tri[7]);
        assert_ne!(tri[0], tri[1]);
    }

    #[test]
    fn short_texts_give_one_whole_key_and_empty_ones_none() {
        let w = hashes("x y");
        let k: Vec<u64> = keys(&w, 13).collect();
        assert_eq!(k, vec![sequence_key(&w)]);
        assert_eq!(keys(&w, 13).width(), 2);
        assert_eq!(keys(&[], 13).count(), 0);
        assert_eq!(keys(&w, 0).count(), 2);
        assert_eq!(keys(&w, 2).len(), 1);
    }
}
