//! The fused objectives against the composed reference (f64, candle autograd): every
//! objective over a grid of settings, on seeded random logits, with and without masks, as
//! [rows, vocab] and [batch, seq, vocab]; sparse teachers; half-precision inputs. Losses
//! and gradients must agree within 1e-5 relative.

#[path = "common/objectives.rs"]
mod common;

use candle_core::DType;
use common::{
    assert_grad_floor, assert_matches, fused, fused_autograd, reference, sparsify, Case, Rng,
};
use common::{try_fused, TeacherData};
use dtac_numeric::objectives::{self, ObjectiveSpec};

fn spec(name: &str, temperature: f64) -> ObjectiveSpec {
    ObjectiveSpec::from_name(name, None, Some(temperature), None, None, None).unwrap()
}

/// Every objective under the settings the brief names, for a vocabulary of `vocab`.
fn grid(vocab: usize) -> Vec<ObjectiveSpec> {
    let mut out = Vec::new();
    for t in [1.0, 0.7, 2.0] {
        out.push(spec("forward_kl", t));
        out.push(spec("reverse_kl", t));
    }
    for beta in [0.0, 0.3, 0.5, 1.0] {
        for t in [1.0, 0.7] {
            out.push(
                ObjectiveSpec::from_name("jsd", Some(beta), Some(t), None, None, None).unwrap(),
            );
        }
    }
    for (clip, t) in [(0.05, 1.0), (0.3, 1.0), (10.0, 1.0), (0.3, 2.0)] {
        out.push(
            ObjectiveSpec::from_name("clipped_kl", None, Some(t), None, Some(clip), None).unwrap(),
        );
    }
    for (k, tail) in [
        (1, true),
        (5, false),
        (5, true),
        (40, true),
        (vocab, false),
        (vocab, true),
    ] {
        for t in [1.0, 0.7] {
            let s = ObjectiveSpec::from_name("top_k", None, Some(t), Some(k), None, Some(tail));
            out.push(s.unwrap());
        }
    }
    for (clamp, t) in [(20.0, 1.0), (0.5, 1.0), (20.0, 2.0)] {
        out.push(
            ObjectiveSpec::from_name("sampled", None, Some(t), None, None, None)
                .and_then(|s| s.with_clamp(clamp))
                .unwrap(),
        );
    }
    out
}

/// Teacher logits with spread 2, the student a noisy copy whose noise grows with the row
/// (so per-token KLs span a range and caps bite on some rows only).
fn dense_case(rng: &mut Rng, dims: &[usize], masked: bool) -> Case {
    let vocab = dims[dims.len() - 1];
    let rows: usize = dims[..dims.len() - 1].iter().product();
    let teacher = rng.logits(rows * vocab, 2.0);
    let mut student = Vec::with_capacity(teacher.len());
    for (r, row) in teacher.chunks(vocab).enumerate() {
        let noise = 0.2 + 1.5 * r as f64 / rows as f64;
        student.extend(row.iter().map(|&t| t + (rng.normal() * noise) as f32));
    }
    // Half the response tokens are the teacher's argmax, half arbitrary.
    let tokens = teacher
        .chunks(vocab)
        .map(|row| match rng.below(2) {
            0 => (0..vocab)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap() as u32,
            _ => rng.below(vocab) as u32,
        })
        .collect();
    Case {
        dims: dims.to_vec(),
        student,
        teacher: TeacherData::Dense(teacher),
        mask: masked.then(|| rng.mask(rows, 0.7)),
        tokens: Some(tokens),
    }
}

#[test]
fn every_objective_matches_the_reference_on_dense_teachers() {
    let mut rng = Rng::new(1);
    for (dims, masked) in [(vec![13, 97], false), (vec![2, 5, 203], true)] {
        let case = dense_case(&mut rng, &dims, masked);
        for spec in grid(case.vocab()) {
            let what = format!("{spec:?} on {dims:?} (mask: {masked})");
            let want = reference(&spec, &case);
            assert!(
                want.loss.is_finite() && want.loss >= 0.0,
                "{what}: reference {}",
                want.loss
            );
            assert_matches(&what, &fused(&spec, &case), &want, 1e-5);
            assert_matches(
                &format!("{what}, autograd"),
                &fused_autograd(&spec, &case),
                &want,
                1e-5,
            );
        }
    }
}

