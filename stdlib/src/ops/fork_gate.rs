//! TOPD's gate (METHODS.md §3 step 3) and guidance (step 4) as plain functions: which
//! positions are probed, which probed positions are real reasoning forks, and the
//! weights and guidance `distill` reads.

/// The `q`-quantile of `values` with linear interpolation between order statistics (numpy's
/// default): position `q · (n − 1)` in the sorted values. `None` for no values.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// Positions whose loss is above the `q`-quantile of the rollout's losses, highest loss
/// first, at most `max` of them.
pub fn high_loss(losses: &[f64], q: f64, max: Option<usize>) -> Vec<usize> {
    let Some(threshold) = quantile(losses, q) else {
        return Vec::new();
    };
    let mut positions: Vec<usize> = (0..losses.len())
        .filter(|&t| losses[t] > threshold)
        .collect();
    positions.sort_by(|&a, &b| losses[b].total_cmp(&losses[a]).then(a.cmp(&b)));
    if let Some(max) = max {
        positions.truncate(max);
    }
    positions
}

/// Of the probed positions (with their distances), the forks: distance above the
/// `q`-quantile of the probed distances. Returned in position order.
pub fn forks(probed: &[(usize, f64)], q: f64) -> Vec<usize> {
    let distances: Vec<f64> = probed.iter().map(|p| p.1).collect();
    let Some(threshold) = quantile(&distances, q) else {
        return Vec::new();
    };
    let mut out: Vec<usize> = probed
        .iter()
        .filter(|p| p.1 > threshold)
        .map(|p| p.0)
        .collect();
    out.sort_unstable();
    out
}

/// Every token's loss weight: 1, except probed positions that are not forks (surface
/// variation), which get `surface_weight`.
pub fn token_weights(n: usize, probed: &[usize], forks: &[usize], surface_weight: f64) -> Vec<f64> {
    let mut w = vec![1.0; n];
    for &t in probed {
        if !forks.contains(&t) && t < n {
            w[t] = surface_weight;
        }
    }
    w
}

/// The guidance weights of the `h` teacher tokens after a fork: `λ · decay^j`.
pub fn guidance_weights(h: usize, weight: f64, decay: f64) -> Vec<f64> {
    (0..h).map(|j| weight * decay.powi(j as i32)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.5), Some(3.0));
        assert_eq!(quantile(&v, 0.8), Some(4.2));
        assert_eq!(quantile(&v, 1.0), Some(5.0));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[7.0], 0.8), Some(7.0));
    }

    #[test]
    fn gating_weights_and_guidance() {
        let losses = [0.1, 3.0, 0.2, 5.0, 0.3, 4.0, 0.0, 0.1, 0.2, 0.1];
        let high = high_loss(&losses, 0.7, None);
        assert_eq!(high, vec![3, 5, 1]);
        assert_eq!(high_loss(&losses, 0.7, Some(2)), vec![3, 5]);
        let probed = [(3, 0.9), (5, 0.1), (1, 0.2)];
        let f = forks(&probed, 0.5);
        assert_eq!(f, vec![3]);
        let w = token_weights(10, &[3, 5, 1], &f, 0.25);
        assert_eq!((w[3], w[5], w[1], w[0]), (1.0, 0.25, 0.25, 1.0));
        assert_eq!(guidance_weights(3, 2.0, 0.5), vec![2.0, 1.0, 0.5]);
        // All equal losses: nothing is above the quantile.
        assert!(high_loss(&[1.0; 5], 0.8, None).is_empty());
    }
}
