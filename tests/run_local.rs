//! Local models through `dtac check` and `dtac run`: a tiny random checkpoint written to a
//! temp dir is scored by `score`, `perplexity` and `informativeness` in-process, its
//! tokenizer counted by `token_shift`; what the ops write is compared with the numeric
//! core called directly. Broken checkpoints are `dtac check` errors naming the path.

mod support;

use std::path::Path;

use dtac_numeric::fixtures::{write_tiny_checkpoint, TinySpec};
use dtac_numeric::model::{
    inspect, mean_log_prob, Arch, DeviceSpec, LocalModel, Precision, ScoreItem,
};
use dtac_stdlib::local::ScoreText;
use serde_json::Value as Json;
use support::{dtac, TempDir};

const DATA: &[(&str, &str, &str)] = &[
    (
        "p1",
        "What is 2 + 3?",
        "Add them: 2 + 3 = 5. The answer is \\boxed{5}.",
    ),
    (
        "p2",
        "Is 7 prime?",
        "Yes, 7 has no divisors but 1 and itself. \\boxed{yes}",
    ),
    (
        "p3",
        "Compute 6 * 7.",
        "Therefore 6 * 7 = 42, so the answer is \\boxed{42}.",
    ),
];

fn project(arch: Arch) -> TempDir {
    let dir = TempDir::new();
    write_tiny_checkpoint(
        &Path::new(&dir.path).join("models/tiny"),
        &TinySpec::new(arch),
    )
    .expect("tiny checkpoint");
    let lines: String = DATA
        .iter()
        .map(|(id, q, s)| {
            format!(
                "{}\n",
                serde_json::json!({"id": id, "question": q, "solution": s})
            )
        })
        .collect();
    dir.write("data.jsonl", &lines);
    dir
}

const RECIPE: &str = r#"version = 1
student small { path = "models/tiny", device = "cpu" }
dataset d: jsonl("data.jsonl") { schema = { id: str, question: str, solution: str } }
stage scored: score(d) { model = small, target = "solution", context = "question", per_token = true }
stage ppl: perplexity(d) { model = small, field = "solution", batch_tokens = 24 }
stage info: informativeness(d) { model = small }
stage shift: token_shift(d, scored) { tokenizer = small, top = 5, min_count = 1, markers = ["therefore"] }
export scored to "out/scored.jsonl" as jsonl {}
export ppl to "out/ppl.jsonl" as jsonl {}
export info to "out/info.jsonl" as jsonl {}
export shift to "out/shift.jsonl" as jsonl {}
"#;

