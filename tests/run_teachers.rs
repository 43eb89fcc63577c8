//! Teachers beyond one online request per answer, through `dtac run` against the local
//! test server: the Batch API (round trip, resubmission, collection after a kill), the
//! replay teacher, validated JSON answers with repair turns (`judge`), prompt scoring
//! through `/v1/completions` (`score`, `perplexity`) and log-probabilities in records.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dtac_testkit::{Fault, Rule, Script, TestServer, Trigger};
use serde_json::Value as Json;
use support::{dtac_env, TempDir};

const SECRET: &str = "sk-test-SECRET-7777";

fn problems(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"id\":\"p{i}\",\"question\":\"What is {i} + {i}?\",\"answer\":\"{}\",\"solution\":\"{i} + {i} = {}\"}}\n",
                2 * i,
                2 * i
            )
        })
        .collect()
}

struct Case {
    dir: TempDir,
    recipe: String,
    server: TestServer,
}

fn case(records: usize, recipe: &str, script: Script) -> Case {
    let dir = TempDir::new();
    dir.write("data.jsonl", &problems(records));
    let recipe = dir.write("r.dta", recipe);
    Case {
        dir,
        recipe,
        server: TestServer::spawn(script),
    }
}

impl Case {
    fn run(&self, args: &[&str]) -> support::Run {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        all.push(&self.recipe);
        let base = self.server.base_url();
        dtac_env(
            &all,
            &[
                ("DTAC_TEST_ENDPOINT", base.as_str()),
                ("DTAC_TEST_KEY", SECRET),
            ],
        )
    }

    fn output(&self, name: &str) -> Vec<Json> {
        let text =
            std::fs::read_to_string(Path::new(&self.dir.path).join(name)).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    fn jobs_left(&self) -> i64 {
        let db = Path::new(&self.dir.path).join(".dtac/store.sqlite");
        let conn = rusqlite::Connection::open(db).expect("store");
        conn.query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get(0))
            .expect("jobs table")
    }
}

const HEAD: &str = r#"version = 1
dataset train: jsonl("data.jsonl")
"#;

fn batch_recipe() -> String {
    format!(
        r#"{HEAD}teacher b {{ model = "m1", endpoint = env("DTAC_TEST_ENDPOINT"), api_key = env("DTAC_TEST_KEY"), mode = "batch", poll_interval = 50ms, max_attempts = 3 }}
stage candidates: generate(train) {{ teachers = [b] }}
export candidates to "out/c.jsonl" as jsonl {{ card = false }}
"#
    )
}

#[test]
fn batch_mode_round_trips_and_resubmits_failed_lines() {
    let script = Script::new()
        .batch_delay(Duration::from_millis(100))
        .rule(Rule::contains("What is 1 + 1").fault(Trigger::FirstAttempts(1), Fault::status(500)));
    let c = case(5, &batch_recipe(), script);
    let run = c.run(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = c.output("out/c.jsonl");
    assert_eq!(out.len(), 5);
    assert!(out
        .iter()
        .all(|r| r["solution"].as_str().is_some_and(|s| !s.is_empty())));
    let stats = c.server.stats();
    // One batch for all five, a second for the line that failed with a 500.
    assert_eq!(stats.batches_created, 2, "{:?}", c.server.batches());
    assert_eq!(
        stats.path_count("/v1/chat/completions"),
        0,
        "nothing went online"
    );
    assert_eq!(c.jobs_left(), 0, "finished batches are forgotten");
    // Answers landed in the response cache: a second run sends nothing.
    let again = c.run(&[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(c.server.stats().batches_created, 2);
    // The key went in headers only, never into the state dir or the uploaded files'
    // stored copies.
    let uploads = c.server.requests();
    assert!(uploads
        .iter()
        .any(|r| r.header("authorization") == Some(&format!("Bearer {SECRET}"))));
    for f in files(Path::new(&c.dir.path)) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).expect("read")).into_owned();
        assert!(!text.contains(SECRET), "{} holds the key", f.display());
    }
}

