//! `verify` and `consensus` run end to end: a table of candidate solutions goes through a
//! recipe with the stdlib's real implementations, and every row's `extracted`, `correct`
//! and `verify_rule` are checked, along with the drops (`keep`), the per-record error of a
//! missing reference, the judge (asked only where the rules cannot decide, on the local
//! test server), and the agreement scores of `consensus`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use dtac_interpreter::resolve::resolve;
use dtac_interpreter::{check_path, CheckOptions};
use dtac_runtime::exec::{Outcome, RunResult};
use dtac_runtime::progress::Quiet;
use dtac_runtime::session::{prepare, Options};
use dtac_runtime::stop::Stop;
use dtac_testkit::{Rule, Script, TestServer};
use serde_json::{json, Value as Json};

/// `(id, teacher, solution, extracted, correct, verify_rule)`; `correct` and the rule as
/// without a judge. `p9` has no reference answer.
const ROWS: &[(&str, &str, &str, &str, bool, &str)] = &[
    (
        "p0",
        "a",
        "so $\\boxed{0.5}$.",
        "0.5",
        true,
        "boxed/fraction",
    ),
    (
        "p0",
        "b",
        "The final answer is 1/2. I hope it is right.",
        "1/2",
        true,
        "final_answer_is/fraction",
    ),
    (
        "p0",
        "c",
        "adding up, I get 3 in the end",
        "3",
        false,
        "last_number/fraction",
    ),
    ("p0", "", "I could not solve it.", "", false, "none"),
    (
        "p1",
        "a",
        "Answer: 42 apples",
        "42 apples",
        true,
        "answer_colon/integer",
    ),
    (
        "p1",
        "b",
        "**Answer:** 41",
        "41",
        false,
        "answer_colon/integer",
    ),
    (
        "p2",
        "a",
        "expanding, $\\boxed{x^{2} + 2x + 1}$",
        "x^{2} + 2x + 1",
        true,
        "boxed/text",
    ),
    (
        "p2",
        "b",
        "it factors: \\boxed{(x+1)^2}",
        "(x+1)^2",
        false,
        "boxed/text",
    ),
    ("p2", "c", "\\boxed{x^2+1}", "x^2+1", false, "boxed/text"),
    ("p9", "a", "\\boxed{7}", "", false, ""),
];

const TRAIN: &str = r#"{"id": "p0", "question": "Half of one?", "answer": "\\frac{1}{2}", "solution": "\\boxed{\\dfrac12}"}
{"id": "p1", "question": "Six times seven?", "answer": 42, "solution": "6 * 7 = 42"}
{"id": "p2", "question": "Expand (x+1)^2.", "answer": "x^2+2x+1", "solution": "Answer: x^2 + 2x + 1"}
"#;

fn recipe(endpoint: &str) -> String {
    let teacher = format!(
        "teacher j {{ model = \"judge-m\", endpoint = \"{endpoint}\", temperature = 0.0 }}\n"
    );
    "version = 1\n\
     dataset train: jsonl(\"train.jsonl\")\n\
     dataset cands: jsonl(\"cands.jsonl\")\n\
     stage checked: verify(cands) { answer = train.answer, keep = \"all\", max_error_rate = 0.5 }\n\
     stage kept: verify(cands) { answer = train.answer, max_error_rate = 0.5 }\n\
     stage wrong: verify(cands) { answer = train.answer, keep = \"incorrect\", max_error_rate = 0.5 }\n\
     stage judged: verify(cands) { answer = train.answer, keep = \"all\", judge = j, max_error_rate = 0.5 }\n\
     stage own: verify(train) { keep = \"all\" }\n\
     stage agreed: consensus(checked) { min_agreement = 0.5 }\n\
     export checked to \"out/checked.jsonl\" as jsonl { card = false }\n\
     export kept to \"out/kept.jsonl\" as jsonl { card = false }\n\
     export wrong to \"out/wrong.jsonl\" as jsonl { card = false }\n\
     export judged to \"out/judged.jsonl\" as jsonl { card = false }\n\
     export own to \"out/own.jsonl\" as jsonl { card = false }\n\
     export agreed to \"out/agreed.jsonl\" as jsonl { card = false }\n"
        .replace("version = 1\n", &format!("version = 1\n{teacher}"))
}

fn write_case(dir: &Path, endpoint: &str) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("temp dir");
    let cands: String = ROWS
        .iter()
        .map(|(id, teacher, solution, ..)| {
            let mut row = json!({"id": id, "solution": solution});
            if !teacher.is_empty() {
                row["teacher"] = json!(teacher);
            }
            format!("{row}\n")
        })
        .collect();
    std::fs::write(dir.join("cands.jsonl"), cands).expect("write");
    std::fs::write(dir.join("train.jsonl"), TRAIN).expect("write");
    let path = dir.join("r.dta");
    std::fs::write(&path, recipe(endpoint)).expect("write");
    path
}

async fn run(recipe: &Path) -> RunResult {
    let registry = dtac_stdlib::registry();
    let checked = check_path(recipe, &registry, &CheckOptions::default());
    assert!(
        !checked.has_errors(),
        "{:?}",
        checked.diags().collect::<Vec<_>>()
    );
    let resolved = resolve(&checked, &registry, &|_| None).expect("resolves");
    let options = Options {
        state_dir: recipe.parent().expect("a dir").join(".dtac"),
        ..Options::default()
    };
    let prepared = prepare(resolved, &dtac_stdlib::impls::Stdlib, &options, true)
        .await
        .expect("prepares");
    let started = prepared.start(
        dtac_stdlib::provider_factory(),
        &options,
        Arc::new(Quiet),
        Stop::new(),
    );
    tokio::time::timeout(Duration::from_secs(120), started.execute())
        .await
        .expect("the run finishes")
}

