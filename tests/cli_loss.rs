//! `dtac loss` as a user runs it: a safetensors file written here, the printed loss
//! checked against a value computed in the test from the definitions, `--grad` output,
//! `--reference`, and every kind of bad input (an error naming the problem, never a panic).

mod support;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use support::{dtac, Run, TempDir};

const STUDENT: [f32; 12] = [
    0.5, -1.0, 2.0, 0.0, 1.5, 0.3, -0.7, 0.2, 0.9, 3.0, -2.0, 0.1,
];
const TEACHER: [f32; 12] = [1.0, 0.0, 1.0, -1.0, 2.0, 0.5, 0.4, -0.3, 1.1, 0.0, 0.0, 2.5];
/// [batch 2, seq 2]: the second position of the first sequence is padding.
const MASK: [f32; 4] = [1.0, 0.0, 1.0, 1.0];

fn log_softmax(row: &[f32], tau: f64) -> Vec<f64> {
    let x: Vec<f64> = row.iter().map(|&v| f64::from(v) / tau).collect();
    let max = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = max + x.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
    x.iter().map(|v| v - lse).collect()
}

/// Mean over kept positions of KL(q‖p), both at temperature `tau`.
fn forward_kl(tau: f64) -> f64 {
    let rows = STUDENT.chunks(3).zip(TEACHER.chunks(3)).zip(MASK);
    let kept = rows.filter(|(_, m)| *m != 0.0);
    let kls: Vec<f64> = kept
        .map(|((s, t), _)| {
            let (lp, lq) = (log_softmax(s, tau), log_softmax(t, tau));
            lq.iter().zip(&lp).map(|(q, p)| q.exp() * (q - p)).sum()
        })
        .collect();
    kls.iter().sum::<f64>() / kls.len() as f64
}

fn write(dir: &TempDir, name: &str, tensors: &[(&str, Tensor)]) -> String {
    let path = std::path::Path::new(&dir.path).join(name);
    let map: HashMap<String, Tensor> = tensors
        .iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .collect();
    candle_core::safetensors::save(&map, &path).expect("write safetensors");
    path.display().to_string()
}

fn t(values: &[f32], dims: &[usize]) -> Tensor {
    Tensor::from_slice(values, dims, &Device::Cpu).unwrap()
}

fn standard(dir: &TempDir) -> String {
    write(
        dir,
        "logits.safetensors",
        &[
            ("student", t(&STUDENT, &[2, 2, 3])),
            ("teacher", t(&TEACHER, &[2, 2, 3])),
            ("mask", t(&MASK, &[2, 2])),
        ],
    )
}

/// The value after `key: ` on stdout.
fn field(run: &Run, key: &str) -> String {
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no `{key}:` in\n{}\n{}", run.stdout, run.stderr))
        .to_string()
}

fn loss_of(run: &Run) -> f64 {
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    field(run, "loss").parse().expect("the loss is a number")
}

#[test]
fn prints_the_loss_the_definition_gives() {
    let dir = TempDir::new();
    let file = standard(&dir);
    for tau in [1.0, 0.5] {
        let run = dtac(&[
            "loss",
            "--objective",
            "forward_kl",
            "--temperature",
            &tau.to_string(),
            &file,
        ]);
        let (got, want) = (loss_of(&run), forward_kl(tau));
        assert!(
            (got - want).abs() < 1e-6 * want,
            "τ={tau}: printed {got}, definition {want}"
        );
        assert_eq!(field(&run, "tokens"), "3 of 4");
        assert!(
            run.stderr.is_empty(),
            "no warnings expected: {}",
            run.stderr
        );
    }
}

