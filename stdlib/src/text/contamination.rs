//! The benchmark n-gram index of `decontaminate`, and the check of one text against it.
//!
//! Every indexed text of every benchmark item contributes the keys of its `n`-word
//! windows (a text shorter than `n` words contributes one key of all its words). A key
//! maps to the first item (in benchmark order, then record order) that has it. The
//! index is built on several threads: each hashes a contiguous run of items into 64
//! shards by the key's top bits, then each shard's map is filled from the runs in order,
//! so the first item wins whatever the thread count.
//!
//! A bitset ([`KeyFilter`]) in front of the maps rules out almost every absent key with
//! one load, so a clean record costs little more than hashing its words.
//!
//! A hit is confirmed before it is reported: the window's words are spelled out again and
//! looked for in the item's texts, so a 64-bit key collision never reports a false
//! match. (A collision between two different benchmark n-grams could hide a true match;
//! the chance is about m²/2^65 for m distinct benchmark n-grams, under 10^-5 at m = 10^7.)

use std::sync::Arc;

use dtac_runtime::op::SideInput;
use dtac_runtime::record::Record;
use serde_json::Value as Json;

use super::field_text;
use super::filter::{FilterBuilder, KeyFilter};
use super::hash::{key_map, KeyMap};
use super::ngrams::keys;
use super::words::{word_hashes, words};

const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;

/// One benchmark: its name in the recipe and its records.
#[derive(Clone, Debug)]
pub struct Benchmark {
    pub name: String,
    pub records: Arc<SideInput>,
}

/// Which fields of a benchmark record are indexed.
#[derive(Clone, Debug)]
pub enum Indexed {
    /// These fields: strings as they are, other values as their JSON text.
    Fields(Vec<String>),
    /// Every string field but `id`, which names the item rather than holding its text.
    Strings,
}

/// A verified match.
#[derive(Clone, Debug, PartialEq)]
pub struct Contamination {
    /// The shared words, normalized, separated by spaces.
    pub ngram: String,
    pub benchmark: String,
    /// The benchmark record's `id`, else its provenance id.
    pub benchmark_id: String,
}

/// The keys of every benchmark item.
#[derive(Debug)]
pub struct BenchIndex {
    n: usize,
    indexed: Indexed,
    benchmarks: Vec<Benchmark>,
    /// Item number of each benchmark's first record.
    starts: Vec<usize>,
    shards: Vec<KeyMap<u32>>,
    filter: KeyFilter,
}

/// Scratch space of [`BenchIndex::find`], reused across calls.
#[derive(Debug, Default)]
pub struct Scratch {
    words: Vec<u64>,
    /// Windows the filter let through: (position, key).
    maybe: Vec<(usize, u64)>,
}

impl BenchIndex {
    /// Indexes the `n`-grams of `benchmarks` on `threads` threads. Fails only when there
    /// are more than 2^32 items, or a thread died (a bug).
    pub fn build(
        benchmarks: Vec<Benchmark>,
        indexed: Indexed,
        n: usize,
        threads: usize,
    ) -> Result<BenchIndex, String> {
        let n = n.max(1);
        let mut starts = Vec::with_capacity(benchmarks.len());
        let mut total = 0usize;
        for b in &benchmarks {
            starts.push(total);
            total += b.records.records.len();
        }
        if u32::try_from(total).is_err() {
            return Err(format!(
                "{total} benchmark items are more than decontaminate can index"
            ));
        }
        let mut index = BenchIndex {
            n,
            indexed,
            benchmarks,
            starts,
            shards: Vec::new(),
            filter: FilterBuilder::new(0).finish(),
        };
        (index.shards, index.filter) = index.fill(total, threads.max(1))?;
        Ok(index)
    }

