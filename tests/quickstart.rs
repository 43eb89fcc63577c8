//! The README's main command: the offline quickstart on the vendored CHAMP data. It runs
//! in a copy of the recipe and its data (so outputs never land in the repository), with
//! `--offline`: no network, no keys. Its output is checked by counts and known records,
//! which change only when the data or an op's behaviour does (then update them here and
//! in docs/quickstart.md).

mod support;

use std::path::Path;

use serde_json::Value as Json;
use support::{dtac, TempDir};

/// Copies `recipes/quickstart.dta` and `recipes/data/champ/` into a temp dir.
fn copy_quickstart() -> (TempDir, String) {
    let dir = TempDir::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
    let data = Path::new(&dir.path).join("data/champ");
    std::fs::create_dir_all(&data).expect("data dir");
    for name in ["problems.jsonl", "teachers.jsonl", "student.jsonl"] {
        std::fs::copy(root.join("data/champ").join(name), data.join(name)).expect(name);
    }
    let recipe = std::fs::read_to_string(root.join("quickstart.dta")).expect("recipe");
    let path = dir.write("quickstart.dta", &recipe);
    (dir, path)
}

fn lines(dir: &TempDir, name: &str) -> Vec<Json> {
    let text = std::fs::read_to_string(Path::new(&dir.path).join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {e}: {l}")))
        .collect()
}

fn report(dir: &TempDir) -> Json {
    let text = std::fs::read_to_string(Path::new(&dir.path).join(".dtac/report.json"))
        .expect("report.json");
    serde_json::from_str(&text).expect("report JSON")
}

fn stage<'a>(report: &'a Json, name: &str) -> &'a Json {
    report["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no stage `{name}` in the report"))
}

#[test]
fn the_quickstart_runs_offline_and_its_output_is_known() {
    let (dir, recipe) = copy_quickstart();
    let run = dtac(&["run", "--offline", &recipe]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    let report = report(&dir);
    assert_eq!(report["outcome"], "completed");
    let counts = [
        ("problems", 93, 93),
        ("heldout", 25, 25),
        ("student", 118, 118),
        ("candidates", 93, 279),
        ("complete", 279, 275),
        ("checked", 275, 100),
        ("agreed", 100, 100),
        ("clean", 100, 95),
        ("measured", 95, 95),
        ("ranked", 95, 54),
        ("style", 118, 1),
        ("shift", 279, 36),
    ];
    for (name, records_in, records_out) in counts {
        let s = stage(&report, name);
        assert_eq!(
            (s["records_in"].as_u64(), s["records_out"].as_u64()),
            (Some(records_in), Some(records_out)),
            "stage `{name}`"
        );
        assert_eq!(s["errors"], 0, "stage `{name}`");
    }
    assert_eq!(stage(&report, "checked")["dropped"]["wrong answer"], 174);
    assert_eq!(
        stage(&report, "complete")["dropped"]["condition is false"],
        4
    );
    assert_eq!(stage(&report, "ranked")["dropped"]["not chosen"], 41);

    // CHAMP holds a few problems twice under different ids: the split put the copies on
    // both sides, and decontamination finds them by their shared 13-grams.
    let notes = stage(&report, "clean")["drop_notes"]
        .as_array()
        .expect("drop notes")
        .clone();
    assert_eq!(notes.len(), 5);
    let repeated = notes
        .iter()
        .find(|n| n["record"] == "P_Inequality_28/gpt4/0")
        .expect("the repeated problem is dropped");
    assert_eq!(repeated["detail"]["benchmark"], "heldout");
    assert_eq!(repeated["detail"]["benchmark_id"], "P_Inequality_6");
    assert_eq!(repeated["detail"]["field"], "question");

    // The training set: one verified, uncontaminated solution per problem.
    let sft = lines(&dir, "out/quickstart/sft.jsonl");
    assert_eq!(sft.len(), 54);
    assert_eq!(sft[0]["id"], "P_Combinatorics_4");
    let messages = sft[0]["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], "user");
    assert!(messages[0]["content"]
        .as_str()
        .is_some_and(|q| q.contains("involution")));
    assert_eq!(messages[1]["role"], "assistant");
    let ids: Vec<&str> = sft.iter().filter_map(|r| r["id"].as_str()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "one example per problem");
    assert!(!ids.contains(&"P_Inequality_28"), "contaminated");

    let pairs = lines(&dir, "out/quickstart/preference.jsonl");
    assert_eq!(pairs.len(), 33);
    assert!(pairs
        .iter()
        .all(|p| p["chosen"].is_array() && p["rejected"].is_array()));

    // The student's profile, measured from its 118 recorded answers (64 sampled).
    let style = lines(&dir, "out/quickstart/style.jsonl");
    assert_eq!(style.len(), 1);
    assert_eq!(style[0]["features"]["answers"], 64);
    assert_eq!(style[0]["features"]["language"], "en");
    assert!(style[0]["style_guide"]
        .as_str()
        .is_some_and(|g| g.contains("Write in English.")));

    let shift =
        std::fs::read_to_string(Path::new(&dir.path).join("out/quickstart/token-shift.csv"))
            .expect("token shifts");
    assert!(shift.starts_with("token,baseline_rate,aligned_rate,shift,log_ratio,marker\n"));
    assert!(shift.contains("\ntherefore,"));
    assert!(Path::new(&dir.path)
        .join("out/quickstart/sft.jsonl.md")
        .exists());

    // Again: everything from the store, byte-identical exports.
    let before = std::fs::read(Path::new(&dir.path).join("out/quickstart/sft.jsonl")).unwrap();
    let again = dtac(&["run", "--offline", &recipe]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let report = self::report(&dir);
    assert!(report["stages"]
        .as_array()
        .is_some_and(|s| s.iter().all(|s| s["cached"] == true)));
    let after = std::fs::read(Path::new(&dir.path).join("out/quickstart/sft.jsonl")).unwrap();
    assert_eq!(before, after);
}
