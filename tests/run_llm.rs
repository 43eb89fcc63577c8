//! `dtac run` against a real OpenAI-compatible HTTP server on 127.0.0.1 (dtac-testkit),
//! started by each test: the response cache, crash-resume, interrupts, offline runs, the
//! budget, resampling, cache files and secrets.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dtac_testkit::{Script, TestServer};
use support::{dtac_env, TempDir};

const SECRET: &str = "sk-test-SECRET-4242";

fn problems(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"id\":\"p{i}\",\"question\":\"What is {i} + {i}?\",\"answer\":\"{}\"}}\n",
                2 * i
            )
        })
        .collect()
}

fn recipe(n: usize, extra_teacher: &str) -> String {
    format!(
        r#"version = 1
teacher t1 {{ model = "m1", endpoint = env("DTAC_TEST_ENDPOINT"), api_key = env("DTAC_TEST_KEY"), max_concurrency = 4{extra_teacher} }}
dataset train: jsonl("data.jsonl") {{ schema = {{ id: str, question: str, answer: str }} }}
prompt solve """
    Solve: {{{{question}}}} The answer is {{{{answer}}}}.
    """
stage candidates: generate(train) {{ teachers = [t1], prompt = solve, n = {n} }}
export candidates to "out/c.jsonl" as chat {{ card = false }}
"#
    )
}

struct Setup {
    dir: TempDir,
    recipe: String,
    server: TestServer,
}

fn setup(records: usize, n: usize, script: Script, extra_teacher: &str) -> Setup {
    let dir = TempDir::new();
    dir.write("data.jsonl", &problems(records));
    let recipe = dir.write("r.dta", &recipe(n, extra_teacher));
    Setup {
        dir,
        recipe,
        server: TestServer::spawn(script),
    }
}

impl Setup {
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DTAC_TEST_ENDPOINT", self.server.base_url()),
            ("DTAC_TEST_KEY", SECRET.to_string()),
        ]
    }

    fn run(&self, args: &[&str]) -> support::Run {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        all.push(&self.recipe);
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        dtac_env(&all, &env)
    }

    fn output(&self) -> String {
        std::fs::read_to_string(Path::new(&self.dir.path).join("out/c.jsonl")).unwrap_or_default()
    }

    /// Requests by full body (model, messages, seed...), from the server's record.
    fn bodies(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for r in self.server.requests() {
            *out.entry(r.body_text().to_string()).or_default() += 1;
        }
        out
    }
}

