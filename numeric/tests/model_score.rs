//! `LocalModel::score` and its helpers: scores equal the log-softmax of a plain full
//! forward pass, do not depend on batching or the budget, and survive tying, sharding
//! and lower precisions.

use candle_core::{Tensor, D};
use dtac_numeric::fixtures::{write_tiny_checkpoint, ScratchDir, TinySpec};
use dtac_numeric::model::{
    inspect, mean_log_prob, Arch, DeviceSpec, LocalModel, ModelError, Precision, ScoreItem,
};

const TOL: f32 = 1e-4;

fn spec(arch: Arch) -> TinySpec {
    let mut s = TinySpec::new(arch);
    s.init_std = 0.15;
    s.seed = 3;
    s
}

fn load(spec: &TinySpec, precision: Precision) -> (ScratchDir, LocalModel) {
    let dir = ScratchDir::new("score").unwrap();
    write_tiny_checkpoint(dir.path(), spec).unwrap();
    let info = inspect(dir.path()).unwrap();
    (
        dir,
        LocalModel::load(&info, &DeviceSpec::Auto, precision).unwrap(),
    )
}

fn tokens(n: usize, salt: u32) -> Vec<u32> {
    (0..n as u32)
        .map(|i| (i * 53 + salt * 17 + 3) % 268)
        .collect()
}

/// log p(target_i | …) from the materialized logits of one unbatched forward pass.
fn reference(model: &LocalModel, item: &ScoreItem) -> Vec<f32> {
    let ids: Vec<u32> = item.context.iter().chain(&item.target).copied().collect();
    let logp = candle_nn::ops::log_softmax(&model.logits(&ids).unwrap(), D::Minus1).unwrap();
    let logp = logp.to_vec2::<f32>().unwrap();
    let c = item.context.len();
    (0..item.target.len())
        .map(|j| logp[c + j - 1][item.target[j] as usize])
        .collect()
}

fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol,
            "{what}: value {i} is {x}, expected {y}"
        );
    }
}

fn items() -> Vec<ScoreItem> {
    vec![
        ScoreItem::new(tokens(5, 1), tokens(9, 2)),
        ScoreItem::new(tokens(23, 3), tokens(4, 4)),
        ScoreItem::new(tokens(1, 5), tokens(1, 6)),
        ScoreItem::new(tokens(12, 7), tokens(17, 8)),
        ScoreItem::new(tokens(3, 9), Vec::new()),
    ]
}

#[test]
fn every_family_scores_as_its_full_forward_pass() {
    for arch in [Arch::Qwen2, Arch::Qwen3, Arch::Llama, Arch::Mistral] {
        let (_dir, model) = load(&spec(arch), Precision::F32);
        let items = items();
        let scores = model.score(&items, 4096).unwrap();
        assert_eq!(scores.len(), items.len());
        for (item, got) in items.iter().zip(&scores) {
            let want = reference(&model, item);
            assert_close(got, &want, TOL, &format!("{arch}"));
            assert!(got.iter().all(|v| v.is_finite() && *v < 0.0));
        }
        // Scores that are all alike would pass the comparison above too easily.
        let spread = scores[0].iter().fold(0f32, |m, v| m.max(-v))
            - scores[0].iter().fold(f32::MAX, |m, v| m.min(-v));
        assert!(spread > 0.5, "{arch}: scores barely vary ({spread})");
    }
}

#[test]
fn an_item_scores_the_same_alone_and_padded_beside_a_longer_one() {
    for arch in [Arch::Qwen2, Arch::Qwen3, Arch::Llama] {
        let (_dir, model) = load(&spec(arch), Precision::F32);
        let short = ScoreItem::new(tokens(4, 11), tokens(6, 12));
        let long = ScoreItem::new(tokens(40, 13), tokens(25, 14));
        let alone = model.score(std::slice::from_ref(&short), 1 << 20).unwrap();
        let together = model
            .score(&[short.clone(), long.clone()], 1 << 20)
            .unwrap();
        assert_close(&together[0], &alone[0], TOL, &format!("{arch} short"));
        assert_close(
            &together[1],
            &reference(&model, &long),
            TOL,
            &format!("{arch} long"),
        );
    }
}