#[test]
fn a_killed_run_collects_its_submitted_batch_instead_of_paying_again() {
    let script = Script::new().batch_delay(Duration::from_secs(3));
    let c = case(4, &batch_recipe(), script);
    let base = c.server.base_url();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dtac"))
        .args(["run", &c.recipe])
        .env("DTAC_TEST_ENDPOINT", &base)
        .env("DTAC_TEST_KEY", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dtac starts");
    let started = Instant::now();
    while c.server.stats().batches_created == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no batch was created"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Give the run a moment to record the batch, then kill it outright.
    std::thread::sleep(Duration::from_millis(300));
    child.kill().expect("kill");
    let _ = child.wait();
    assert_eq!(c.jobs_left(), 1, "the submitted batch is recorded");
    let run = c.run(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(c.output("out/c.jsonl").len(), 4);
    assert_eq!(
        c.server.stats().batches_created,
        1,
        "the same batch was collected"
    );
    assert_eq!(c.jobs_left(), 0);
}

#[test]
fn a_replay_teacher_answers_offline_and_names_what_it_lacks() {
    let recipe = format!(
        r#"{HEAD}teacher r {{ model = "m1", mode = "replay", replay = "recorded.jsonl" }}
stage candidates: generate(train) {{ teachers = [r], on_error = "skip", max_error_rate = 0.5 }}
export candidates to "out/c.jsonl" as jsonl {{ card = false }}
"#
    );
    let c = case(3, &recipe, Script::new());
    c.dir.write(
        "recorded.jsonl",
        concat!(
            r#"{"id": "p0", "model": "m1", "response": "zero plus zero is 0"}"#,
            "\n",
            r#"{"id": "p1", "model": "m1", "response": {"choices": [{"message": {"content": "1 + 1 = 2"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 9, "completion_tokens": 5}}}"#,
            "\n"
        ),
    );
    let run = c.run(&["--offline"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = c.output("out/c.jsonl");
    let texts: Vec<&str> = out.iter().filter_map(|r| r["solution"].as_str()).collect();
    assert_eq!(texts, ["zero plus zero is 0", "1 + 1 = 2"]);
    assert_eq!(c.server.stats().total, 0, "nothing reached the network");
    let report = std::fs::read_to_string(Path::new(&c.dir.path).join(".dtac/report.json"))
        .unwrap_or_default();
    let all = format!("{}{}{report}", run.stdout, run.stderr);
    assert!(
        all.contains("has no answer for stage `candidates`, record `p2`"),
        "{all}"
    );
    // Editing the file reruns the stage with the new answers.
    c.dir.write(
        "recorded.jsonl",
        "{\"id\": \"p0\", \"model\": \"m1\", \"response\": \"0\"}\n{\"id\": \"p1\", \"model\": \"m1\", \"response\": \"2\"}\n{\"id\": \"p2\", \"model\": \"m1\", \"response\": \"4\"}\n",
    );
    let again = c.run(&["--offline"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let texts: Vec<String> = c
        .output("out/c.jsonl")
        .iter()
        .filter_map(|r| r["solution"].as_str().map(String::from))
        .collect();
    assert_eq!(texts, ["0", "2", "4"]);
}

#[test]
fn judge_answers_are_validated_and_repaired() {
    let valid = r#"{"scores": {"correctness": 9, "clarity": 7}, "overall": 8, "rationale": "Right and short."}"#;
    let script = Script::new()
        // A repair turn quotes the errors; the judge then answers properly.
        .rule(Rule::contains("was not valid").reply(valid))
        // First answers: out of range for p0, prose-wrapped but valid for p1, never
        // valid for p2.
        .rule(Rule::contains("What is 0 + 0").reply(
            r#"{"scores": {"correctness": 11, "clarity": 7}, "overall": 8, "rationale": "x"}"#,
        ))
        .rule(
            Rule::contains("What is 1 + 1")
                .reply(format!("Here is my verdict:\n```json\n{valid}\n```")),
        )
        .rule(Rule::contains("What is 2 + 2").reply("I think it is fine."));
    let recipe = format!(
        r#"{HEAD}teacher j {{ model = "judge-m", endpoint = env("DTAC_TEST_ENDPOINT"), temperature = 0.0 }}
stage judged: judge(train) {{ teacher = j, rubric = ["correctness", "clarity"], repair_attempts = 0, on_error = "skip", max_error_rate = 0.5 }}
export judged to "out/j.jsonl" as jsonl {{ card = false }}
"#
    );
    // With no repair turns p0 fails; rerun the same data with one repair turn below.
    let c = case(3, &recipe, script);
    let run = c.run(&[]);
    assert_eq!(
        run.code, 1,
        "two of three failed: over the error rate\n{}",
        run.stderr
    );
    let report = std::fs::read_to_string(Path::new(&c.dir.path).join(".dtac/report.json"))
        .unwrap_or_default();
    let said = format!("{}{}{report}", run.stdout, run.stderr);
    assert!(
        said.contains("did not follow the schema `judgement`"),
        "{said}"
    );
    assert!(said.contains("is above the maximum 10"), "{said}");
    let body = c.server.requests()[0].json().expect("JSON body");
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(
        body["response_format"]["json_schema"]["schema"]["properties"]["scores"]["required"],
        serde_json::json!(["correctness", "clarity"])
    );
    c.dir.write(
        "r.dta",
        &recipe.replace("repair_attempts = 0", "repair_attempts = 1"),
    );
    let run = c.run(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = c.output("out/j.jsonl");
    // Every record is answered properly after one repair turn (or none, for p1).
    assert_eq!(out.len(), 3);
    assert_eq!(
        out[0]["judge_scores"],
        serde_json::json!({"correctness": 9, "clarity": 7})
    );
    assert!((out[0]["reward"].as_f64().unwrap() - 7.0 / 9.0).abs() < 1e-9);
    assert_eq!(out[1]["judge_rationale"], "Right and short.");
    let repairs = c
        .server
        .requests()
        .iter()
        .filter(|r| r.body_text().contains("was not valid"))
        .count();
    assert_eq!(repairs, 2, "p0 and p2 needed a repair turn, p1 did not");
}

#[test]
fn score_and_perplexity_read_prompt_logprobs() {
    let recipe = format!(
        r#"{HEAD}teacher s {{ model = "scorer", endpoint = env("DTAC_TEST_ENDPOINT") }}
stage scored: score(train) {{ model = s, target = "solution", context = "question", chat_template = false, per_token = true }}
stage ppl: perplexity(scored) {{ model = s, field = "solution", chat_template = false }}
export ppl to "out/p.jsonl" as jsonl {{ card = false }}
"#
    );
    let c = case(2, &recipe, Script::new());
    let run = c.run(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = c.output("out/p.jsonl");
    assert_eq!(out.len(), 2);
    for r in &out {
        let lp = r["logprob"].as_f64().expect("logprob");
        let per: Vec<f64> = serde_json::from_value(r["token_logprobs"].clone()).expect("list");
        assert!(lp < 0.0 && per.len() as u64 == r["target_tokens"].as_u64().unwrap());
        assert!((per.iter().sum::<f64>() - lp).abs() < 1e-9);
        assert!(r["perplexity"].as_f64().unwrap() > 1.0);
    }
    let sent = c.server.requests();
    assert!(sent.iter().all(|r| r.path == "/v1/completions"));
    let body = sent[0].json().expect("JSON");
    assert_eq!(
        (body["echo"].clone(), body["max_tokens"].clone()),
        (Json::Bool(true), serde_json::json!(0))
    );
    // A template cannot be applied on an endpoint: said before anything runs.
    c.dir.write(
        "r.dta",
        &recipe.replace(", chat_template = false, per_token", ", per_token"),
    );
    let refused = c.run(&[]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("chat_template = false"),
        "{}",
        refused.stderr
    );
}

#[test]
fn logprobs_are_captured_into_records() {
    let recipe = format!(
        r#"{HEAD}teacher t {{ model = "m1", endpoint = env("DTAC_TEST_ENDPOINT") }}
stage candidates: generate(train) {{ teachers = [t], logprobs = 3 }}
export candidates to "out/c.jsonl" as jsonl {{ card = false }}
"#
    );
    let c = case(1, &recipe, Script::new());
    let run = c.run(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = c.output("out/c.jsonl");
    let lp = out[0]["logprobs"].as_array().expect("logprobs list");
    assert!(!lp.is_empty());
    assert!(
        lp.iter()
            .all(|t| t["top"].as_array().map(Vec::len) == Some(3)),
        "{lp:?}"
    );
    assert_eq!(
        c.server.requests()[0].json().expect("JSON")["top_logprobs"],
        3
    );
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}
