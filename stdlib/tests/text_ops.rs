//! `decontaminate`, `dedup` and `token_shift` run end to end: recipes over jsonl files,
//! through the executor and the store, with the stdlib's implementations; the counts,
//! drop notes, report tables and exported records are checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use dtac_interpreter::resolve::resolve;
use dtac_interpreter::{check_path, CheckOptions};
use dtac_runtime::exec::summary::StageSummary;
use dtac_runtime::exec::{Outcome, RunResult};
use dtac_runtime::progress::Quiet;
use dtac_runtime::session::{prepare, Options};
use dtac_runtime::stop::Stop;
use serde_json::{json, Value};

/// A deterministic text of `n` words drawn from a 5,000-word vocabulary.
fn text(seed: u64, n: usize) -> String {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            format!("w{}", state % 5_000)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dtac-text-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_jsonl(path: &Path, rows: &[Value]) {
    let body: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(path, body).unwrap();
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn run(dir: &Path, recipe: &str) -> RunResult {
    let path = dir.join("r.dta");
    std::fs::write(&path, recipe).unwrap();
    let registry = dtac_stdlib::registry();
    let checked = check_path(&path, &registry, &CheckOptions::default());
    assert!(
        !checked.has_errors(),
        "{:?}",
        checked.diags().collect::<Vec<_>>()
    );
    let resolved = resolve(&checked, &registry, &|_| None).unwrap();
    let options = Options {
        state_dir: dir.join(".dtac"),
        ..Options::default()
    };
    let impls = dtac_stdlib::implementations();
    let prepared = prepare(resolved, impls.as_ref(), &options, true)
        .await
        .unwrap();
    let started = prepared.start(
        dtac_stdlib::provider_factory(),
        &options,
        Arc::new(Quiet),
        Stop::new(),
    );
    let result = tokio::time::timeout(Duration::from_secs(120), started.execute())
        .await
        .expect("the run finishes");
    assert_eq!(result.outcome, Outcome::Completed);
    result
}

fn stage<'a>(result: &'a RunResult, name: &str) -> &'a StageSummary {
    result.stages.iter().find(|s| s.name == name).unwrap()
}

