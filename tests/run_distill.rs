//! `distill` through `dtac run` on tiny random checkpoints: SFT and LoRA lower the
//! held-out loss and write checkpoints other tools load; a local teacher's logits (with
//! TRD's `teacher_prompt`), an endpoint's top-k log-probabilities and TOPD's token weights
//! and guidance all train; a rerun is answered from the store; a killed run resumes from
//! its last checkpoint; settings that cannot train are refused with a reason.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dtac_numeric::fixtures::{write_tiny_checkpoint, TinySpec};
use dtac_numeric::model::{inspect, Arch, DeviceSpec, LocalModel, Precision};
use serde_json::{json, Value as Json};
use support::{dtac, TempDir};

/// Short arithmetic problems whose answers repeat a learnable pattern.
fn data(n: usize, offset: usize) -> String {
    (0..n)
        .map(|i| {
            let a = (i + offset) % 7 + 1;
            format!(
                "{}\n",
                json!({"id": format!("p{}", i + offset), "question": format!("What is {a} + {a}?"),
                       "solution": format!("{a} + {a} = {}. The answer is {}.", 2 * a, 2 * a)})
            )
        })
        .collect()
}

fn project() -> TempDir {
    let dir = TempDir::new();
    let mut spec = TinySpec::new(Arch::Qwen3);
    spec.init_std = 0.05;
    write_tiny_checkpoint(&Path::new(&dir.path).join("models/student"), &spec).expect("checkpoint");
    dir.write("train.jsonl", &data(12, 0));
    dir.write("heldout.jsonl", &data(4, 40));
    dir
}

