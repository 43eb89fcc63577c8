//! A small seeded generator (splitmix64) for what training draws: data order, LoRA
//! initialization, dropout masks. Our own rather than a crate's so a seed gives the same
//! run on every machine and every version.

/// splitmix64: one 64-bit state, good statistical quality for these uses.
#[derive(Debug, Clone)]
pub struct Prng(u64);

impl Prng {
    pub fn new(seed: u64) -> Prng {
        Prng(seed ^ 0x5851_f42d_4c95_7f2d)
    }

    /// A generator for a sub-task (`stream`), independent of the parent's next draws.
    pub fn derive(seed: u64, stream: u64) -> Prng {
        let mut p = Prng::new(seed);
        p.0 ^= stream.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        p.next_u64();
        p
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// A uniform index below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_reproduces_its_stream_and_streams_differ() {
        let a: Vec<u64> = (0..4).map(|_| Prng::new(7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut x = Prng::derive(7, 1);
        let mut y = Prng::derive(7, 2);
        assert_ne!(x.next_u64(), y.next_u64());
        let mut p = Prng::new(3);
        let mean: f32 = (0..10_000).map(|_| p.next_f32()).sum::<f32>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02);
    }
}
