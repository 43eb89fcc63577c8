//! Integration tests of the `dtac` binary: every command as a user runs it.
//!
//! Diagnostics are snapshot-tested: each `fixtures/check/*.dta` starts with a header line
//! `# dtac ARGS` (the file's path is appended) and an `# expect:` line saying what it
//! shows; its rendered output and exit code are kept in a `.snap` file beside it. Run with
//! `DTAC_BLESS=1` to accept new output after reading the diff.

mod support;

use std::path::Path;

use support::{dtac, fixtures, Run};

#[test]
fn check_diagnostics_match_snapshots() {
    let mut failures = Vec::new();
    for fixture in fixtures("tests/fixtures/check", "dta") {
        let header = std::fs::read_to_string(&fixture).expect("fixture is text");
        let args = header
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# dtac "))
            .unwrap_or_else(|| panic!("{}: first line must be `# dtac ARGS`", fixture.display()));
        let mut argv: Vec<String> = args.split_whitespace().map(str::to_string).collect();
        argv.push(fixture.display().to_string());
        let run = dtac(&argv);
        let actual = format!("# {}\n# exit: {}\n{}", argv.join(" "), run.code, run.stderr);
        if let Err(diff) = support::compare_snapshot(&fixture.with_extension("snap"), &actual) {
            failures.push(diff);
        }
    }
    assert!(
        failures.is_empty(),
        "snapshots differ (DTAC_BLESS=1 to accept):\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_recipe_checks_clean_and_is_formatted() {
    let recipes = fixtures("recipes", "dta");
    assert!(recipes.len() >= 4, "DTA, TRD, TOPD and DART");
    for recipe in &recipes {
        // The recipes name checkpoints this repository does not ship (`models/...`).
        let run = dtac(&[
            "check",
            "--skip-resources",
            "--deny",
            "warnings",
            &recipe.display().to_string(),
        ]);
        assert_eq!(run.code, 0, "{}:\n{}", recipe.display(), run.stderr);
    }
    for recipe in recipes.iter().chain(&fixtures("recipes/lib", "dta")) {
        let run = dtac(&["fmt", "--check", &recipe.display().to_string()]);
        let name = recipe.display();
        assert_eq!(
            run.code, 0,
            "{name} is not in `dtac fmt` form:\n{}",
            run.stdout
        );
    }
}

#[test]
fn check_exit_codes() {
    // Without its student's checkpoint on disk, the DTA recipe cannot run: an error that
    // names the directory. `--skip-resources` checks the recipe alone.
    let absent = dtac(&["check", "recipes/dta.dta"]);
    assert_eq!(absent.code, 1, "{}", absent.stderr);
    assert!(
        absent.stderr.contains("models/qwen3-1.7b") && absent.stderr.contains("bad_resource"),
        "{}",
        absent.stderr
    );
    let ok = dtac(&["check", "--skip-resources", "recipes/dta.dta"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.stderr
            .contains("recipes/dta.dta: ok (0 errors, 0 warnings)"),
        "{}",
        ok.stderr
    );

    let warn = "tests/fixtures/check/unused.dta";
    assert_eq!(dtac(&["check", warn]).code, 0, "warnings do not fail");
    assert_eq!(dtac(&["check", "--deny", "warnings", warn]).code, 1);

    let both = dtac(&[
        "check",
        "recipes/dta.dta",
        "tests/fixtures/check/unknown_teacher.dta",
    ]);
    assert_eq!(both.code, 1, "one bad file fails the run");
}

#[test]
fn check_json_messages_are_one_object_per_line() {
    let run = dtac(&[
        "check",
        "--message-format",
        "json",
        "tests/fixtures/check/unknown_teacher.dta",
    ]);
    assert_eq!(run.code, 1);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let diag = &lines[0];
    assert_eq!(diag["type"], "diagnostic");
    assert_eq!(diag["severity"], "error");
    assert_eq!(diag["code"], "dta::check::unknown_name");
    assert_eq!(diag["file"], "tests/fixtures/check/unknown_teacher.dta");
    assert!(diag["line"].as_u64().unwrap() > 1);
    assert!(diag["help"].as_str().unwrap().contains("did you mean"));
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["ok"], false);
}

#[test]
fn set_overrides_params() {
    let recipe = "recipes/dta.dta";
    let skip = "--skip-resources";
    assert_eq!(dtac(&["check", skip, "--set", "samples=8", recipe]).code, 0);
    let bad = dtac(&["check", skip, "--set", "samples=many", recipe]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .contains("`--set samples=many`: not a valid `int` value"),
        "{}",
        bad.stderr
    );
    let unknown = dtac(&["check", "--set", "sampels=8", recipe]);
    assert!(
        unknown.stderr.contains("did you mean `samples`?"),
        "{}",
        unknown.stderr
    );
    let malformed = dtac(&["check", "--set", "samples", recipe]);
    assert_eq!(
        malformed.code, 2,
        "clap rejects a malformed --set:\n{}",
        malformed.stderr
    );
}

#[test]
fn missing_env_names_the_variable_never_a_value() {
    let dir = support::TempDir::new();
    let recipe = dir.write(
        "env.dta",
        "teacher t { model = \"m\", endpoint = env(\"DTAC_TEST_ENDPOINT\"), api_key = env(\"DTAC_TEST_KEY\") }\n\
         dataset d: jsonl(\"x.jsonl\")\n\
         stage s: generate(d) { teachers = [t], prompt = \"{{question}}\" }\n",
    );
    let run = support::dtac_env(&["check", &recipe], &[("DTAC_TEST_KEY", "sk-very-secret")]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("environment variable `DTAC_TEST_ENDPOINT` is not set"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("DTAC_TEST_KEY` is not set"));
    assert!(!run.stderr.contains("sk-very-secret") && !run.stdout.contains("sk-very-secret"));
}

#[test]
fn fmt_rewrites_in_place_and_check_shows_a_diff() {
    let dir = support::TempDir::new();
    let messy = "version=1\nteacher  gpt {model=\"m\",rpm=5}   # fast\n";
    let path = dir.write("messy.dta", messy);
    let check = dtac(&["fmt", "--check", &path]);
    assert_eq!(check.code, 1);
    assert!(
        check
            .stdout
            .contains("-teacher  gpt {model=\"m\",rpm=5}   # fast"),
        "{}",
        check.stdout
    );
    assert!(
        check
            .stdout
            .contains("+teacher gpt { model = \"m\", rpm = 5 } # fast"),
        "{}",
        check.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        messy,
        "--check changes nothing"
    );

    let fmt = dtac(&["fmt", &path]);
    assert_eq!(fmt.code, 0, "{}", fmt.stderr);
    let formatted = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        formatted,
        "version = 1\nteacher gpt { model = \"m\", rpm = 5 } # fast\n"
    );
    assert_eq!(dtac(&["fmt", "--check", &path]).code, 0);
}

#[test]
fn fmt_refuses_files_that_do_not_parse() {
    let dir = support::TempDir::new();
    let path = dir.write("broken.dta", "teacher gpt { model \"m\" }\n");
    let run = dtac(&["fmt", &path]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("expected `=`"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "teacher gpt { model \"m\" }\n"
    );
}

#[test]
fn graph_prints_dot_and_mermaid() {
    let dot = dtac(&["graph", "recipes/dta.dta"]);
    assert_eq!(dot.code, 0, "{}", dot.stderr);
    assert!(dot.stdout.starts_with("digraph recipe {"), "{}", dot.stdout);
    assert!(
        dot.stdout.contains("label=\"candidates\\ngenerate\""),
        "{}",
        dot.stdout
    );
    assert!(dot.stdout.contains(" -> "));
    let mermaid = dtac(&["graph", "--format", "mermaid", "recipes/dta.dta"]);
    assert_eq!(mermaid.code, 0);
    assert!(mermaid.stdout.starts_with("flowchart LR\n"));
    assert!(
        mermaid.stdout.contains("candidates<br/>generate"),
        "{}",
        mermaid.stdout
    );
    assert!(mermaid.stdout.contains(" --> "));
    let broken = dtac(&["graph", "tests/fixtures/check/cycle.dta"]);
    assert_eq!(broken.code, 1);
    assert!(broken.stderr.contains("dependency cycle"));
}

#[test]
fn ops_reference_is_generated_and_docs_are_current() {
    let list = dtac(&["ops"]);
    assert_eq!(list.code, 0);
    assert!(list.stdout.contains("generate"));
    let one = dtac(&["ops", "peer_review"]);
    assert_eq!(one.code, 0);
    assert!(
        one.stdout.contains("stage NAME: peer_review("),
        "{}",
        one.stdout
    );
    let typo = dtac(&["ops", "peer_reveiw"]);
    assert_eq!(typo.code, 1);
    assert!(typo.stderr.contains("did you mean `peer_review`?"));
    let markdown = dtac(&["ops", "--markdown"]);
    let on_disk = std::fs::read_to_string("docs/ops.md").expect("docs/ops.md exists");
    assert!(
        markdown.stdout == on_disk,
        "docs/ops.md is stale: run `cargo run -- ops --markdown > docs/ops.md`"
    );
}

#[test]
fn every_diagnostic_code_is_documented_and_has_a_fixture() {
    let docs = std::fs::read_to_string("docs/diagnostics.md").unwrap();
    let mut snapshots = String::new();
    for snap in fixtures("tests/fixtures/check", "snap") {
        snapshots.push_str(&std::fs::read_to_string(snap).unwrap());
    }
    let codes = support::codes_in_source();
    assert!(codes.len() > 30, "found {codes:?}");
    for code in &codes {
        assert!(
            docs.contains(&format!("## `{code}`")),
            "docs/diagnostics.md has no entry for `{code}`"
        );
        let exercised = snapshots.contains(&format!("{code}\n"))
            || support::CODES_TESTED_ELSEWHERE.contains(&code.as_str());
        assert!(exercised, "no fixture shows `{code}`");
    }
}

#[test]
fn bad_input_never_crashes() {
    let dir = support::TempDir::new();
    let cases: Vec<(String, &str)> = vec![
        (
            dir.write_bytes("binary.dta", &[0x00, 0xff, 0xfe, b'\n', 0x80, 0x81]),
            "not valid UTF-8",
        ),
        (
            dir.write_bytes("latin1.dta", b"prompt p \"caf\xe9\"\n"),
            "not valid UTF-8",
        ),
        (
            dir.write(
                "deep.dta",
                &format!(
                    "param x: int = {}1{}\n",
                    "[".repeat(10_000),
                    "]".repeat(10_000)
                ),
            ),
            "nested",
        ),
        (
            dir.write(
                "big.dta",
                &format!(
                    "{}stage s: generate(d) {{ n = 1 }}\n",
                    "# a comment line of filler text\n".repeat(350_000)
                ),
            ),
            "unknown dataset or stage `d`",
        ),
        (
            dir.write(
                "many-errors.dta",
                &"stage s: generate(d) { n = 1 }\n".repeat(5_000),
            ),
            "more not shown",
        ),
        (
            dir.write("garbage.dta", &"}{)(][\"\"\"#=:,".repeat(1000)),
            "expected a declaration",
        ),
        ("tests/does-not-exist.dta".to_string(), "no such file"),
        ("tests".to_string(), "is a directory"),
    ];
    for (path, expected) in cases {
        for command in ["check", "fmt", "graph"] {
            let run = dtac(&[command, &path]);
            // `fmt` needs only a parse, and the big files are valid syntax.
            let parses = path.ends_with("big.dta") || path.ends_with("many-errors.dta");
            let wanted = if command == "fmt" && parses { 0 } else { 1 };
            assert_eq!(
                run.code, wanted,
                "`dtac {command} {path}` exited {}:\n{}",
                run.code, run.stderr
            );
            assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
            if command == "check" {
                assert!(
                    run.stderr.contains(expected),
                    "`dtac check {path}`: wanted {expected:?} in:\n{}",
                    run.stderr
                );
            }
        }
    }
    let big = Path::new(&dir.path).join("big.dta");
    assert!(std::fs::metadata(big).unwrap().len() > 10_000_000);
}

impl Run {
    #[allow(dead_code)]
    fn ok(&self) -> bool {
        self.code == 0
    }
}

#[test]
fn too_large_files_are_refused() {
    let dir = support::TempDir::new();
    let path = Path::new(&dir.path).join("huge.dta");
    // Sparse: 65 MiB of size without writing 65 MiB.
    std::fs::File::create(&path)
        .unwrap()
        .set_len(65 * 1024 * 1024)
        .unwrap();
    let run = dtac(&["check", &path.display().to_string()]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("dta::io::too_large"), "{}", run.stderr);
}

#[test]
fn io_errors_other_than_missing() {
    // A path through a regular file fails with "not a directory", whoever runs the test
    // (permission bits would not stop root).
    let dir = support::TempDir::new();
    let file = dir.write("plain.dta", "version = 1\n");
    let run = dtac(&["check", &format!("{file}/inner.dta")]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("dta::io::unreadable"), "{}", run.stderr);
}
