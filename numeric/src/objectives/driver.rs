//! Runs the row math over every row, in parallel chunks of rows (rayon), each chunk with
//! its own O(vocab) scratch. bf16/f16 rows are converted to f32 one row at a time, so no
//! [rows, vocab] temporary is ever made; the gradient buffer the caller passes is the
//! only such allocation.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, Error, Layout, Result};
use half::{bf16, f16};
use rayon::prelude::*;

use super::inputs::Shapes;
use super::rowmath::{self, GradRow, RowOutcome, Scratch, TeacherRow};
use super::spec::ObjectiveSpec;

/// A [rows, vocab] block of logits in its stored precision.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rows<'a> {
    F32(&'a [f32]),
    Bf16(&'a [bf16]),
    F16(&'a [f16]),
}

impl<'a> Rows<'a> {
    /// The contiguous logits of `storage` under `layout`.
    pub fn from_storage(storage: &'a CpuStorage, layout: &Layout, what: &str) -> Result<Rows<'a>> {
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("{what} must be contiguous (call `.contiguous()` first)");
        };
        Ok(match storage {
            CpuStorage::F32(v) => Rows::F32(&v[start..end]),
            CpuStorage::BF16(v) => Rows::Bf16(&v[start..end]),
            CpuStorage::F16(v) => Rows::F16(&v[start..end]),
            other => {
                candle_core::bail!("{what} are {:?}; expected f32, bf16 or f16", other.dtype())
            }
        })
    }

    /// Row `r` as f32: borrowed when stored as f32, converted into `buf` otherwise.
    fn row<'b>(&'b self, r: usize, vocab: usize, buf: &'b mut Vec<f32>) -> &'b [f32] {
        let range = r * vocab..(r + 1) * vocab;
        match self {
            Rows::F32(v) => &v[range],
            Rows::Bf16(v) => {
                buf.clear();
                buf.extend(v[range].iter().map(|x| x.to_f32()));
                buf
            }
            Rows::F16(v) => {
                buf.clear();
                buf.extend(v[range].iter().map(|x| x.to_f32()));
                buf
            }
        }
    }
}

/// The teacher over all rows.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TeacherRows<'a> {
    Dense(Rows<'a>),
    Sparse {
        width: usize,
        indices: &'a [i64],
        logprobs: &'a [f32],
    },
}

/// Everything one pass over the rows reads.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Job<'a> {
    pub spec: &'a ObjectiveSpec,
    pub shapes: &'a Shapes,
    pub mask: Option<&'a [bool]>,
    pub tokens: Option<&'a [i64]>,
    pub student: Rows<'a>,
    pub teacher: TeacherRows<'a>,
}

/// The per-thread buffers of one chunk of rows.
#[derive(Default)]
struct Buffers {
    scratch: Scratch,
    student: Vec<f32>,
    teacher: Vec<f32>,
    grad: Vec<f32>,
}

impl Job<'_> {
    fn kept(&self, r: usize) -> bool {
        self.mask.is_none_or(|m| m[r])
    }

    /// Rows per parallel chunk: a few chunks per thread, so uneven rows still balance.
    fn chunk_rows(&self) -> usize {
        let threads = rayon::current_num_threads().max(1);
        self.shapes.rows.div_ceil(threads * 4).max(1)
    }

    fn row(&self, r: usize, buffers: &mut Buffers, grad: Option<GradRow>) -> Result<RowOutcome> {
        let v = self.shapes.vocab;
        let student = self.student.row(r, v, &mut buffers.student);
        let teacher = match &self.teacher {
            TeacherRows::Dense(rows) => TeacherRow::Dense(rows.row(r, v, &mut buffers.teacher)),
            &TeacherRows::Sparse {
                width,
                indices,
                logprobs,
            } => TeacherRow::Sparse {
                indices: &indices[r * width..(r + 1) * width],
                logprobs: &logprobs[r * width..(r + 1) * width],
            },
        };
        let token = self.tokens.map(|t| t[r]);
        rowmath::row(
            self.spec,
            student,
            teacher,
            token,
            &mut buffers.scratch,
            grad,
        )
        .map_err(|issue| {
            Error::msg(format!(
                "{} at {}: {}",
                self.spec.objective.name(),
                self.shapes.row_label(r),
                issue.0
            ))
        })
    }
}

