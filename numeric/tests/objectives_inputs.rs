//! Bad inputs and settings: every one is an error that names the tensor or setting and
//! what it should be (from the fused entry points and the reference alike), never a
//! panic; and the warnings for settings that compute but misbehave.

#[path = "common/objectives.rs"]
mod common;

use common::{ids, settings, spec, tensor};
use dtac_numeric::objectives::{self, ObjectiveSpec, Teacher};

/// Calls the fused loss (both entry points) and the reference; all must fail with a
/// message containing `needle`.
fn refused(
    what: &str,
    spec: &ObjectiveSpec,
    student: &candle_core::Tensor,
    teacher: Teacher<'_>,
    mask: Option<&candle_core::Tensor>,
    tokens: Option<&candle_core::Tensor>,
    needle: &str,
) {
    let results = [
        objectives::loss(spec, student, teacher, mask, tokens).map(|_| ()),
        objectives::loss_and_grad(spec, student, teacher, mask, tokens).map(|_| ()),
        objectives::reference::loss(spec, student, teacher, mask, tokens).map(|_| ()),
    ];
    for (path, result) in ["loss", "loss_and_grad", "reference"].iter().zip(results) {
        match result {
            Ok(()) => panic!("{what}: {path} accepted bad input"),
            Err(e) => assert!(
                e.to_string().contains(needle),
                "{what}: {path} said `{e}`, expected `{needle}`"
            ),
        }
    }
}

#[test]
fn bad_inputs_are_errors_that_say_what_is_wrong() {
    let fkl = spec("forward_kl");
    let s = tensor(&[0.0; 24], &[2, 3, 4]);
    let t = tensor(&[0.0; 24], &[2, 3, 4]);
    let dense = Teacher::Dense(&t);
    let t_wrong = tensor(&[0.0; 20], &[2, 2, 5]);
    refused(
        "teacher shape",
        &fkl,
        &s,
        Teacher::Dense(&t_wrong),
        None,
        None,
        "teacher logits have shape [2, 2, 5]",
    );
    let flat = tensor(&[0.0; 4], &[4]);
    refused(
        "rank 1",
        &fkl,
        &flat,
        Teacher::Dense(&flat),
        None,
        None,
        "expected [rows, vocab]",
    );
    let empty = tensor(&[], &[3, 0]);
    refused(
        "empty vocabulary",
        &fkl,
        &empty,
        Teacher::Dense(&empty),
        None,
        None,
        "non-empty vocabulary",
    );
    let mask = tensor(&[1.0; 5], &[5]);
    refused(
        "mask shape",
        &fkl,
        &s,
        dense,
        Some(&mask),
        None,
        "mask has shape [5]",
    );
    let nan_mask = tensor(&[1.0, f32::NAN, 1.0, 1.0, 1.0, 1.0], &[2, 3]);
    refused(
        "mask NaN",
        &fkl,
        &s,
        dense,
        Some(&nan_mask),
        None,
        "mask holds NaN",
    );
    let sampled = spec("sampled");
    refused(
        "no tokens",
        &sampled,
        &s,
        dense,
        None,
        None,
        "sampled needs `tokens`",
    );
    let far = ids(&[0, 1, 2, 3, 4, 5], &[2, 3]);
    refused(
        "token range",
        &sampled,
        &s,
        dense,
        None,
        Some(&far),
        "outside",
    );
    let float_tokens = tensor(&[0.0; 6], &[2, 3]);
    refused(
        "float tokens",
        &sampled,
        &s,
        dense,
        None,
        Some(&float_tokens),
        "expected token ids",
    );
    let (idx, lps) = (
        ids(&[0, 1, 1, 2, 0, 3, 2, 1, 0, 1, 3, 2], &[2, 3, 2]),
        tensor(&[-1.0; 12], &[2, 3, 2]),
    );
    let sparse = Teacher::Sparse {
        indices: &idx,
        logprobs: &lps,
    };
    refused(
        "sparse forward KL",
        &fkl,
        &s,
        sparse,
        None,
        None,
        "needs the teacher's full logits",
    );
    let tail_hot =
        ObjectiveSpec::from_name("top_k", None, Some(2.0), Some(2), None, Some(true)).unwrap();
    refused(
        "sparse tail at τ 2",
        &tail_hot,
        &s,
        sparse,
        None,
        None,
        "needs temperature 1",
    );
    let lps_wrong = tensor(&[-1.0; 6], &[2, 3, 1]);
    let mismatched = Teacher::Sparse {
        indices: &idx,
        logprobs: &lps_wrong,
    };
    refused(
        "sparse shapes",
        &settings("top_k", Some(2), None),
        &s,
        mismatched,
        None,
        None,
        "sparse teacher",
    );
    let dup = ids(&[1, 1, 1, 2, 0, 3, 2, 1, 0, 1, 3, 2], &[2, 3, 2]);
    let twice = Teacher::Sparse {
        indices: &dup,
        logprobs: &lps,
    };
    let e = objectives::loss(&settings("top_k", Some(2), None), &s, twice, None, None).unwrap_err();
    assert!(e.to_string().contains("gives token 1 twice"), "{e}");
    let y_missing = ids(&[3, 0, 0, 0, 0, 0], &[2, 3]);
    refused(
        "sampled token not given",
        &sampled,
        &s,
        sparse,
        None,
        Some(&y_missing),
        "gives no",
    );

    // Non-finite logits name the tensor and the position.
    let mut bad = vec![0.0f32; 24];
    bad[13] = f32::NAN;
    let t_nan = tensor(&bad, &[2, 3, 4]);
    let err = objectives::loss_and_grad(&fkl, &s, Teacher::Dense(&t_nan), None, None).unwrap_err();
    assert!(
        err.to_string()
            .contains("batch 1, position 0: the teacher logits contain NaN"),
        "{err}"
    );
    bad[13] = f32::INFINITY;
    let s_inf = tensor(&bad, &[2, 3, 4]);
    let err = objectives::loss(&fkl, &s_inf, dense, None, None).unwrap_err();
    assert!(
        err.to_string().contains("student logits contain +inf"),
        "{err}"
    );
    // f64 is for the reference only.
    let s64 = s.to_dtype(candle_core::DType::F64).unwrap();
    let err = objectives::loss(&fkl, &s64, dense, None, None).unwrap_err();
    assert!(
        err.to_string().contains("expected f32, bf16 or f16"),
        "{err}"
    );
}

