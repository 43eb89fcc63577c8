//! Banded locality-sensitive hashing over MinHash signatures: the signature is cut into
//! `b` bands of `r` rows, and two texts become candidates when all rows of at least one
//! band are equal. For true Jaccard `s` that happens with probability
//! `P(s) = 1 − (1 − s^r)^b`, an S-curve whose steep part should sit at the threshold.
//!
//! [`Bands::choose`] picks `b` and `r` (with `b·r ≤ permutations`) minimising the sum of
//! two probabilities: that a pair whose similarity is uniform on `[0, t)` becomes a
//! candidate (false positive, the mean of `P` there) and that a pair uniform on `[t, 1]`
//! does not (false negative, the mean of `1 − P` there). datasketch's `MinHashLSH`
//! minimises the two *areas* instead, which lets the wide range below a high threshold
//! outweigh the narrow one above it: at t = 0.9 and 128 permutations the areas choose
//! 5 × 25 rows, which finds a pair of similarity 0.9 with probability 0.31; the means
//! choose 8 × 16, which finds it with probability 0.81. A false positive costs only one
//! signature comparison (every candidate is confirmed against the threshold), a false
//! negative is a duplicate that stays.

use super::hash::{key_map, mix64, KeyMap, BASE};

/// Steps of the midpoint rule per mean; the means change smoothly with `b` and `r`, so
/// this is far finer than the choice needs.
const STEPS: usize = 200;

/// How a signature is cut into bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bands {
    pub bands: usize,
    pub rows: usize,
}

impl Bands {
    /// The split of `permutations` rows best suited to `threshold` (see the module docs).
    pub fn choose(threshold: f64, permutations: usize) -> Bands {
        let t = threshold.clamp(0.0, 1.0);
        let mut best = Bands { bands: 1, rows: 1 };
        let mut best_error = f64::INFINITY;
        for bands in 1..=permutations.max(1) {
            for rows in 1..=permutations.max(1) / bands {
                let candidate = Bands { bands, rows };
                let error = candidate.false_positive(t) + candidate.false_negative(t);
                if error < best_error {
                    best = candidate;
                    best_error = error;
                }
            }
        }
        best
    }

    /// The probability that texts of Jaccard similarity `s` become candidates.
    pub fn candidate_probability(&self, s: f64) -> f64 {
        1.0 - (1.0 - s.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// The mean of `P(s)` over `s` in `[0, t)`.
    pub fn false_positive(&self, t: f64) -> f64 {
        mean(0.0, t, |s| self.candidate_probability(s))
    }

    /// The mean of `1 − P(s)` over `s` in `[t, 1]`.
    pub fn false_negative(&self, t: f64) -> f64 {
        mean(t, 1.0, |s| 1.0 - self.candidate_probability(s))
    }

    /// The key of each band of `signature`, band index mixed in (one map serves all).
    pub fn keys<'a>(&self, signature: &'a [u32]) -> impl Iterator<Item = u64> + 'a {
        signature
            .chunks_exact(self.rows.max(1))
            .take(self.bands)
            .enumerate()
            .map(|(band, rows)| {
                let start = mix64(band as u64 + 1);
                mix64(rows.iter().fold(start, |acc, &v| {
                    acc.wrapping_mul(BASE).wrapping_add(u64::from(v))
                }))
            })
    }
}

/// The mean of `f` over `[from, to]` by the midpoint rule; 0 for an empty range.
fn mean(from: f64, to: f64, f: impl Fn(f64) -> f64) -> f64 {
    if to <= from {
        return 0.0;
    }
    let h = (to - from) / STEPS as f64;
    (0..STEPS)
        .map(|i| f(from + (i as f64 + 0.5) * h))
        .sum::<f64>()
        / STEPS as f64
}

/// The bands of every inserted signature, for candidate lookup. Items are numbered in
/// insertion order; each bucket is a chain through `next`, newest first.
#[derive(Debug)]
pub struct LshIndex {
    bands: Bands,
    /// Band key → the newest slot with that key.
    heads: KeyMap<usize>,
    /// Slot `item·bands + band` → the previous slot with the same key, or `NONE`.
    next: Vec<usize>,
}

const NONE: usize = usize::MAX;

impl LshIndex {
    pub fn new(bands: Bands) -> LshIndex {
        LshIndex {
            bands,
            heads: key_map(0),
            next: Vec::new(),
        }
    }

