//! `distill`'s warnings about objective settings that run but train on something else
//! than meant, seen through whole recipes so that the objective's declaration is reached
//! through its reference.

use std::path::Path;

use dtac_interpreter::{check_text, CheckOptions, Checked};

fn check(body: &str) -> Checked {
    let src = format!(
        r#"version = 1
teacher gpt   {{ model = "gpt-4o-2024-08-06" }}
student small {{ path = "models/qwen3-1.7b" }}
dataset train: jsonl("train.jsonl") {{ schema = {{ id: str, question: str, solution: str }} }}
{body}
"#
    );
    let options = CheckOptions {
        resources: false,
        ..CheckOptions::default()
    };
    check_text(Path::new("recipe.dta"), &src, &crate::registry(), &options)
}

/// The messages of the warnings pointing into the `distill` stage.
fn warnings(body: &str) -> Vec<String> {
    let checked = check(body);
    assert!(
        !checked.has_errors(),
        "{:?}",
        checked.diags().collect::<Vec<_>>()
    );
    checked
        .diags()
        .filter(|d| d.code() == "dta::check::suspicious_setting")
        .map(|d| d.error.to_string())
        .collect()
}

#[test]
fn a_temperature_with_a_one_hot_target_reaches_one_side_only() {
    let found = warnings(
        r#"objective warm: forward_kl { temperature = 2.0 }
stage tuned: distill(train) { student = small, objective = warm }"#,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("student only"), "{}", found[0]);
    assert!(found[0].contains("one-hot"), "{}", found[0]);
}

#[test]
fn a_temperature_on_sampled_token_logprobs_reaches_one_side_only() {
    let found = warnings(
        r#"objective cheap: sampled { temperature = 0.7 }
stage tuned: distill(train) { student = small, teacher = gpt, signal = "topk_logprobs", objective = cheap }"#,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("re-tempered"), "{}", found[0]);
}

#[test]
fn a_full_distribution_objective_on_top_logprobs_is_flagged() {
    let found = warnings(
        r#"stage tuned: distill(train) { student = small, teacher = gpt, signal = "topk_logprobs", objective = reverse_kl }"#,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("`reverse_kl`"), "{}", found[0]);
}

#[test]
fn sound_settings_are_quiet() {
    for body in [
        r#"stage tuned: distill(train) { student = small }"#,
        r#"objective warm: forward_kl { temperature = 1.0 }
stage tuned: distill(train) { student = small, objective = warm }"#,
        r#"objective sparse: top_k { k = 20, tail = true, temperature = 1.0 }
stage tuned: distill(train) { student = small, teacher = gpt, signal = "topk_logprobs", objective = sparse }"#,
        r#"objective cheap: sampled { }
stage tuned: distill(train) { student = small, teacher = gpt, signal = "topk_logprobs", objective = cheap }"#,
    ] {
        assert!(warnings(body).is_empty(), "{body}: {:?}", warnings(body));
    }
}

#[test]
fn a_clip_that_clamps_nearly_everything_is_flagged() {
    let found = warnings(
        r#"objective capped: clipped_kl { clip = 0.001 }
stage tuned: distill(train) { student = small, objective = capped }"#,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("nearly every token"), "{}", found[0]);
    let baseline = warnings(
        r#"objective capped: clipped_kl { clip = 0.1 }
stage tuned: distill(train) { student = small, objective = capped }"#,
    );
    assert!(baseline.is_empty(), "{baseline:?}");
}