#[test]
fn any_budget_gives_the_same_scores_in_input_order() {
    let (_dir, model) = load(&spec(Arch::Qwen3), Precision::F32);
    let items = items();
    let roomy = model.score(&items, 1 << 20).unwrap();
    for budget in [0, 1, 30, 64] {
        let tight = model.score(&items, budget).unwrap();
        for (a, b) in tight.iter().zip(&roomy) {
            assert_close(a, b, TOL, &format!("budget {budget}"));
        }
    }
    assert!(model.score(&[], 100).unwrap().is_empty());
}

#[test]
fn an_empty_context_starts_from_bos_or_leaves_the_first_token_unscored() {
    // Llama-family fixtures have a BOS token: every target token is scored, from it.
    let (_dir, llama) = load(&spec(Arch::Llama), Precision::F32);
    let bos = llama.info().bos_token_id.unwrap();
    let target = tokens(6, 21);
    let from_bos = llama
        .score(&[ScoreItem::new(vec![], target.clone())], 512)
        .unwrap();
    let explicit = llama
        .score(&[ScoreItem::new(vec![bos], target.clone())], 512)
        .unwrap();
    assert_close(&from_bos[0], &explicit[0], 0.0, "llama");

    // Qwen has none: the first value is NaN, the rest condition on the target's start.
    let (_dir, qwen) = load(&spec(Arch::Qwen2), Precision::F32);
    assert_eq!(qwen.info().bos_token_id, None);
    let scores = qwen
        .score(&[ScoreItem::new(vec![], target.clone())], 512)
        .unwrap();
    assert!(scores[0][0].is_nan());
    let rest = qwen
        .score(
            &[ScoreItem::new(target[..1].to_vec(), target[1..].to_vec())],
            512,
        )
        .unwrap();
    assert_close(&scores[0][1..], &rest[0], 0.0, "qwen");
    let mean = mean_log_prob(&scores[0]).unwrap();
    let want = rest[0].iter().map(|&v| f64::from(v)).sum::<f64>() / 5.0;
    assert!((mean - want).abs() < 1e-9);
    let one = qwen.score(&[ScoreItem::new(vec![], vec![7])], 512).unwrap();
    assert!(one[0][0].is_nan() && mean_log_prob(&one[0]).is_none());
}

#[test]
fn chunked_target_log_probs_equal_the_full_logits() {
    let (_dir, model) = load(&spec(Arch::Qwen2), Precision::F32);
    let ids = tokens(30, 31);
    let hidden = model.hidden_states(&ids).unwrap().narrow(0, 0, 29).unwrap();
    let got = model.target_log_probs(&hidden, &ids[1..]).unwrap();
    let want = reference(
        &model,
        &ScoreItem::new(ids[..1].to_vec(), ids[1..].to_vec()),
    );
    assert_close(&got, &want, TOL, "target_log_probs");
    assert!(matches!(
        model.target_log_probs(&hidden, &ids[2..]),
        Err(ModelError::TargetCount {
            rows: 29,
            targets: 28
        })
    ));
}

