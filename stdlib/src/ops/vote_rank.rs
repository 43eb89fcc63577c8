//! The arithmetic of `vote`: normalizing one score within a problem, and ordering the
//! problem's candidates by their weighted sum with deterministic tie-breaks.

use std::cmp::Ordering;

/// How a score is normalized within a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalize {
    /// Ranks mapped to [0, 1]: the lowest value 0, the highest 1, ties share their mean
    /// rank. A problem whose values are all equal (or that has one candidate) gets 0.5.
    Rank,
    /// (value − mean) / standard deviation (population); 0 when all are equal.
    Zscore,
    /// The value as it is.
    None,
}

impl Normalize {
    pub fn from_setting(name: Option<&str>) -> Normalize {
        match name {
            Some("zscore") => Normalize::Zscore,
            Some("none") => Normalize::None,
            _ => Normalize::Rank,
        }
    }
}

/// `values` normalized among themselves; higher stays better.
pub fn normalize(values: &[f64], how: Normalize) -> Vec<f64> {
    let n = values.len();
    match how {
        Normalize::None => values.to_vec(),
        Normalize::Zscore => {
            if n == 0 {
                return Vec::new();
            }
            let mean = values.iter().sum::<f64>() / n as f64;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
            let sd = var.sqrt();
            // A spread this small is rounding noise among equal values.
            if sd <= f64::EPSILON * mean.abs().max(1.0) {
                return vec![0.0; n];
            }
            values.iter().map(|v| (v - mean) / sd).collect()
        }
        Normalize::Rank => {
            if n <= 1 {
                return vec![0.5; n];
            }
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
            let mut ranks = vec![0.0; n];
            let mut start = 0;
            while start < n {
                let mut end = start + 1;
                while end < n && values[order[end]] == values[order[start]] {
                    end += 1;
                }
                // Positions start..end (0-based) share the mean of their ranks.
                let mean_position = (start + end - 1) as f64 / 2.0;
                for &i in &order[start..end] {
                    ranks[i] = mean_position / (n - 1) as f64;
                }
                start = end;
            }
            ranks
        }
    }
}

/// What breaks a tie between two equal vote scores, compared in this order.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct TieBreak {
    pub teacher: String,
    /// Candidates without a sample index come first.
    pub sample: Option<i64>,
    pub candidate_id: String,
    /// The record's provenance id, unique within a run: the last resort.
    pub provenance: String,
}

/// Candidate indices, best first: by score descending, then by [`TieBreak`] ascending.
pub fn order(scores: &[f64], ties: &[TieBreak]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| match scores[b].total_cmp(&scores[a]) {
        Ordering::Equal => ties[a].cmp(&ties[b]),
        other => other,
    });
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
    }

    #[test]
    fn ranks_map_to_the_unit_interval_and_ties_share_the_mean_rank() {
        let r = normalize(&[3.0, 1.0, 2.0], Normalize::Rank);
        assert!(close(&r, &[1.0, 0.0, 0.5]), "{r:?}");
        // 5 and 5 hold positions 1 and 2 of 0..3: both get 1.5 / 3.
        let r = normalize(&[5.0, 1.0, 5.0, 9.0], Normalize::Rank);
        assert!(close(&r, &[0.5, 0.0, 0.5, 1.0]), "{r:?}");
        assert!(close(&normalize(&[2.0, 2.0], Normalize::Rank), &[0.5, 0.5]));
        assert!(close(&normalize(&[7.0], Normalize::Rank), &[0.5]));
    }

    #[test]
    fn zscores_use_the_population_deviation_and_are_zero_for_equal_values() {
        // Mean 2, population deviation sqrt(2/3).
        let z = normalize(&[1.0, 2.0, 3.0], Normalize::Zscore);
        let sd = (2.0f64 / 3.0).sqrt();
        assert!(close(&z, &[-1.0 / sd, 0.0, 1.0 / sd]), "{z:?}");
        assert!(close(
            &normalize(&[0.1, 0.1, 0.1], Normalize::Zscore),
            &[0.0; 3]
        ));
        assert!(close(
            &normalize(&[4.0, -1.0], Normalize::None),
            &[4.0, -1.0]
        ));
    }

    #[test]
    fn equal_scores_break_ties_by_teacher_then_sample_then_candidate() {
        let tie = |t: &str, s: Option<i64>, c: &str| TieBreak {
            teacher: t.into(),
            sample: s,
            candidate_id: c.into(),
            provenance: String::new(),
        };
        let ties = [
            tie("qwen", Some(0), "p/qwen/0"),
            tie("gpt", Some(1), "p/gpt/1"),
            tie("gpt", Some(0), "p/gpt/0"),
            tie("gpt", Some(0), "p/gpt/0b"),
            tie("zeta", None, "z"),
        ];
        let scores = [0.5, 0.5, 0.5, 0.5, 0.9];
        assert_eq!(order(&scores, &ties), [4, 2, 3, 1, 0]);
        // The same in any input order.
        let perm = [3, 0, 4, 1, 2];
        let ties2: Vec<TieBreak> = perm.iter().map(|&i| ties[i].clone()).collect();
        let scores2: Vec<f64> = perm.iter().map(|&i| scores[i]).collect();
        let back: Vec<usize> = order(&scores2, &ties2).iter().map(|&i| perm[i]).collect();
        assert_eq!(back, [4, 2, 3, 1, 0]);
    }
}
