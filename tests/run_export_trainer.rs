//! `export_trainer` through `dtac run`: TRL SFT and GKD directories and a verl SFT
//! directory with the mapped option names, data that reads back, and objectives a trainer
//! cannot express refused at check time (a warning) and at run time (an error).

mod support;

use std::path::Path;

use serde_json::{json, Value as Json};
use support::{dtac, TempDir};

fn project() -> TempDir {
    let dir = TempDir::new();
    let rows: String = (0..3)
        .map(|i| format!("{}\n", json!({"id": format!("p{i}"), "question": format!("What is {i} + {i}?"), "solution": format!("{} \\boxed{{{}}}", 2 * i, 2 * i)})))
        .collect();
    dir.write("train.jsonl", &rows);
    dir
}

fn text(dir: &TempDir, rel: &str) -> String {
    std::fs::read_to_string(Path::new(&dir.path).join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const HEAD: &str = "version = 1\ndataset train: jsonl(\"train.jsonl\") { schema = { id: str, question: str, solution: str } }\n";

#[test]
fn trl_and_verl_directories_carry_the_mapped_settings() {
    let dir = project();
    let recipe = dir.write(
        "r.dta",
        &format!(
            "{HEAD}objective rkl: reverse_kl {{}}\n\
             stage sft: export_trainer(train) {{ trainer = \"trl\", dir = \"out/sft\", model = \"Qwen/Qwen3-8B\", epochs = 2, lr = 2e-5, batch_size = 4, grad_accum = 8, lora = {{ rank = 8, alpha = 16 }} }}\n\
             stage gkd: export_trainer(train) {{ trainer = \"trl\", dir = \"out/gkd\", model = \"Qwen/Qwen3-1.7B\", teacher = \"Qwen/Qwen3-32B\", objective = rkl }}\n\
             stage rl: export_trainer(train) {{ trainer = \"verl\", dir = \"out/verl\", model = \"Qwen/Qwen3-8B\", max_seq_len = 2048 }}\n\
             export sft to \"out/sft.jsonl\" as jsonl {{}}\n"
        ),
    );
    let run = dtac(&["run", recipe.as_str()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    let record: Json =
        serde_json::from_str(text(&dir, "out/sft.jsonl").lines().next().unwrap()).unwrap();
    assert_eq!(record["examples"], 3);
    assert_eq!(record["mode"], "sft");

    let sft = text(&dir, "out/sft/config.yaml");
    for needle in [
        "mode: sft",
        "num_train_epochs: 2",
        "learning_rate: 0.00002",
        "per_device_train_batch_size: 4",
        "gradient_accumulation_steps: 8",
        "max_length: 4096",
        "r: 8",
        "lora_alpha: 16.0",
        "- q_proj",
    ] {
        assert!(sft.contains(needle), "{needle} missing in\n{sft}");
    }
    let first: Json = serde_json::from_str(
        text(&dir, "out/sft/data/train.jsonl")
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["prompt"][0]["content"], "What is 0 + 0?");
    assert_eq!(first["completion"][0]["role"], "assistant");
    assert!(text(&dir, "out/sft/train.py").contains("SFTTrainer"));
    assert!(text(&dir, "out/sft/launch.sh").contains("accelerate launch train.py config.yaml"));

    let gkd = text(&dir, "out/gkd/config.yaml");
    for needle in [
        "mode: gkd",
        "beta: 1.0",
        "lmbda: 0.0",
        "teacher_model_name_or_path: Qwen/Qwen3-32B",
    ] {
        assert!(gkd.contains(needle), "{needle} missing in\n{gkd}");
    }
    let first: Json = serde_json::from_str(
        text(&dir, "out/gkd/data/train.jsonl")
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["messages"].as_array().unwrap().len(), 2);

    let verl = text(&dir, "out/verl/config.yaml");
    for needle in [
        "model.partial_pretrain: Qwen/Qwen3-8B",
        "data.max_length: 2048",
        "data.prompt_key: prompt",
        "trainer.total_epochs: 1",
    ] {
        assert!(verl.contains(needle), "{needle} missing in\n{verl}");
    }
    assert!(text(&dir, "out/verl/launch.sh").contains("-m verl.trainer.fsdp_sft_trainer"));
    // The Parquet data reads back through dtac's own Parquet source.
    let back = dir.write(
        "back.dta",
        "version = 1\ndataset d: parquet(\"out/verl/data/train.parquet\")\nexport d to \"out/back.jsonl\" as jsonl {}\n",
    );
    let run = dtac(&["run", back.as_str()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let row: Json =
        serde_json::from_str(text(&dir, "out/back.jsonl").lines().next().unwrap()).unwrap();
    assert_eq!(row["prompt"], "What is 0 + 0?");
    assert_eq!(row["response"], "0 \\boxed{0}");
}

#[test]
fn objectives_a_trainer_cannot_express_are_refused() {
    let dir = project();
    for (stage, needle) in [
        (
            "trainer = \"trl\", dir = \"o\", model = \"m\", teacher = \"t\", objective = top_k",
            "no counterpart of `top_k`",
        ),
        (
            "trainer = \"verl\", dir = \"o\", model = \"m\", teacher = \"t\"",
            "verl's SFT trainer",
        ),
    ] {
        let recipe = dir.write(
            "bad.dta",
            &format!("{HEAD}stage x: export_trainer(train) {{ {stage} }}\n"),
        );
        let check = dtac(&["check", recipe.as_str()]);
        assert!(
            check.stderr.contains(needle) || check.stdout.contains(needle),
            "check: {}{}",
            check.stdout,
            check.stderr
        );
        let run = dtac(&["run", recipe.as_str()]);
        assert_ne!(run.code, 0);
        assert!(run.stderr.contains(needle), "{}", run.stderr);
    }
}
