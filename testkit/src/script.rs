//! The script: which answer (and which faults) a request gets.
//!
//! A [`Script`] is plain configuration, cheap to clone and build again, so two servers
//! started from equal scripts behave alike. The counters that make sequences and
//! every-k-th faults advance live in the server, not here.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::batch::DEFAULT_BATCH_DELAY;
use crate::faults::{Fault, FaultPlan, Trigger};
use crate::request::RequestView;

/// The model `/v1/models` lists when no rule names one.
pub const DEFAULT_MODEL: &str = "dtac-test-model";

/// Requests whose raw body and headers are kept, unless the script says otherwise.
pub const DEFAULT_RECORD: usize = 1000;

type MatchFn = Arc<dyn Fn(&RequestView) -> bool + Send + Sync>;
type ReplyFn = Arc<dyn Fn(&RequestView) -> String + Send + Sync>;

/// A test on a request; a rule applies when all of its matchers hold.
#[derive(Clone)]
pub enum Matcher {
    /// The last user message contains this text.
    Contains(String),
    /// The request names this model.
    Model(String),
    /// Every request.
    Any,
    /// A predicate of your own.
    Custom(MatchFn),
}

impl Matcher {
    pub(crate) fn matches(&self, view: &RequestView) -> bool {
        match self {
            Matcher::Contains(s) => view.last_user.contains(s.as_str()),
            Matcher::Model(m) => view.model == *m,
            Matcher::Any => true,
            Matcher::Custom(f) => f(view),
        }
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Contains(s) => f.debug_tuple("Contains").field(s).finish(),
            Matcher::Model(m) => f.debug_tuple("Model").field(m).finish(),
            Matcher::Any => f.write_str("Any"),
            Matcher::Custom(_) => f.write_str("Custom(<fn>)"),
        }
    }
}

/// The text a rule answers with.
#[derive(Clone)]
pub enum Reply {
    /// The same text every time.
    Text(String),
    /// Text computed from the request.
    With(ReplyFn),
    /// These texts in turn, separately for each request key, starting over after the
    /// last. Only answers advance it: an attempt that gets a fault does not.
    Sequence(Vec<String>),
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Text(t) => f.debug_tuple("Text").field(t).finish(),
            Reply::With(_) => f.write_str("With(<fn>)"),
            Reply::Sequence(s) => f.debug_tuple("Sequence").field(s).finish(),
        }
    }
}

/// Matchers, plus what to do when they all hold. A rule without a reply answers with the
/// default text, which suits rules that only add faults or latency.
#[derive(Debug, Clone)]
pub struct Rule {
    pub(crate) matchers: Vec<Matcher>,
    pub(crate) reply: Option<Reply>,
    pub(crate) faults: Vec<FaultPlan>,
    pub(crate) latency: Option<Duration>,
}

impl Rule {
    /// A rule with one matcher.
    pub fn when(matcher: Matcher) -> Self {
        Rule {
            matchers: vec![matcher],
            reply: None,
            faults: Vec::new(),
            latency: None,
        }
    }

    /// Applies when the last user message contains `text`.
    pub fn contains(text: impl Into<String>) -> Self {
        Self::when(Matcher::Contains(text.into()))
    }

    /// Applies to requests for `model`.
    pub fn model(model: impl Into<String>) -> Self {
        Self::when(Matcher::Model(model.into()))
    }

    /// Applies to every request.
    pub fn any() -> Self {
        Self::when(Matcher::Any)
    }

    /// Applies when `pred` holds.
    pub fn matching(pred: impl Fn(&RequestView) -> bool + Send + Sync + 'static) -> Self {
        Self::when(Matcher::Custom(Arc::new(pred)))
    }

    /// Adds a matcher that must hold as well.
    pub fn and(mut self, matcher: Matcher) -> Self {
        self.matchers.push(matcher);
        self
    }

    /// Answers with fixed text.
    pub fn reply(mut self, text: impl Into<String>) -> Self {
        self.reply = Some(Reply::Text(text.into()));
        self
    }

    /// Answers with a JSON value serialised compactly, for recipes that parse the answer.
    pub fn reply_json(self, value: Value) -> Self {
        self.reply(value.to_string())
    }

