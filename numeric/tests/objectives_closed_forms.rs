//! The objectives against exact values: hand-computed closed forms, the exact special
//! cases (β = 0 and 1 are forward and reverse KL bit for bit, k = vocab is forward KL),
//! identical distributions (zero loss and gradient), and a finite-difference check of
//! every fused gradient.

#[path = "common/objectives.rs"]
mod common;

use common::{assert_matches, case, each_objective, fused, ln, reference, settings, spec, tensor};
use common::{Case, Rng};
use dtac_numeric::objectives::{self, ObjectiveSpec, Teacher};

#[test]
fn closed_forms_of_hand_computed_distributions() {
    // p = (0.5, 0.3, 0.2) for the student, q = (0.1, 0.6, 0.3) for the teacher.
    let c = case(&[1, 3], ln(&[0.5, 0.3, 0.2]), ln(&[0.1, 0.6, 0.3]), vec![0]);
    let jsd = |beta| ObjectiveSpec::from_name("jsd", Some(beta), None, None, None, None).unwrap();
    let sampled = |clamp| {
        ObjectiveSpec::from_name("sampled", None, None, None, None, None)
            .and_then(|s| s.with_clamp(clamp))
    };
    let expected = [
        // Σ q ln(q/p) and Σ p ln(p/q).
        (spec("forward_kl"), 0.376_584_049_525_006_46),
        (spec("reverse_kl"), 0.515_681_780_427_433_6),
        (jsd(0.5), 0.103_294_525_415_074_06),
        (jsd(0.3), 0.082_793_906_335_562_83),
        // Support {1, 2}: q̂ = (2/3, 1/3), p̂ = (0.6, 0.4).
        (
            settings("top_k", Some(2), Some(false)),
            0.009_466_491_507_232_666,
        ),
        // Support {1}, tail: 0.6 ln(0.6/0.3) + 0.4 ln(0.4/0.7).
        (
            settings("top_k", Some(1), Some(true)),
            0.192_041_993_161_798_15,
        ),
        // y = 0: r = ln(0.1/0.5), e^r − 1 − r.
        (spec("sampled"), 0.809_437_912_434_100_2),
        (
            ObjectiveSpec::from_name("clipped_kl", None, None, None, Some(0.25), None).unwrap(),
            0.25,
        ),
    ];
    for (spec, want) in expected {
        let got = fused(&spec, &c).loss;
        assert!(
            (got - want).abs() < 1e-6,
            "{spec:?}: {got} vs closed form {want}"
        );
        let reference = reference(&spec, &c).loss;
        assert!(
            (reference - want).abs() < 1e-6,
            "{spec:?} reference: {reference} vs {want}"
        );
    }
    // y = 1: r = ln 2 clamped at 0.5: e^0.5 − 1.5, and no gradient.
    let c1 = Case {
        tokens: Some(vec![1]),
        ..c
    };
    let got = fused(&sampled(0.5).unwrap(), &c1);
    assert!(
        (got.loss - 0.148_721_270_700_128_2).abs() < 1e-6,
        "clamped sampled {}",
        got.loss
    );
    assert!(
        got.grad.iter().all(|&g| g == 0.0),
        "a clamped token has no gradient"
    );
}

#[test]
fn beta_zero_and_one_are_forward_and_reverse_kl_exactly() {
    let mut rng = Rng::new(11);
    let c = case(
        &[6, 50],
        rng.logits(300, 2.0),
        rng.logits(300, 2.0),
        vec![0; 6],
    );
    let jsd = |beta| ObjectiveSpec::from_name("jsd", Some(beta), None, None, None, None).unwrap();
    for (beta, name) in [(0.0, "forward_kl"), (1.0, "reverse_kl")] {
        let (a, b) = (fused(&jsd(beta), &c), fused(&spec(name), &c));
        assert_eq!(a.loss, b.loss, "jsd β={beta} is {name}, bit for bit");
        assert_eq!(a.grad, b.grad, "jsd β={beta} gradient is {name}'s");
    }
    // Near the ends JSD shrinks like β·KL(q‖p), not like KL itself: the special cases are
    // not the limits, which is why they are defined separately.
    let near = fused(&jsd(1e-6), &c).loss;
    assert!(
        near < 1e-4 * fused(&spec("forward_kl"), &c).loss,
        "jsd(1e-6) = {near}"
    );
}

#[test]
fn top_k_over_the_whole_vocabulary_is_forward_kl() {
    let mut rng = Rng::new(12);
    let vocab = 64;
    let c = case(
        &[5, vocab],
        rng.logits(5 * vocab, 2.0),
        rng.logits(5 * vocab, 2.0),
        vec![0; 5],
    );
    let want = fused(&spec("forward_kl"), &c);
    for tail in [false, true] {
        for k in [vocab, vocab + 10] {
            let got = fused(&settings("top_k", Some(k), Some(tail)), &c);
            assert_matches(&format!("top_k k={k} tail={tail}"), &got, &want, 1e-6);
        }
    }
}

#[test]
fn identical_distributions_give_zero_loss_and_gradient() {
    let mut rng = Rng::new(13);
    let logits = rng.logits(4 * 80, 3.0);
    let c = case(&[4, 80], logits.clone(), logits, vec![3, 9, 0, 79]);
    for spec in each_objective() {
        let got = fused(&spec, &c);
        assert!(got.loss.abs() < 1e-12, "{spec:?}: loss {}", got.loss);
        assert!(
            got.grad.iter().all(|g| g.abs() < 1e-12),
            "{spec:?}: nonzero gradient"
        );
    }
    // The same tensor passed as both sides.
    let t = tensor(&c.student, &c.dims);
    let (loss, grad) =
        objectives::loss_and_grad(&spec("forward_kl"), &t, Teacher::Dense(&t), None, None).unwrap();
    assert_eq!(loss, 0.0);
    assert_eq!(
        grad.abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap(),
        0.0
    );
}

#[test]
fn fused_gradients_match_finite_differences() {
    let mut rng = Rng::new(18);
    let (rows, vocab) = (3, 7);
    let mut c = case(
        &[rows, vocab],
        rng.logits(21, 1.5),
        rng.logits(21, 1.5),
        vec![2, 0, 6],
    );
    c.mask = Some(vec![1.0, 0.0, 1.0]);
    let mut specs = each_objective();
    specs.push(ObjectiveSpec::from_name("jsd", Some(0.2), Some(0.7), None, None, None).unwrap());
    specs.push(
        ObjectiveSpec::from_name("top_k", None, Some(2.0), Some(3), None, Some(true)).unwrap(),
    );
    let h = 1e-2f32;
    for spec in specs {
        let analytic = fused(&spec, &c).grad;
        let largest = analytic.iter().fold(0f64, |m, g| m.max(g.abs()));
        for (i, &exact) in analytic.iter().enumerate() {
            let at = |delta: f32| {
                let mut shifted = c.clone();
                shifted.student[i] += delta;
                fused(&spec, &shifted).loss
            };
            let numeric = (at(h) - at(-h)) / (2.0 * f64::from(h));
            assert!(
                (numeric - exact).abs() < 2e-3 * largest + 1e-6,
                "{spec:?}: ∂/∂z[{i}] analytic {exact} vs finite difference {numeric}"
            );
        }
    }
}
