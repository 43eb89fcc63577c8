//! The fused path: candle custom ops whose forward writes only the per-row losses [rows]
//! and whose backward writes the [rows, vocab] gradient in one pass per row, plus
//! [`evaluate`], which computes loss and gradient together without autograd.
//!
//! Memory: the teacher, mask and token ids live in the op (the teacher's tensor is shared,
//! not copied); per thread the row math keeps a few vocabulary-long f32 buffers. The
//! gradient is therefore the only [rows, vocab] allocation, whatever the vocabulary.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, CustomOp2, DType, Device, Layout, Result, Shape};
use candle_core::{Storage, Tensor};
use half::{bf16, f16};

use super::driver::{self, GradElem, Job, Rows, TeacherRows};
use super::inputs::{read_ids, read_mask, Path, Shapes};
use super::rowmath::RowOutcome;
use super::spec::ObjectiveSpec;
use super::Teacher;

/// The checked inputs of one loss computation, everything but the student's logits.
#[derive(Debug)]
pub(crate) struct Prepared {
    spec: ObjectiveSpec,
    shapes: Shapes,
    mask: Option<Vec<bool>>,
    /// Rows the mask keeps (all rows without a mask).
    kept: usize,
    tokens: Option<Vec<i64>>,
    teacher: PreparedTeacher,
}

#[derive(Debug)]
enum PreparedTeacher {
    /// [rows, vocab], contiguous.
    Dense(Tensor),
    Sparse {
        indices: Vec<i64>,
        logprobs: Vec<f32>,
    },
}

impl Prepared {
    /// Checks the inputs and returns them with the student's logits as [rows, vocab].
    pub fn new(
        spec: &ObjectiveSpec,
        student: &Tensor,
        teacher: Teacher<'_>,
        mask: Option<&Tensor>,
        tokens: Option<&Tensor>,
    ) -> Result<(Prepared, Tensor)> {
        let shapes = Shapes::check(spec, student, &teacher, mask, tokens, Path::Fused)?;
        let student = as_rows(student, &shapes)?;
        let teacher = match teacher {
            Teacher::Dense(t) => PreparedTeacher::Dense(as_rows(t, &shapes)?),
            Teacher::Sparse { indices, logprobs } => PreparedTeacher::Sparse {
                indices: read_ids(indices)?,
                logprobs: logprobs
                    .flatten_all()?
                    .to_dtype(DType::F32)?
                    .to_vec1::<f32>()?,
            },
        };
        let mask = mask.map(read_mask).transpose()?;
        let kept = mask
            .as_ref()
            .map_or(shapes.rows, |m| m.iter().filter(|&&k| k).count());
        let tokens = match spec.objective {
            super::Objective::Sampled { .. } => tokens.map(read_ids).transpose()?,
            _ => None,
        };
        let prepared = Prepared {
            spec: *spec,
            shapes,
            mask,
            kept,
            tokens,
            teacher,
        };
        Ok((prepared, student))
    }

    pub fn shapes(&self) -> &Shapes {
        &self.shapes
    }

    /// The token-mean factor: 1 / kept rows, or 0 when the mask keeps nothing (the loss
    /// is then 0 with a zero gradient rather than 0/0).
    pub fn scale(&self) -> f64 {
        if self.kept == 0 {
            0.0
        } else {
            1.0 / self.kept as f64
        }
    }

    /// Runs `f` on a job over `student`, holding the teacher's storage for its duration.
    fn with_job<R>(&self, student: Rows<'_>, f: impl FnOnce(&Job) -> Result<R>) -> Result<R> {
        let job = |teacher| Job {
            spec: &self.spec,
            shapes: &self.shapes,
            mask: self.mask.as_deref(),
            tokens: self.tokens.as_deref(),
            student,
            teacher,
        };
        match &self.teacher {
            PreparedTeacher::Dense(t) => {
                let (storage, layout) = t.storage_and_layout();
                let Storage::Cpu(cpu) = &*storage else {
                    candle_core::bail!(
                        "teacher logits must be on the CPU for the fused objectives"
                    );
                };
                let rows = Rows::from_storage(cpu, layout, "teacher logits")?;
                f(&job(TeacherRows::Dense(rows)))
            }
            PreparedTeacher::Sparse { indices, logprobs } => f(&job(TeacherRows::Sparse {
                width: self.shapes.width.unwrap_or(0),
                indices,
                logprobs,
            })),
        }
    }