    /// Answers with text computed from the request.
    pub fn reply_with(
        mut self,
        f: impl Fn(&RequestView) -> String + Send + Sync + 'static,
    ) -> Self {
        self.reply = Some(Reply::With(Arc::new(f)));
        self
    }

    /// Answers with these texts in turn, per request key, cycling after the last. An empty
    /// list answers with "".
    pub fn reply_seq<I, S>(mut self, texts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.reply = Some(Reply::Sequence(texts.into_iter().map(Into::into).collect()));
        self
    }

    /// Adds a fault for requests this rule applies to; it is checked before the script's
    /// global faults, and the first one that fires wins.
    pub fn fault(mut self, trigger: Trigger, fault: Fault) -> Self {
        self.faults.push(FaultPlan { trigger, fault });
        self
    }

    /// Replaces the script's base latency for requests this rule applies to (jitter is
    /// still added).
    pub fn latency(mut self, delay: Duration) -> Self {
        self.latency = Some(delay);
        self
    }

    pub(crate) fn matches(&self, view: &RequestView) -> bool {
        self.matchers.iter().all(|m| m.matches(view))
    }
}

/// Everything a server does: rules checked in order, global faults, latency, the seed of
/// its random generator, how many requests to keep for inspection, and how batches run.
#[derive(Debug, Clone)]
pub struct Script {
    pub(crate) rules: Vec<Rule>,
    pub(crate) faults: Vec<FaultPlan>,
    pub(crate) latency: Duration,
    pub(crate) jitter: Duration,
    pub(crate) seed: u64,
    pub(crate) record: usize,
    pub(crate) models: Vec<String>,
    pub(crate) batch_delay: Duration,
    pub(crate) batch_expire_after: Option<usize>,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            rules: Vec::new(),
            faults: Vec::new(),
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            seed: 0,
            record: DEFAULT_RECORD,
            models: Vec::new(),
            batch_delay: DEFAULT_BATCH_DELAY,
            batch_expire_after: None,
        }
    }
}

impl Script {
    /// No rules, no faults, no latency: every request gets the default answer at once.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a rule; the first rule that applies to a request decides its answer.
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Adds a fault checked for every answering request, after the matching rule's own.
    pub fn fault(mut self, trigger: Trigger, fault: Fault) -> Self {
        self.faults.push(FaultPlan { trigger, fault });
        self
    }

    /// Waits this long before every answer or fault.
    pub fn latency(mut self, delay: Duration) -> Self {
        self.latency = delay;
        self
    }

    /// Adds a random extra wait in [0, jitter) to every request, from the seeded generator.
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// Seeds the generator behind probabilistic faults and jitter.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Keeps the raw body and headers of the last `n` requests (default 1000).
    pub fn record_last(mut self, n: usize) -> Self {
        self.record = n;
        self
    }

    /// Lists `model` in `/v1/models`, besides models named by rules.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.models.push(model.into());
        self
    }

    /// How long each batch takes from creation to its final status (default
    /// [`DEFAULT_BATCH_DELAY`]); its lines run spread evenly over that time.
    pub fn batch_delay(mut self, delay: Duration) -> Self {
        self.batch_delay = delay;
        self
    }

    /// Runs only the first `n` lines of each batch, then ends it as `expired`: the other
    /// lines go to the error file with code `batch_expired`, as when an OpenAI batch
    /// outlives its completion window.
    pub fn batch_expire_after(mut self, n: usize) -> Self {
        self.batch_expire_after = Some(n);
        self
    }

    /// The models `/v1/models` lists: those named by [`Script::model`] and by model
    /// matchers, in order, without repeats; [`DEFAULT_MODEL`] when there are none.
    pub fn models(&self) -> Vec<String> {
        let named = self
            .rules
            .iter()
            .flat_map(|r| &r.matchers)
            .filter_map(|m| match m {
                Matcher::Model(name) => Some(name),
                _ => None,
            });
        let mut out: Vec<String> = Vec::new();
        for name in self.models.iter().chain(named) {
            if !out.contains(name) {
                out.push(name.clone());
            }
        }
        if out.is_empty() {
            out.push(DEFAULT_MODEL.to_string());
        }
        out
    }
}
