//! Helpers the objective tests share (included with `#[path]` by `objectives.rs` and
//! `objectives_extremes.rs`; as a test target of its own it holds no tests): a seeded
//! generator, tensor builders, the fused and reference losses with their gradients, and
//! tolerance checks that say which element differs.

#![allow(dead_code)]

use candle_core::{DType, Device, Tensor, Var};
use dtac_numeric::objectives::{self, reference, ObjectiveSpec, Teacher};

/// xorshift64*: deterministic, no dependency; Box-Muller for normal draws.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `n` logits, normal with standard deviation `scale`.
    pub fn logits(&mut self, n: usize, scale: f64) -> Vec<f32> {
        (0..n).map(|_| (self.normal() * scale) as f32).collect()
    }

    /// A mask over `n` positions keeping about `keep` of them, never none.
    pub fn mask(&mut self, n: usize, keep: f64) -> Vec<f32> {
        let mut m: Vec<f32> = (0..n)
            .map(|_| f32::from(u8::from(self.uniform() < keep)))
            .collect();
        m[self.below(n)] = 1.0;
        m
    }
}

pub fn tensor(values: &[f32], dims: &[usize]) -> Tensor {
    Tensor::from_slice(values, dims, &Device::Cpu).expect("tensor")
}

pub fn ids(values: &[u32], dims: &[usize]) -> Tensor {
    Tensor::from_slice(values, dims, &Device::Cpu).expect("ids")
}

/// A teacher given as plain data, so each path can build its own tensors.
#[derive(Clone, Debug)]
pub enum TeacherData {
    Dense(Vec<f32>),
    /// indices and log-probabilities, [lead.., width].
    Sparse {
        indices: Vec<u32>,
        logprobs: Vec<f32>,
        width: usize,
    },
}

/// One loss problem: logits with their dims, teacher, optional mask and tokens.
#[derive(Clone, Debug)]
pub struct Case {
    pub dims: Vec<usize>,
    pub student: Vec<f32>,
    pub teacher: TeacherData,
    pub mask: Option<Vec<f32>>,
    pub tokens: Option<Vec<u32>>,
}

impl Case {
    pub fn lead(&self) -> Vec<usize> {
        self.dims[..self.dims.len() - 1].to_vec()
    }

    pub fn vocab(&self) -> usize {
        self.dims[self.dims.len() - 1]
    }

    fn tensors(&self, dtype: DType) -> (Tensor, Option<Tensor>, Option<Tensor>) {
        let teacher = match &self.teacher {
            TeacherData::Dense(t) => tensor(t, &self.dims).to_dtype(dtype).unwrap(),
            TeacherData::Sparse { .. } => tensor(&[0.0], &[1]),
        };
        let mask = self.mask.as_ref().map(|m| tensor(m, &self.lead()));
        let tokens = self.tokens.as_ref().map(|y| ids(y, &self.lead()));
        (teacher, mask, tokens)
    }

    fn sparse(&self, dtype: DType) -> Option<(Tensor, Tensor)> {
        match &self.teacher {
            TeacherData::Sparse {
                indices,
                logprobs,
                width,
            } => {
                let mut dims = self.lead();
                dims.push(*width);
                Some((
                    ids(indices, &dims),
                    tensor(logprobs, &dims).to_dtype(dtype).unwrap(),
                ))
            }
            TeacherData::Dense(_) => None,
        }
    }
}

/// Loss and gradient from one implementation, in f64.
#[derive(Clone, Debug)]
pub struct LossGrad {
    pub loss: f64,
    pub grad: Vec<f64>,
}

fn flat(t: &Tensor) -> Vec<f64> {
    t.flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

/// The composed reference in f64 (candle autograd for the gradient).
pub fn reference(spec: &ObjectiveSpec, case: &Case) -> LossGrad {
    try_reference(spec, case).expect("reference loss")
}

pub fn try_reference(spec: &ObjectiveSpec, case: &Case) -> candle_core::Result<LossGrad> {
    let student = Var::from_tensor(&tensor(&case.student, &case.dims).to_dtype(DType::F64)?)?;
    let (teacher, mask, tokens) = case.tensors(DType::F64);
    let sparse = case.sparse(DType::F64);
    let teacher = match &sparse {
        Some((indices, logprobs)) => Teacher::Sparse { indices, logprobs },
        None => Teacher::Dense(&teacher),
    };
    let loss = reference::loss(
        spec,
        student.as_tensor(),
        teacher,
        mask.as_ref(),
        tokens.as_ref(),
    )?;
    let grads = loss.backward()?;
    let grad = grads
        .get(student.as_tensor())
        .map(flat)
        .expect("reference gradient");
    Ok(LossGrad {
        loss: loss.to_dtype(DType::F64)?.to_scalar::<f64>()?,
        grad,
    })
}

/// The fused loss and gradient in one pass ([`objectives::loss_and_grad`]).
pub fn fused(spec: &ObjectiveSpec, case: &Case) -> LossGrad {
    try_fused(spec, case, DType::F32).expect("fused loss")
}

pub fn try_fused(spec: &ObjectiveSpec, case: &Case, dtype: DType) -> candle_core::Result<LossGrad> {
    let student = tensor(&case.student, &case.dims).to_dtype(dtype)?;
    let (teacher, mask, tokens) = case.tensors(dtype);
    let sparse = case.sparse(DType::F32);
    let teacher = match &sparse {
        Some((indices, logprobs)) => Teacher::Sparse { indices, logprobs },
        None => Teacher::Dense(&teacher),
    };
    let evaluation = objectives::evaluate(
        spec,
        &student,
        teacher,
        mask.as_ref(),
        tokens.as_ref(),
        true,
    )?;
    let grad = evaluation.grad.expect("gradient asked for");
    assert_eq!(grad.dims(), student.dims(), "gradient shape");
    assert_eq!(grad.dtype(), dtype, "gradient dtype");
    Ok(LossGrad {
        loss: evaluation.loss,
        grad: flat(&grad),
    })
}

/// The fused loss through candle's autograd ([`objectives::loss`] and `backward`).
pub fn fused_autograd(spec: &ObjectiveSpec, case: &Case) -> LossGrad {
    let student = Var::from_tensor(&tensor(&case.student, &case.dims)).unwrap();
    let (teacher, mask, tokens) = case.tensors(DType::F32);
    let sparse = case.sparse(DType::F32);
    let teacher = match &sparse {
        Some((indices, logprobs)) => Teacher::Sparse { indices, logprobs },
        None => Teacher::Dense(&teacher),
    };
    let loss = objectives::loss(
        spec,
        student.as_tensor(),
        teacher,
        mask.as_ref(),
        tokens.as_ref(),
    )
    .expect("fused loss");
    assert_eq!(loss.dims(), &[] as &[usize], "the loss is a scalar");
    let grads = loss.backward().expect("backward");
    let grad = grads.get(student.as_tensor()).map(flat).expect("gradient");
    LossGrad {
        loss: f64::from(loss.to_scalar::<f32>().unwrap()),
        grad,
    }
}

/// `|a − b| ≤ rel·|b| + abs`.
pub fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= rel * b.abs() + abs || (a.is_infinite() && a == b)
}