#[test]
fn fused_and_reference_agree_for_every_objective() {
    let dir = TempDir::new();
    let file = write(
        &dir,
        "all.safetensors",
        &[
            ("student", t(&STUDENT, &[2, 2, 3])),
            ("teacher", t(&TEACHER, &[2, 2, 3])),
            ("mask", t(&MASK, &[2, 2])),
            (
                "tokens",
                Tensor::from_slice(&[0u32, 1, 2, 0], (2, 2), &Device::Cpu).unwrap(),
            ),
        ],
    );
    let settings: [&[&str]; 6] = [
        &["--objective", "forward_kl"],
        &["--objective", "reverse_kl", "--temperature", "2"],
        &["--objective", "jsd", "--beta", "0.3"],
        &["--objective", "clipped_kl", "--clip", "0.05"],
        &["--objective", "top_k", "--top-k", "2", "--tail"],
        &["--objective", "sampled", "--clamp", "5"],
    ];
    for args in settings {
        let run = |extra: &[&str]| {
            let mut argv = vec!["loss"];
            argv.extend_from_slice(args);
            argv.extend_from_slice(extra);
            argv.push(&file);
            dtac(&argv)
        };
        let (fused, reference) = (loss_of(&run(&[])), loss_of(&run(&["--reference"])));
        assert!(
            (fused - reference).abs() <= 1e-6 * reference.abs() + 1e-9,
            "{args:?}: {fused} vs {reference}"
        );
    }
    let clipped = dtac(&["loss", "--objective", "clipped_kl", "--clip", "0.05", &file]);
    assert!(
        field(&clipped, "clamped").ends_with("of 3"),
        "{}",
        clipped.stdout
    );
}

