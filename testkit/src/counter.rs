//! What the server has seen: counts, concurrency, arrival times and recent raw requests.
//!
//! Plain counters are atomics; maps and logs sit behind short-held mutexes that are never
//! kept across an await, so tests can take snapshots while the server runs flat out.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Arrival times kept for rate measurements; older ones are forgotten so that a long
/// benchmark run does not grow without bound (16 MB at this cap).
pub const ARRIVALS_KEPT: usize = 1_000_000;

/// One request as it came over the wire.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// 1 for the server's first request, and so on.
    pub seq: u64,
    pub at: Instant,
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// Header names in lower case, values as sent (non-UTF-8 bytes replaced).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (non-UTF-8 bytes replaced).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A point-in-time copy of the server's counters.
#[derive(Debug, Clone, Default)]
pub struct StatsSnapshot {
    /// Every request that arrived, whatever became of it.
    pub total: u64,
    /// Answering requests per [`crate::key_of`] key (valid ones only), batch lines
    /// included, so attempt-based triggers see a resubmitted line as a later attempt.
    pub per_key: BTreeMap<String, u64>,
    /// Requests per path, unknown paths included.
    pub per_path: BTreeMap<String, u64>,
    /// Requests answered with a completion (slow-body ones included).
    pub answered: u64,
    /// Requests that got an injected fault (slow-body ones included).
    pub faults: u64,
    /// Injected faults by [`crate::Fault::kind`].
    pub faults_by_kind: BTreeMap<String, u64>,
    /// Requests refused with 400 because their body was invalid.
    pub rejected: u64,
    /// Requests for unknown paths or methods.
    pub not_found: u64,
    /// Requests being handled now (a slow body counts until it is sent).
    pub in_flight: u64,
    /// The most requests ever handled at once.
    pub max_in_flight: u64,
    /// When requests arrived, oldest first (the last [`ARRIVALS_KEPT`]).
    pub arrivals: Vec<Instant>,
    /// Files uploaded to `/v1/files` (not the result files batches write).
    pub files_uploaded: u64,
    /// Batches created, whatever became of them.
    pub batches_created: u64,
    /// Batch lines answered with a 2xx result. Batch lines count in `per_key` like
    /// online requests, and in nothing else above: they are not HTTP requests.
    pub batch_lines_succeeded: u64,
    /// Batch lines with an error result (a fault, or a body the endpoint refused).
    pub batch_lines_failed: u64,
    /// Batch lines never run because their batch expired.
    pub batch_lines_expired: u64,
}

impl StatsSnapshot {
    /// Requests seen for a key.
    pub fn count_for(&self, key: &str) -> u64 {
        self.per_key.get(key).copied().unwrap_or(0)
    }

    /// Requests seen for a path such as `/v1/chat/completions`.
    pub fn path_count(&self, path: &str) -> u64 {
        self.per_path.get(path).copied().unwrap_or(0)
    }

    /// Faults of one kind, such as `http_429`.
    pub fn fault_count(&self, kind: &str) -> u64 {
        self.faults_by_kind.get(kind).copied().unwrap_or(0)
    }

    /// The average arrival rate between the first and last arrival, per minute; 0 with
    /// fewer than two arrivals.
    pub fn rate_per_minute(&self) -> f64 {
        match (self.arrivals.first(), self.arrivals.last()) {
            (Some(first), Some(last)) if self.arrivals.len() > 1 => {
                let span = last.duration_since(*first).as_secs_f64();
                if span == 0.0 {
                    return f64::INFINITY;
                }
                (self.arrivals.len() - 1) as f64 * 60.0 / span
            }
            _ => 0.0,
        }
    }

    /// The most arrivals within any window of this length: what a rate limiter promising
    /// "at most N per window" must keep at or below N.
    pub fn max_in_window(&self, window: Duration) -> usize {
        if window.is_zero() {
            return 0;
        }
        let mut best = 0;
        let mut start = 0;
        for (end, t) in self.arrivals.iter().enumerate() {
            while t.duration_since(self.arrivals[start]) >= window {
                start += 1;
            }
            best = best.max(end - start + 1);
        }
        best
    }
}

#[derive(Debug, Default)]
struct BatchCounters {
    files_uploaded: AtomicU64,
    batches_created: AtomicU64,
    lines_succeeded: AtomicU64,
    lines_failed: AtomicU64,
    lines_expired: AtomicU64,
}

#[derive(Debug, Default)]
struct Maps {
    per_key: BTreeMap<String, u64>,
    per_path: BTreeMap<String, u64>,
    faults_by_kind: BTreeMap<String, u64>,
}

/// The live counters of one server.
#[derive(Debug)]
pub(crate) struct Counters {
    total: AtomicU64,
    answered: AtomicU64,
    faults: AtomicU64,
    rejected: AtomicU64,
    not_found: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    batch: BatchCounters,
    maps: Mutex<Maps>,
    arrivals: Mutex<VecDeque<Instant>>,
    recent: Mutex<VecDeque<RecordedRequest>>,
    record: usize,
}

/// Locks a mutex even if a panicking thread poisoned it: every update here is a single
/// step, so the data stays consistent either way.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) -> u64 {
    // Look up before inserting so the common case does not allocate a key.
    if let Some(n) = map.get_mut(key) {
        *n += 1;
        return *n;
    }
    map.insert(key.to_string(), 1);
    1
}