    /// The distinct keys indexed.
    pub fn len(&self) -> usize {
        self.shards.iter().map(KeyMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn fill(&self, total: usize, threads: usize) -> Result<(Vec<KeyMap<u32>>, KeyFilter), String> {
        let per_run = total.div_ceil(threads).max(1);
        // Phase 1: each thread hashes a run of items into per-shard lists.
        let runs: Vec<Vec<Vec<(u64, u32)>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..total)
                .step_by(per_run)
                .map(|from| s.spawn(move || self.hash_run(from, (from + per_run).min(total))))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| "an indexing thread failed".to_string())
                })
                .collect::<Result<_, _>>()
        })?;
        // Phase 2: each thread fills every `threads`-th shard from the runs, in order, and
        // sets the filter's bits of its keys.
        let pairs = runs.iter().flatten().map(Vec::len).sum();
        let filter = FilterBuilder::new(pairs);
        let (runs, bits) = (&runs, &filter);
        let filled: Vec<Vec<(usize, KeyMap<u32>)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads.min(SHARDS))
                .map(|t| {
                    s.spawn(move || {
                        (t..SHARDS)
                            .step_by(threads)
                            .map(|shard| {
                                let size = runs.iter().map(|r| r[shard].len()).sum();
                                let mut map = key_map(size);
                                for run in runs {
                                    for &(key, item) in &run[shard] {
                                        map.entry(key).or_insert(item);
                                        bits.insert(key);
                                    }
                                }
                                (shard, map)
                            })
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| "an indexing thread failed".to_string())
                })
                .collect::<Result<_, _>>()
        })?;
        let mut shards: Vec<KeyMap<u32>> = (0..SHARDS).map(|_| key_map(0)).collect();
        for (shard, map) in filled.into_iter().flatten() {
            shards[shard] = map;
        }
        Ok((shards, filter.finish()))
    }

    fn hash_run(&self, from: usize, to: usize) -> Vec<Vec<(u64, u32)>> {
        let mut out: Vec<Vec<(u64, u32)>> = vec![Vec::new(); SHARDS];
        let mut hashes = Vec::new();
        for item in from..to {
            let Some(record) = self.item(item) else {
                continue;
            };
            // `build` checked that every item number fits.
            let tag = item as u32;
            self.for_each_text(record, |text| {
                word_hashes(text, &mut hashes);
                for key in keys(&hashes, self.n) {
                    out[shard_of(key)].push((key, tag));
                }
            });
        }
        out
    }

    fn item(&self, item: usize) -> Option<&Record> {
        let b = self.starts.partition_point(|&s| s <= item).checked_sub(1)?;
        self.benchmarks[b]
            .records
            .records
            .get(item - self.starts[b])
    }

    fn benchmark_of(&self, item: usize) -> Option<&Benchmark> {
        let b = self.starts.partition_point(|&s| s <= item).checked_sub(1)?;
        self.benchmarks.get(b)
    }

    fn for_each_text(&self, record: &Record, mut each: impl FnMut(&str)) {
        match &self.indexed {
            Indexed::Fields(fields) => {
                for f in fields {
                    if let Some(text) = field_text(record, f) {
                        each(&text);
                    }
                }
            }
            Indexed::Strings => {
                for (name, value) in &record.fields {
                    if let (false, Json::String(s)) = (name == "id", value) {
                        each(s);
                    }
                }
            }
        }
    }

    /// The first verified match of `text` with any benchmark item.
    pub fn find(&self, text: &str, scratch: &mut Scratch) -> Option<Contamination> {
        word_hashes(text, &mut scratch.words);
        let windows = keys(&scratch.words, self.n);
        let width = windows.width();
        // First the filter alone over every window: independent loads, few branches.
        scratch.maybe.clear();
        for (at, key) in windows.enumerate() {
            if self.filter.may_contain(key) {
                scratch.maybe.push((at, key));
            }
        }
        let mut spelled: Option<Vec<String>> = None;
        for &(at, key) in &scratch.maybe {
            let Some(&item) = self.shards[shard_of(key)].get(&key) else {
                continue;
            };
            let spelled = spelled.get_or_insert_with(|| words(text));
            let Some(window) = spelled.get(at..at + width) else {
                continue;
            };
            if let Some(found) = self.confirm(item as usize, window) {
                return Some(found);
            }
        }
        None
    }

    /// Whether item `item` really contains `window` (a whole text, when shorter than n).
    fn confirm(&self, item: usize, window: &[String]) -> Option<Contamination> {
        let record = self.item(item)?;
        let mut found = false;
        self.for_each_text(record, |text| {
            if found {
                return;
            }
            let theirs = words(text);
            found = if window.len() < self.n {
                theirs == window
            } else {
                theirs.windows(self.n).any(|w| w == window)
            };
        });
        if !found {
            return None;
        }
        let id = record.key_of("id");
        Some(Contamination {
            ngram: window.join(" "),
            benchmark: self.benchmark_of(item)?.name.clone(),
            benchmark_id: if id.is_empty() {
                record.meta.id.clone()
            } else {
                id
            },
        })
    }
}