#[test]
fn caps_replace_some_tokens_and_cut_their_gradient() {
    let mut rng = Rng::new(2);
    let case = dense_case(&mut rng, &[16, 64], false);
    let student = common::tensor(&case.student, &case.dims);
    let TeacherData::Dense(t) = &case.teacher else {
        unreachable!()
    };
    let teacher = common::tensor(t, &case.dims);
    let tokens = common::ids(case.tokens.as_ref().unwrap(), &[16]);
    let settings = [
        ObjectiveSpec::from_name("clipped_kl", None, None, None, Some(0.3), None),
        ObjectiveSpec::from_name("sampled", None, None, None, None, None)
            .and_then(|s| s.with_clamp(0.5)),
    ];
    for spec in settings.map(Result::unwrap) {
        let e = objectives::evaluate(
            &spec,
            &student,
            objectives::Teacher::Dense(&teacher),
            None,
            Some(&tokens),
            true,
        )
        .unwrap();
        assert!(
            e.clamped > 0 && e.clamped < e.tokens,
            "{spec:?}: {} of {} tokens clamped; the case should clamp some, not all",
            e.clamped,
            e.tokens
        );
        let grad = e.grad.unwrap().to_vec2::<f32>().unwrap();
        let zero_rows = grad
            .iter()
            .filter(|row| row.iter().all(|&g| g == 0.0))
            .count();
        assert_eq!(
            zero_rows, e.clamped,
            "{spec:?}: exactly the clamped rows have no gradient"
        );
        assert_matches(
            &format!("{spec:?}"),
            &fused(&spec, &case),
            &reference(&spec, &case),
            1e-5,
        );
    }
}

/// A sparse teacher built from dense logits: the top `width` entries of each row, a few
/// rows padded with `-inf` to fewer entries.
fn sparse_case(rng: &mut Rng, dims: &[usize], width: usize, pad: bool) -> (Case, Case) {
    let dense = dense_case(rng, dims, true);
    let TeacherData::Dense(t) = &dense.teacher else {
        unreachable!()
    };
    let (indices, mut logprobs) = sparsify(t, dense.vocab(), width);
    if pad {
        for row in logprobs.chunks_mut(width).step_by(3) {
            row[width - 2..].fill(f32::NEG_INFINITY);
        }
    }
    // The response token is one of the given entries (sampled needs its log-probability).
    let tokens = indices
        .chunks(width)
        .map(|row| row[rng.below(width - 2)])
        .collect();
    let sparse = Case {
        teacher: TeacherData::Sparse {
            indices,
            logprobs,
            width,
        },
        tokens: Some(tokens),
        ..dense.clone()
    };
    let dense = Case {
        tokens: sparse.tokens.clone(),
        ..dense
    };
    (sparse, dense)
}

#[test]
fn sparse_teachers_match_the_reference() {
    let mut rng = Rng::new(3);
    let (case, _) = sparse_case(&mut rng, &[2, 4, 150], 8, true);
    let specs = [
        ObjectiveSpec::from_name("top_k", None, None, Some(5), None, Some(false)),
        ObjectiveSpec::from_name("top_k", None, Some(0.7), Some(5), None, Some(false)),
        ObjectiveSpec::from_name("top_k", None, None, Some(20), None, Some(false)),
        ObjectiveSpec::from_name("top_k", None, None, Some(5), None, Some(true)),
        ObjectiveSpec::from_name("top_k", None, None, Some(8), None, Some(true)),
        ObjectiveSpec::from_name("top_k", None, None, Some(1), None, Some(true)),
        ObjectiveSpec::from_name("sampled", None, None, None, None, None),
        ObjectiveSpec::from_name("sampled", None, None, None, None, None)
            .and_then(|s| s.with_clamp(0.2)),
    ];
    for spec in specs.map(Result::unwrap) {
        let what = format!("sparse {spec:?}");
        let want = reference(&spec, &case);
        assert!(want.loss.is_finite(), "{what}: reference {}", want.loss);
        assert_matches(&what, &fused(&spec, &case), &want, 1e-5);
        assert_matches(
            &format!("{what}, autograd"),
            &fused_autograd(&spec, &case),
            &want,
            1e-5,
        );
    }
}

