//! Benchmark of the text-scale ops, `decontaminate` and `dedup`, each against a
//! straightforward single-threaded reference measured in the same run
//! (`text/reference.rs`: `HashSet<String>` of n-grams, of normalized texts, SipHash per
//! MinHash permutation), on a synthetic corpus (`text/corpus.rs`: seeded Zipf words,
//! 100–300 words per record, contaminated and duplicated records planted).
//!
//! 1. decontaminate (13-grams): the benchmark index build (on all cores, as the op does)
//!    and the check of every record (one thread, as the op streams), in MB/s of checked
//!    text; the reference must flag exactly the same records.
//! 2. dedup, exact and MinHash (128 permutations, 5-word shingles, threshold 0.85), in
//!    MB/s, with the records kept by each side.
//! 3. `dtac run` of a recipe reading the corpus and the benchmark from jsonl files with a
//!    `decontaminate` stage: the whole pipeline, store included.
//!
//! Run: `cargo bench --bench text` (50,000 records against 10,000 benchmark items, under
//! a minute). `DTAC_BENCH_SCALE=full cargo bench --bench text`: 1,000,000 records against
//! 100,000 items; the references then run on a prefix of the corpus and the ratios
//! compare throughputs.

mod support;

#[path = "text/corpus.rs"]
mod corpus;
#[path = "text/reference.rs"]
mod reference;

use std::sync::Arc;
use std::time::{Duration, Instant};

use dtac_runtime::op::SideInput;
use dtac_runtime::record::Record;
use dtac_stdlib::text::contamination::{BenchIndex, Benchmark, Indexed, Scratch};
use dtac_stdlib::text::dedup::{Deduper, Method, Verdict};
use serde_json::json;

use corpus::Corpus;

const NGRAM: usize = 13;
const PERMUTATIONS: usize = 128;
const SHINGLE: usize = 5;
const THRESHOLD: f64 = 0.85;

/// Corpus sizes, and how many records each reference sees.
struct Scale {
    name: &'static str,
    records: usize,
    bench: usize,
    reference_decontaminate: usize,
    reference_exact: usize,
    reference_minhash: usize,
}

const DEFAULT: Scale = Scale {
    name: "default",
    records: 50_000,
    bench: 10_000,
    reference_decontaminate: 50_000,
    reference_exact: 50_000,
    reference_minhash: 50_000,
};

const FULL: Scale = Scale {
    name: "full",
    records: 1_000_000,
    bench: 100_000,
    reference_decontaminate: 100_000,
    reference_exact: 200_000,
    reference_minhash: 20_000,
};