impl Counters {
    pub(crate) fn new(record: usize) -> Self {
        Counters {
            total: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            faults: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            not_found: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            batch: BatchCounters::default(),
            maps: Mutex::new(Maps::default()),
            arrivals: Mutex::new(VecDeque::new()),
            recent: Mutex::new(VecDeque::new()),
            record,
        }
    }

    /// Counts an arrival and returns its sequence number and in-flight guard.
    pub(crate) fn arrive(self: &Arc<Self>, path: &str) -> (u64, InFlight) {
        let now = Instant::now();
        let seq = self.total.fetch_add(1, Ordering::Relaxed) + 1;
        let current = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(current, Ordering::SeqCst);
        bump(&mut lock(&self.maps).per_path, path);
        {
            let mut arrivals = lock(&self.arrivals);
            if arrivals.len() == ARRIVALS_KEPT {
                arrivals.pop_front();
            }
            arrivals.push_back(now);
        }
        (seq, InFlight(Arc::clone(self)))
    }

    pub(crate) fn record(&self, req: RecordedRequest) {
        if self.record == 0 {
            return;
        }
        let mut recent = lock(&self.recent);
        if recent.len() >= self.record {
            recent.pop_front();
        }
        recent.push_back(req);
    }

    /// Counts a request for `key` and returns which attempt of that key it is.
    pub(crate) fn attempt(&self, key: &str) -> u64 {
        bump(&mut lock(&self.maps).per_key, key)
    }

    pub(crate) fn answered(&self) {
        self.answered.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn fault(&self, kind: &str) {
        self.faults.fetch_add(1, Ordering::Relaxed);
        bump(&mut lock(&self.maps).faults_by_kind, kind);
    }

    pub(crate) fn rejected(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn not_found(&self) {
        self.not_found.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn file_uploaded(&self) {
        self.batch.files_uploaded.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn batch_created(&self) {
        self.batch.batches_created.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn batch_line(&self, ok: bool) {
        let counter = if ok {
            &self.batch.lines_succeeded
        } else {
            &self.batch.lines_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn batch_lines_expired(&self, n: u64) {
        self.batch.lines_expired.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    pub(crate) fn count_for(&self, key: &str) -> u64 {
        lock(&self.maps).per_key.get(key).copied().unwrap_or(0)
    }

    pub(crate) fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn max_in_flight(&self) -> u64 {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.recent).iter().cloned().collect()
    }

    pub(crate) fn last_request(&self) -> Option<RecordedRequest> {
        lock(&self.recent).back().cloned()
    }

    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        let maps = lock(&self.maps);
        StatsSnapshot {
            total: self.total(),
            per_key: maps.per_key.clone(),
            per_path: maps.per_path.clone(),
            answered: self.answered.load(Ordering::Relaxed),
            faults: self.faults.load(Ordering::Relaxed),
            faults_by_kind: maps.faults_by_kind.clone(),
            rejected: self.rejected.load(Ordering::Relaxed),
            not_found: self.not_found.load(Ordering::Relaxed),
            in_flight: self.in_flight(),
            max_in_flight: self.max_in_flight(),
            arrivals: lock(&self.arrivals).iter().copied().collect(),
            files_uploaded: self.batch.files_uploaded.load(Ordering::Relaxed),
            batches_created: self.batch.batches_created.load(Ordering::Relaxed),
            batch_lines_succeeded: self.batch.lines_succeeded.load(Ordering::Relaxed),
            batch_lines_failed: self.batch.lines_failed.load(Ordering::Relaxed),
            batch_lines_expired: self.batch.lines_expired.load(Ordering::Relaxed),
        }
    }
}

/// Holds one unit of "in flight" until dropped: when the response body has been sent, or
/// when the request is abandoned.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Counters>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_tracks_guards() {
        let c = Arc::new(Counters::new(2));
        let (_, a) = c.arrive("/x");
        let (_, b) = c.arrive("/x");
        assert_eq!(c.in_flight(), 2);
        drop(a);
        drop(b);
        let (seq, _c) = c.arrive("/y");
        assert_eq!(seq, 3);
        let s = c.snapshot();
        assert_eq!((s.in_flight, s.max_in_flight), (1, 2));
        assert_eq!((s.path_count("/x"), s.path_count("/y")), (2, 1));
    }

    #[test]
    fn window_counts() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let s = StatsSnapshot {
            arrivals: vec![ms(0), ms(10), ms(20), ms(1000), ms(1005)],
            ..Default::default()
        };
        assert_eq!(s.max_in_window(Duration::from_millis(100)), 3);
        assert_eq!(s.max_in_window(Duration::from_secs(10)), 5);
        assert!((s.rate_per_minute() - 4.0 * 60.0 / 1.005).abs() < 1e-6);
    }

    #[test]
    fn recent_requests_are_bounded() {
        let c = Counters::new(2);
        for seq in 1..=3 {
            c.record(RecordedRequest {
                seq,
                at: Instant::now(),
                method: "POST".into(),
                path: "/".into(),
                headers: vec![("authorization".into(), "Bearer k".into())],
                body: b"{}".to_vec(),
            });
        }
        let r = c.requests();
        assert_eq!(r.iter().map(|r| r.seq).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(r[0].header("Authorization"), Some("Bearer k"));
    }
}