fn read(dir: &TempDir, name: &str) -> Vec<Json> {
    let text = std::fs::read_to_string(Path::new(&dir.path).join(name)).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// The model as the test sees it, loaded apart from dtac's run.
fn model(dir: &TempDir) -> LocalModel {
    let info = inspect(&Path::new(&dir.path).join("models/tiny")).expect("inspect");
    LocalModel::load(&info, &DeviceSpec::Cpu, Precision::F32).expect("load")
}

fn scores(model: &LocalModel, text: ScoreText) -> Vec<f32> {
    let item: ScoreItem = text.tokens(model).expect("tokens");
    model.score(&[item], 1 << 14).expect("score").remove(0)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-4 * (1.0 + b.abs())
}

#[test]
fn local_scoring_ops_match_the_numeric_core() {
    let dir = project(Arch::Qwen3);
    let recipe = dir.write("r.dta", RECIPE);
    let run = dtac(&["run", recipe.as_str()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let model = model(&dir);

    let scored = read(&dir, "out/scored.jsonl");
    assert_eq!(scored.len(), DATA.len());
    for (record, (_, q, s)) in scored.iter().zip(DATA) {
        let expected = scores(
            &model,
            ScoreText {
                context: Some(q.to_string()),
                target: s.to_string(),
                chat: true,
            },
        );
        let total: f64 = expected.iter().map(|&v| f64::from(v)).sum();
        assert!(
            close(record["logprob"].as_f64().unwrap(), total),
            "{record}"
        );
        assert_eq!(record["target_tokens"], expected.len());
        assert_eq!(
            record["token_logprobs"].as_array().unwrap().len(),
            expected.len()
        );
        // The user turn went through the chat template: its ids hold <|im_start|>.
        let item = ScoreText {
            context: Some(q.to_string()),
            target: s.to_string(),
            chat: true,
        }
        .tokens(&model)
        .unwrap();
        let im_start = model.tokenizer().token_id("<|im_start|>").unwrap();
        assert!(item.context.contains(&im_start));
    }

    // Perplexity of the text alone: Qwen has no BOS, so the first token is unscored.
    let ppl = read(&dir, "out/ppl.jsonl");
    for (record, (_, _, s)) in ppl.iter().zip(DATA) {
        let expected = scores(
            &model,
            ScoreText {
                context: None,
                target: s.to_string(),
                chat: true,
            },
        );
        let mean = mean_log_prob(&expected).unwrap();
        assert!(
            close(record["perplexity"].as_f64().unwrap(), (-mean).exp()),
            "{record}"
        );
        assert_eq!(record["tokens"], expected.len() - 1);
    }

    // r-IFD: PPL(x | rev(y)) / PPL(x), x the question.
    let info = read(&dir, "out/info.jsonl");
    for (record, (_, q, s)) in info.iter().zip(DATA) {
        let reverse = dtac_stdlib::ops::informativeness::REVERSE_PROMPT.replace("{response}", s);
        let conditioned = scores(
            &model,
            ScoreText {
                context: Some(reverse),
                target: q.to_string(),
                chat: true,
            },
        );
        let plain = scores(
            &model,
            ScoreText {
                context: None,
                target: q.to_string(),
                chat: true,
            },
        );
        let ln_ratio = mean_log_prob(&plain).unwrap() - mean_log_prob(&conditioned).unwrap();
        assert!(
            close(record["ifd_ratio"].as_f64().unwrap(), ln_ratio.exp()),
            "{record}"
        );
    }

    // The model's tokens, counted: every row is a token of the tiny tokenizer, and the
    // marker is reported.
    let shift = read(&dir, "out/shift.jsonl");
    assert!(shift
        .iter()
        .any(|r| r["token"] == "therefore" && r["marker"] == true));
    assert!(shift.len() >= 5, "{shift:?}");

    // A second run reuses every stage: nothing is scored again, outputs are identical.
    let before = std::fs::read(Path::new(&dir.path).join("out/scored.jsonl")).unwrap();
    let again = dtac(&["run", recipe.as_str()]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let after = std::fs::read(Path::new(&dir.path).join("out/scored.jsonl")).unwrap();
    assert_eq!(before, after);
}

#[test]
fn llama_gets_its_bos_and_every_token_scored() {
    let dir = project(Arch::Llama);
    let recipe = dir.write(
        "r.dta",
        r#"version = 1
student small { path = "models/tiny", device = "cpu" }
dataset d: jsonl("data.jsonl") { schema = { id: str, question: str, solution: str } }
stage ppl: perplexity(d) { model = small, field = "solution" }
export ppl to "out/ppl.jsonl" as jsonl {}
"#,
    );
    let run = dtac(&["run", recipe.as_str()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let model = model(&dir);
    for (record, (_, _, s)) in read(&dir, "out/ppl.jsonl").iter().zip(DATA) {
        let n = model.tokenizer().encode(s, false).unwrap().len();
        assert_eq!(record["tokens"], n, "{record}");
    }
}

fn check(dir: &TempDir, recipe: &str) -> support::Run {
    let path = dir.write("r.dta", recipe);
    dtac(&["check", path.as_str()])
}

#[test]
fn broken_checkpoints_are_check_errors_with_the_path() {
    let dir = project(Arch::Qwen2);
    let student = |path: &str| {
        format!(
            "version = 1\nstudent small {{ path = \"{path}\" }}\n\
             dataset d: jsonl(\"data.jsonl\") {{ schema = {{ id: str, solution: str }} }}\n\
             stage ppl: perplexity(d) {{ model = small }}\n"
        )
    };
    let ok = check(&dir, &student("models/tiny"));
    assert_eq!(ok.code, 0, "{}", ok.stderr);

    let missing = check(&dir, &student("models/absent"));
    assert_ne!(missing.code, 0);
    assert!(
        missing.stderr.contains("models/absent"),
        "{}",
        missing.stderr
    );
    assert!(
        missing.stderr.contains("bad_resource"),
        "{}",
        missing.stderr
    );

    // A checkpoint whose config names an architecture dtac cannot run.
    let config = Path::new(&dir.path).join("models/tiny/config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("Qwen2ForCausalLM", "GPT2LMHeadModel")).unwrap();
    let arch = check(&dir, &student("models/tiny"));
    assert_ne!(arch.code, 0);
    assert!(arch.stderr.contains("GPT2LMHeadModel"), "{}", arch.stderr);
    std::fs::write(&config, text).unwrap();

    // No weights at all.
    let weights = Path::new(&dir.path).join("models/tiny/model.safetensors");
    std::fs::rename(&weights, weights.with_extension("moved")).unwrap();
    let none = check(&dir, &student("models/tiny"));
    assert_ne!(none.code, 0);
    assert!(none.stderr.contains("safetensors"), "{}", none.stderr);
    assert!(!none.stderr.contains("panicked"), "{}", none.stderr);
}

#[test]
fn a_teacher_with_another_vocabulary_cannot_give_logits() {
    let dir = project(Arch::Qwen3);
    let mut other = TinySpec::new(Arch::Qwen3);
    other.vocab = 265; // fewer merges: another tokenizer
    write_tiny_checkpoint(&Path::new(&dir.path).join("models/other"), &other).unwrap();
    let recipe = |teacher: &str| {
        format!(
            "version = 1\nstudent small {{ path = \"models/tiny\" }}\n\
             teacher big {{ model = \"big\", path = \"{teacher}\" }}\n\
             dataset d: jsonl(\"data.jsonl\") {{ schema = {{ id: str, question: str, solution: str }} }}\n\
             stage tuned: distill(d) {{ student = small, teacher = big, signal = \"logits\" }}\n"
        )
    };
    let mismatch = check(&dir, &recipe("models/other"));
    assert_ne!(mismatch.code, 0);
    assert!(
        mismatch.stderr.contains("does not match"),
        "{}",
        mismatch.stderr
    );
    let same = check(&dir, &recipe("models/tiny"));
    assert_eq!(same.code, 0, "{}", same.stderr);
}