#[test]
fn settings_are_validated_and_linted() {
    let err = |r: Result<ObjectiveSpec, objectives::ObjectiveError>| r.unwrap_err().to_string();
    let s = ObjectiveSpec::from_name("top_k", None, None, None, None, None).unwrap();
    assert_eq!(
        s.objective,
        objectives::Objective::TopK { k: 32, tail: false }
    );
    assert_eq!(s.temperature, 1.0);
    assert!(err(ObjectiveSpec::from_name(
        "forward-kl",
        None,
        None,
        None,
        None,
        None
    ))
    .contains("did you mean `forward_kl`"));
    assert!(err(ObjectiveSpec::from_name(
        "jsd",
        Some(1.5),
        None,
        None,
        None,
        None
    ))
    .contains("outside [0, 1]"));
    assert!(err(ObjectiveSpec::from_name(
        "jsd",
        None,
        Some(0.0),
        None,
        None,
        None
    ))
    .contains("temperature = 0"));
    assert!(err(ObjectiveSpec::from_name(
        "top_k",
        None,
        None,
        Some(0),
        None,
        None
    ))
    .contains("no tokens"));
    assert!(err(ObjectiveSpec::from_name(
        "clipped_kl",
        None,
        None,
        None,
        Some(-1.0),
        None
    ))
    .contains("clip = -1"));
    assert!(err(ObjectiveSpec::from_name(
        "forward_kl",
        Some(0.5),
        None,
        None,
        None,
        None
    ))
    .contains("setting of jsd"));
    assert!(err(
        ObjectiveSpec::from_name("sampled", None, None, None, None, None)
            .and_then(|s| s.with_clamp(f64::INFINITY))
    )
    .contains("clamp"));

    assert!(err(spec("forward_kl").with_clamp(5.0)).contains("setting of sampled"));
    assert!(err(spec("sampled").with_clamp(f64::NAN)).contains("clamp = NaN"));

    let warns = |r: Result<ObjectiveSpec, _>| r.unwrap().warnings().join("\n");
    assert!(warns(ObjectiveSpec::from_name(
        "top_k",
        None,
        None,
        Some(1),
        None,
        None
    ))
    .contains("identically zero"));
    assert!(warns(ObjectiveSpec::from_name(
        "top_k",
        None,
        None,
        Some(1),
        None,
        Some(true)
    ))
    .is_empty());
    assert!(warns(ObjectiveSpec::from_name(
        "clipped_kl",
        None,
        None,
        None,
        Some(1e-4),
        None
    ))
    .contains("nearly every token"));
    assert!(warns(
        ObjectiveSpec::from_name("sampled", None, None, None, None, None)
            .and_then(|s| s.with_clamp(100.0))
    )
    .contains("overflow"));
    assert!(warns(ObjectiveSpec::from_name(
        "jsd",
        Some(0.001),
        None,
        None,
        None,
        None
    ))
    .contains("beta = 0"));
    assert!(warns(ObjectiveSpec::from_name(
        "forward_kl",
        None,
        None,
        None,
        None,
        None
    ))
    .is_empty());

    // A hand-built spec is checked the same way before any computation.
    let bad = ObjectiveSpec {
        objective: objectives::Objective::Jsd { beta: -0.1 },
        temperature: 1.0,
    };
    let t = tensor(&[0.0; 4], &[1, 4]);
    let e = objectives::loss(&bad, &t, Teacher::Dense(&t), None, None).unwrap_err();
    assert!(e.to_string().contains("outside [0, 1]"), "{e}");
}
