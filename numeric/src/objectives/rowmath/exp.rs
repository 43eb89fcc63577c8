//! `exp` for f32 that the compiler can vectorize: the per-element exps of the softmaxes
//! are most of an objective's cost, and the C library's `expf` is a call per element.
//!
//! Cody-Waite range reduction `x = n ln 2 + r`, `|r| ≤ ln 2 / 2`, then Cephes' degree-6
//! polynomial for `e^r` and `2^n` assembled in the exponent bits: within 2 ulp of the
//! exact value (the unit test checks it against f64). Results below f32's normal range
//! (x < −87.3, e^x < 1.2e-38) are flushed to 0: relative to a max-shifted row such
//! probabilities do not register in any sum.

/// Below this, `e^x` is not a normal f32: the result is 0.
const MIN_ARG: f32 = -87.336_55;
/// Above this, `e^x` overflows: the argument is clamped (only max-shifted, non-positive
/// arguments reach this function, so this never matters in practice).
const MAX_ARG: f32 = 88.376_26;

#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so that n·LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5·2^23 rounds to an integer held in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let clamped = x.clamp(MIN_ARG, MAX_ARG);
    let shifted = clamped * LOG2E + ROUND;
    let n = shifted - ROUND;
    let n_int = (shifted.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let r = clamped - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    let two_n = f32::from_bits(((n_int + 127) as u32) << 23);
    if x < MIN_ARG {
        0.0
    } else {
        e_r * two_n
    }
}

#[cfg(test)]
mod tests {
    use super::exp;

    #[test]
    fn within_two_ulp_of_the_exact_value_and_zero_below_range() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = f64::from(x).exp();
            let got = f64::from(exp(x));
            worst = worst.max((got - want).abs() / want);
            x += 0.000_731;
        }
        assert!(worst < 1.5e-7, "largest relative error {worst:e}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-100.0), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
    }
}