    pub fn bands(&self) -> Bands {
        self.bands
    }

    /// Adds a signature; returns its item number (0, 1, 2, ... in insertion order).
    pub fn insert(&mut self, signature: &[u32]) -> usize {
        let item = self.next.len() / self.bands.bands.max(1);
        let bands = self.bands;
        for (band, key) in bands.keys(signature).enumerate() {
            let slot = item * bands.bands + band;
            let previous = self.heads.insert(key, slot).unwrap_or(NONE);
            self.next.push(previous);
        }
        // A signature shorter than `bands × rows` (a caller bug) still takes its slots,
        // so item numbers stay aligned with slots.
        self.next.resize((item + 1) * bands.bands, NONE);
        item
    }

    /// Replaces `out` with the items sharing at least one band with `signature`, each
    /// once, in ascending order.
    pub fn candidates(&self, signature: &[u32], out: &mut Vec<usize>) {
        out.clear();
        let per_item = self.bands.bands.max(1);
        for key in self.bands.keys(signature) {
            let mut slot = self.heads.get(&key).copied().unwrap_or(NONE);
            while slot != NONE {
                out.push(slot / per_item);
                slot = self.next.get(slot).copied().unwrap_or(NONE);
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_puts_the_curve_at_the_threshold() {
        for (t, k) in [(0.5, 128), (0.85, 128), (0.9, 256), (0.7, 64)] {
            let b = Bands::choose(t, k);
            assert!(b.bands * b.rows <= k, "{b:?}");
            // The S-curve's midpoint, (1/b)^(1/r), lies near the threshold.
            let mid = (1.0 / b.bands as f64).powf(1.0 / b.rows as f64);
            assert!(
                (mid - t).abs() < 0.1,
                "t {t}: {b:?} has its midpoint at {mid}"
            );
            // And it beats its neighbours.
            let err = |x: Bands| x.false_positive(t) + x.false_negative(t);
            for other in [
                Bands {
                    bands: b.bands + 1,
                    rows: b.rows,
                },
                Bands {
                    bands: b.bands,
                    rows: b.rows + 1,
                },
                Bands {
                    bands: b.bands.saturating_sub(1).max(1),
                    rows: b.rows,
                },
                Bands {
                    bands: b.bands,
                    rows: b.rows.saturating_sub(1).max(1),
                },
            ] {
                if other.bands * other.rows <= k {
                    assert!(err(b) <= err(other), "{b:?} vs {other:?}");
                }
            }
        }
        // Pairs a little above the threshold are found (the point of the mean-based choice).
        for t in [0.8, 0.85, 0.9] {
            let b = Bands::choose(t, 128);
            assert!(b.candidate_probability(t + 0.05) > 0.9, "{t}: {b:?}");
        }
        assert_eq!(Bands::choose(0.9, 128), Bands { bands: 8, rows: 16 });
        // A higher threshold needs more rows per band.
        assert!(Bands::choose(0.9, 128).rows > Bands::choose(0.5, 128).rows);
        assert_eq!(Bands::choose(0.5, 1), Bands { bands: 1, rows: 1 });
    }

    #[test]
    fn items_sharing_a_band_are_candidates() {
        let bands = Bands { bands: 4, rows: 2 };
        let mut index = LshIndex::new(bands);
        let a = [1, 2, 3, 4, 5, 6, 7, 8];
        let b = [9, 9, 9, 9, 9, 9, 7, 8]; // shares the last band with `a`
        let c = [0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(index.insert(&a), 0);
        assert_eq!(index.insert(&b), 1);
        assert_eq!(index.insert(&c), 2);
        let mut out = Vec::new();
        index.candidates(&[1, 2, 0, 1, 0, 1, 7, 8], &mut out);
        assert_eq!(out, vec![0, 1]);
        index.candidates(&[0, 0, 5, 5, 5, 5, 5, 5], &mut out);
        assert_eq!(out, vec![2]);
        index.candidates(&[5, 5, 5, 5, 5, 5, 5, 5], &mut out);
        assert!(out.is_empty());
        // Equal rows in another band position are not a match.
        index.candidates(&[7, 8, 0, 1, 0, 1, 0, 1], &mut out);
        assert!(out.is_empty());
    }
}
