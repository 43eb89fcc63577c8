//! A one-hash Bloom filter over 64-bit keys: a bitset the contamination check consults
//! before the index's hash map.
//!
//! Almost every n-gram of a clean record is absent from the benchmark, and with millions
//! of benchmark n-grams each map lookup is a cache miss with a branchy probe behind it.
//! The bitset, at 16 bits per key, answers "absent" for all but about 6% of absent keys
//! with one load and no data-dependent branch, so the processor keeps many loads in
//! flight; only the rest go to the map. The bitset is filled from several threads at once
//! through atomic ORs.

use std::sync::atomic::{AtomicU64, Ordering};

/// Bits per expected key: a false "maybe" rate of 1 − e^(−1/16) ≈ 6%.
const BITS_PER_KEY: usize = 16;
const MIN_BITS: usize = 1 << 16;
const MAX_BITS: usize = 1 << 36;

/// A bitset being filled.
#[derive(Debug)]
pub struct FilterBuilder {
    words: Vec<AtomicU64>,
    mask: u64,
}

impl FilterBuilder {
    /// Room for about `keys` keys (a power of two of bits, within fixed bounds).
    pub fn new(keys: usize) -> FilterBuilder {
        let bits = keys
            .saturating_mul(BITS_PER_KEY)
            .next_power_of_two()
            .clamp(MIN_BITS, MAX_BITS);
        FilterBuilder {
            words: (0..bits / 64).map(|_| AtomicU64::new(0)).collect(),
            mask: bits as u64 - 1,
        }
    }

    #[inline]
    pub fn insert(&self, key: u64) {
        let bit = key & self.mask;
        // Relaxed: the bits are only read after the filling threads are joined.
        self.words[(bit >> 6) as usize].fetch_or(1 << (bit & 63), Ordering::Relaxed);
    }

    pub fn finish(self) -> KeyFilter {
        KeyFilter {
            words: self.words.into_iter().map(AtomicU64::into_inner).collect(),
            mask: self.mask,
        }
    }
}

/// A filled bitset: `false` means absent, `true` means maybe present.
#[derive(Debug)]
pub struct KeyFilter {
    words: Vec<u64>,
    mask: u64,
}

impl KeyFilter {
    #[inline]
    pub fn may_contain(&self, key: u64) -> bool {
        let bit = key & self.mask;
        self.words
            .get((bit >> 6) as usize)
            .is_some_and(|w| w & (1 << (bit & 63)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::hash::mix64;
    use super::*;

    #[test]
    fn inserted_keys_are_found_and_most_others_are_not() {
        let builder = FilterBuilder::new(10_000);
        for i in 0..10_000u64 {
            builder.insert(mix64(i));
        }
        let filter = builder.finish();
        assert!((0..10_000u64).all(|i| filter.may_contain(mix64(i))));
        let false_maybe = (10_000..110_000u64)
            .filter(|&i| filter.may_contain(mix64(i)))
            .count();
        // 10,000 keys × 16 bits → 2^18 bits: about 4% of absent keys say "maybe".
        assert!(false_maybe < 6_000, "{false_maybe} of 100,000");
    }
}