const SKIPPED: RowOutcome = RowOutcome {
    loss: 0.0,
    clamped: false,
};

/// Every row's loss (0 for masked rows, which are not read at all).
pub(crate) fn losses(job: &Job) -> Result<Vec<RowOutcome>> {
    let chunk = job.chunk_rows();
    let chunks = job.shapes.rows.div_ceil(chunk);
    let per_chunk: Vec<Vec<RowOutcome>> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut buffers = Buffers::default();
            (c * chunk..((c + 1) * chunk).min(job.shapes.rows))
                .map(|r| match job.kept(r) {
                    true => job.row(r, &mut buffers, None),
                    false => Ok(SKIPPED),
                })
                .collect()
        })
        .collect::<Result<_>>()?;
    Ok(per_chunk.into_iter().flatten().collect())
}

/// An element type the gradient can be written in.
pub(crate) trait GradElem: Copy + Send + Sync {
    const ZERO: Self;
    fn from_f32(x: f32) -> Self;
    /// The buffer itself when it is f32 (written in place, no conversion row).
    fn as_f32(out: &mut [Self]) -> Option<&mut [f32]>;
}

impl GradElem for f32 {
    const ZERO: f32 = 0.0;
    fn from_f32(x: f32) -> f32 {
        x
    }
    fn as_f32(out: &mut [f32]) -> Option<&mut [f32]> {
        Some(out)
    }
}

impl GradElem for bf16 {
    const ZERO: bf16 = bf16::ZERO;
    fn from_f32(x: f32) -> bf16 {
        bf16::from_f32(x)
    }
    fn as_f32(_: &mut [bf16]) -> Option<&mut [f32]> {
        None
    }
}

impl GradElem for f16 {
    const ZERO: f16 = f16::ZERO;
    fn from_f32(x: f32) -> f16 {
        f16::from_f32(x)
    }
    fn as_f32(_: &mut [f16]) -> Option<&mut [f32]> {
        None
    }
}

/// Every row's loss, and `out[r] = scales[r] · ∂ℓ_r/∂z_r` (zero for masked rows and
/// rows whose scale is 0, which are not computed).
pub(crate) fn gradients<T: GradElem>(
    job: &Job,
    scales: &[f32],
    out: &mut [T],
) -> Result<Vec<RowOutcome>> {
    let v = job.shapes.vocab;
    let chunk = job.chunk_rows();
    let per_chunk: Vec<Vec<RowOutcome>> = out
        .par_chunks_mut(chunk * v)
        .enumerate()
        .map(|(c, block)| {
            let mut buffers = Buffers::default();
            let mut outcomes = Vec::with_capacity(chunk);
            for (i, out_row) in block.chunks_mut(v).enumerate() {
                let r = c * chunk + i;
                let scale = scales[r];
                if !job.kept(r) || scale == 0.0 {
                    out_row.fill(T::ZERO);
                    outcomes.push(SKIPPED);
                    continue;
                }
                let outcome = match T::as_f32(out_row) {
                    Some(direct) => {
                        job.row(r, &mut buffers, Some(GradRow { out: direct, scale }))?
                    }
                    None => {
                        let mut grad = std::mem::take(&mut buffers.grad);
                        grad.resize(v, 0.0);
                        let outcome = job.row(
                            r,
                            &mut buffers,
                            Some(GradRow {
                                out: &mut grad,
                                scale,
                            }),
                        );
                        for (o, &g) in out_row.iter_mut().zip(&grad) {
                            *o = T::from_f32(g);
                        }
                        buffers.grad = grad;
                        outcome?
                    }
                };
                outcomes.push(outcome);
            }
            Ok(outcomes)
        })
        .collect::<Result<_>>()?;
    Ok(per_chunk.into_iter().flatten().collect())
}