fn main() {
    let scale = match std::env::var("DTAC_BENCH_SCALE").as_deref() {
        Ok("full") => FULL,
        _ => DEFAULT,
    };
    let started = Instant::now();
    let corpus = Corpus::generate(scale.records, scale.bench, 42);
    println!(
        "text ({} scale): {} records, {:.1} MB, against {} benchmark items; {} threads; \
         generated in {:.1} s",
        scale.name,
        scale.records,
        mb(corpus.bytes()),
        scale.bench,
        dtac_stdlib::text::threads(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "  planted: {} contaminated, {} exact copies, {} near copies (~1% of words changed)",
        corpus.contaminated, corpus.exact_copies, corpus.near_copies
    );
    let flagged = decontaminate(&corpus, &scale);
    dedup_exact(&corpus, &scale);
    dedup_minhash(&corpus, &scale);
    end_to_end(&corpus, flagged);
}

fn decontaminate(corpus: &Corpus, scale: &Scale) -> usize {
    let records: Vec<Record> = corpus
        .bench
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let fields = json!({"id": format!("b{i}"), "problem": text});
            Record::source("bench", "bench.jsonl", i as u64, object(fields))
        })
        .collect();
    let benchmarks = vec![Benchmark {
        name: "bench".into(),
        records: Arc::new(SideInput::new(records)),
    }];
    let threads = dtac_stdlib::text::threads();
    let start = Instant::now();
    let index = BenchIndex::build(benchmarks, Indexed::Strings, NGRAM, threads).expect("index");
    let build = start.elapsed();
    let start = Instant::now();
    let mut scratch = Scratch::default();
    let flags: Vec<bool> = corpus
        .records
        .iter()
        .map(|r| index.find(r, &mut scratch).is_some())
        .collect();
    let check = start.elapsed();
    let flagged = flags.iter().filter(|&&f| f).count();

    let start = Instant::now();
    let naive = reference::Ngrams::build(&corpus.bench, NGRAM);
    let naive_build = start.elapsed();
    let sample = &corpus.records[..scale.reference_decontaminate];
    let start = Instant::now();
    let naive_flags: Vec<bool> = sample.iter().map(|r| naive.contaminated(r)).collect();
    let naive_check = start.elapsed();
    assert_eq!(
        flags[..sample.len()],
        naive_flags[..],
        "dtac and the reference flag the same records"
    );
    assert_eq!(index.len(), naive.len(), "the same distinct n-grams");

    let bytes = corpus.bytes();
    let sample_bytes: usize = sample.iter().map(String::len).sum();
    println!(
        "decontaminate, {NGRAM}-grams ({} distinct in the benchmark)",
        index.len()
    );
    println!(
        "  dtac index       {:>9.1} ms  ({threads} threads)",
        ms(build)
    );
    println!(
        "  dtac check       {:>9.1} ms  {:>7.1} MB/s  ({flagged} records flagged)",
        ms(check),
        rate(bytes, check)
    );
    println!(
        "  dtac total       {:>9.1} ms  {:>7.1} MB/s",
        ms(build + check),
        rate(bytes, build + check)
    );
    println!("  reference index  {:>9.1} ms", ms(naive_build));
    println!(
        "  reference check  {:>9.1} ms  {:>7.1} MB/s  (on {} records, same flags)",
        ms(naive_check),
        rate(sample_bytes, naive_check),
        sample.len()
    );
    println!(
        "  ratio: index {:.1}x, check {:.1}x faster",
        naive_build.as_secs_f64() / build.as_secs_f64(),
        rate(bytes, check) / rate(sample_bytes, naive_check)
    );
    flagged
}

/// Runs `method` over `texts` in order, as the streaming op does; returns the records
/// kept and the time.
fn dtac_dedup(method: &Method, texts: &[String]) -> (usize, Duration) {
    let start = Instant::now();
    let mut deduper = Deduper::new(method.clone());
    let mut scratch = Vec::new();
    let kept = texts
        .iter()
        .filter(|t| {
            let fingerprint = method.fingerprint(t, &mut scratch);
            !matches!(deduper.decide(&fingerprint), Verdict::Duplicate { .. })
        })
        .count();
    (kept, start.elapsed())
}

fn dedup_exact(corpus: &Corpus, scale: &Scale) {
    let (kept, took) = dtac_dedup(&Method::Exact, &corpus.records);
    let sample = &corpus.records[..scale.reference_exact];
    let (dtac_sample_kept, _) = dtac_dedup(&Method::Exact, sample);
    let start = Instant::now();
    let naive_kept = reference::exact(sample);
    let naive = start.elapsed();
    assert_eq!(
        dtac_sample_kept, naive_kept,
        "exact dedup keeps the same records"
    );
    let sample_bytes: usize = sample.iter().map(String::len).sum();
    println!("dedup, exact");
    println!(
        "  dtac             {:>9.1} ms  {:>7.1} MB/s  ({kept} kept)",
        ms(took),
        rate(corpus.bytes(), took)
    );
    println!(
        "  reference        {:>9.1} ms  {:>7.1} MB/s  (on {} records, same kept)",
        ms(naive),
        rate(sample_bytes, naive),
        sample.len()
    );
    println!(
        "  ratio {:.1}x faster",
        rate(corpus.bytes(), took) / rate(sample_bytes, naive)
    );
}

