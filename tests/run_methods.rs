//! The method recipes as shipped (`recipes/trd.dta`, `recipes/topd.dta`,
//! `recipes/dart.dta`) run end to end in seconds: copied with the vendored CHAMP problems
//! into a temp dir, tiny random checkpoints at the students' and teachers' paths, the
//! endpoints pointed at the local test server, and `--set` keeping them small. Each ends in
//! a trained student checkpoint.

mod support;

use std::path::Path;

use dtac_numeric::fixtures::{write_tiny_checkpoint, TinySpec};
use dtac_numeric::model::{inspect, Arch};
use dtac_testkit::{Rule, Script, TestServer};
use serde_json::Value as Json;
use support::{dtac_env, TempDir};

fn setup(recipe: &str, models: &[(&str, u64)]) -> (TempDir, String) {
    let dir = TempDir::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
    std::fs::create_dir_all(Path::new(&dir.path).join("data/champ")).unwrap();
    std::fs::copy(
        root.join("data/champ/problems.jsonl"),
        Path::new(&dir.path).join("data/champ/problems.jsonl"),
    )
    .unwrap();
    let text = std::fs::read_to_string(root.join(recipe)).unwrap();
    let path = dir.write(recipe, &text);
    for (rel, seed) in models {
        let mut spec = TinySpec::new(Arch::Qwen3);
        spec.seed = *seed;
        write_tiny_checkpoint(&Path::new(&dir.path).join(rel), &spec).unwrap();
    }
    (dir, path)
}

fn run(path: &str, server: &TestServer, sets: &[&str]) -> support::Run {
    let base = server.base_url();
    let mut args = vec!["run", path];
    for s in sets {
        args.push("--set");
        args.push(s);
    }
    let run = dtac_env(
        &args,
        &[("STUDENT_URL", base.as_str()), ("VLLM_URL", base.as_str())],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    run
}

fn first(dir: &TempDir, rel: &str) -> Json {
    let text = std::fs::read_to_string(Path::new(&dir.path).join(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_str(text.lines().next().expect("a record")).unwrap()
}

fn trained(dir: &TempDir, training: &str, output: &str) {
    let r = first(dir, training);
    assert!(r["steps"].as_u64().unwrap() >= 1, "{r}");
    assert!(r["final_loss"].as_f64().unwrap().is_finite(), "{r}");
    assert!(
        Path::new(&dir.path).join(output).is_dir(),
        "{output} was not written"
    );
}

#[test]
fn trd_recipe_runs_end_to_end() {
    let (dir, path) = setup("trd.dta", &[("models/qwen3-8b", 1)]);
    let server = TestServer::spawn(
        Script::new()
            .rule(
                Rule::contains("Reference solution:")
                    .reply("Following the reference, the answer is \\boxed{239}."),
            )
            .rule(Rule::any().reply("Counting the strings one by one gives \\boxed{240}.")),
    );
    run(&path, &server, &["problems=2", "rollouts=1"]);
    let refined = first(&dir, "out/trd-refined.jsonl");
    assert_eq!(refined["refine_mode"], "opsd");
    assert!(refined["teacher_prompt"]
        .as_str()
        .unwrap()
        .contains("Reference solution"));
    trained(&dir, "out/trd-training.jsonl", "out/trd-student");
    // LoRA adapters in PEFT's layout.
    assert!(Path::new(&dir.path)
        .join("out/trd-student/adapter_config.json")
        .is_file());
}

#[test]
fn topd_recipe_runs_end_to_end() {
    let (dir, path) = setup(
        "topd.dta",
        &[("models/qwen3-1.7b", 1), ("models/qwen3-8b", 2)],
    );
    let server = TestServer::spawn(Script::new());
    run(
        &path,
        &server,
        &[
            "problems=2",
            "rollouts=1",
            "rollout_tokens=24",
            "probe_tokens=4",
            "probes=4",
        ],
    );
    let forks = first(&dir, "out/topd-forks.jsonl");
    assert!(forks["token_weights"].is_array() && forks["guidance"].is_array());
    trained(&dir, "out/topd-training.jsonl", "out/topd-student");
    assert!(
        inspect(&Path::new(&dir.path).join("out/topd-student")).is_ok(),
        "a full checkpoint loads"
    );
    assert!(server.requests().is_empty(), "TOPD runs in-process");
}

#[test]
fn dart_recipe_runs_end_to_end() {
    let (dir, path) = setup("dart.dta", &[("models/qwen2.5-1.5b-instruct", 1)]);
    let server =
        TestServer::spawn(Script::new().rule(Rule::any().reply("So the answer is \\boxed{239}.")));
    run(&path, &server, &["problems=2", "explore=2"]);
    let adapted = std::fs::read_to_string(Path::new(&dir.path).join("out/dart.jsonl")).unwrap();
    assert_eq!(adapted.lines().count(), 2);
    trained(&dir, "out/dart-training.jsonl", "out/dart-student");
}
