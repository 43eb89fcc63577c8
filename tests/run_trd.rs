//! TRD's first two steps through `dtac run`: student rollouts (through an endpoint on the
//! test server, and sampled in-process from a tiny checkpoint), then refinement by OPSD
//! (the student with the reference) and OPD (another teacher), with the raw-vs-refined
//! evidence in the report, truncation of long attempts, and reruns answered from the store.

mod support;

use std::path::Path;

use dtac_testkit::{Rule, Script, TestServer};
use serde_json::{json, Value as Json};
use support::{dtac, dtac_env, TempDir};

fn read(dir: &TempDir, name: &str) -> Vec<Json> {
    std::fs::read_to_string(Path::new(&dir.path).join(name))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn report_stage(dir: &TempDir, stage: &str) -> Json {
    let text =
        std::fs::read_to_string(Path::new(&dir.path).join(".dtac/report.json")).unwrap_or_default();
    let report: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
    report["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == stage)
        .cloned()
        .unwrap_or(Json::Null)
}

const PROBLEMS: &[(&str, &str, &str, &str)] = &[
    (
        "p1",
        "What is 2 + 2?",
        "4",
        "Two plus two is four: \\boxed{4}.",
    ),
    (
        "p2",
        "What is 3 * 3?",
        "9",
        "Three threes are nine: \\boxed{9}.",
    ),
];

fn project() -> TempDir {
    let dir = TempDir::new();
    let lines: String = PROBLEMS
        .iter()
        .map(|(id, q, a, s)| {
            format!(
                "{}\n",
                json!({"id": id, "question": q, "answer": a, "reference": s})
            )
        })
        .collect();
    dir.write("train.jsonl", &lines);
    dir
}

const RECIPE: &str = r#"version = 1
student learner { path = "models/s", endpoint = env("DTAC_TEST_ENDPOINT"), model = "stu" }
teacher fixer { model = "fixer", endpoint = env("DTAC_TEST_ENDPOINT") }
dataset train: jsonl("train.jsonl") { schema = { id: str, question: str, answer: str, reference: str } }
stage attempts: rollout(train) { student = learner, n = 2 }
stage opsd: refine(attempts) { mode = "opsd", teacher = learner, reference = train.reference }
stage opd: refine(attempts) { mode = "opd", teacher = fixer, max_prompt_tokens = 60, truncate = "middle" }
stage checked: verify(opsd) { answer = train.answer, keep = "all" }
export attempts to "out/attempts.jsonl" as jsonl {}
export checked to "out/opsd.jsonl" as jsonl {}
export opd to "out/opd.jsonl" as jsonl {}
"#;

fn script() -> Script {
    Script::new()
        // Rollouts: a wrong, long-winded attempt.
        .rule(Rule::contains("Please reason step by step").reply(format!(
            "{} so the answer is \\boxed{{5}}.",
            "Let me think about this carefully. ".repeat(20)
        )))
        // OPSD: the student rewrites against the reference (fenced, as some models do).
        .rule(
            Rule::contains("Reference solution:")
                .reply("```\nFixed with the reference: \\boxed{4}\n```"),
        )
        // OPD: the other teacher repairs it.
        .rule(Rule::contains("Attempted solution:").reply("Corrected: 2 + 2 = 4, \\boxed{4}."))
}

#[test]
fn rollouts_are_refined_by_opsd_and_opd_with_evidence_in_the_report() {
    let dir = project();
    dir.tiny_checkpoint("models/s");
    let recipe = dir.write("r.dta", RECIPE);
    let server = TestServer::spawn(script());
    let base = server.base_url();
    let env = [("DTAC_TEST_ENDPOINT", base.as_str())];
    let run = dtac_env(&["run", recipe.as_str()], &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    let attempts = read(&dir, "out/attempts.jsonl");
    assert_eq!(attempts.len(), 4);
    let a = &attempts[0];
    assert_eq!(a["candidate_id"], "p1/learner/0");
    assert_eq!(a["sample"], 0);
    assert_eq!(a["teacher"], "learner");
    assert!(a["prompt"]
        .as_str()
        .unwrap()
        .ends_with("put your final answer within \\boxed{}."));
    let bodies: Vec<Json> = server.requests().iter().filter_map(|r| r.json()).collect();
    let rollout = bodies
        .iter()
        .find(|b| {
            b["messages"][0]["content"]
                .as_str()
                .is_some_and(|c| c.contains("Please reason"))
        })
        .unwrap();
    assert_eq!(rollout["model"], "stu");
    assert_eq!(rollout["temperature"], 0.6);
    assert_eq!(rollout["top_p"], 0.95);

    let opsd = read(&dir, "out/opsd.jsonl");
    assert_eq!(opsd.len(), 4);
    let r = &opsd[0];
    assert_eq!(r["solution"], "Fixed with the reference: \\boxed{4}");
    assert!(r["original"].as_str().unwrap().contains("\\boxed{5}"));
    assert!(r["teacher_prompt"]
        .as_str()
        .unwrap()
        .contains("Two plus two is four"));
    assert_eq!(r["refine_mode"], "opsd");
    assert_eq!(r["refiner"], "learner");
    assert_eq!(r["truncated"], false);

    // OPD with a tiny prompt budget: the attempt is cut in the middle, never the problem.
    let opd = read(&dir, "out/opd.jsonl");
    assert_eq!(opd.len(), 4);
    assert_eq!(opd[0]["truncated"], true);
    let prompt = opd[0]["teacher_prompt"].as_str().unwrap();
    assert!(prompt.contains("part of the attempt was cut") && prompt.contains("What is 2 + 2?"));

    // The evidence: raw rollouts all fail, refined ones pass p1 (its answer is 4).
    let table = &report_stage(&dir, "opsd")["tables"][0];
    assert_eq!(table["rows"][0][0], "raw (rollout)");
    assert_eq!(table["rows"][0][3], 0.0);
    assert_eq!(table["rows"][1][3], 0.5);
    assert!(table["rows"][0][4].as_f64().unwrap() > table["rows"][1][4].as_f64().unwrap());

    // A rerun asks nothing new.
    let before = server.requests().len();
    let again = dtac_env(&["run", recipe.as_str()], &env);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(server.requests().len(), before);
}

#[test]
fn opsd_without_a_reference_is_refused() {
    let dir = project();
    dir.tiny_checkpoint("models/s");
    let recipe = dir.write(
        "r.dta",
        "version = 1\nstudent s { path = \"models/s\" }\ndataset train: jsonl(\"train.jsonl\")\n\
         stage a: rollout(train) { student = s }\nstage b: refine(a) { mode = \"opsd\", teacher = s }\n",
    );
    let run = dtac(&["run", recipe.as_str()]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("reference"), "{}", run.stderr);
}

#[test]
fn a_local_student_rolls_out_in_process_and_reproducibly() {
    let recipe = "version = 1\nstudent s { path = \"models/s\", device = \"cpu\" }\n\
        dataset train: jsonl(\"train.jsonl\") { schema = { id: str, question: str, answer: str, reference: str } }\n\
        stage a: rollout(train) { student = s, n = 3, max_tokens = 12 }\n\
        export a to \"out/a.jsonl\" as jsonl {}\n";
    let mut texts = Vec::new();
    for _ in 0..2 {
        let dir = project();
        dir.tiny_checkpoint("models/s");
        let path = dir.write("r.dta", recipe);
        let run = dtac(&["run", path.as_str()]);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let out = read(&dir, "out/a.jsonl");
        assert_eq!(out.len(), 6);
        assert!(out.iter().all(|r| r["tokens"].as_u64().unwrap() <= 12));
        assert!(out.iter().any(|r| r["finish_reason"] == "length"));
        let samples: Vec<String> = out
            .iter()
            .map(|r| r["solution"].as_str().unwrap().to_string())
            .collect();
        // Three samples of one problem differ (temperature 0.6).
        assert!(
            samples[0] != samples[1] || samples[1] != samples[2],
            "{samples:?}"
        );
        texts.push(samples);
    }
    assert_eq!(texts[0], texts[1], "a fresh run draws the same rollouts");
}