fn output(dir: &Path, name: &str) -> Vec<Json> {
    std::fs::read_to_string(dir.join("out").join(name))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn judge_script() -> Script {
    Script::new()
        .rule(
            Rule::contains("Candidate answer: (x+1)^2")
                .reply(r#"{"equivalent": true, "rationale": "the square expands to it"}"#),
        )
        .rule(
            Rule::contains("Candidate answer:")
                .reply(r#"{"equivalent": false, "rationale": "different"}"#),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_and_consensus_through_a_recipe() {
    let dir = std::env::temp_dir().join(format!("dtac-verify-table-{}", std::process::id()));
    let server = TestServer::start(judge_script()).await;
    let recipe = write_case(&dir, &server.base_url());
    let result = run(&recipe).await;
    assert_eq!(result.outcome, Outcome::Completed, "{:?}", result.stages);
    let stages: BTreeMap<&str, _> = result.stages.iter().map(|s| (s.name.as_str(), s)).collect();

    // keep = "all": every row annotated, the row without a reference an error.
    let checked = output(&dir, "checked.jsonl");
    let answered = &ROWS[..ROWS.len() - 1];
    assert_eq!(checked.len(), answered.len());
    for (row, (got, want)) in checked.iter().zip(answered).enumerate() {
        let (_, _, solution, extracted, correct, rule) = *want;
        assert_eq!(
            (
                got["extracted"].as_str(),
                got["correct"].as_bool(),
                got["verify_rule"].as_str()
            ),
            (Some(extracted), Some(correct), Some(rule)),
            "row {row}: {solution:?}"
        );
    }
    assert_eq!(stages["checked"].errors, 1);
    let (_, message) = &stages["checked"].error_samples[0];
    assert!(
        message.contains("no `train` record with id `p9` has `answer`"),
        "{message}"
    );

    // keep = "correct" and "incorrect": drops counted by reason.
    let kept = output(&dir, "kept.jsonl");
    let right = answered.iter().filter(|r| r.4).count();
    assert_eq!(kept.len(), right);
    assert!(kept.iter().all(|r| r["correct"] == true));
    assert_eq!(stages["kept"].dropped.get("wrong answer"), Some(&4));
    assert_eq!(stages["kept"].dropped.get("no answer"), Some(&1));
    assert_eq!(output(&dir, "wrong.jsonl").len(), answered.len() - right);
    assert_eq!(
        stages["wrong"].dropped.get("correct answer"),
        Some(&(right as u64))
    );

    // The judge decides only the two rows the rules could not.
    let judged = output(&dir, "judged.jsonl");
    let rules: Vec<&str> = judged
        .iter()
        .map(|r| r["verify_rule"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(rules[6..], ["boxed/text", "judge", "judge"]);
    assert_eq!(judged[7]["correct"], true, "(x+1)^2 judged equivalent");
    assert_eq!(judged[8]["correct"], false);
    assert_eq!(server.requests().len(), 2);
    let asked = server.requests()[0].body_text();
    assert!(
        asked.contains("Reference answer: x^2+2x+1"),
        "the judge sees the reference: {asked}"
    );
    assert!(
        asked.contains("Expand (x+1)^2."),
        "and the problem: {asked}"
    );

    // Without `answer = ...`, each record's own `answer` (a JSON number for p1).
    let own = output(&dir, "own.jsonl");
    let own_correct: Vec<bool> = own.iter().map(|r| r["correct"] == true).collect();
    assert_eq!(own_correct, [true, true, true]);
    assert_eq!(own[0]["verify_rule"], "boxed/fraction");

    // consensus by teacher: p0 has voters a, b (1/2), c (3) and one without a teacher
    // (nothing); p1 a and b disagree; p2 three different texts.
    let agreed = output(&dir, "agreed.jsonl");
    let summary: Vec<(String, f64, String, bool)> = agreed
        .iter()
        .map(|r| {
            (
                r["extracted"].as_str().unwrap_or_default().to_string(),
                r["agreement"].as_f64().unwrap_or(-1.0),
                r["majority"].as_str().unwrap_or_default().to_string(),
                r["in_majority"] == true,
            )
        })
        .collect();
    let row = |e: &str, a: f64, m: &str, i: bool| (e.to_string(), a, m.to_string(), i);
    assert_eq!(
        summary,
        [
            row("0.5", 0.5, "0.5", true),
            row("1/2", 0.5, "0.5", true),
            row("42 apples", 0.5, "42 apples", true),
            row("41", 0.5, "42 apples", false),
        ]
    );
    assert_eq!(stages["agreed"].dropped.get("low agreement"), Some(&5));
    assert_eq!(agreed[0]["_provenance"]["scores"]["agreement"], 0.5);

    // A second run changes nothing and asks nothing.
    let again = run(&recipe).await;
    assert_eq!(again.outcome, Outcome::Completed);
    assert!(again.stages.iter().all(|s| s.cached));
    assert_eq!(server.requests().len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