/// 10 benchmark items, and 60 records of which those with `i % 12 == 5` carry 13 words
/// of benchmark item `i / 12` in their solution.
fn contamination_case(dir: &Path) -> BTreeMap<String, String> {
    let bench: Vec<Value> = (0..10)
        .map(|b| json!({"id": format!("b{b}"), "problem": text(1_000 + b, 40), "answer": "7"}))
        .collect();
    write_jsonl(&dir.join("bench.jsonl"), &bench);
    let mut planted = BTreeMap::new();
    let data: Vec<Value> = (0..60u64)
        .map(|i| {
            let mut solution = text(i, 120);
            if i % 12 == 5 {
                let item = text(1_000 + i / 12, 40);
                let words: Vec<&str> = item.split(' ').skip(10).take(13).collect();
                solution = format!("{} {} {}", text(i + 500, 30), words.join(" "), solution);
                planted.insert(format!("p{i}"), format!("b{}", i / 12));
            }
            json!({"id": format!("p{i}"), "question": text(i + 7_000, 20), "solution": solution})
        })
        .collect();
    write_jsonl(&dir.join("data.jsonl"), &data);
    planted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decontaminate_drops_records_sharing_an_ngram_and_names_the_benchmark_item() {
    let dir = temp("decon-drop");
    let planted = contamination_case(&dir);
    let result = run(
        &dir,
        "version = 1\n\
         dataset data: jsonl(\"data.jsonl\")\n\
         dataset bench: jsonl(\"bench.jsonl\")\n\
         stage clean: decontaminate(data) { against = [bench], ngram = 13 }\n\
         export clean to \"out/clean.jsonl\" as jsonl { card = false }\n",
    )
    .await;
    let clean = stage(&result, "clean");
    assert_eq!(planted.len(), 5);
    assert_eq!(clean.records_in, 60);
    assert_eq!(clean.dropped["contaminated"], 5);
    assert_eq!(clean.records_out, 55);
    let notes: BTreeMap<&str, &Value> = clean
        .drop_notes
        .iter()
        .map(|n| (n.record.as_str(), &n.detail))
        .collect();
    assert_eq!(notes.len(), 5);
    for (record, item) in &planted {
        let detail = notes[record.as_str()];
        assert_eq!(detail["benchmark"], "bench");
        assert_eq!(detail["benchmark_id"], item.as_str());
        assert_eq!(detail["field"], "solution");
        assert_eq!(detail["ngram"].as_str().unwrap().split(' ').count(), 13);
    }
    let out = read_jsonl(&dir.join("out/clean.jsonl"));
    assert_eq!(out.len(), 55);
    assert!(out.iter().all(|r| r["contaminated"] == false));
    assert!(out
        .iter()
        .all(|r| !planted.contains_key(r["id"].as_str().unwrap())));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decontaminate_flags_instead_of_dropping_and_respects_the_ngram_length() {
    let dir = temp("decon-flag");
    let planted = contamination_case(&dir);
    // 14 words: the planted 13-word runs no longer match.
    let result = run(
        &dir,
        "version = 1\n\
         dataset data: jsonl(\"data.jsonl\")\n\
         dataset bench: jsonl(\"bench.jsonl\")\n\
         stage flagged: decontaminate(data) { against = [bench], action = \"flag\" }\n\
         stage loose: decontaminate(data) { against = [bench], ngram = 14 }\n\
         export flagged to \"out/flagged.jsonl\" as jsonl { card = false }\n",
    )
    .await;
    assert!(stage(&result, "loose").dropped.is_empty());
    assert_eq!(stage(&result, "loose").records_out, 60);
    let flagged = stage(&result, "flagged");
    assert!(flagged.dropped.is_empty() && flagged.drop_notes.is_empty());
    let out = read_jsonl(&dir.join("out/flagged.jsonl"));
    assert_eq!(out.len(), 60);
    for r in &out {
        let id = r["id"].as_str().unwrap();
        match planted.get(id) {
            Some(item) => {
                assert_eq!(r["contaminated"], true);
                assert_eq!(r["contamination"]["benchmark_id"], item.as_str());
                assert_eq!(r["contamination"]["benchmark"], "bench");
            }
            None => {
                assert_eq!(r["contaminated"], false, "{id}");
                assert!(r.get("contamination").is_none());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedup_streams_keeping_the_first_of_each_cluster_in_input_order() {
    let dir = temp("dedup-all");
    // 3,000 records in blocks of 15: five clusters per block, each seen three times,
    // first at offsets 0..5, then as exact copies at 5..10, then with one word changed
    // at 10..15. Copies follow their first record closely, within the 64 records in
    // flight: only decisions taken in input order keep exactly the first ones.
    let mut rows = Vec::new();
    for i in 0..3_000u64 {
        let (block, offset) = (i / 15, i % 15);
        let cluster = block * 5 + offset % 5;
        let mut words: Vec<String> = text(cluster, 150).split(' ').map(String::from).collect();
        if offset >= 10 {
            words[75] = "changed".into();
        }
        rows.push(json!({
            "id": format!("p{i}"),
            "first": offset < 5,
            "solution": words.join(" "),
        }));
    }
    let clusters = 1_000u64;
    write_jsonl(&dir.join("data.jsonl"), &rows);
    let result = run(
        &dir,
        "version = 1\n\
         dataset data: jsonl(\"data.jsonl\")\n\
         stage near: dedup(data) { threshold = 0.8 }\n\
         stage same: dedup(data) { method = \"exact\" }\n\
         export near to \"out/near.jsonl\" as jsonl { card = false }\n",
    )
    .await;
    let near = stage(&result, "near");
    assert_eq!(near.records_out, clusters);
    assert_eq!(near.dropped["duplicate"], 3_000 - clusters);
    let out = read_jsonl(&dir.join("out/near.jsonl"));
    assert!(out.iter().all(|r| r["first"] == true), "a copy was kept");
    // Every note names a kept record; exact copies are similarity 1.
    let note = near.drop_notes.iter().find(|n| n.record == "p20").unwrap();
    assert_eq!(note.reason, "duplicate");
    // Record 20 (block 1, offset 5) copies cluster 5, first seen as record 15.
    assert_eq!(note.detail["of_id"], "p15");
    assert_eq!(note.detail["similarity"], 1.0);
    let changed = near.drop_notes.iter().find(|n| n.record == "p25").unwrap();
    assert_eq!(changed.detail["of_id"], "p15");
    assert!(changed.detail["similarity"].as_f64().unwrap() < 1.0);
    // Exact dedup keeps the changed copies: one per cluster plus one changed text each.
    let same = stage(&result, "same");
    assert_eq!(same.records_out, 2 * clusters);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedup_by_problem_compares_only_candidates_of_the_same_id() {
    let dir = temp("dedup-problem");
    let shared = text(1, 60);
    let rows: Vec<Value> = (0..12u64)
        .map(|i| {
            // Problems p0..p3, three candidates each: the same text twice, one other.
            let p = i % 4;
            let solution = if i >= 8 {
                text(100 + i, 60)
            } else {
                shared.clone()
            };
            json!({"id": format!("p{p}"), "n": i, "solution": solution})
        })
        .collect();
    write_jsonl(&dir.join("data.jsonl"), &rows);
    let result = run(
        &dir,
        "version = 1\n\
         dataset data: jsonl(\"data.jsonl\")\n\
         stage per: dedup(data) { scope = \"problem\", method = \"exact\" }\n\
         stage all: dedup(data) { method = \"exact\" }\n\
         export per to \"out/per.jsonl\" as jsonl { card = false }\n",
    )
    .await;
    // Per problem: the second copy of the shared text goes; across problems it stays.
    assert_eq!(stage(&result, "per").records_out, 8);
    assert_eq!(stage(&result, "per").dropped["duplicate"], 4);
    let kept: Vec<u64> = read_jsonl(&dir.join("out/per.jsonl"))
        .iter()
        .map(|r| r["n"].as_u64().unwrap())
        .collect();
    for p in 0..4 {
        assert!(kept.contains(&p) && kept.contains(&(p + 8)) && !kept.contains(&(p + 4)));
    }
    // Over all records, one copy of the shared text survives.
    assert_eq!(stage(&result, "all").records_out, 5);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_shift_reports_rates_per_thousand_words_and_a_report_table() {
    let dir = temp("shift");
    // Baseline: 10 records of 100 words, "therefore" once in each (10 per 1,000 words).
    // Aligned: 10 records of 100 words, "therefore" 5 times in each (50 per 1,000).
    let make = |n: usize, seed: u64| -> Vec<Value> {
        (0..10u64)
            .map(|i| {
                let filler = text(seed + i, 100 - n);
                let solution = format!("{filler}{}", " Therefore.".repeat(n));
                json!({"id": format!("p{i}"), "solution": solution})
            })
            .collect()
    };
    write_jsonl(&dir.join("raw.jsonl"), &make(1, 0));
    write_jsonl(&dir.join("aligned.jsonl"), &make(5, 0));
    let result = run(
        &dir,
        "version = 1\n\
         dataset raw: jsonl(\"raw.jsonl\")\n\
         dataset aligned: jsonl(\"aligned.jsonl\")\n\
         stage shifts: token_shift(raw, aligned) { top = 3, markers = [\"therefore\", \"hence\"] }\n\
         export shifts to \"out/shifts.jsonl\" as jsonl { card = false }\n",
    )
    .await;
    let out = read_jsonl(&dir.join("out/shifts.jsonl"));
    let therefore = out.iter().find(|r| r["token"] == "therefore").unwrap();
    assert_eq!(therefore["id"], "therefore");
    assert!((therefore["baseline_rate"].as_f64().unwrap() - 10.0).abs() < 1e-9);
    assert!((therefore["aligned_rate"].as_f64().unwrap() - 50.0).abs() < 1e-9);
    assert!((therefore["shift"].as_f64().unwrap() - 40.0).abs() < 1e-9);
    assert_eq!(therefore["marker"], true);
    let hence = out.iter().find(|r| r["token"] == "hence").unwrap();
    assert_eq!(hence["shift"], 0.0);
    // At most `top` shifts plus the markers, sorted by |shift|.
    assert!(out.len() <= 5);
    let shifts: Vec<f64> = out
        .iter()
        .map(|r| r["shift"].as_f64().unwrap().abs())
        .collect();
    assert!(shifts.windows(2).all(|w| w[0] >= w[1]), "{shifts:?}");
    let table = &stage(&result, "shifts").tables[0];
    assert_eq!(table.rows.len(), out.len());
    assert_eq!(table.columns[0], "token");
    assert_eq!(table.rows[0][0], out[0]["token"]);
    let _ = std::fs::remove_dir_all(&dir);
}
