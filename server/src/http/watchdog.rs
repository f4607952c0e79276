//! The clocks of one connection: how long its next request head may take and how long it may
//! sit idle. The socket ([`Watched`]) reports the first bytes after an idle spell, the service
//! reports requests starting and the response bodies ([`Guarded`]) report them ending; the
//! connection's task sleeps until [`Watchdog::deadline`] and asks [`Watchdog::check`].

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The connection timeouts of `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From a connection's start, or from the first byte after it was idle, to a whole head.
    pub header: std::time::Duration,
    /// Longest time a connection may stay open with no request in flight.
    pub idle: std::time::Duration,
}

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a request head, since the connection opened or since its first byte came.
    Head { since: Instant },
    /// This many requests are in flight (more than one only on HTTP/2).
    Busy { requests: usize },
    /// No request in flight and no byte of the next one yet.
    Idle { since: Instant },
}

/// What [`Watchdog::check`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Expired {
    /// The head took longer than `header_timeout`.
    Head,
    /// The connection was idle longer than `idle_timeout`.
    Idle,
    /// Nothing yet.
    Not,
}

/// The shared clock state of one connection.
#[derive(Debug)]
pub struct Watchdog {
    timeouts: Timeouts,
    phase: Mutex<Phase>,
    /// Mirrors `Phase::Idle`, so the socket checks one atomic per read.
    idle: AtomicBool,
    changed: Notify,
}

impl Watchdog {
    pub fn new(timeouts: Timeouts) -> Self {
        Self {
            timeouts,
            phase: Mutex::new(Phase::Head {
                since: Instant::now(),
            }),
            idle: AtomicBool::new(false),
            changed: Notify::new(),
        }
    }

    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        // The lock guards plain data; a panic elsewhere cannot leave it half-written.
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When the current phase runs out; far away while a request is in flight (requests have
    /// deadlines of their own).
    pub fn deadline(&self) -> Instant {
        match *self.phase() {
            Phase::Head { since } => since + self.timeouts.header,
            Phase::Idle { since } => since + self.timeouts.idle,
            Phase::Busy { .. } => Instant::now() + FAR,
        }
    }

    /// Whether the current phase ran out.
    pub fn check(&self) -> Expired {
        let now = Instant::now();
        match *self.phase() {
            Phase::Head { since } if now >= since + self.timeouts.header => Expired::Head,
            Phase::Idle { since } if now >= since + self.timeouts.idle => Expired::Idle,
            _ => Expired::Not,
        }
    }

    /// Resolves when the phase changed, so the connection re-reads the deadline.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// A head arrived: the request is in flight until the returned token is dropped.
    pub fn request_started(self: &Arc<Self>) -> InFlight {
        {
            let mut phase = self.phase();
            *phase = match *phase {
                Phase::Busy { requests } => Phase::Busy {
                    requests: requests + 1,
                },
                _ => Phase::Busy { requests: 1 },
            };
            self.idle.store(false, Ordering::Release);
        }
        self.changed.notify_one();
        InFlight(Some(self.clone()))
    }

    fn request_ended(&self) {
        {
            let mut phase = self.phase();
            *phase = match *phase {
                Phase::Busy { requests } if requests > 1 => Phase::Busy {
                    requests: requests - 1,
                },
                _ => {
                    self.idle.store(true, Ordering::Release);
                    Phase::Idle {
                        since: Instant::now(),
                    }
                }
            };
        }
        self.changed.notify_one();
    }

    /// Bytes came in: after an idle spell they start the next head's clock.
    fn bytes_read(&self) {
        if !self.idle.swap(false, Ordering::AcqRel) {
            return;
        }
        {
            let mut phase = self.phase();
            if let Phase::Idle { .. } = *phase {
                *phase = Phase::Head {
                    since: Instant::now(),
                };
            }
        }
        self.changed.notify_one();
    }
}

/// Stands for "no deadline" while a request is in flight.
const FAR: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// A request in flight; ends when dropped.
#[derive(Debug)]
pub struct InFlight(Option<Arc<Watchdog>>);

impl InFlight {
    /// Moves the token into a response body, which ends the request when hyper drops it.
    pub fn guard<B>(self, body: B) -> Guarded<B> {
        Guarded {
            body,
            _in_flight: self,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(watchdog) = self.0.take() {
            watchdog.request_ended();
        }
    }
}

/// A response body that keeps its request in flight until it is sent or dropped.
#[derive(Debug)]
pub struct Guarded<B> {
    body: B,
    _in_flight: InFlight,
}

impl<B: Body<Data = Bytes> + Unpin> Body for Guarded<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A socket that tells its [`Watchdog`] when bytes arrive.
#[derive(Debug)]
pub struct Watched<T> {
    inner: T,
    watchdog: Arc<Watchdog>,
}

impl<T> Watched<T> {
    pub fn new(inner: T, watchdog: Arc<Watchdog>) -> Self {
        Self { inner, watchdog }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.watchdog.bytes_read();
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn watchdog() -> Arc<Watchdog> {
        Arc::new(Watchdog::new(Timeouts {
            header: Duration::from_secs(10),
            idle: Duration::from_secs(60),
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_must_come_within_the_header_timeout() {
        let watchdog = watchdog();
        tokio::time::advance(Duration::from_secs(9)).await;
        assert_eq!(watchdog.check(), Expired::Not);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(watchdog.check(), Expired::Head);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_time_counts_from_the_last_response_and_bytes_restart_the_head_clock() {
        let watchdog = watchdog();
        let request = watchdog.request_started();
        // A request in flight has no connection deadline.
        tokio::time::advance(Duration::from_secs(120)).await;
        assert_eq!(watchdog.check(), Expired::Not);
        let second = watchdog.request_started();
        drop(request);
        assert_eq!(watchdog.check(), Expired::Not);
        drop(second);
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(watchdog.check(), Expired::Not);
        // Idle is not a slow head: 59 s idle is fine, but the next head then has 10 s.
        watchdog.bytes_read();
        tokio::time::advance(Duration::from_secs(9)).await;
        assert_eq!(watchdog.check(), Expired::Not);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(watchdog.check(), Expired::Head);

        let idle = self::watchdog();
        drop(idle.request_started());
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(idle.check(), Expired::Idle);
    }
}
