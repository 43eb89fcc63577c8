//! Training examples and how a micro-batch of them becomes tensors.
//!
//! An example is one token sequence whose tail (`ids[start..]`) is trained: the hidden
//! state at position `i − 1` predicts `ids[i]`. The teacher's side is per example: nothing
//! (the target text itself, SFT), a local teacher's own token sequence ending in the same
//! target tokens (its context may differ: TRD conditions the teacher on the refine
//! prompt), or top-k log-probabilities per target token (an endpoint's `logprobs`).

use candle_core::{Device, Result, Tensor};

/// The teacher's side of one example.
#[derive(Debug, Clone, PartialEq)]
pub enum ExampleTeacher {
    Text,
    /// The teacher reads `ids`; `ids[start..]` are the same tokens as the student's target.
    Logits {
        ids: Vec<u32>,
        start: usize,
    },
    /// Per target token, `(token id, log-probability)` entries, at most `k` each.
    TopK {
        entries: Vec<Vec<(u32, f32)>>,
    },
}

/// One training sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub ids: Vec<u32>,
    /// The first trained position (at least 1: the first token has no prediction).
    pub start: usize,
    /// One weight per trained token (`ids.len() − start`); all 1 when `None`.
    pub weights: Option<Vec<f32>>,
    pub teacher: ExampleTeacher,
}

impl Example {
    /// Trained tokens.
    pub fn targets(&self) -> usize {
        self.ids.len().saturating_sub(self.start)
    }

    /// Checks the invariants the batcher relies on; the message says which one broke.
    pub fn check(&self, vocab: usize) -> std::result::Result<(), String> {
        if self.start == 0 || self.start > self.ids.len() {
            return Err(format!(
                "the trained span starts at {} of {} tokens (it must start at 1 or later)",
                self.start,
                self.ids.len()
            ));
        }
        if let Some(t) = self.ids.iter().find(|&&t| t as usize >= vocab) {
            return Err(format!("token {t} is outside the vocabulary of {vocab}"));
        }
        if let Some(w) = &self.weights {
            if w.len() != self.targets() {
                return Err(format!(
                    "{} token weights for {} trained tokens",
                    w.len(),
                    self.targets()
                ));
            }
            if w.iter().any(|x| !x.is_finite() || *x < 0.0) {
                return Err("token weights must be finite and not negative".into());
            }
        }
        match &self.teacher {
            ExampleTeacher::Text => Ok(()),
            ExampleTeacher::Logits { ids, start } => {
                if *start == 0 || ids.len() < *start || ids.len() - start != self.targets() {
                    return Err("the teacher's sequence does not end in the same number of \
                                target tokens as the student's"
                        .into());
                }
                if ids[*start..] != self.ids[self.start..] {
                    return Err("the teacher's and the student's target tokens differ \
                                (the two tokenizers split the target differently)"
                        .into());
                }
                Ok(())
            }
            ExampleTeacher::TopK { entries } => {
                if entries.len() != self.targets() {
                    return Err(format!(
                        "{} top-k positions for {} trained tokens",
                        entries.len(),
                        self.targets()
                    ));
                }
                Ok(())
            }
        }
    }
}

/// A micro-batch as tensors.
#[derive(Debug)]
pub struct Batch {
    /// `[B, T]` student ids, right-padded.
    pub ids: Tensor,
    /// Flat row (`b·T + i − 1`) of each trained token's hidden state.
    pub rows: Tensor,
    pub targets: Vec<u32>,
    /// The example's weight of each trained token.
    pub weights: Vec<f32>,
    /// Real (not padding) tokens, for tokens/s.
    pub seq_tokens: usize,
    pub teacher: BatchTeacher,
}

/// The teacher's side of a micro-batch.
#[derive(Debug)]
pub enum BatchTeacher {
    Text,
    /// Per example, its sequence and the positions (`start − 1 ..`) whose hidden states
    /// predict the targets.
    Logits(Vec<(Vec<u32>, usize)>),
    /// `[rows, k]` ids and log-probs, −∞ where a position has fewer entries.
    TopK {
        indices: Tensor,
        logprobs: Tensor,
    },
}

