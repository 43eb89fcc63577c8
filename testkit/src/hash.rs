//! Stable hashing: FNV-1a with a final mix, and the public request key.
//!
//! Everything the server derives from request content (default answers, logprobs, request
//! keys) goes through this module. std's `RandomState` is seeded per process, so it cannot
//! be used: tests compare answers across server restarts and compute keys themselves.

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// An incremental FNV-1a hasher whose output is identical on every run and platform.
#[derive(Debug, Clone)]
pub(crate) struct StableHasher(u64);

impl StableHasher {
    pub(crate) fn new() -> Self {
        Self(FNV_OFFSET)
    }

    pub(crate) fn bytes(&mut self, data: &[u8]) -> &mut Self {
        for &b in data {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
        self
    }

    /// Feeds a field with its length first, so that ("ab", "c") and ("a", "bc") differ.
    pub(crate) fn field(&mut self, data: &str) -> &mut Self {
        self.u64(data.len() as u64).bytes(data.as_bytes())
    }

    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    /// The hash, passed through a finaliser: raw FNV output has weak low bits, and callers
    /// take it modulo small numbers or map it onto [0, 1).
    pub(crate) fn finish(&self) -> u64 {
        mix(self.0)
    }
}

/// The SplitMix64 finaliser: a bijection that spreads every input bit over every output bit.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Maps a hash onto [0, 1) using its top 53 bits, the precision of an `f64` mantissa.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The key the server files a request under: the model plus a stable hash of the
/// conversation (each message's role and content, in order). Requests with the same key
/// share fault attempt counts and reply sequences.
///
/// A legacy `/v1/completions` request counts as one `user` message holding the prompt.
///
/// ```
/// let k = dtac_testkit::key_of("m", [("user", "hi")]);
/// assert_eq!(k, dtac_testkit::key_of("m", vec![("user".to_string(), "hi".to_string())]));
/// assert!(k.starts_with("m:"));
/// ```
pub fn key_of<I, R, C>(model: &str, messages: I) -> String
where
    I: IntoIterator<Item = (R, C)>,
    R: AsRef<str>,
    C: AsRef<str>,
{
    let mut h = StableHasher::new();
    for (role, content) in messages {
        h.field(role.as_ref()).field(content.as_ref());
    }
    format!("{model}:{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_vectors() {
        // Published FNV-1a 64 test vectors, checked before the finaliser.
        assert_eq!(StableHasher::new().0, 0xcbf2_9ce4_8422_2325);
        assert_eq!(StableHasher::new().bytes(b"a").0, 0xaf63_dc4c_8601_ec8c);
        assert_eq!(
            StableHasher::new().bytes(b"foobar").0,
            0x8594_4171_f739_67e8
        );
    }

    #[test]
    fn key_separates_fields() {
        assert_ne!(key_of("m", [("ab", "c")]), key_of("m", [("a", "bc")]));
        assert_ne!(key_of("m", [("user", "x")]), key_of("n", [("user", "x")]));
    }

    #[test]
    fn unit_stays_below_one() {
        assert!(unit(u64::MAX) < 1.0);
        assert_eq!(unit(0), 0.0);
    }
}
