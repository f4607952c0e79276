//! Pacing of request bodies: a body that sends nothing for `upload.read_timeout`, or averages
//! less than `upload.min_rate` bytes per second over any `upload.min_rate_window`, is cut off
//! (408), so a slow client cannot hold buffer memory, a connection and an S3 upload for as
//! long as it keeps trickling.
//!
//! Only the client's time counts: the time between a poll that found no bytes and the next
//! one that got some. While Hoist itself does not read (waiting for buffer budget, or for
//! parts on their way to S3) the clock stands still, so the server's pauses are never blamed
//! on the client. The window is kept as ten slots; one timer per body is armed only when a
//! wait begins and re-armed only when it fires, not per chunk.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use super::UploadError;

/// Slots the window is divided into; the rate is checked at every slot boundary.
const SLOTS: usize = 10;

/// How slow a body may be.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Longest time with no bytes at all.
    pub read_timeout: Duration,
    /// Least average rate over any window, in bytes per second; 0 turns the check off.
    pub min_rate: u64,
    pub window: Duration,
}

/// A body stream under a [`Pace`].
pub struct Paced<S> {
    inner: S,
    pace: Pace,
    slot: Duration,
    /// The client's time spent waiting, summed over finished waits.
    client: Duration,
    /// When the current wait began (real time), if one is running.
    waiting_since: Option<Instant>,
    /// Client time of the last bytes.
    last_bytes: Duration,
    /// Bytes per slot, a ring indexed by slot number.
    slots: [u64; SLOTS],
    /// The slot number `slots` is current for.
    current: u64,
    alarm: Option<Pin<Box<Sleep>>>,
    failed: bool,
}

impl<S> Paced<S>
where
    S: Stream<Item = Result<Bytes, UploadError>> + Unpin,
{
    pub fn new(inner: S, pace: Pace) -> Self {
        let slot = (pace.window / SLOTS as u32).max(Duration::from_millis(1));
        Self {
            inner,
            pace,
            slot,
            client: Duration::ZERO,
            waiting_since: None,
            last_bytes: Duration::ZERO,
            slots: [0; SLOTS],
            current: 0,
            alarm: None,
            failed: false,
        }
    }

    fn slot_of(&self, at: Duration) -> u64 {
        (at.as_nanos() / self.slot.as_nanos()) as u64
    }

    /// Moves the ring to the slot of `at`, checking every window that closed on the way.
    fn advance(&mut self, at: Duration) -> Result<(), UploadError> {
        let target = self.slot_of(at);
        if self.pace.min_rate == 0 {
            self.current = target;
            return Ok(());
        }
        // A wait longer than a window fails at its first boundary, so this loop is short.
        while self.current < target {
            self.current += 1;
            // The ring holds the SLOTS slots before `current`: the window that just closed.
            if self.current >= SLOTS as u64 {
                let received: u64 = self.slots.iter().sum();
                let needed = self.pace.min_rate as f64 * self.pace.window.as_secs_f64();
                if (received as f64) < needed {
                    return Err(UploadError::TooSlow {
                        min_rate: self.pace.min_rate,
                        window: self.pace.window,
                    });
                }
            }
            self.slots[(self.current % SLOTS as u64) as usize] = 0;
        }
        Ok(())
    }

    /// Client time at which the body fails if nothing more arrives.
    fn deadline(&self) -> Duration {
        let stall = self.last_bytes + self.pace.read_timeout;
        if self.pace.min_rate == 0 {
            return stall;
        }
        let boundary = self.slot * (self.current as u32 + 1);
        stall.min(boundary)
    }

    fn fail(&mut self, error: UploadError) -> Poll<Option<Result<Bytes, UploadError>>> {
        self.failed = true;
        Poll::Ready(Some(Err(error)))
    }
}

