//! Whole recipes in the shape of each method check cleanly against the stdlib registry:
//! the signatures fit together (field conventions, template variables, references).

use std::path::Path;

use dtac_interpreter::report::{render_human, Style};
use dtac_interpreter::{check_text, CheckOptions, Checked};

fn check(src: &str) -> Checked {
    let options = CheckOptions {
        overrides: Vec::new(),
        env_present: Box::new(|name| name != "UNSET"),
        // The shapes of recipes, not checkpoints on this machine: `models/...` is absent.
        resources: false,
    };
    check_text(Path::new("recipe.dta"), src, &crate::registry(), &options)
}

fn assert_clean(src: &str) {
    let checked = check(src);
    let rendered: String = checked
        .diags()
        .map(|d| render_human(d, &checked.program.sources, Style::default()))
        .collect();
    assert!(rendered.is_empty(), "{rendered}");
}

fn codes(src: &str) -> Vec<String> {
    check(src).diags().map(|d| d.code()).collect()
}

const HEADER: &str = r#"
version = 1
teacher gpt   { model = "gpt-4o-2024-08-06", rpm = 500, max_concurrency = 64,
                price = { input = 2.5, output = 10.0 }, timeout = 2m }
teacher qwen  { model = "Qwen/Qwen3-32B", endpoint = env("VLLM_URL"), api_key = env("VLLM_KEY") }
student small { path = "models/qwen3-1.7b", device = "auto", dtype = "bf16" }
dataset train: jsonl("data/train.jsonl") {
    schema = { id: str, question: str, answer: str, solution: str },
    split = { take = "train", test = 0.2 },
}
"#;

#[test]
fn dta_recipe_checks_cleanly() {
    assert_clean(&[HEADER, DTA].concat());
}

const DTA: &str = r#"
param samples: int = 4
dataset bench: jsonl("data/train.jsonl") { split = { take = "test", test = 0.2 } }
prompt solve """
    Solve the problem step by step. The correct final answer is {{answer}}; derive it.
    Problem: {{question}}
    """
prompt review "Review this solution to {{question}}: {{candidate}}"
stage candidates: generate(train)        { teachers = [gpt, qwen], prompt = solve, n = samples }
stage checked:    verify(candidates)     { answer = train.answer }
stage agreed:     consensus(checked)     { min_agreement = 0.5 }
stage reviewed:   peer_review(agreed)    { reviewers = [gpt, qwen], prompt = review, min_credibility = 0.7 }
stage clean:      decontaminate(reviewed){ against = [bench], ngram = 13 }
stage unique:     dedup(clean)           { scope = "problem" }
stage style:      style_probe(train)     { student = small, samples = 64, writer = gpt }
stage aligned:    rewrite(unique)        { teacher = gpt, style = style, prompt = "Rewrite {{solution}} per {{style_guide}}" }
stage ranked:     vote(aligned)          { weights = { informativeness = 0.4, reward = 0.6 },
                                           informativeness = small, judge = gpt, keep = 1 }
stage kept:       filter(ranked)         { where = "chosen && credibility >= 0.7" }
stage shifts:     token_shift(candidates, kept) { top = 30 }
stage tuned:      distill(kept)          { student = small, objective = forward_kl, epochs = 2,
                                           lora = { rank = 16, alpha = 32 } }
export kept to "out/telemath.jsonl" as chat { system = "Be careful." }
export kept to "out/pairs.jsonl" as preference { pairs = 2 }
export shifts to "out/shifts.csv" as csv {}
"#;

#[test]
fn trd_topd_and_dart_recipes_check_cleanly() {
    assert_clean(&[HEADER, TRAJECTORIES].concat());
}

const TRAJECTORIES: &str = r#"
teacher big { model = "qwen3-8b", path = "models/qwen3-8b", device = "auto" }
objective fkl: forward_kl { temperature = 1.0 }
objective sparse: top_k { k = 20, tail = true }
stage rollouts: rollout(train) { student = small, n = 4 }
stage scored:   verify(rollouts) { keep = "all" }
stage refined:  refine(scored) { mode = "opsd", teacher = small, reference = train.solution }
stage fixed:    refine(rollouts) { teacher = qwen, max_prompt_tokens = 8192, truncate = "middle" }
stage opd:      distill(fixed) { student = small }
stage trd:      distill(refined) { student = small, teacher = small, signal = "logits", objective = fkl }
stage guided:   divergence(rollouts) { teacher = big, student = small, probe_tokens = 50, horizon = 8 }
stage topd:     distill(guided) { student = small, teacher = big, signal = "logits",
                                  objective = reverse_kl, weights = "token_weights" }
stage adapted:  adapt(train) { student = small, answer = train.answer, explore_samples = 16 }
stage dart:     distill(adapted) { student = small, teacher = gpt, signal = "topk_logprobs", objective = sparse }
stage handoff:  export_trainer(adapted) { trainer = "trl", dir = "out/trl", model = "Qwen/Qwen3-32B",
                                          objective = fkl }
"#;

#[test]
fn the_checker_reports_stdlib_lints_and_types() {
    let top1 = [
        HEADER,
        "objective bad: top_k { k = 1 }\n",
        "stage t: distill(train) { student = small, objective = bad }\n",
    ]
    .concat();
    assert!(
        codes(&top1).contains(&"dta::check::suspicious_setting".to_string()),
        "{:?}",
        codes(&top1)
    );
    let wrong = [
        HEADER,
        "stage c: generate(train) { teachers = \"gpt\", n = 1.5 }\n",
    ]
    .concat();
    let found = codes(&wrong);
    assert_eq!(
        found
            .iter()
            .filter(|c| *c == "dta::check::wrong_type")
            .count(),
        2,
        "{found:?}"
    );
    let missing = [HEADER, "stage c: verify(train) { keep = \"some\" }\n"].concat();
    assert!(codes(&missing).contains(&"dta::check::wrong_type".to_string()));
}

#[test]
fn needed_fields_are_checked_against_the_input() {
    // `verify` reads `solution`, which the dataset's closed schema lacks.
    let src = r#"
version = 1
dataset problems: jsonl("p.jsonl") { schema = { id: str, question: str, answer: str } }
stage checked: verify(problems) {}
export checked to "out/x.jsonl" as jsonl {}
"#;
    assert!(
        codes(src).contains(&"dta::check::unknown_field".to_string()),
        "{:?}",
        codes(src)
    );
}
