//! `dtac run`, `dtac plan` and `dtac cache` through the built binary, on recipes that need
//! no model: caching, invalidation, formatting stability, plan exit codes, error
//! accounting, atomic exports, the lockfile and cache files. Runs against a model endpoint
//! are in `tests/run_llm.rs`.

mod support;

use support::{dtac, TempDir};

const DATA: &str = "{\"id\":\"a\",\"question\":\"1+1?\",\"answer\":\"2\"}\n\
{\"id\":\"b\",\"question\":\"2+2?\",\"answer\":\"4\"}\n\
{\"id\":\"c\",\"question\":\"3+3?\",\"answer\":\"6\"}\n";

const RECIPE: &str = r#"version = 1
dataset train: jsonl("data.jsonl") { schema = { id: str, question: str, answer: str } }
stage tidy: map(train) { rename = { problem = "question" } }
stage slim: map(tidy) { drop = ["answer"] }
export slim to "out/slim.jsonl" as jsonl
"#;

fn setup(recipe: &str) -> (TempDir, String) {
    let dir = TempDir::new();
    dir.write("data.jsonl", DATA);
    let path = dir.write("r.dta", recipe);
    (dir, path)
}

fn read(dir: &TempDir, name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(&dir.path).join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn runs_exports_and_answers_again_from_the_store() {
    let (dir, recipe) = setup(RECIPE);
    let plan = dtac(&["plan", &recipe]);
    assert_eq!(plan.code, 2, "work is pending: {}", plan.stdout);
    assert!(plan.stdout.contains("never run"), "{}", plan.stdout);

    let first = dtac(&["run", &recipe]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let out = read(&dir, "out/slim.jsonl");
    assert_eq!(out.lines().count(), 3);
    assert!(out.contains("\"problem\":\"1+1?\""), "{out}");
    assert!(!out.contains("\"answer\""), "{out}");
    assert!(out.contains("\"_provenance\""), "{out}");
    assert!(read(&dir, "out/slim.jsonl.md").contains("3 examples"));
    assert!(read(&dir, ".dtac/report.json").contains("\"completed\""));
    assert!(read(&dir, ".dtac/report.html").contains("<html"));
    assert!(read(&dir, "dtac.lock").contains("data.jsonl"));

    let plan = dtac(&["plan", &recipe]);
    assert_eq!(plan.code, 0, "nothing pending: {}", plan.stdout);
    let dry = dtac(&["run", "--dry-run", &recipe]);
    assert_eq!(dry.code, 0, "{}", dry.stdout);

    let second = dtac(&["run", "--log-format", "json", &recipe]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let cached = second
        .stdout
        .lines()
        .filter(|l| l.contains("\"event\":\"stage_finished\"") && l.contains("\"cached\":true"))
        .count();
    assert_eq!(cached, 3, "{}", second.stdout);
    assert_eq!(read(&dir, "out/slim.jsonl"), out, "identical outputs");
}

#[test]
fn reformatting_invalidates_nothing_and_a_change_invalidates_downstream() {
    let (dir, recipe) = setup(RECIPE);
    assert_eq!(dtac(&["run", &recipe]).code, 0);
    // Same meaning, different layout and comments.
    let messy = "version = 1\n# a comment\ndataset train: jsonl(\"data.jsonl\") {\n  schema = { id: str, question: str, answer: str }\n}\n\nstage tidy: map(train) { rename = { problem = \"question\" }, }\nstage slim: map(tidy) {\n    drop = [\"answer\"]\n}\nexport slim to \"out/slim.jsonl\" as jsonl\n";
    dir.write("r.dta", messy);
    let plan = dtac(&["plan", &recipe]);
    assert_eq!(plan.code, 0, "reformatting changed a key:\n{}", plan.stdout);

    // Changing the middle stage reruns it and its consumer, not the dataset.
    dir.write("r.dta", &RECIPE.replace("problem = ", "task = "));
    let plan = dtac(&["plan", &recipe]);
    assert_eq!(plan.code, 2);
    let status = |stage: &str| {
        plan.stdout
            .lines()
            .find(|l| l.starts_with(stage))
            .map(|l| l.split_whitespace().nth(2).unwrap_or("").to_string())
            .unwrap_or_default()
    };
    assert_eq!(status("train"), "cached", "{}", plan.stdout);
    assert_eq!(status("tidy"), "run", "{}", plan.stdout);
    assert_eq!(status("slim"), "run", "{}", plan.stdout);
    assert!(
        plan.stdout.contains("setting `rename` changed"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("input `tidy` changed"),
        "{}",
        plan.stdout
    );

    // Editing the data file reruns everything.
    dir.write("data.jsonl", &DATA.replace("1+1", "1+2"));
    let plan = dtac(&["plan", &recipe]);
    assert!(plan.stdout.contains("file `"), "{}", plan.stdout);
}

#[test]
fn record_errors_are_counted_and_fail_past_the_threshold() {
    let (dir, recipe) = setup(RECIPE);
    dir.write(
        "data.jsonl",
        &format!("{DATA}{{\"id\":\"d\",\"question\":7,\"answer\":\"1\"}}\nnot json\n"),
    );
    let run = dtac(&["run", &recipe]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("lost 40.0%"), "{}", run.stderr);
    assert!(run.stderr.contains("line 4"), "{}", run.stderr);
    assert!(run.stderr.contains("should be str"), "{}", run.stderr);
    assert!(
        run.stderr.contains("line 5: invalid JSON"),
        "{}",
        run.stderr
    );
    assert!(
        !std::path::Path::new(&dir.path)
            .join("out/slim.jsonl")
            .exists(),
        "a failed run writes no export"
    );

    // A higher threshold accepts the loss; the errors are still reported.
    dir.write(
        "r.dta",
        &RECIPE.replace("answer: str } }", "answer: str }, max_error_rate = 0.5 }"),
    );
    let run = dtac(&["run", &recipe]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(read(&dir, "out/slim.jsonl").lines().count(), 3);
    let report = read(&dir, ".dtac/report.json");
    assert!(report.contains("\"errors\": 2"), "{report}");
}

#[test]
fn on_error_fail_stops_the_run() {
    let (dir, recipe) =
        setup(&RECIPE.replace("answer: str } }", "answer: str }, on_error = \"fail\" }"));
    dir.write("data.jsonl", &format!("{DATA}oops\n"));
    let run = dtac(&["run", &recipe]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("on_error = \"fail\""), "{}", run.stderr);
}

#[test]
fn stages_that_cannot_be_built_are_reported_before_anything_runs() {
    let (dir, recipe) = setup(
        "version = 1\nstudent s { path = \"models/s\" }\ndataset train: jsonl(\"data.jsonl\")\nstage v: rollout(train) { student = s }\nstage w: export_trainer(v) { trainer = \"verl\", dir = \"out/x\", model = \"m\", objective = reverse_kl }\n",
    );
    dir.tiny_checkpoint("models/s");
    let run = dtac(&["run", &recipe]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("verl's SFT trainer"), "{}", run.stderr);
    assert!(run.stderr.contains("r.dta:5:"), "{}", run.stderr);
    assert!(!std::path::Path::new(&dir.path)
        .join(".dtac/report.json")
        .exists());
}

#[test]
fn locked_runs_fail_with_a_diff_when_inputs_change() {
    let (dir, recipe) = setup(RECIPE);
    let run = dtac(&["run", "--locked", &recipe]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no `"), "{}", run.stderr);
    assert_eq!(dtac(&["run", &recipe]).code, 0);
    assert_eq!(dtac(&["run", "--locked", &recipe]).code, 0);
    dir.write("data.jsonl", &DATA.replace("3+3", "3+4"));
    let run = dtac(&["run", "--locked", &recipe]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("differ from"), "{}", run.stderr);
    assert!(
        run.stderr.contains("- ") && run.stderr.contains("+ "),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_data_file_is_a_diagnostic() {
    let dir = TempDir::new();
    let recipe = dir.write("r.dta", RECIPE);
    let run = dtac(&["run", &recipe]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("cannot read"), "{}", run.stderr);
    assert!(run.stderr.contains("r.dta:2:"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn unknown_rerun_stage_gets_a_suggestion() {
    let (_dir, recipe) = setup(RECIPE);
    let run = dtac(&["run", "--rerun", "tdy", &recipe]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("did you mean `tidy`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn exports_replace_files_atomically_and_failed_exports_leave_nothing() {
    let (dir, recipe) = setup(RECIPE);
    dir.write("out", "a file where a directory should be");
    let run = dtac(&["run", &recipe]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("cannot write"), "{}", run.stderr);
    let leftovers: Vec<_> = std::fs::read_dir(&dir.path)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("dtac-tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn a_busy_state_dir_is_refused() {
    let (dir, recipe) = setup(RECIPE);
    let state = std::path::Path::new(&dir.path).join(".dtac");
    std::fs::create_dir_all(&state).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(state.join("run.lock"))
        .unwrap();
    lock.lock().unwrap();
    let run = dtac(&["run", &recipe]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("another dtac run"), "{}", run.stderr);
    drop(lock);
}

#[test]
fn until_runs_a_stage_and_what_it_reads_only() {
    let recipe = "version = 1\nstudent s { path = \"models/s\" }\n\
        dataset train: jsonl(\"data.jsonl\")\n\
        stage short: filter(train) { where = \"len(question) < 5\" }\n\
        stage other: map(train) { drop = [\"answer\"] }\n\
        stage tuned: distill(short) { student = s }\n\
        export short to \"out/short.jsonl\" as jsonl\n\
        export other to \"out/other.jsonl\" as jsonl\n";
    let (dir, path) = setup(recipe);
    dir.tiny_checkpoint("models/s");
    // The whole recipe cannot run (these records have no `solution` to train on)...
    assert_eq!(dtac(&["run", &path]).code, 1);
    // ...but its data phase can.
    let run = dtac(&["run", "--until", "short", &path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(read(&dir, "out/short.jsonl").lines().count(), 3);
    assert!(!std::path::Path::new(&dir.path)
        .join("out/other.jsonl")
        .exists());
    let run = dtac(&["run", "--until", "shrot", &path]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no stage `shrot`") && run.stderr.contains("did you mean `short`?"),
        "{}",
        run.stderr
    );
}
