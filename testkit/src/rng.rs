//! A seeded, lock-free random source for probabilistic faults and latency jitter.
//!
//! SplitMix64 is a counter passed through a mixer, so its state advances with a single
//! atomic add and needs no lock on the request path. The sequence of draws is fixed by the
//! seed; which request gets which draw still depends on arrival order under concurrency.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::hash::{mix, unit};

/// SplitMix64's increment: an odd constant close to 2^64 / phi.
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

#[derive(Debug)]
pub(crate) struct Rng {
    state: AtomicU64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            state: AtomicU64::new(seed),
        }
    }

    pub(crate) fn next_u64(&self) -> u64 {
        let s = self
            .state
            .fetch_add(GAMMA, Ordering::Relaxed)
            .wrapping_add(GAMMA);
        mix(s)
    }

    /// A draw in [0, 1).
    pub(crate) fn next_f64(&self) -> f64 {
        unit(self.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let a = Rng::new(7);
        let b = Rng::new(7);
        for _ in 0..10 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }

    #[test]
    fn draws_are_roughly_uniform() {
        let r = Rng::new(3);
        let hits = (0..10_000).filter(|_| r.next_f64() < 0.25).count();
        assert!((2_200..2_800).contains(&hits), "{hits}");
    }
}
