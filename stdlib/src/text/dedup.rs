//! The decision core of `dedup`: which texts are the first of their kind, in the order
//! they are offered.
//!
//! Work is split in two so callers can parallelise the expensive half: a [`Fingerprint`]
//! depends on one text only (normalization, hashing, the MinHash signature), while
//! [`Deduper::decide`] compares it with the texts kept so far and must see texts in input
//! order. Only kept texts are remembered, so every duplicate points at a kept text and
//! the result is the same whatever computed the fingerprints.

use super::hash::{key_map, sequence_key, KeyMap};
use super::lsh::{Bands, LshIndex};
use super::minhash::{similarity, MinHasher};
use super::ngrams::keys;
use super::words::word_hashes;

/// How texts are compared.
#[derive(Clone, Debug)]
pub enum Method {
    /// Equal after normalization: one 64-bit key of the whole word sequence. Two
    /// different texts share a key with probability about 2^-64 per pair (below 10^-7
    /// over a million texts); the texts are not compared again.
    Exact,
    MinHash(MinHashMethod),
}

/// MinHash over word shingles, banded LSH for candidates, the signature's estimate for
/// the decision.
#[derive(Clone, Debug)]
pub struct MinHashMethod {
    pub shingle: usize,
    pub threshold: f64,
    pub hasher: MinHasher,
    pub bands: Bands,
}

impl Method {
    /// MinHash with `permutations` functions from `seed`, bands chosen for `threshold`.
    pub fn minhash(shingle: usize, threshold: f64, permutations: usize, seed: u64) -> Method {
        Method::MinHash(MinHashMethod {
            shingle: shingle.max(1),
            threshold,
            hasher: MinHasher::new(permutations.max(1), seed),
            bands: Bands::choose(threshold, permutations.max(1)),
        })
    }

    /// What `decide` needs of `text`; `words` is scratch space for word hashes.
    pub fn fingerprint(&self, text: &str, words: &mut Vec<u64>) -> Fingerprint {
        word_hashes(text, words);
        if words.is_empty() {
            return Fingerprint::Empty;
        }
        match self {
            Method::Exact => Fingerprint::Exact(sequence_key(words)),
            Method::MinHash(m) => {
                // A text shorter than a shingle is one shingle of all its words.
                let mut signature = Vec::with_capacity(m.hasher.len());
                m.hasher.signature(keys(words, m.shingle), &mut signature);
                Fingerprint::MinHash(signature)
            }
        }
    }
}

/// One text, reduced to what the comparison needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Fingerprint {
    /// No words: nothing to compare (see [`Verdict::Empty`]).
    Empty,
    Exact(u64),
    MinHash(Vec<u32>),
}

/// What became of one text.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The first of its kind: kept, as item `item` (0, 1, 2, ... among kept texts).
    First { item: usize },
    /// A text with no words is kept and never compared: an empty solution is a defect
    /// for other ops to judge, and calling all empty texts duplicates of each other
    /// would silently keep only one of them.
    Empty,
    /// A duplicate of kept item `of`, with the estimated Jaccard similarity (1 for exact).
    Duplicate { of: usize, similarity: f64 },
}

/// The texts kept so far.
#[derive(Debug)]
pub struct Deduper {
    method: Method,
    kept: usize,
    exact: KeyMap<usize>,
    lsh: Option<LshIndex>,
    /// The kept signatures, back to back.
    signatures: Vec<u32>,
    candidates: Vec<usize>,
}