impl<S> Stream for Paced<S>
where
    S: Stream<Item = Result<Bytes, UploadError>> + Unpin,
{
    type Item = Result<Bytes, UploadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        loop {
            let now = Instant::now();
            match Pin::new(&mut self.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    if let Some(since) = self.waiting_since.take() {
                        self.client += now - since;
                    }
                    let at = self.client;
                    if let Err(error) = self.advance(at) {
                        return self.fail(error);
                    }
                    let index = (self.current % SLOTS as u64) as usize;
                    self.slots[index] += chunk.len() as u64;
                    self.last_bytes = at;
                    return Poll::Ready(Some(Ok(chunk)));
                }
                Poll::Ready(other) => {
                    self.waiting_since = None;
                    return Poll::Ready(other);
                }
                Poll::Pending => {}
            }
            let since = *self.waiting_since.get_or_insert(now);
            let client_now = self.client + (now - since);
            if client_now >= self.last_bytes + self.pace.read_timeout {
                let stalled = UploadError::Stalled(self.pace.read_timeout);
                return self.fail(stalled);
            }
            if let Err(error) = self.advance(client_now) {
                return self.fail(error);
            }
            let wake_at = now + self.deadline().saturating_sub(client_now);
            // Deadlines only move later in real time (bytes arrive, Hoist pauses), so an alarm
            // already set fires early at worst; then the loop looks again.
            let alarm = self
                .alarm
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(wake_at)));
            if alarm.is_elapsed() {
                alarm.as_mut().reset(wake_at);
            }
            ready!(alarm.as_mut().poll(cx));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn pace() -> Pace {
        Pace {
            read_timeout: Duration::from_secs(20),
            min_rate: 100,
            window: Duration::from_secs(10),
        }
    }

    /// `count` chunks of `size` bytes, one every `every`.
    fn trickle(
        size: usize,
        every: Duration,
        count: usize,
    ) -> impl Stream<Item = Result<Bytes, UploadError>> + Unpin {
        Box::pin(futures_util::stream::unfold(0, move |sent| async move {
            if sent == count {
                return None;
            }
            tokio::time::sleep(every).await;
            Some((Ok(Bytes::from(vec![0u8; size])), sent + 1))
        }))
    }

    async fn outcome(
        stream: impl Stream<Item = Result<Bytes, UploadError>> + Unpin,
    ) -> Result<u64, UploadError> {
        let mut paced = Paced::new(stream, pace());
        let mut total = 0;
        while let Some(chunk) = paced.next().await {
            total += chunk?.len() as u64;
        }
        Ok(total)
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_at_the_rate_passes_and_a_slower_one_fails() {
        // 120 B/s: 60 bytes every half second for a minute.
        let fine = trickle(60, Duration::from_millis(500), 120);
        assert_eq!(outcome(fine).await.unwrap(), 7200);
        // 60 B/s: fails once the first window is over.
        let started = Instant::now();
        let slow = trickle(30, Duration::from_millis(500), 120);
        assert!(matches!(
            outcome(slow).await,
            Err(UploadError::TooSlow { .. })
        ));
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(10) && took <= Duration::from_secs(12),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_fast_start_buys_no_time_for_a_trickle_later() {
        let fast = futures_util::stream::iter([Ok(Bytes::from(vec![0u8; 1 << 20]))]);
        let slow = trickle(10, Duration::from_secs(1), 100);
        let started = Instant::now();
        assert!(matches!(
            outcome(fast.chain(slow)).await,
            Err(UploadError::TooSlow { .. })
        ));
        assert!(started.elapsed() <= Duration::from_secs(12));
    }

    #[tokio::test(start_paused = true)]
    async fn silence_is_a_stall_when_the_rate_check_is_off() {
        let mut quiet = pace();
        quiet.min_rate = 0;
        let mut paced = Paced::new(futures_util::stream::pending(), quiet);
        assert!(matches!(
            paced.next().await,
            Some(Err(UploadError::Stalled(_)))
        ));
        assert!(paced.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn time_the_server_does_not_read_is_not_the_clients() {
        // 1000 B/s while Hoist reads, but Hoist pauses 30 s after every chunk (waiting for
        // budget, say): 3 B/s of wall time, and still no refusal.
        let mut paced = Paced::new(trickle(100, Duration::from_millis(100), 150), pace());
        let mut total = 0;
        while let Some(chunk) = paced.next().await {
            total += chunk.unwrap().len();
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        assert_eq!(total, 15_000);
    }
}