/// Builds the tensors for `examples` (all with the same kind of teacher, already checked).
pub fn make_batch(examples: &[&Example], device: &Device) -> Result<Batch> {
    let b = examples.len();
    let t = examples
        .iter()
        .map(|e| e.ids.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let mut ids = vec![0u32; b * t];
    let (mut rows, mut targets, mut weights) = (Vec::new(), Vec::new(), Vec::new());
    let mut seq_tokens = 0;
    for (bi, e) in examples.iter().enumerate() {
        ids[bi * t..bi * t + e.ids.len()].copy_from_slice(&e.ids);
        seq_tokens += e.ids.len();
        for i in e.start..e.ids.len() {
            rows.push((bi * t + i - 1) as u32);
            targets.push(e.ids[i]);
            weights.push(e.weights.as_ref().map_or(1.0, |w| w[i - e.start]));
        }
    }
    let teacher = match examples.first().map(|e| &e.teacher) {
        None | Some(ExampleTeacher::Text) => BatchTeacher::Text,
        Some(ExampleTeacher::Logits { .. }) => BatchTeacher::Logits(
            examples
                .iter()
                .map(|e| match &e.teacher {
                    ExampleTeacher::Logits { ids, start } => Ok((ids.clone(), *start)),
                    _ => Err(candle_core::Error::msg("a batch mixes kinds of teacher")),
                })
                .collect::<Result<_>>()?,
        ),
        Some(ExampleTeacher::TopK { .. }) => {
            let k = examples
                .iter()
                .filter_map(|e| match &e.teacher {
                    ExampleTeacher::TopK { entries } => entries.iter().map(Vec::len).max(),
                    _ => None,
                })
                .max()
                .unwrap_or(1)
                .max(1);
            let n = targets.len();
            let mut idx = vec![0i64; n * k];
            let mut lp = vec![f32::NEG_INFINITY; n * k];
            let mut r = 0;
            for e in examples {
                let ExampleTeacher::TopK { entries } = &e.teacher else {
                    candle_core::bail!("a batch mixes kinds of teacher");
                };
                for pos in entries {
                    for (j, &(id, logprob)) in pos.iter().enumerate() {
                        idx[r * k + j] = id as i64;
                        lp[r * k + j] = logprob;
                    }
                    r += 1;
                }
            }
            BatchTeacher::TopK {
                indices: Tensor::from_vec(idx, (n, k), device)?,
                logprobs: Tensor::from_vec(lp, (n, k), device)?,
            }
        }
    };
    let n = rows.len();
    Ok(Batch {
        ids: Tensor::from_vec(ids, (b, t), device)?,
        rows: Tensor::from_vec(rows, n, device)?,
        targets,
        weights,
        seq_tokens,
        teacher,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_point_at_the_position_before_each_target() {
        let a = Example {
            ids: vec![5, 6, 7],
            start: 1,
            weights: None,
            teacher: ExampleTeacher::Text,
        };
        let b = Example {
            ids: vec![1, 2, 3, 4],
            start: 3,
            weights: Some(vec![0.5]),
            teacher: ExampleTeacher::Text,
        };
        let batch = make_batch(&[&a, &b], &Device::Cpu).unwrap();
        assert_eq!(batch.ids.dims(), &[2, 4]);
        assert_eq!(batch.rows.to_vec1::<u32>().unwrap(), vec![0, 1, 4 + 2]);
        assert_eq!(batch.targets, vec![6, 7, 4]);
        assert_eq!(batch.weights, vec![1.0, 1.0, 0.5]);
        assert_eq!(batch.seq_tokens, 7);
        assert!(a.check(10).is_ok());
        assert!(b.check(4).unwrap_err().contains("outside"));
        let bad = Example {
            start: 0,
            ..a.clone()
        };
        assert!(bad.check(10).is_err());
        let mismatch = Example {
            teacher: ExampleTeacher::Logits {
                ids: vec![9, 9, 6, 8],
                start: 2,
            },
            ..a
        };
        assert!(mismatch.check(10).unwrap_err().contains("differ"));
    }
}
