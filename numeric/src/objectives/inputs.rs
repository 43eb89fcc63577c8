//! Checking and reading an objective's inputs: the student's logits, the teacher (dense
//! logits or sparse top log-probabilities), the mask and the response tokens. Every
//! problem is an error naming the tensor, its shape and what it should be, before any
//! row is computed. Shared by the fused path and the composed reference.

use candle_core::{DType, Device, Error, Result, Tensor};

use super::spec::{Objective, ObjectiveSpec};
use super::Teacher;

/// Which implementation the inputs are for: the fused ops run on the CPU in f32/bf16/f16;
/// the composed reference runs anywhere candle does and also takes f64 (its ground truth).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    Fused,
    Reference,
}

/// The geometry every input was checked against.
#[derive(Clone, Debug)]
pub(crate) struct Shapes {
    /// The student's dims before the vocabulary: `[rows]` or `[batch, seq]`.
    pub lead: Vec<usize>,
    pub rows: usize,
    pub vocab: usize,
    /// Entries per position of a sparse teacher.
    pub width: Option<usize>,
}

impl Shapes {
    /// Checks dtypes, devices and shapes; reads no data.
    pub fn check(
        spec: &ObjectiveSpec,
        student: &Tensor,
        teacher: &Teacher<'_>,
        mask: Option<&Tensor>,
        tokens: Option<&Tensor>,
        path: Path,
    ) -> Result<Shapes> {
        spec.validate().map_err(Error::msg)?;
        let name = spec.objective.name();
        let dims = student.dims();
        if !(2..=3).contains(&dims.len()) || dims[dims.len() - 1] == 0 {
            candle_core::bail!(
                "student logits have shape {:?}; expected [rows, vocab] or [batch, seq, vocab] \
                 with a non-empty vocabulary",
                dims
            );
        }
        float_input(student, "student logits", path)?;
        let (lead, vocab) = (dims[..dims.len() - 1].to_vec(), dims[dims.len() - 1]);
        let rows = lead.iter().product();
        let mut width = None;
        match teacher {
            Teacher::Dense(t) => {
                float_input(t, "teacher logits", path)?;
                if t.dims() != dims {
                    candle_core::bail!(
                        "teacher logits have shape {:?} but the student's are {:?}; both must \
                         cover the same positions and vocabulary",
                        t.dims(),
                        dims
                    );
                }
            }
            Teacher::Sparse { indices, logprobs } => {
                if matches!(
                    spec.objective,
                    Objective::ForwardKl
                        | Objective::ReverseKl
                        | Objective::Jsd { .. }
                        | Objective::ClippedKl { .. }
                ) {
                    candle_core::bail!(
                        "{name} needs the teacher's full logits; a sparse teacher (token ids and \
                         top log-probabilities) works with top_k and sampled only"
                    );
                }
                integer_input(indices, "teacher indices", path)?;
                float_input(logprobs, "teacher logprobs", path)?;
                let (id, lp) = (indices.dims(), logprobs.dims());
                if id != lp || id.len() != dims.len() || id[..id.len() - 1] != lead[..] {
                    candle_core::bail!(
                        "sparse teacher: indices {:?} and logprobs {:?} must both be {:?} + \
                         [entries per position], matching the student's {:?}",
                        id,
                        lp,
                        lead,
                        dims
                    );
                }
                let needs_full = match spec.objective {
                    Objective::TopK { tail, .. } => tail,
                    _ => true,
                };
                if needs_full && spec.temperature != 1.0 {
                    candle_core::bail!(
                        "{name} on a sparse teacher needs temperature 1 (got {}): its \
                         log-probabilities at another temperature depend on logits the teacher \
                         did not give; use temperature 1, renormalized top_k, or dense logits",
                        spec.temperature
                    );
                }
                width = Some(id[id.len() - 1]);
            }
        }
        if let Some(m) = mask {
            on_cpu(m, "mask", path)?;
            per_position(m, "mask", &lead, rows)?;
        }
        match (tokens, spec.objective) {
            (Some(y), Objective::Sampled { .. }) => {
                integer_input(y, "tokens", path)?;
                per_position(y, "tokens", &lead, rows)?;
            }
            (None, Objective::Sampled { .. }) => candle_core::bail!(
                "sampled needs `tokens`: the response token id at every position, shape {:?}",
                lead
            ),
            _ => {} // other objectives do not read the tokens
        }
        Ok(Shapes {
            lead,
            rows,
            vocab,
            width,
        })
    }

    /// How a row is named in messages: `row 7`, or `batch 1, position 3`.
    pub fn row_label(&self, row: usize) -> String {
        match self.lead[..] {
            [_, seq] if seq > 0 => format!("batch {}, position {}", row / seq, row % seq),
            _ => format!("row {row}"),
        }
    }
}

fn on_cpu(t: &Tensor, what: &str, path: Path) -> Result<()> {
    if path == Path::Fused && !matches!(t.device(), Device::Cpu) {
        candle_core::bail!(
            "{what} are on {:?}; the fused objectives run on the CPU (move the tensors with \
             `.to_device(&Device::Cpu)`, or use `objectives::reference::loss` on the GPU)",
            t.device()
        );
    }
    Ok(())
}

fn float_input(t: &Tensor, what: &str, path: Path) -> Result<()> {
    on_cpu(t, what, path)?;
    match t.dtype() {
        DType::F32 | DType::BF16 | DType::F16 => Ok(()),
        DType::F64 if path == Path::Reference => Ok(()),
        other => candle_core::bail!(
            "{what} are {other:?}; expected f32, bf16 or f16 (convert with `.to_dtype(DType::F32)`)"
        ),
    }
}

fn integer_input(t: &Tensor, what: &str, path: Path) -> Result<()> {
    on_cpu(t, what, path)?;
    match t.dtype() {
        DType::U8 | DType::U32 | DType::I16 | DType::I32 | DType::I64 => Ok(()),
        other => candle_core::bail!("{what} are {other:?}; expected token ids as u32 or i64"),
    }
}

/// A per-position tensor: the student's leading dims, or those flattened to one.
fn per_position(t: &Tensor, what: &str, lead: &[usize], rows: usize) -> Result<()> {
    if t.dims() == lead || t.dims() == [rows] {
        Ok(())
    } else {
        candle_core::bail!(
            "{what} has shape {:?}; expected one value per position, {:?}",
            t.dims(),
            lead
        )
    }
}

/// The mask as one flag per row (nonzero = kept); NaN is refused.
pub(crate) fn read_mask(mask: &Tensor) -> Result<Vec<bool>> {
    let values = mask.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
    if let Some(i) = values.iter().position(|v| v.is_nan()) {
        candle_core::bail!(
            "mask holds NaN at position {i}; use 1 to keep a token and 0 to drop it"
        );
    }
    Ok(values.into_iter().map(|v| v != 0.0).collect())
}

/// Token ids (any integer dtype) as i64, flattened.
pub(crate) fn read_ids(ids: &Tensor) -> Result<Vec<i64>> {
    ids.flatten_all()?.to_dtype(DType::I64)?.to_vec1::<i64>()
}
