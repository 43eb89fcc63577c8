//! When to try again: exponential backoff with full jitter, and the retry hint a server
//! writes into its rate-limit message.
//!
//! Full jitter (a wait drawn uniformly from zero up to the exponential ceiling) spreads
//! the retries of many requests that failed together, so they do not return together.
//! A server's hint is a floor: waiting less would only earn another 429.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The ceiling after the first failure; it doubles with each further one.
pub(crate) const BASE: Duration = Duration::from_millis(500);
/// The highest ceiling.
pub(crate) const CAP: Duration = Duration::from_secs(30);
/// The longest server hint honoured. Longer hints (daily limits) are capped: waiting
/// hours inside one request helps nobody, and the attempts run out soon enough.
pub(crate) const MAX_HINT: Duration = Duration::from_secs(120);

/// The longest wait after `failed` failed attempts (1 for the first): `BASE · 2^(failed-1)`,
/// at most `CAP`.
pub(crate) fn ceiling(failed: u32) -> Duration {
    let doublings = failed.saturating_sub(1).min(20);
    let millis = (BASE.as_millis() as u64).saturating_mul(1 << doublings);
    Duration::from_millis(millis).min(CAP)
}

/// A small random generator for jitter (SplitMix64): jitter needs spread, not secrecy,
/// and an atomic state lets concurrent requests draw without a lock.
#[derive(Debug)]
pub(crate) struct Jitter {
    state: AtomicU64,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl Jitter {
    /// Seeded from the clock and a process-wide counter, so two providers built in the
    /// same instant still draw differently.
    pub(crate) fn new() -> Jitter {
        static BUILT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let nth = BUILT.fetch_add(1, Ordering::Relaxed);
        Jitter::seeded(nanos ^ nth.wrapping_mul(GOLDEN).rotate_left(17))
    }

    pub(crate) fn seeded(seed: u64) -> Jitter {
        Jitter {
            state: AtomicU64::new(seed),
        }
    }

    /// A number in [0, 1).
    pub(crate) fn unit(&self) -> f64 {
        let mut z = self
            .state
            .fetch_add(GOLDEN, Ordering::Relaxed)
            .wrapping_add(GOLDEN);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits fill an f64's mantissa exactly.
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// How long to wait after `failed` failed attempts, given the server's hint if any.
    pub(crate) fn delay(&self, failed: u32, hint: Option<Duration>) -> Duration {
        let drawn = ceiling(failed).mul_f64(self.unit());
        match hint {
            Some(hint) => drawn.max(hint.min(MAX_HINT)),
            None => drawn,
        }
    }
}

/// The wait a rate-limit message asks for, as OpenAI ("Please try again in 1.898s.",
/// "… in 7m12s.", "… in 350ms.") and Azure ("Please retry after 20 seconds.") write it.
/// async-openai 0.28 hides the `Retry-After` headers, so the message is what is left.
pub(crate) fn hint_in_message(message: &str) -> Option<Duration> {
    let lower = message.to_ascii_lowercase();
    ["try again in ", "retry after ", "retry in "]
        .iter()
        .find_map(|phrase| {
            let at = lower.find(phrase)? + phrase.len();
            duration_at(&lower[at..])
        })
}

/// Reads a duration at the start of `text`: Go style (`1h2m3.5s`, `350ms`) or a number
/// followed by a unit word (`20 seconds`); a bare number counts as seconds.
fn duration_at(text: &str) -> Option<Duration> {
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || matches!(c, 'h' | 'm' | 's')))
        .unwrap_or(text.len());
    // A sentence's full stop is not part of the number.
    let token = text[..end].trim_end_matches('.');
    if token.is_empty() {
        return None;
    }
    if token.chars().all(|c| c.is_ascii_digit() || c == '.') {
        let number: f64 = token.parse().ok()?;
        let mut words = text[end..].trim_start().split(|c: char| !c.is_alphabetic());
        let unit = match words.next().unwrap_or("") {
            "ms" | "millisecond" | "milliseconds" => 0.001,
            "m" | "min" | "minute" | "minutes" => 60.0,
            "h" | "hour" | "hours" => 3600.0,
            _ => 1.0,
        };
        return Duration::try_from_secs_f64(number * unit).ok();
    }
    go_duration(token)
}

/// `1h2m3.5s`, `350ms`, `20s`: numbers each followed by a unit.
fn go_duration(token: &str) -> Option<Duration> {
    let mut seconds = 0.0;
    let mut rest = token;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (0.001, 2)
        } else if rest.starts_with('h') {
            (3600.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else {
            return None;
        };
        seconds += number * unit;
        rest = &rest[len..];
    }
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn ceilings_double_up_to_the_cap() {
        let got: Vec<_> = (1..=8).map(ceiling).collect();
        assert_eq!(
            got,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000].map(ms)
        );
        // Far past the cap nothing overflows.
        assert_eq!(ceiling(u32::MAX), CAP);
        assert_eq!(ceiling(0), BASE);
    }

    #[test]
    fn delays_stay_under_their_ceiling_and_spread() {
        let jitter = Jitter::seeded(7);
        for failed in 1..=10 {
            let waits: Vec<_> = (0..200).map(|_| jitter.delay(failed, None)).collect();
            assert!(waits.iter().all(|w| *w <= ceiling(failed)));
            let low = waits.iter().filter(|w| **w < ceiling(failed) / 2).count();
            // Full jitter: about half the draws fall in the lower half.
            assert!(
                (50..150).contains(&low),
                "failed {failed}: {low} of 200 low"
            );
        }
    }

    #[test]
    fn draws_are_in_the_unit_interval() {
        let jitter = Jitter::new();
        assert!((0..10_000)
            .map(|_| jitter.unit())
            .all(|u| (0.0..1.0).contains(&u)));
        let (a, b) = (Jitter::seeded(1), Jitter::seeded(1));
        assert_eq!(a.unit(), b.unit());
    }

    #[test]
    fn hints_are_floors_with_a_cap() {
        let jitter = Jitter::seeded(3);
        for _ in 0..100 {
            assert!(jitter.delay(1, Some(ms(2000))) >= ms(2000));
            assert_eq!(jitter.delay(1, Some(Duration::from_secs(3600))), MAX_HINT);
        }
        // A hint below the drawn wait changes nothing.
        assert!(jitter.delay(7, Some(Duration::ZERO)) <= CAP);
    }

    #[test]
    fn hints_are_read_from_messages() {
        let cases = [
            (
                "Rate limit reached for gpt-4o on tokens per min (TPM): Limit 30000. \
                 Please try again in 1.898s. Visit https://platform.openai.com",
                Some(ms(1898)),
            ),
            ("Please try again in 6ms.", Some(ms(6))),
            ("Please try again in 7m12s.", Some(Duration::from_secs(432))),
            (
                "Please try again in 1h0m30s",
                Some(Duration::from_secs(3630)),
            ),
            (
                "Please retry after 20 seconds.",
                Some(Duration::from_secs(20)),
            ),
            ("Try again in 2 minutes", Some(Duration::from_secs(120))),
            ("retry after 3", Some(Duration::from_secs(3))),
            ("Rate limit reached.", None),
            ("please try again in a moment", None),
            ("please try again in 1.2.3s", None),
        ];
        for (message, want) in cases {
            assert_eq!(hint_in_message(message), want, "{message}");
        }
    }
}