#[test]
fn sparse_and_dense_teachers_agree_where_they_carry_the_same_information() {
    let mut rng = Rng::new(4);
    let (sparse, dense) = sparse_case(&mut rng, &[3, 4, 120], 6, false);
    let specs = [
        // Renormalized top-k needs only the support's relative logits: any temperature.
        ObjectiveSpec::from_name("top_k", None, Some(0.7), Some(6), None, Some(false)),
        ObjectiveSpec::from_name("top_k", None, Some(1.3), Some(4), None, Some(false)),
        // The tail and the sampled token's log-probability need temperature 1.
        ObjectiveSpec::from_name("top_k", None, None, Some(6), None, Some(true)),
        ObjectiveSpec::from_name("top_k", None, None, Some(2), None, Some(true)),
        ObjectiveSpec::from_name("sampled", None, None, None, None, None),
    ];
    for spec in specs.map(Result::unwrap) {
        // The sparse log-probabilities went through f32, so agreement is to ~1e-6.
        assert_matches(
            &format!("{spec:?}"),
            &fused(&spec, &sparse),
            &fused(&spec, &dense),
            2e-5,
        );
    }
}

#[test]
fn half_precision_inputs_are_computed_in_f32() {
    let mut rng = Rng::new(5);
    for (dtype, grad_rel) in [(DType::BF16, 8e-3), (DType::F16, 1e-3)] {
        let mut case = dense_case(&mut rng, &[2, 3, 90], true);
        // The reference sees exactly the values the half-precision tensors hold.
        let round = |v: &[f32]| -> Vec<f32> {
            common::tensor(v, &[v.len()])
                .to_dtype(dtype)
                .and_then(|t| t.to_dtype(DType::F32))
                .and_then(|t| t.to_vec1())
                .unwrap()
        };
        case.student = round(&case.student);
        if let TeacherData::Dense(t) = &case.teacher {
            case.teacher = TeacherData::Dense(round(t));
        }
        for spec in [
            spec("forward_kl", 1.0),
            spec("reverse_kl", 0.7),
            spec("jsd", 1.0),
        ] {
            let what = format!("{dtype:?} {spec:?}");
            let got = try_fused(&spec, &case, dtype).unwrap();
            let want = reference(&spec, &case);
            assert!(
                common::close(got.loss, want.loss, 1e-5, 1e-6),
                "{what}: {} vs {}",
                got.loss,
                want.loss
            );
            // Half precision's subnormals (below 6e-5 for f16) are spaced 6e-8 apart.
            assert_grad_floor(&what, &got.grad, &want.grad, grad_rel, 1e-4);
        }
    }
}

#[test]
fn token_losses_have_the_leading_shape_and_average_to_the_loss() {
    let mut rng = Rng::new(6);
    let case = dense_case(&mut rng, &[2, 3, 40], true);
    let student = common::tensor(&case.student, &case.dims);
    let TeacherData::Dense(t) = &case.teacher else {
        unreachable!()
    };
    let teacher = common::tensor(t, &case.dims);
    let mask = common::tensor(case.mask.as_ref().unwrap(), &[2, 3]);
    let spec = spec("forward_kl", 1.0);
    let teacher = objectives::Teacher::Dense(&teacher);
    let per_token = objectives::token_losses(&spec, &student, teacher, Some(&mask), None).unwrap();
    assert_eq!(per_token.dims(), &[2, 3]);
    let values: Vec<f32> = per_token.flatten_all().unwrap().to_vec1().unwrap();
    let kept: Vec<bool> = case
        .mask
        .as_ref()
        .unwrap()
        .iter()
        .map(|&m| m != 0.0)
        .collect();
    for (v, k) in values.iter().zip(&kept) {
        assert!(if *k { *v > 0.0 } else { *v == 0.0 }, "kept {k}, loss {v}");
    }
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>()
        / kept.iter().filter(|&&k| k).count() as f64;
    let loss = objectives::loss(&spec, &student, teacher, Some(&mask), None).unwrap();
    assert!(common::close(
        f64::from(loss.to_scalar::<f32>().unwrap()),
        mean,
        1e-6,
        0.0
    ));
}
