//! The response body: sent at once, or trickled out in pieces over a set time.
//!
//! Its exact size is always known, so hyper sends `Content-Length` and the client, seeing
//! a complete header, waits for a body that arrives slowly: the case a client read
//! timeout must catch. The body also carries the request's in-flight guard, so a request
//! counts as in flight until its last byte has gone.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Bytes, Frame, SizeHint};
use tokio::time::{sleep, Sleep};

use crate::counter::InFlight;

/// How many pieces a trickled body is cut into (fewer for tiny bodies).
const TRICKLE_PIECES: usize = 10;

#[derive(Debug)]
pub(crate) struct ReplyBody {
    pieces: VecDeque<Bytes>,
    remaining: u64,
    /// The wait before each piece; zero sends everything at once.
    interval: Duration,
    timer: Option<Pin<Box<Sleep>>>,
    _in_flight: Option<InFlight>,
}

impl ReplyBody {
    pub(crate) fn full(data: impl Into<Bytes>) -> Self {
        let data = data.into();
        let remaining = data.len() as u64;
        let mut pieces = VecDeque::new();
        if !data.is_empty() {
            pieces.push_back(data);
        }
        ReplyBody {
            pieces,
            remaining,
            interval: Duration::ZERO,
            timer: None,
            _in_flight: None,
        }
    }

    /// A body whose pieces go out evenly over `over`, the first after one interval.
    pub(crate) fn trickle(data: impl Into<Bytes>, over: Duration) -> Self {
        let data = data.into();
        let remaining = data.len() as u64;
        let count = TRICKLE_PIECES.min(data.len()).max(1);
        let size = data.len().div_ceil(count).max(1);
        let pieces: VecDeque<Bytes> = (0..data.len())
            .step_by(size)
            .map(|start| data.slice(start..(start + size).min(data.len())))
            .collect();
        let interval = over / pieces.len().max(1) as u32;
        ReplyBody {
            pieces,
            remaining,
            interval,
            timer: None,
            _in_flight: None,
        }
    }

    pub(crate) fn holding(mut self, guard: InFlight) -> Self {
        self._in_flight = Some(guard);
        self
    }
}

impl Body for ReplyBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        // Every field is Unpin (the timer is boxed), so the body can be used mutably.
        let this = self.get_mut();
        if this.pieces.is_empty() {
            this._in_flight = None;
            return Poll::Ready(None);
        }
        if !this.interval.is_zero() {
            let timer = this
                .timer
                .get_or_insert_with(|| Box::pin(sleep(this.interval)));
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.timer = None;
        }
        match this.pieces.pop_front() {
            Some(piece) => {
                this.remaining -= piece.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(piece))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn trickle_reassembles_and_takes_its_time() {
        let data = "0123456789abcdefghij-".repeat(3);
        let start = std::time::Instant::now();
        let body = ReplyBody::trickle(data.clone(), Duration::from_millis(100));
        assert_eq!(body.size_hint().exact(), Some(data.len() as u64));
        let got = body.collect().await.unwrap().to_bytes();
        assert_eq!(got, data.as_bytes());
        assert!(start.elapsed() >= Duration::from_millis(90));
    }

    #[tokio::test]
    async fn full_and_empty_bodies() {
        let got = ReplyBody::full("abc").collect().await.unwrap().to_bytes();
        assert_eq!(got, "abc");
        assert!(ReplyBody::full("").is_end_stream());
    }
}
