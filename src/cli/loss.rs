//! `dtac loss`: one distillation objective on logits saved in a safetensors file, to check
//! dtac's numbers against another implementation (a PyTorch trainer's loss and gradient).
//!
//! The file holds `student` and either `teacher` (dense logits, the student's shape) or
//! `teacher_indices` + `teacher_logprobs` (a sparse teacher), with optional `mask` and
//! `tokens`. The fused path is the default; `--reference` runs the composed candle ops in
//! f64 instead. `--grad` writes the gradient as `grad`, atomically.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use candle_core::{DType, Device, Tensor, Var};
use dtac_numeric::objectives::{self, reference, ObjectiveSpec, Teacher};

#[derive(Debug, clap::Args)]
pub struct LossArgs {
    /// The safetensors file: `student`, `teacher` (or `teacher_indices` and
    /// `teacher_logprobs`), optional `mask` and `tokens`.
    file: PathBuf,
    /// forward_kl, reverse_kl, jsd, clipped_kl, top_k or sampled.
    #[arg(long, value_name = "NAME")]
    objective: String,
    /// jsd's mixture weight of the teacher, in [0, 1] (default 0.5).
    #[arg(long)]
    beta: Option<f64>,
    /// Divides both logits before the softmax (default 1).
    #[arg(long)]
    temperature: Option<f64>,
    /// top_k's support size (default 32).
    #[arg(long = "top-k", value_name = "K")]
    top_k: Option<usize>,
    /// top_k: keep the mass outside the support as one more entry.
    #[arg(long)]
    tail: bool,
    /// clipped_kl's cap per token, in nats (default 0.1).
    #[arg(long)]
    clip: Option<f64>,
    /// sampled's upper clamp of the log-ratio (default 20).
    #[arg(long)]
    clamp: Option<f64>,
    /// Write the gradient with respect to `student` to this safetensors file, as `grad`.
    #[arg(long, value_name = "OUT")]
    grad: Option<PathBuf>,
    /// Compute with the composed reference ops in f64 instead of the fused op.
    #[arg(long)]
    reference: bool,
}

pub fn run(args: &LossArgs) -> ExitCode {
    match compute(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What was computed, for printing.
struct Outcome {
    loss: f64,
    clamped: Option<usize>,
    grad: Option<Tensor>,
}

fn compute(args: &LossArgs) -> Result<(), String> {
    let spec = ObjectiveSpec::from_name(
        &args.objective,
        args.beta,
        args.temperature,
        args.top_k,
        args.clip,
        args.tail.then_some(true),
    )
    .and_then(|spec| match args.clamp {
        Some(clamp) => spec.with_clamp(clamp),
        None => Ok(spec),
    })
    .map_err(|e| e.to_string())?;
    for warning in spec.warnings() {
        eprintln!("warning: {warning}");
    }
    let tensors = load(&args.file)?;
    let file = args.file.display();
    let get = |name: &str| tensors.get(name);
    let student = get("student").ok_or_else(|| missing(&args.file, &tensors, "student"))?;
    let teacher = match (
        get("teacher"),
        get("teacher_indices"),
        get("teacher_logprobs"),
    ) {
        (Some(t), None, None) => Teacher::Dense(t),
        (None, Some(indices), Some(logprobs)) => Teacher::Sparse { indices, logprobs },
        (None, None, None) => return Err(missing(&args.file, &tensors, "teacher")),
        _ => {
            return Err(format!(
                "`{file}` must hold either `teacher` (dense logits) or both `teacher_indices` \
                 and `teacher_logprobs` (a sparse teacher), not a mix"
            ))
        }
    };
    let (mask, tokens) = (get("mask"), get("tokens"));
    let kept = kept_tokens(student, mask).map_err(|e| format!("`{file}`: {}", plain(e)))?;
    let outcome = if args.reference {
        with_reference(&spec, student, teacher, mask, tokens, args.grad.is_some())
    } else {
        let with_grad = args.grad.is_some();
        objectives::evaluate(&spec, student, teacher, mask, tokens, with_grad).map(|e| Outcome {
            loss: e.loss,
            clamped: spec.objective.clamps().then_some(e.clamped),
            grad: e.grad,
        })
    }
    .map_err(|e| format!("`{file}`: {}", plain(e)))?;

    let path = if args.reference { "reference" } else { "fused" };
    println!("objective: {spec} [{path}]");
    println!("loss: {}", outcome.loss);
    println!("tokens: {kept} of {}", positions(student));
    if let Some(clamped) = outcome.clamped {
        println!("clamped: {clamped} of {kept}");
    }
    if !outcome.loss.is_finite() {
        eprintln!(
            "warning: the loss is not finite: the teacher gives probability 0 (logit -inf) to a \
             token the objective weighs by the student"
        );
    }
    if let (Some(out), Some(grad)) = (&args.grad, &outcome.grad) {
        write_atomically(out, grad)?;
        println!(
            "grad: {} ({:?}, {:?})",
            out.display(),
            grad.dims(),
            grad.dtype()
        );
    }
    Ok(())
}

/// The reference in f64 (its ground truth), the gradient by candle's autograd, returned
/// in the student's dtype.
fn with_reference(
    spec: &ObjectiveSpec,
    student: &Tensor,
    teacher: Teacher<'_>,
    mask: Option<&Tensor>,
    tokens: Option<&Tensor>,
    with_grad: bool,
) -> candle_core::Result<Outcome> {
    let wide = |t: &Tensor| match t.dtype() {
        DType::F32 | DType::BF16 | DType::F16 => t.to_dtype(DType::F64),
        _ => Ok(t.clone()),
    };
    let student64 = Var::from_tensor(&wide(student)?)?;
    let (dense, logprobs);
    let teacher = match teacher {
        Teacher::Dense(t) => {
            dense = wide(t)?;
            Teacher::Dense(&dense)
        }
        Teacher::Sparse {
            indices,
            logprobs: lp,
        } => {
            logprobs = wide(lp)?;
            Teacher::Sparse {
                indices,
                logprobs: &logprobs,
            }
        }
    };
    let loss = reference::loss(spec, student64.as_tensor(), teacher, mask, tokens)?;
    let grad = if with_grad {
        let grads = loss.backward()?;
        let grad = match grads.get(student64.as_tensor()) {
            Some(g) => g.clone(),
            None => student64.as_tensor().zeros_like()?,
        };
        Some(grad.to_dtype(student.dtype())?)
    } else {
        None
    };
    Ok(Outcome {
        loss: loss.to_scalar::<f64>()?,
        clamped: None,
        grad,
    })
}

fn load(path: &Path) -> Result<HashMap<String, Tensor>, String> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Err(e) => return Err(format!("cannot read `{shown}`: {e}")),
        Ok(m) if m.is_dir() => {
            return Err(format!("`{shown}` is a directory, not a safetensors file"))
        }
        Ok(_) => {}
    }
    candle_core::safetensors::load(path, &Device::Cpu)
        .map_err(|e| format!("cannot read `{shown}` as safetensors: {}", plain(e)))
}

