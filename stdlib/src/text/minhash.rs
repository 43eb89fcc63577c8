//! MinHash signatures: `k` independent hash "permutations" of a text's shingle keys,
//! keeping the minimum of each. The fraction of equal positions in two signatures is an
//! unbiased estimate of the Jaccard similarity of the two shingle sets (Broder 1997).
//!
//! Permutation `i` maps a shingle key `x` (already a well-mixed 64-bit hash) to the high
//! 32 bits of `a_i·x + b_i mod 2^64`, with `a_i` odd and `a_i`, `b_i` drawn from the
//! seed: a multiply-add-shift hash, one multiplication per shingle and permutation, in a
//! loop the compiler vectorizes. Keeping 32 bits halves the memory of kept signatures;
//! two different shingles tie in one position with probability about 2^-32, far below the
//! estimate's own sampling error (√(J(1−J)/k), about 0.03 at k = 128).

use super::hash::mix64;

/// The hash family of one signature length and seed.
#[derive(Clone, Debug)]
pub struct MinHasher {
    mul: Vec<u64>,
    add: Vec<u64>,
}

impl MinHasher {
    /// `permutations` hash functions drawn from `seed` (SplitMix64's sequence).
    pub fn new(permutations: usize, seed: u64) -> MinHasher {
        let mut state = seed;
        let mut draw = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            mix64(state)
        };
        let mut mul = Vec::with_capacity(permutations);
        let mut add = Vec::with_capacity(permutations);
        for _ in 0..permutations {
            mul.push(draw() | 1);
            add.push(draw());
        }
        MinHasher { mul, add }
    }

    /// The signature length.
    pub fn len(&self) -> usize {
        self.mul.len()
    }

    pub fn is_empty(&self) -> bool {
        self.mul.is_empty()
    }

    /// Replaces `out` with the signature of the set of `shingles`. An empty set gives a
    /// signature of `u32::MAX`s, which callers must not compare (see `dedup`).
    pub fn signature(&self, shingles: impl IntoIterator<Item = u64>, out: &mut Vec<u32>) {
        out.clear();
        out.resize(self.len(), u32::MAX);
        for x in shingles {
            for ((slot, &a), &b) in out.iter_mut().zip(&self.mul).zip(&self.add) {
                let v = (a.wrapping_mul(x).wrapping_add(b) >> 32) as u32;
                *slot = (*slot).min(v);
            }
        }
    }
}

/// The estimated Jaccard similarity of two signatures of the same hasher.
pub fn similarity(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    equal as f64 / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two sets of 400 keys sharing `shared` of them: Jaccard = shared / (800 − shared).
    fn sets(shared: u64, salt: u64) -> (Vec<u64>, Vec<u64>) {
        let key = |i: u64| mix64(i ^ salt.wrapping_mul(0x1234_5678_9abc_def1));
        let a: Vec<u64> = (0..400).map(key).collect();
        let b: Vec<u64> = (0..shared)
            .map(key)
            .chain((1_000..1_400 - shared).map(key))
            .collect();
        (a, b)
    }

    #[test]
    fn estimates_are_unbiased_for_known_jaccard() {
        for shared in [0u64, 100, 267, 364, 400] {
            let truth = shared as f64 / (800 - shared) as f64;
            let mut sum = 0.0;
            let trials = 20;
            for t in 0..trials {
                let (a, b) = sets(shared, t);
                let h = MinHasher::new(128, t);
                let (mut sa, mut sb) = (Vec::new(), Vec::new());
                h.signature(a, &mut sa);
                h.signature(b, &mut sb);
                let est = similarity(&sa, &sb);
                // One estimate: within 4 standard deviations (plus slack at the ends).
                let sd = (truth * (1.0 - truth) / 128.0).sqrt();
                assert!((est - truth).abs() <= 4.0 * sd + 0.01, "{est} vs {truth}");
                sum += est;
            }
            // The mean of 20: the sampling error shrinks, a bias would not.
            let mean = sum / trials as f64;
            assert!((mean - truth).abs() < 0.025, "mean {mean} vs {truth}");
        }
    }

    #[test]
    fn signatures_depend_on_the_set_not_the_order_or_repeats() {
        let h = MinHasher::new(64, 7);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        h.signature([1u64, 2, 3].map(mix64), &mut x);
        h.signature([3u64, 1, 2, 2].map(mix64), &mut y);
        assert_eq!(x, y);
        assert_eq!(similarity(&x, &y), 1.0);
        assert_eq!(x.len(), 64);
        // Another seed draws other permutations.
        let mut z = Vec::new();
        MinHasher::new(64, 8).signature([1u64, 2, 3].map(mix64), &mut z);
        assert_ne!(x, z);
        assert_eq!(similarity(&x, &[]), 0.0);
    }
}