impl Deduper {
    pub fn new(method: Method) -> Deduper {
        let lsh = match &method {
            Method::MinHash(m) => Some(LshIndex::new(m.bands)),
            Method::Exact => None,
        };
        Deduper {
            method,
            kept: 0,
            exact: key_map(0),
            lsh,
            signatures: Vec::new(),
            candidates: Vec::new(),
        }
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    /// How many texts were kept as first of their kind.
    pub fn kept(&self) -> usize {
        self.kept
    }

    /// Compares the next text in input order with those kept, and keeps it when new.
    pub fn decide(&mut self, fingerprint: &Fingerprint) -> Verdict {
        match fingerprint {
            Fingerprint::Empty => Verdict::Empty,
            Fingerprint::Exact(key) => {
                if let Some(&of) = self.exact.get(key) {
                    return Verdict::Duplicate {
                        of,
                        similarity: 1.0,
                    };
                }
                self.exact.insert(*key, self.kept);
                self.keep()
            }
            Fingerprint::MinHash(signature) => self.decide_minhash(signature),
        }
    }

    fn decide_minhash(&mut self, signature: &[u32]) -> Verdict {
        let (Method::MinHash(m), Some(lsh)) = (&self.method, &mut self.lsh) else {
            // A fingerprint of another method: keep the text rather than guess.
            return self.keep();
        };
        let width = m.hasher.len();
        lsh.candidates(signature, &mut self.candidates);
        let mut best: Option<(usize, f64)> = None;
        for &item in &self.candidates {
            let Some(kept) = self.signatures.get(item * width..(item + 1) * width) else {
                continue;
            };
            let s = similarity(signature, kept);
            // Candidates come in item order: on a tie the earliest kept text wins.
            if s >= m.threshold && best.is_none_or(|(_, b)| s > b) {
                best = Some((item, s));
            }
        }
        if let Some((of, similarity)) = best {
            return Verdict::Duplicate { of, similarity };
        }
        lsh.insert(signature);
        self.signatures.extend_from_slice(signature);
        self.keep()
    }

    fn keep(&mut self) -> Verdict {
        let item = self.kept;
        self.kept += 1;
        Verdict::First { item }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words `from..to`, as a text whose 1-word shingles are exactly those words.
    fn span(from: usize, to: usize) -> String {
        (from..to).map(|i| format!("w{i} ")).collect()
    }

    fn run(method: Method, texts: &[String]) -> Vec<Verdict> {
        let mut d = Deduper::new(method);
        let mut scratch = Vec::new();
        texts
            .iter()
            .map(|t| {
                let fp = d.method().fingerprint(t, &mut scratch);
                d.decide(&fp)
            })
            .collect()
    }

    #[test]
    fn exact_ignores_case_punctuation_and_spacing() {
        let texts = [
            "The answer is 4.",
            "the  answer IS 4",
            "The answer is 5.",
            "",
            "  ",
        ]
        .map(String::from);
        let v = run(Method::Exact, &texts);
        assert_eq!(
            v,
            vec![
                Verdict::First { item: 0 },
                Verdict::Duplicate {
                    of: 0,
                    similarity: 1.0
                },
                Verdict::First { item: 1 },
                Verdict::Empty,
                Verdict::Empty,
            ]
        );
    }

    #[test]
    fn minhash_drops_a_near_duplicate_at_0_9_and_keeps_one_at_0_5() {
        // Jaccard of the 1-word shingle sets: 0..200 vs 0..189 + 1000..1010 is
        // 189/210 = 0.9; vs 67..267 it is 133/267 ≈ 0.5.
        let base = span(0, 200);
        let near = format!("{}{}", span(0, 189), span(1000, 1010));
        let half = span(67, 267);
        // LSH is probabilistic: over 20 seeds, a pair at 0.9 with threshold 0.8 is found
        // with probability about 0.99 each time, a pair at 0.5 never passes.
        let (mut found, mut similarities) = (0, 0.0);
        for seed in 0..20 {
            let v = run(
                Method::minhash(1, 0.8, 128, seed),
                &[base.clone(), near.clone(), half.clone()],
            );
            assert_eq!(v[0], Verdict::First { item: 0 });
            if let Verdict::Duplicate { of: 0, similarity } = v[1] {
                found += 1;
                similarities += similarity;
            }
            assert!(matches!(v[2], Verdict::First { .. }), "{seed}: {v:?}");
        }
        assert!(found >= 18, "found {found} of 20");
        let mean = similarities / found as f64;
        assert!((mean - 0.9).abs() < 0.03, "{mean}");
        // At threshold 0.4, the half-overlapping text is a duplicate too.
        let v = run(Method::minhash(1, 0.4, 128, 0), &[base, half]);
        match v[1] {
            Verdict::Duplicate { of: 0, similarity } => {
                assert!((similarity - 0.5).abs() < 0.15, "{similarity}")
            }
            ref other => panic!("expected a duplicate, got {other:?}"),
        }
    }

    #[test]
    fn five_word_shingles_catch_an_edited_copy() {
        let a = "Let x be the number of apples. Then 3x + 2 = 17, so 3x = 15 and x = 5. \
                 Therefore there are 5 apples in the basket, which we can check by \
                 substituting back: 3 times 5 plus 2 is 17 as required.";
        let b = a.replace("Therefore", "Hence");
        let c = "A completely different solution about triangles: the angles sum to 180 \
                 degrees, so the third angle is 180 - 50 - 60 = 70 degrees.";
        let v = run(
            Method::minhash(5, 0.6, 128, 0),
            &[a.to_string(), b, c.to_string()],
        );
        assert!(matches!(v[1], Verdict::Duplicate { of: 0, .. }), "{v:?}");
        assert_eq!(v[2], Verdict::First { item: 1 });
    }

    #[test]
    fn the_first_in_input_order_is_kept_and_runs_agree() {
        let texts: Vec<String> = (0..300)
            .map(|i| span(i % 50 * 3, i % 50 * 3 + 100))
            .collect();
        let method = Method::minhash(1, 0.8, 64, 3);
        let first = run(method.clone(), &texts);
        assert_eq!(first, run(method, &texts));
        // Texts 50.. repeat texts 0..50 exactly: all duplicates of earlier items.
        for (i, v) in first.iter().enumerate().skip(50) {
            assert!(matches!(v, Verdict::Duplicate { .. }), "{i}: {v:?}");
        }
        assert!(matches!(first[0], Verdict::First { item: 0 }));
    }
}