#[test]
fn grad_is_written_atomically_with_the_students_shape() {
    let dir = TempDir::new();
    let file = standard(&dir);
    let out = std::path::Path::new(&dir.path).join("grad.safetensors");
    let run = dtac(&[
        "loss",
        "--objective",
        "forward_kl",
        &file,
        "--grad",
        &out.display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let saved = candle_core::safetensors::load(&out, &Device::Cpu).unwrap();
    let grad = saved.get("grad").expect("a tensor named grad");
    assert_eq!(grad.dims(), &[2, 2, 3]);
    // ∂/∂z = (p − q) / kept tokens on kept rows, 0 on the masked one.
    let got: Vec<f32> = grad.flatten_all().unwrap().to_vec1().unwrap();
    for (r, ((s, t), m)) in STUDENT
        .chunks(3)
        .zip(TEACHER.chunks(3))
        .zip(MASK)
        .enumerate()
    {
        let (lp, lq) = (log_softmax(s, 1.0), log_softmax(t, 1.0));
        for j in 0..3 {
            let want = if m == 0.0 {
                0.0
            } else {
                (lp[j].exp() - lq[j].exp()) / 3.0
            };
            let g = f64::from(got[r * 3 + j]);
            assert!((g - want).abs() < 1e-6, "grad[{r},{j}] {g} vs {want}");
        }
    }
    // Same through the reference; and nothing but the two files is left in the directory.
    let run = dtac(&[
        "loss",
        "--objective",
        "forward_kl",
        "--reference",
        &file,
        "--grad",
        &out.display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut names: Vec<String> = std::fs::read_dir(&dir.path)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["grad.safetensors", "logits.safetensors"]);
}

#[test]
fn half_precision_and_sparse_teachers_are_read() {
    let dir = TempDir::new();
    let bf16 = |v: &[f32], d: &[usize]| t(v, d).to_dtype(DType::BF16).unwrap();
    let file = write(
        &dir,
        "half.safetensors",
        &[
            ("student", bf16(&STUDENT, &[4, 3])),
            ("teacher", bf16(&TEACHER, &[4, 3])),
        ],
    );
    let out = std::path::Path::new(&dir.path).join("g.safetensors");
    let run = dtac(&[
        "loss",
        "--objective",
        "jsd",
        &file,
        "--grad",
        &out.display().to_string(),
    ]);
    assert!(loss_of(&run) > 0.0);
    assert!(field(&run, "grad").contains("BF16"), "{}", run.stdout);

    // Teacher's top 2 per position as (ids, log-probabilities); renormalized top_k
    // needs only those.
    let (mut ids, mut lps) = (Vec::new(), Vec::new());
    for row in TEACHER.chunks(3) {
        let lq = log_softmax(row, 1.0);
        let mut order = [0usize, 1, 2];
        order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
        for &i in &order[..2] {
            ids.push(i as u32);
            lps.push(lq[i] as f32);
        }
    }
    let sparse = write(
        &dir,
        "sparse.safetensors",
        &[
            ("student", t(&STUDENT, &[4, 3])),
            (
                "teacher_indices",
                Tensor::from_slice(&ids, (4, 2), &Device::Cpu).unwrap(),
            ),
            ("teacher_logprobs", t(&lps, &[4, 2])),
        ],
    );
    let dense = write(
        &dir,
        "dense.safetensors",
        &[
            ("student", t(&STUDENT, &[4, 3])),
            ("teacher", t(&TEACHER, &[4, 3])),
        ],
    );
    let run = |f: &str| loss_of(&dtac(&["loss", "--objective", "top_k", "--top-k", "2", f]));
    let (a, b) = (run(&sparse), run(&dense));
    assert!((a - b).abs() < 1e-6 * b, "sparse {a} vs dense {b}");
}

#[test]
fn bad_input_is_a_clear_error_never_a_panic() {
    let dir = TempDir::new();
    let file = standard(&dir);
    let no_teacher = write(
        &dir,
        "lonely.safetensors",
        &[("student", t(&STUDENT, &[4, 3])), ("mask", t(&MASK, &[4]))],
    );
    let mismatch = write(
        &dir,
        "mismatch.safetensors",
        &[
            ("student", t(&STUDENT, &[4, 3])),
            ("teacher", t(&TEACHER, &[3, 4])),
        ],
    );
    let garbage = dir.write("garbage.safetensors", "this is not a safetensors file");
    let missing = format!("{}/nothing-here.safetensors", dir.path);
    let cases: [(&[&str], &str); 9] = [
        (&["--objective", "forward_kl", &missing], "cannot read"),
        (&["--objective", "forward_kl", &garbage], "as safetensors"),
        (
            &["--objective", "forward_kl", &no_teacher],
            "has no tensor `teacher` (it has: mask, student)",
        ),
        (
            &["--objective", "forward_kl", &mismatch],
            "teacher logits have shape [3, 4] but the student's are [4, 3]",
        ),
        (&["--objective", "sampled", &file], "sampled needs `tokens`"),
        (
            &["--objective", "jsd", "--beta", "2", &file],
            "outside [0, 1]",
        ),
        (
            &["--objective", "forward_kl", "--beta", "0.5", &file],
            "setting of jsd",
        ),
        (&["--objective", "kl", &file], "unknown objective `kl`"),
        (
            &["--objective", "forward_kl", "--temperature", "0", &file],
            "not a positive number",
        ),
    ];
    for (args, needle) in cases {
        let mut argv = vec!["loss"];
        argv.extend_from_slice(args);
        let run = dtac(&argv);
        assert_eq!(
            run.code, 1,
            "{args:?} should fail:\n{}{}",
            run.stdout, run.stderr
        );
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(needle),
            "{args:?}: expected `{needle}` in\n{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("panicked"),
            "{args:?} panicked:\n{}",
            run.stderr
        );
    }
}

#[test]
fn settings_that_misbehave_are_warned_about() {
    let dir = TempDir::new();
    let file = standard(&dir);
    let run = dtac(&["loss", "--objective", "top_k", "--top-k", "1", &file]);
    assert_eq!(loss_of(&run), 0.0, "renormalized top-1 is identically zero");
    assert!(
        run.stderr
            .contains("warning: top_k with k = 1 and no tail is identically zero"),
        "{}",
        run.stderr
    );
}
