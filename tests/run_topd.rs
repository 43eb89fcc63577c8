//! TOPD end to end on two tiny checkpoints sharing a vocabulary: in-process rollouts, the
//! per-token loss (checked against the numeric core), probes, forks, weights and guidance,
//! then `distill` on the weighted rollouts with the guidance as extra examples. The whole
//! pipeline is deterministic across fresh runs.

mod support;

use std::path::Path;

use dtac_numeric::fixtures::{write_tiny_checkpoint, TinySpec};
use dtac_numeric::model::{inspect, Arch, DeviceSpec, LocalModel, Precision};
use dtac_numeric::objectives::{token_losses, Objective, ObjectiveSpec, Teacher};
use dtac_stdlib::local::ScoreText;
use serde_json::{json, Value as Json};
use support::{dtac, TempDir};

fn read(dir: &TempDir, name: &str) -> Vec<Json> {
    std::fs::read_to_string(Path::new(&dir.path).join(name))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

const RECIPE: &str = r#"version = 1
student learner { path = "models/student", device = "cpu" }
teacher big { model = "big", path = "models/teacher", device = "cpu" }
dataset train: jsonl("train.jsonl") { schema = { id: str, question: str } }
stage attempts: rollout(train) { student = learner, n = 2, max_tokens = 24 }
stage guided: divergence(attempts) {
    teacher = big
    student = learner
    loss_quantile = 0.5
    distance_quantile = 0.5
    probe_tokens = 6
    horizon = 4
    weight = 1.0
    decay = 0.5
    max_probes = 6
}
objective opd: reverse_kl {}
stage tuned: distill(guided) { student = learner, teacher = big, signal = "logits", objective = opd, weights = "token_weights", lr = 1e-3, batch_size = 2 }
export guided to "out/guided.jsonl" as jsonl {}
export tuned to "out/tuned.jsonl" as jsonl {}
"#;

fn project() -> TempDir {
    let dir = TempDir::new();
    let mut s = TinySpec::new(Arch::Qwen3);
    s.init_std = 0.08;
    write_tiny_checkpoint(&Path::new(&dir.path).join("models/student"), &s).unwrap();
    let mut t = TinySpec::new(Arch::Qwen3);
    t.seed = 77;
    t.init_std = 0.2;
    write_tiny_checkpoint(&Path::new(&dir.path).join("models/teacher"), &t).unwrap();
    let data: String = ["What is 2 + 2?", "Name a prime."]
        .iter()
        .enumerate()
        .map(|(i, q)| format!("{}\n", json!({"id": format!("q{i}"), "question": q})))
        .collect();
    dir.write("train.jsonl", &data);
    dir
}

fn load(dir: &TempDir, name: &str, precision: Precision) -> LocalModel {
    let info = inspect(&Path::new(&dir.path).join(name)).unwrap();
    LocalModel::load(&info, &DeviceSpec::Cpu, precision).unwrap()
}

#[test]
fn divergence_weights_forks_and_guidance_feed_distill() {
    let dir = project();
    let recipe = dir.write("r.dta", RECIPE);
    let run = dtac(&["run", recipe.as_str()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let guided = read(&dir, "out/guided.jsonl");
    assert_eq!(guided.len(), 4);

    // The per-token loss is the numeric core's reverse KL on the same tokens.
    // A teacher block loads in bf16 unless it says otherwise.
    let student = load(&dir, "models/student", Precision::F32);
    let teacher = load(&dir, "models/teacher", Precision::Bf16);
    let r = &guided[0];
    let item = ScoreText {
        context: Some(r["prompt"].as_str().unwrap().to_string()),
        target: r["solution"].as_str().unwrap().to_string(),
        chat: true,
    }
    .tokens(&student)
    .unwrap();
    let ids: Vec<u32> = item.context.iter().chain(&item.target).copied().collect();
    let (c, n) = (item.context.len(), item.target.len());
    let rows = |m: &LocalModel| m.logits(&ids).unwrap().narrow(0, c - 1, n).unwrap();
    let spec = ObjectiveSpec {
        objective: Objective::ReverseKl,
        temperature: 1.0,
    };
    let expected = token_losses(
        &spec,
        &rows(&student),
        Teacher::Dense(&rows(&teacher)),
        None,
        None,
    )
    .unwrap()
    .to_vec1::<f32>()
    .unwrap();
    let got: Vec<f64> = r["token_loss"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(got.len(), n);
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - *e as f64).abs() < 1e-4 * (1.0 + g.abs()), "{g} vs {e}");
    }

    let mut total_guidance = 0;
    let mut probed_any = false;
    for r in &guided {
        let weights: Vec<f64> = r["token_weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let forks: Vec<usize> = r["forks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(weights.len(), r["token_loss"].as_array().unwrap().len());
        // Forks keep weight 1; probed surface positions get surface_weight (0).
        assert!(forks.iter().all(|&f| weights[f] == 1.0));
        let surface = weights.iter().filter(|w| **w == 0.0).count();
        if !r["surface_fraction"].is_null() {
            probed_any = true;
            let fraction = r["surface_fraction"].as_f64().unwrap();
            assert!((fraction - surface as f64 / (surface + forks.len()) as f64).abs() < 1e-9);
        }
        let guidance = r["guidance"].as_array().unwrap();
        for g in guidance {
            assert!(forks.contains(&(g["position"].as_u64().unwrap() as usize)));
            let w: Vec<f64> = g["weights"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert_eq!(w, [1.0, 0.5, 0.25, 0.125][..w.len()].to_vec());
            assert_eq!(g["tokens"].as_array().unwrap().len(), w.len());
        }
        total_guidance += guidance.len();
    }
    assert!(probed_any, "no rollout had a high-loss position to probe");
    let tuned = &read(&dir, "out/tuned.jsonl")[0];
    assert_eq!(tuned["guidance_examples"], total_guidance);
    assert!(tuned["final_loss"].as_f64().unwrap().is_finite());

    // A fresh run from scratch gives the same forks and weights.
    let again = project();
    let path = again.write("r.dta", RECIPE);
    assert_eq!(dtac(&["run", path.as_str()]).code, 0);
    let second = read(&again, "out/guided.jsonl");
    for (a, b) in guided.iter().zip(&second) {
        assert_eq!(a["token_weights"], b["token_weights"]);
        assert_eq!(a["guidance"], b["guidance"]);
    }
}
