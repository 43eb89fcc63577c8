//! Straightforward single-threaded implementations of the same tasks, written the way
//! one would without caring for speed: strings for every word and n-gram, std's SipHash
//! per permutation. The benchmark reports dtac's speed as a ratio to these.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// Lowercase; anything not alphanumeric separates words (the synthetic corpus has no
/// LaTeX, so this agrees with dtac's normalization on it).
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// Every space-joined n-gram of the benchmark, in a `HashSet<String>`.
pub struct Ngrams {
    n: usize,
    set: HashSet<String>,
}

impl Ngrams {
    pub fn build(bench: &[String], n: usize) -> Ngrams {
        let mut set = HashSet::new();
        for item in bench {
            let w = words(item);
            if w.len() < n {
                set.insert(w.join(" "));
            }
            for window in w.windows(n) {
                set.insert(window.join(" "));
            }
        }
        Ngrams { n, set }
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn contaminated(&self, text: &str) -> bool {
        let w = words(text);
        if w.len() < self.n {
            return !w.is_empty() && self.set.contains(&w.join(" "));
        }
        w.windows(self.n).any(|g| self.set.contains(&g.join(" ")))
    }
}

/// Exact dedup: a `HashSet` of normalized texts. Returns the records kept.
pub fn exact(records: &[String]) -> usize {
    let mut seen = HashSet::new();
    records
        .iter()
        .filter(|r| {
            let w = words(r);
            w.is_empty() || seen.insert(w.join(" "))
        })
        .count()
}

/// MinHash dedup: each shingle string hashed once per permutation with SipHash, bands in
/// a `HashMap` keyed by the band's values. Returns the records kept.
pub fn minhash(
    records: &[String],
    permutations: usize,
    shingle: usize,
    threshold: f64,
    bands: usize,
    rows: usize,
) -> usize {
    let mut buckets: HashMap<(usize, Vec<u64>), Vec<usize>> = HashMap::new();
    let mut kept: Vec<Vec<u64>> = Vec::new();
    let mut empty = 0;
    for record in records {
        let w = words(record);
        if w.is_empty() {
            empty += 1;
            continue;
        }
        let shingles: Vec<String> = if w.len() < shingle {
            vec![w.join(" ")]
        } else {
            w.windows(shingle).map(|s| s.join(" ")).collect()
        };
        let signature: Vec<u64> = (0..permutations)
            .map(|p| {
                shingles
                    .iter()
                    .map(|s| {
                        let mut h = DefaultHasher::new();
                        (p, s).hash(&mut h);
                        h.finish()
                    })
                    .min()
                    .unwrap_or(u64::MAX)
            })
            .collect();
        let keys: Vec<(usize, Vec<u64>)> = (0..bands)
            .map(|b| (b, signature[b * rows..(b + 1) * rows].to_vec()))
            .collect();
        let duplicate = keys.iter().any(|k| {
            buckets.get(k).is_some_and(|items| {
                items.iter().any(|&i| {
                    let equal = kept[i]
                        .iter()
                        .zip(&signature)
                        .filter(|(a, b)| a == b)
                        .count();
                    equal as f64 / permutations as f64 >= threshold
                })
            })
        });
        if !duplicate {
            for k in keys {
                buckets.entry(k).or_default().push(kept.len());
            }
            kept.push(signature);
        }
    }
    kept.len() + empty
}