#[test]
fn tied_models_use_the_embedding_as_the_output_layer() {
    let mut s = spec(Arch::Qwen3);
    s.tie_embeddings = true;
    let (dir, tied) = load(&s, Precision::F32);
    let stored =
        candle_core::safetensors::load(dir.path().join("model.safetensors"), tied.device())
            .unwrap();
    assert!(!stored.contains_key("lm_head.weight"));
    let ids = tokens(10, 41);
    let hidden = tied.hidden_states(&ids).unwrap();
    let by_hand = hidden
        .matmul(&stored["model.embed_tokens.weight"].t().unwrap())
        .unwrap();
    let diff: f32 = (tied.logits(&ids).unwrap() - by_hand)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(D::Minus1)
        .unwrap()
        .to_scalar()
        .unwrap();
    assert!(diff < 1e-5);

    s.tie_embeddings = false;
    let (_dir, untied) = load(&s, Precision::F32);
    let item = ScoreItem::new(tokens(3, 1), tokens(8, 2));
    let a = tied.score(std::slice::from_ref(&item), 512).unwrap();
    let b = untied.score(std::slice::from_ref(&item), 512).unwrap();
    assert!(
        a[0].iter().zip(&b[0]).any(|(x, y)| (x - y).abs() > 1e-2),
        "the LM head made no difference"
    );
}

#[test]
fn a_sharded_checkpoint_scores_like_a_single_file() {
    let one = spec(Arch::Llama);
    let mut two = one.clone();
    two.shards = 2;
    let (_a, single) = load(&one, Precision::F32);
    let (_b, sharded) = load(&two, Precision::F32);
    assert_eq!(sharded.info().weight_files.len(), 2);
    let items = items();
    let a = single.score(&items, 256).unwrap();
    let b = sharded.score(&items, 256).unwrap();
    assert_eq!(a, b);
}

#[test]
fn bf16_and_f16_load_and_score_close_to_f32() {
    for stored in [Precision::F32, Precision::Bf16] {
        let mut s = spec(Arch::Qwen2);
        s.stored = stored;
        let (_d, exact) = load(&s, Precision::F32);
        let exact_scores = exact.score(&items(), 512).unwrap();
        for precision in [Precision::Bf16, Precision::F16] {
            let (_d, low) = load(&s, precision);
            assert_eq!(low.dtype(), precision.dtype());
            let scores = low.score(&items(), 512).unwrap();
            for (a, b) in scores.iter().zip(&exact_scores) {
                assert_close(a, b, 0.1, &format!("{precision} from stored {stored}"));
            }
        }
    }
}

#[test]
fn out_of_range_tokens_and_empty_sequences_are_errors() {
    let (_dir, model) = load(&spec(Arch::Qwen2), Precision::F32);
    let bad = [
        ScoreItem::new(vec![1, 2], vec![3]),
        ScoreItem::new(vec![1], vec![272]),
    ];
    let e = model.score(&bad, 512).unwrap_err();
    assert!(
        matches!(
            e,
            ModelError::TokenOutOfRange {
                item: 1,
                token: 272,
                vocab_size: 272
            }
        ),
        "{e}"
    );
    assert!(!e.help().is_empty());
    assert!(matches!(
        model.logits(&[]),
        Err(ModelError::EmptySequence { .. })
    ));
    assert!(model.logits(&[0, 272]).is_err());
}

#[test]
fn mistral_refuses_sequences_beyond_its_sliding_window() {
    let mut s = spec(Arch::Mistral);
    s.extra_config
        .insert("sliding_window".into(), serde_json::json!(16));
    let (_dir, model) = load(&s, Precision::F32);
    model
        .score(&[ScoreItem::new(tokens(8, 1), tokens(8, 2))], 512)
        .unwrap();
    let e = model
        .score(&[ScoreItem::new(tokens(8, 1), tokens(9, 2))], 512)
        .unwrap_err();
    assert!(matches!(
        e,
        ModelError::BeyondSlidingWindow {
            len: 17,
            window: 16,
            ..
        }
    ));
}

#[test]
fn a_loaded_model_is_shared_across_threads() {
    let (_dir, model) = load(&spec(Arch::Qwen3), Precision::F32);
    let items = items();
    let alone = model.score(&items, 128).unwrap();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| model.score(&items, 128).unwrap()))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), alone);
        }
    });
    let _: &Tensor = &model.logits(&[1, 2]).unwrap();
}