    /// Losses and, with `scales`, the gradient in the student's dtype as a new storage.
    fn gradient_storage(
        &self,
        student: &CpuStorage,
        layout: &Layout,
        scales: &[f32],
    ) -> Result<(CpuStorage, Vec<RowOutcome>)> {
        let rows = Rows::from_storage(student, layout, "student logits")?;
        let n = self.shapes.rows * self.shapes.vocab;
        self.with_job(rows, |job| {
            Ok(match rows {
                Rows::F32(_) => {
                    let (out, o) = fill::<f32>(job, scales, n)?;
                    (CpuStorage::F32(out), o)
                }
                Rows::Bf16(_) => {
                    let (out, o) = fill::<bf16>(job, scales, n)?;
                    (CpuStorage::BF16(out), o)
                }
                Rows::F16(_) => {
                    let (out, o) = fill::<f16>(job, scales, n)?;
                    (CpuStorage::F16(out), o)
                }
            })
        })
    }
}

/// `t` as contiguous [rows, vocab]: itself when it already is (a reshape would add a
/// node to the autograd graph, and with it one more gradient-sized copy in backward).
fn as_rows(t: &Tensor, shapes: &Shapes) -> Result<Tensor> {
    let flat = (shapes.rows, shapes.vocab);
    if t.dims() == [shapes.rows, shapes.vocab] && t.is_contiguous() {
        Ok(t.clone())
    } else {
        t.contiguous()?.reshape(flat)
    }
}

fn fill<T: GradElem>(job: &Job, scales: &[f32], n: usize) -> Result<(Vec<T>, Vec<RowOutcome>)> {
    let mut out = vec![T::ZERO; n];
    let outcomes = driver::gradients(job, scales, &mut out)?;
    Ok((out, outcomes))
}

/// Forward: [rows, vocab] student logits → [rows] f32 losses (0 on masked rows).
pub(crate) struct LossOp(pub Arc<Prepared>);

impl CustomOp1 for LossOp {
    fn name(&self) -> &'static str {
        "dtac-objective"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let rows = Rows::from_storage(storage, layout, "student logits")?;
        let outcomes = self.0.with_job(rows, driver::losses)?;
        let losses = outcomes.iter().map(|o| o.loss as f32).collect();
        Ok((CpuStorage::F32(losses), Shape::from(self.0.shapes.rows)))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let upstream = grad_res.to_dtype(DType::F32)?.contiguous()?;
        Ok(Some(
            arg.apply_op2_no_bwd(&upstream, &GradOp(self.0.clone()))?,
        ))
    }
}

/// Backward: (student logits [rows, vocab], upstream gradient [rows]) → the gradient
/// with respect to the student logits, [rows, vocab] in the student's dtype.
struct GradOp(Arc<Prepared>);

impl CustomOp2 for GradOp {
    fn name(&self) -> &'static str {
        "dtac-objective-grad"
    }

    fn cpu_fwd(
        &self,
        student: &CpuStorage,
        student_layout: &Layout,
        upstream: &CpuStorage,
        upstream_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let scales = match (upstream, upstream_layout.contiguous_offsets()) {
            (CpuStorage::F32(v), Some((a, b))) => &v[a..b],
            _ => candle_core::bail!("the upstream gradient of an objective must be contiguous f32"),
        };
        let (storage, _) = self.0.gradient_storage(student, student_layout, scales)?;
        let shape = Shape::from((self.0.shapes.rows, self.0.shapes.vocab));
        Ok((storage, shape))
    }
}

/// A loss computed with its gradient and counts, without autograd.
#[derive(Debug)]
pub struct Evaluation {
    /// Σ over kept tokens of ℓ_t / kept tokens (0 when the mask keeps none).
    pub loss: f64,
    /// Kept (masked-in) tokens.
    pub tokens: usize,
    /// Kept tokens whose loss a cap replaced (`clipped_kl`'s clip, `sampled`'s clamp).
    pub clamped: usize,
    /// ∂loss/∂student, the student's shape and dtype; `None` unless asked for.
    pub grad: Option<Tensor>,
}

