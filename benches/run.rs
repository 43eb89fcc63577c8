//! Benchmarks of the runtime, each as a ratio against a reference measured in the same run:
//!
//! 1. Executor overhead: records through a 5-stage pipeline of cheap `map` ops (a jsonl
//!    source, five renames), against a plain loop in one task doing the same work (parse
//!    each line, apply the five renames, serialize each intermediate record once). The
//!    difference, divided by records × stages, is the executor's cost per record per
//!    stage: channels, ids, provenance, store rows, group commits.
//! 2. Store write throughput: 20,000 responses committed with fsync-safe (synchronous =
//!    FULL) group commits from 64 concurrent writers, against one transaction per response.
//!
//! Run: `cargo bench --bench run`.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use dtac_runtime::store::Store;
use serde_json::{Map, Value};

const RECORDS: usize = 50_000;
const STAGES: usize = 5;

fn main() {
    let dir = std::env::temp_dir().join(format!("dtac-bench-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let data = dir.join("data.jsonl");
    let mut text = String::new();
    for i in 0..RECORDS {
        text.push_str(&format!(
            "{{\"id\":\"p{i}\",\"question\":\"What is {i} + {i}? Explain.\",\"answer\":\"{}\",\"f0\":\"x\"}}\n",
            2 * i
        ));
    }
    std::fs::write(&data, text).expect("write data");
    let mut recipe = String::from("version = 1\ndataset src: jsonl(\"data.jsonl\")\n");
    let mut prev = "src".to_string();
    for s in 0..STAGES {
        recipe.push_str(&format!(
            "stage s{s}: map({prev}) {{ rename = {{ f{} = \"f{s}\" }} }}\n",
            s + 1
        ));
        prev = format!("s{s}");
    }
    let recipe_path = dir.join("bench.dta");
    std::fs::write(&recipe_path, recipe).expect("write recipe");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let mut dtac_times = Vec::new();
    let mut plain_times = Vec::new();
    for round in 0..3 {
        let state = dir.join(format!("state{round}"));
        dtac_times.push(runtime.block_on(run_dtac(&recipe_path, &state)));
        plain_times.push(plain_loop(&data));
    }
    let dtac = median(dtac_times);
    let plain = median(plain_times);
    let per = (dtac.as_secs_f64() - plain.as_secs_f64()) / (RECORDS * STAGES) as f64;
    println!("executor: {RECORDS} records through a source and {STAGES} map stages");
    println!(
        "  dtac run     {:>8.1} ms  ({:.0} records/s)",
        ms(dtac),
        RECORDS as f64 / dtac.as_secs_f64()
    );
    println!("  plain loop   {:>8.1} ms", ms(plain));
    println!(
        "  ratio {:.1}x; overhead {:.2} µs per record per stage (target < 20 µs)",
        dtac.as_secs_f64() / plain.as_secs_f64(),
        per * 1e6
    );

    let (grouped, single) = runtime.block_on(store_throughput(&dir));
    println!("store: 20,000 responses, fsync-safe commits");
    println!(
        "  group commit (64 writers)  {:>8.1} ms  ({:.0} writes/s)",
        ms(grouped),
        20_000.0 / grouped.as_secs_f64()
    );
    println!(
        "  one commit per write       {:>8.1} ms  ({:.0} writes/s, measured on 2,000)",
        ms(single) * 10.0,
        2_000.0 / single.as_secs_f64()
    );
    println!(
        "  ratio {:.1}x faster with group commits",
        (single.as_secs_f64() * 10.0) / grouped.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

async fn run_dtac(recipe: &Path, state: &Path) -> Duration {
    let recipe = support::resolved(recipe);
    let start = Instant::now();
    support::execute(recipe, state).await;
    start.elapsed()
}

/// The same work in one loop: parse, five renames, one serialization per stage.
fn plain_loop(data: &Path) -> Duration {
    let start = Instant::now();
    let text = std::fs::read_to_string(data).expect("data");
    let mut out_bytes = 0usize;
    for line in text.lines() {
        let mut record: Map<String, Value> = serde_json::from_str(line).expect("json");
        for s in 0..STAGES {
            if let Some(v) = record.remove(&format!("f{s}")) {
                record.insert(format!("f{}", s + 1), v);
            }
            out_bytes += serde_json::to_string(&record).expect("ser").len();
        }
    }
    std::hint::black_box(out_bytes);
    start.elapsed()
}

async fn store_throughput(dir: &Path) -> (Duration, Duration) {
    let store = Store::open(&dir.join("store-bench")).expect("store");
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..(20_000 / 64 + 1) {
                let key = format!("k{w}-{i}");
                store
                    .writer()
                    .put_response(key, "{}".into(), "{\"text\":\"answer\"}".into(), 10, 20)
                    .await
                    .expect("write");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let grouped = start.elapsed();

    let conn = rusqlite_conn(&dir.join("single.sqlite"));
    let start = Instant::now();
    for i in 0..2_000 {
        conn.execute(
            "INSERT INTO r VALUES (?1, ?2)",
            (format!("k{i}"), "{\"text\":\"answer\"}"),
        )
        .expect("insert");
    }
    (grouped, start.elapsed())
}

fn rusqlite_conn(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         CREATE TABLE r (key TEXT PRIMARY KEY, response TEXT);",
    )
    .expect("schema");
    conn
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