#[inline]
fn shard_of(key: u64) -> usize {
    (key >> (64 - SHARD_BITS)) as usize
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn bench(name: &str, items: &[serde_json::Value]) -> Benchmark {
        let records = items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let fields = v.as_object().cloned().unwrap_or_default();
                Record::source(name, "bench.jsonl", i as u64, fields)
            })
            .collect();
        Benchmark {
            name: name.to_string(),
            records: Arc::new(SideInput::new(records)),
        }
    }

    fn index(n: usize, threads: usize) -> BenchIndex {
        let a = bench(
            "aime",
            &[
                json!({"id": "1", "question": "Find the number of ordered pairs (x, y) of integers with x^2 + y^2 = 25."}),
                json!({"id": "2", "question": "What is 2+2?", "answer": "4"}),
            ],
        );
        let b = bench(
            "math",
            &[
                json!({"id": "m7", "problem": "Compute the sum of all positive divisors of 360 that are odd numbers only."}),
            ],
        );
        BenchIndex::build(vec![a, b], Indexed::Strings, n, threads).unwrap()
    }

    #[test]
    fn a_shared_ngram_is_found_and_reported_in_words() {
        let idx = index(8, 2);
        let mut scratch = Scratch::default();
        let text = "First we FIND the number of ordered pairs (x,y) of integers with x² ...";
        let m = idx.find(text, &mut scratch).expect("contaminated");
        assert_eq!(m.benchmark, "aime");
        assert_eq!(m.benchmark_id, "1");
        assert_eq!(m.ngram, "find the number of ordered pairs x y");
        let m = idx
            .find(
                "so: the sum of all positive divisors of 360 that are odd",
                &mut scratch,
            )
            .expect("contaminated");
        assert_eq!(
            (m.benchmark.as_str(), m.benchmark_id.as_str()),
            ("math", "m7")
        );
        assert_eq!(m.ngram, "the sum of all positive divisors of 360");
    }

    #[test]
    fn clean_text_and_shorter_overlaps_are_not_matches() {
        let idx = index(8, 3);
        let mut scratch = Scratch::default();
        // Seven shared words are not eight.
        assert_eq!(
            idx.find("find the number of ordered pairs x and more", &mut scratch),
            None
        );
        assert_eq!(idx.find("", &mut scratch), None);
        assert_eq!(
            idx.find("entirely unrelated words here", &mut scratch),
            None
        );
    }

    #[test]
    fn short_texts_are_compared_whole() {
        let idx = index(8, 2);
        let mut scratch = Scratch::default();
        let m = idx
            .find("what is 2 + 2 ?", &mut scratch)
            .expect("whole match");
        assert_eq!(
            (m.benchmark_id.as_str(), m.ngram.as_str()),
            ("2", "what is 2 2")
        );
        // The short item inside a longer text is not a match, nor a part of it alone.
        assert_eq!(idx.find("so what is 2 2 then", &mut scratch), None);
        assert_eq!(idx.find("what is 2", &mut scratch), None);
        // `id` is not indexed by default; `answer` = "4" is, whole.
        assert_eq!(idx.find("1", &mut scratch), None);
        assert!(idx.find("4", &mut scratch).is_some());
    }

    #[test]
    fn only_the_named_fields_are_indexed() {
        let a = bench(
            "b",
            &[
                json!({"id": "1", "question": "one two three four", "answer": "five six seven eight"}),
            ],
        );
        let idx = BenchIndex::build(vec![a], Indexed::Fields(vec!["answer".into()]), 3, 2).unwrap();
        let mut scratch = Scratch::default();
        assert!(idx.find("x five six seven", &mut scratch).is_some());
        assert_eq!(idx.find("x one two three", &mut scratch), None);
    }

    #[test]
    fn the_index_is_the_same_whatever_the_thread_count() {
        // Many items sharing n-grams: the first item must win on every thread count.
        let items: Vec<_> = (0..500)
            .map(|i| json!({"id": format!("{i}"), "q": format!("shared words go here now {i}")}))
            .collect();
        let mut scratch = Scratch::default();
        for threads in [1, 2, 5, 16] {
            let idx =
                BenchIndex::build(vec![bench("b", &items)], Indexed::Strings, 4, threads).unwrap();
            let m = idx.find("shared words go here", &mut scratch).unwrap();
            assert_eq!(m.benchmark_id, "0", "{threads} threads");
            assert_eq!(idx.len(), 2 + 500);
        }
    }
}
