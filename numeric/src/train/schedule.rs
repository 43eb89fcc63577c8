//! The learning rate by optimizer step: linear warm-up, then cosine, linear or constant.
//!
//! Step `s` counts from 0. During warm-up (the first `warmup` steps) the rate rises as
//! `peak · (s + 1) / (warmup + 1)`, so the first step already learns (transformers' form
//! starts at exactly 0, a wasted step); afterwards `progress = (s − warmup) / (total −
//! warmup)` runs from 0 towards 1 and cosine gives `peak · ½(1 + cos(π · progress))`.

/// The decay after warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decay {
    Cosine,
    Linear,
    Constant,
}

impl std::str::FromStr for Decay {
    type Err = String;
    fn from_str(s: &str) -> Result<Decay, String> {
        match s {
            "cosine" => Ok(Decay::Cosine),
            "linear" => Ok(Decay::Linear),
            "constant" => Ok(Decay::Constant),
            other => Err(format!(
                "`{other}` is no schedule; use cosine, linear or constant"
            )),
        }
    }
}

/// A schedule over a known number of steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub peak: f64,
    pub total: u64,
    pub warmup: u64,
    pub decay: Decay,
}

impl Schedule {
    /// `warmup_share` of `total` steps (rounded up) warm up.
    pub fn new(peak: f64, total: u64, warmup_share: f64, decay: Decay) -> Schedule {
        let warmup = ((warmup_share.clamp(0.0, 1.0) * total as f64).ceil() as u64).min(total);
        Schedule {
            peak,
            total,
            warmup,
            decay,
        }
    }

    pub fn lr(&self, step: u64) -> f64 {
        if step < self.warmup {
            return self.peak * (step + 1) as f64 / (self.warmup + 1) as f64;
        }
        let span = self.total.saturating_sub(self.warmup).max(1) as f64;
        let progress = ((step - self.warmup) as f64 / span).min(1.0);
        match self.decay {
            Decay::Constant => self.peak,
            Decay::Linear => self.peak * (1.0 - progress),
            Decay::Cosine => self.peak * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays() {
        let s = Schedule::new(1.0, 100, 0.1, Decay::Cosine);
        assert_eq!(s.warmup, 10);
        assert!((s.lr(0) - 1.0 / 11.0).abs() < 1e-12);
        assert!(s.lr(9) < s.lr(10));
        assert!((s.lr(10) - 1.0).abs() < 1e-12);
        assert!((s.lr(55) - 0.5).abs() < 1e-12);
        assert!(s.lr(99) > 0.0 && s.lr(99) < 0.01);
        let l = Schedule::new(2.0, 10, 0.0, Decay::Linear);
        assert_eq!(l.lr(0), 2.0);
        assert!((l.lr(5) - 1.0).abs() < 1e-12);
        let c = Schedule::new(3.0, 10, 0.0, Decay::Constant);
        assert_eq!(c.lr(9), 3.0);
        assert!("warm".parse::<Decay>().unwrap_err().contains("cosine"));
    }
}
