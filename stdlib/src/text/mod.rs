//! Text at corpus scale: the normalization, hashing, n-gram, MinHash and LSH machinery of
//! `decontaminate`, `dedup` and `token_shift`, kept apart from the ops so that the
//! benchmarks can drive it directly.
//!
//! The hot paths allocate nothing per word or n-gram: words are hashed as the scanner
//! passes over their bytes, and n-gram keys roll over the word hashes.

pub mod contamination;
pub mod dedup;
pub mod filter;
pub mod hash;
pub mod lsh;
pub mod minhash;
pub mod ngrams;
pub mod words;

use std::borrow::Cow;

use dtac_runtime::record::Record;
use serde_json::Value as Json;

/// Threads for building the benchmark index: the machine's cores, within 2 to 16. Two
/// even on one core, so the parallel path is the one always exercised; sixteen because
/// the index's 64 shards leave little to share beyond that.
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 16)
}

/// The text of `field` that the text ops read: a string as it is, another value as its
/// JSON text; `None` when the field is missing or null.
pub fn field_text<'a>(record: &'a Record, field: &str) -> Option<Cow<'a, str>> {
    match record.get(field)? {
        Json::Null => None,
        Json::String(s) => Some(Cow::Borrowed(s)),
        other => Some(Cow::Owned(other.to_string())),
    }
}
