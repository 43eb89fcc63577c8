//! Fast non-cryptographic 64-bit hashing of words and word sequences, and a pass-through
//! hasher for maps whose keys are already such hashes.
//!
//! Nothing here is stored or compared across runs of different dtac versions: the values
//! only have to be well mixed and the same on every machine (no per-process seed).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Odd multiplier of the per-byte step (the 64-bit golden ratio).
const STEP: u64 = 0x9e37_79b9_7f4a_7c15;

/// The multiplier of the polynomial over word hashes; odd, so that every power of it is
/// invertible modulo 2^64 and two sequences differing in one word never collide.
pub const BASE: u64 = 0xff51_afd7_ed55_8ccd;

/// Mixed into a sequence hash with its length, so a sequence of k words and one of n ≠ k
/// words only collide by chance.
const LENGTH_TAG: u64 = 0xc4ce_b9fe_1a85_ec53;

/// The finalizer of SplitMix64: a bijection whose every output bit depends on every input
/// bit, applied after the cheap steps so that nearby inputs land far apart.
#[inline]
pub fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Hashes one word byte by byte (a rotate-xor-multiply step, then [`mix64`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct WordHasher {
    state: u64,
    len: u64,
}

impl WordHasher {
    #[inline]
    pub fn push(&mut self, byte: u8) {
        self.state = (self.state.rotate_left(5) ^ u64::from(byte)).wrapping_mul(STEP);
        self.len += 1;
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The word's hash; the hasher starts over.
    #[inline]
    pub fn finish(&mut self) -> u64 {
        let h = mix64(self.state ^ self.len.wrapping_mul(LENGTH_TAG));
        *self = WordHasher::default();
        h
    }
}

/// The hash of one word given as bytes (the same value [`WordHasher`] gives).
pub fn hash_word(word: &str) -> u64 {
    let mut h = WordHasher::default();
    word.bytes().for_each(|b| h.push(b));
    h.finish()
}

/// The unmixed polynomial `Σ w[j]·BASE^(k-1-j)` of a sequence of word hashes.
#[inline]
pub fn poly(words: &[u64]) -> u64 {
    words
        .iter()
        .fold(0u64, |acc, &w| acc.wrapping_mul(BASE).wrapping_add(w))
}

/// Turns the polynomial of a `len`-word sequence into its key.
#[inline]
pub fn seal(poly: u64, len: usize) -> u64 {
    mix64(poly.wrapping_add((len as u64).wrapping_mul(LENGTH_TAG)))
}

/// The key of a whole word sequence: what texts shorter than an n-gram are compared by,
/// and what `dedup`'s exact method compares.
pub fn sequence_key(words: &[u64]) -> u64 {
    seal(poly(words), words.len())
}

/// A [`Hasher`] that passes a `u64` key through: the keys are already mixed hashes, so
/// hashing them again would only cost time.
#[derive(Clone, Copy, Debug, Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached for keys other than u64; fold them in so it stays a correct hasher.
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(STEP);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

/// A map keyed by hashes from this module.
pub type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

/// An empty [`KeyMap`] with room for `n` keys.
pub fn key_map<V>(n: usize) -> KeyMap<V> {
    KeyMap::with_capacity_and_hasher(n, BuildHasherDefault::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_hash_apart_and_the_same_every_time() {
        assert_eq!(hash_word("therefore"), hash_word("therefore"));
        assert_ne!(hash_word("ab"), hash_word("ba"));
        assert_ne!(hash_word("a"), hash_word("aa"));
        assert_ne!(hash_word(""), hash_word("a"));
        let mut seen = std::collections::HashSet::new();
        for i in 0..100_000 {
            assert!(seen.insert(hash_word(&format!("w{i}"))), "collision at {i}");
        }
    }

    #[test]
    fn sequences_of_different_lengths_or_orders_have_different_keys() {
        let (a, b, c) = (hash_word("a"), hash_word("b"), hash_word("c"));
        assert_ne!(sequence_key(&[a, b]), sequence_key(&[b, a]));
        assert_ne!(sequence_key(&[a]), sequence_key(&[a, a]));
        assert_ne!(sequence_key(&[a, b, c]), sequence_key(&[a, b]));
        assert_eq!(sequence_key(&[a, b, c]), sequence_key(&[a, b, c]));
    }

    #[test]
    fn the_pass_through_map_finds_its_keys() {
        let mut m = key_map(4);
        m.insert(mix64(1), "one");
        m.insert(mix64(2), "two");
        assert_eq!(m.get(&mix64(1)), Some(&"one"));
        assert_eq!(m.get(&mix64(3)), None);
    }
}
