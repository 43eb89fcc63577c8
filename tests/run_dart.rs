//! DART's `adapt` through `dtac run` against the test server: simulations from each
//! prefix of an expert solution, the imitation gap, exploration from the prefix before it,
//! the fallback when nothing reaches the answer (keep or drop), the per-problem report,
//! and a rerun answered from the store.

mod support;

use std::path::Path;

use dtac_testkit::{RequestView, Rule, Script, TestServer};
use serde_json::{json, Value as Json};
use support::{dtac_env, TempDir};

fn read(dir: &TempDir, name: &str) -> Vec<Json> {
    std::fs::read_to_string(Path::new(&dir.path).join(name))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// The assistant prefix a request continues ("" when none).
fn prefix(view: &RequestView) -> String {
    view.messages
        .iter()
        .rev()
        .find(|m| m.role == "assistant")
        .map(|m| m.content.clone())
        .unwrap_or_default()
}

/// The student follows the expert through step A, is lost once step B is in its prefix,
/// and, exploring from after step A, sometimes finds the answer (every second sample).
fn script() -> Script {
    Script::new().rule(Rule::any().reply_with(|view: &RequestView| {
        let p = prefix(view);
        let explore = view.last_user.contains("read-only");
        let seed = view.seed.unwrap_or(0);
        if view.last_user.contains("Hard problem") {
            return "No idea. \\boxed{0}".to_string();
        }
        if explore {
            if seed % 2 == 1 {
                "My own way: 3 + 4 = 7, \\boxed{7}.".into()
            } else {
                "Hmm, \\boxed{8}.".into()
            }
        } else if p.contains("Step B") {
            "Confused: \\boxed{9}.".into()
        } else {
            "Then 3 + 4 = 7, \\boxed{7}.".into()
        }
    }))
}

const RECIPE: &str = r#"version = 1
student s { path = "models/s", endpoint = env("DTAC_TEST_ENDPOINT"), model = "stu" }
dataset experts: jsonl("experts.jsonl") { schema = { id: str, question: str, answer: str, solution: str } }
stage kept: adapt(experts) { student = s, explore_samples = 4 }
stage dropped: adapt(experts) { student = s, explore_samples = 4, on_failure = "drop" }
export kept to "out/kept.jsonl" as jsonl {}
export dropped to "out/dropped.jsonl" as jsonl {}
"#;

#[test]
fn the_gap_is_found_and_the_student_continues_in_its_own_words() {
    let dir = TempDir::new();
    dir.tiny_checkpoint("models/s");
    let experts = [
        json!({"id": "e1", "question": "Add 3 and 4.", "answer": "7",
               "solution": "Step A: take 3.\n\nStep B: a detour.\n\nSo \\boxed{7}."}),
        json!({"id": "e2", "question": "Hard problem.", "answer": "7",
               "solution": "Step A.\n\nStep B.\n\n\\boxed{7}"}),
        json!({"id": "e3", "question": "One step.", "answer": "1", "solution": "\\boxed{1}"}),
    ];
    dir.write(
        "experts.jsonl",
        &experts.iter().map(|e| format!("{e}\n")).collect::<String>(),
    );
    let recipe = dir.write("r.dta", RECIPE);
    let server = TestServer::spawn(script());
    let base = server.base_url();
    let env = [("DTAC_TEST_ENDPOINT", base.as_str())];
    let run = dtac_env(&["run", recipe.as_str()], &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    let kept = read(&dir, "out/kept.jsonl");
    assert_eq!(kept.len(), 3);
    let e1 = &kept[0];
    assert_eq!(e1["adaptability"], json!([1.0, 0.0]));
    assert_eq!(e1["gap_step"], 1);
    assert_eq!(e1["adapted"], true);
    assert_eq!(
        e1["solution"],
        "Step A: take 3.\n\nMy own way: 3 + 4 = 7, \\boxed{7}."
    );
    assert_eq!(e1["explore_success"], 0.5);
    assert!(e1["original"].as_str().unwrap().contains("detour"));
    // e2: lost from the first step, nothing reaches 7: the expert text is kept.
    let e2 = &kept[1];
    assert_eq!(e2["gap_step"], 0);
    assert_eq!(e2["adapted"], false);
    assert_eq!(e2["solution"], experts[1]["solution"]);
    // e3: one step, nothing to simulate.
    assert_eq!(kept[2]["gap_step"], -1);
    assert_eq!(kept[2]["adaptability"], json!([]));

    // `on_failure = "drop"` drops e2 only.
    let dropped = read(&dir, "out/dropped.jsonl");
    assert_eq!(
        dropped
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["e1", "e3"]
    );

    // The per-problem table is in the report.
    let report: Json = serde_json::from_str(
        &std::fs::read_to_string(Path::new(&dir.path).join(".dtac/report.json")).unwrap(),
    )
    .unwrap();
    let stage = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "kept")
        .unwrap();
    assert_eq!(stage["tables"][0]["rows"].as_array().unwrap().len(), 3);

    let before = server.requests().len();
    let again = dtac_env(&["run", recipe.as_str()], &env);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        server.requests().len(),
        before,
        "a rerun is answered from the store"
    );
}
