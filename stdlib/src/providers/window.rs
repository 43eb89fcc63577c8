//! An endpoint's concurrency window: at most `ceiling` requests in flight (the teacher's
//! `max_concurrency`), fewer while the endpoint pushes back.
//!
//! The window moves like TCP's congestion window (additive increase, multiplicative
//! decrease): each success widens it by `1/window`, so about one place per window's worth
//! of answers; a refusal that signals pressure (429, 503) halves it, at most once per
//! window: refusals from requests sent before the last cut describe the old window and
//! are not counted again. So an endpoint that keeps refusing sees fewer requests, not the
//! same number retried on separate schedules.
//!
//! The window is a semaphore whose permits are added or removed as it moves; permits
//! removed while in use are owed and destroyed as they come back.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug)]
pub(crate) struct Window {
    semaphore: Arc<Semaphore>,
    state: Mutex<State>,
    /// Permits to destroy as they come back, instead of returning them.
    owed: AtomicUsize,
    /// Incremented by every cut; a place remembers the epoch it was taken in.
    epoch: AtomicU64,
}

#[derive(Debug)]
struct State {
    /// The declared limit.
    ceiling: usize,
    /// The window as a real number (it grows by fractions).
    size: f64,
    /// Permits that exist now: `size` rounded down, at least 1.
    permits: usize,
}

impl Window {
    pub(crate) fn new(ceiling: usize) -> Window {
        let ceiling = ceiling.clamp(1, Semaphore::MAX_PERMITS);
        Window {
            semaphore: Arc::new(Semaphore::new(ceiling)),
            state: Mutex::new(State {
                ceiling,
                size: ceiling as f64,
                permits: ceiling,
            }),
            owed: AtomicUsize::new(0),
            epoch: AtomicU64::new(0),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The declared limit.
    pub(crate) fn ceiling(&self) -> usize {
        self.state().ceiling
    }

    /// Places that exist now.
    pub(crate) fn current(&self) -> usize {
        self.state().permits
    }

    /// Lowers the declared limit (teachers on one endpoint that disagree: the smallest
    /// wins, so a teacher that asks for 4 because the server takes no more is obeyed).
    pub(crate) fn lower_ceiling(&self, ceiling: usize) {
        let mut state = self.state();
        let ceiling = ceiling.max(1);
        if ceiling < state.ceiling {
            state.ceiling = ceiling;
            state.size = state.size.min(ceiling as f64);
            self.resize(&mut state);
        }
    }

    /// Waits for a place. `None` only if the semaphore was closed, which nothing does.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Option<Place> {
        let permit = Arc::clone(&self.semaphore).acquire_owned().await.ok()?;
        Some(Place {
            permit: Some(permit),
            window: Arc::clone(self),
            epoch: self.epoch.load(Ordering::SeqCst),
        })
    }

    /// An answer came back: widen by `1/size`.
    pub(crate) fn succeeded(&self) {
        let mut state = self.state();
        if state.size < state.ceiling as f64 {
            state.size = (state.size + 1.0 / state.size).min(state.ceiling as f64);
            self.resize(&mut state);
        }
    }

    /// The endpoint pushed back on a request sent from `place`: halve, once per window.
    /// Returns whether this refusal cut the window.
    pub(crate) fn pushed_back(&self, place: &Place) -> bool {
        let mut state = self.state();
        if self
            .epoch
            .compare_exchange(
                place.epoch,
                place.epoch + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_err()
        {
            return false;
        }
        state.size = (state.size / 2.0).max(1.0);
        self.resize(&mut state);
        true
    }

    /// Brings the semaphore to `floor(size)` permits.
    fn resize(&self, state: &mut State) {
        let want = (state.size.floor() as usize).clamp(1, state.ceiling);
        if want < state.permits {
            let cut = state.permits - want;
            let taken = self.semaphore.forget_permits(cut);
            self.owed.fetch_add(cut - taken, Ordering::SeqCst);
        } else if want > state.permits {
            let mut add = want - state.permits;
            // Cancel debts first: a place still owed need not be destroyed.
            while add > 0 {
                let paid = self
                    .owed
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| o.checked_sub(1))
                    .is_ok();
                if !paid {
                    break;
                }
                add -= 1;
            }
            self.semaphore.add_permits(add);
        }
        state.permits = want;
    }

    #[cfg(test)]
    fn available(&self) -> usize {
        self.semaphore.available_permits()
    }
}

/// A place in the window, given back when dropped.
#[derive(Debug)]
pub(crate) struct Place {
    permit: Option<OwnedSemaphorePermit>,
    window: Arc<Window>,
    epoch: u64,
}

impl Drop for Place {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        let paid = self
            .window
            .owed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |owed| {
                owed.checked_sub(1)
            })
            .is_ok();
        if paid {
            // Owed after the window shrank: this place no longer exists.
            permit.forget();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn take(w: &Arc<Window>, n: usize) -> Vec<Place> {
        let mut held = Vec::new();
        for _ in 0..n {
            held.push(w.acquire().await.expect("open"));
        }
        held
    }

    #[test]
    fn the_smallest_ceiling_wins() {
        let w = Window::new(8);
        w.lower_ceiling(3);
        w.lower_ceiling(64);
        assert_eq!((w.ceiling(), w.current(), w.available()), (3, 3, 3));
        assert_eq!(Window::new(0).ceiling(), 1);
    }

    #[tokio::test]
    async fn lowering_while_busy_settles_as_places_return() {
        let w = Arc::new(Window::new(4));
        let held = take(&w, 3).await;
        assert_eq!(w.available(), 1);
        // Lower to 2 with 3 in flight: the free place goes now, one more is owed.
        w.lower_ceiling(2);
        assert_eq!(w.available(), 0);
        let mut held = held.into_iter();
        drop(held.next());
        assert_eq!(w.available(), 0, "the first returned place pays the debt");
        drop(held.next());
        assert_eq!(w.available(), 1);
        drop(held.next());
        assert_eq!(w.available(), 2);
    }

    #[tokio::test]
    async fn pressure_halves_once_per_window() {
        let w = Arc::new(Window::new(16));
        let held = take(&w, 16).await;
        // Sixteen refusals from one wave cut the window once.
        let cuts = held.iter().filter(|p| w.pushed_back(p)).count();
        assert_eq!(cuts, 1);
        assert_eq!(w.current(), 8);
        drop(held);
        assert_eq!(w.available(), 8);
        // A request sent after the cut may cut again.
        let next = take(&w, 1).await;
        assert!(w.pushed_back(&next[0]));
        assert_eq!(w.current(), 4);
        drop(next);
        for _ in 0..10 {
            let p = take(&w, 1).await;
            assert!(w.pushed_back(&p[0]));
        }
        assert_eq!(w.current(), 1, "never below one");
    }

    #[tokio::test]
    async fn successes_widen_back_to_the_ceiling() {
        let w = Arc::new(Window::new(8));
        let p = take(&w, 1).await;
        w.pushed_back(&p[0]);
        drop(p);
        assert_eq!(w.current(), 4);
        // From 4, about 4 answers add a place.
        for _ in 0..4 {
            w.succeeded();
        }
        assert_eq!(w.current(), 4, "4.0 + 4 × 1/4.x stays just below 5");
        w.succeeded();
        assert_eq!(w.current(), 5);
        for _ in 0..100 {
            w.succeeded();
        }
        assert_eq!((w.current(), w.available()), (8, 8));
    }
}