/// A candle error's message without the backtrace candle attaches under `RUST_BACKTRACE`:
/// users get the reason, not dtac's call stack.
fn plain(error: candle_core::Error) -> String {
    match error {
        candle_core::Error::WithBacktrace { inner, .. } => plain(*inner),
        other => other.to_string(),
    }
}

fn missing(path: &Path, tensors: &HashMap<String, Tensor>, name: &str) -> String {
    let mut names: Vec<&str> = tensors.keys().map(String::as_str).collect();
    names.sort_unstable();
    let has = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    let what = match name {
        "student" => "the student's logits as `student`",
        _ => "the teacher's logits as `teacher` (or `teacher_indices` and `teacher_logprobs`)",
    };
    format!(
        "`{}` has no tensor `{name}` (it has: {has}); write {what}",
        path.display()
    )
}

/// Positions in the student's logits: every dim but the vocabulary.
fn positions(student: &Tensor) -> usize {
    let dims = student.dims();
    dims[..dims.len().saturating_sub(1)].iter().product()
}

/// Tokens the mask keeps (all without a mask); the shapes are checked by the objective.
fn kept_tokens(student: &Tensor, mask: Option<&Tensor>) -> candle_core::Result<usize> {
    match mask {
        None => Ok(positions(student)),
        Some(m) => {
            let values = m.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
            Ok(values.iter().filter(|&&v| v != 0.0).count())
        }
    }
}

/// Writes `grad` next to `out` under a temporary name, then renames it over `out`: a
/// reader never sees a half-written file.
fn write_atomically(out: &Path, grad: &Tensor) -> Result<(), String> {
    let name = out
        .file_name()
        .ok_or_else(|| format!("`{}` is not a file path", out.display()))?;
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty());
    let tmp_name = format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id());
    let tmp = dir.map_or_else(|| PathBuf::from(&tmp_name), |d| d.join(&tmp_name));
    let tensors = HashMap::from([("grad".to_string(), grad.clone())]);
    let result = candle_core::safetensors::save(&tensors, &tmp)
        .map_err(plain)
        .and_then(|()| std::fs::rename(&tmp, out).map_err(|e| e.to_string()));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write `{}`: {e}", out.display())
    })
}
