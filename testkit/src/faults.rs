//! Injected faults: what goes wrong ([`Fault`]) and when ([`Trigger`]).
//!
//! The set mirrors what real providers and vLLM do to a client: rate limits with and
//! without `Retry-After`, error bodies that are not OpenAI-shaped, errors that must not be
//! retried, broken JSON under a 200, slow bodies and connections closed without a reply.

use std::time::Duration;

/// The shape of an error response's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorBody {
    /// `{"error":{"message","type","param","code"}}`, as OpenAI sends.
    OpenAi,
    /// `{"detail":"..."}`, as FastAPI servers (and vLLM's request validation) send.
    Detail,
    /// `{"object":"error","message","type","param":null,"code":<status>}`, as vLLM's
    /// OpenAI server sends for its own 4xx and 5xx errors; `code` is the integer status.
    Vllm,
    /// A `text/plain` line.
    Text,
    /// An HTML page, as a proxy in front of the model sends.
    Html,
}

/// One way a request can go wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// An error status with a body of the given shape. `retry_after` adds `Retry-After`
    /// (whole seconds, rounded up) and `retry-after-ms` (exact milliseconds) headers,
    /// whatever the body shape.
    Http {
        status: u16,
        body: ErrorBody,
        retry_after: Option<Duration>,
    },
    /// 429 with code `insufficient_quota`: the account is out of credit, so clients must
    /// not retry it.
    InsufficientQuota,
    /// A 200 whose body is cut-off JSON.
    MalformedJson,
    /// The normal answer, but after the headers its body trickles out over this long.
    SlowBody(Duration),
    /// The connection is closed without any response.
    Drop,
}

impl Fault {
    /// An error status with an OpenAI-shaped body.
    pub fn status(status: u16) -> Self {
        Fault::Http {
            status,
            body: ErrorBody::OpenAi,
            retry_after: None,
        }
    }

    /// 429 without `Retry-After`.
    pub fn rate_limit() -> Self {
        Self::status(429)
    }

    /// 429 with `Retry-After`.
    pub fn rate_limit_after(after: Duration) -> Self {
        Self::status(429).retry_after(after)
    }

    /// The same fault with another body shape (only meaningful for [`Fault::Http`]).
    pub fn body(self, shape: ErrorBody) -> Self {
        match self {
            Fault::Http {
                status,
                retry_after,
                ..
            } => Fault::Http {
                status,
                body: shape,
                retry_after,
            },
            other => other,
        }
    }

    /// The same fault with `Retry-After` (only meaningful for [`Fault::Http`]).
    pub fn retry_after(self, after: Duration) -> Self {
        match self {
            Fault::Http { status, body, .. } => Fault::Http {
                status,
                body,
                retry_after: Some(after),
            },
            other => other,
        }
    }

    /// A short name for counting faults by kind: `http_429`, `insufficient_quota`,
    /// `malformed_json`, `slow_body`, `drop`.
    pub fn kind(&self) -> String {
        match self {
            Fault::Http { status, .. } => format!("http_{status}"),
            Fault::InsufficientQuota => "insufficient_quota".into(),
            Fault::MalformedJson => "malformed_json".into(),
            Fault::SlowBody(_) => "slow_body".into(),
            Fault::Drop => "drop".into(),
        }
    }
}

/// When a fault fires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    /// On every request it is checked for.
    Always,
    /// On attempts 1..=n of each request key, so the n+1st attempt gets through.
    FirstAttempts(u64),
    /// On exactly the n-th attempt of each key (1-based); list several to build a
    /// sequence such as 429, then 500, then success.
    Attempt(u64),
    /// On every k-th request this fault is checked for (k, 2k, ...), whatever its key.
    EveryNth(u64),
    /// With this probability, drawn from the script's seeded generator.
    Probability(f64),
}

/// A fault with its trigger, as listed on a rule or a script.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    pub trigger: Trigger,
    pub fault: Fault,
}

impl Trigger {
    /// Whether the trigger fires. `attempt` is the request's attempt of its key, `seen`
    /// how many requests (this one included) this plan has been checked for, and `draw`
    /// produces a uniform number in [0, 1) when the trigger needs one.
    pub(crate) fn fires(self, attempt: u64, seen: u64, draw: impl FnOnce() -> f64) -> bool {
        match self {
            Trigger::Always => true,
            Trigger::FirstAttempts(n) => attempt <= n,
            Trigger::Attempt(n) => attempt == n,
            Trigger::EveryNth(k) => k > 0 && seen.is_multiple_of(k),
            Trigger::Probability(p) => draw() < p,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers() {
        let never = || -> f64 { unreachable!() };
        assert!(Trigger::FirstAttempts(2).fires(2, 9, never));
        assert!(!Trigger::FirstAttempts(2).fires(3, 9, never));
        assert!(Trigger::Attempt(2).fires(2, 1, never));
        assert!(!Trigger::Attempt(2).fires(1, 1, never));
        assert!(Trigger::EveryNth(3).fires(1, 6, never));
        assert!(!Trigger::EveryNth(3).fires(1, 7, never));
        assert!(!Trigger::EveryNth(0).fires(1, 0, never));
        assert!(Trigger::Probability(0.5).fires(1, 1, || 0.2));
        assert!(!Trigger::Probability(0.0).fires(1, 1, || 0.0));
    }

    #[test]
    fn builders_keep_other_fields() {
        let f = Fault::status(503)
            .retry_after(Duration::from_secs(2))
            .body(ErrorBody::Detail);
        assert_eq!(
            f,
            Fault::Http {
                status: 503,
                body: ErrorBody::Detail,
                retry_after: Some(Duration::from_secs(2))
            }
        );
        assert_eq!(f.kind(), "http_503");
        assert_eq!(Fault::Drop.retry_after(Duration::ZERO), Fault::Drop);
    }
}
