//! Signature lints: they fire on the combinations they describe, and only on those.

use std::collections::HashMap;

use dtac_interpreter::signature::{Lint, LintValues, Signature};

use crate::blocks::{student, teacher};
use crate::objectives::{clipped_kl, forward_kl, jsd, top_k};
use crate::ops::divergence;

enum V {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(&'static str),
}

struct Values(HashMap<&'static str, V>);

impl LintValues for Values {
    fn int(&self, name: &str) -> Option<i64> {
        match self.0.get(name)? {
            V::Int(n) => Some(*n),
            _ => None,
        }
    }
    fn float(&self, name: &str) -> Option<f64> {
        match self.0.get(name)? {
            V::Int(n) => Some(*n as f64),
            V::Float(x) => Some(*x),
            _ => None,
        }
    }
    fn bool(&self, name: &str) -> Option<bool> {
        match self.0.get(name)? {
            V::Bool(b) => Some(*b),
            _ => None,
        }
    }
    fn str(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            V::Str(s) => Some(s.to_string()),
            _ => None,
        }
    }
}

fn lint(sig: &Signature, values: Vec<(&'static str, V)>) -> Vec<Lint> {
    let lint = sig
        .lint
        .unwrap_or_else(|| panic!("`{}` has no lint", sig.name));
    lint(&Values(values.into_iter().collect()))
}

#[test]
fn top_k_warns_on_renormalized_top_1() {
    let lints = lint(&top_k::SIGNATURE, vec![("k", V::Int(1))]);
    assert_eq!(lints.len(), 1);
    assert_eq!(lints[0].setting, Some("k"));
    assert!(
        lints[0].message.contains("identically zero"),
        "{}",
        lints[0].message
    );
    assert!(lints[0].help.contains("tail = true"), "{}", lints[0].help);
    let explicit = lint(
        &top_k::SIGNATURE,
        vec![("k", V::Int(1)), ("tail", V::Bool(false))],
    );
    assert_eq!(explicit.len(), 1);
}

#[test]
fn top_k_is_quiet_with_a_tail_or_a_larger_k() {
    assert!(lint(
        &top_k::SIGNATURE,
        vec![("k", V::Int(1)), ("tail", V::Bool(true))]
    )
    .is_empty());
    assert!(lint(&top_k::SIGNATURE, vec![("k", V::Int(32))]).is_empty());
    assert!(lint(&top_k::SIGNATURE, vec![]).is_empty());
    assert_eq!(lint(&top_k::SIGNATURE, vec![("k", V::Int(0))]).len(), 1);
}

#[test]
fn jsd_beta_must_be_in_the_unit_interval() {
    for beta in [0.0, 0.5, 1.0] {
        assert!(
            lint(&jsd::SIGNATURE, vec![("beta", V::Float(beta))]).is_empty(),
            "{beta}"
        );
    }
    for beta in [-0.1, 1.5] {
        let lints = lint(&jsd::SIGNATURE, vec![("beta", V::Float(beta))]);
        assert_eq!(lints.len(), 1, "{beta}");
        assert_eq!(lints[0].setting, Some("beta"));
    }
    assert_eq!(lint(&jsd::SIGNATURE, vec![("beta", V::Int(2))]).len(), 1);
}

#[test]
fn objectives_reject_non_positive_temperature_and_clip() {
    assert_eq!(
        lint(&forward_kl::SIGNATURE, vec![("temperature", V::Float(0.0))]).len(),
        1
    );
    assert!(lint(&forward_kl::SIGNATURE, vec![("temperature", V::Float(2.0))]).is_empty());
    assert_eq!(
        lint(&clipped_kl::SIGNATURE, vec![("clip", V::Int(0))]).len(),
        1
    );
    assert!(lint(&clipped_kl::SIGNATURE, vec![("clip", V::Float(0.1))]).is_empty());
}

#[test]
fn student_device_must_be_auto_cpu_or_cuda_n() {
    for ok in ["auto", "cpu"] {
        assert!(
            lint(&student::SIGNATURE, vec![("device", V::Str(ok))]).is_empty(),
            "{ok}"
        );
    }
    // `cuda:N` is well formed; whether it is usable depends on the build and machine.
    for cuda in ["cuda:0", "cuda:12"] {
        let lints = lint(&student::SIGNATURE, vec![("device", V::Str(cuda))]);
        assert!(
            lints.iter().all(|l| !l.message.contains("not a device")),
            "{cuda}"
        );
    }
    for bad in ["gpu", "cuda", "cuda:", "cuda:x", "CPU", "mps"] {
        let lints = lint(&student::SIGNATURE, vec![("device", V::Str(bad))]);
        assert_eq!(lints.len(), 1, "{bad}");
        assert_eq!(lints[0].setting, Some("device"));
    }
    assert_eq!(
        lint(&teacher::SIGNATURE, vec![("device", V::Str("gpu"))]).len(),
        1
    );
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_devices_need_a_cuda_build() {
    let lints = lint(&student::SIGNATURE, vec![("device", V::Str("cuda:0"))]);
    assert_eq!(lints.len(), 1);
    assert!(
        lints[0].message.contains("built without CUDA support"),
        "{}",
        lints[0].message
    );
}

#[test]
fn teacher_warns_on_out_of_range_sampling() {
    assert_eq!(
        lint(&teacher::SIGNATURE, vec![("logprobs", V::Int(50))]).len(),
        1
    );
    assert!(lint(&teacher::SIGNATURE, vec![("logprobs", V::Int(5))]).is_empty());
    assert_eq!(
        lint(&teacher::SIGNATURE, vec![("temperature", V::Float(3.0))]).len(),
        1
    );
    let replay = vec![
        ("mode", V::Str("replay")),
        ("endpoint", V::Str("http://x/v1")),
    ];
    assert_eq!(lint(&teacher::SIGNATURE, replay).len(), 1);
}

#[test]
fn divergence_quantiles_must_select_something() {
    assert!(lint(
        &divergence::SIGNATURE,
        vec![("loss_quantile", V::Float(0.8))]
    )
    .is_empty());
    let lints = lint(
        &divergence::SIGNATURE,
        vec![("distance_quantile", V::Float(1.0))],
    );
    assert_eq!(lints.len(), 1);
    assert_eq!(lints[0].setting, Some("distance_quantile"));
}
