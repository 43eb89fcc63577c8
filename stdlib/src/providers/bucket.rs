//! A rate limit as a token bucket kept as one number: the time at which the bucket would
//! be full again (a "theoretical arrival time"). Reserving is O(1) under a mutex and
//! hands each caller the instant it may go, so waiters leave in the order they came
//! without polling.
//!
//! A request may go once the debt of earlier ones plus its own cost fits in one burst, so
//! at most a burst passes at once. A request larger than a burst (a 6,000-token prompt
//! under `tpm = 30000`) counts only a burst's worth before going and pays the rest after,
//! so it is never stuck; over any span `t` no more than `burst + rate·t + one request`
//! passes. Costs known only afterwards (the tokens an
//! answer really used) are settled with [`Bucket::adjust`].

use std::sync::Mutex;
use std::time::Duration;

// tokio's clock, so tests with paused time see the same clock as the sleeps.
use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct Bucket {
    /// Units per second.
    rate: f64,
    /// Units that may pass at once after a quiet spell.
    burst: f64,
    origin: Instant,
    /// Seconds since `origin` at which all reserved units are paid off.
    paid_off: Mutex<f64>,
}

impl Bucket {
    /// `per_minute` units a minute, with a burst of one second's worth (at least one
    /// unit): providers enforce per-minute limits over shorter spans too.
    pub(crate) fn per_minute(per_minute: u64) -> Bucket {
        let rate = per_minute.max(1) as f64 / 60.0;
        Bucket {
            rate,
            burst: rate.max(1.0),
            origin: Instant::now(),
            paid_off: Mutex::new(0.0),
        }
    }

    pub(crate) fn per_minute_rate(&self) -> u64 {
        (self.rate * 60.0).round() as u64
    }

    /// Reserves `cost` units; returns how long to wait before going.
    pub(crate) fn reserve(&self, cost: f64) -> Duration {
        let now = self.origin.elapsed().as_secs_f64();
        let mut paid_off = self.paid_off.lock().unwrap_or_else(|p| p.into_inner());
        // Up to a burst, a request pays before going (at most `burst` pass at once);
        // beyond it, after.
        let go = (*paid_off + (cost.min(self.burst) - self.burst) / self.rate).max(now);
        *paid_off = paid_off.max(now) + cost.max(0.0) / self.rate;
        Duration::from_secs_f64(go - now)
    }

    /// Corrects an earlier reservation by `delta` units (positive: it cost more).
    pub(crate) fn adjust(&self, delta: f64) {
        let now = self.origin.elapsed().as_secs_f64();
        let mut paid_off = self.paid_off.lock().unwrap_or_else(|p| p.into_inner());
        // Credit never reaches into the past: an idle bucket is simply full.
        *paid_off = (*paid_off + delta / self.rate).max(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        // 600 a minute: 10 a second, a burst of 10.
        let b = Bucket::per_minute(600);
        let waits: Vec<f64> = (0..30).map(|_| b.reserve(1.0).as_secs_f64()).collect();
        assert!(waits[..10].iter().all(|w| *w < 0.01), "{waits:?}");
        // The 21st request goes about a second after the 11th.
        assert!((waits[20] - waits[10] - 1.0).abs() < 0.02, "{waits:?}");
        assert!(waits.windows(2).all(|w| w[1] >= w[0]));
    }

    #[test]
    fn large_costs_pass_then_are_paid_for() {
        // 6,000 tokens a minute = 100 a second; a 1,000-token request passes at once...
        let b = Bucket::per_minute(6000);
        assert_eq!(b.reserve(1000.0), Duration::ZERO);
        // ... and the next one waits for the debt to fall back within a burst, less its
        // own cost (9.1 s).
        let wait = b.reserve(10.0).as_secs_f64();
        assert!((wait - 9.1).abs() < 0.05, "{wait}");
    }

    #[test]
    fn adjustments_settle_the_real_cost() {
        let b = Bucket::per_minute(6000);
        b.reserve(500.0);
        // The answer used 100 tokens fewer than reserved, then 1,000 more.
        b.adjust(-100.0);
        let wait = b.reserve(0.0).as_secs_f64();
        assert!((wait - 3.0).abs() < 0.05, "{wait}");
        b.adjust(1000.0);
        let wait = b.reserve(0.0).as_secs_f64();
        assert!((wait - 13.0).abs() < 0.05, "{wait}");
        // Credit beyond a full bucket is dropped.
        b.adjust(-1e9);
        assert_eq!(b.reserve(1.0), Duration::ZERO);
        assert_eq!(b.per_minute_rate(), 6000);
    }
}
