//! The objectives at their edges: ±1e4 logits, one-hot teachers, `-inf` teacher logits,
//! a student whose mass outside the top-k underflows f32, and empty masks: finite where
//! the mathematics is, matching the reference, and never NaN.

#[path = "common/objectives.rs"]
mod common;

use common::{assert_matches, case, each_objective, fused, reference, settings, spec, tensor};
use common::{Case, Rng, TeacherData};
use dtac_numeric::objectives::{self, Teacher};

#[test]
fn extreme_finite_logits_match_the_reference() {
    let mut rng = Rng::new(14);
    let (rows, vocab) = (6, 120);
    let mut student = rng.logits(rows * vocab, 2.0);
    let mut teacher = rng.logits(rows * vocab, 2.0);
    for (i, (s, t)) in student.iter_mut().zip(&mut teacher).enumerate() {
        match i % 17 {
            0 => *s = -1e4,
            5 => *t = -1e4,
            9 => {
                *s = -1e4;
                *t = -1e4;
            }
            _ => {}
        }
    }
    // Row 1: one student logit at +1e4 (one-hot student); row 2: one-hot teacher at a
    // token where the student's logit is -1e4 (a loss of order 1e4).
    student[vocab + 7] = 1e4;
    teacher[2 * vocab + 17] = 1e4;
    student[2 * vocab + 17] = -1e4;
    let tokens = vec![1, 7, 17, 3, 4, 5];
    let c = case(&[rows, vocab], student, teacher, tokens);
    for spec in each_objective() {
        let want = reference(&spec, &c);
        assert!(want.loss.is_finite(), "{spec:?}: reference {}", want.loss);
        let got = fused(&spec, &c);
        assert!(
            got.grad.iter().all(|g| g.is_finite()),
            "{spec:?}: non-finite gradient"
        );
        assert_matches(&format!("{spec:?}"), &got, &want, 1e-5);
    }
}

#[test]
fn the_tail_bucket_survives_student_mass_that_underflows_f32() {
    // The student puts e^-200 (below f32's range) on every token outside the teacher's
    // top 4, the teacher a third of its mass: p_T must come from a log-sum-exp over the
    // complement, and the gradient there is −q_T · (p_j / p_T) / τ, far from zero.
    let (rows, vocab) = (2, 40);
    let mut rng = Rng::new(19);
    let teacher = rng.logits(rows * vocab, 0.5);
    let mut student = vec![-200.0f32; rows * vocab];
    for (r, row) in teacher.chunks(vocab).enumerate() {
        let mut order: Vec<usize> = (0..vocab).collect();
        order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
        for &v in &order[..4] {
            student[r * vocab + v] = rng.normal() as f32;
        }
    }
    let c = case(&[rows, vocab], student, teacher, vec![0; rows]);
    let spec = settings("top_k", Some(4), Some(true));
    let want = reference(&spec, &c);
    assert!(
        want.loss > 50.0 && want.loss.is_finite(),
        "reference {}",
        want.loss
    );
    assert_matches("underflowing tail", &fused(&spec, &c), &want, 1e-5);
}

#[test]
fn a_one_hot_teacher_makes_forward_kl_cross_entropy() {
    let mut rng = Rng::new(15);
    let vocab = 200;
    let student = rng.logits(3 * vocab, 2.0);
    let targets = [4usize, 150, 199];
    let mut teacher = vec![-1e4f32; 3 * vocab];
    for (r, &y) in targets.iter().enumerate() {
        teacher[r * vocab + y] = 0.0;
    }
    let c = case(&[3, vocab], student.clone(), teacher, vec![4, 150, 199]);
    // −log p(y), averaged.
    let ce: f64 = student
        .chunks(vocab)
        .zip(targets)
        .map(|(row, y)| {
            let lse = row.iter().map(|&x| f64::from(x).exp()).sum::<f64>().ln();
            lse - f64::from(row[y])
        })
        .sum::<f64>()
        / 3.0;
    let got = fused(&spec("forward_kl"), &c);
    assert!(
        (got.loss - ce).abs() < 1e-5 * ce,
        "{} vs cross-entropy {ce}",
        got.loss
    );
    assert_matches("one-hot", &got, &reference(&spec("forward_kl"), &c), 1e-5);
}