fn read(dir: &TempDir, name: &str) -> Vec<Json> {
    std::fs::read_to_string(Path::new(&dir.path).join(name))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

const HEAD: &str = r#"version = 1
student small { path = "models/student", device = "cpu" }
dataset train: jsonl("train.jsonl") { schema = { id: str, question: str, solution: str } }
dataset heldout: jsonl("heldout.jsonl") { schema = { id: str, question: str, solution: str } }
"#;

#[test]
fn sft_and_lora_lower_held_out_loss_and_save_loadable_checkpoints() {
    let dir = project();
    let recipe = dir.write(
        "r.dta",
        &format!(
            "{HEAD}stage sft: distill(train) {{ student = small, epochs = 3, lr = 3e-3, batch_size = 4, \
             warmup = 0.1, eval = heldout, eval_every = 3, output = \"out/sft-model\" }}\n\
             stage adapter: distill(train) {{ student = small, epochs = 3, lr = 1e-2, batch_size = 4, \
             lora = {{ rank = 4, alpha = 8, targets = [\"q_proj\", \"v_proj\", \"down_proj\"] }}, eval = heldout }}\n\
             export sft to \"out/sft.jsonl\" as jsonl {{}}\nexport adapter to \"out/adapter.jsonl\" as jsonl {{}}\n"
        ),
    );
    let run = dtac(&["run", recipe.as_str()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for (file, tuning) in [("out/sft.jsonl", "full"), ("out/adapter.jsonl", "lora")] {
        let out = read(&dir, file);
        assert_eq!(out.len(), 1, "{out:?}");
        let r = &out[0];
        assert_eq!(r["tuning"], tuning);
        assert_eq!(r["steps"], 9);
        let (before, after) = (
            r["eval_loss_before"].as_f64().unwrap(),
            r["eval_loss_after"].as_f64().unwrap(),
        );
        assert!(after < before, "{tuning}: held-out loss {before} → {after}");
        assert!(r["tokens_per_second"].as_f64().unwrap() > 0.0);
    }
    // The full checkpoint went to `output` and loads like the original.
    let saved = Path::new(&dir.path).join("out/sft-model");
    let info = inspect(&saved).expect("a loadable checkpoint");
    LocalModel::load(&info, &DeviceSpec::Cpu, Precision::F32).expect("loads");
    let adapter = PathBuf::from(
        read(&dir, "out/adapter.jsonl")[0]["checkpoint"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    assert!(adapter.join("adapter_model.safetensors").is_file());
    assert!(adapter.join("adapter_config.json").is_file());

    // The report draws the loss and learning-rate curves, and stores them.
    let html = std::fs::read_to_string(Path::new(&dir.path).join(".dtac/report.html")).unwrap();
    assert!(
        html.contains("sft: loss (forward_kl)") && html.contains("<polyline"),
        "no loss curve"
    );
    assert!(html.contains("sft: learning rate"));
    let report: Json = serde_json::from_str(
        &std::fs::read_to_string(Path::new(&dir.path).join(".dtac/report.json")).unwrap(),
    )
    .unwrap();
    let sft = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "sft")
        .unwrap();
    assert_eq!(
        sft["curves"][0]["series"][0]["points"]
            .as_array()
            .unwrap()
            .len(),
        9
    );
    assert!(run.stderr.contains("train loss"), "{}", run.stderr);

    // The second run trains nothing: the stage is answered from the store.
    let again = dtac(&["run", recipe.as_str()]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let r = &read(&dir, "out/sft.jsonl")[0];
    assert_eq!(r["steps"], 9);
}

#[test]
fn teacher_logits_top_k_and_token_weights_all_train() {
    let dir = project();
    let mut spec = TinySpec::new(Arch::Qwen3);
    spec.seed = 99;
    spec.init_std = 0.2;
    write_tiny_checkpoint(&Path::new(&dir.path).join("models/teacher"), &spec).expect("teacher");
    // TRD: a refine prompt the teacher is conditioned on. TOPD: weights and guidance.
    let student = LocalModel::load(
        &inspect(&Path::new(&dir.path).join("models/student")).unwrap(),
        &DeviceSpec::Cpu,
        Precision::F32,
    )
    .unwrap();
    let solution = "2 + 2 = 4.";
    let n = student.tokenizer().encode(solution, false).unwrap().len();
    let weights: Vec<f64> = (0..n).map(|i| if i == 2 { 0.0 } else { 1.0 }).collect();
    let rich = json!({"id": "r1", "question": "What is 2 + 2?", "solution": solution,
        "teacher_prompt": "Fix this solution: 2 + 2 = 5.", "token_weights": weights,
        "guidance": [{"position": 3, "tokens": [50, 51, 52], "weights": [1.0, 0.5, 0.25]}]});
    // Top-k: single characters are single tokens of the tiny byte-level vocabulary.
    let content: Vec<Json> = "4 = 4".chars().map(|c| {
        let t = c.to_string();
        json!({"token": t, "logprob": -0.1, "top_logprobs": [{"token": t, "logprob": -0.1}, {"token": "x", "logprob": -2.5}]})
    }).collect();
    let topk = json!({"id": "k1", "question": "What is 2 + 2?", "solution": "4 = 4", "logprobs": {"content": content}});
    dir.write("rich.jsonl", &format!("{rich}\n"));
    dir.write("topk.jsonl", &format!("{topk}\n"));
    let recipe = dir.write(
        "r.dta",
        r#"version = 1
student small { path = "models/student", device = "cpu" }
teacher big { model = "big", path = "models/teacher", device = "cpu" }
dataset rich: jsonl("rich.jsonl") { schema = { id: str, question: str, solution: str } }
dataset topk: jsonl("topk.jsonl") { schema = { id: str, question: str, solution: str } }
objective fkl: forward_kl {}
objective rkl: reverse_kl {}
objective tk: top_k { k = 2, tail = true }
stage trd: distill(rich) { student = small, teacher = big, signal = "logits", objective = fkl, epochs = 2, lr = 1e-2, batch_size = 1, eval = rich }
stage topd: distill(rich) { student = small, teacher = big, signal = "logits", objective = rkl, weights = "token_weights", epochs = 2, lr = 1e-2, batch_size = 2, eval = rich }
stage api: distill(topk) { student = small, signal = "topk_logprobs", objective = tk, epochs = 2, lr = 1e-2, batch_size = 1, eval = topk }
export trd to "out/trd.jsonl" as jsonl {}
export topd to "out/topd.jsonl" as jsonl {}
export api to "out/api.jsonl" as jsonl {}
"#,
    );
    let run = dtac(&["run", recipe.as_str()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for file in ["out/trd.jsonl", "out/topd.jsonl", "out/api.jsonl"] {
        let r = &read(&dir, file)[0];
        let (before, after) = (
            r["eval_loss_before"].as_f64().unwrap(),
            r["eval_loss_after"].as_f64().unwrap(),
        );
        assert!(after < before, "{file}: {before} → {after}");
    }
    assert_eq!(read(&dir, "out/topd.jsonl")[0]["guidance_examples"], 1);
}

#[test]
fn settings_that_cannot_train_are_refused_with_a_reason() {
    let dir = project();
    for (stage, needle) in [
        (
            "distill(train) { student = small, objective = reverse_kl }",
            "one-hot",
        ),
        (
            "distill(train) { student = small, signal = \"logits\" }",
            "needs `teacher`",
        ),
        (
            "distill(train) { student = small, lora = { rank = 4, targets = [\"attn\"] } }",
            "`attn`",
        ),
        (
            "distill(train) { student = small, target = \"missing\" }",
            "missing",
        ),
    ] {
        let recipe = dir.write("bad.dta", &format!("{HEAD}stage t: {stage}\n"));
        let run = dtac(&["run", recipe.as_str()]);
        assert_ne!(run.code, 0, "{stage}");
        let text = format!("{}{}", run.stdout, run.stderr);
        assert!(text.contains(needle), "{stage}: {text}");
        assert!(!text.contains("panicked"), "{text}");
    }
}

#[test]
fn a_killed_training_run_resumes_from_its_last_checkpoint() {
    let dir = project();
    dir.write("train.jsonl", &data(40, 0));
    let recipe = dir.write(
        "r.dta",
        &format!("{HEAD}stage t: distill(train) {{ student = small, epochs = 10, batch_size = 2, lr = 1e-3, save_every = 5 }}\nexport t to \"out/t.jsonl\" as jsonl {{}}\n"),
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dtac"))
        .args(["run", recipe.as_str()])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("dtac starts");
    let work = Path::new(&dir.path).join(".dtac/work");
    let started = Instant::now();
    let has_checkpoint = || {
        std::fs::read_dir(&work)
            .into_iter()
            .flatten()
            .flatten()
            .any(|stage| {
                std::fs::read_dir(stage.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|e| {
                        e.file_name().to_string_lossy().starts_with("checkpoint-")
                            && e.path().join("trainer_state.json").is_file()
                    })
            })
    };
    while !has_checkpoint() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no checkpoint appeared"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the run ended before it could be killed: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill");
    let _ = child.wait();
    let run = dtac(&["run", recipe.as_str()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let r = &read(&dir, "out/t.jsonl")[0];
    assert!(r["resumed_from"].as_u64().unwrap() >= 5, "{r}");
    assert_eq!(r["steps"], 200);
}
