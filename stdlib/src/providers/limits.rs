//! The in-flight limit of each endpoint. Providers are built per teacher, but a limit is a
//! promise to a server, so every teacher on one endpoint (one base URL) draws from the
//! same semaphore.
//!
//! When teachers on one endpoint disagree on `max_concurrency`, the smallest wins: a
//! teacher that asks for 4 because the server cannot take more is not overruled by a
//! later one asking for 64. Providers are built lazily, so a smaller limit may arrive
//! while requests are in flight under a larger one; the permits it removes are taken
//! from the free ones at once and from returning ones as they come back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The limits of every endpoint seen so far, by base URL.
#[derive(Debug, Default)]
pub(crate) struct EndpointLimits {
    by_endpoint: Mutex<HashMap<String, Arc<Limit>>>,
}

impl EndpointLimits {
    /// The limit of `endpoint`, made with `max` permits when new, and lowered to `max`
    /// when it had more.
    pub(crate) fn for_endpoint(&self, endpoint: &str, max: usize) -> Arc<Limit> {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        // A poisoned lock only means another thread panicked mid-insert; the map is
        // still a valid map.
        let mut map = self
            .by_endpoint
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match map.get(endpoint) {
            Some(limit) => {
                limit.lower_to(max);
                Arc::clone(limit)
            }
            None => {
                let limit = Arc::new(Limit::new(max));
                map.insert(endpoint.to_string(), Arc::clone(&limit));
                limit
            }
        }
    }
}

/// One endpoint's semaphore, and the permits still owed after lowering it.
#[derive(Debug)]
pub(crate) struct Limit {
    semaphore: Arc<Semaphore>,
    max: Mutex<usize>,
    /// Permits to destroy as they come back, instead of returning them.
    owed: AtomicUsize,
}

impl Limit {
    fn new(max: usize) -> Limit {
        Limit {
            semaphore: Arc::new(Semaphore::new(max)),
            max: Mutex::new(max),
            owed: AtomicUsize::new(0),
        }
    }

    /// The limit now in force.
    pub(crate) fn max(&self) -> usize {
        *self.max.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lower_to(&self, max: usize) {
        let mut current = self.max.lock().unwrap_or_else(|p| p.into_inner());
        if max >= *current {
            return;
        }
        let cut = *current - max;
        *current = max;
        let taken = self.semaphore.forget_permits(cut);
        self.owed.fetch_add(cut - taken, Ordering::SeqCst);
    }

    /// Waits for a free place. `None` only if the semaphore was closed, which nothing
    /// does; the caller then goes ahead unlimited rather than failing the request.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Option<Slot> {
        let permit = Arc::clone(&self.semaphore).acquire_owned().await.ok()?;
        Some(Slot {
            permit: Some(permit),
            limit: Arc::clone(self),
        })
    }

    /// Places free right now (for tests and reports).
    #[cfg(test)]
    pub(crate) fn available(&self) -> usize {
        self.semaphore.available_permits()
    }
}

/// A place in the endpoint's limit, given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    limit: Arc<Limit>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        let paid = self
            .limit
            .owed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |owed| {
                owed.checked_sub(1)
            })
            .is_ok();
        if paid {
            // Owed after a lower limit arrived: this place no longer exists.
            permit.forget();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_limit_per_endpoint() {
        let limits = EndpointLimits::default();
        let a = limits.for_endpoint("http://a/v1", 8);
        let a2 = limits.for_endpoint("http://a/v1", 8);
        let b = limits.for_endpoint("http://b/v1", 8);
        assert!(Arc::ptr_eq(&a, &a2));
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(limits.for_endpoint("http://c/v1", 0).max(), 1);
    }

    #[test]
    fn the_smallest_limit_wins() {
        let limits = EndpointLimits::default();
        let a = limits.for_endpoint("http://a/v1", 8);
        limits.for_endpoint("http://a/v1", 3);
        limits.for_endpoint("http://a/v1", 64);
        assert_eq!(a.max(), 3);
        assert_eq!(a.available(), 3);
    }

    #[tokio::test]
    async fn lowering_while_busy_settles_as_places_return() {
        let limits = EndpointLimits::default();
        let limit = limits.for_endpoint("http://a/v1", 4);
        let held: Vec<Slot> = futures::future::join_all((0..3).map(|_| limit.acquire()))
            .await
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(limit.available(), 1);
        // Lower to 2 with 3 in flight: the free place goes now, one more is owed.
        limits.for_endpoint("http://a/v1", 2);
        assert_eq!(limit.available(), 0);
        let mut held = held.into_iter();
        drop(held.next());
        assert_eq!(
            limit.available(),
            0,
            "the first returned place pays the debt"
        );
        drop(held.next());
        assert_eq!(limit.available(), 1);
        drop(held.next());
        assert_eq!(limit.available(), 2);
    }
}