fn dedup_minhash(corpus: &Corpus, scale: &Scale) {
    let method = Method::minhash(SHINGLE, THRESHOLD, PERMUTATIONS, 0);
    let Method::MinHash(m) = &method else {
        unreachable!("a MinHash method")
    };
    let bands = m.bands;
    let (kept, took) = dtac_dedup(&method, &corpus.records);
    let sample = &corpus.records[..scale.reference_minhash];
    let (dtac_sample_kept, _) = dtac_dedup(&method, sample);
    let start = Instant::now();
    let naive_kept = reference::minhash(
        sample,
        PERMUTATIONS,
        SHINGLE,
        THRESHOLD,
        bands.bands,
        bands.rows,
    );
    let naive = start.elapsed();
    let sample_bytes: usize = sample.iter().map(String::len).sum();
    println!(
        "dedup, MinHash ({PERMUTATIONS} permutations, {SHINGLE}-word shingles, threshold \
         {THRESHOLD}, {} bands of {} rows)",
        bands.bands, bands.rows
    );
    println!(
        "  dtac             {:>9.1} ms  {:>7.1} MB/s  ({kept} kept; {dtac_sample_kept} of the \
         first {})",
        ms(took),
        rate(corpus.bytes(), took),
        sample.len()
    );
    println!(
        "  reference        {:>9.1} ms  {:>7.1} MB/s  ({naive_kept} kept of {} records)",
        ms(naive),
        rate(sample_bytes, naive),
        sample.len()
    );
    println!(
        "  ratio {:.1}x faster",
        rate(corpus.bytes(), took) / rate(sample_bytes, naive)
    );
}

/// The whole pipeline: jsonl source, `decontaminate` stage, store.
fn end_to_end(corpus: &Corpus, flagged: usize) {
    let dir = std::env::temp_dir().join(format!("dtac-bench-text-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    write_jsonl(&dir.join("data.jsonl"), &corpus.records, "r", "solution");
    write_jsonl(&dir.join("bench.jsonl"), &corpus.bench, "b", "problem");
    let recipe = dir.join("bench.dta");
    std::fs::write(
        &recipe,
        "version = 1\n\
         dataset data: jsonl(\"data.jsonl\")\n\
         dataset bench: jsonl(\"bench.jsonl\")\n\
         stage clean: decontaminate(data) { against = [bench], fields = [\"solution\"] }\n",
    )
    .expect("recipe");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let resolved = support::resolved(&recipe);
    let start = Instant::now();
    let result = runtime.block_on(support::execute(resolved, &dir.join("state")));
    let wall = start.elapsed();
    let clean = result
        .stages
        .iter()
        .find(|s| s.name == "clean")
        .expect("the stage ran");
    let dropped = clean.dropped.get("contaminated").copied().unwrap_or(0);
    assert_eq!(
        dropped as usize, flagged,
        "the stage drops what the index flags"
    );
    println!("dtac run: jsonl source + decontaminate stage (store included)");
    println!(
        "  wall             {:>9.1} s   {:>7.1} MB/s  ({:.0} records/s; {dropped} dropped)",
        wall.as_secs_f64(),
        rate(corpus.bytes(), wall),
        corpus.records.len() as f64 / wall.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn write_jsonl(path: &std::path::Path, texts: &[String], prefix: &str, field: &str) {
    use std::io::Write;
    let file = std::fs::File::create(path).expect("create");
    let mut out = std::io::BufWriter::new(file);
    for (i, t) in texts.iter().enumerate() {
        let line = json!({"id": format!("{prefix}{i}"), field: t});
        writeln!(out, "{line}").expect("write");
    }
    out.flush().expect("flush");
}

fn object(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

fn rate(bytes: usize, took: Duration) -> f64 {
    mb(bytes) / took.as_secs_f64().max(1e-9)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
