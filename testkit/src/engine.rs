//! Deciding a request's fate: which rule applies, whether a fault fires, what text the
//! answer has and how long to wait first.
//!
//! This is the script plus the state that running it needs (fault counters, sequence
//! positions, the random generator). It knows nothing of HTTP, so the server can decide
//! first, then sleep, then render.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::faults::{Fault, FaultPlan};
use crate::hash::StableHasher;
use crate::request::RequestView;
use crate::rng::Rng;
use crate::script::{Reply, Script};

/// The answer the server gives when no rule supplies one:
/// `Answer for <first 40 chars of the last user message>. seed=<seed or none>. The final
/// answer is \boxed{<n>}.`, where n in 0..1000 is a stable hash of the messages and seed.
/// Identical requests get identical text, on any run of any process.
pub fn default_answer(view: &RequestView) -> String {
    let mut h = StableHasher::new();
    for m in &view.messages {
        h.field(&m.role).field(&m.content);
    }
    match view.seed {
        Some(s) => h.u64(1).u64(s as u64),
        None => h.u64(0),
    };
    let n = h.finish() % 1000;
    let head: String = view.last_user.chars().take(40).collect();
    let seed = view
        .seed
        .map_or_else(|| "none".to_string(), |s| s.to_string());
    format!("Answer for {head}. seed={seed}. The final answer is \\boxed{{{n}}}.")
}

/// What the server does with a request once its delay is over.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Answer with this text; `trickle` spreads the body over that long.
    Answer {
        text: String,
        trickle: Option<Duration>,
    },
    /// Fail with this fault (never [`Fault::SlowBody`], which is an answer).
    Fail(Fault),
}

#[derive(Debug)]
pub(crate) struct Decision {
    pub(crate) outcome: Outcome,
    pub(crate) delay: Duration,
}

/// A script with its running state.
#[derive(Debug)]
pub(crate) struct Engine {
    script: Script,
    rng: Rng,
    /// How many requests each global fault plan has been checked for.
    global_seen: Vec<AtomicU64>,
    /// The same, per rule and plan.
    rule_seen: Vec<Vec<AtomicU64>>,
    /// The next position of each (rule, key) sequence.
    positions: Mutex<HashMap<(usize, String), usize>>,
}

fn counters(n: usize) -> Vec<AtomicU64> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

impl Engine {
    pub(crate) fn new(script: Script) -> Self {
        Engine {
            rng: Rng::new(script.seed),
            global_seen: counters(script.faults.len()),
            rule_seen: script
                .rules
                .iter()
                .map(|r| counters(r.faults.len()))
                .collect(),
            positions: Mutex::new(HashMap::new()),
            script,
        }
    }

    pub(crate) fn decide(&self, view: &RequestView) -> Decision {
        let rule = self
            .script
            .rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.matches(view));
        let base = rule
            .and_then(|(_, r)| r.latency)
            .unwrap_or(self.script.latency);
        let delay = base.saturating_add(self.jitter());

        let mut fault = None;
        if let Some((i, r)) = rule {
            fault = self.first_firing(&r.faults, &self.rule_seen[i], view.attempt);
        }
        // Global plans are checked even when a rule's fault fired, so that every-k-th
        // counts stay "every k-th request" rather than "every k-th unfaulted one".
        let global = self.first_firing(&self.script.faults, &self.global_seen, view.attempt);
        let fault = fault.or(global);

        let outcome = match fault {
            Some(Fault::SlowBody(over)) => Outcome::Answer {
                text: self.text(rule, view),
                trickle: Some(over),
            },
            Some(f) => Outcome::Fail(f),
            None => Outcome::Answer {
                text: self.text(rule, view),
                trickle: None,
            },
        };
        Decision { outcome, delay }
    }

    /// Checks every plan (so each one's counter sees every request) and returns the
    /// first that fires.
    fn first_firing(&self, plans: &[FaultPlan], seen: &[AtomicU64], attempt: u64) -> Option<Fault> {
        let mut chosen = None;
        for (plan, seen) in plans.iter().zip(seen) {
            let n = seen.fetch_add(1, Ordering::Relaxed) + 1;
            if plan.trigger.fires(attempt, n, || self.rng.next_f64()) && chosen.is_none() {
                chosen = Some(plan.fault.clone());
            }
        }
        chosen
    }

    fn jitter(&self) -> Duration {
        if self.script.jitter.is_zero() {
            return Duration::ZERO;
        }
        self.script.jitter.mul_f64(self.rng.next_f64())
    }

    fn text(&self, rule: Option<(usize, &crate::script::Rule)>, view: &RequestView) -> String {
        let Some((i, r)) = rule else {
            return default_answer(view);
        };
        match &r.reply {
            None => default_answer(view),
            Some(Reply::Text(t)) => t.clone(),
            Some(Reply::With(f)) => f(view),
            Some(Reply::Sequence(texts)) => {
                if texts.is_empty() {
                    return String::new();
                }
                let mut positions = self.positions.lock().unwrap_or_else(|e| e.into_inner());
                let pos = positions.entry((i, view.key.clone())).or_insert(0);
                let text = texts[*pos % texts.len()].clone();
                *pos += 1;
                text
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Trigger;
    use crate::request::parse_chat;
    use crate::script::Rule;

    fn view(user: &str, attempt: u64) -> RequestView {
        let body =
            serde_json::json!({"model": "m", "messages": [{"role": "user", "content": user}]});
        let mut v = parse_chat(body.to_string().as_bytes()).unwrap().0;
        v.attempt = attempt;
        v
    }

    fn text(d: Decision) -> String {
        match d.outcome {
            Outcome::Answer { text, .. } => text,
            Outcome::Fail(f) => panic!("unexpected fault {f:?}"),
        }
    }

    #[test]
    fn default_answer_shape() {
        let t = default_answer(&view("What is 2+2?", 1));
        assert!(t.starts_with("Answer for What is 2+2?. seed=none. The final answer is \\boxed{"));
        assert_eq!(t, default_answer(&view("What is 2+2?", 5)));
        assert_ne!(t, default_answer(&view("What is 2+3?", 1)));
    }

    #[test]
    fn sequences_cycle_per_key() {
        let e = Engine::new(Script::new().rule(Rule::any().reply_seq(["a", "b"])));
        let seen: Vec<String> = (1..=3).map(|i| text(e.decide(&view("x", i)))).collect();
        assert_eq!(seen, ["a", "b", "a"]);
        assert_eq!(text(e.decide(&view("other", 1))), "a");
    }

    #[test]
    fn rule_faults_come_before_global_ones() {
        let e = Engine::new(
            Script::new()
                .rule(Rule::contains("x").fault(Trigger::FirstAttempts(1), Fault::Drop))
                .fault(Trigger::Always, Fault::status(500)),
        );
        assert!(matches!(
            e.decide(&view("x", 1)).outcome,
            Outcome::Fail(Fault::Drop)
        ));
        assert!(matches!(
            e.decide(&view("x", 2)).outcome,
            Outcome::Fail(Fault::Http { status: 500, .. })
        ));
    }

    #[test]
    fn every_nth_counts_all_requests() {
        let e = Engine::new(Script::new().fault(Trigger::EveryNth(2), Fault::Drop));
        let failed: Vec<bool> = (0..4)
            .map(|_| matches!(e.decide(&view("y", 1)).outcome, Outcome::Fail(_)))
            .collect();
        assert_eq!(failed, [false, true, false, true]);
    }
}
