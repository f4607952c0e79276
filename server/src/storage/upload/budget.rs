//! The global memory budget: upload part buffers, and the bodies of image uploads and trigger
//! calls while they are parsed. Every buffer is reserved whole before it is filled and
//! released when its part is in S3 (or the request is done), so all requests together never
//! hold more than `upload.max_buffer_bytes`; when the budget is spent, requests wait (and stop
//! reading from their clients) instead of growing memory, for at most `upload.budget_wait`,
//! after which they are answered 503 `server-busy`.
//!
//! No deadlock: a request waits for budget only while holding parts that are on their way to
//! S3, which finish (or fail) without needing any budget; a reservation that must grow while
//! its buffer holds data takes only what is free at once ([`Budget::try_grow`]). Waits are
//! first come, first served, and each has the deadline of `upload.budget_wait`.

use std::sync::Arc;
use std::time::Duration;

use prometheus::IntGauge;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Permits are counted in KiB so a 5 GiB part still fits the `u32` a semaphore takes.
const UNIT: u64 = 1024;

#[derive(Debug, Clone)]
pub struct Budget {
    semaphore: Arc<Semaphore>,
    /// All permits; no reservation asks for more, or it would wait forever.
    total: u32,
    /// Longest wait for a reservation.
    wait: Duration,
    gauge: IntGauge,
}

/// The budget had no room within `upload.budget_wait` (or, for a reservation that must grow
/// while it holds data, no room at once).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no buffer memory became free within {0:?}")]
pub struct Busy(pub Duration);

/// Memory set aside for one part buffer; given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    permit: OwnedSemaphorePermit,
    bytes: usize,
    gauge: IntGauge,
}

impl Budget {
    pub fn new(max_bytes: u64, wait: Duration, gauge: IntGauge) -> Self {
        let total = u32::try_from(max_bytes.div_ceil(UNIT)).unwrap_or(u32::MAX);
        Self {
            semaphore: Arc::new(Semaphore::new(total as usize)),
            total,
            wait,
            gauge,
        }
    }

    /// Bytes the whole budget holds.
    pub fn total_bytes(&self) -> u64 {
        u64::from(self.total) * UNIT
    }

    /// Waits until `bytes` of buffer may be held, at most `upload.budget_wait`.
    pub async fn reserve(&self, bytes: usize) -> Result<Reservation, Busy> {
        let units = self.units(bytes);
        let permit =
            tokio::time::timeout(self.wait, self.semaphore.clone().acquire_many_owned(units))
                .await
                .map_err(|_| Busy(self.wait))?
                .expect("the budget is never closed");
        self.gauge.add(bytes as i64);
        Ok(Reservation {
            permit,
            bytes,
            gauge: self.gauge.clone(),
        })
    }

    /// Grows a reservation to `bytes` with what is free right now: its holder keeps data in
    /// the buffer, so it must not wait (others may be waiting for what it holds).
    pub fn try_grow(&self, reservation: &mut Reservation, bytes: usize) -> Result<(), Busy> {
        if bytes <= reservation.bytes {
            return Ok(());
        }
        let held = u32::try_from(reservation.permit.num_permits()).unwrap_or(u32::MAX);
        let missing = self.units(bytes).saturating_sub(held);
        if missing > 0 {
            let more = self
                .semaphore
                .clone()
                .try_acquire_many_owned(missing)
                .map_err(|_| Busy(Duration::ZERO))?;
            reservation.permit.merge(more);
        }
        self.gauge.add((bytes - reservation.bytes) as i64);
        reservation.bytes = bytes;
        Ok(())
    }

    fn units(&self, bytes: usize) -> u32 {
        u32::try_from((bytes as u64).div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .min(self.total)
    }

    /// Bytes not reserved right now.
    #[cfg(test)]
    pub fn available(&self) -> u64 {
        self.semaphore.available_permits() as u64 * UNIT
    }
}

impl Reservation {
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.gauge.sub(self.bytes as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn gauge() -> IntGauge {
        IntGauge::new("test_budget", "test").unwrap()
    }

    fn budget(bytes: u64) -> Budget {
        Budget::new(bytes, Duration::from_secs(5), gauge())
    }

    #[tokio::test]
    async fn reservations_wait_for_released_budget() {
        let budget = budget(10 * 1024);
        let first = budget.reserve(6 * 1024).await.unwrap();
        assert_eq!(budget.available(), 4 * 1024);
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(6 * 1024).await.unwrap().bytes() }
        });
        // The second reservation cannot be granted while the first is held.
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished());
        assert_eq!(budget.gauge.get(), 6 * 1024);
        drop(first);
        assert_eq!(waiting.await.unwrap(), 6 * 1024);
        assert_eq!(budget.available(), 10 * 1024);
        assert_eq!(budget.gauge.get(), 0);
    }

    #[tokio::test]
    async fn a_reservation_never_asks_for_more_than_exists() {
        let budget = budget(1000);
        let held = budget.reserve(5000).await.unwrap();
        assert_eq!(budget.available(), 0);
        drop(held);
        let mut grown = budget.reserve(10).await.unwrap();
        budget.try_grow(&mut grown, 900).unwrap();
        assert_eq!(grown.bytes(), 900);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_budget_is_busy_after_the_wait_and_growing_never_waits() {
        let budget = budget(8 * 1024);
        let mut held = budget.reserve(4 * 1024).await.unwrap();
        let other = budget.reserve(4 * 1024).await.unwrap();
        let started = tokio::time::Instant::now();
        assert!(budget.reserve(1024).await.is_err());
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert!(budget.try_grow(&mut held, 6 * 1024).is_err());
        assert_eq!(held.bytes(), 4 * 1024);
        drop(other);
        budget.try_grow(&mut held, 6 * 1024).unwrap();
        assert_eq!(budget.available(), 2 * 1024);
    }
}
