//! A vocabulary's identity in 16 bytes: its size and a hash of every token string in id
//! order. Two checkpoints whose fingerprints agree map every id to the same token, which
//! is what distillation between a teacher's and a student's logits needs; `dtac check`
//! compares them without keeping either vocabulary around.

use std::fmt;

/// The size and id-ordered hash of a tokenizer's vocabulary (added tokens included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VocabFingerprint {
    /// One past the largest token id.
    pub size: usize,
    /// FNV-1a (64-bit) over each id's token bytes, each prefixed by its length so that
    /// `["ab", "c"]` and `["a", "bc"]` differ; an id with no token hashes as length
    /// `u64::MAX`. FNV is fixed by its definition, so the value is stable across builds
    /// and can be stored.
    pub hash: u64,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl VocabFingerprint {
    /// Fingerprints the tokens `token(0) .. token(size - 1)`.
    pub fn of(size: usize, mut token: impl FnMut(u32) -> Option<String>) -> VocabFingerprint {
        let mut hash = FNV_OFFSET;
        let mut feed = |bytes: &[u8]| {
            for b in bytes {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(FNV_PRIME);
            }
        };
        for id in 0..size {
            match u32::try_from(id).ok().and_then(&mut token) {
                Some(t) => {
                    feed(&(t.len() as u64).to_le_bytes());
                    feed(t.as_bytes());
                }
                None => feed(&u64::MAX.to_le_bytes()),
            }
        }
        VocabFingerprint { size, hash }
    }
}

impl fmt::Display for VocabFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} tokens, fnv1a {:016x}", self.size, self.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(tokens: &[&str]) -> VocabFingerprint {
        VocabFingerprint::of(tokens.len(), |id| {
            tokens.get(id as usize).map(|s| s.to_string())
        })
    }

    #[test]
    fn order_and_boundaries_matter() {
        assert_eq!(fp(&["a", "b"]), fp(&["a", "b"]));
        assert_ne!(fp(&["a", "b"]), fp(&["b", "a"]));
        assert_ne!(fp(&["ab", "c"]), fp(&["a", "bc"]));
        assert_ne!(fp(&["a"]), fp(&["a", "b"]));
    }
}