#[test]
fn a_second_run_pays_nothing_and_outputs_are_identical() {
    let s = setup(3, 2, Script::new(), "");
    let first = s.run(&[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(s.server.total(), 6, "3 problems × 2 samples");
    let out = s.output();
    assert_eq!(out.lines().count(), 6);
    assert!(out.contains("\"role\":\"assistant\""), "{out}");
    // Each sample is its own request, with its own seed.
    assert_eq!(s.bodies().len(), 6);

    let second = s.run(&["--fresh"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(s.server.total(), 12, "--fresh asks again");
    assert_eq!(s.output(), out, "deterministic server, same outputs");

    // Remove the stage cache but keep the responses: answers come from the store.
    let third = s.run(&["--log-format", "json"]);
    assert_eq!(third.code, 0);
    assert_eq!(s.server.total(), 12, "a re-run pays nothing");
    assert_eq!(s.output(), out);
}

#[test]
fn a_killed_run_resumes_without_repeating_finished_requests() {
    let script = Script::new().latency(Duration::from_millis(60));
    let s = setup(30, 2, script, "");
    let env = s.env();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dtac"))
        .args(["run", &s.recipe])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dtac starts");
    let start = Instant::now();
    while s.server.stats().answered < 20 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let before = s.server.total();
    assert!(before < 60, "killed before the end ({before} requests)");
    assert!(!Path::new(&s.dir.path).join("out/c.jsonl").exists());

    // What the store held when the process died: those requests are finished.
    let finished = stored_requests(&Path::new(&s.dir.path).join(".dtac/store.sqlite"));
    assert!(!finished.is_empty());

    let resumed = s.run(&[]);
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    let mut asked: BTreeMap<(String, i64), u64> = BTreeMap::new();
    for (body, count) in s.bodies() {
        *asked
            .entry(identity(&serde_json::from_str(&body).unwrap()))
            .or_default() += count;
    }
    assert_eq!(asked.len(), 60, "every request asked");
    for request in &finished {
        assert_eq!(
            asked[request], 1,
            "a finished request was asked again: {request:?}"
        );
    }
    // Only requests in flight, or answered but not yet committed, at the kill are asked
    // twice: at most one of each per concurrency slot.
    let repeated: u64 = asked.values().map(|c| c - 1).sum();
    assert!(repeated <= 8, "{repeated} requests repeated");

    // The same recipe run without interruption in a fresh state dir gives the same bytes.
    let resumed_out = s.output();
    let reference = TempDir::new();
    let state = Path::new(&reference.path).join("state");
    let clean = s.run(&["--state-dir", state.to_str().unwrap()]);
    assert_eq!(clean.code, 0);
    assert_eq!(
        s.output(),
        resumed_out,
        "resumed output equals an uninterrupted run's"
    );
}

#[test]
fn sigint_stops_cleanly_and_the_run_resumes() {
    let script = Script::new().latency(Duration::from_millis(100));
    let s = setup(20, 2, script, "");
    let env = s.env();
    let child = Command::new(env!("CARGO_BIN_EXE_dtac"))
        .args(["run", &s.recipe])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dtac starts");
    let start = Instant::now();
    while s.server.stats().answered < 8 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let out = child.wait_with_output().expect("dtac exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("resumes"), "{stderr}");
    let asked = s.server.total();
    let resumed = s.run(&[]);
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(
        s.server.total() - asked,
        40 - asked,
        "only the rest is asked"
    );
}

#[test]
fn offline_runs_answer_from_the_store_or_name_the_miss() {
    let s = setup(2, 1, Script::new(), "");
    let miss = s.run(&["--offline"]);
    assert_eq!(miss.code, 1, "{}", miss.stderr);
    assert!(miss.stderr.contains("offline"), "{}", miss.stderr);
    assert!(
        miss.stderr.contains("stage `candidates`"),
        "{}",
        miss.stderr
    );
    assert!(miss.stderr.contains("record `train/"), "{}", miss.stderr);
    assert_eq!(s.server.total(), 0, "offline never contacts the endpoint");
    assert_eq!(s.run(&[]).code, 0);
    let out = s.output();
    assert_eq!(
        s.run(&["--offline", "--fresh"]).code,
        1,
        "fresh + offline cannot answer"
    );
    std::fs::remove_file(Path::new(&s.dir.path).join("out/c.jsonl")).unwrap();
    let offline = s.run(&["--offline", "--rerun", "candidates"]);
    assert_eq!(offline.code, 1, "new samples are not stored");
    assert!(offline.stderr.contains("offline"), "{}", offline.stderr);
    let _ = out;
}

#[test]
fn the_budget_stops_before_overspending() {
    // $1,000 per million tokens each way: a request of ~20 + ~20 tokens costs ~$0.04.
    let s = setup(
        10,
        2,
        Script::new(),
        ", price = { input = 1000.0, output = 1000.0 }, max_tokens = 40",
    );
    let run = s.run(&["--budget-usd", "0.3"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("budget"), "{}", run.stderr);
    let asked = s.server.total();
    assert!(asked > 0 && asked < 20, "stopped early ({asked} requests)");
    let report = std::fs::read_to_string(Path::new(&s.dir.path).join(".dtac/report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let spent = report["spent"].as_f64().unwrap();
    assert!(spent <= 0.3, "spent {spent}");
    assert!(!Path::new(&s.dir.path).join("out/c.jsonl").exists());
}

#[test]
fn rerun_resamples_with_new_sample_indices() {
    let s = setup(2, 2, Script::new(), "");
    assert_eq!(s.run(&[]).code, 0);
    let first = s.output();
    assert_eq!(s.server.total(), 4);
    let plan = {
        let env = s.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        dtac_env(&["plan", "--rerun", "candidates", &s.recipe], &env)
    };
    assert_eq!(plan.code, 2, "{}", plan.stdout);
    assert!(plan.stdout.contains("resampled"), "{}", plan.stdout);
    assert_eq!(s.run(&["--rerun", "candidates"]).code, 0);
    assert_eq!(s.server.total(), 8, "4 new samples");
    assert_ne!(s.output(), first, "new seeds, new answers");
    // The resample sticks: the next plain run is cached.
    assert_eq!(s.run(&[]).code, 0);
    assert_eq!(s.server.total(), 8);
}

#[test]
fn a_cache_file_reproduces_the_run_offline_on_another_machine() {
    let s = setup(3, 2, Script::new(), "");
    assert_eq!(s.run(&[]).code, 0);
    let out = s.output();
    let cache = Path::new(&s.dir.path).join("cache.jsonl.zst");
    let env = s.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let export = dtac_env(
        &["cache", "export", &s.recipe, "-o", cache.to_str().unwrap()],
        &env,
    );
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(
        export.stderr.contains("wrote 6 responses"),
        "{}",
        export.stderr
    );

    // "Another machine": a fresh directory with the recipe, the data and the lockfile.
    let other = TempDir::new();
    other.write("data.jsonl", &problems(3));
    let recipe = other.write("r.dta", &std::fs::read_to_string(&s.recipe).unwrap());
    std::fs::copy(
        Path::new(&s.dir.path).join("dtac.lock"),
        Path::new(&other.path).join("dtac.lock"),
    )
    .unwrap();
    let import = dtac_env(
        &[
            "cache",
            "import",
            cache.to_str().unwrap(),
            "--recipe",
            &recipe,
        ],
        &env,
    );
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert!(import.stderr.contains("6 were new"), "{}", import.stderr);
    let asked = s.server.total();
    let run = dtac_env(&["run", "--offline", "--locked", &recipe], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.server.total(), asked);
    let reproduced = std::fs::read_to_string(Path::new(&other.path).join("out/c.jsonl")).unwrap();
    assert_eq!(reproduced, out, "byte-identical");

    // A tampered file is refused with its line.
    let plain = Path::new(&other.path).join("c.jsonl");
    let export = dtac_env(
        &["cache", "export", &s.recipe, "-o", plain.to_str().unwrap()],
        &env,
    );
    assert_eq!(export.code, 0);
    let text = std::fs::read_to_string(&plain)
        .unwrap()
        .replacen("\"m1\"", "\"m2\"", 1);
    std::fs::write(&plain, text).unwrap();
    let import = dtac_env(
        &[
            "cache",
            "import",
            plain.to_str().unwrap(),
            "--recipe",
            &recipe,
        ],
        &env,
    );
    assert_eq!(import.code, 1);
    assert!(import.stderr.contains("line 1"), "{}", import.stderr);
}

#[test]
fn secrets_never_reach_the_state_dir_lockfile_or_report() {
    let s = setup(2, 1, Script::new(), "");
    assert_eq!(s.run(&[]).code, 0);
    let sent = s.server.requests();
    assert!(sent
        .iter()
        .all(|r| r.header("authorization") == Some(&format!("Bearer {SECRET}"))));
    let mut files = Vec::new();
    collect(Path::new(&s.dir.path), &mut files);
    assert!(files.len() >= 4, "{files:?}");
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(SECRET), "{} holds the key", f.display());
    }
}

/// (last message, seed): what tells two requests of this recipe apart, in both the HTTP
/// body and the stored request.
fn identity(body: &serde_json::Value) -> (String, i64) {
    let messages = body["messages"].as_array().unwrap();
    let last = messages.last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    (last, body["seed"].as_i64().unwrap())
}

fn stored_requests(db: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare("SELECT request FROM responses").unwrap();
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|r| identity(&serde_json::from_str(&r.unwrap()).unwrap()))
        .collect();
    rows
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn changing_a_prompt_invalidates_exactly_the_stages_that_use_it() {
    let s = setup(2, 1, Script::new(), "");
    assert_eq!(s.run(&[]).code, 0);
    let text = std::fs::read_to_string(&s.recipe).unwrap();
    s.dir
        .write("r.dta", &text.replace("Solve:", "Solve carefully:"));
    let env = s.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let plan = dtac_env(&["plan", &s.recipe], &env);
    assert_eq!(plan.code, 2, "{}", plan.stdout);
    let line = |stage: &str| {
        plan.stdout
            .lines()
            .find(|l| l.starts_with(stage))
            .unwrap_or("")
            .to_string()
    };
    assert!(line("train").contains("cached"), "{}", plan.stdout);
    assert!(line("candidates").contains("run"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("setting `prompt` changed"),
        "{}",
        plan.stdout
    );
    assert!(
        line("candidates").contains(" 2 "),
        "2 requests: {}",
        plan.stdout
    );
    assert_eq!(s.run(&[]).code, 0);
    assert_eq!(s.server.total(), 4, "the new prompt's requests only");
}