/// The fused loss, its counts and (with `with_grad`) its gradient, in one pass per row.
pub fn evaluate(
    spec: &ObjectiveSpec,
    student: &Tensor,
    teacher: Teacher<'_>,
    mask: Option<&Tensor>,
    tokens: Option<&Tensor>,
    with_grad: bool,
) -> Result<Evaluation> {
    let (prepared, flat) = Prepared::new(spec, student, teacher, mask, tokens)?;
    let scale = prepared.scale();
    let (storage, layout) = flat.storage_and_layout();
    let Storage::Cpu(cpu) = &*storage else {
        candle_core::bail!("student logits must be on the CPU for the fused objectives");
    };
    let (outcomes, grad) = if with_grad {
        let scales = vec![scale as f32; prepared.shapes.rows];
        let (grad, outcomes) = prepared.gradient_storage(cpu, layout, &scales)?;
        let grad = match grad {
            CpuStorage::F32(v) => Tensor::from_vec(v, student.shape(), &Device::Cpu)?,
            CpuStorage::BF16(v) => Tensor::from_vec(v, student.shape(), &Device::Cpu)?,
            CpuStorage::F16(v) => Tensor::from_vec(v, student.shape(), &Device::Cpu)?,
            _ => candle_core::bail!("internal: gradient storage of an unexpected dtype"),
        };
        (outcomes, Some(grad))
    } else {
        let rows = Rows::from_storage(cpu, layout, "student logits")?;
        (prepared.with_job(rows, driver::losses)?, None)
    };
    let total: f64 = outcomes.iter().map(|o| o.loss).sum();
    Ok(Evaluation {
        loss: total * scale,
        tokens: prepared.kept,
        clamped: outcomes.iter().filter(|o| o.clamped).count(),
        grad,
    })
}

/// The per-row losses as a differentiable [rows] f32 tensor (0 on masked rows).
pub(crate) fn row_losses(
    spec: &ObjectiveSpec,
    student: &Tensor,
    teacher: Teacher<'_>,
    mask: Option<&Tensor>,
    tokens: Option<&Tensor>,
) -> Result<(Tensor, f64, Vec<usize>)> {
    let (prepared, flat) = Prepared::new(spec, student, teacher, mask, tokens)?;
    let scale = prepared.scale();
    let lead = prepared.shapes().lead.clone();
    let per_row = flat.apply_op1(LossOp(Arc::new(prepared)))?;
    Ok((per_row, scale, lead))
}

/// Per-row losses and the gradient of `Σ_r scales[r] · loss_r` with respect to the
/// student's logits, in one pass per row and without autograd: the trainer's path, where
/// each token carries its own weight (TOPD's token weights) and the step's token count,
/// not this chunk's, is the denominator. Masked rows are not supported here: the caller
/// passes only the rows it trains on.
pub fn weighted_rows(
    spec: &ObjectiveSpec,
    student: &Tensor,
    teacher: Teacher<'_>,
    tokens: Option<&Tensor>,
    scales: &[f32],
) -> Result<(Vec<f64>, Tensor)> {
    let (prepared, flat) = Prepared::new(spec, student, teacher, None, tokens)?;
    if scales.len() != prepared.shapes.rows {
        candle_core::bail!(
            "{} row weights for {} rows of logits",
            scales.len(),
            prepared.shapes.rows
        );
    }
    let (storage, layout) = flat.storage_and_layout();
    let Storage::Cpu(cpu) = &*storage else {
        candle_core::bail!("student logits must be on the CPU for the fused objectives");
    };
    let (grad, outcomes) = prepared.gradient_storage(cpu, layout, scales)?;
    let grad = match grad {
        CpuStorage::F32(v) => Tensor::from_vec(v, student.shape(), &Device::Cpu)?,
        CpuStorage::BF16(v) => Tensor::from_vec(v, student.shape(), &Device::Cpu)?,
        CpuStorage::F16(v) => Tensor::from_vec(v, student.shape(), &Device::Cpu)?,
        _ => candle_core::bail!("internal: gradient storage of an unexpected dtype"),
    };
    Ok((outcomes.iter().map(|o| o.loss).collect(), grad))
}
