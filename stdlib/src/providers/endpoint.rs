//! What every teacher on one endpoint (one base URL) shares: its concurrency window, its
//! request and token rate limits, and a pause when the server asks for one.
//!
//! Providers are built per teacher, but a limit is a promise to a server. When teachers
//! on one endpoint disagree, the smallest limit wins. A request is admitted in this
//! order: a place in the window, then its turn in the `rpm` bucket, then in the `tpm`
//! bucket (with its estimated tokens), then the end of any pause. Holding the place
//! while waiting for the rate means that the rate, when it binds, is not exceeded by a
//! rush of requests that all got places at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::bucket::Bucket;
use super::window::{Place, Window};

/// The limits one teacher declares for its endpoint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Declared {
    pub max_concurrency: usize,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
}

/// Every endpoint seen so far, by base URL.
#[derive(Debug, Default)]
pub(crate) struct Endpoints {
    by_url: Mutex<HashMap<String, Arc<Endpoint>>>,
}

impl Endpoints {
    /// The endpoint at `url`, made with `declared` limits when new, and lowered to them
    /// where they are smaller.
    pub(crate) fn get(&self, url: &str, declared: Declared) -> Arc<Endpoint> {
        let mut map = self.by_url.lock().unwrap_or_else(|p| p.into_inner());
        let endpoint = map
            .entry(url.to_string())
            .or_insert_with(|| Arc::new(Endpoint::new(declared)));
        endpoint.lower_to(declared);
        Arc::clone(endpoint)
    }
}

#[derive(Debug)]
pub(crate) struct Endpoint {
    window: Arc<Window>,
    rpm: Mutex<Option<Arc<Bucket>>>,
    tpm: Mutex<Option<Arc<Bucket>>>,
    /// No request leaves before this instant (a server's `Retry-After` applies to all).
    paused_until: Mutex<Option<Instant>>,
}

/// A request admitted to the endpoint: its place in the window, and the tokens it was
/// charged in the `tpm` bucket, settled when its usage is known.
#[derive(Debug)]
pub(crate) struct Admission {
    pub place: Place,
    charged: u64,
}

impl Endpoint {
    fn new(declared: Declared) -> Endpoint {
        Endpoint {
            window: Arc::new(Window::new(declared.max_concurrency)),
            rpm: Mutex::new(declared.rpm.map(|n| Arc::new(Bucket::per_minute(n)))),
            tpm: Mutex::new(declared.tpm.map(|n| Arc::new(Bucket::per_minute(n)))),
            paused_until: Mutex::new(None),
        }
    }

    fn lower_to(&self, declared: Declared) {
        self.window.lower_ceiling(declared.max_concurrency);
        lower_bucket(&self.rpm, declared.rpm);
        lower_bucket(&self.tpm, declared.tpm);
    }

    pub(crate) fn max_concurrency(&self) -> usize {
        self.window.ceiling()
    }

    /// The concurrency window now in force (below the ceiling while under pressure).
    pub(crate) fn window(&self) -> usize {
        self.window.current()
    }

    pub(crate) fn rpm(&self) -> Option<u64> {
        bucket(&self.rpm).map(|b| b.per_minute_rate())
    }

    pub(crate) fn tpm(&self) -> Option<u64> {
        bucket(&self.tpm).map(|b| b.per_minute_rate())
    }

    /// Waits until a request estimated at `tokens` may be sent.
    pub(crate) async fn admit(&self, tokens: u64) -> Option<Admission> {
        let place = self.window.acquire().await?;
        if let Some(rpm) = bucket(&self.rpm) {
            sleep(rpm.reserve(1.0)).await;
        }
        let mut charged = 0;
        if let Some(tpm) = bucket(&self.tpm) {
            sleep(tpm.reserve(tokens as f64)).await;
            charged = tokens;
        }
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        Some(Admission { place, charged })
    }

    /// The request's real usage: corrects its `tpm` charge.
    pub(crate) fn used(&self, admission: &Admission, tokens: u64) {
        if let Some(tpm) = bucket(&self.tpm) {
            tpm.adjust(tokens as f64 - admission.charged as f64);
        }
    }

    pub(crate) fn succeeded(&self) {
        self.window.succeeded();
    }

    /// The server pushed back (429, 503): narrow the window, and when it said how long
    /// to wait, hold every request to this endpoint until then.
    pub(crate) fn pushed_back(&self, admission: &Admission, hint: Option<Duration>) {
        self.window.pushed_back(&admission.place);
        if let Some(hint) = hint {
            let until = Instant::now() + hint.min(super::retry::MAX_HINT);
            let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            if paused.is_none_or(|p| p < until) {
                *paused = Some(until);
            }
        }
    }
}

fn bucket(slot: &Mutex<Option<Arc<Bucket>>>) -> Option<Arc<Bucket>> {
    slot.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

fn lower_bucket(slot: &Mutex<Option<Arc<Bucket>>>, declared: Option<u64>) {
    let Some(n) = declared else {
        return;
    };
    let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
    if slot.as_ref().is_none_or(|b| n < b.per_minute_rate()) {
        *slot = Some(Arc::new(Bucket::per_minute(n)));
    }
}

async fn sleep(wait: Duration) {
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(max_concurrency: usize, rpm: Option<u64>, tpm: Option<u64>) -> Declared {
        Declared {
            max_concurrency,
            rpm,
            tpm,
        }
    }

    #[test]
    fn one_endpoint_per_url_and_the_smallest_limits_win() {
        let all = Endpoints::default();
        let a = all.get("http://a/v1", declared(8, None, Some(1000)));
        let a2 = all.get("http://a/v1", declared(3, Some(60), Some(5000)));
        let b = all.get("http://b/v1", declared(8, None, None));
        assert!(Arc::ptr_eq(&a, &a2) && !Arc::ptr_eq(&a, &b));
        assert_eq!(a.max_concurrency(), 3);
        assert_eq!((a.rpm(), a.tpm()), (Some(60), Some(1000)));
        assert_eq!((b.rpm(), b.tpm()), (None, None));
    }

    #[tokio::test(start_paused = true)]
    async fn requests_per_minute_are_spaced() {
        let e = Endpoint::new(declared(100, Some(120), None));
        let start = Instant::now();
        let mut held = Vec::new();
        for _ in 0..6 {
            held.push(e.admit(10).await.expect("admitted"));
        }
        // 2 a second with a burst of 2: the 6th goes 2 s in.
        let took = start.elapsed().as_secs_f64();
        assert!((took - 2.0).abs() < 0.01, "{took}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_hint_pauses_every_request() {
        let e = Endpoint::new(declared(4, None, None));
        let first = e.admit(1).await.expect("admitted");
        e.pushed_back(&first, Some(Duration::from_secs(3)));
        assert_eq!(e.window(), 2);
        let start = Instant::now();
        let _next = e.admit(1).await.expect("admitted");
        assert!(start.elapsed() >= Duration::from_secs(3));
    }
}