#[test]
fn minus_infinity_teacher_logits_are_zero_probability() {
    let mut rng = Rng::new(16);
    let (rows, vocab) = (4, 90);
    let student = rng.logits(rows * vocab, 2.0);
    let mut teacher = rng.logits(rows * vocab, 2.0);
    for (i, t) in teacher.iter_mut().enumerate() {
        if i % 3 == 0 {
            *t = f32::NEG_INFINITY;
        }
    }
    // Response tokens where the teacher's logit is finite.
    let c = case(&[rows, vocab], student, teacher, vec![1, 2, 4, 5]);
    let finite = [
        spec("forward_kl"),
        spec("jsd"),
        spec("clipped_kl"),
        settings("top_k", Some(5), Some(false)),
        settings("top_k", Some(5), Some(true)),
        settings("top_k", Some(70), Some(false)), // S includes -inf tokens (q = 0)
        settings("top_k", Some(70), Some(true)),
        spec("sampled"),
    ];
    for spec in finite {
        let got = fused(&spec, &c);
        assert!(
            got.loss.is_finite() && got.grad.iter().all(|g| g.is_finite()),
            "{spec:?}"
        );
        assert_matches(&format!("{spec:?}"), &got, &reference(&spec, &c), 1e-5);
    }
    // Reverse KL is +inf where the student has mass the teacher forbids: the loss says so,
    // and the gradient (inf − inf) is refused with a reason rather than returned as NaN.
    let student = tensor(&c.student, &c.dims);
    let TeacherData::Dense(t) = &c.teacher else {
        unreachable!()
    };
    let teacher = tensor(t, &c.dims);
    let rkl = spec("reverse_kl");
    let loss = objectives::loss(&rkl, &student, Teacher::Dense(&teacher), None, None).unwrap();
    assert_eq!(loss.to_scalar::<f32>().unwrap(), f32::INFINITY);
    let err = objectives::loss_and_grad(&rkl, &student, Teacher::Dense(&teacher), None, None)
        .unwrap_err();
    assert!(err.to_string().contains("reverse KL is infinite"), "{err}");
    // Sampled at a token the teacher rules out: infinite loss, finite gradient −(p − δ_y).
    let ruled_out = Case {
        tokens: Some(vec![0, 3, 6, 9]),
        ..c
    };
    let got = fused(&spec("sampled"), &ruled_out);
    assert_eq!(got.loss, f64::INFINITY);
    assert!(got.grad.iter().all(|g| g.is_finite()));
}

#[test]
fn an_empty_mask_gives_zero_loss_and_zero_gradient() {
    let mut rng = Rng::new(17);
    let mut c = case(
        &[2, 3, 30],
        rng.logits(180, 2.0),
        rng.logits(180, 2.0),
        vec![0; 6],
    );
    c.mask = Some(vec![0.0; 6]);
    for spec in each_objective() {
        for got in [
            fused(&spec, &c),
            common::fused_autograd(&spec, &c),
            reference(&spec, &c),
        ] {
            assert_eq!(got.loss, 0.0, "{spec:?}");
            assert!(
                got.grad.iter().all(|&g| g == 0.0),
                "{spec:?}: gradient must be zero, not NaN"
            );
        }
    }
    // Masked positions are not read: garbage there changes nothing.
    let mut garbage = c.clone();
    garbage.student[..30].fill(f32::NAN);
    garbage.mask = Some(vec![0.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
    garbage.tokens = Some(vec![u32::MAX, 1, 2, 3, 4, 5]);
    let mut clean = garbage.clone();
    clean.student[..30].fill(0.0);
    for spec in each_objective() {
        assert_eq!(
            fused(&spec, &garbage).loss,
            fused(&spec, &clean).loss,
            "{spec:?}"
        );
    }
}
