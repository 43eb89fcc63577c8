//! Choosing the next token from logits, as `transformers` does: divide by the
//! temperature, keep the `top_k` most likely, keep the smallest set whose probability
//! reaches `top_p` (at least one token), renormalize and draw. Temperature 0 is greedy.
//! Draws come from a seeded generator of our own, so a seed gives the same text on every
//! machine.

use crate::train::Prng;

/// How to sample a continuation.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// 0: greedy.
    pub temperature: f64,
    /// 1: no nucleus cut.
    pub top_p: f64,
    /// 0: no top-k cut.
    pub top_k: usize,
    pub max_tokens: usize,
    pub seed: u64,
}

impl Sampling {
    /// Greedy decoding of at most `max_tokens`.
    pub fn greedy(max_tokens: usize) -> Sampling {
        Sampling {
            temperature: 0.0,
            top_p: 1.0,
            top_k: 0,
            max_tokens,
            seed: 0,
        }
    }
}

/// The index of the largest logit (the first on ties).
pub fn argmax(logits: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = i;
        }
    }
    best
}

/// The candidates that survive the filters, as `(token, probability)` summing to 1,
/// most likely first.
pub fn candidates(logits: &[f32], s: &Sampling) -> Vec<(usize, f64)> {
    let t = s.temperature.max(1e-6);
    let mut order: Vec<usize> = (0..logits.len())
        .filter(|&i| logits[i].is_finite())
        .collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    if s.top_k > 0 {
        order.truncate(s.top_k);
    }
    let Some(&first) = order.first() else {
        return Vec::new();
    };
    let max = logits[first] as f64 / t;
    let weights: Vec<f64> = order
        .iter()
        .map(|&i| (logits[i] as f64 / t - max).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let mut out = Vec::with_capacity(order.len());
    let mut mass = 0.0;
    for (&i, w) in order.iter().zip(&weights) {
        let p = w / total;
        out.push((i, p));
        mass += p;
        if mass >= s.top_p {
            break;
        }
    }
    let kept: f64 = out.iter().map(|(_, p)| p).sum();
    out.iter().map(|&(i, p)| (i, p / kept)).collect()
}

/// Draws the next token.
pub fn next_token(logits: &[f32], s: &Sampling, rng: &mut Prng) -> usize {
    if s.temperature <= 0.0 {
        return argmax(logits);
    }
    let c = candidates(logits, s);
    let u = rng.next_f32() as f64;
    let mut acc = 0.0;
    for &(i, p) in &c {
        acc += p;
        if u < acc {
            return i;
        }
    }
    c.last().map_or_else(|| argmax(logits), |&(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(temperature: f64, top_k: usize, top_p: f64) -> Sampling {
        Sampling {
            temperature,
            top_p,
            top_k,
            max_tokens: 1,
            seed: 0,
        }
    }

    #[test]
    fn filters_follow_transformers() {
        let logits = [2.0f32, 1.0, 0.0, -1.0];
        // top-k 2 keeps the two best, renormalized.
        let c = candidates(&logits, &s(1.0, 2, 1.0));
        assert_eq!(c.iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 1]);
        let e = std::f64::consts::E;
        assert!((c[0].1 - e / (e + 1.0)).abs() < 1e-9);
        // top-p keeps the smallest prefix reaching p, at least one token.
        assert_eq!(candidates(&logits, &s(1.0, 0, 1e-9)).len(), 1);
        let p0 = candidates(&logits, &s(1.0, 0, 1.0))[0].1;
        assert_eq!(candidates(&logits, &s(1.0, 0, p0 + 1e-6)).len(), 2);
        // A low temperature sharpens.
        assert!(candidates(&logits, &s(0.1, 0, 1.0))[0].1 > 0.99);
        // Greedy and top-k 1 agree; sampling follows the probabilities.
        let mut rng = Prng::new(1);
        assert_eq!(next_token(&logits, &s(0.0, 0, 1.0), &mut rng), 0);
        assert_eq!(next_token(&logits, &s(1.0, 1, 1.0), &mut rng), 0);
        let mut counts = [0usize; 4];
        for _ in 0..20_000 {
            counts[next_token(&logits, &s(1.0, 0, 1.0), &mut rng)] += 1;
        }
        let full = candidates(&logits, &s(1.0, 0, 1.0));
        for (i, p) in full {
            assert!(
                (counts[i] as f64 / 20_000.0 - p).abs() < 0.015,
                "{counts:?}"
            );
        }
    }
}