/// Loss within `rel` (floor 1e-6) and every gradient element within `rel` of the
/// reference, with a floor of 1e-6 of the reference gradient's largest element.
pub fn assert_matches(what: &str, got: &LossGrad, want: &LossGrad, rel: f64) {
    assert!(
        close(got.loss, want.loss, rel, 1e-6),
        "{what}: loss {} vs reference {} (diff {:e})",
        got.loss,
        want.loss,
        got.loss - want.loss
    );
    assert_grad(what, &got.grad, &want.grad, rel);
}

pub fn assert_grad(what: &str, got: &[f64], want: &[f64], rel: f64) {
    assert_grad_floor(what, got, want, rel, 1e-6);
}

/// As [`assert_grad`], with the floor `floor` times the largest reference element (half
/// precision needs a larger one: its subnormals are coarse).
pub fn assert_grad_floor(what: &str, got: &[f64], want: &[f64], rel: f64, floor: f64) {
    assert_eq!(got.len(), want.len(), "{what}: gradient sizes");
    let largest = want.iter().fold(0f64, |m, x| m.max(x.abs()));
    let floor = floor * largest.max(1e-12);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            close(g, w, rel, floor),
            "{what}: gradient[{i}] {g:e} vs reference {w:e} (largest {largest:e})"
        );
    }
}

/// Dense teacher logits → the `width` most likely entries per row at temperature 1, as
/// an API would return them (log-probabilities, most likely first).
pub fn sparsify(teacher: &[f32], vocab: usize, width: usize) -> (Vec<u32>, Vec<f32>) {
    let (mut indices, mut logprobs) = (Vec::new(), Vec::new());
    for row in teacher.chunks(vocab) {
        let max = row
            .iter()
            .fold(f64::NEG_INFINITY, |m, &x| m.max(f64::from(x)));
        let lse = max
            + row
                .iter()
                .map(|&x| (f64::from(x) - max).exp())
                .sum::<f64>()
                .ln();
        let mut order: Vec<usize> = (0..vocab).collect();
        order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
        for &i in &order[..width] {
            indices.push(i as u32);
            logprobs.push((f64::from(row[i]) - lse) as f32);
        }
    }
    (indices, logprobs)
}

/// The objective `name` with the stdlib's defaults.
pub fn spec(name: &str) -> ObjectiveSpec {
    ObjectiveSpec::from_name(name, None, None, None, None, None).unwrap()
}

/// `name` with `k` and `tail` set (for top_k).
pub fn settings(name: &str, k: Option<usize>, tail: Option<bool>) -> ObjectiveSpec {
    ObjectiveSpec::from_name(name, None, None, k, None, tail).unwrap()
}

/// One of every objective (renormalized and tail top-k), default settings otherwise.
pub fn each_objective() -> Vec<ObjectiveSpec> {
    vec![
        spec("forward_kl"),
        spec("reverse_kl"),
        spec("jsd"),
        spec("clipped_kl"),
        settings("top_k", Some(5), Some(false)),
        settings("top_k", Some(5), Some(true)),
        spec("sampled"),
    ]
}

/// A dense-teacher case without a mask.
pub fn case(dims: &[usize], student: Vec<f32>, teacher: Vec<f32>, tokens: Vec<u32>) -> Case {
    Case {
        dims: dims.to_vec(),
        student,
        teacher: TeacherData::Dense(teacher),
        mask: None,
        tokens: Some(tokens),
    }
}

/// Logits as the natural log of probabilities, so the softmax is those probabilities.
pub fn ln(probs: &[f64]) -> Vec<f32> {
    probs.iter().map(|p| p.ln() as f32).collect()
}
